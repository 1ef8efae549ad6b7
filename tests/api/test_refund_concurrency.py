"""Two connectors refund two orders of one shop at the same instant over real HTTP, with a payable balance that
covers only one: the shop's balance lock serializes them, so one refund goes through and the other is refused
with the guide's message. Runs on both databases (PostgreSQL: row locks; SQLite: IMMEDIATE transactions)."""

from __future__ import annotations

import http.client
import json
import threading
from typing import Any
from urllib.parse import urlsplit

import pytest

from comptoir.ledger import queries as ledger_queries
from comptoir.ledger.services import run_payout
from comptoir.orders.models import Order
from comptoir.orders.states import OrderState
from comptoir.refunds.models import Refund
from comptoir.refunds.services import ensure_default_reasons
from tests.factories import ShopFactory, make_order, shop_key

REFUND = "/api/orders/refund"


def _full_refund(order: Order) -> dict[str, Any]:
    line = order.lines.order_by("index").first()
    assert line is not None
    return {"refunds": [{"order_line_id": line.line_id, "reason_code": "17",
                         "amount": line.price_cents / 100, "shipping_amount": line.shipping_price_cents / 100}]}


def _race(base_url: str, key: str, bodies: list[dict[str, Any]]) -> list[tuple[int, dict[str, Any]]]:
    """One connection per body, every request released at once."""
    parts = urlsplit(base_url)
    barrier = threading.Barrier(len(bodies))
    results: list[tuple[int, dict[str, Any]]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def racer(body: dict[str, Any]) -> None:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        try:
            connection.connect()
            barrier.wait(timeout=30)
            connection.request("PUT", REFUND, body=json.dumps(body).encode(),
                               headers={"Authorization": key, "Content-Type": "application/json"})
            response = connection.getresponse()
            payload = json.loads(response.read())
            with lock:
                results.append((response.status, payload))
        except BaseException as exc:  # reported by the main thread
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=racer, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert not errors, errors
    assert len(results) == len(bodies)
    return results


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_refunds_that_the_balance_covers_once_one_wins(live_server: Any) -> None:
    # given two received orders paid out to the seller, then a third received: the payable balance is the
    # third order's money, enough for one of the two refunds and not for both
    ensure_default_reasons()
    shop = ShopFactory()
    key = shop_key(shop)
    first, second = (make_order(OrderState.RECEIVED, shop=shop, lines=1) for _ in range(2))
    run_payout(by="test")
    make_order(OrderState.RECEIVED, shop=shop, lines=1)
    payable = ledger_queries.balances(shop.id)["payable"]
    line = first.lines.get()
    cost = line.price_cents + line.shipping_price_cents - line.commission_fee_cents - line.commission_vat_cents
    assert cost <= payable < 2 * cost, (cost, payable)

    # when both refunds arrive at the same instant
    results = _race(live_server.url, key, [_full_refund(first), _full_refund(second)])

    # then exactly one 200 and one 400 with the reason, and the balance never went below zero
    statuses = sorted(status for status, _ in results)
    assert statuses == [200, 400], results
    (refused,) = [body for status, body in results if status == 400]
    assert refused["code"] == "REFUND_BALANCE_INSUFFICIENT" and "solde payable" in refused["message"]
    assert Refund.objects.count() == 1
    assert ledger_queries.balances(shop.id)["payable"] == payable - cost >= 0
    refunded = Refund.objects.get().order_id
    assert {Order.objects.get(pk=refunded).lines.get().state} == {OrderState.REFUNDED}
    other = second if refunded == first.pk else first
    assert other.lines.get().state == OrderState.RECEIVED
