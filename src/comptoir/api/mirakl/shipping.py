"""Mirakl seller API for shipping: ST01, ST11, ST12, ST23, ST24 (shipments), OR23 and OR24 (one tracking
and ship the whole order), SH21 (carriers). Thin: schemas in, shipping services and queries, JSON out."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema
from pydantic import ConfigDict, Field, StrictBool

from comptoir.api.openapi import DATE_TIME, integer, omitted, one_of, parameters, values
from comptoir.api.render import Instant, iso, json_response, parse_instant, parse_int, parse_list
from comptoir.core.errors import ValidationError
from comptoir.orders.services import Who
from comptoir.orders.states import Actor
from comptoir.shipping import queries, services
from comptoir.shipping.models import Shipment, ShipmentStatus
from comptoir.shipping.rules import MAX_SHIPMENTS_PER_CALL

router = Router(tags=["Shipping"])


def _shop_id(request: HttpRequest) -> int:
    return request.shop.id  # type: ignore[attr-defined, no-any-return]


def _who(request: HttpRequest) -> Who:
    return Who(Actor.SELLER, f"API boutique {_shop_id(request)}")


# --- JSON shapes -------------------------------------------------------------------------------------------


def tracking_json(shipment: Shipment) -> dict[str, Any]:
    return {
        "carrier_code": shipment.carrier_code or None,
        "carrier_standard_code": shipment.carrier_standard_code or None,
        "carrier_name": shipment.carrier_name or None,
        "tracking_number": shipment.tracking_number or None,
        "tracking_url": shipment.tracking_url or None,
        "validity_status": None,
        "last_known_location": None,
        "milestones": [],
    }


def shipment_json(shipment: Shipment) -> dict[str, Any]:
    order = shipment.order
    return {
        "id": shipment.shipment_id,
        "order_id": order.order_id,
        "status": shipment.status,
        "status_customer_debit": "DEBIT_OK" if order.customer_debited_date else None,
        "shipment_lines": [
            {"order_line_id": sl.order_line.line_id, "offer_sku": sl.order_line.offer_sku, "quantity": sl.quantity,
             "package_reference": sl.package_reference or None}
            for sl in shipment.lines.all()
        ],
        "tracking": tracking_json(shipment),
        "shipped_date": iso(shipment.shipped_date),
        "created_date": iso(shipment.created_date),
        "last_updated_date": iso(shipment.last_updated_date),
        "invoice_reference": shipment.invoice_reference or None,
        "payment_details": {
            "customer_debited_date": iso(order.customer_debited_date),
            "transaction_date": iso(order.customer_debited_date),
            "transaction_number": order.transaction_number or None,
        },
        "shipping_from": None,
        "shipment_additional_information": [],
    }


def _page_json(page: queries.Page, items: list[dict[str, Any]]) -> dict[str, Any]:
    body: dict[str, Any] = {"data": items}
    if page.next_token:
        body["next_page_token"] = page.next_token
    if page.previous_token:
        body["previous_page_token"] = page.previous_token
    return body


def _limit(request: HttpRequest) -> int:
    return parse_int(request.GET.get("limit"), "limit", default=10, minimum=1,
                     maximum=settings.COMPTOIR["API_MAX_PAGE_SIZE"])


# --- response schemas (documentation: the views render their JSON themselves) -------------------------------


class TrackingOut(Schema):
    carrier_code: str | None
    carrier_standard_code: str | None
    carrier_name: str | None
    tracking_number: str | None
    tracking_url: str | None
    validity_status: None
    last_known_location: None
    milestones: list[Any]


class ShipmentLineOut(Schema):
    order_line_id: str
    offer_sku: str
    quantity: int
    package_reference: str | None


class ShipmentPaymentDetails(Schema):
    customer_debited_date: str | None
    transaction_date: str | None
    transaction_number: str | None


class ShipmentOut(Schema):
    id: str
    order_id: str
    status: str
    status_customer_debit: str | None
    shipment_lines: list[ShipmentLineOut]
    tracking: TrackingOut
    shipped_date: str | None
    created_date: str
    last_updated_date: str
    invoice_reference: str | None
    payment_details: ShipmentPaymentDetails
    shipping_from: None
    shipment_additional_information: list[Any]


class OrderError(Schema):
    order_id: str
    message: str
    code: str


class ShipmentError(Schema):
    id: str
    message: str
    code: str


class ShipmentId(Schema):
    id: str


class CreatedShipments(Schema):
    shipment_success: list[ShipmentOut]
    shipment_errors: list[OrderError]


class UpdatedShipments(Schema):
    shipment_success: list[ShipmentId]
    shipment_errors: list[ShipmentError]


class ShipmentPage(Schema):
    data: list[ShipmentOut]
    next_page_token: str = omitted("Absent on the last page.")
    previous_page_token: str = omitted("Absent on the first page.")


class OrderReferences(Schema):
    order_reference_for_customer: str | None
    order_reference_for_seller: str | None


class FulfillmentCenter(Schema):
    code: str


class Fulfillment(Schema):
    center: FulfillmentCenter


class LineToShip(Schema):
    order_line_id: str
    offer_sku: str
    quantity: int = Field(description="Units left to ship")
    product_title: str
    package_reference: None
    package_description: None


class OrderToShip(Schema):
    order_id: str
    references: OrderReferences
    fulfillment: Fulfillment
    shipping_address: dict[str, Any] | None
    shipping_date: None
    shipping_deadline: str | None
    shipping_type_code: str | None
    shipping_type_standard_code: None
    shipment_lines: list[LineToShip]


class ItemsToShipPage(Schema):
    data: list[OrderToShip]
    next_page_token: str = omitted("Absent on the last page.")
    previous_page_token: str = omitted("Absent on the first page.")


class CarrierOut(Schema):
    code: str
    label: str
    standard_code: str | None
    tracking_url: str


class CarrierList(Schema):
    carriers: list[CarrierOut]


# --- request schemas ---------------------------------------------------------------------------------------


class TrackingIn(Schema):
    model_config = ConfigDict(extra="ignore")
    carrier_code: str | None = Field(default=None, max_length=50)
    carrier_standard_code: str | None = Field(default=None, max_length=50)
    carrier_name: str | None = Field(default=None, max_length=100)
    tracking_number: str | None = Field(default=None, max_length=100)
    tracking_url: str | None = Field(default=None, max_length=1000)
    carrier_url: str | None = Field(default=None, max_length=1000)  # OR23's name for tracking_url

    def request(self) -> services.TrackingRequest:
        return services.TrackingRequest(carrier_code=self.carrier_code, carrier_name=self.carrier_name,
                                        tracking_number=self.tracking_number,
                                        tracking_url=self.tracking_url or self.carrier_url)


class ShipmentLineIn(Schema):
    model_config = ConfigDict(extra="ignore")
    order_line_id: str | None = Field(default=None, min_length=1)
    offer_sku: str | None = Field(default=None, min_length=1)
    quantity: int = Field(ge=1, le=100_000)
    package_reference: str | None = Field(default=None, max_length=100)


class ShipmentIn(Schema):
    model_config = ConfigDict(extra="ignore")
    order_id: str = Field(min_length=1)
    shipment_lines: list[ShipmentLineIn] = Field(min_length=1)
    tracking: TrackingIn | None = None
    shipped: StrictBool = False
    shipped_date: Instant | None = None  # extension: the parcel's real departure (never in the future)
    invoice_reference: str | None = Field(default=None, max_length=100)


class ShipmentsIn(Schema):
    shipments: list[ShipmentIn] = Field(min_length=1, max_length=MAX_SHIPMENTS_PER_CALL)


class ShipmentTrackingIn(Schema):
    model_config = ConfigDict(extra="ignore")
    id: str = Field(min_length=1)
    tracking: TrackingIn


class ShipmentsTrackingIn(Schema):
    shipments: list[ShipmentTrackingIn] = Field(min_length=1, max_length=MAX_SHIPMENTS_PER_CALL)


class ShipmentRef(Schema):
    model_config = ConfigDict(extra="ignore")
    id: str = Field(min_length=1)


class ShipmentsRefIn(Schema):
    shipments: list[ShipmentRef] = Field(min_length=1, max_length=MAX_SHIPMENTS_PER_CALL)


def _shipment_request(item: ShipmentIn) -> services.ShipmentRequest:
    return services.ShipmentRequest(
        order_id=item.order_id,
        lines=[services.LineRequest(quantity=line.quantity, order_line_id=line.order_line_id,
                                    offer_sku=line.offer_sku, package_reference=line.package_reference or "")
               for line in item.shipment_lines],
        tracking=item.tracking.request() if item.tracking else None,
        shipped=item.shipped,
        shipped_date=item.shipped_date,
        invoice_reference=item.invoice_reference or "",
    )


def _report(report: services.BatchReport, key: str, success: Any) -> dict[str, Any]:
    return {"shipment_success": success,
            "shipment_errors": [{key: e.key, "message": e.message, "code": e.code} for e in report.errors]}


# --- endpoints ---------------------------------------------------------------------------------------------


@router.post("/shipments", response={201: CreatedShipments}, summary="ST01 - Create shipments", operation_id="ST01",
             description=f"≤{MAX_SHIPMENTS_PER_CALL} shipments per call, each created atomically; lines by "
             "order_line_id or offer_sku. `shipped: true` creates and ships at once. Answers 201 with "
             "`shipment_success` and `shipment_errors` ({order_id, message}).")
def create_shipments(request: HttpRequest, body: ShipmentsIn) -> HttpResponse:
    report = services.create_shipments(shop_id=_shop_id(request),
                                       requests=[_shipment_request(item) for item in body.shipments],
                                       who=_who(request))
    # The shipments as written (their order and lines in place): nothing is read back.
    return json_response(_report(report, "order_id", [shipment_json(s) for s in report.succeeded]), 201)


@router.get("/shipments", response=ShipmentPage, summary="ST11 - List shipments", operation_id="ST11",
            openapi_extra=parameters(
                order_id=values(max_items=100), shipment_state_code=values(one_of(*ShipmentStatus.values)),
                last_updated_from=DATE_TIME, last_updated_to=DATE_TIME,
                limit=integer(1, settings.COMPTOIR["API_MAX_PAGE_SIZE"]), page_token={"type": "string"}),
            description="Seek pagination (limit ≤100, page_token). Filters: order_id and shipment_state_code "
            "(repeatable or comma-separated), last_updated_from, last_updated_to.")
def list_shipments(request: HttpRequest) -> HttpResponse:
    statuses = parse_list(request, "shipment_state_code")
    if unknown := [s for s in statuses if s not in ShipmentStatus.values]:
        raise ValidationError(f"Paramètre shipment_state_code : état inconnu {unknown[0]!r}.",
                              field="shipment_state_code")
    order_ids = parse_list(request, "order_id")
    if len(order_ids) > 100:
        raise ValidationError("Paramètre order_id : 100 valeurs au plus.", field="order_id")
    page = queries.shipments_page(
        queries.ShipmentFilter(
            shop_id=_shop_id(request), order_ids=order_ids, statuses=statuses,
            updated_from=parse_instant(request.GET.get("last_updated_from"), "last_updated_from"),
            updated_to=parse_instant(request.GET.get("last_updated_to"), "last_updated_to", end_of_day=True),
        ),
        limit=_limit(request), page_token=request.GET.get("page_token"),
    )
    return json_response(_page_json(page, [shipment_json(s) for s in page.items]))


@router.get("/shipments/items_to_ship", response=ItemsToShipPage, summary="ST12 - Items left to ship",
            openapi_extra=parameters(order_id=values(), limit=integer(1, settings.COMPTOIR["API_MAX_PAGE_SIZE"]),
                                     page_token={"type": "string"}),
            operation_id="ST12", description="Orders waiting for shipment with the quantity left to ship per "
            "line. Seek pagination; filter order_id (repeatable).")
def list_items_to_ship(request: HttpRequest) -> HttpResponse:
    page = queries.items_to_ship(shop_id=_shop_id(request), order_ids=parse_list(request, "order_id"),
                                 limit=_limit(request), page_token=request.GET.get("page_token"))
    items = [
        {
            "order_id": item.order.order_id,
            "references": {"order_reference_for_customer": item.order.order_reference_for_customer or None,
                           "order_reference_for_seller": item.order.order_reference_for_seller or None},
            "fulfillment": {"center": {"code": "DEFAULT"}},
            "shipping_address": item.order.shipping_address or None,
            "shipping_date": None,
            "shipping_deadline": iso(item.order.shipping_deadline),
            "shipping_type_code": item.order.shipping_type_code or None,
            "shipping_type_standard_code": None,
            "shipment_lines": [
                {"order_line_id": line.line_id, "offer_sku": line.offer_sku, "quantity": left,
                 "product_title": line.product_title, "package_reference": None, "package_description": None}
                for line, left in item.lines
            ],
        }
        for item in page.items
    ]
    return json_response(_page_json(page, items))


@router.post("/shipments/tracking", response=UpdatedShipments, summary="ST23 - Update shipments' tracking",
             operation_id="ST23")
def update_trackings(request: HttpRequest, body: ShipmentsTrackingIn) -> HttpResponse:
    report = services.update_trackings(shop_id=_shop_id(request),
                                       items=[(s.id, s.tracking.request()) for s in body.shipments],
                                       who=_who(request))
    return json_response(_report(report, "id", [{"id": s.shipment_id} for s in report.succeeded]))


@router.put("/shipments/ship", response=UpdatedShipments, summary="ST24 - Ship prepared shipments", operation_id="ST24")
def ship_shipments(request: HttpRequest, body: ShipmentsRefIn) -> HttpResponse:
    report = services.ship_shipments(shop_id=_shop_id(request), shipment_ids=[s.id for s in body.shipments],
                                     who=_who(request))
    return json_response(_report(report, "id", [{"id": s.shipment_id} for s in report.succeeded]))


@router.put("/orders/{order_id}/tracking", response={204: None}, summary="OR23 - Set the order's tracking",
            operation_id="OR23", description="Registered carrier: carrier_code and tracking_number (the link "
            "is built from the carrier's template). Other carrier: carrier_name, tracking_number and an https "
            "carrier_url. Allowed in SHIPPING and SHIPPED (correction).")
def set_order_tracking(request: HttpRequest, order_id: str, body: TrackingIn) -> HttpResponse:
    services.set_order_tracking(shop_id=_shop_id(request), order_id=order_id, tracking=body.request(),
                                who=_who(request))
    return HttpResponse(status=204)


@router.put("/orders/{order_id}/ship", response={204: None}, summary="OR24 - Ship the whole order",
            operation_id="OR24", description="Every unit left ships now in one shipment; the order becomes "
            "SHIPPED. 400 ORDER_INVALID_STATE unless the order is SHIPPING.")
def ship_order(request: HttpRequest, order_id: str) -> HttpResponse:
    services.ship_remaining(shop_id=_shop_id(request), order_id=order_id, who=_who(request))
    return HttpResponse(status=204)


@router.get("/shipping/carriers", response=CarrierList, summary="SH21 - List carriers", operation_id="SH21")
def list_carriers(request: HttpRequest) -> HttpResponse:
    return json_response({"carriers": [
        {"code": c.code, "label": c.label, "standard_code": c.standard_code or None, "tracking_url": c.tracking_url}
        for c in queries.carriers()
    ]})
