"""Twenty seller connectors accept the same order at the same instant over real HTTP: one wins, the others
get a clean 4xx, and the customer is charged exactly once. PostgreSQL serializes them with row locks,
SQLite with IMMEDIATE write transactions; the race runs on both."""

from __future__ import annotations

import http.client
import json
import threading
from typing import Any
from urllib.parse import urlsplit

import pytest

from comptoir.orders.models import Order, OrderHistory
from comptoir.orders.states import OrderState
from comptoir.payments.models import PaymentOperation, SimulatedCharge
from comptoir.timers.models import Timer
from comptoir.timers.worker import run_until_idle
from tests.factories import ShopFactory, make_order, shop_key

RACERS = 20
LOSER_CODES = {(400, "ORDER_INVALID_STATE"), (409, "ORDER_CONFLICT")}


def _race(
    base_url: str, path: str, key: str, body: dict[str, Any]
) -> list[tuple[int, dict[str, Any] | None]]:
    """Open one connection per racer, then release every request at once."""
    parts = urlsplit(base_url)
    payload = json.dumps(body).encode()
    barrier = threading.Barrier(RACERS)
    results: list[tuple[int, dict[str, Any] | None]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def racer() -> None:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        try:
            connection.connect()
            barrier.wait(timeout=30)
            connection.request(
                "PUT", path, body=payload, headers={"Authorization": key, "Content-Type": "application/json"}
            )
            response = connection.getresponse()
            raw = response.read()
            outcome = (response.status, json.loads(raw) if raw else None)
            with lock:
                results.append(outcome)
        except BaseException as exc:  # reported by the main thread
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=racer) for _ in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert not errors, errors
    assert len(results) == RACERS
    return results


def _twenty_accepts_of_one_order_charge_once(live_server: Any, comptoir_settings: Any) -> None:
    # given an order waiting for acceptance, and a debit that runs as soon as the worker looks
    comptoir_settings(DEBIT_DELAY_SECONDS=0)
    shop = ShopFactory()
    key = shop_key(shop)
    order = make_order(OrderState.WAITING_ACCEPTANCE, shop=shop, lines=2)
    lines = list(order.lines.order_by("index").values_list("line_id", flat=True))
    body = {"order_lines": [{"id": line_id, "accepted": True} for line_id in lines]}

    # when twenty connections send the same OR21 at the same instant
    results = _race(live_server.url, f"/api/orders/{order.order_id}/accept", key, body)

    # then exactly one wins with 204; every other gets a clean 4xx in Mirakl's body
    statuses = sorted(status for status, _ in results)
    assert statuses.count(204) == 1, results
    losers = [(status, payload) for status, payload in results if status != 204]
    assert len(losers) == RACERS - 1
    for status, payload in losers:
        assert payload is not None and payload["status"] == status
        assert (status, payload["code"]) in LOSER_CODES, (status, payload)

    # and the order was accepted once: one history row, one debit pending
    fresh = Order.objects.get(pk=order.pk)
    assert fresh.state == OrderState.WAITING_DEBIT
    assert set(fresh.lines.values_list("state", flat=True)) == {OrderState.WAITING_DEBIT}
    assert OrderHistory.objects.filter(order=fresh, trigger="ACCEPT", line_id="").count() == 1
    assert OrderHistory.objects.filter(order=fresh, trigger="ACCEPT").exclude(line_id="").count() == len(
        lines
    )
    assert Timer.objects.filter(order=fresh, kind="DEBIT", state="PENDING").count() == 1

    # when the worker runs until idle
    run_until_idle()

    # then the customer was charged exactly once and the order waits for shipping
    fresh = Order.objects.get(pk=order.pk)
    assert fresh.state == OrderState.SHIPPING
    assert SimulatedCharge.objects.filter(kind="CAPTURE").count() == 1
    assert PaymentOperation.objects.filter(payment__order=fresh, kind="CAPTURE").count() == 1
    assert SimulatedCharge.objects.get(kind="CAPTURE").amount_cents == fresh.total_price_cents
    assert not Timer.objects.filter(order=fresh, kind="DEBIT", state="PENDING").exists()
    assert OrderHistory.objects.filter(order=fresh, trigger="ACCEPT", line_id="").count() == 1


@pytest.mark.django_db(transaction=True)
def test_twenty_simultaneous_accepts_one_wins_and_the_customer_is_charged_once(
    live_server,
    comptoir_settings: Any,
) -> None:
    """Runs on both databases (SQLite: IMMEDIATE transactions serialize the writers)."""
    _twenty_accepts_of_one_order_charge_once(live_server, comptoir_settings)


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_twenty_simultaneous_accepts_on_postgresql_row_locks_one_wins(
    live_server,
    comptoir_settings: Any,
) -> None:
    """The PostgreSQL pass: SELECT ... FOR UPDATE on the order, and the version column as a last guard."""
    _twenty_accepts_of_one_order_charge_once(live_server, comptoir_settings)
