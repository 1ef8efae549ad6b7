"""Giving up on a debit never cancels an order whose capture actually went through."""

from __future__ import annotations

import pytest

from comptoir.orders.states import OrderState
from comptoir.payments.models import SimulatedCharge
from comptoir.payments.simulated import SimulatedProvider
from comptoir.timers.models import Timer
from comptoir.timers.worker import run_timer
from tests.factories import make_order

pytestmark = pytest.mark.django_db(transaction=True)


def _give_up(order) -> None:
    timer = Timer.objects.get(order=order, kind="DEBIT_GIVE_UP", state="PENDING")
    Timer.objects.filter(pk=timer.pk).update(claimed_by="t")
    run_timer(timer.pk, timer.kind, order.pk, "t")


def test_a_capture_that_went_through_confirms_the_order_at_give_up_time() -> None:
    order = make_order(OrderState.WAITING_DEBIT)
    # The provider captured, but our side never recorded it (the answer was lost).
    SimulatedProvider().capture(order_id=order.order_id, authorization_ref=order.payment.authorization_ref,
                                amount_cents=order.total_price_cents, currency="EUR",
                                idempotency_key=f"capture:{order.order_id}")

    _give_up(order)

    order.refresh_from_db()
    assert order.state == OrderState.SHIPPING
    assert SimulatedCharge.objects.filter(kind="CAPTURE").count() == 1


def test_a_provider_still_unreachable_at_give_up_time_cancels_the_order(monkeypatch) -> None:
    order = make_order(OrderState.WAITING_DEBIT)

    def unreachable(self, **kwargs):
        raise ConnectionError("provider down")

    monkeypatch.setattr(SimulatedProvider, "capture", unreachable)
    _give_up(order)

    order.refresh_from_db()
    assert order.state == OrderState.CANCELED
    assert order.state_reason_code == "DEBIT_TIMEOUT"
    assert order.payment.status == "RELEASED"
