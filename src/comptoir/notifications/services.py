"""Write events to the outbox, in the caller's transaction; delivery happens afterwards."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Field, Model

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


# How a value reaches the database, per field: the common types go as they are (what get_db_prep_save would
# return for them: a str for a text column, an int for an integer one, a bool for a boolean one), an instant is
# prepared once per batch, anything else by its field.
_STR, _INT, _BOOL, _INSTANT, _OTHER = range(5)
_KINDS = {
    "CharField": _STR, "TextField": _STR, "SlugField": _STR, "EmailField": _STR,
    "IntegerField": _INT, "BigIntegerField": _INT, "SmallIntegerField": _INT, "PositiveIntegerField": _INT,
    "PositiveBigIntegerField": _INT, "PositiveSmallIntegerField": _INT, "AutoField": _INT, "BigAutoField": _INT,
    "BooleanField": _BOOL, "DateTimeField": _INSTANT,
}
_TYPES = {_STR: str, _INT: int, _BOOL: bool}


def value_kinds(fields: Sequence[Field]) -> tuple[int, ...]:
    """The kind of each field for `prepare_rows` (compute once per statement)."""
    kinds = []
    for f in fields:
        target = f.target_field if f.is_relation else f
        kinds.append(_KINDS.get(target.get_internal_type(), _OTHER))
    return tuple(kinds)


def prepare_rows(fields: Sequence[Field], kinds: Sequence[int], rows: Sequence[Sequence[Any]],
                 connection: Any) -> list[list[Any]]:
    """Each row's values as `field.get_db_prep_save` gives them, without its call chain for the common types
    (every lifecycle write comes here): strings, ints and booleans as they are, None for those and for instants,
    an instant prepared once per batch (the rows of one transition share theirs)."""
    instants: dict[datetime, Any] = {}
    out = []
    for row in rows:
        prepared = []
        for f, kind, value in zip(fields, kinds, row, strict=True):
            if kind == _INSTANT:
                if value is None:
                    prepared.append(None)
                elif type(value) is datetime:
                    if value not in instants:
                        instants[value] = f.get_db_prep_save(value, connection)
                    prepared.append(instants[value])
                else:
                    prepared.append(f.get_db_prep_save(value, connection))
            elif kind != _OTHER and (value is None or isinstance(value, _TYPES[kind])
                                     and (kind != _INT or type(value) is int)):
                prepared.append(value)
            else:
                prepared.append(f.get_db_prep_save(value, connection))
        out.append(prepared)
    return out


@dataclass(frozen=True, slots=True)
class _Insert:
    sql: str
    fields: list[Field]
    kinds: tuple[int, ...]
    defaults: dict[str, Any]  # field name → default value, for defaults that are not callables (prepared as given)
    factories: dict[str, Field]  # field name → field, for callable defaults (a fresh dict per row)
    multi: dict[int, str]  # rows → INSERT of that many rows in one statement
    unnest: list[str]  # the PostgreSQL statement of arrays, once built

    def unnest_sql(self, connection: Any) -> str:
        """PostgreSQL: the rows as one array per column (`unnest`): a short statement whatever the rows, which
        psycopg converts once (it re-parses, in Python, every statement over 50 parameters or 4 KB)."""
        if not self.unnest:
            head, _, _ = self.sql.partition(" VALUES ")
            arrays = ", ".join(f"%s::{f.db_type(connection)}[]" for f in self.fields)
            self.unnest.append(f"{head} SELECT * FROM unnest({arrays})")
        return self.unnest[0]

    def multi_row_sql(self, rows: int) -> str:
        sql = self.multi.get(rows)
        if sql is None:
            head, _, row = self.sql.partition(" VALUES ")
            sql = f"{head} VALUES {', '.join([row] * rows)}"
            if rows <= _CACHED_ROWS:  # the larger ones (a sweep's batch) vary in size: built each time, cheaply
                self.multi[rows] = sql
        return sql


# The multi-row INSERTs of up to this many rows are kept per connection (a transition writes a handful).
_CACHED_ROWS = 32
# Parameters of one INSERT: under PostgreSQL's limit (65,535) and SQLite's (32,766 since 3.32; `_max_params`).
_MAX_PARAMS = 30_000


def _insert(model: type[Model], connection: Any) -> _Insert:
    cache = getattr(connection, "_comptoir_inserts", None)
    if cache is None:
        cache = connection._comptoir_inserts = {}
    entry = cache.get(model)
    if entry is None:
        q = connection.ops.quote_name
        fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        entry = cache[model] = _Insert(
            sql=f"INSERT INTO {q(model._meta.db_table)} ({', '.join(q(f.column) for f in fields)}) "
                f"VALUES ({', '.join(['%s'] * len(fields))})",
            fields=fields,
            kinds=value_kinds(fields),
            defaults={f.name: f.get_default() for f in fields if not (f.has_default() and callable(f.default))},
            factories={f.name: f for f in fields if f.has_default() and callable(f.default)},
            multi={},
            unnest=[],
        )
    return entry


def _max_params(connection: Any) -> int:
    limit = getattr(connection, "_comptoir_max_params", None)  # the database's own, read once per connection
    if limit is None:
        limit = 65_535
        if connection.vendor == "sqlite":
            import sqlite3

            connection.ensure_connection()
            limit = connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        connection._comptoir_max_params = limit
    return min(limit, _MAX_PARAMS)


def insert_prepared(model: type[Model], prepared: Sequence[Sequence[Any]], *, max_rows: int | None = None) -> None:
    """INSERT rows already prepared for the database, in the order of the model's concrete fields but its primary
    key: multi-row statements of at most `max_rows` rows (and of as many as the database's parameter limit
    allows); on PostgreSQL, one statement of one array per column (`unnest_sql`), whatever `max_rows`. One round
    trip and one plan per statement, where an executemany runs n."""
    if not prepared:
        return
    connection = transaction.get_connection()
    insert = _insert(model, connection)
    if connection.vendor == "postgresql":
        per = 1 << 30  # one array per column: a statement's size does not grow with its rows
    else:
        per = max(1, _max_params(connection) // len(insert.fields))
        if max_rows is not None:
            per = min(per, max_rows)
    with connection.cursor() as cursor:
        for start in range(0, len(prepared), per):
            chunk = prepared[start:start + per]
            if connection.vendor == "postgresql" and len(chunk) > 1:
                cursor.execute(insert.unnest_sql(connection), [list(column) for column in zip(*chunk, strict=True)])
            else:
                cursor.execute(insert.multi_row_sql(len(chunk)), [v for row in chunk for v in row])


def insert_rows(model: type[Model], rows: list[dict[str, Any]], *, returning: bool = False) -> list[int]:
    """INSERT rows given by field name (the others take their default), without the ORM's per-call compilation:
    for rows written on every transition (outbox, history, timers). With `returning`, the new primary keys, in
    the order of `rows` (INSERT … RETURNING, at most _CACHED_ROWS rows per statement, as bulk_create relies
    on too); else nothing is read back (an empty list). A sweep's batch is one statement (`insert_prepared`)."""
    if not rows:
        return []
    connection = transaction.get_connection()
    insert = _insert(model, connection)
    defaults, factories = insert.defaults, insert.factories
    missing = object()
    values = []
    for row in rows:
        full = []
        for f in insert.fields:
            value = row.get(f.name, missing)
            if value is missing:
                value = defaults[f.name] if f.name in defaults else factories[f.name].get_default()
            full.append(value)
        values.append(full)
    prepared = prepare_rows(insert.fields, insert.kinds, values, connection)
    if returning:
        with connection.cursor() as cursor:
            return _insert_returning(cursor, insert, model, prepared, connection)
    insert_prepared(model, prepared)
    return []


def _insert_returning(cursor: Any, insert: _Insert, model: type[Model], prepared: list[list[Any]],
                      connection: Any) -> list[int]:
    if not connection.features.can_return_rows_from_bulk_insert:  # SQLite before 3.35: one row at a time
        ids = []
        for row in prepared:
            cursor.execute(insert.sql, row)
            ids.append(cursor.lastrowid)
        return ids
    q = connection.ops.quote_name
    pk = f" RETURNING {q(model._meta.db_table)}.{q(model._meta.pk.column)}"
    ids = []
    for start in range(0, len(prepared), _CACHED_ROWS):
        chunk = prepared[start:start + _CACHED_ROWS]
        cursor.execute(insert.multi_row_sql(len(chunk)) + pk, [v for row in chunk for v in row])
        ids.extend(row[0] for row in cursor.fetchall())
    return ids


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
