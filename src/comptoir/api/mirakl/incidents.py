"""Mirakl seller API for incidents: OR64, the seller signals an order line's incident resolved (the operator then
confirms it, closing the incident, or reopens it). Opening and closing are the customer's and the operator's
acts (OR62/OR63), not in the seller API: see the operator API."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema
from pydantic import ConfigDict, Field

from comptoir.core.errors import NotFound
from comptoir.incidents import services
from comptoir.orders.errors import OrderLineNotFound
from comptoir.orders.services import Who
from comptoir.orders.states import Actor

router = Router(tags=["Incidents"])


@contextmanager
def line_in_path() -> Iterator[None]:
    """A line named in the URL that the order does not have is a 404, like an unknown order (the services
    raise a 400 ORDER_LINE_NOT_FOUND, right for a line named in a body)."""
    try:
        yield
    except OrderLineNotFound as exc:
        raise NotFound(exc.message, code=exc.code, field=exc.field) from None


class ResolveIn(Schema):
    model_config = ConfigDict(extra="ignore")
    reason_code: str = Field(max_length=50, description="An INCIDENT_CLOSE reason the shop may give (RE02)")


@router.put("/orders/{order_id}/lines/{order_line_id}/resolve_incident", response={204: None},
            summary="OR64 - Mark an incident resolved", operation_id="OR64",
            description="The shop signals the open incident of the line resolved, with an INCIDENT_CLOSE reason "
            "(RE02 INCIDENT_CLOSE, `is_shop_right`). The line stays INCIDENT_OPEN until the operator confirms "
            "(the incident is then closed: INCIDENT_CLOSED) or reopens it. 404 for an unknown order or line (or "
            "another shop's order); 400 INCIDENT_REASON_INVALID for a missing or unknown reason; 400 "
            "INCIDENT_INVALID_STATE when the line has no open incident (none, already signaled resolved, "
            "closed).")
def resolve_incident(request: HttpRequest, order_id: str, order_line_id: str, body: ResolveIn) -> HttpResponse:
    shop_id = request.shop.id  # type: ignore[attr-defined]
    with line_in_path():
        services.resolve(order_id=order_id, line_id=order_line_id, reason_code=body.reason_code,
                         who=Who(Actor.SELLER, f"API boutique {shop_id}"), shop_id=shop_id)
    return HttpResponse(status=204)
