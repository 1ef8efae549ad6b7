"""Reads of the timer table for operations (the metrics scrape)."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count

from comptoir.timers.models import Timer, TimerState


def overdue_counts(*, due_before: datetime) -> dict[str, int]:
    """PENDING timers due before an instant, per kind (on the partial index of pending due dates)."""
    rows = (Timer.objects.filter(state=TimerState.PENDING, due_at__lt=due_before)
            .values("kind").annotate(total=Count("id")).values_list("kind", "total"))
    return dict(rows)
