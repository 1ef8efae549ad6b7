"""The seller's per-line decision (OR21) on a real database: partial and total refusal, another shop's
order, a decision made twice, two decisions racing."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from comptoir.core.errors import ComptoirError
from comptoir.notifications.models import OutboxEvent
from comptoir.orders import services
from comptoir.orders.errors import AcceptanceDecisionMissing, OrderInvalidState, OrderNotFound
from comptoir.orders.models import Order, OrderHistory
from comptoir.orders.rules import Decision
from comptoir.orders.states import OrderState
from comptoir.payments.models import Payment, PaymentOperation
from comptoir.timers.models import Timer
from tests.factories import SELLER, ShopFactory, make_order

pytestmark = pytest.mark.django_db(transaction=True)


def _reload(order: Order) -> Order:
    return Order.objects.get(pk=order.pk)


def _line_ids(order: Order) -> list[str]:
    return list(order.lines.order_by("index").values_list("line_id", flat=True))


def _snapshot(order: Order) -> tuple:
    order = _reload(order)
    return (order.state, order.version, order.history.count(), OutboxEvent.objects.count(),
            sorted(order.lines.values_list("line_id", "state")),
            sorted(Timer.objects.filter(order=order).values_list("kind", "state")),
            Payment.objects.get(order=order).status)


def test_a_partial_refusal_moves_the_order_to_debit_and_refuses_the_refused_line() -> None:
    # given an order of three lines waiting for acceptance
    order = make_order(OrderState.WAITING_ACCEPTANCE, lines=3)
    first, second, third = _line_ids(order)

    # when the seller accepts the first and third lines and refuses the second
    services.decide_lines(
        order_id=order.order_id, shop_id=order.shop_id, who=SELLER, refusal_reason="Rupture de stock",
        decisions=[Decision(first, True), Decision(second, False), Decision(third, True)],
    )

    # then the order waits for the debit of the accepted lines
    order = _reload(order)
    assert order.state == OrderState.WAITING_DEBIT
    assert order.acceptance_decision_date is not None
    lines = {line.line_id: line for line in order.lines.all()}
    assert lines[first].state == lines[third].state == OrderState.WAITING_DEBIT
    assert (lines[second].state, lines[second].state_reason_code, lines[second].state_reason_label) == (
        OrderState.REFUSED, "SELLER_REFUSED", "Rupture de stock")
    assert lines[first].state_reason_code == ""
    # one history row per line, plus the order's own row
    rows = OrderHistory.objects.filter(order=order, trigger="ACCEPT")
    assert sorted(rows.values_list("line_id", "from_state", "to_state", "actor")) == sorted([
        ("", OrderState.WAITING_ACCEPTANCE, OrderState.WAITING_DEBIT, "SELLER"),
        (first, OrderState.WAITING_ACCEPTANCE, OrderState.WAITING_DEBIT, "SELLER"),
        (second, OrderState.WAITING_ACCEPTANCE, OrderState.REFUSED, "SELLER"),
        (third, OrderState.WAITING_ACCEPTANCE, OrderState.WAITING_DEBIT, "SELLER"),
    ])
    assert rows.get(line_id=second).reason_label == "Rupture de stock"
    assert rows.get(line_id="").details == {"accepted": sorted([first, third]), "refused": [second]}
    # the customer hears of the refused line; the acceptance timers are gone, the debit is scheduled
    refused_event = OutboxEvent.objects.get(order_id=order.order_id, event_type="LinesRefused")
    assert refused_event.audience == "CUSTOMER"
    assert refused_event.payload["refused_lines"] == [second]
    assert OutboxEvent.objects.filter(order_id=order.order_id, event_type="OrderAccepted").exists()
    pending = set(Timer.objects.filter(order=order, state="PENDING").values_list("kind", flat=True))
    assert pending == {"DEBIT", "DEBIT_GIVE_UP"}
    assert Payment.objects.get(order=order).status == "AUTHORIZED"  # captured by the DEBIT timer


def test_a_refusal_without_a_reason_gets_the_default_label() -> None:
    order = make_order(OrderState.WAITING_ACCEPTANCE)
    first, second = _line_ids(order)

    services.decide_lines(order_id=order.order_id, shop_id=order.shop_id, who=SELLER, refusal_reason="  ",
                          decisions=[Decision(first, True), Decision(second, False)])

    assert order.lines.get(line_id=second).state_reason_label == "Refusée par le vendeur"


def test_refusing_every_line_refuses_the_order_and_releases_the_payment() -> None:
    order = make_order(OrderState.WAITING_ACCEPTANCE)
    first, second = _line_ids(order)

    services.decide_lines(order_id=order.order_id, shop_id=order.shop_id, who=SELLER,
                          decisions=[Decision(first, False), Decision(second, False)])

    order = _reload(order)
    assert order.state == OrderState.REFUSED
    assert order.state_reason_code == "SELLER_REFUSED"
    assert set(order.lines.values_list("state", flat=True)) == {OrderState.REFUSED}
    assert order.history.get(trigger="REFUSE", line_id="").to_state == OrderState.REFUSED
    payment = Payment.objects.get(order=order)
    assert (payment.status, payment.captured_cents, payment.released_cents) == (
        "RELEASED", 0, payment.authorized_cents)
    assert PaymentOperation.objects.filter(payment=payment, kind="RELEASE").count() == 1
    assert not Timer.objects.filter(order=order, state="PENDING").exists()
    assert OutboxEvent.objects.filter(order_id=order.order_id, event_type="OrderRefused",
                                      audience="CUSTOMER").exists()
    assert not OutboxEvent.objects.filter(order_id=order.order_id, event_type="LinesRefused").exists()


def test_another_shop_cannot_decide_and_sees_no_such_order() -> None:
    order = make_order(OrderState.WAITING_ACCEPTANCE)
    other_shop = ShopFactory()
    before = _snapshot(order)

    with pytest.raises(OrderNotFound) as error:
        services.decide_lines(order_id=order.order_id, shop_id=other_shop.id, who=SELLER,
                              decisions=[Decision(line_id, True) for line_id in _line_ids(order)])

    assert error.value.status == 404
    assert _snapshot(order) == before


def test_an_incomplete_decision_changes_nothing() -> None:
    order = make_order(OrderState.WAITING_ACCEPTANCE)
    first, _ = _line_ids(order)
    before = _snapshot(order)

    with pytest.raises(AcceptanceDecisionMissing):
        services.decide_lines(order_id=order.order_id, shop_id=order.shop_id, who=SELLER,
                              decisions=[Decision(first, True)])

    assert _snapshot(order) == before


def test_deciding_twice_is_refused_and_changes_nothing() -> None:
    order = make_order(OrderState.WAITING_ACCEPTANCE)
    decisions = [Decision(line_id, True) for line_id in _line_ids(order)]
    services.decide_lines(order_id=order.order_id, shop_id=order.shop_id, who=SELLER, decisions=decisions)
    before = _snapshot(order)

    with pytest.raises(OrderInvalidState) as error:
        services.decide_lines(order_id=order.order_id, shop_id=order.shop_id, who=SELLER, decisions=decisions)

    assert error.value.code == "ORDER_INVALID_STATE"
    assert _snapshot(order) == before


def test_an_order_still_in_fraud_check_cannot_be_decided() -> None:
    order = make_order(OrderState.STAGING)
    before = _snapshot(order)

    with pytest.raises(OrderInvalidState):
        services.decide_lines(order_id=order.order_id, shop_id=order.shop_id, who=SELLER,
                              decisions=[Decision(line_id, True) for line_id in _line_ids(order)])

    assert _snapshot(order) == before


def test_two_racing_decisions_let_exactly_one_win() -> None:
    # given an order and two clients of the seller deciding at the same moment (accept vs refuse all)
    order = make_order(OrderState.WAITING_ACCEPTANCE)
    line_ids = _line_ids(order)
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def decide(accept: bool) -> None:
        try:
            barrier.wait(timeout=10)
            services.decide_lines(order_id=order.order_id, shop_id=order.shop_id, who=SELLER,
                                  decisions=[Decision(line_id, accept) for line_id in line_ids])
            outcomes.append(("won", accept))
        except ComptoirError as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=decide, args=(accept,)) for accept in (True, False)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    # then one decision wins, the other gets a clean error, and the order reflects the winner only
    winners = [o for o in outcomes if isinstance(o, tuple)]
    assert len(outcomes) == 2 and len(winners) == 1, outcomes
    assert [o for o in outcomes if not isinstance(o, tuple)][0] in ("ORDER_INVALID_STATE", "ORDER_CONFLICT")
    order = _reload(order)
    accepted = winners[0][1]
    assert order.state == (OrderState.WAITING_DEBIT if accepted else OrderState.REFUSED)
    assert order.history.filter(line_id="", trigger__in=["ACCEPT", "REFUSE"]).count() == 1
    assert order.version == 3
