"""Ten connectors declare a shipment of the same order at the same instant over real HTTP: the order lock
serializes them, so exactly the accepted units ship and the order moves to SHIPPED once (both databases)."""

from __future__ import annotations

import http.client
import json
import threading
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.db.models import Sum

from comptoir.orders.models import Order, OrderHistory
from comptoir.orders.states import OrderState
from comptoir.shipping.models import ShipmentLine
from tests.factories import ShopFactory, make_order, shop_key

RACERS = 10
LOSER_CODES = {"SHIPMENT_QUANTITY_EXCEEDED", "ORDER_INVALID_STATE", "ORDER_CONFLICT"}


def _race(base_url: str, path: str, key: str, body: dict[str, Any]) -> list[tuple[int, Any]]:
    parts = urlsplit(base_url)
    payload = json.dumps(body).encode()
    barrier = threading.Barrier(RACERS)
    results: list[tuple[int, Any]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def racer() -> None:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        try:
            connection.connect()
            barrier.wait(timeout=30)
            connection.request("POST", path, body=payload,
                               headers={"Authorization": key, "Content-Type": "application/json"})
            response = connection.getresponse()
            raw = response.read()
            with lock:
                results.append((response.status, json.loads(raw) if raw else None))
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
    return results


@pytest.mark.django_db(transaction=True)
def test_concurrent_shipments_never_ship_more_than_accepted(live_server: Any) -> None:
    # given an order of one line of 3 units
    shop = ShopFactory()
    key = shop_key(shop)
    order = make_order(OrderState.SHIPPING, shop=shop, lines=1, quantity=3)
    line_id = order.lines.get().line_id
    body = {"shipments": [{"order_id": order.order_id, "shipped": True,
                           "shipment_lines": [{"order_line_id": line_id, "quantity": 1}]}]}

    # when ten connections each ship one unit at the same instant
    results = _race(live_server.url, "/api/shipments", key, body)

    # then three succeed, the others get a per-item error, and the order shipped exactly once
    assert all(status == 201 for status, _ in results), results
    successes = [b for _, b in results if b["shipment_success"]]
    losers = [e for _, b in results for e in b["shipment_errors"]]
    assert len(successes) == 3, results
    assert len(losers) == RACERS - 3 and {e["code"] for e in losers} <= LOSER_CODES, losers
    assert ShipmentLine.objects.filter(shipment__order=order).aggregate(n=Sum("quantity"))["n"] == 3
    assert Order.objects.get(pk=order.pk).state == OrderState.SHIPPED
    assert OrderHistory.objects.filter(order=order, trigger="SHIP", line_id="").count() == 1
