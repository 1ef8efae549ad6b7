"""HTTP helpers for the API tests: every call goes through Django's test client, key in `Authorization`."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.http import HttpResponse
from django.test import Client

from comptoir.core import clock
from comptoir.notifications.models import OutboxEvent
from comptoir.orders.models import Order
from comptoir.timers.models import Timer

ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")


def auth(key: str | None) -> dict[str, str]:
    return {} if key is None else {"HTTP_AUTHORIZATION": key}


def get(client: Client, path: str, key: str | None, params: dict[str, Any] | None = None) -> HttpResponse:
    return client.get(path, params or {}, **auth(key))


def send(client: Client, method: str, path: str, key: str | None, body: Any = None) -> HttpResponse:
    """PUT/POST a JSON body; a str or bytes body is sent as is (malformed JSON, empty body)."""
    if body is None:
        data: str | bytes = ""
    elif isinstance(body, str | bytes):
        data = body
    else:
        data = json.dumps(body)
    call = getattr(client, method.lower())
    return call(path, data, content_type="application/json", **auth(key))


def put(client: Client, path: str, key: str | None, body: Any = None) -> HttpResponse:
    return send(client, "PUT", path, key, body)


def post(client: Client, path: str, key: str | None, body: Any = None) -> HttpResponse:
    return send(client, "POST", path, key, body)


def body_of(response: HttpResponse) -> Any:
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    return json.loads(response.content)


def assert_error(response: HttpResponse, status: int, code: str | set[str]) -> dict[str, Any]:
    """Mirakl's error body: {"status", "message", "code"} (plus an optional "field"), nothing else."""
    assert response.status_code == status, (response.status_code, response.content)
    body = body_of(response)
    assert body["status"] == status
    assert isinstance(body["message"], str) and body["message"].strip()
    codes = {code} if isinstance(code, str) else code
    assert body["code"] in codes, body
    assert set(body) <= {"status", "message", "code", "field"}, body
    return body


def order_snapshot(order: Order) -> tuple[Any, ...]:
    """Everything a failed call must leave untouched."""
    fresh = Order.objects.get(pk=order.pk)
    return (
        fresh.state,
        fresh.version,
        fresh.last_updated_date,
        fresh.acceptance_decision_date,
        tuple(fresh.lines.order_by("index").values_list("state", "last_updated_date")),
        fresh.history.count(),
        tuple(Timer.objects.filter(order=fresh).order_by("id").values_list("kind", "state")),
        OutboxEvent.objects.filter(order_id=fresh.order_id).count(),
    )


@contextmanager
def shared_rows(django_db_blocker: Any) -> Iterator[None]:
    """Rows created once for a module of tests that only read them, rolled back at the module's end. Each test
    still runs in its own savepoint inside this transaction, so nothing a test writes outlives it."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield
        transaction.set_rollback(True)


@contextmanager
def clock_at() -> Iterator[Callable[[datetime], None]]:
    """Like the `test_clock` fixture, for module-scoped setup: yields `set(instant)`; real time afterwards."""
    from comptoir.timers.sandbox import stored_offset

    offset = timedelta(0)

    def set_now(instant: datetime) -> None:
        nonlocal offset
        offset = instant - clock.real_now()

    clock.set_offset_source(lambda: offset)
    clock.CACHE_SECONDS, saved = 0.0, clock.CACHE_SECONDS
    try:
        yield set_now
    finally:
        clock.CACHE_SECONDS = saved
        clock.set_offset_source(stored_offset)
