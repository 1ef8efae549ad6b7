"""Importing a customer's paid cart: one order per shop, one authorization each, idempotent replays,
validation that writes nothing, and the fraud gate skipped for scored or small orders."""

from __future__ import annotations

import dataclasses

import pytest

from comptoir.catalog.models import Offer
from comptoir.notifications.models import OutboxEvent
from comptoir.orders import services
from comptoir.orders.errors import InvalidOrderImport, OrderAlreadyImported
from comptoir.orders.models import CommercialOrder, Order, OrderHistory, OrderLine
from comptoir.orders.states import OrderState
from comptoir.payments.models import Payment, PaymentOperation, SimulatedCharge
from comptoir.shops.models import ShopState
from comptoir.timers.models import Timer
from tests.factories import OPERATOR, OfferFactory, ShopFactory, import_request

pytestmark = pytest.mark.django_db(transaction=True)

WRITTEN_MODELS = (CommercialOrder, Order, OrderLine, OrderHistory, Payment, PaymentOperation, SimulatedCharge,
                  Timer, OutboxEvent)


def _row_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in WRITTEN_MODELS}


def _two_shop_cart() -> tuple[list[tuple[Offer, int]], int, int]:
    first, second = ShopFactory(), ShopFactory()
    offers = [
        (OfferFactory(shop=first, price_cents=1000), 2),
        (OfferFactory(shop=second, price_cents=3000), 1),
        (OfferFactory(shop=first, price_cents=500), 1),
    ]
    return offers, first.id, second.id


def test_a_cart_over_two_shops_becomes_two_orders_with_one_authorization_each() -> None:
    # given a cart with lines of two shops
    offers, first_shop, second_shop = _two_shop_cart()
    request = import_request(offers, commercial_id="CART-1", shipping_cents=490)

    # when it is imported
    orders, created = services.import_customer_order(request, who=OPERATOR)

    # then there is one order per shop, suffixed -A and -B, each holding only its shop's lines
    assert created is True
    assert sorted(o.order_id for o in orders) == ["CART-1-A", "CART-1-B"]
    by_shop = {o.shop_id: Order.objects.get(pk=o.pk) for o in orders}
    assert set(by_shop) == {first_shop, second_shop}
    first, second = by_shop[first_shop], by_shop[second_shop]
    assert [(line.line_id, line.quantity, line.price_cents) for line in first.lines.order_by("index")] == [
        (f"{first.order_id}-1", 2, 2000), (f"{first.order_id}-2", 1, 500),
    ]
    assert [(line.quantity, line.price_cents) for line in second.lines.all()] == [(1, 3000)]
    assert all(line.offer.shop_id == first_shop for line in first.lines.all())
    assert (first.price_cents, first.shipping_price_cents, first.total_price_cents) == (2500, 980, 3480)
    assert (second.price_cents, second.shipping_price_cents, second.total_price_cents) == (3000, 490, 3490)
    assert {o.state for o in by_shop.values()} == {OrderState.STAGING}
    assert set(OrderLine.objects.values_list("state", flat=True)) == {OrderState.STAGING}
    assert CommercialOrder.objects.get(commercial_id="CART-1").orders.count() == 2
    # and each order has its own authorization of exactly its total, asked once of the provider
    for order in (first, second):
        payment = Payment.objects.get(order=order)
        assert payment.status == "AUTHORIZED"
        assert payment.authorized_cents == order.total_price_cents
        charge = SimulatedCharge.objects.get(idempotency_key=f"authorize:{order.order_id}")
        assert (charge.kind, charge.amount_cents, charge.reference) == (
            "AUTHORIZE", order.total_price_cents, payment.authorization_ref)
        assert PaymentOperation.objects.filter(payment=payment, kind="AUTHORIZE").count() == 1
        assert Timer.objects.filter(order=order, kind="RENEW_AUTHORIZATION", state="PENDING").count() == 1
        assert order.history.filter(trigger="IMPORT", to_state=OrderState.STAGING).count() == 1
    assert SimulatedCharge.objects.count() == 2
    assert Payment.objects.get(order=first).authorization_ref != Payment.objects.get(order=second).authorization_ref


def test_replaying_the_same_import_returns_the_same_orders_and_writes_nothing() -> None:
    offers, _, _ = _two_shop_cart()
    request = import_request(offers, commercial_id="CART-2")
    first_orders, _ = services.import_customer_order(request, who=OPERATOR)
    counts = _row_counts()

    # when the storefront retries with the very same body
    again, created = services.import_customer_order(request, who=OPERATOR)

    # then it gets the same orders back and nothing is written twice
    assert created is False
    assert sorted(o.pk for o in again) == sorted(o.pk for o in first_orders)
    assert _row_counts() == counts


def test_reusing_a_commercial_id_with_another_body_is_a_conflict() -> None:
    offers, _, _ = _two_shop_cart()
    request = import_request(offers, commercial_id="CART-3")
    services.import_customer_order(request, who=OPERATOR)
    counts = _row_counts()
    other = dataclasses.replace(request, lines=request.lines[:1], digest_source=b"another body")

    with pytest.raises(OrderAlreadyImported) as error:
        services.import_customer_order(other, who=OPERATOR)

    assert error.value.code == "ORDER_ALREADY_IMPORTED"
    assert error.value.status == 409
    assert _row_counts() == counts


def _unknown_offer(request: services.ImportRequest) -> services.ImportRequest:
    lines = (*request.lines, dataclasses.replace(request.lines[0], offer_id=987654))
    return dataclasses.replace(request, lines=lines)


def _suspended_shop(request: services.ImportRequest) -> services.ImportRequest:
    from comptoir.shops.models import Shop

    Shop.objects.filter(offers__id=request.lines[-1].offer_id).update(state=ShopState.SUSPENDED)
    return request


def _zero_quantity(request: services.ImportRequest) -> services.ImportRequest:
    lines = (*request.lines[:-1], dataclasses.replace(request.lines[-1], quantity=0))
    return dataclasses.replace(request, lines=lines)


@pytest.mark.parametrize("spoil", [_unknown_offer, _suspended_shop, _zero_quantity],
                         ids=["unknown offer", "suspended shop", "zero quantity"])
def test_an_invalid_cart_is_rejected_and_nothing_is_written(spoil) -> None:
    # given a valid two-shop cart spoiled by one bad line (the other shop's lines are fine)
    offers, _, _ = _two_shop_cart()
    request = spoil(import_request(offers, commercial_id="CART-BAD"))
    counts = _row_counts()

    # when it is imported
    with pytest.raises(InvalidOrderImport) as error:
        services.import_customer_order(request, who=OPERATOR)

    # then it is refused as a whole, naming the bad line, and no row of any kind is written
    assert error.value.code == "VALIDATION_ERROR"
    assert error.value.field is not None and error.value.field.startswith("offers[")
    assert _row_counts() == counts
    assert not CommercialOrder.objects.filter(commercial_id="CART-BAD").exists()


def test_a_scored_cart_skips_the_fraud_gate_with_a_system_history_row() -> None:
    offers, _, _ = _two_shop_cart()
    request = dataclasses.replace(import_request(offers, commercial_id="CART-4"), scored=True)

    orders, _ = services.import_customer_order(request, who=OPERATOR)

    for order in Order.objects.filter(pk__in=[o.pk for o in orders]):
        assert order.state == OrderState.WAITING_ACCEPTANCE
        assert set(order.lines.values_list("state", flat=True)) == {OrderState.WAITING_ACCEPTANCE}
        approval = order.history.get(trigger="APPROVE", line_id="")
        assert (approval.actor, approval.from_state, approval.to_state) == (
            "SYSTEM", OrderState.STAGING, OrderState.WAITING_ACCEPTANCE)
        assert approval.details == {"rule": "scored"}
        assert order.acceptance_deadline is not None
        assert Timer.objects.get(order=order, kind="AUTO_REFUSE", state="PENDING").due_at == order.acceptance_deadline
        assert OutboxEvent.objects.filter(order_id=order.order_id, event_type="OrderAwaitingAcceptance",
                                          audience="SELLER").count() == 1


def test_orders_at_or_under_the_auto_approval_threshold_skip_the_fraud_gate(comptoir_settings) -> None:
    # given a threshold of 34.80: the first shop's order totals exactly 34.80, the second's 34.90
    comptoir_settings(AUTO_APPROVE_MAX_CENTS=3480)
    offers, first_shop, second_shop = _two_shop_cart()

    orders, _ = services.import_customer_order(import_request(offers, shipping_cents=490), who=OPERATOR)

    by_shop = {o.shop_id: Order.objects.get(pk=o.pk) for o in orders}
    small, large = by_shop[first_shop], by_shop[second_shop]
    assert (small.total_price_cents, large.total_price_cents) == (3480, 3490)
    assert small.state == OrderState.WAITING_ACCEPTANCE
    approval = small.history.get(trigger="APPROVE", line_id="")
    assert approval.actor == "SYSTEM"
    assert approval.details == {"rule": "auto_approve_max_cents"}
    assert large.state == OrderState.STAGING
    assert not large.history.filter(trigger="APPROVE").exists()
