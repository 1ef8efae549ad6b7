"""The acceptance deadline in business days (weekends and French holidays skipped) and what happens when it
passes: every line refused automatically, the offers deactivated, the shop suspended."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from comptoir.catalog.models import Offer
from comptoir.notifications.models import OutboxEvent
from comptoir.orders import services
from comptoir.orders.models import Order
from comptoir.orders.rules import Decision
from comptoir.orders.states import OrderState
from comptoir.payments.models import Payment
from comptoir.shops.models import Shop, ShopState
from comptoir.timers.models import Timer
from comptoir.timers.worker import claim_due, run_timer, run_until_idle
from tests.factories import OPERATOR, SELLER, OfferFactory, ShopFactory, make_order

pytestmark = pytest.mark.django_db(transaction=True)

PARIS = ZoneInfo("Europe/Paris")
FRIDAY_BEFORE_14_JULY = datetime(2026, 7, 10, 16, 0, tzinfo=PARIS)
# Mon 13, (Tue 14 July is a holiday), Wed 15, Thu 16, Fri 17, Mon 20.
DEADLINE = datetime(2026, 7, 20, 16, 0, tzinfo=PARIS)
ONE_SECOND = timedelta(seconds=1)


def _approved_on_friday(test_clock, **kwargs) -> Order:
    test_clock.set(FRIDAY_BEFORE_14_JULY)
    order = make_order(OrderState.STAGING, **kwargs)
    test_clock.set(FRIDAY_BEFORE_14_JULY)  # the approval itself happens at 16:00 sharp
    services.approve_order(order_id=order.order_id, who=OPERATOR)
    return Order.objects.get(pk=order.pk)


def _events(event_type: str, **filters) -> list[str]:
    return sorted(OutboxEvent.objects.filter(event_type=event_type, **filters).values_list("audience", flat=True))


def test_the_acceptance_deadline_skips_the_weekend_and_14_july(test_clock) -> None:
    order = _approved_on_friday(test_clock)

    assert abs(order.acceptance_deadline - DEADLINE) <= ONE_SECOND
    assert Timer.objects.get(order=order, kind="AUTO_REFUSE", state="PENDING").due_at == order.acceptance_deadline
    # the seller is warned one business day before: Friday 17 July, 16:00
    warning = Timer.objects.get(order=order, kind="ACCEPTANCE_WARNING", state="PENDING")
    assert abs(warning.due_at - datetime(2026, 7, 17, 16, 0, tzinfo=PARIS)) <= ONE_SECOND


def test_nothing_is_refused_before_the_deadline_but_the_seller_is_warned(test_clock) -> None:
    order = _approved_on_friday(test_clock)

    test_clock.set(DEADLINE - timedelta(minutes=1))
    run_until_idle()

    order = Order.objects.get(pk=order.pk)
    assert order.state == OrderState.WAITING_ACCEPTANCE
    assert Shop.objects.get(pk=order.shop_id).state == ShopState.OPEN
    assert _events("AcceptanceDeadlineSoon", order_id=order.order_id) == ["SELLER"]
    assert Timer.objects.get(order=order, kind="AUTO_REFUSE").state == "PENDING"


def test_past_the_deadline_every_line_is_refused_the_offers_deactivated_and_the_shop_suspended(test_clock) -> None:
    # given an order approved on Friday 10 July 16:00 and never answered by the seller
    order = _approved_on_friday(test_clock)
    offer_ids = list(order.lines.values_list("offer_id", flat=True))

    # when the clock passes Monday 20 July 16:00 and the worker runs
    test_clock.set(DEADLINE + timedelta(minutes=1))
    run_until_idle()

    # then the order and each of its lines are refused automatically, by the system
    order = Order.objects.get(pk=order.pk)
    assert order.state == OrderState.REFUSED
    assert (order.state_reason_code, order.state_reason_label) == ("AUTO_REFUSED", "refus automatique")
    assert set(order.lines.values_list("state", "state_reason_label")) == {
        (OrderState.REFUSED, "refus automatique")}
    row = order.history.get(trigger="AUTO_REFUSE", line_id="")
    assert (row.actor, row.from_state, row.to_state) == ("SYSTEM", OrderState.WAITING_ACCEPTANCE,
                                                          OrderState.REFUSED)
    assert order.history.filter(trigger="AUTO_REFUSE").exclude(line_id="").count() == 2
    # the offers are deactivated and the shop suspended
    assert not Offer.objects.filter(id__in=offer_ids, active=True).exists()
    assert all(reason for reason in Offer.objects.filter(id__in=offer_ids).values_list("deactivation_reason",
                                                                                         flat=True))
    shop = Shop.objects.get(pk=order.shop_id)
    assert shop.state == ShopState.SUSPENDED
    assert shop.suspension_reason
    # the seller, the customer and the operator are told; the hold is released; no timer is left
    assert _events("OrderAutoRefused", order_id=order.order_id) == ["CUSTOMER", "SELLER"]
    assert _events("ShopSuspended", shop_id=shop.id) == ["OPERATOR", "SELLER"]
    assert Payment.objects.get(order=order).status == "RELEASED"
    assert Timer.objects.get(order=order, kind="AUTO_REFUSE").state == "DONE"
    assert not Timer.objects.filter(order=order, state="PENDING").exists()


def test_two_overdue_orders_of_one_shop_suspend_it_once(test_clock) -> None:
    shop = ShopFactory()
    first = _approved_on_friday(test_clock, shop=shop)
    second = _approved_on_friday(test_clock, shop=shop)
    other_offer = OfferFactory(shop=shop)  # an offer with no overdue order stays on sale

    test_clock.set(DEADLINE + timedelta(minutes=1))
    run_until_idle()

    assert set(Order.objects.filter(pk__in=[first.pk, second.pk]).values_list("state", flat=True)) == {
        OrderState.REFUSED}
    assert _events("ShopSuspended", shop_id=shop.id) == ["OPERATOR", "SELLER"]
    assert Offer.objects.get(pk=other_offer.pk).active is True


def test_an_order_accepted_in_time_is_left_alone_by_the_deadline(test_clock) -> None:
    order = _approved_on_friday(test_clock)
    test_clock.set(datetime(2026, 7, 15, 9, 0, tzinfo=PARIS))
    services.decide_lines(order_id=order.order_id, shop_id=order.shop_id, who=SELLER,
                          decisions=[Decision(line_id, True) for line_id in order.lines.values_list("line_id",
                                                                                                      flat=True)])

    test_clock.set(DEADLINE + timedelta(minutes=1))
    run_until_idle()

    order = Order.objects.get(pk=order.pk)
    assert order.state == OrderState.SHIPPING  # the debit ran; the auto-refusal did not
    assert Timer.objects.get(order=order, kind="AUTO_REFUSE").state == "CANCELED"
    assert not order.history.filter(trigger="AUTO_REFUSE").exists()
    assert Shop.objects.get(pk=order.shop_id).state == ShopState.OPEN
    assert not OutboxEvent.objects.filter(event_type__in=["OrderAutoRefused", "ShopSuspended"]).exists()


def test_a_timer_claimed_just_before_the_seller_accepts_is_a_no_op(test_clock) -> None:
    # given the worker claimed the due auto-refusal ...
    order = _approved_on_friday(test_clock)
    test_clock.set(DEADLINE + timedelta(minutes=1))
    claimed = {kind: pk for pk, kind, order_pk in claim_due("worker-1", 100) if order_pk == order.pk}
    assert "AUTO_REFUSE" in claimed
    # ... and the seller accepts before the worker gets to it
    services.decide_lines(order_id=order.order_id, shop_id=order.shop_id, who=SELLER,
                          decisions=[Decision(line_id, True) for line_id in order.lines.values_list("line_id",
                                                                                                      flat=True)])
    version = Order.objects.get(pk=order.pk).version

    # when the worker runs the claimed timer
    changed = run_timer(claimed["AUTO_REFUSE"], "AUTO_REFUSE", order.pk, "worker-1")

    # then nothing happens: the acceptance canceled the timer and won
    assert changed is False
    order = Order.objects.get(pk=order.pk)
    assert (order.state, order.version) == (OrderState.WAITING_DEBIT, version)
    assert Timer.objects.get(pk=claimed["AUTO_REFUSE"]).state == "CANCELED"
    assert Shop.objects.get(pk=order.shop_id).state == ShopState.OPEN


def test_a_stale_timer_whose_trigger_is_no_longer_allowed_is_closed_without_effect(test_clock) -> None:
    # given an accepted order whose auto-refusal timer is still pending (as if the cancel had been lost)
    order = _approved_on_friday(test_clock)
    services.decide_lines(order_id=order.order_id, shop_id=order.shop_id, who=SELLER,
                          decisions=[Decision(line_id, True) for line_id in order.lines.values_list("line_id",
                                                                                                      flat=True)])
    Timer.objects.filter(order=order, kind="AUTO_REFUSE").update(state="PENDING", done_date=None)
    Timer.objects.filter(order=order, kind__in=["DEBIT", "DEBIT_GIVE_UP"]).update(state="CANCELED")
    version = Order.objects.get(pk=order.pk).version

    # when it comes due
    test_clock.set(DEADLINE + timedelta(minutes=1))
    run_until_idle()

    # then it is marked done and the order, its lines and the shop are untouched
    assert Timer.objects.get(order=order, kind="AUTO_REFUSE").state == "DONE"
    order = Order.objects.get(pk=order.pk)
    assert (order.state, order.version) == (OrderState.WAITING_DEBIT, version)
    assert set(order.lines.values_list("state", flat=True)) == {OrderState.WAITING_DEBIT}
    assert Shop.objects.get(pk=order.shop_id).state == ShopState.OPEN
    assert Offer.objects.filter(shop_id=order.shop_id, active=False).count() == 0
