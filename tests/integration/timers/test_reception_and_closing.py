"""A shipped order is received automatically RECEPTION_DAYS calendar days after shipment, and closed
CLOSING_DAYS after reception (Paris wall clock, so a daylight-saving change does not shift the hour)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from comptoir.notifications.models import OutboxEvent
from comptoir.orders import services
from comptoir.orders.models import Order
from comptoir.orders.states import OrderState
from comptoir.timers.models import Timer
from comptoir.timers.worker import run_until_idle
from tests.factories import CUSTOMER, make_order

pytestmark = pytest.mark.django_db(transaction=True)

PARIS = ZoneInfo("Europe/Paris")
# Shipped on Friday 20 March 2026 at 10:00; summer time starts on Sunday 29 March.
SHIPPED_AT = datetime(2026, 3, 20, 10, 0, tzinfo=PARIS)


def _shipped_order(test_clock) -> Order:
    test_clock.set(SHIPPED_AT)
    return make_order(OrderState.SHIPPED)


def test_a_shipped_order_is_received_15_days_later_and_closed_14_days_after_that(test_clock) -> None:
    # given an order shipped on 20 March around 10:00
    order = _shipped_order(test_clock)
    shipped = order.history.get(trigger="SHIP", line_id="").created_date.astimezone(PARIS)
    assert abs(shipped - SHIPPED_AT) < timedelta(minutes=1)
    assert abs(order.shipped_date - shipped) < timedelta(seconds=1)
    receive_at = Timer.objects.get(order=order, kind="AUTO_RECEIVE", state="PENDING").due_at.astimezone(PARIS)
    # then the reception is due 15 calendar days later at the same Paris hour (4 April, after the switch to
    # summer time: only 15 days minus one hour of real time)
    assert receive_at.date() == datetime(2026, 4, 4).date()
    assert receive_at.time() == shipped.time()
    assert receive_at.astimezone(UTC) - shipped.astimezone(UTC) == timedelta(days=15, hours=-1)

    # when the clock stops just short of the 15 days, nothing happens
    test_clock.set(receive_at - timedelta(minutes=1))
    run_until_idle()
    assert Order.objects.get(pk=order.pk).state == OrderState.SHIPPED

    # when the 15 days have passed, the order is received by the system
    test_clock.set(receive_at + timedelta(minutes=1))
    run_until_idle()
    order = Order.objects.get(pk=order.pk)
    assert order.state == OrderState.RECEIVED
    assert receive_at < order.received_date < receive_at + timedelta(minutes=2)
    assert set(order.lines.values_list("state", flat=True)) == {OrderState.RECEIVED}
    assert all(order.lines.values_list("received_date", flat=True))
    row = order.history.get(trigger="RECEIVE", line_id="")
    assert (row.actor, row.from_state, row.to_state) == ("SYSTEM", OrderState.SHIPPED, OrderState.RECEIVED)
    assert OutboxEvent.objects.filter(order_id=order.order_id, event_type="OrderReceived").exists()
    assert Timer.objects.get(order=order, kind="AUTO_RECEIVE").state == "DONE"
    close_at = Timer.objects.get(order=order, kind="AUTO_CLOSE", state="PENDING").due_at
    received = order.history.get(trigger="RECEIVE", line_id="").created_date
    assert close_at == received + timedelta(days=14)  # no DST change in April

    # and 14 days later it is closed
    test_clock.set(close_at - timedelta(minutes=1))
    run_until_idle()
    assert Order.objects.get(pk=order.pk).state == OrderState.RECEIVED
    test_clock.set(close_at + timedelta(minutes=1))
    run_until_idle()
    order = Order.objects.get(pk=order.pk)
    assert order.state == OrderState.CLOSED
    assert order.closed_date is not None
    assert order.history.get(trigger="CLOSE", line_id="").actor == "SYSTEM"
    assert not Timer.objects.filter(order=order, state="PENDING").exists()


def test_the_reception_and_closing_delays_are_settings(test_clock, comptoir_settings) -> None:
    comptoir_settings(RECEPTION_DAYS=3, CLOSING_DAYS=2)
    order = _shipped_order(test_clock)

    test_clock.set(SHIPPED_AT + timedelta(days=3, minutes=1))
    run_until_idle()
    assert Order.objects.get(pk=order.pk).state == OrderState.RECEIVED

    test_clock.advance(timedelta(days=2, minutes=1))
    run_until_idle()
    assert Order.objects.get(pk=order.pk).state == OrderState.CLOSED


def test_a_customer_confirming_reception_cancels_the_automatic_reception(test_clock) -> None:
    order = _shipped_order(test_clock)
    test_clock.advance(timedelta(days=2))

    services.confirm_reception(order_id=order.order_id, who=CUSTOMER)

    order = Order.objects.get(pk=order.pk)
    assert order.state == OrderState.RECEIVED
    assert order.history.get(trigger="RECEIVE", line_id="").actor == "CUSTOMER"
    assert Timer.objects.get(order=order, kind="AUTO_RECEIVE").state == "CANCELED"
    # the closing delay counts from the customer's confirmation (22 March + 14 days, across the DST change)
    close_at = Timer.objects.get(order=order, kind="AUTO_CLOSE", state="PENDING").due_at
    received = order.history.get(trigger="RECEIVE", line_id="").created_date
    assert close_at == received + timedelta(days=14, hours=-1)
    test_clock.set(SHIPPED_AT + timedelta(days=15, minutes=1))
    run_until_idle()
    order = Order.objects.get(pk=order.pk)
    assert order.state == OrderState.RECEIVED  # received once, not again when the old deadline passes
    assert order.history.filter(trigger="RECEIVE", line_id="").count() == 1
