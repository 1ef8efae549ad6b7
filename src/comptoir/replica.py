"""Listing reads on a read replica (COMPTOIR_REPLICA_DATABASE_URL; README « Topologie de production »).

When the setting is given, the database alias `replica` exists and the listing pages and endpoints (the seller's
and the operator's order lists, OR11, the operator API's order list) read from it inside `listing_reads()`.
Everything else stays on the primary (`default`): every write, and every read made inside a transaction (an
atomic block reads what it wrote and locks what it will change: a replica can do neither). Without the setting
there is no `replica` alias and everything reads `default`.

A replica lags its primary by a fraction of a second: a list may not show a change made just before. Only pages
that can live with that use `listing_reads()`; a detail page or a decision reads the primary.

Here rather than in comptoir.core, which imports no Django (STYLE §4)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper

REPLICA = "replica"

_listing: ContextVar[bool] = ContextVar("comptoir_listing_reads", default=False)


@contextmanager
def listing_reads() -> Iterator[None]:
    """Reads in this block go to the replica when there is one and no transaction is open; as a decorator too
    (`@listing_reads()`)."""
    token = _listing.set(True)
    try:
        yield
    finally:
        _listing.reset(token)


def replica_configured() -> bool:
    return REPLICA in connections.settings


def reads_from_replica() -> bool:
    """Whether a read made now goes to the replica."""
    return _listing.get() and replica_configured() and not connections[DEFAULT_DB_ALIAS].in_atomic_block


def read_alias() -> str:
    return REPLICA if reads_from_replica() else DEFAULT_DB_ALIAS


def read_connection() -> BaseDatabaseWrapper:
    """The connection a raw listing read runs on (orders.queries compiles OR11's SQL itself, outside the ORM and
    its router): the replica's inside `listing_reads()` out of a transaction, else the primary's."""
    return connections[read_alias()]


class ReplicaRouter:
    """settings.DATABASE_ROUTERS: the ORM's reads follow `read_alias()`; writes and migrations go to `default`
    (the replica is a copy the database server keeps)."""

    def db_for_read(self, model: Any, **hints: Any) -> str:
        return read_alias()

    def db_for_write(self, model: Any, **hints: Any) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True  # the same rows on both aliases

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == DEFAULT_DB_ALIAS
