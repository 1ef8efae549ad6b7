"""Reads of the outbox for the operator (API and back office)."""

from __future__ import annotations

from django.db.models import Count

from comptoir.notifications.models import OutboxEvent, OutboxState


def outbox_events(*, state: str | None = None, order_id: str = "", limit: int = 50) -> list[OutboxEvent]:
    query = OutboxEvent.objects.all()
    if state:
        query = query.filter(state=state)
    if order_id:
        query = query.filter(order_id=order_id)
    return list(query.order_by("-created_date", "-id")[:limit])


def outbox_event(event_id: int) -> OutboxEvent | None:
    return OutboxEvent.objects.filter(id=event_id).first()


def outbox_counts() -> dict[str, int]:
    """Events per state (PENDING, SENT, DEAD), zeros included: the operator's menu shows the dead letters."""
    counts = dict.fromkeys(OutboxState.values, 0)
    for state, total in OutboxEvent.objects.values("state").annotate(total=Count("id")).values_list("state", "total"):
        counts[state] = total
    return counts


def dead_letters_count() -> int:
    return OutboxEvent.objects.filter(state=OutboxState.DEAD).count()
