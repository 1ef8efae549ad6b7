"""Mirakl seller API for money given back: OR28 (refund lines), OR30 (cancel lines), OR29 (cancel an order), and
Comptoir's refund preview. Thin: the body becomes line requests, the refunds services compute, check and write.

OR28 names no mode: the refunds service reads it from the amounts under the line's lock (the line's remaining
amount and shipping → FULL, shipping alone → SHIPPING, units and an amount → QUANTITY, an amount alone → AMOUNT),
in the one transaction that writes the refund; the client's taxes are checked last in it (a mismatch writes
nothing).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema
from pydantic import ConfigDict, Field, StrictBool

from comptoir.api.render import amount, json_response, rate
from comptoir.core.errors import ValidationError
from comptoir.core.money import decimal_to_cents
from comptoir.orders.models import Order, OrderLine
from comptoir.orders.services import Who
from comptoir.orders.states import Actor
from comptoir.refunds import services
from comptoir.refunds.models import Refund
from comptoir.refunds.rules import Amounts, RefundKind, RefundMode, euros, typed_mode

router = Router(tags=["Refunds and cancelations"])

TAX_INCLUDED, TAX_EXCLUDED = "TAX_INCLUDED", "TAX_EXCLUDED"
TaxMode = Literal["TAX_INCLUDED", "TAX_EXCLUDED"]


def _shop_id(request: HttpRequest) -> int:
    return request.shop.id  # type: ignore[attr-defined, no-any-return]


def _who(request: HttpRequest) -> Who:
    return Who(Actor.SELLER, f"API boutique {_shop_id(request)}")


# --- request schemas ---------------------------------------------------------------------------------------


class TaxIn(Schema):
    model_config = ConfigDict(extra="ignore")
    code: str | None = None
    amount: Decimal
    rate: Decimal | None = None


class RefundIn(Schema):
    model_config = ConfigDict(extra="ignore")
    order_line_id: str = Field(min_length=1, max_length=140)
    reason_code: str = Field(max_length=50)
    amount: Decimal | None = None
    shipping_amount: Decimal | None = None
    quantity: int | None = Field(default=None, ge=0, le=100_000)
    taxes: list[TaxIn] | None = None
    shipping_taxes: list[TaxIn] | None = None
    currency_iso_code: str | None = Field(default=None, max_length=3)
    excluded_from_shipment: StrictBool = False


class RefundsIn(Schema):
    model_config = ConfigDict(extra="ignore")
    order_tax_mode: TaxMode | None = None
    refunds: list[RefundIn] = Field(min_length=1, max_length=services.MAX_BATCH)


class CancelationIn(Schema):
    model_config = ConfigDict(extra="ignore")
    order_line_id: str = Field(min_length=1, max_length=140)
    reason_code: str = Field(max_length=50)
    quantity: int | None = Field(default=None, ge=0, le=100_000)
    amount: Decimal | None = None
    shipping_amount: Decimal | None = None
    currency_iso_code: str | None = Field(default=None, max_length=3)


class CancelationsIn(Schema):
    model_config = ConfigDict(extra="ignore")
    order_tax_mode: TaxMode | None = None
    cancelations: list[CancelationIn] = Field(min_length=1, max_length=services.MAX_BATCH)


# --- from the body to line requests --------------------------------------------------------------------------


def _cents(value: Decimal | None, field: str) -> int | None:
    if value is None:
        return None
    try:
        return decimal_to_cents(value)
    except ValueError:
        raise ValidationError(f"{field} : montant invalide ({value}) ; deux décimales au plus.", field=field) from None


def _refund_requests(body: RefundsIn) -> list[services.LineRequest]:
    """OR28 names no mode: the refunds service reads it from the amounts under the line's lock (`mode=None`)."""
    tax_included = (body.order_tax_mode or TAX_INCLUDED) == TAX_INCLUDED
    requests = []
    for i, item in enumerate(body.refunds):
        where = f"refunds[{i}]"
        cents = _cents(item.amount, f"{where}.amount")
        shipping = _cents(item.shipping_amount, f"{where}.shipping_amount")
        quantity = item.quantity or 0
        if typed_mode(quantity=quantity, amount_cents=cents, shipping_cents=shipping) is None:
            raise ValidationError(f"{where} : indiquez amount (et shipping_amount) ou quantity.",
                                  field=f"{where}.amount")
        requests.append(services.LineRequest(item.order_line_id, item.reason_code, None, quantity=quantity,
                                             amount_cents=cents, shipping_cents=shipping, tax_included=tax_included,
                                             excluded_from_shipment=item.excluded_from_shipment))
    return requests


def _cancelation_requests(body: CancelationsIn) -> list[services.LineRequest]:
    """OR30: every cancelable unit (FULL) when the quantity is absent; else the service reads the mode under the
    line's lock (FULL when the quantity names every cancelable unit, QUANTITY for fewer). Amounts typed
    excluding tax get the line's VAT there too."""
    tax_included = (body.order_tax_mode or TAX_INCLUDED) == TAX_INCLUDED
    return [services.LineRequest(
        item.order_line_id, item.reason_code, RefundMode.FULL if item.quantity is None else None,
        quantity=item.quantity or 0, amount_cents=_cents(item.amount, f"cancelations[{i}].amount"),
        shipping_cents=_cents(item.shipping_amount, f"cancelations[{i}].shipping_amount"), tax_included=tax_included)
        for i, item in enumerate(body.cancelations)]


def _check_taxes(item: RefundIn, index: int, line: OrderLine, done: Refund | Amounts) -> None:
    """Taxes sent by the client must be the ones Comptoir computes, to the cent (one cent of rounding allowed)."""
    parts = ((item.taxes, done.amount_tax_cents, line.tax_rate, "taxes", "du produit"),
             (item.shipping_taxes, done.shipping_tax_cents, line.shipping_tax_rate, "shipping_taxes",
              "des frais de port"))
    for given, computed, tax_rate, name, what in parts:
        if not given:
            continue
        field = f"refunds[{index}].{name}"
        sent = sum(_cents(tax.amount, f"{field}.amount") or 0 for tax in given)
        if abs(sent - computed) > 1:
            raise ValidationError(
                f"{field} : les taxes envoyées ({euros(sent)}) ne correspondent pas à la TVA {what} calculée par "
                f"Comptoir pour la ligne {item.order_line_id} : {euros(computed)} (taux {rate(tax_rate):g} %).",
                code="REFUND_TAXES_MISMATCH", field=field)


def _check_currency(code: str | None, index: int, order: Order, key: str) -> None:
    if code and code.upper() != order.currency_iso_code:
        raise ValidationError(f"{key}[{index}].currency_iso_code : la commande {order.order_id} est en "
                              f"{order.currency_iso_code}.", field=f"{key}[{index}].currency_iso_code")


def _verify_refunds(body: RefundsIn) -> services.Verify:
    """OR28's checks of what the refund computed: the currency and the client's taxes. Run by the service after
    the write, in its transaction: a mismatch writes nothing."""
    def verify(rows: list[Refund]) -> None:
        done = {row.line.line_id: row for row in rows}
        for i, item in enumerate(body.refunds):
            row = done[item.order_line_id]
            _check_currency(item.currency_iso_code, i, row.order, "refunds")
            _check_taxes(item, i, row.line, row)
    return verify


def _verify_cancelations(body: CancelationsIn) -> services.Verify:
    def verify(rows: list[Refund]) -> None:
        done = {row.line.line_id: row for row in rows}
        for i, item in enumerate(body.cancelations):
            _check_currency(item.currency_iso_code, i, done[item.order_line_id].order, "cancelations")
    return verify


# --- JSON shapes -------------------------------------------------------------------------------------------


def _part(cents: int, tax_cents: int, tax_included: bool) -> float | None:
    return amount(cents if tax_included else cents - tax_cents)


def _taxes(code: str, cents: int, tax_rate: Decimal) -> list[dict[str, Any]]:
    return [{"code": code, "amount": amount(cents), "rate": rate(tax_rate)}]


def _money_json(line: OrderLine, a: Refund | Amounts, tax_included: bool) -> dict[str, Any]:
    return {
        "amount": _part(a.amount_cents, a.amount_tax_cents, tax_included),
        "shipping_amount": _part(a.shipping_cents, a.shipping_tax_cents, tax_included),
        "quantity": a.quantity,
        "taxes": _taxes(line.tax_code, a.amount_tax_cents, line.tax_rate),
        "shipping_taxes": _taxes(line.shipping_tax_code, a.shipping_tax_cents, line.shipping_tax_rate),
        "fees": [],
        "eco_contributions": [],
    }


def _rows_json(rows: list[Refund], tax_included: bool, id_key: str) -> list[dict[str, Any]]:
    out = []
    for row in rows:
        line = row.line
        item: dict[str, Any] = {id_key: str(row.pk), "order_line_id": line.line_id}
        if row.kind == RefundKind.REFUND:
            item["order_refund_id"] = row.group_id
        item.update(_money_json(line, row, tax_included))
        item.update(reason_code=row.reason_code, currency_iso_code=row.currency_iso_code)
        if row.kind == RefundKind.REFUND:
            item["excluded_from_shipment"] = row.excluded_quantity > 0
        out.append(item)
    return out


# --- response schemas (documentation: the views render their JSON themselves) -------------------------------


class TaxOut(Schema):
    code: str
    amount: float
    rate: float


class RefundMoney(Schema):
    amount: float
    shipping_amount: float
    quantity: int
    taxes: list[TaxOut]
    shipping_taxes: list[TaxOut]
    fees: list[Any]
    eco_contributions: list[Any]


class RefundOut(RefundMoney):
    refund_id: str
    order_line_id: str
    order_refund_id: str
    reason_code: str
    currency_iso_code: str
    excluded_from_shipment: bool


class CancelationOut(RefundMoney):
    cancelation_id: str
    order_line_id: str
    reason_code: str
    currency_iso_code: str


class RefundsOut(Schema):
    order_tax_mode: TaxMode
    refunds: list[RefundOut]


class CancelationsOut(Schema):
    order_tax_mode: TaxMode
    cancelations: list[CancelationOut]


class PreviewBalance(Schema):
    kind: Literal["PENDING", "PAYABLE"]
    before: float
    after: float
    sufficient: bool
    message: str | None = Field(description="OR28's refusal when the balance cannot cover the refund")


class PreviewLine(RefundMoney):
    order_id: str
    order_line_id: str
    mode: str
    total: float
    commission_refunded: float
    seller_cost: float
    reason_code: str
    excluded_from_shipment: bool


class RefundPreviewOut(Schema):
    order_tax_mode: TaxMode
    total_excl_tax: float
    total_tax: float
    total: float
    commission_refunded: float
    seller_cost: float
    balance: PreviewBalance
    refunds: list[PreviewLine]


# --- endpoints ---------------------------------------------------------------------------------------------


@router.put("/orders/refund", response=RefundsOut, summary="OR28 - Refund order lines", operation_id="OR28",
            description="All or nothing, ≤100 lines of any orders of the shop. Per line: `reason_code` (RE02 REFUND) "
            "and the amounts in `order_tax_mode` (TAX_INCLUDED by default; TAX_EXCLUDED: Comptoir adds the VAT "
            "at the line's rate). The line's remaining `amount` and `shipping_amount` → full refund; "
            "`shipping_amount` alone (amount 0) → shipping only; `quantity` with or without `amount` → by units "
            "(the units' price is proposed when no amount is sent); `amount` alone → commercial gesture. `taxes` "
            "and `shipping_taxes`, when sent, must match Comptoir's VAT within one cent (400 "
            "REFUND_TAXES_MISMATCH). 400 when more than what is left would be given back, when the line is "
            "not refundable in its state, or when the balance cannot cover the refund "
            "(REFUND_BALANCE_INSUFFICIENT).")
def refund_lines(request: HttpRequest, body: RefundsIn) -> HttpResponse:
    tax_included = (body.order_tax_mode or TAX_INCLUDED) == TAX_INCLUDED
    rows = services.refund_lines(requests=_refund_requests(body), who=_who(request), shop_id=_shop_id(request),
                                 verify=_verify_refunds(body))
    return json_response({"order_tax_mode": TAX_INCLUDED if tax_included else TAX_EXCLUDED,
                          "refunds": _rows_json(rows, tax_included, "refund_id")})


@router.post("/orders/refund/preview", response=RefundPreviewOut, operation_id="refund_preview",
             summary="Comptoir extension - Preview a refund (OR28's body)",
             description="Not a Mirakl API. Takes OR28's body and answers what the refund would give back, "
             "nothing written: `total_excl_tax`, `total_tax`, `total`, `commission_refunded`, `seller_cost` (what "
             "leaves the seller's balance), `balance` {`kind` PENDING|PAYABLE, `before`, `after`, `sufficient`, "
             "`message`} and the amounts per line. A balance too low is a 200 with `sufficient: false` and the "
             "message OR28 would answer with its 400; any other problem is OR28's 400.")
def preview_refund(request: HttpRequest, body: RefundsIn) -> HttpResponse:
    tax_included = (body.order_tax_mode or TAX_INCLUDED) == TAX_INCLUDED
    plan = services.preview_request(requests=_refund_requests(body), who=_who(request), shop_id=_shop_id(request),
                                    kind=RefundKind.REFUND)
    planned = {p.line.line_id: p for p in plan.items}
    for i, item in enumerate(body.refunds):  # what OR28 checks after its write
        _check_currency(item.currency_iso_code, i, planned[item.order_line_id].order, "refunds")
        _check_taxes(item, i, planned[item.order_line_id].line, planned[item.order_line_id].amounts)
    p = plan.preview
    lines = []
    for planned in plan.items:
        a = planned.amounts
        lines.append({"order_id": planned.order.order_id, "order_line_id": planned.line.line_id, "mode": a.mode,
                      **_money_json(planned.line, a, tax_included), "total": amount(a.total_cents),
                      "commission_refunded": amount(a.commission_total_cents),
                      "seller_cost": amount(a.seller_cost_cents), "reason_code": planned.reason.code,
                      "excluded_from_shipment": a.excluded_quantity > 0})
    return json_response({
        "order_tax_mode": TAX_INCLUDED if tax_included else TAX_EXCLUDED,
        "total_excl_tax": amount(p.excl_tax_cents),
        "total_tax": amount(p.tax_cents),
        "total": amount(p.total_cents),
        "commission_refunded": amount(p.commission_back_cents),
        "seller_cost": amount(p.seller_cost_cents),
        "balance": {"kind": "PAYABLE" if p.balance_label == "payable" else "PENDING",
                    "before": amount(p.balance_before_cents), "after": amount(p.balance_after_cents),
                    "sufficient": plan.refusal is None,
                    "message": plan.refusal.message if plan.refusal is not None else None},
        "refunds": lines,
    })


@router.put("/orders/cancel", response=CancelationsOut, summary="OR30 - Cancel order lines", operation_id="OR30",
            description="All or nothing, ≤100 lines, orders in SHIPPING. Per line: `reason_code` (RE02 "
            "CANCELATION) and `quantity`: absent, or every unit not yet in a parcel → the whole rest of the line; "
            "fewer → those units (amount and shipping proposed pro rata, or as sent). Units in a parcel cannot be "
            "canceled (400 CANCELATION_QUANTITY_EXCEEDED). The customer is paid back.")
def cancel_lines(request: HttpRequest, body: CancelationsIn) -> HttpResponse:
    tax_included = (body.order_tax_mode or TAX_INCLUDED) == TAX_INCLUDED
    rows = services.cancel_lines(requests=_cancelation_requests(body), who=_who(request), shop_id=_shop_id(request),
                                 verify=_verify_cancelations(body))
    return json_response({"order_tax_mode": TAX_INCLUDED if tax_included else TAX_EXCLUDED,
                          "cancelations": _rows_json(rows, tax_included, "cancelation_id")})


@router.put("/orders/{order_id}/cancel", response={204: None}, summary="OR29 - Cancel an order",
            operation_id="OR29",
            description="Cancels every line of an order in SHIPPING when nothing is in a parcel (`can_cancel` in "
            "OR11); the customer is paid back. Optional query parameter `reason_code` (a CANCELATION reason, "
            "default the first one). 400 ORDER_INVALID_STATE in any other state.")
def cancel_order(request: HttpRequest, order_id: str, reason_code: str | None = None) -> HttpResponse:
    services.cancel_order(order_id=order_id, who=_who(request), shop_id=_shop_id(request),
                          reason_code=(reason_code or "").strip())
    return HttpResponse(status=204)
