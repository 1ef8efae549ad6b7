"""The card authorization is kept alive while the order waits (fraud check, seller acceptance): renewed
before it expires; a renewal the bank refuses cancels the order."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from comptoir.notifications.models import OutboxEvent
from comptoir.orders.models import Order
from comptoir.orders.states import OrderState
from comptoir.payments import services as payment_services
from comptoir.payments.models import Payment, PaymentOperation
from comptoir.shops.models import Shop
from comptoir.timers.models import Timer
from comptoir.timers.worker import run_until_idle
from tests.factories import make_order

pytestmark = pytest.mark.django_db(transaction=True)

PARIS = ZoneInfo("Europe/Paris")
# A Monday with no holiday in the following weeks: the 5-business-day acceptance deadline is far away.
START = datetime(2026, 3, 2, 10, 0, tzinfo=PARIS)
ONE_SECOND = timedelta(seconds=1)


@pytest.fixture
def short_authorizations(comptoir_settings, test_clock):
    """Authorizations valid 3 days, renewed 24 h before they expire: the renewal is due 2 days after import."""
    comptoir_settings(AUTHORIZATION_VALIDITY_DAYS=3, AUTHORIZATION_RENEW_MARGIN_HOURS=24)
    test_clock.set(START)
    return test_clock


def _renewal_timer(order: Order) -> Timer:
    return Timer.objects.get(order=order, kind="RENEW_AUTHORIZATION", state="PENDING")


@pytest.mark.parametrize("state", [OrderState.WAITING_ACCEPTANCE, OrderState.STAGING])
def test_an_authorization_about_to_expire_is_renewed_and_the_order_keeps_waiting(short_authorizations, state) -> None:
    # given an order imported on Monday 10:00 whose authorization expires on Thursday 10:00
    order = make_order(state)
    payment = Payment.objects.get(order=order)
    old_ref, old_expiry = payment.authorization_ref, payment.expires_date
    assert abs(old_expiry - (payment.authorized_date + timedelta(days=3))) < ONE_SECOND
    assert abs(old_expiry - (START + timedelta(days=3))) < timedelta(minutes=1)
    assert _renewal_timer(order).due_at == old_expiry - timedelta(hours=24)

    # when the clock passes the renewal time and the worker runs
    short_authorizations.advance(timedelta(days=2, minutes=1))
    run_until_idle()

    # then the authorization is renewed: a new reference, a later expiry, one REAUTHORIZE operation
    payment.refresh_from_db()
    assert payment.status == "AUTHORIZED"
    assert payment.authorization_ref != old_ref
    operation = PaymentOperation.objects.get(payment=payment, kind="REAUTHORIZE")
    assert (operation.succeeded, operation.provider_ref, operation.amount_cents) == (
        True, payment.authorization_ref, payment.authorized_cents)
    assert operation.created_date > old_expiry - timedelta(hours=24)
    assert abs(payment.expires_date - (operation.created_date + timedelta(days=3))) < ONE_SECOND
    # and the order still waits where it was, with the next renewal scheduled 24 h before the new expiry
    order = Order.objects.get(pk=order.pk)
    assert order.state == state
    assert order.history.get(trigger="RENEW_AUTHORIZATION").actor == "SYSTEM"
    assert _renewal_timer(order).due_at == payment.expires_date - timedelta(hours=24)


def test_the_authorization_is_renewed_again_and_again_while_the_seller_waits(short_authorizations) -> None:
    order = make_order(OrderState.WAITING_ACCEPTANCE)

    for _ in range(2):
        short_authorizations.advance(timedelta(days=2, minutes=1))
        run_until_idle()

    payment = Payment.objects.get(order=order)
    keys = sorted(PaymentOperation.objects.filter(payment=payment, kind="REAUTHORIZE")
                  .values_list("idempotency_key", flat=True))
    assert keys == [f"reauthorize:{order.order_id}:1", f"reauthorize:{order.order_id}:2"]
    assert Order.objects.get(pk=order.pk).state == OrderState.WAITING_ACCEPTANCE


def test_a_renewal_refused_by_the_bank_cancels_the_order(short_authorizations) -> None:
    # given an order waiting for the seller and a bank that will refuse to renew its authorization
    order = make_order(OrderState.WAITING_ACCEPTANCE)
    payment_services.set_simulated_directive(order_id=order.order_id, refuse_capture=False,
                                             refuse_reauthorization=True)

    # when the renewal comes due
    short_authorizations.advance(timedelta(days=2, minutes=1))
    run_until_idle()

    # then the order is canceled: it can no longer be paid
    order = Order.objects.get(pk=order.pk)
    assert order.state == OrderState.CANCELED
    assert order.state_reason_code == "AUTHORIZATION_EXPIRED"
    row = order.history.get(trigger="EXPIRE_AUTHORIZATION", line_id="")
    assert (row.actor, row.from_state, row.to_state) == ("SYSTEM", OrderState.WAITING_ACCEPTANCE,
                                                          OrderState.CANCELED)
    assert set(order.lines.values_list("state", flat=True)) == {OrderState.CANCELED}
    payment = Payment.objects.get(order=order)
    assert payment.status == "EXPIRED"
    assert PaymentOperation.objects.get(payment=payment, kind="REAUTHORIZE").succeeded is False
    assert not Timer.objects.filter(order=order, state="PENDING").exists()
    assert OutboxEvent.objects.filter(order_id=order.order_id, event_type="OrderCanceled",
                                      audience="CUSTOMER").exists()
    # it is not the seller's fault: the shop stays open
    assert Shop.objects.get(pk=order.shop_id).state == "OPEN"


def test_no_renewal_once_the_order_is_accepted(short_authorizations) -> None:
    # given an order already debited: its authorization has been captured
    order = make_order(OrderState.SHIPPING)

    short_authorizations.advance(timedelta(days=2, minutes=1))
    run_until_idle()

    assert not Timer.objects.filter(order=order, kind="RENEW_AUTHORIZATION", state="PENDING").exists()
    assert not PaymentOperation.objects.filter(payment__order=order, kind="REAUTHORIZE").exists()
