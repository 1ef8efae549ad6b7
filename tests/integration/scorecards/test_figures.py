"""Scorecard figures on a real database, checked against hand-computed values: histories built at set instants
with the test clock (Friday evenings, weekends, and 14 July, a Tuesday holiday in 2026)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from comptoir.messaging import services as messaging
from comptoir.messaging.rules import Participant
from comptoir.orders import services
from comptoir.orders.models import Order
from comptoir.orders.rules import Decision
from comptoir.orders.states import OrderState
from comptoir.scorecards import queries
from comptoir.scorecards.rules import Measure
from comptoir.shipping import services as shipping
from comptoir.timers.worker import run_until_idle
from tests.factories import SELLER, ShopFactory, ensure_carriers, make_order

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")


def at(day: int, hour: int, month: int = 7) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=PARIS)


def decide(order: Order, accept: bool) -> None:
    line_ids = list(order.lines.order_by("index").values_list("line_id", flat=True))
    services.decide_lines(order_id=order.order_id, shop_id=order.shop_id, who=SELLER,
                          decisions=[Decision(line_id, accept) for line_id in line_ids])


def test_acceptance_measures_count_business_time_across_weekend_and_holiday(test_clock) -> None:
    # given: A waits from Friday 16:00 to Monday 10:00 (8 h + 10 h = 0.75 business day) and is accepted;
    # B from Monday 12:00 to Wednesday 12:00 over the 14 July holiday (12 h + 12 h = 1 day) and is refused;
    # C from Wednesday 15 July 09:00 until its 5-business-day deadline, Wednesday 22 July 09:00: auto-refused.
    shop = ShopFactory()
    test_clock.set(at(10, 16))
    a = make_order(shop=shop)
    test_clock.set(at(13, 10))
    decide(a, accept=True)
    test_clock.set(at(13, 12))
    b = make_order(shop=shop)
    test_clock.set(at(15, 12))
    decide(b, accept=False)
    test_clock.set(at(15, 9))
    c = make_order(shop=shop)
    test_clock.set(at(22, 9))
    run_until_idle()
    assert Order.objects.get(pk=c.pk).state == OrderState.REFUSED
    test_clock.set(at(24, 12))

    # when
    card = queries.scorecard(shop.id, 30)

    # then
    rate = card[Measure.ACCEPTANCE_RATE]
    assert (rate.value, rate.numerator, rate.denominator, rate.unit) == (Decimal("33.3"), 1, 3, "%")
    delay = card[Measure.ACCEPTANCE_DELAY]
    assert (delay.value, delay.numerator, delay.denominator) == (Decimal("2.25"), Decimal("6.75"), 3)
    assert delay.unit == "jours ouvrés" and delay.label == "Délai moyen d'acceptation"
    refusals = card[Measure.AUTO_REFUSALS]
    assert (refusals.value, refusals.denominator) == (Decimal(1), 3)
    # A window ending on Tuesday 14 July sees A's decision only.
    early = queries.scorecard(shop.id, 30, end=at(14, 0))
    assert (early[Measure.ACCEPTANCE_RATE].value, early[Measure.ACCEPTANCE_RATE].denominator) == (Decimal(100), 1)
    assert early[Measure.ACCEPTANCE_DELAY].value == Decimal("0.75")
    # Another shop's figures stay empty.
    other = queries.scorecard(ShopFactory().id, 90)
    assert other[Measure.ACCEPTANCE_RATE].value is None and other[Measure.ACCEPTANCE_RATE].denominator == 0


def _customer_asks(order: Order) -> int:
    thread, _ = messaging.start_thread(order_id=order.order_id, author=messaging.Author(Participant.CUSTOMER, "Jeanne"),
                                       body="Bonjour, où en est ma commande ?", to=["SHOP"])
    return thread.pk


def _shop_answers(thread_id: int, order: Order) -> None:
    messaging.reply(thread_id=thread_id, author=messaging.Author(Participant.SHOP, "Boutique"),
                    body="Bonjour, elle part aujourd'hui.", shop_id=order.shop_id)


def test_message_measures_count_business_hours_and_leave_pending_messages_out(test_clock) -> None:
    # given: Friday 15:00 → Wednesday 10:00 over the weekend and 14 July: 9 + 24 + 0 + 10 = 43 h (on time);
    # Wednesday 11:00 → Friday 12:00: 13 + 24 + 12 = 49 h (late); Monday 20 July 09:00: still unanswered.
    test_clock.set(at(10, 9))
    order = make_order(OrderState.SHIPPING)
    test_clock.set(at(10, 15))
    first = _customer_asks(order)
    test_clock.set(at(15, 10))
    _shop_answers(first, order)
    test_clock.set(at(15, 11))
    second = _customer_asks(order)
    test_clock.set(at(17, 12))
    _shop_answers(second, order)
    test_clock.set(at(20, 9))
    _customer_asks(order)

    # when: Wednesday 08:00 the third message has waited 15 + 24 + 8 = 47 h, inside its delay
    card = queries.scorecard(order.shop_id, 30, end=at(22, 8))
    # then
    answered = card[Measure.MESSAGES_ANSWERED_RATE]
    assert (answered.value, answered.numerator, answered.denominator) == (Decimal("50.0"), 1, 2)
    delay = card[Measure.RESPONSE_DELAY]
    assert (delay.value, delay.numerator, delay.denominator, delay.unit) == (
        Decimal("46.00"), Decimal("92.00"), 2, "heures ouvrées")

    # when: Wednesday 10:00 it has waited 49 h: a failure
    late = queries.scorecard(order.shop_id, 30, end=at(22, 10))[Measure.MESSAGES_ANSWERED_RATE]
    assert (late.value, late.numerator, late.denominator) == (Decimal("33.3"), 1, 3)


def test_shipping_measures_count_late_orders_and_parcels_with_tracking(test_clock) -> None:
    ensure_carriers()
    shop = ShopFactory()
    test_clock.set(at(6, 10))
    on_time = make_order(OrderState.SHIPPING, shop=shop, lines=1)
    late = make_order(OrderState.SHIPPING, shop=shop, lines=1)
    test_clock.set(at(7, 10))
    shipping.create_shipment(shop_id=shop.id, who=SELLER, request=shipping.ShipmentRequest(
        order_id=on_time.order_id, lines=[shipping.LineRequest(quantity=1, offer_sku=on_time.lines.get().offer_sku)],
        tracking=shipping.TrackingRequest(carrier_code="colissimo", tracking_number="6A0001")))
    test_clock.set(at(13, 10))  # past its 2-business-day shipping deadline
    run_until_idle()
    assert Order.objects.get(pk=late.pk).shipping_late
    shipping.create_shipment(shop_id=shop.id, who=SELLER, request=shipping.ShipmentRequest(
        order_id=late.order_id, lines=[shipping.LineRequest(quantity=1, offer_sku=late.lines.get().offer_sku)]))
    test_clock.set(at(14, 10))

    card = queries.scorecard(shop.id, 30)

    late_rate = card[Measure.LATE_SHIPMENT_RATE]
    assert (late_rate.value, late_rate.numerator, late_rate.denominator) == (Decimal("50.0"), 1, 2)
    tracking = card[Measure.VALID_TRACKING_RATE]
    assert (tracking.value, tracking.numerator, tracking.denominator) == (Decimal("50.0"), 1, 2)
    # Nothing shipped in the 30 days ending before the first shipment.
    assert queries.scorecard(shop.id, 30, end=at(7, 9))[Measure.LATE_SHIPMENT_RATE].value is None
