"""Timers of one firing kind run as one batch (`orders.timers.handle_batch`): each order moves exactly as a
person's action would move it, an order no longer eligible is left alone, the shops of the batch are each
suspended once, two workers never move an order twice, and a batch that fails runs its timers one by one."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.models import Sum

from comptoir.ledger import services as ledger_services
from comptoir.ledger.models import LedgerEntry
from comptoir.notifications.models import OutboxEvent
from comptoir.orders import services
from comptoir.orders.models import Order, OrderHistory
from comptoir.orders.rules import Decision
from comptoir.orders.states import OrderState
from comptoir.payments.models import Payment, PaymentOperation, SimulatedCharge
from comptoir.shops.models import Shop, ShopState
from comptoir.timers.models import Timer
from comptoir.timers.worker import run_until_idle, sweep_timers
from tests.factories import CUSTOMER, SELLER, OfferFactory, ShopFactory, make_order

pytestmark = pytest.mark.django_db(transaction=True)

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday


def _cents(order: Order, account: str) -> int:
    return LedgerEntry.objects.filter(order_id=order.order_id, account=account).aggregate(
        total=Sum("amount_cents"))["total"] or 0


def _shipped(test_clock, shops: list[Shop], per_shop: int) -> list[Order]:
    test_clock.set(START)
    return [make_order(OrderState.SHIPPED, shop=shop) for shop in shops for _ in range(per_shop)]


def test_a_reception_batch_across_two_shops_moves_each_order_once_and_skips_one_no_longer_eligible(
    test_clock,
) -> None:
    # given five shipped orders of two shops, one of them received by its customer meanwhile but whose
    # automatic reception is still pending (as if its cancel had been lost)
    orders = _shipped(test_clock, [ShopFactory(), ShopFactory()], 2) + _shipped(test_clock, [ShopFactory()], 1)
    stale = orders[1]
    services.confirm_reception(order_id=stale.order_id, who=CUSTOMER)
    Timer.objects.filter(order=stale, kind="AUTO_RECEIVE").update(state="PENDING", done_date=None)
    Timer.objects.filter(order=stale, kind="AUTO_CLOSE").update(state="CANCELED")  # due too, but not our point
    stale_entries = LedgerEntry.objects.filter(order_id=stale.order_id).count()
    pending = {o.pk: _cents(o, "SHOP_PENDING") for o in orders}
    commission = {o.pk: _cents(o, "OPERATOR_COMMISSION_PENDING") for o in orders}
    assert all(pending[o.pk] > 0 and commission[o.pk] > 0 for o in orders if o != stale)

    # when the 15 days have passed and one worker sweep claims the five timers (one batch)
    test_clock.advance(timedelta(days=16))
    assert sweep_timers("worker-1") == 5

    # then every eligible order is received by the system, its pending balance now payable, once
    for order in orders:
        if order == stale:
            continue
        moved = Order.objects.get(pk=order.pk)
        assert moved.state == OrderState.RECEIVED
        assert moved.history.filter(trigger="RECEIVE", line_id="", actor="SYSTEM").count() == 1
        assert _cents(order, "SHOP_PENDING") == 0 and _cents(order, "OPERATOR_COMMISSION_PENDING") == 0
        assert _cents(order, "SHOP_PAYABLE") == pending[order.pk]
        assert _cents(order, "OPERATOR_COMMISSION") == commission[order.pk]
        assert set(LedgerEntry.objects.filter(order_id=order.order_id).values_list("shop_id", flat=True)) == {
            order.shop_id}
        assert Timer.objects.get(order=order, kind="AUTO_RECEIVE").state == "DONE"
        assert Timer.objects.filter(order=order, kind="AUTO_CLOSE", state="PENDING").count() == 1
    # and the order the customer had received is left as it was: its timer done without effect
    assert Order.objects.get(pk=stale.pk).history.filter(trigger="RECEIVE", line_id="").count() == 1
    assert LedgerEntry.objects.filter(order_id=stale.order_id).count() == stale_entries
    assert Timer.objects.get(order=stale, kind="AUTO_RECEIVE").state == "DONE"
    assert Counter(OutboxEvent.objects.filter(event_type="OrderReceived").values_list("order_id", flat=True)) == {
        o.order_id: 1 for o in orders if o != stale} | {stale.order_id: 1}


def test_an_auto_refusal_batch_across_two_shops_suspends_each_shop_once_and_releases_each_hold_once(
    test_clock,
) -> None:
    # given three orders past their acceptance deadline in two shops, and a fourth its seller accepted while
    # its auto-refusal stayed pending
    test_clock.set(START)
    shops = [ShopFactory(), ShopFactory()]
    offers = {shop.pk: OfferFactory(shop=shop, stock=100) for shop in shops}
    orders = [make_order(OrderState.WAITING_ACCEPTANCE, shop=shop, offers=[(offers[shop.pk], 1)])
              for shop in (shops[0], shops[0], shops[1], shops[1])]
    accepted = orders[3]
    services.decide_lines(order_id=accepted.order_id, shop_id=accepted.shop_id, who=SELLER,
                          decisions=[Decision(line_id, True)
                                     for line_id in accepted.lines.values_list("line_id", flat=True)])
    Timer.objects.filter(order=accepted, kind="AUTO_REFUSE").update(state="PENDING", done_date=None)
    Timer.objects.filter(order=accepted).exclude(kind="AUTO_REFUSE").update(state="CANCELED")
    version = Order.objects.get(pk=accepted.pk).version

    # when the deadline has passed and the worker runs
    test_clock.advance(timedelta(days=10))
    run_until_idle()

    # then each overdue order is refused with its lines, its hold released once (one provider call, one operation)
    for order in orders[:3]:
        refused = Order.objects.get(pk=order.pk)
        assert refused.state == OrderState.REFUSED
        assert set(refused.lines.values_list("state", flat=True)) == {OrderState.REFUSED}
        payment = Payment.objects.get(order=order)
        assert (payment.status, payment.released_cents) == ("RELEASED", payment.authorized_cents)
        assert PaymentOperation.objects.filter(payment=payment, kind="RELEASE").count() == 1
        assert SimulatedCharge.objects.filter(idempotency_key=f"release:{order.order_id}").count() == 1
    # and both shops are suspended, each once, with their offers deactivated
    for shop in shops:
        assert Shop.objects.get(pk=shop.pk).state == ShopState.SUSPENDED
        assert OutboxEvent.objects.filter(event_type="ShopSuspended", shop_id=shop.pk, audience="SELLER").count() == 1
        assert not offers[shop.pk].__class__.objects.get(pk=offers[shop.pk].pk).active
    # and the accepted order is untouched
    after = Order.objects.get(pk=accepted.pk)
    assert (after.state, after.version) == (OrderState.WAITING_DEBIT, version)
    assert Payment.objects.get(order=accepted).status == "AUTHORIZED"


def test_two_workers_sweeping_at_once_receive_each_order_exactly_once(test_clock) -> None:
    # given twelve shipped orders past their reception date
    orders = _shipped(test_clock, [ShopFactory(), ShopFactory()], 6)
    test_clock.advance(timedelta(days=16))
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def work(worker_id: str) -> None:
        try:
            barrier.wait(timeout=10)
            while sweep_timers(worker_id, limit=5):
                pass
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    # when two workers sweep at the same time, in batches of five
    threads = [threading.Thread(target=work, args=(f"worker-{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # then every order is received once: one history row, one posting of its pending balance
    assert errors == []
    for order in orders:
        assert Order.objects.get(pk=order.pk).state == OrderState.RECEIVED
        assert OrderHistory.objects.filter(order=order, trigger="RECEIVE", line_id="").count() == 1
        assert _cents(order, "SHOP_PENDING") == 0
        assert LedgerEntry.objects.filter(order_id=order.order_id, account="SHOP_PAYABLE").values(
            "posting").distinct().count() == 1


def test_a_batch_failing_on_one_order_still_moves_the_others_one_by_one(test_clock, monkeypatch) -> None:
    # given three shipped orders past their reception date, the ledger failing for the second one
    orders = _shipped(test_clock, [ShopFactory()], 3)
    bad = orders[1]
    real = ledger_services.post_order_received

    def failing(*, shop_id: int, order_id: str) -> None:
        if order_id == bad.order_id:
            raise RuntimeError("ledger unavailable for this order")
        real(shop_id=shop_id, order_id=order_id)

    monkeypatch.setattr(ledger_services, "post_order_received", failing)
    test_clock.advance(timedelta(days=16))

    # when one sweep runs them (the batch fails as a whole, then each timer runs alone)
    assert sweep_timers("worker-1") == 3

    # then the two good orders are received with their ledger, the bad one is untouched and keeps its timer
    # with the error and a backoff
    for order in (orders[0], orders[2]):
        assert Order.objects.get(pk=order.pk).state == OrderState.RECEIVED
        assert _cents(order, "SHOP_PENDING") == 0 and _cents(order, "SHOP_PAYABLE") > 0
    assert Order.objects.get(pk=bad.pk).state == OrderState.SHIPPED
    assert _cents(bad, "SHOP_PAYABLE") == 0
    timer = Timer.objects.get(order=bad, kind="AUTO_RECEIVE")
    assert timer.state == "PENDING" and "ledger unavailable" in timer.last_error
    assert timer.claimed_until > test_clock.now()
