"""Reads of the outbox for the operator (API and back office)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Min

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


def outbox_health() -> dict[str, Any]:
    """For the metrics scrape: pending events (how many, oldest written, earliest due) and dead letters. Both
    queries run on partial indexes (pending, dead), whatever the size of the sent history."""
    pending = OutboxEvent.objects.filter(state=OutboxState.PENDING).aggregate(
        count=Count("id"), oldest_created=Min("created_date"), earliest_due=Min("next_attempt_at"))
    return {**pending, "dead": dead_letters_count()}
