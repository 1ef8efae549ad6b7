"""Set and cancel an order's timers; always called inside the transaction that changes the order."""

from __future__ import annotations

from datetime import datetime

from comptoir.core import clock
from comptoir.orders.states import TimerKind
from comptoir.timers.models import Timer, TimerState


def schedule(*, order_pk: int, kind: TimerKind, due_at: datetime) -> None:
    """One pending timer per order and kind: a new schedule replaces the pending one."""
    now = clock.now()
    Timer.objects.filter(order_id=order_pk, kind=kind, state=TimerState.PENDING).update(
        state=TimerState.CANCELED, done_date=now
    )
    Timer.objects.create(order_id=order_pk, kind=kind, due_at=due_at, created_date=now)


def replace(*, order_pk: int, cancel: list[TimerKind], schedules: dict[TimerKind, datetime]) -> None:
    """`cancel` the pending timers of those kinds and `schedule` each of `schedules` (kind → due), at once:
    the pending timers of every kind concerned are canceled by one UPDATE, the new ones created by one INSERT."""
    kinds = list(dict.fromkeys([*cancel, *schedules]))
    if not kinds:
        return
    now = clock.now()
    Timer.objects.filter(order_id=order_pk, kind__in=kinds, state=TimerState.PENDING).update(
        state=TimerState.CANCELED, done_date=now
    )
    if schedules:
        Timer.objects.bulk_create(
            [Timer(order_id=order_pk, kind=kind, due_at=due, created_date=now) for kind, due in schedules.items()]
        )


def cancel(*, order_pk: int, kinds: list[TimerKind]) -> None:
    if kinds:
        Timer.objects.filter(order_id=order_pk, kind__in=kinds, state=TimerState.PENDING).update(
            state=TimerState.CANCELED, done_date=clock.now()
        )


def pending_due_at(*, order_pk: int, kind: TimerKind) -> datetime | None:
    return (
        Timer.objects.filter(order_id=order_pk, kind=kind, state=TimerState.PENDING)
        .values_list("due_at", flat=True)
        .first()
    )

