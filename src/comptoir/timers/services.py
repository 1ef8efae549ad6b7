"""Set and cancel an order's timers; always called inside the transaction that changes the order."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import transaction

from comptoir.core import clock
from comptoir.notifications import services as notification_services
from comptoir.orders.states import TimerKind
from comptoir.timers.models import Timer, TimerState


def schedule(*, order_pk: int, kind: TimerKind, due_at: datetime) -> None:
    """One pending timer per order and kind: a new schedule replaces the pending one."""
    replace(order_pk=order_pk, cancel=[], schedules={kind: due_at})


def replace(*, order_pk: int, cancel: list[TimerKind], schedules: dict[TimerKind, datetime]) -> None:
    """`cancel` the pending timers of those kinds and `schedule` each of `schedules` (kind → due), at once:
    the pending timers of every kind concerned are canceled by one UPDATE, the new ones created by one INSERT."""
    replace_many([(order_pk, cancel, schedules)], now=clock.now())


_CANCEL_SQL: dict[tuple[str, int, int], str] = {}  # (vendor, orders, kinds) → the UPDATE of replace_many


def _cancel_sql(connection: Any, orders: int, kinds: int) -> str:
    key = (connection.vendor, orders, kinds)
    sql = _CANCEL_SQL.get(key)
    if sql is None:
        q = connection.ops.quote_name
        sql = (f"UPDATE {q(Timer._meta.db_table)} SET {q('state')} = %s, {q('done_date')} = %s "
               f"WHERE {q('order_id')} IN ({', '.join(['%s'] * orders)}) "
               f"AND {q('kind')} IN ({', '.join(['%s'] * kinds)}) AND {q('state')} = %s")
        if orders <= 8:  # a sweep's batch sizes vary: keep only the small shapes (one order per transition)
            _CANCEL_SQL[key] = sql
    return sql


def replace_many(entries: Sequence[tuple[int, list[TimerKind], dict[TimerKind, datetime]]], *, now: datetime) -> None:
    """`replace` for many orders (order pk, kinds to cancel, kind → due): one UPDATE per set of kinds concerned
    (a sweep's orders share one), one INSERT for every new timer; plain SQL, as every transition comes here."""
    by_kinds: dict[tuple[str, ...], list[int]] = defaultdict(list)
    new: list[tuple[str, int, datetime]] = []
    for order_pk, cancel_kinds, schedules in entries:
        kinds = tuple(dict.fromkeys([*cancel_kinds, *schedules]))
        if kinds:
            by_kinds[kinds].append(order_pk)
        new.extend((kind, order_pk, due) for kind, due in schedules.items())
    connection = transaction.get_connection()
    if by_kinds:
        done = Timer._meta.get_field("done_date").get_db_prep_save(now, connection)
        with connection.cursor() as cursor:
            for kinds, order_pks in by_kinds.items():
                cursor.execute(_cancel_sql(connection, len(order_pks), len(kinds)),
                               [TimerState.CANCELED.value, done, *order_pks, *kinds, TimerState.PENDING.value])
    notification_services.insert_rows(Timer, [
        {"kind": str(kind), "order": order_pk, "due_at": due, "created_date": now} for kind, order_pk, due in new
    ])


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
