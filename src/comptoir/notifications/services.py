"""Write events to the outbox, in the caller's transaction; delivery happens afterwards."""

from __future__ import annotations

from comptoir.core import clock
from comptoir.notifications.models import OutboxEvent
from comptoir.orders.events import AUDIENCES, OrderEvent


def record_events(events: list[OrderEvent]) -> None:
    now = clock.now()
    rows = [
        OutboxEvent(
            event_type=event.name,
            order_id=event.order_id,
            shop_id=event.shop_id,
            audience=audience,
            payload={"order_id": event.order_id, "shop_id": event.shop_id, **event.data},
            next_attempt_at=now,
            created_date=now,
        )
        for event in events
        for audience in AUDIENCES.get(event.name, ())
    ]
    if rows:
        OutboxEvent.objects.bulk_create(rows)
