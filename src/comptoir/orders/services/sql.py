"""The SQL of the lifecycle's hot paths, compiled once per connection, and the SQLite writer mutex.

Building the SQL of a query on a ~55-column model costs the ORM more than the database spends running it (OR21
spent most of its time there): the statements here are compiled once, by the ORM for the SELECTs, from the
models' fields for the UPDATEs, and then only executed (INSERTs: notifications.services.insert_rows).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from django.db import transaction
from django.db.models import Model, QuerySet

M = TypeVar("M", bound=Model)

# SQLite has one writer at a time. Threads of one process queue on this mutex instead of polling the database
# lock through SQLite's busy handler, whose sleeps (1 ms growing to 100 ms) left the server idle under load.
_sqlite_writer = threading.Lock()


@contextmanager
def writing() -> Iterator[None]:
    """`transaction.atomic()` for a lifecycle change; on SQLite, the outermost one first takes the mutex."""
    connection = transaction.get_connection()
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        with transaction.atomic():
            yield
        return
    with _sqlite_writer, transaction.atomic():
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


def fetch(model: type[M], key: Hashable, build: Callable[[], QuerySet[M]], params: Sequence[Any]) -> list[M]:
    """The instances `build()` selects, with `params` in place of its parameters (the same values in the same
    order as the first call's: checked when compiling)."""
    connection = transaction.get_connection()
    cache = _cache(connection)
    select = cache.get(key)
    if select is None:
        compiler = build().query.get_compiler(connection=connection)
        sql, sample = compiler.as_sql()
        if list(sample) != list(params):
            raise AssertionError(f"{key}: the query's parameters {sample!r} are not {list(params)!r}")
        fields = compiler.klass_info["select_fields"]
        attnames = [col.target.attname for col, _, _ in compiler.select[fields[0] : fields[-1] + 1]]
        converters = compiler.get_converters([s[0] for s in compiler.select[: compiler.col_count]])
        select = cache[key] = _Select(sql, attnames, converters, compiler)
    with connection.cursor() as cursor:
        cursor.execute(select.sql, params)
        rows: Any = cursor.fetchall()
    if select.converters:
        rows = select.compiler.apply_converters(rows, select.converters)
    return [model.from_db(connection.alias, select.attnames, row) for row in rows]


def write(key: Hashable, build: Callable[[Any], tuple[str, list[Any]]], rows: Sequence[Sequence[Any]]) -> int:
    """Run the statement `build(connection)` returns (SQL, the field of each parameter) once per row, as one
    executemany; each value is prepared for the database by its field. Returns the rows changed."""
    connection = transaction.get_connection()
    cache = _cache(connection)
    entry = cache.get(key)
    if entry is None:
        entry = cache[key] = build(connection)
    sql, fields = entry
    instants: dict[tuple[Any, datetime], Any] = {}  # the rows of a batch share their instants: prepared once
    values = []
    for row in rows:
        prepared = []
        for f, v in zip(fields, row, strict=True):
            if type(v) is datetime:
                if (f, v) not in instants:
                    instants[f, v] = f.get_db_prep_save(v, connection)
                prepared.append(instants[f, v])
            else:
                prepared.append(f.get_db_prep_save(v, connection))
        values.append(prepared)
    with connection.cursor() as cursor:
        cursor.executemany(sql, values)
        return cursor.rowcount


def _fields(model: type[Model], names: Sequence[str]) -> list[Any]:
    return [model._meta.get_field(name) for name in names]


def update_sql(model: type[Model], names: Sequence[str], where: Sequence[str]) -> Callable[[Any], tuple]:
    def build(connection: Any) -> tuple[str, list[Any]]:
        q = connection.ops.quote_name
        sets = ", ".join(f"{q(f.column)} = %s" for f in _fields(model, names))
        cond = " AND ".join(f"{q(f.column)} = %s" for f in _fields(model, where))
        return f"UPDATE {q(model._meta.db_table)} SET {sets} WHERE {cond}", _fields(model, [*names, *where])

    return build
