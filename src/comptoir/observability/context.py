"""The request id of the work under way (an HTTP request, or the outbox event a worker delivers), in a
contextvar: log records and outbox rows read it. Pure stdlib, so domain services and logging may import it."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

HEADER = "X-Request-ID"
MAX_LENGTH = 64
# What an incoming X-Request-ID may hold (UUIDs, W3C trace ids, base64): no spaces, quotes or newlines that
# would forge a log line.
_SANE = re.compile(rf"[A-Za-z0-9._:+/=-]{{1,{MAX_LENGTH}}}")

request_id_var: ContextVar[str | None] = ContextVar("comptoir_request_id", default=None)


def current_request_id() -> str | None:
    return request_id_var.get()


def new_request_id() -> str:
    return os.urandom(16).hex()


def sane_request_id(value: str | None) -> str | None:
    """The incoming id when it is acceptable, else None (the caller generates one)."""
    if value and _SANE.fullmatch(value):
        return value
    return None


@contextmanager
def bound_request_id(value: str | None) -> Iterator[None]:
    """Run a block under a request id (the worker delivering an event written by a request)."""
    token = request_id_var.set(value or None)
    try:
        yield
    finally:
        request_id_var.reset(token)
