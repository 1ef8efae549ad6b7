"""Seller API for webhooks (a Comptoir extension: Mirakl has none): the shop's endpoints (list, create, read,
update or rotate the secret, delete), their delivery log and « redeliver ». Same key and error body as the Mirakl
endpoints; another shop's endpoint is a 404, like an unknown one. Thin: webhooks services and queries."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema
from pydantic import ConfigDict, Field, StrictBool

from comptoir.api.openapi import integer, omitted, parameters
from comptoir.api.render import Identifier, iso, json_response, parse_int
from comptoir.webhooks import queries, rules, services
from comptoir.webhooks.models import Delivery, Endpoint

router = Router(tags=["Webhooks"])

_TYPES = ", ".join(f"`{name}`" for name in rules.EVENT_TYPES)
_ABOUT = (f"Event types: {_TYPES}; an empty `event_types` subscribes to all of them. The URL must be https. "
          "Deliveries are signed: see the README, « Webhooks ».")
MAX_PAGE = 100


def _shop_id(request: HttpRequest) -> int:
    return int(request.shop.id)  # type: ignore[attr-defined]


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"  # it holds a secret
    return response


def endpoint_json(endpoint: Endpoint, *, secret: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": endpoint.id, "url": endpoint.url, "description": endpoint.description or None,
        "enabled": endpoint.enabled, "event_types": list(endpoint.event_types),
        "secret_hint": rules.secret_hint(endpoint.secret),
        "created_date": iso(endpoint.created_date), "last_updated_date": iso(endpoint.updated_date),
        "secret_rotated_date": iso(endpoint.secret_rotated_date),
    }
    if secret:
        body["secret"] = endpoint.secret  # only in the answer that created it
    return body


def delivery_json(delivery: Delivery) -> dict[str, Any]:
    event = delivery.event
    return {
        "id": delivery.id, "event_id": event.event_id, "event_type": event.event_type,
        "order_id": event.order_id or None, "state": delivery.state, "attempts": delivery.attempts,
        "next_attempt_date": iso(delivery.next_attempt_at) if delivery.state == "PENDING" else None,
        "last_status_code": delivery.last_status_code, "last_error": delivery.last_error or None,
        "created_date": iso(delivery.created_date), "delivered_date": iso(delivery.delivered_date),
        "attempt_log": [
            {"date": iso(a.started_at), "duration_ms": a.duration_ms, "status_code": a.status_code,
             "error": a.error or None}
            for a in delivery.attempt_log.all()
        ],
    }


# --- response schemas (documentation: the views render their JSON themselves) -------------------------------


class EndpointOut(Schema):
    id: int
    url: str
    description: str | None
    enabled: bool
    event_types: list[str]
    secret_hint: str
    created_date: str
    last_updated_date: str
    secret_rotated_date: str | None
    secret: str = omitted("Only in the answer that created the secret (WH02, WH04 with rotate_secret)")


class EndpointList(Schema):
    webhooks: list[EndpointOut]
    total_count: int


class AttemptOut(Schema):
    date: str
    duration_ms: int
    status_code: int | None
    error: str | None


class DeliveryOut(Schema):
    id: int
    event_id: str
    event_type: str
    order_id: str | None
    state: str
    attempts: int
    next_attempt_date: str | None
    last_status_code: int | None
    last_error: str | None
    created_date: str
    delivered_date: str | None
    attempt_log: list[AttemptOut]


class DeliveryList(Schema):
    deliveries: list[DeliveryOut]
    total_count: int


class Redelivery(Schema):
    id: int
    event_id: str
    state: str
    next_attempt_date: str | None


# Documented only (the service checks the address and says what is wrong).
URL_PATTERN = r"^https://[a-z0-9-]+(\.[a-z0-9-]+)+(/\S*)?$"


class EndpointIn(Schema):
    model_config = ConfigDict(extra="forbid")
    url: str = Field(json_schema_extra={"pattern": URL_PATTERN})
    enabled: StrictBool = True
    event_types: list[str] | None = None
    description: str = Field(default="", max_length=200)


class EndpointUpdate(Schema):
    model_config = ConfigDict(extra="forbid")
    url: str | None = Field(default=None, json_schema_extra={"pattern": URL_PATTERN})
    enabled: StrictBool | None = None
    event_types: list[str] | None = None
    description: str | None = Field(default=None, max_length=200)
    rotate_secret: StrictBool = False


@router.get("/webhooks", response=EndpointList, summary="List the shop's webhook endpoints", operation_id="WH01",
            description=_ABOUT)
def list_endpoints(request: HttpRequest) -> HttpResponse:
    found = queries.endpoints(_shop_id(request))
    return json_response({"webhooks": [endpoint_json(e) for e in found], "total_count": len(found)})


@router.post("/webhooks", response={201: EndpointOut}, summary="Register a webhook endpoint", operation_id="WH02",
             description=_ABOUT + " The answer holds the endpoint's `secret`, shown this once.")
def create_endpoint(request: HttpRequest, body: EndpointIn) -> HttpResponse:
    endpoint = services.create_endpoint(shop_id=_shop_id(request), url=body.url, event_types=body.event_types,
                                        enabled=body.enabled, description=body.description)
    return _no_store(json_response(endpoint_json(endpoint, secret=True), 201))


@router.get("/webhooks/{endpoint_id}", response=EndpointOut, summary="One webhook endpoint", operation_id="WH03")
def get_endpoint(request: HttpRequest, endpoint_id: Identifier) -> HttpResponse:
    return json_response(endpoint_json(queries.endpoint(shop_id=_shop_id(request), endpoint_id=endpoint_id)))


@router.put("/webhooks/{endpoint_id}", response=EndpointOut, summary="Update a webhook endpoint or rotate its secret",
            operation_id="WH04",
            description="Only the fields given change. `rotate_secret: true` replaces the secret at once (the old one "
            "stops signing) and the answer holds the new `secret`, shown this once.")
def update_endpoint(request: HttpRequest, endpoint_id: Identifier, body: EndpointUpdate) -> HttpResponse:
    shop_id = _shop_id(request)
    endpoint = services.update_endpoint(shop_id=shop_id, endpoint_id=endpoint_id, url=body.url,
                                        event_types=body.event_types, enabled=body.enabled,
                                        description=body.description)
    if body.rotate_secret:
        endpoint = services.rotate_secret(shop_id=shop_id, endpoint_id=endpoint_id)
    answer = json_response(endpoint_json(endpoint, secret=body.rotate_secret))
    return _no_store(answer) if body.rotate_secret else answer


@router.delete("/webhooks/{endpoint_id}", response={204: None}, summary="Delete a webhook endpoint",
               operation_id="WH05", description="Its pending deliveries and its delivery log go with it.")
def delete_endpoint(request: HttpRequest, endpoint_id: Identifier) -> HttpResponse:
    services.delete_endpoint(shop_id=_shop_id(request), endpoint_id=endpoint_id)
    return HttpResponse(status=204)


@router.get("/webhooks/{endpoint_id}/deliveries", response=DeliveryList, summary="An endpoint's delivery log",
            openapi_extra=parameters(offset=integer(), max=integer(1, MAX_PAGE)),
            operation_id="WH06", description="Latest first, with every attempt (`offset`, `max`: 20 by default, "
            f"at most {MAX_PAGE}).")
def list_deliveries(request: HttpRequest, endpoint_id: Identifier) -> HttpResponse:
    endpoint = queries.endpoint(shop_id=_shop_id(request), endpoint_id=endpoint_id)
    offset = parse_int(request.GET.get("offset"), "offset", default=0, minimum=0)
    limit = parse_int(request.GET.get("max"), "max", default=20, minimum=1, maximum=MAX_PAGE)
    found, total = queries.deliveries(endpoint_id=endpoint.id, offset=offset, limit=limit)
    return json_response({"deliveries": [delivery_json(d) for d in found], "total_count": total})


@router.post("/webhooks/{endpoint_id}/deliveries/{delivery_id}/redeliver", response={202: Redelivery},
             summary="Send an event again", operation_id="WH07",
             description="Queues a new round of attempts of the same event (same `X-Comptoir-Event-Id`, same body).")
def redeliver(request: HttpRequest, endpoint_id: Identifier, delivery_id: Identifier) -> HttpResponse:
    delivery = services.redeliver(shop_id=_shop_id(request), delivery_id=delivery_id, endpoint_id=endpoint_id)
    return json_response({"id": delivery.id, "event_id": delivery.event.event_id, "state": delivery.state,
                          "next_attempt_date": iso(delivery.next_attempt_at)}, 202)
