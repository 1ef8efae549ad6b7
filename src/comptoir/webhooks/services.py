"""Webhook use cases: a shop's endpoints (create, update, rotate the secret, delete), the capture of events in the
transaction of the change (the outbox), and « Renvoyer ». Delivery is the worker's (timers.py, dispatch.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Protocol

from django.conf import settings
from django.db import transaction

from comptoir.core import clock
from comptoir.core.errors import ValidationError
from comptoir.orders.events import OrderEvent
from comptoir.webhooks import queries, rules
from comptoir.webhooks.errors import EndpointNotFound, TooManyEndpoints
from comptoir.webhooks.models import Delivery, DeliveryState, Endpoint, WebhookEvent

MAX_DESCRIPTION = 200


# --- capture (hot path: every lifecycle transition and every recorded event passes here) ---

def new_event_id() -> str:
    return f"evt_{uuid.uuid4().hex}"


def record_events(events: Sequence[OrderEvent]) -> None:
    """Capture the order events a shop's endpoints want, in the caller's transaction (notifications.record_events
    calls this). A shop without an enabled endpoint costs no query: the map of subscriptions is in memory."""
    subscribed = queries.subscriptions()
    if not subscribed:
        return
    rows = [
        WebhookEvent(event_id=new_event_id(), shop_id=event.shop_id, event_type=event.name, order_id=event.order_id,
                     data=rules.event_data(event.order_id, event.shop_id, event.occurred_at, event.data),
                     occurred_at=event.occurred_at, created_date=event.occurred_at)
        for event in events if event.name in subscribed.get(event.shop_id, ())
    ]
    if rows:
        WebhookEvent.objects.bulk_create(rows)


class MovedOrder(Protocol):
    order_id: str
    shop_id: int
    state: str
    state_reason_code: str


class MovedLine(Protocol):
    line_id: str
    state: str


# (the order after the move, its state before, the trigger, the actor, all its lines after the move)
StateChange = tuple[MovedOrder, str, str, str, Sequence[MovedLine]]


def record_state_changes(changes: Iterable[StateChange], occurred_at: datetime) -> None:
    """Capture `OrderStateChanged` for every order whose state moved (orders.services.lifecycle calls this with the
    transitions of a batch, after writing them): one INSERT for the batch, none for shops without endpoints."""
    subscribed = queries.subscriptions()
    if not subscribed:
        return
    rows = []
    for order, from_state, trigger, actor, lines in changes:
        if rules.STATE_CHANGED not in subscribed.get(order.shop_id, ()):
            continue
        data = rules.state_change_data(
            order_id=order.order_id, shop_id=order.shop_id, from_state=str(from_state), to_state=str(order.state),
            trigger=str(trigger), actor=str(actor), occurred_at=occurred_at,
            lines=[(line.line_id, str(line.state)) for line in lines], reason_code=order.state_reason_code)
        rows.append(WebhookEvent(event_id=new_event_id(), shop_id=order.shop_id, event_type=rules.STATE_CHANGED,
                                 order_id=order.order_id, data=data, occurred_at=occurred_at,
                                 created_date=occurred_at))
    if rows:
        WebhookEvent.objects.bulk_create(rows)


# --- endpoints ---

def _subscriptions_changed() -> None:
    """This process sees the change at once; after the commit too (a reader may have cached the old map in
    between). Other processes see it within WEBHOOK_SUBSCRIPTIONS_CACHE_SECONDS."""
    queries.reset_subscriptions()
    transaction.on_commit(queries.reset_subscriptions)


def _description(value: str | None) -> str:
    text = (value or "").strip()
    if len(text) > MAX_DESCRIPTION:
        raise ValidationError(f"La description dépasse {MAX_DESCRIPTION} caractères.", field="description")
    return text


def _url(value: str) -> str:
    return rules.check_url(value, allow_local_http=settings.COMPTOIR["WEBHOOK_ALLOW_LOCAL_HTTP"])


def create_endpoint(*, shop_id: int, url: str, event_types: Iterable[str] | None = None, enabled: bool = True,
                    description: str = "") -> Endpoint:
    """A new endpoint with a fresh secret (`endpoint.secret`: the surfaces show it this once)."""
    checked_url, types, text = _url(url), rules.check_event_types(event_types), _description(description)
    now = clock.now()
    with transaction.atomic():
        if Endpoint.objects.filter(shop_id=shop_id).count() >= settings.COMPTOIR["WEBHOOK_MAX_ENDPOINTS"]:
            raise TooManyEndpoints(f"Une boutique peut enregistrer au plus "
                                   f"{settings.COMPTOIR['WEBHOOK_MAX_ENDPOINTS']} points de terminaison webhook.")
        endpoint = Endpoint.objects.create(shop_id=shop_id, url=checked_url, event_types=types, enabled=enabled,
                                           description=text, secret=rules.new_secret(), created_date=now,
                                           updated_date=now)
        _subscriptions_changed()
    return endpoint


def _locked(shop_id: int, endpoint_id: int) -> Endpoint:
    """The shop's endpoint, locked; another shop's is not found, like an unknown one."""
    found = Endpoint.objects.select_for_update().filter(shop_id=shop_id, id=endpoint_id).first()
    if found is None:
        raise EndpointNotFound(f"Point de terminaison webhook {endpoint_id} introuvable.")
    return found


def update_endpoint(*, shop_id: int, endpoint_id: int, url: str | None = None,
                    event_types: Iterable[str] | None = None, enabled: bool | None = None,
                    description: str | None = None) -> Endpoint:
    """Change what is given (None: unchanged; `event_types=[]`: every type). Everything is checked first."""
    checked_url = None if url is None else _url(url)
    types = None if event_types is None else rules.check_event_types(event_types)
    text = None if description is None else _description(description)
    with transaction.atomic():
        endpoint = _locked(shop_id, endpoint_id)
        if checked_url is not None:
            endpoint.url = checked_url
        if types is not None:
            endpoint.event_types = types
        if enabled is not None:
            endpoint.enabled = enabled
        if text is not None:
            endpoint.description = text
        endpoint.updated_date = clock.now()
        endpoint.save()
        _subscriptions_changed()
    return endpoint


def rotate_secret(*, shop_id: int, endpoint_id: int) -> Endpoint:
    """A new secret, used from the next attempt on (the old one stops at once); shown once by the surfaces."""
    with transaction.atomic():
        endpoint = _locked(shop_id, endpoint_id)
        endpoint.secret = rules.new_secret()
        endpoint.secret_rotated_date = endpoint.updated_date = clock.now()
        endpoint.save(update_fields=["secret", "secret_rotated_date", "updated_date"])
    return endpoint


def delete_endpoint(*, shop_id: int, endpoint_id: int) -> None:
    """The endpoint and its delivery log go; pending deliveries to it are dropped."""
    with transaction.atomic():
        _locked(shop_id, endpoint_id).delete()
        _subscriptions_changed()


def redeliver(*, shop_id: int, delivery_id: int, endpoint_id: int | None = None) -> Delivery:
    """« Renvoyer »: one more round of attempts of the same event (same event id, same body), due now, with a fresh
    retry budget. A delivery being sent right now is sent first; its outcome then gives way to this request."""
    queries.delivery(shop_id=shop_id, delivery_id=delivery_id, endpoint_id=endpoint_id)  # or DeliveryNotFound
    now = clock.now()
    Delivery.objects.filter(id=delivery_id).update(
        state=DeliveryState.PENDING, attempts=0, next_attempt_at=now, claimed_by="", claimed_until=None,
        delivered_date=None)
    return Delivery.objects.select_related("event").get(id=delivery_id)
