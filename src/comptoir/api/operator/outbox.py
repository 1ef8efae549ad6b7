"""Operator API: the notification outbox — pending, sent and dead-lettered events, and replay."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema

from comptoir.api.openapi import integer, one_of, parameters
from comptoir.api.render import Identifier, iso, json_response, parse_int
from comptoir.core.errors import NotFound, ValidationError
from comptoir.notifications import queries, services
from comptoir.notifications.models import OutboxState

router = Router(tags=["Operator"])


class OutboxEventOut(Schema):
    id: int
    event_type: str
    audience: str
    order_id: str | None
    shop_id: int | None
    state: str
    attempts: int
    last_error: str | None
    created_date: str
    sent_date: str | None
    next_attempt_date: str | None
    recipients: str | None
    subject: str | None


class OutboxEvents(Schema):
    events: list[OutboxEventOut]


@router.get("/outbox", response=OutboxEvents, summary="Outbox events (state=PENDING|SENT|DEAD)",
            openapi_extra=parameters(state=one_of(*OutboxState.values), order_id={"type": "string"},
                                     max=integer(1, 100)))
def list_outbox(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state") or None
    if state is not None and state not in OutboxState.values:
        raise ValidationError("Paramètre state : PENDING, SENT ou DEAD.", field="state")
    limit = parse_int(request.GET.get("max"), "max", default=50, minimum=1, maximum=100)
    events = queries.outbox_events(state=state, order_id=request.GET.get("order_id") or "", limit=limit)
    return json_response({"events": [
        {"id": e.id, "event_type": e.event_type, "audience": e.audience, "order_id": e.order_id or None,
         "shop_id": e.shop_id, "state": e.state, "attempts": e.attempts, "last_error": e.last_error or None,
         "created_date": iso(e.created_date), "sent_date": iso(e.sent_date),
         "next_attempt_date": iso(e.next_attempt_at), "recipients": e.recipients or None,
         "subject": e.subject or None}
        for e in events
    ]})


@router.post("/outbox/{event_id}/replay", response={204: None}, summary="Deliver a dead or sent event again")
def replay(request: HttpRequest, event_id: Identifier) -> HttpResponse:
    if not services.replay(event_id=event_id):
        raise NotFound("Événement introuvable ou déjà en attente d'envoi.", code="OUTBOX_EVENT_NOT_FOUND")
    return HttpResponse(status=204)
