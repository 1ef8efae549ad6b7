"""Reads of the outbox for the operator (API and back office)."""

from __future__ import annotations

from comptoir.notifications.models import OutboxEvent


def outbox_events(*, state: str | None = None, order_id: str = "", limit: int = 50) -> list[OutboxEvent]:
    query = OutboxEvent.objects.all()
    if state:
        query = query.filter(state=state)
    if order_id:
        query = query.filter(order_id=order_id)
    return list(query.order_by("-created_date", "-id")[:limit])
