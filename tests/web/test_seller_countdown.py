"""Countdown to the auto-refusal: the pure formatting, then the seller's order list and detail page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from comptoir.orders.states import OrderState
from comptoir.shops.models import Shop
from comptoir.web.countdown import auto_refusal, countdown, format_remaining
from tests.factories import make_order

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


# --- pure ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("left", "text"), [
    (timedelta(days=2, hours=5, minutes=59), "2 j 5 h"),
    (timedelta(days=1), "1 j 0 h"),
    (timedelta(hours=3, minutes=7), "3 h 07 min"),
    (timedelta(minutes=12, seconds=30), "12 min"),
    (timedelta(seconds=30), "moins d'une minute"),
    (timedelta(0), "dépassé"),
    (timedelta(hours=-2), "dépassé"),
])
def test_time_left_is_written_in_french(left: timedelta, text: str) -> None:
    assert format_remaining(int(left.total_seconds())) == text
    assert countdown(NOW + left, NOW).text == text


def test_less_than_a_day_left_is_urgent() -> None:
    assert not countdown(NOW + timedelta(hours=24), NOW).urgent
    assert countdown(NOW + timedelta(hours=23, minutes=59), NOW).urgent
    assert countdown(NOW - timedelta(minutes=1), NOW).urgent and countdown(NOW, NOW).overdue


def test_the_auto_refusal_warning() -> None:
    far = auto_refusal(NOW + timedelta(days=2, hours=5, minutes=10), NOW)
    near = auto_refusal(NOW + timedelta(hours=5), NOW)
    past = auto_refusal(NOW - timedelta(minutes=5), NOW)

    assert (far.text, far.urgent) == ("refus auto dans 2 j 5 h", False)
    assert (near.text, near.urgent) == ("refus auto dans 5 h 00 min", True)
    assert past.overdue and past.text == "refus auto imminent (délai dépassé)"


# --- pages -----------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_the_order_list_counts_down_to_the_auto_refusal(seller_client: Client, shop: Shop, test_clock) -> None:  # type: ignore[no-untyped-def]
    waiting = make_order(OrderState.WAITING_ACCEPTANCE, shop=shop)
    shipping = make_order(OrderState.SHIPPING, shop=shop)
    test_clock.set(waiting.acceptance_deadline - timedelta(days=2, hours=5, minutes=30, seconds=30))

    calm = seller_client.get("/vendeur/commandes/").content.decode()
    test_clock.advance(timedelta(days=1, hours=10))
    urgent = seller_client.get("/vendeur/commandes/").content.decode()

    assert '<small class="countdown">refus auto dans 2 j 5 h</small>' in calm
    assert '<small class="countdown urgent">refus auto dans 19 h 30 min</small>' in urgent
    assert calm.count("refus auto dans") == 1 and shipping.order_id in calm


@pytest.mark.django_db
def test_the_detail_page_shows_the_countdown_next_to_the_decision(seller_client: Client, shop: Shop,
                                                                  test_clock) -> None:  # type: ignore[no-untyped-def]
    waiting = make_order(OrderState.WAITING_ACCEPTANCE, shop=shop)
    test_clock.set(waiting.acceptance_deadline - timedelta(hours=3, minutes=7, seconds=30))

    body = seller_client.get(f"/vendeur/commandes/{waiting.order_id}/").content.decode()

    actions = body[body.index("Valider la décision…"):]
    assert 'class="countdown urgent" id="auto-refusal"' in actions
    assert "Sans décision de votre part : refus auto dans 3 h 07 min" in actions


@pytest.mark.django_db
def test_no_countdown_once_the_order_is_decided(seller_client: Client, shop: Shop) -> None:
    order = make_order(OrderState.SHIPPING, shop=shop)

    body = seller_client.get(f"/vendeur/commandes/{order.order_id}/").content.decode()

    assert "refus auto" not in body
