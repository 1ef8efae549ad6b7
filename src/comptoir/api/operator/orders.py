"""Operator API: import customer orders (OR01-like), fraud decisions, orders across shops, sandbox clock."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema
from pydantic import ConfigDict, Field

from comptoir.api.mirakl.order_schema import MiraklOrder
from comptoir.api.mirakl.serializers import LINE_COLUMNS, ORDER_COLUMNS, page_json
from comptoir.api.openapi import integer, one_of, parameters, values
from comptoir.api.render import Identifier, Instant, iso, json_response, parse_int, parse_list
from comptoir.core import clock
from comptoir.core.errors import ValidationError
from comptoir.core.money import decimal_to_cents
from comptoir.orders import queries, services
from comptoir.orders.states import Actor, OrderState
from comptoir.payments import services as payment_services
from comptoir.replica import listing_reads
from comptoir.shops import services as shop_services
from comptoir.timers import sandbox

router = Router(tags=["Operator"])


def _operator(request: HttpRequest) -> services.Who:
    key = request.auth  # type: ignore[attr-defined]
    return services.Who(Actor.OPERATOR, key.label or "API opérateur")


class Address(Schema):
    """Kept as JSON on the order, then printed on invoices, labels and e-mails: bounded like a postal address."""

    model_config = ConfigDict(extra="ignore")
    civility: str | None = Field(default=None, max_length=50)
    firstname: str | None = Field(default=None, max_length=100)
    lastname: str | None = Field(default=None, max_length=100)
    company: str | None = Field(default=None, max_length=255)
    company_2: str | None = Field(default=None, max_length=255)
    street_1: str = Field(min_length=1, max_length=255)
    street_2: str | None = Field(default=None, max_length=255)
    zip_code: str = Field(min_length=1, max_length=20)
    city: str = Field(min_length=1, max_length=100)
    state: str | None = Field(default=None, max_length=100)
    country: str | None = Field(default="France", max_length=100)
    country_iso_code: str = Field(default="FRA", min_length=3, max_length=3)
    phone: str | None = Field(default=None, max_length=50)
    phone_secondary: str | None = Field(default=None, max_length=50)
    additional_info: str | None = Field(default=None, max_length=500)


class Customer(Schema):
    model_config = ConfigDict(extra="ignore")
    # Lengths as the order's columns (PostgreSQL refuses a longer value: a 400 here, never a 500 there).
    customer_id: str = Field(min_length=1, max_length=100)
    civility: str | None = Field(default=None, max_length=20)
    firstname: str = Field(min_length=1, max_length=100)
    lastname: str = Field(min_length=1, max_length=100)
    email: str | None = Field(default=None, max_length=254)
    locale: str | None = Field(default="fr_FR", max_length=10, pattern=r"^[a-z]{2,3}([_-][A-Za-z0-9]{2,4})?$")
    billing_address: Address
    shipping_address: Address


class Tax(Schema):
    code: str | None = Field(default=None, max_length=20)
    rate: Decimal = Field(ge=0, lt=100)


class OfferLine(Schema):
    model_config = ConfigDict(extra="ignore")
    offer_id: Identifier
    quantity: int = Field(ge=1, le=10000)
    offer_price: Decimal = Field(ge=0, description="unit price, tax included")
    price: Decimal | None = Field(default=None, description="offer_price × quantity (checked when given)")
    shipping_price: Decimal = Field(default=Decimal("0"), ge=0)
    taxes: list[Tax] = Field(default_factory=list, max_length=1)
    shipping_taxes: list[Tax] = Field(default_factory=list, max_length=1)
    eco_contribution: Decimal = Field(default=Decimal("0"), ge=0, description="per unit, included in the price")
    leadtime_to_ship: int | None = Field(default=None, ge=0, le=60)


class PaymentInfo(Schema):
    payment_type: str | None = Field(default="CB", max_length=50)
    authorization_reference: str | None = Field(default=None, max_length=100)
    authorization_expires: Instant | None = None


class ImportOrder(Schema):
    model_config = ConfigDict(extra="ignore")
    commercial_id: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.]+$")
    created_date: Instant | None = None
    customer: Customer
    offers: list[OfferLine] = Field(min_length=1, max_length=500)
    scored: bool = Field(default=False, description="the storefront cleared fraud: skip STAGING")
    shipping_zone_code: str = Field(default="FR", max_length=50)
    shipping_zone_label: str = Field(default="France métropolitaine (hors Corse)", max_length=100)
    shipping_type_code: str = Field(default="STD", max_length=50)
    shipping_type_label: str = Field(default="Livraison standard", max_length=100)
    currency_iso_code: str = Field(default="EUR", pattern=r"^[A-Z]{3}$")
    vat_collected_by: str = "OPERATOR"
    payment_info: PaymentInfo = Field(default_factory=PaymentInfo)
    channel_code: str | None = Field(default=None, max_length=50)
    order_reference_for_customer: str | None = Field(default=None, max_length=100)


# --- response schemas (documentation: the views render their JSON themselves) -------------------------------


class ImportedOrder(Schema):
    order_id: str
    shop_id: int
    order_state: str
    total_price: float


class ImportAnswer(Schema):
    commercial_id: str
    orders: list[ImportedOrder] = Field(description="One order per shop")


class OperatorOrderList(Schema):
    orders: list[MiraklOrder] = Field(description="OR11's orders, with the customer's real `email`")
    total_count: int


class ClockOut(Schema):
    now: str
    offset_seconds: int
    sandbox: bool


def _canonical(raw: bytes) -> bytes:
    """What identifies an import for replays: the JSON document itself, not its key order or spacing (a retry
    re-serialized by another library is the same import, not a conflict)."""
    try:
        return orjson.dumps(orjson.loads(raw), option=orjson.OPT_SORT_KEYS)
    except orjson.JSONDecodeError:
        return raw


def _cents(value: Decimal, where: str) -> int:
    try:
        return decimal_to_cents(value)
    except ValueError:
        raise ValidationError(f"{where} : montant avec plus de deux décimales.", field=where) from None


def _to_request(body: ImportOrder, raw: bytes) -> services.ImportRequest:
    lines = []
    for position, item in enumerate(body.offers):
        where = f"offers[{position}]"
        unit = _cents(item.offer_price, f"{where}.offer_price")
        if item.price is not None and _cents(item.price, f"{where}.price") != unit * item.quantity:
            raise ValidationError(f"{where}.price doit valoir offer_price × quantity.", field=f"{where}.price")
        lines.append(services.ImportLine(
            offer_id=item.offer_id, quantity=item.quantity, unit_price_cents=unit,
            shipping_price_cents=_cents(item.shipping_price, f"{where}.shipping_price"),
            tax_code=item.taxes[0].code if item.taxes else None,
            tax_rate=item.taxes[0].rate if item.taxes else None,
            shipping_tax_code=item.shipping_taxes[0].code if item.shipping_taxes else None,
            shipping_tax_rate=item.shipping_taxes[0].rate if item.shipping_taxes else None,
            eco_contribution_cents=_cents(item.eco_contribution, f"{where}.eco_contribution"),
            leadtime_to_ship=item.leadtime_to_ship,
        ))
    c = body.customer
    return services.ImportRequest(
        commercial_id=body.commercial_id,
        customer=services.ImportCustomer(
            customer_id=c.customer_id, firstname=c.firstname, lastname=c.lastname, civility=c.civility or "",
            email=c.email or "", locale=c.locale or "fr_FR",
            billing_address=c.billing_address.model_dump(), shipping_address=c.shipping_address.model_dump(),
        ),
        lines=tuple(lines), created_date=body.created_date, scored=body.scored,
        shipping_zone_code=body.shipping_zone_code, shipping_zone_label=body.shipping_zone_label,
        shipping_type_code=body.shipping_type_code, shipping_type_label=body.shipping_type_label,
        currency_iso_code=body.currency_iso_code, vat_collected_by=body.vat_collected_by,
        payment_type=body.payment_info.payment_type or "CB",
        authorization_reference=body.payment_info.authorization_reference or "",
        authorization_expires=body.payment_info.authorization_expires,
        channel_code=body.channel_code or "", order_reference_for_customer=body.order_reference_for_customer or "",
        digest_source=raw,
    )


@router.post("/orders", response={200: ImportAnswer, 201: ImportAnswer}, operation_id="operator_import",
             summary="Import a customer order (one order per shop): 201, or 200 when it was already imported")
def import_order(request: HttpRequest, body: ImportOrder) -> HttpResponse:
    orders, created = services.import_customer_order(_to_request(body, _canonical(request.body)),
                                                     who=_operator(request))
    payload = {
        "commercial_id": body.commercial_id,
        "orders": [{"order_id": o.order_id, "shop_id": o.shop_id, "order_state": o.state,
                    "total_price": o.total_price_cents / 100} for o in orders],
    }
    return json_response(payload, status=201 if created else 200)


@router.get("/orders", response=OperatorOrderList, summary="List orders across shops", operation_id="operator_list_orders",
            openapi_extra=parameters(order_state_codes=values(one_of(*OrderState)), shop_id=integer(),
                                     order_ids=values(), order=one_of("asc", "desc"), offset=integer(),
                                     max=integer(1, settings.COMPTOIR["API_MAX_PAGE_SIZE"])))
@listing_reads()
def list_orders(request: HttpRequest) -> HttpResponse:
    q = request.GET
    states = parse_list(request, "order_state_codes")
    if any(s not in {st.value for st in OrderState} for s in states):
        raise ValidationError("Paramètre order_state_codes : état inconnu.", field="order_state_codes")
    shop_id = parse_int(q.get("shop_id"), "shop_id", default=0) or None
    direction = (q.get("order") or "desc").lower()
    if direction not in ("asc", "desc"):
        raise ValidationError("Paramètre order : asc ou desc.", field="order")
    page = queries.order_rows_page(
        queries.OrderFilter(shop_id=shop_id, states=states, order_ids=parse_list(request, "order_ids")),
        columns={**ORDER_COLUMNS, "customer_email": "customer_email"}, line_columns=LINE_COLUMNS,
        descending=direction == "desc",
        offset=parse_int(q.get("offset"), "offset", default=0),
        limit=parse_int(q.get("max"), "max", default=10, minimum=1, maximum=settings.COMPTOIR["API_MAX_PAGE_SIZE"]),
    )
    data = page_json(page)
    for order, item in zip(page.orders, data, strict=True):
        item["customer"]["email"] = order.customer_email or None  # the operator sees the real e-mail
    return json_response({"orders": data, "total_count": page.total})


class Reason(Schema):
    reason: str = Field(min_length=1, max_length=500)


class FraudReason(Schema):
    """Kept as the order's state_reason_label: 300 characters, as the back office's form."""

    reason: str = Field(min_length=1, max_length=300)


class Note(Schema):
    note: str = Field(default="", max_length=300)


@router.put("/orders/{order_id}/approve", response={204: None}, summary="Fraud gate: approve")
def approve(request: HttpRequest, order_id: str) -> HttpResponse:
    services.approve_order(order_id=order_id, who=_operator(request))
    return HttpResponse(status=204)


@router.put("/orders/{order_id}/reject", response={204: None}, summary="Fraud gate: reject with a reason")
def reject(request: HttpRequest, order_id: str, body: FraudReason) -> HttpResponse:
    services.reject_order(order_id=order_id, reason=body.reason, who=_operator(request))
    return HttpResponse(status=204)


@router.put("/orders/{order_id}/request_documents", response={204: None},
            summary="Fraud gate: wait for the customer's documents (the order stays in STAGING)")
def request_documents(request: HttpRequest, order_id: str, body: Note) -> HttpResponse:
    services.request_customer_documents(order_id=order_id, note=body.note, who=_operator(request))
    return HttpResponse(status=204)


@router.put("/shops/{shop_id}/suspend", response={204: None}, summary="Suspend a shop")
def suspend(request: HttpRequest, shop_id: Identifier, body: Reason) -> HttpResponse:
    from django.db import transaction

    with transaction.atomic():
        shop_services.lock_shop(shop_id)
        shop_services.suspend_shop(shop_id=shop_id, reason=body.reason)
    return HttpResponse(status=204)


@router.put("/shops/{shop_id}/reactivate", response={204: None}, summary="Reactivate a suspended shop")
def reactivate(request: HttpRequest, shop_id: Identifier, body: Reason) -> HttpResponse:
    shop_services.reactivate_shop(shop_id=shop_id, reason=body.reason)
    return HttpResponse(status=204)


class Duration(Schema):
    duration: str = Field(description="e.g. 6d, 36h, 90m", json_schema_extra={"pattern": r"^([0-9]{1,3}[dhms])+$"})


def _clock() -> dict[str, Any]:
    offset = clock.offset()
    return {"now": iso(clock.now()), "offset_seconds": int(offset.total_seconds()),
            "sandbox": sandbox.sandbox_enabled()}


@router.get("/clock", response=ClockOut, summary="Sandbox clock")
def get_clock(request: HttpRequest) -> HttpResponse:
    return json_response(_clock())


@router.post("/clock/advance", response=ClockOut, summary="Move the sandbox clock forward (sandbox mode only)")
def advance(request: HttpRequest, body: Duration) -> HttpResponse:
    try:
        delta = sandbox.parse_duration(body.duration)
        sandbox.advance_clock(by=delta)
    except ValueError as exc:
        raise ValidationError(str(exc), field="duration") from None
    return json_response(_clock())


@router.post("/clock/reset", response=ClockOut, summary="Put the sandbox clock back to real time")
def reset(request: HttpRequest) -> HttpResponse:
    sandbox.reset_clock()
    return json_response(_clock())


class Directive(Schema):
    refuse_capture: bool = False
    refuse_reauthorization: bool = False


@router.put("/sandbox/payments/{order_id}", response={204: None},
            summary="Sandbox: make the simulated provider refuse this order's capture or re-authorization")
def payment_directive(request: HttpRequest, order_id: str, body: Directive) -> HttpResponse:
    sandbox.require_sandbox()
    payment_services.set_simulated_directive(
        order_id=order_id, refuse_capture=body.refuse_capture, refuse_reauthorization=body.refuse_reauthorization
    )
    return HttpResponse(status=204)
