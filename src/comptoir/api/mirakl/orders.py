"""Mirakl seller API: OR11 (list orders) and OR21 (accept or refuse lines)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema
from pydantic import ConfigDict, Field, StrictBool

from comptoir.api.mirakl.serializers import LINE_COLUMNS, ORDER_COLUMNS, page_json
from comptoir.api.render import json_response, parse_bool, parse_instant, parse_int, parse_list
from comptoir.core.errors import ValidationError
from comptoir.orders import queries, services
from comptoir.orders.rules import Decision
from comptoir.orders.states import Actor, OrderState
from comptoir.replica import listing_reads

router = Router(tags=["Orders"])

VALID_STATES = {state.value for state in OrderState}


def _param(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema or {"type": "string"}}


_BOOL = {"type": "string", "enum": ["true", "false"]}
OR11_PARAMETERS = [
    _param("order_ids", "Comma-separated order ids (≤100); the parameter may also be repeated."),
    _param("order_state_codes", "Comma-separated order states (STAGING, WAITING_ACCEPTANCE, ...)."),
    _param("start_date", "Created at or after (ISO 8601 date-time, or a date).", {"type": "string"}),
    _param("end_date", "Created at or before.", {"type": "string"}),
    _param("start_update_date", "Last updated at or after.", {"type": "string"}),
    _param("end_update_date", "Last updated at or before.", {"type": "string"}),
    _param("customer_debited", "Only orders paid (true) or not yet paid (false).", _BOOL),
    _param("has_incident", "true, false or all.", {"type": "string", "enum": ["true", "false", "all"]}),
    _param("has_invoice", "true, false or all.", {"type": "string", "enum": ["true", "false", "all"]}),
    _param("order_references_for_customer", "Comma-separated references."),
    _param("order_references_for_seller", "Comma-separated references."),
    _param("channel_codes", "Comma-separated channel codes."),
    _param("only_null_channel", "Only orders without a channel.", _BOOL),
    _param("payment_workflow", "PAY_ON_ACCEPTANCE, ..."),
    _param("paginate", "false returns every order in one response.", _BOOL),
    _param("max", "Page size (1-100, default 10).", {"type": "integer", "minimum": 1, "maximum": 100}),
    _param("offset", "Index of the first order (default 0).", {"type": "integer", "minimum": 0}),
    _param("sort", "dateCreated (default) or dateUpdated.", {"type": "string", "enum": ["dateCreated", "dateUpdated"]}),
    _param("order", "asc (default) or desc.", {"type": "string", "enum": ["asc", "desc"]}),
    _param("shop_id", "The key's own shop (optional).", {"type": "integer"}),
]


class OrderList(Schema):
    orders: list[dict[str, Any]]
    total_count: int


@router.get(
    "/orders",
    response=OrderList,
    summary="OR11 - List orders",
    description=(
        "Filters: order_ids, order_state_codes, start_date, end_date, start_update_date, end_update_date, "
        "customer_debited, has_incident (true/false/all), has_invoice, order_references_for_customer, "
        "order_references_for_seller, channel_codes, only_null_channel, payment_workflow; paginate, max (≤100), "
        "offset, sort (dateCreated, dateUpdated), order (asc/desc). Lists are comma-separated or repeated."
    ),
    operation_id="OR11",
    openapi_extra={"parameters": OR11_PARAMETERS},
)
@listing_reads()
def list_orders(request: HttpRequest) -> HttpResponse:
    q = request.GET
    states = parse_list(request, "order_state_codes")
    unknown = [s for s in states if s not in VALID_STATES]
    if unknown:
        raise ValidationError(f"Paramètre order_state_codes : état inconnu {unknown[0]!r}.", field="order_state_codes")
    order_ids = parse_list(request, "order_ids")
    if len(order_ids) > 100:
        raise ValidationError("Paramètre order_ids : 100 valeurs au plus.", field="order_ids")
    sort = q.get("sort") or "dateCreated"
    if sort not in queries.SORTS:
        raise ValidationError(f"Paramètre sort : valeurs possibles {', '.join(queries.SORTS)}.", field="sort")
    direction = (q.get("order") or "asc").lower()
    if direction not in ("asc", "desc"):
        raise ValidationError("Paramètre order : asc ou desc.", field="order")
    paginate = parse_bool(q.get("paginate"), "paginate")
    max_page = settings.COMPTOIR["API_MAX_PAGE_SIZE"]
    limit = parse_int(q.get("max"), "max", default=10, minimum=1, maximum=max_page)
    offset = parse_int(q.get("offset"), "offset", default=0)
    filters = queries.OrderFilter(
        shop_id=request.shop.id,  # type: ignore[attr-defined]
        order_ids=order_ids,
        states=states,
        created_from=parse_instant(q.get("start_date"), "start_date"),
        created_to=parse_instant(q.get("end_date"), "end_date", end_of_day=True),
        updated_from=parse_instant(q.get("start_update_date"), "start_update_date"),
        updated_to=parse_instant(q.get("end_update_date"), "end_update_date", end_of_day=True),
        customer_debited=parse_bool(q.get("customer_debited"), "customer_debited"),
        has_incident=parse_bool(q.get("has_incident"), "has_incident", allow_all=True),
        has_invoice=parse_bool(q.get("has_invoice"), "has_invoice", allow_all=True),
        references_for_customer=parse_list(request, "order_references_for_customer"),
        references_for_seller=parse_list(request, "order_references_for_seller"),
        channel_codes=parse_list(request, "channel_codes"),
        only_null_channel=bool(parse_bool(q.get("only_null_channel"), "only_null_channel")),
        payment_workflow=q.get("payment_workflow") or None,
    )
    page = queries.order_rows_page(
        filters, columns=ORDER_COLUMNS, line_columns=LINE_COLUMNS, sort=sort, descending=direction == "desc",
        offset=offset, limit=None if paginate is False else limit,
    )
    # Rendered here, not by ninja: validating ~100 orders of ~80 fields against `OrderList` would cost more than
    # building them; the schema only documents the answer.
    return json_response({"orders": page_json(page), "total_count": page.total})


class LineDecision(Schema):
    model_config = ConfigDict(extra="ignore")
    id: str = Field(min_length=1, description="order_line_id")
    accepted: StrictBool  # JSON true/false only: "yes", "true" or 1 must not silently accept a line


class AcceptBody(Schema):
    order_lines: list[LineDecision | None] = Field(min_length=1)


@router.put(
    "/orders/{order_id}/accept",
    response={204: None},
    summary="OR21 - Accept or refuse order lines",
    description="Every line waiting for acceptance needs a decision in the same call. Any line accepted → "
    "WAITING_DEBIT (the refused ones REFUSED); all refused → REFUSED.",
    operation_id="OR21",
)
def accept_order(request: HttpRequest, order_id: str, body: AcceptBody) -> HttpResponse:
    decisions = [None if item is None else Decision(item.id, item.accepted) for item in body.order_lines]
    services.decide_lines(
        order_id=order_id,
        shop_id=request.shop.id,  # type: ignore[attr-defined]
        decisions=decisions,
        who=services.Who(Actor.SELLER, f"API boutique {request.shop.id}"),  # type: ignore[attr-defined]
    )
    return HttpResponse(status=204)
