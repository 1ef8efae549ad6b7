"""Shipment services on a real database: split shipments, the move to SHIPPED through the lifecycle table,
the reception timer, refusals that write nothing, and tracking added or corrected later."""

from __future__ import annotations

from datetime import timedelta

import pytest

from comptoir.core import clock
from comptoir.notifications.models import OutboxEvent
from comptoir.orders import services as order_services
from comptoir.orders.errors import GuardRefused, OrderInvalidState, OrderNotFound
from comptoir.orders.models import Order
from comptoir.orders.states import OrderState, Trigger
from comptoir.shipping import services
from comptoir.shipping.errors import QuantityExceeded, ShipDateInFuture, ShipmentInvalidState, TrackingInvalid
from comptoir.shipping.models import Shipment, ShipmentLine, ShipmentStatus
from comptoir.timers.models import Timer
from tests.api.helpers import order_snapshot
from tests.factories import SELLER, ShopFactory, ensure_carriers, make_order

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _carriers(db: None) -> None:
    ensure_carriers()

COLISSIMO = services.TrackingRequest(carrier_code="colissimo", tracking_number="6A0001")


def _lines(order: Order) -> list[str]:
    return list(order.lines.order_by("index").values_list("line_id", flat=True))


def _ship(order: Order, quantities: dict[str, int], **kwargs: object) -> Shipment:
    request = services.ShipmentRequest(
        order_id=order.order_id,
        lines=[services.LineRequest(quantity=q, order_line_id=line_id) for line_id, q in quantities.items()],
        **kwargs,  # type: ignore[arg-type]
    )
    return services.create_shipment(shop_id=order.shop_id, request=request, who=SELLER)


def _pending_timers(order: Order) -> set[str]:
    return set(Timer.objects.filter(order=order, state="PENDING").values_list("kind", flat=True))


def test_partial_shipment_leaves_the_order_shipping_and_the_last_one_ships_it() -> None:
    # given an order of two lines, 2 units and 1 unit
    order = make_order(OrderState.SHIPPING, lines=2, quantity=2)
    first, second = _lines(order)

    # when one unit of the first line leaves
    parcel_1 = _ship(order, {first: 1}, tracking=COLISSIMO, shipped=True)

    # then the order still waits for the rest; the line knows it started shipping; the customer hears of it
    order.refresh_from_db()
    assert order.state == OrderState.SHIPPING
    assert parcel_1.status == ShipmentStatus.SHIPPED
    assert parcel_1.tracking_url == "https://www.laposte.fr/outils/suivre-vos-envois?code=6A0001"
    assert order.lines.get(line_id=first).shipped_date is not None
    assert order.lines.get(line_id=second).shipped_date is None
    assert "SHIPPING_DEADLINE" in _pending_timers(order) and "AUTO_RECEIVE" not in _pending_timers(order)
    assert OutboxEvent.objects.filter(order_id=order.order_id, event_type="ShipmentShipped").count() == 1

    # when the rest leaves in a second parcel
    _ship(order, {first: 1, second: 2}, tracking=services.TrackingRequest(carrier_code="ups", tracking_number="1Z9"),
          shipped=True)

    # then the SHIP row ran: SHIPPED, dated, deadline cancelled, reception timer 15 days out, one history row
    order.refresh_from_db()
    assert order.state == OrderState.SHIPPED
    assert set(order.lines.values_list("state", flat=True)) == {OrderState.SHIPPED}
    assert order.shipped_date is not None
    assert _pending_timers(order) == {"AUTO_RECEIVE"}
    due = Timer.objects.get(order=order, kind="AUTO_RECEIVE", state="PENDING").due_at
    assert timedelta(days=14) < due - clock.now() <= timedelta(days=15, hours=2)
    assert order.history.filter(trigger=Trigger.SHIP, line_id="").count() == 1
    shipped = OutboxEvent.objects.get(order_id=order.order_id, event_type="OrderShipped")
    assert [t["tracking_number"] for t in shipped.payload["trackings"]] == ["6A0001", "1Z9"]


def test_reception_timer_starts_from_the_last_shipment(test_clock) -> None:  # type: ignore[no-untyped-def]
    # given an order whose first unit left on day 0
    order = make_order(OrderState.SHIPPING, lines=1, quantity=2)
    (line,) = _lines(order)
    _ship(order, {line: 1}, shipped=True)

    # when the last unit leaves 3 days later
    test_clock.advance(timedelta(days=3))
    _ship(order, {line: 1}, shipped=True)

    # then reception is due 15 days after that last shipment
    due = Timer.objects.get(order=order, kind="AUTO_RECEIVE", state="PENDING").due_at
    assert abs(due - (clock.now() + timedelta(days=15))) < timedelta(hours=2)


def test_over_shipping_is_refused_and_nothing_is_written() -> None:
    # given an order with 1 unit left on its first line after a first parcel
    order = make_order(OrderState.SHIPPING, lines=2, quantity=2)
    first, _second = _lines(order)
    _ship(order, {first: 1}, shipped=True)
    before, shipments = order_snapshot(order), Shipment.objects.count()

    # when the seller declares 2 more units of that line
    with pytest.raises(QuantityExceeded):
        _ship(order, {first: 2}, tracking=COLISSIMO, shipped=True)

    # then nothing changed
    assert order_snapshot(order) == before
    assert Shipment.objects.count() == shipments


def test_quantities_in_a_prepared_shipment_count_as_taken() -> None:
    order = make_order(OrderState.SHIPPING, lines=1, quantity=1)
    (line,) = _lines(order)
    _ship(order, {line: 1}, shipped=False)

    with pytest.raises(QuantityExceeded):
        _ship(order, {line: 1}, shipped=True)


def test_ship_date_in_the_future_is_refused_and_nothing_is_written() -> None:
    order = make_order(OrderState.SHIPPING, lines=1)
    (line,) = _lines(order)
    before = order_snapshot(order)

    with pytest.raises(ShipDateInFuture):
        _ship(order, {line: 1}, shipped=True, shipped_date=clock.now() + timedelta(hours=1))

    assert order_snapshot(order) == before
    assert not Shipment.objects.filter(order=order).exists()


def test_invalid_tracking_refuses_the_whole_shipment() -> None:
    order = make_order(OrderState.SHIPPING, lines=1)
    (line,) = _lines(order)

    with pytest.raises(TrackingInvalid):
        _ship(order, {line: 1}, shipped=True,
              tracking=services.TrackingRequest(carrier_name="Coursier", tracking_number="X1"))  # no link

    assert not Shipment.objects.filter(order=order).exists()
    assert Order.objects.get(pk=order.pk).state == OrderState.SHIPPING


def test_another_shops_order_is_not_found() -> None:
    order = make_order(OrderState.SHIPPING, lines=1)
    (line,) = _lines(order)
    request = services.ShipmentRequest(order_id=order.order_id, lines=[services.LineRequest(1, line)])

    with pytest.raises(OrderNotFound):
        services.create_shipment(shop_id=ShopFactory().id, request=request, who=SELLER)


def test_an_order_not_waiting_for_shipment_cannot_get_shipments() -> None:
    order = make_order(OrderState.WAITING_ACCEPTANCE, lines=1)
    (line,) = _lines(order)

    with pytest.raises(OrderInvalidState):
        _ship(order, {line: 1}, shipped=True)


def test_lines_by_offer_sku_are_resolved() -> None:
    order = make_order(OrderState.SHIPPING, lines=2)
    sku = order.lines.get(index=order.lines.order_by("index").first().index).offer_sku  # type: ignore[union-attr]
    request = services.ShipmentRequest(order_id=order.order_id, lines=[services.LineRequest(1, offer_sku=sku)])

    shipment = services.create_shipment(shop_id=order.shop_id, request=request, who=SELLER)

    assert ShipmentLine.objects.get(shipment=shipment).order_line.offer_sku == sku


def test_a_partially_shipped_order_can_no_longer_be_canceled() -> None:
    order = make_order(OrderState.SHIPPING, lines=2)
    first, _ = _lines(order)
    _ship(order, {first: 1}, shipped=True)

    with pytest.raises(GuardRefused):
        order_services.transition_order(order.order_id, Trigger.CANCEL, SELLER)


def test_prepared_shipment_ships_later_and_completes_the_order() -> None:
    order = make_order(OrderState.SHIPPING, lines=1)
    (line,) = _lines(order)
    prepared = _ship(order, {line: 1}, shipped=False)
    assert Order.objects.get(pk=order.pk).state == OrderState.SHIPPING

    services.ship_shipment(shop_id=order.shop_id, shipment_id=prepared.shipment_id, who=SELLER)

    assert Order.objects.get(pk=order.pk).state == OrderState.SHIPPED
    with pytest.raises(OrderInvalidState):  # the order has shipped: nothing more to ship
        services.ship_shipment(shop_id=order.shop_id, shipment_id=prepared.shipment_id, who=SELLER)


def test_shipping_a_shipment_twice_is_refused() -> None:
    order = make_order(OrderState.SHIPPING, lines=2)
    first, _ = _lines(order)
    shipment = _ship(order, {first: 1}, shipped=True)

    with pytest.raises(ShipmentInvalidState):
        services.ship_shipment(shop_id=order.shop_id, shipment_id=shipment.shipment_id, who=SELLER)


def test_order_tracking_then_ship_uses_one_shipment_for_everything() -> None:
    # given an order of 2 lines, one unit already shipped
    order = make_order(OrderState.SHIPPING, lines=2, quantity=2)
    first, second = _lines(order)
    _ship(order, {first: 1}, shipped=True)

    # when the seller sets the order's tracking (OR23) then ships it (OR24)
    services.set_order_tracking(shop_id=order.shop_id, order_id=order.order_id, tracking=COLISSIMO, who=SELLER)
    last = services.ship_remaining(shop_id=order.shop_id, order_id=order.order_id, who=SELLER)

    # then one more shipment carries the 3 remaining units with the tracking, and the order has shipped
    assert sorted(last.lines.values_list("order_line__line_id", "quantity")) == sorted([(first, 1), (second, 2)])
    assert last.tracking_number == "6A0001" and last.status == ShipmentStatus.SHIPPED
    assert Shipment.objects.filter(order=order).count() == 2
    assert Order.objects.get(pk=order.pk).state == OrderState.SHIPPED


def test_tracking_can_be_corrected_after_shipping_and_the_customer_hears_of_it() -> None:
    order = make_order(OrderState.SHIPPING, lines=1)
    services.ship_remaining(shop_id=order.shop_id, order_id=order.order_id, who=SELLER)

    shipment = services.set_order_tracking(shop_id=order.shop_id, order_id=order.order_id,
                                           tracking=COLISSIMO, who=SELLER)

    assert shipment.tracking_number == "6A0001"
    assert Shipment.objects.filter(order=order).count() == 1
    assert OutboxEvent.objects.filter(order_id=order.order_id, event_type="ShipmentTrackingUpdated").exists()


def test_order_shipped_without_shipments_gets_one_when_tracking_arrives() -> None:
    order = make_order(OrderState.SHIPPED, lines=2)  # shipped by the back office's whole-order button

    shipment = services.set_order_tracking(shop_id=order.shop_id, order_id=order.order_id,
                                           tracking=COLISSIMO, who=SELLER)

    assert shipment.status == ShipmentStatus.SHIPPED
    assert shipment.lines.count() == 2


def test_disabled_carrier_is_refused() -> None:
    services.disable_carrier(code="colissimo")
    order = make_order(OrderState.SHIPPING, lines=1)
    (line,) = _lines(order)

    with pytest.raises(TrackingInvalid):
        _ship(order, {line: 1}, shipped=True, tracking=COLISSIMO)


def test_postcode_goes_into_the_link_of_carriers_that_need_it() -> None:
    order = make_order(OrderState.SHIPPING, lines=1)
    (line,) = _lines(order)

    shipment = _ship(order, {line: 1}, shipped=True,
                     tracking=services.TrackingRequest(carrier_code="mondial-relay", tracking_number="123"))

    assert shipment.tracking_url.endswith("numeroExpedition=123&codePostal=69003")
