"""Deadlines as rows (one due timer per order and kind) and the sandbox clock's stored offset."""

from __future__ import annotations

from django.db import models

from comptoir.orders.models import Order
from comptoir.orders.states import FlagTimerKind, TimerKind


class TimerState(models.TextChoices):
    PENDING = "PENDING"
    DONE = "DONE"
    CANCELED = "CANCELED"


class Timer(models.Model):
    kind = models.CharField(max_length=32, choices=[(k.value, k.value) for k in (*TimerKind, *FlagTimerKind)])
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="timers")
    due_at = models.DateTimeField()
    state = models.CharField(max_length=16, choices=TimerState.choices, default=TimerState.PENDING)
    # A claim is a lease: a worker that dies lets it lapse and another worker takes the row.
    claimed_by = models.CharField(max_length=64, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_date = models.DateTimeField()
    done_date = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["order", "kind"], condition=models.Q(state="PENDING"), name="timer_one_pending_per_kind"
            )
        ]
        indexes = [
            models.Index(fields=["due_at"], condition=models.Q(state="PENDING"), name="timer_pending_due"),
        ]


class SandboxClock(models.Model):
    """Singleton row (id=1): whether this database is a sandbox (`serve --demo` turns it on) and how far its
    clock runs ahead of real time."""

    enabled = models.BooleanField(default=False)
    offset_seconds = models.BigIntegerField(default=0)
