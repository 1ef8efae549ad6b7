"""Declaring many parcels at once (ST01 batches, the bulk import): each parcel succeeds or fails on its own with
the error it would get alone, parcels of one order see what the earlier ones took, the order ships through the
lifecycle table once, timers and notifications are those of one-by-one declarations, and the statements do
not grow with the number of parcels."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from comptoir.core import clock
from comptoir.core.errors import ComptoirError
from comptoir.notifications.models import OutboxEvent
from comptoir.orders.errors import GuardRefused
from comptoir.orders.models import Order, OrderHistory
from comptoir.orders.states import FlagTimerKind, OrderState
from comptoir.shipping import services
from comptoir.shipping.models import Shipment, ShipmentLine
from comptoir.timers.models import Timer, TimerState
from tests.factories import SELLER, ShopFactory, ensure_carriers, make_order

pytestmark = pytest.mark.django_db
COLISSIMO = services.TrackingRequest(carrier_code="colissimo", tracking_number="6A0001")


@pytest.fixture(autouse=True)
def _carriers(db: None) -> None:
    ensure_carriers()


def _lines(order: Order) -> list[str]:
    return list(order.lines.order_by("index").values_list("line_id", flat=True))


def _request(order: Order, quantities: dict[str, int], **kwargs: Any) -> services.ShipmentRequest:
    kwargs.setdefault("tracking", COLISSIMO)
    return services.ShipmentRequest(
        order_id=order.order_id,
        lines=[services.LineRequest(quantity=q, order_line_id=line_id) for line_id, q in quantities.items()],
        **kwargs,
    )


def _ship(shop_id: int, requests: list[services.ShipmentRequest]) -> list[Any]:
    with transaction.atomic():
        return services.ship_parcels(shop_id=shop_id, requests=requests, who=SELLER)


def _alone(shop_id: int, request: services.ShipmentRequest) -> ComptoirError:
    with pytest.raises(ComptoirError) as caught:
        services.create_shipment(shop_id=shop_id, request=request, who=SELLER)
    return caught.value


def test_parcels_of_one_order_see_what_the_earlier_ones_took() -> None:
    # given an order of two lines of 2 units
    shop = ShopFactory()
    order = make_order(OrderState.SHIPPING, shop=shop, lines=2, quantity=2)
    first, second = _lines(order)

    # when one batch ships 1 + 1 of the first line, too many of the second, then the rest, then one more
    outcomes = _ship(shop.id, [
        _request(order, {first: 1}), _request(order, {first: 1}), _request(order, {second: 3}),
        _request(order, {second: 2}), _request(order, {first: 1}),
    ])

    # then each parcel got its own answer, in the batch's order
    ok = [o for o in outcomes if isinstance(o, Shipment)]
    assert [isinstance(o, Shipment) for o in outcomes] == [True, True, False, True, False]
    assert outcomes[2].code == "SHIPMENT_QUANTITY_EXCEEDED"
    assert "3 à expédier, mais 2 seulement reste à expédier" in outcomes[2].message
    assert outcomes[4].code == "ORDER_INVALID_STATE"
    # the same parcel alone, now, gets the same words
    assert outcomes[4].message == _alone(shop.id, _request(order, {first: 1})).message
    assert list(Shipment.objects.filter(order=order).order_by("id").values_list("shipment_id", flat=True)) == [
        s.shipment_id for s in ok]
    assert sorted(ShipmentLine.objects.filter(shipment__order=order).values_list("quantity", flat=True)) == [1, 1, 2]

    # and the order shipped once, through the table, its mail listing the three parcels
    assert Order.objects.get(pk=order.pk).state == OrderState.SHIPPED
    assert OrderHistory.objects.filter(order=order, trigger="SHIP", line_id="").count() == 1
    assert all(line.shipped_date is not None for line in order.lines.all())
    shipped_mails = OutboxEvent.objects.filter(order_id=order.order_id, event_type="OrderShipped")
    assert shipped_mails.exists()
    assert {len(e.payload["trackings"]) for e in shipped_mails} == {3}
    # the two parcels that left before the last one were announced on their own
    assert OutboxEvent.objects.filter(order_id=order.order_id, event_type="ShipmentShipped",
                                      audience="CUSTOMER").count() in (0, 2)
    assert {e.payload["shipment_id"] for e in OutboxEvent.objects.filter(
        order_id=order.order_id, event_type="ShipmentShipped")} == {ok[0].shipment_id, ok[1].shipment_id}


def test_refusals_in_a_batch_are_those_of_the_parcel_alone() -> None:
    shop, other = ShopFactory(), ShopFactory()
    order = make_order(OrderState.SHIPPING, shop=shop, lines=1, quantity=1)
    foreign = make_order(OrderState.SHIPPING, shop=other, lines=1)
    waiting = make_order(OrderState.WAITING_ACCEPTANCE, shop=shop, lines=1)
    line = _lines(order)[0]
    bad = [
        _request(foreign, {_lines(foreign)[0]: 1}),
        _request(waiting, {_lines(waiting)[0]: 1}),
        _request(order, {"XX": 1}),
        _request(order, {line: 1}, tracking=services.TrackingRequest(carrier_code="pigeon", tracking_number="P1")),
    ]
    alone = [_alone(shop.id, r) for r in bad]
    outcomes = _ship(shop.id, [*bad, _request(order, {line: 1})])
    assert isinstance(outcomes[-1], Shipment)
    assert [(o.code, o.message) for o in outcomes[:4]] == [(e.code, e.message) for e in alone]
    assert outcomes[3].code == "CARRIER_NOT_FOUND"
    assert Shipment.objects.count() == 1


def test_a_parcel_refused_while_writing_is_declared_alone_and_the_others_stay(monkeypatch: pytest.MonkeyPatch
                                                                               ) -> None:
    # given two orders, and the SHIP of the first refused at the last moment (a guard, a lost race)
    shop = ShopFactory()
    refused, fine = (make_order(OrderState.SHIPPING, shop=shop, lines=1) for _ in range(2))
    from comptoir.orders.services import shipments as order_shipments

    real = order_shipments.ship_order

    def ship_order(order: Order, *args: Any, **kwargs: Any) -> Any:
        if order.pk == refused.pk:
            raise GuardRefused("Action refusée (test).", code="TEST_GUARD")
        return real(order, *args, **kwargs)

    monkeypatch.setattr(order_shipments, "ship_order", ship_order)

    # when both are declared in one batch
    outcomes = _ship(shop.id, [_request(o, {_lines(o)[0]: 1}) for o in (refused, fine)])

    # then the refused parcel wrote nothing, the other one shipped its order
    assert isinstance(outcomes[0], GuardRefused) and isinstance(outcomes[1], Shipment)
    assert not Shipment.objects.filter(order=refused).exists()
    assert Order.objects.get(pk=refused.pk).version == refused.version
    assert Order.objects.get(pk=fine.pk).state == OrderState.SHIPPED


def test_untracked_parcels_set_the_tracking_timer_and_tracked_ones_none() -> None:
    shop = ShopFactory()
    untracked, tracked = (make_order(OrderState.SHIPPING, shop=shop, lines=2) for _ in range(2))
    _ship(shop.id, [_request(untracked, {_lines(untracked)[0]: 1}, tracking=None),
                    _request(tracked, {_lines(tracked)[0]: 1})])
    pending = Timer.objects.filter(kind=FlagTimerKind.TRACKING_MISSING, state=TimerState.PENDING)
    assert list(pending.values_list("order_id", flat=True)) == [untracked.pk]
    shipment = Shipment.objects.get(order=untracked)
    assert pending.get().due_at == services.tracking_due_at(shipment.shipped_date)  # type: ignore[arg-type]


def test_a_later_untracked_parcel_keeps_the_timer_of_the_first_one(test_clock: Any) -> None:
    # given an order whose first parcel left untracked a day ago
    shop = ShopFactory()
    order = make_order(OrderState.SHIPPING, shop=shop, lines=2)
    first, second = _lines(order)
    earlier = clock.now() - timedelta(days=1)
    Order.objects.filter(pk=order.pk).update(customer_debited_date=earlier - timedelta(hours=1))
    (parcel,) = _ship(shop.id, [_request(order, {first: 1}, tracking=None, shipped_date=earlier)])
    assert isinstance(parcel, Shipment)

    # when a second untracked parcel leaves now (the batch must read the earlier one to date the check)
    (parcel,) = _ship(shop.id, [_request(order, {second: 1}, tracking=None)])
    assert isinstance(parcel, Shipment)

    # then the tracking check is still due from the first departure
    pending = Timer.objects.get(order=order, kind=FlagTimerKind.TRACKING_MISSING, state=TimerState.PENDING)
    assert pending.due_at == services.tracking_due_at(earlier)


def test_st01_batches_report_each_item() -> None:
    shop = ShopFactory()
    orders = [make_order(OrderState.SHIPPING, shop=shop, lines=1) for _ in range(3)]
    requests = [_request(o, {_lines(o)[0]: 1}) for o in orders] + [_request(orders[0], {_lines(orders[0])[0]: 1})]
    report = services.create_shipments(shop_id=shop.id, requests=requests, who=SELLER)
    assert [s.order_id for s in report.succeeded] == [o.pk for o in orders]
    assert [(e.key, e.code) for e in report.errors] == [(orders[0].order_id, "ORDER_INVALID_STATE")]


def test_statements_do_not_grow_with_the_parcels(test_clock: Any) -> None:
    # prepared parcels (no SHIP): everything is written in bulk, whatever the number of orders (the test clock
    # keeps the sandbox offset out of the database, so a cache expiry cannot add a read to one capture)
    shop = ShopFactory()
    few = [make_order(OrderState.SHIPPING, shop=shop, lines=2) for _ in range(2)]
    many = [make_order(OrderState.SHIPPING, shop=shop, lines=2) for _ in range(12)]

    def requests(orders: list[Order]) -> list[services.ShipmentRequest]:
        return [_request(o, {line: 1 for line in _lines(o)}, shipped=False) for o in orders]

    for_few_requests, for_many_requests = requests(few), requests(many)
    with CaptureQueriesContext(connection) as for_few:
        assert all(isinstance(o, Shipment) for o in _ship(shop.id, for_few_requests))
    with CaptureQueriesContext(connection) as for_many:
        assert all(isinstance(o, Shipment) for o in _ship(shop.id, for_many_requests))
    assert len(for_many) == len(for_few) <= 14, [q["sql"][:80] for q in for_many.captured_queries]
    assert Shipment.objects.count() == 14
