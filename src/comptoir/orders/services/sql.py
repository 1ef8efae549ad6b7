"""The SQL of the lifecycle's hot paths, compiled once per connection, and the SQLite writer mutex.

Building the SQL of a query on a ~55-column model costs the ORM more than the database spends running it (OR21
spent most of its time there): the statements here are compiled once, by the ORM for the SELECTs, from the
models' fields for the UPDATEs, and then only executed (INSERTs: notifications.services.insert_rows).
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import transaction
from django.db.models import Model, QuerySet

from comptoir.notifications.services import prepare_rows, value_kinds

M = TypeVar("M", bound=Model)

# SQLite has one writer at a time. Writers queue on a mutex instead of polling the database lock through
# SQLite's busy handler, whose sleeps (1 ms growing to 100 ms) left the server idle under load: the threads of
# one process on a thread lock, then the processes (gunicorn's workers, the worker) on an exclusive `flock` of a
# file beside the database, which the kernel hands to the next waiter as soon as it is released.
_sqlite_writer = threading.Lock()
_lock_files: dict[tuple[int, str], int] = {}  # (pid, database path) → descriptor, opened after any fork


def _lock_file(connection: Any) -> int | None:
    name = str(connection.settings_dict["NAME"])
    if not name or name == ":memory:" or name.startswith("file:"):
        return None
    key = (os.getpid(), name)
    fd = _lock_files.get(key)
    if fd is None:
        try:
            fd = os.open(f"{name}-writer.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError:
            return None  # a read-only directory: the busy handler still serializes the writers
        fd = _lock_files.setdefault(key, fd)
    return fd


@contextmanager
def _sqlite_writer_lock(connection: Any) -> Iterator[None]:
    with _sqlite_writer:
        fd = _lock_file(connection)
        if fd is None:
            yield
            return
        fcntl.flock(fd, fcntl.LOCK_EX)  # waits in the kernel, without the GIL
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)


@contextmanager
def writing() -> Iterator[None]:
    """`transaction.atomic()` for a lifecycle change; on SQLite, the outermost one first takes the writer lock."""
    connection = transaction.get_connection()
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        with transaction.atomic():
            yield
        return
    with _sqlite_writer_lock(connection), transaction.atomic():
        yield


@dataclass(frozen=True, slots=True)
class _Select:
    sql: str
    attnames: list[str]
    converters: dict[int, Any]
    compiler: Any


def _cache(connection: Any) -> dict[Hashable, Any]:
    cache = getattr(connection, "_comptoir_sql", None)
    if cache is None:
        cache = connection._comptoir_sql = {}
    return cache


def _compiled(connection: Any, key: Hashable, build: Callable[[], QuerySet[Any]], params: Sequence[Any],
              *, instances: bool) -> _Select:
    """The statement of `build()` compiled once per connection; `params` must be the query's own parameters (the
    same values in the same order as the first call's: checked when compiling)."""
    cache = _cache(connection)
    select = cache.get(key)
    if select is None:
        compiler = build().query.get_compiler(connection=connection)
        sql, sample = compiler.as_sql()
        if list(sample) != list(params):
            raise AssertionError(f"{key}: the query's parameters {sample!r} are not {list(params)!r}")
        attnames = []
        if instances:
            fields = compiler.klass_info["select_fields"]
            attnames = [col.target.attname for col, _, _ in compiler.select[fields[0] : fields[-1] + 1]]
        converters = compiler.get_converters([s[0] for s in compiler.select[: compiler.col_count]])
        select = cache[key] = _Select(sql, attnames, converters, compiler)
    return select


def _run(connection: Any, select: _Select, params: Sequence[Any]) -> Any:
    with connection.cursor() as cursor:
        cursor.execute(select.sql, params)
        rows: Any = cursor.fetchall()
    if select.converters:
        rows = select.compiler.apply_converters(rows, select.converters)
    return rows


def fetch(model: type[M], key: Hashable, build: Callable[[], QuerySet[M]], params: Sequence[Any]) -> list[M]:
    """The instances `build()` selects, with `params` in place of its parameters (`_compiled`)."""
    connection = transaction.get_connection()
    select = _compiled(connection, key, build, params, instances=True)
    return [model.from_db(connection.alias, select.attnames, row) for row in _run(connection, select, params)]


def fetch_rows(key: Hashable, build: Callable[[], QuerySet[Any]], params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """`fetch` for a `values_list()` query (aggregates included): its rows as tuples, converted as the ORM would."""
    connection = transaction.get_connection()
    select = _compiled(connection, key, build, params, instances=False)
    return [tuple(row) for row in _run(connection, select, params)]


def write(key: Hashable, build: Callable[[Any], tuple[str, list[Any]]], rows: Sequence[Sequence[Any]]) -> int:
    """Run the statement `build(connection)` returns (SQL, the field of each parameter) once per row, as one
    executemany; each value is prepared for the database as its field would (notifications.services.prepare_rows).
    Returns the rows changed."""
    connection = transaction.get_connection()
    cache = _cache(connection)
    entry = cache.get(key)
    if entry is None:
        sql, fields = build(connection)
        entry = cache[key] = (sql, fields, value_kinds(fields))
    sql, fields, kinds = entry
    prepared = prepare_rows(fields, kinds, rows, connection)
    with connection.cursor() as cursor:
        if len(prepared) == 1:  # a plain execute: PostgreSQL's executemany goes through a pipeline
            cursor.execute(sql, prepared[0])
        else:
            cursor.executemany(sql, prepared)
        return cursor.rowcount


def statement(key: Hashable, build: Callable[[Any], str]) -> str:
    """The SQL `build(connection)` makes, built once per connection (plain SQL the ORM cannot compile)."""
    connection = transaction.get_connection()
    cache = _cache(connection)
    sql = cache.get(key)
    if sql is None:
        sql = cache[key] = build(connection)
    return sql


def _fields(model: type[Model], names: Sequence[str]) -> list[Any]:
    return [model._meta.get_field(name) for name in names]


def update_sql(model: type[Model], names: Sequence[str], where: Sequence[str]) -> Callable[[Any], tuple]:
    def build(connection: Any) -> tuple[str, list[Any]]:
        q = connection.ops.quote_name
        sets = ", ".join(f"{q(f.column)} = %s" for f in _fields(model, names))
        cond = " AND ".join(f"{q(f.column)} = %s" for f in _fields(model, where))
        return f"UPDATE {q(model._meta.db_table)} SET {sets} WHERE {cond}", _fields(model, [*names, *where])

    return build


def update_in_sql(model: type[Model], names: Sequence[str], rows: int,
                  where: Sequence[str] = ()) -> Callable[[Any], tuple]:
    """UPDATE `names` of `rows` rows given by primary key, to the same values (one statement, not one per row);
    `where`: fields the rows must also equal (their values after the keys), e.g. the version read under lock."""

    def build(connection: Any) -> tuple[str, list[Any]]:
        q = connection.ops.quote_name
        pk = model._meta.pk
        sets = ", ".join(f"{q(f.column)} = %s" for f in _fields(model, names))
        cond = "".join(f" AND {q(f.column)} = %s" for f in _fields(model, where))
        return (f"UPDATE {q(model._meta.db_table)} SET {sets} "
                f"WHERE {q(pk.column)} IN ({', '.join(['%s'] * rows)}){cond}",
                [*_fields(model, names), *[pk] * rows, *_fields(model, where)])

    return build


# Keys per UPDATE … IN: a sweep's batch of 200 orders is two statements, and the statements cached per
# connection (one per count of keys) stay few.
IN_MAX = 100


def remember(instances: Sequence[Model], names: Sequence[str]) -> None:
    """Keep the values of `names` as loaded (Django's `_loaded_values` idiom), so that `changed` can tell which
    columns a batch moved."""
    for instance in instances:
        instance._loaded_values = tuple(getattr(instance, name) for name in names)  # type: ignore[attr-defined]


def changed(instance: Model, names: Sequence[str]) -> tuple[str, ...] | None:
    """The names among `names` whose value differs from the one `remember` kept (None: nothing kept)."""
    loaded = getattr(instance, "_loaded_values", None)
    if loaded is None:
        return None
    return tuple(name for name, old in zip(names, loaded, strict=True) if getattr(instance, name) != old)


def update_alike(model: type[Model], rows: Sequence[tuple[tuple[str, ...], tuple[Any, ...], tuple[Any, ...], int]],
                 where: Sequence[str] = ()) -> int:
    """Set-based UPDATE of many rows: each row is (column names, their new values, the values of `where` it must
    hold, primary key); rows with the same names and values share `UPDATE … SET … WHERE pk IN (…) AND where`
    (at most IN_MAX keys a statement). Returns the rows changed."""
    alike: dict[tuple[tuple[str, ...], tuple[Any, ...], tuple[Any, ...]], list[int]] = {}
    for names, values, held, pk in rows:
        alike.setdefault((names, values, held), []).append(pk)
    total = 0
    for (names, values, held), pks in alike.items():
        for start in range(0, len(pks), IN_MAX):
            chunk = pks[start:start + IN_MAX]
            total += write(("update_alike", model, names, tuple(where), len(chunk)),
                           update_in_sql(model, names, len(chunk), where), [[*values, *chunk, *held]])
    return total
