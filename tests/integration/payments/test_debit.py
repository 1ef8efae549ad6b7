"""The DEBIT timer: captures exactly the accepted lines on the order's authorization, once, whatever
crashes in between; a capture the bank refuses cancels the order."""

from __future__ import annotations

from datetime import timedelta

import pytest

from comptoir.notifications.models import OutboxEvent
from comptoir.orders import services
from comptoir.orders import timers as order_timers
from comptoir.orders.models import Order
from comptoir.orders.rules import Decision
from comptoir.orders.states import OrderState, TimerKind
from comptoir.payments import services as payment_services
from comptoir.payments.models import Payment, PaymentOperation, SimulatedCharge
from comptoir.timers.models import Timer
from comptoir.timers.worker import run_until_idle
from tests.factories import SELLER, make_order

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _debit_at_once(comptoir_settings) -> None:
    comptoir_settings(DEBIT_DELAY_SECONDS=0)


def _reload(order: Order) -> Order:
    return Order.objects.get(pk=order.pk)


def _partly_refused_order() -> tuple[Order, list[str], str]:
    """Three lines: 10.00, 20.00 and 30.00 plus 4.90 shipping each; the seller refuses the 20.00 one."""
    order = make_order(OrderState.WAITING_ACCEPTANCE, lines=3)
    first, second, third = order.lines.order_by("index").values_list("line_id", flat=True)
    services.decide_lines(order_id=order.order_id, shop_id=order.shop_id, who=SELLER,
                          decisions=[Decision(first, True), Decision(second, False), Decision(third, True)])
    return _reload(order), [first, third], second


def _captures() -> int:
    return SimulatedCharge.objects.filter(kind="CAPTURE").count()


def test_the_debit_captures_exactly_the_accepted_lines_on_the_same_authorization() -> None:
    # given an order whose second line was refused
    order, accepted, refused = _partly_refused_order()
    payment = Payment.objects.get(order=order)
    authorization = payment.authorization_ref
    assert payment.authorized_cents == (1000 + 490) + (2000 + 490) + (3000 + 490)

    # when the worker runs the due DEBIT timer
    run_until_idle()

    # then the accepted lines and their shipping are captured, the rest released
    payment.refresh_from_db()
    assert payment.status == "CAPTURED"
    assert payment.captured_cents == (1000 + 490) + (3000 + 490)
    assert payment.released_cents == 2000 + 490
    assert payment.authorization_ref == authorization
    charge = SimulatedCharge.objects.get(kind="CAPTURE")
    assert (charge.reference, charge.amount_cents, charge.succeeded) == (authorization, 4980, True)
    operation = PaymentOperation.objects.get(payment=payment, kind="CAPTURE")
    assert (operation.amount_cents, operation.succeeded, operation.idempotency_key) == (
        4980, True, f"capture:{order.order_id}")
    # and the order moves on to shipping, the accepted lines debited, the refused one not
    order = _reload(order)
    assert order.state == OrderState.SHIPPING
    assert order.customer_debited_date is not None
    assert order.transaction_number == authorization
    lines = {line.line_id: line for line in order.lines.all()}
    assert all(lines[line_id].debited_date == order.customer_debited_date for line_id in accepted)
    assert (lines[refused].state, lines[refused].debited_date) == (OrderState.REFUSED, None)
    assert order.history.get(trigger="CONFIRM_DEBIT", line_id="").actor == "SYSTEM"
    assert set(Timer.objects.filter(order=order, kind__in=["DEBIT", "DEBIT_GIVE_UP"])
               .values_list("kind", "state")) == {("DEBIT", "DONE"), ("DEBIT_GIVE_UP", "CANCELED")}
    assert Timer.objects.filter(order=order, kind="SHIPPING_DEADLINE", state="PENDING").count() == 1
    assert OutboxEvent.objects.filter(order_id=order.order_id, event_type="OrderDebited").exists()


def test_replaying_the_capture_and_the_timer_never_charges_twice() -> None:
    order, _, _ = _partly_refused_order()
    run_until_idle()
    payment = Payment.objects.get(order=order)
    debit_timer = Timer.objects.get(order=order, kind="DEBIT")

    # when the provider is called again with the same key (a retry after a crash) ...
    again = payment_services.call_capture(order_pk=order.pk, order_id=order.order_id, amount_cents=4980)
    # ... and the DEBIT timer comes up again (as if its DONE mark had been lost)
    Timer.objects.filter(pk=debit_timer.pk).update(state="PENDING", claimed_by="", claimed_until=None)
    run_until_idle()
    replayed = order_timers.handle(TimerKind.DEBIT, order.pk, lambda: True)

    # then the provider answers what it answered the first time, and nothing is charged or recorded twice
    assert again.succeeded and again.reference == payment.authorization_ref
    assert replayed is False
    assert _captures() == 1
    assert PaymentOperation.objects.filter(payment=payment, kind="CAPTURE").count() == 1
    order = _reload(order)
    assert order.state == OrderState.SHIPPING
    assert order.history.filter(trigger="CONFIRM_DEBIT", line_id="").count() == 1
    assert Timer.objects.get(pk=debit_timer.pk).state == "DONE"
    payment_after = Payment.objects.get(order=order)
    assert (payment_after.captured_cents, payment_after.released_cents) == (4980, 2490)


def test_a_worker_killed_between_the_provider_call_and_its_commit_charges_once() -> None:
    # given a worker that called the provider and died before committing anything
    order, _, _ = _partly_refused_order()
    amount = order_timers.live_amount_cents(order.pk)
    first = payment_services.call_capture(order_pk=order.pk, order_id=order.order_id, amount_cents=amount)
    assert first.succeeded and _captures() == 1
    assert _reload(order).state == OrderState.WAITING_DEBIT  # nothing of ours was committed

    # when the timer runs again (another worker, or the same one restarted)
    run_until_idle()

    # then exactly one capture exists, and the order and our books record it once
    assert SimulatedCharge.objects.filter(kind="CAPTURE").count() == 1
    assert SimulatedCharge.objects.get(kind="CAPTURE").amount_cents == 4980
    payment = Payment.objects.get(order=order)
    assert (payment.status, payment.captured_cents) == ("CAPTURED", 4980)
    assert PaymentOperation.objects.filter(payment=payment, kind="CAPTURE").count() == 1
    assert _reload(order).state == OrderState.SHIPPING


def test_a_capture_refused_by_the_bank_cancels_the_order_and_tells_the_customer() -> None:
    # given the bank will refuse this order's capture
    order, _, _ = _partly_refused_order()
    payment_services.set_simulated_directive(order_id=order.order_id, refuse_capture=True,
                                             refuse_reauthorization=False)

    # when the DEBIT timer runs
    run_until_idle()

    # then the order is canceled with the bank's reason, the customer is told, nothing is captured
    order = _reload(order)
    assert order.state == OrderState.CANCELED
    assert (order.state_reason_code, order.state_reason_label) == (
        "DEBIT_REFUSED", "Débit refusé par la banque (simulation)")
    row = order.history.get(trigger="FAIL_DEBIT", line_id="")
    assert (row.actor, row.from_state, row.to_state, row.reason_code) == (
        "SYSTEM", OrderState.WAITING_DEBIT, OrderState.CANCELED, "DEBIT_REFUSED")
    assert row.reason_label == "Débit refusé par la banque (simulation)"
    assert set(order.lines.values_list("state", flat=True)) == {OrderState.CANCELED, OrderState.REFUSED}
    assert OutboxEvent.objects.filter(order_id=order.order_id, event_type="OrderCanceled",
                                      audience="CUSTOMER").count() == 1
    payment = Payment.objects.get(order=order)
    assert payment.captured_cents == 0
    assert PaymentOperation.objects.get(payment=payment, kind="CAPTURE").succeeded is False
    # the hold is released, as the table's FAIL_DEBIT row says, and no timer is left
    assert payment.status == "RELEASED"
    assert payment.released_cents == payment.authorized_cents
    assert PaymentOperation.objects.filter(payment=payment, kind="RELEASE").count() == 1
    assert not Timer.objects.filter(order=order, state="PENDING").exists()


def test_the_debit_gives_up_after_its_delay_and_releases_the_hold(comptoir_settings, test_clock,
                                                                    monkeypatch) -> None:
    # given a provider that never answers (the DEBIT timer is pushed out) and a give-up delay of one hour
    comptoir_settings(DEBIT_DELAY_SECONDS=7200, DEBIT_GIVE_UP_SECONDS=3600)
    order, _, _ = _partly_refused_order()
    from comptoir.payments.simulated import SimulatedProvider

    def unreachable(self, **kwargs):
        raise ConnectionError("provider unreachable")

    monkeypatch.setattr(SimulatedProvider, "capture", unreachable)

    # when the give-up delay passes
    test_clock.advance(timedelta(hours=1, minutes=1))
    run_until_idle()

    # then the order is canceled, nothing captured, the hold released
    order = _reload(order)
    assert order.state == OrderState.CANCELED
    assert order.state_reason_code == "DEBIT_TIMEOUT"
    payment = Payment.objects.get(order=order)
    assert (payment.status, payment.captured_cents) == ("RELEASED", 0)
    assert _captures() == 0
    assert Timer.objects.get(order=order, kind="DEBIT").state == "CANCELED"
