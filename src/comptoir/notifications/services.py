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


def sweep_outbox(worker_id: str) -> int:
    """One batch of deliveries (the worker's outbox sweep)."""
    from comptoir.notifications.dispatch import sweep_outbox as sweep

    return sweep(worker_id)


def replay(*, event_id: int) -> bool:
    """Put a dead (or sent) event back in the queue; returns False when there is no such event."""
    from comptoir.notifications.models import OutboxState

    return bool(OutboxEvent.objects.filter(id=event_id).exclude(state=OutboxState.PENDING).update(
        state=OutboxState.PENDING, attempts=0, next_attempt_at=clock.now(), claimed_by="", claimed_until=None,
        last_error="",
    ))
