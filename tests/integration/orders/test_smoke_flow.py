"""The main path end to end through the services: import → approve → accept → debit → ship → receive → close."""

import pytest

from comptoir.orders.states import OrderState
from comptoir.payments.models import Payment
from tests.factories import make_order

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("state", [s for s in OrderState if s not in (
    OrderState.TO_COLLECT, OrderState.INCIDENT_OPEN, OrderState.INCIDENT_CLOSED, OrderState.REFUNDED)])
def test_make_order_reaches_each_workflow_state_through_the_services(state: OrderState) -> None:
    order = make_order(state)

    assert order.state == state
    assert order.history.filter(to_state=state).exists()


def test_a_debited_order_captured_exactly_its_accepted_lines() -> None:
    order = make_order(OrderState.SHIPPING)

    payment = Payment.objects.get(order=order)
    assert payment.status == "CAPTURED"
    assert payment.captured_cents == order.total_price_cents
    assert order.customer_debited_date is not None
