"""The operator's fraud gate on a real database: approve, reject (with a reason; the hold is released),
ask the customer for documents (once)."""

from __future__ import annotations

import pytest

from comptoir.core.errors import ValidationError
from comptoir.notifications.models import OutboxEvent
from comptoir.orders import services
from comptoir.orders.errors import GuardRefused, OrderInvalidState
from comptoir.orders.models import Order
from comptoir.orders.states import OrderState
from comptoir.payments.models import Payment, PaymentOperation, SimulatedCharge
from comptoir.timers.models import Timer
from tests.factories import OPERATOR, SELLER, make_order

pytestmark = pytest.mark.django_db(transaction=True)


def _reload(order: Order) -> Order:
    return Order.objects.get(pk=order.pk)


def _events(order: Order, event_type: str) -> set[str]:
    return set(OutboxEvent.objects.filter(order_id=order.order_id, event_type=event_type)
               .values_list("audience", flat=True))


def test_approving_sends_the_order_to_the_seller_with_a_deadline() -> None:
    order = make_order(OrderState.STAGING)

    services.approve_order(order_id=order.order_id, who=OPERATOR)

    order = _reload(order)
    assert order.state == OrderState.WAITING_ACCEPTANCE
    assert set(order.lines.values_list("state", flat=True)) == {OrderState.WAITING_ACCEPTANCE}
    row = order.history.get(trigger="APPROVE", line_id="")
    assert (row.actor, row.actor_name, row.from_state, row.to_state) == (
        "OPERATOR", "tests", OrderState.STAGING, OrderState.WAITING_ACCEPTANCE)
    assert order.history.filter(trigger="APPROVE").exclude(line_id="").count() == 2  # one row per line
    assert Timer.objects.get(order=order, kind="AUTO_REFUSE", state="PENDING").due_at == order.acceptance_deadline
    assert Timer.objects.filter(order=order, kind="ACCEPTANCE_WARNING", state="PENDING").count() == 1
    assert _events(order, "OrderAwaitingAcceptance") == {"SELLER"}
    assert order.version == 2


def test_the_seller_cannot_approve_its_own_order() -> None:
    order = make_order(OrderState.STAGING)

    with pytest.raises(OrderInvalidState):
        services.approve_order(order_id=order.order_id, who=SELLER)

    assert _reload(order).state == OrderState.STAGING


def test_rejecting_requires_a_reason() -> None:
    order = make_order(OrderState.STAGING)

    for reason in ("", "   "):
        with pytest.raises(ValidationError) as error:
            services.reject_order(order_id=order.order_id, reason=reason, who=OPERATOR)
        assert error.value.field == "reason"

    order = _reload(order)
    assert order.state == OrderState.STAGING
    assert Payment.objects.get(order=order).status == "AUTHORIZED"


def test_rejecting_cancels_the_order_with_its_reason_and_releases_the_payment() -> None:
    order = make_order(OrderState.STAGING)
    payment = Payment.objects.get(order=order)

    services.reject_order(order_id=order.order_id, reason="  Carte volée  ", who=OPERATOR)

    order = _reload(order)
    assert order.state == OrderState.CANCELED
    assert (order.state_reason_code, order.state_reason_label) == ("FRAUD_REJECTED", "Carte volée")
    assert set(order.lines.values_list("state", "state_reason_label")) == {(OrderState.CANCELED, "Carte volée")}
    row = order.history.get(trigger="REJECT", line_id="")
    assert (row.actor, row.to_state, row.reason_label) == ("OPERATOR", OrderState.CANCELED, "Carte volée")
    # the hold on the customer's card is released, once, for its whole amount
    payment.refresh_from_db()
    assert payment.status == "RELEASED"
    assert payment.released_cents == payment.authorized_cents == order.total_price_cents
    assert payment.captured_cents == 0
    assert PaymentOperation.objects.filter(payment=payment, kind="RELEASE").count() == 1
    assert SimulatedCharge.objects.filter(kind="RELEASE", reference=payment.authorization_ref).count() == 1
    # no timer is left running and the customer is told
    assert not Timer.objects.filter(order=order, state="PENDING").exists()
    assert "CUSTOMER" in _events(order, "OrderCanceled")


def test_a_rejected_order_cannot_be_approved_afterwards() -> None:
    order = make_order(OrderState.STAGING)
    services.reject_order(order_id=order.order_id, reason="Fraude", who=OPERATOR)

    with pytest.raises(OrderInvalidState):
        services.approve_order(order_id=order.order_id, who=OPERATOR)

    assert _reload(order).state == OrderState.CANCELED


def test_requesting_documents_keeps_the_order_in_staging_and_flags_it() -> None:
    order = make_order(OrderState.STAGING)

    services.request_customer_documents(order_id=order.order_id, note="Pièce d'identité", who=OPERATOR)

    order = _reload(order)
    assert order.state == OrderState.STAGING
    assert order.waiting_customer_documents is True
    assert set(order.lines.values_list("state", flat=True)) == {OrderState.STAGING}
    row = order.history.get(trigger="REQUEST_DOCUMENTS")
    assert (row.from_state, row.to_state, row.reason_label, row.line_id) == (
        OrderState.STAGING, OrderState.STAGING, "Pièce d'identité", "")
    assert _events(order, "CustomerDocumentsRequested") == {"CUSTOMER"}


def test_documents_cannot_be_requested_twice_and_nothing_changes() -> None:
    order = make_order(OrderState.STAGING)
    services.request_customer_documents(order_id=order.order_id, note="Pièce d'identité", who=OPERATOR)
    before = _reload(order)
    history = before.history.count()
    outbox = OutboxEvent.objects.count()

    with pytest.raises(GuardRefused) as error:
        services.request_customer_documents(order_id=order.order_id, note="Encore", who=OPERATOR)

    assert error.value.code == "fraud.already_waiting_documents"
    after = _reload(order)
    assert (after.version, after.history.count(), OutboxEvent.objects.count()) == (before.version, history, outbox)


def test_approving_after_documents_clears_the_flag() -> None:
    order = make_order(OrderState.STAGING)
    services.request_customer_documents(order_id=order.order_id, note="Justificatif", who=OPERATOR)

    services.approve_order(order_id=order.order_id, who=OPERATOR)

    order = _reload(order)
    assert order.state == OrderState.WAITING_ACCEPTANCE
    assert order.waiting_customer_documents is False
