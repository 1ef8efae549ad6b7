"""DESIGN §3 « tracking functional »: a parcel shipped without tracking is flagged 24 business hours later
(not counting the weekend), the seller is told; adding the tracking in time cancels the check."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from comptoir.notifications.models import OutboxEvent
from comptoir.notifications.rendering import render
from comptoir.operator.labels import EVENT_LABELS
from comptoir.orders.models import Order
from comptoir.orders.states import FlagTimerKind, OrderState
from comptoir.shipping import queries, services
from comptoir.shipping.models import Shipment
from comptoir.timers.models import Timer, TimerState
from comptoir.timers.worker import run_until_idle
from tests.factories import SELLER, ShopFactory, ensure_carriers, make_order

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")
FRIDAY_15H = datetime(2026, 11, 27, 15, 0, tzinfo=PARIS)


@pytest.fixture(autouse=True)
def _carriers(db: None) -> None:
    ensure_carriers()


def _order(test_clock) -> Order:  # type: ignore[no-untyped-def]
    test_clock.set(datetime(2026, 11, 27, 10, 0, tzinfo=PARIS))
    return make_order(OrderState.SHIPPING, shop=ShopFactory())


def _ship_first_line(order: Order, tracking: services.TrackingRequest | None = None) -> Shipment:
    line_id = order.lines.order_by("index").values_list("line_id", flat=True).first()
    return services.create_shipment(shop_id=order.shop_id, who=SELLER, request=services.ShipmentRequest(
        order_id=order.order_id, lines=[services.LineRequest(quantity=1, order_line_id=line_id)],
        tracking=tracking))


def _pending(order: Order) -> Timer | None:
    return Timer.objects.filter(order=order, kind=FlagTimerKind.TRACKING_MISSING, state=TimerState.PENDING).first()


def test_flagged_after_24_business_hours_across_a_weekend(test_clock) -> None:  # type: ignore[no-untyped-def]
    order = _order(test_clock)
    test_clock.set(FRIDAY_15H)
    shipment = _ship_first_line(order)
    timer = _pending(order)
    assert timer is not None  # due Monday 15:00: Saturday and Sunday do not count
    assert abs(timer.due_at - datetime(2026, 11, 30, 15, 0, tzinfo=PARIS)) < timedelta(seconds=5)

    test_clock.set(datetime(2026, 11, 29, 23, 0, tzinfo=PARIS))  # Sunday night: 8 calendar hours to go
    run_until_idle()
    shipment.refresh_from_db()
    assert not shipment.tracking_missing_flagged

    test_clock.set(datetime(2026, 11, 30, 15, 1, tzinfo=PARIS))
    run_until_idle()
    shipment.refresh_from_db()
    assert shipment.tracking_missing_flagged and shipment.tracking_missing
    assert queries.untracked_flagged_count(order.shop_id) == 1
    event = OutboxEvent.objects.get(event_type="ShipmentTrackingMissing")
    assert event.audience == "SELLER"
    assert _pending(order) is None
    assert Order.objects.get(pk=order.pk).state == OrderState.SHIPPING  # a flag, not a state change

    # Adding the tracking afterwards: the flag stays (it counts), the warning goes.
    services.update_tracking(shop_id=order.shop_id, shipment_id=shipment.shipment_id, who=SELLER,
                             tracking=services.TrackingRequest(carrier_code="ups", tracking_number="1Z1"))
    shipment.refresh_from_db()
    assert shipment.tracking_missing_flagged and not shipment.tracking_missing
    assert queries.untracked_flagged_count(order.shop_id) == 0


def test_adding_tracking_in_time_cancels_the_check(test_clock) -> None:  # type: ignore[no-untyped-def]
    order = _order(test_clock)
    test_clock.set(FRIDAY_15H)
    shipment = _ship_first_line(order)
    assert _pending(order) is not None
    services.update_tracking(shop_id=order.shop_id, shipment_id=shipment.shipment_id, who=SELLER,
                             tracking=services.TrackingRequest(carrier_code="gls", tracking_number="G1"))
    assert _pending(order) is None
    test_clock.set(datetime(2026, 12, 2, 12, 0, tzinfo=PARIS))
    run_until_idle()
    shipment.refresh_from_db()
    assert not shipment.tracking_missing_flagged
    assert not OutboxEvent.objects.filter(event_type="ShipmentTrackingMissing").exists()


def test_a_tracked_parcel_schedules_nothing(test_clock) -> None:  # type: ignore[no-untyped-def]
    order = _order(test_clock)
    _ship_first_line(order, services.TrackingRequest(carrier_code="colissimo", tracking_number="6A1"))
    assert _pending(order) is None


def test_the_seller_sees_the_warning_and_gets_a_french_mail(test_clock, client) -> None:  # type: ignore[no-untyped-def]
    from tests.web_factories import make_seller

    order = _order(test_clock)
    test_clock.set(FRIDAY_15H)
    _ship_first_line(order)
    test_clock.set(datetime(2026, 12, 1, 9, 0, tzinfo=PARIS))
    run_until_idle()
    shop = order.shop
    client.force_login(make_seller(shop, "vendeur@flag.test"))
    home = client.get("/vendeur/").content.decode()
    assert "Colis sans suivi" in home and 'id="untracked-indicator"' in home
    page = client.get(f"/vendeur/commandes/{order.order_id}/").content.decode()
    assert 'id="untracked-warning"' in page and "colis sans suivi" in page
    mail = render(OutboxEvent.objects.get(event_type="ShipmentTrackingMissing"))
    assert mail is not None and "sans suivi" in mail.subject and "24 heures ouvrées" in mail.body
    assert "ShipmentTrackingMissing" in EVENT_LABELS
