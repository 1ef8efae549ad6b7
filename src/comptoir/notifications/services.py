"""Write events to the outbox, in the caller's transaction; delivery happens afterwards."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Model

from comptoir.core import clock
from comptoir.notifications.models import OutboxEvent, OutboxState
from comptoir.observability.context import current_request_id
from comptoir.orders.events import AUDIENCES, OrderEvent
from comptoir.webhooks import services as webhook_services


def record_events(events: list[OrderEvent]) -> None:
    """One INSERT of every (event, audience) row. Plain SQL: every lifecycle transition writes here (OR21, sweeps),
    and the ORM's compilation of the INSERT cost more than running it. The events a shop's webhooks want are
    captured in the same transaction (no query for a shop without webhooks)."""
    webhook_services.record_events(events)
    pairs = [(event, audience) for event in events for audience in AUDIENCES.get(event.name, ())]
    if not pairs:
        return
    now = clock.now()
    request_id = current_request_id() or ""
    insert_rows(OutboxEvent, [
        {"event_type": event.name, "order_id": event.order_id, "shop_id": event.shop_id, "audience": audience,
         "payload": {"order_id": event.order_id, "shop_id": event.shop_id, **event.data},
         "next_attempt_at": now, "created_date": now, "request_id": request_id}
        for event, audience in pairs
    ])


def insert_rows(model: type[Model], rows: list[dict[str, Any]]) -> None:
    """INSERT rows given by field name (the others take their default), without the ORM's per-call compilation
    and without reading back ids: for rows written on every transition (outbox, history, timers)."""
    if not rows:
        return
    connection = transaction.get_connection()
    q = connection.ops.quote_name
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    missing = object()
    instants: dict[tuple[str, datetime], Any] = {}  # rows of a batch share their instants: prepared once
    values = []
    for row in rows:
        prepared = []
        for f in fields:
            value = row.get(f.name, missing)
            if value is missing:
                value = f.get_default()
            if type(value) is datetime:
                key = (f.name, value)
                if key not in instants:
                    instants[key] = f.get_db_prep_save(value, connection)
                prepared.append(instants[key])
            else:
                prepared.append(f.get_db_prep_save(value, connection))
        values.append(prepared)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {q(model._meta.db_table)} ({', '.join(q(f.column) for f in fields)}) "
            f"VALUES ({', '.join(['%s'] * len(fields))})",
            values,
        )


def sweep_outbox(worker_id: str) -> int:
    """One batch of deliveries (the worker's outbox sweep)."""
    from comptoir.notifications.dispatch import sweep_outbox as sweep

    return sweep(worker_id)


def replay(*, event_id: int) -> bool:
    """Put a dead (or sent) event back in the queue; returns False when there is no such event."""
    return bool(OutboxEvent.objects.filter(id=event_id).exclude(state=OutboxState.PENDING).update(
        state=OutboxState.PENDING, attempts=0, next_attempt_at=clock.now(), claimed_by="", claimed_until=None,
        last_error="",
    ))
