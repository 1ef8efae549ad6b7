"""Personal data: REDACT_AFTER_DAYS after an order ended, the worker redacts the customer's details on the order,
its messages and history, writes a history row, keeps the ledger, and never redacts twice or a live order."""

from __future__ import annotations

from datetime import timedelta

import pytest

from comptoir.ledger.models import LedgerEntry
from comptoir.messaging import services as messaging
from comptoir.messaging.models import Message
from comptoir.messaging.rules import Participant
from comptoir.orders.models import Order, OrderHistory
from comptoir.orders.services.redaction import TRIGGER, sweep_redaction
from comptoir.orders.states import OrderState
from comptoir.timers.worker import run_until_idle
from tests.factories import make_order

pytestmark = pytest.mark.django_db


def test_closed_order_is_redacted_after_the_delay_once_and_the_ledger_kept(test_clock, comptoir_settings) -> None:
    comptoir_settings(REDACT_AFTER_DAYS=365)
    order = make_order(OrderState.CLOSED)
    messaging.start_thread(order_id=order.order_id, author=messaging.Author(Participant.CUSTOMER, "Jeanne Martin"),
                           body="Merci, bien reçu !", to=["SHOP"])
    live = make_order(OrderState.SHIPPED)
    ledger = list(LedgerEntry.objects.filter(order_id=order.order_id).order_by("id").values())

    test_clock.advance(timedelta(days=364))
    assert sweep_redaction("w") == 0
    assert Order.objects.get(pk=order.pk).customer_lastname == "Martin"

    test_clock.advance(timedelta(days=2))
    before = test_clock.now()
    run_until_idle()

    redacted = Order.objects.get(pk=order.pk)
    assert before <= redacted.redacted_date <= test_clock.now()  # the sweep's own clock, not a stored constant
    assert (redacted.customer_firstname, redacted.customer_lastname, redacted.customer_email,
            redacted.customer_civility) == ("Client", "anonymisé", "", "")
    assert redacted.shipping_address == {"country": "France", "country_iso_code": "FRA"}
    assert redacted.billing_address == {"country": "France", "country_iso_code": "FRA"}
    assert redacted.state == OrderState.CLOSED and redacted.version == order.version + 1
    assert list(Message.objects.filter(thread__order=order).values_list("author_name", flat=True)) == ["Client"]
    assert not OrderHistory.objects.filter(order=order, actor="CUSTOMER").exclude(actor_name="Client").exists()
    row = OrderHistory.objects.get(order=order, trigger=TRIGGER)
    assert (row.actor, row.from_state, row.to_state, row.details["after_days"]) == ("SYSTEM", "CLOSED", "CLOSED", 365)
    assert ledger and list(LedgerEntry.objects.filter(order_id=order.order_id).order_by("id").values()) == ledger
    assert Order.objects.get(pk=live.pk).redacted_date is None  # closed by the worker meanwhile: its delay starts

    # Idempotent: nothing left to do, no second history row.
    assert sweep_redaction("w") == 0
    assert OrderHistory.objects.filter(order=order, trigger=TRIGGER).count() == 1


def test_refused_and_canceled_orders_count_from_their_end(test_clock, comptoir_settings) -> None:
    comptoir_settings(REDACT_AFTER_DAYS=30)
    refused = make_order(OrderState.REFUSED)
    canceled = make_order(OrderState.CANCELED)
    waiting = make_order(OrderState.WAITING_ACCEPTANCE)
    test_clock.advance(timedelta(days=31))
    Order.objects.filter(pk=waiting.pk).update(last_updated_date=test_clock.now() - timedelta(days=60))

    assert sweep_redaction("w", limit=1) == 1  # batches
    assert sweep_redaction("w") == 1
    assert sweep_redaction("w") == 0
    assert set(Order.objects.filter(redacted_date__isnull=False).values_list("pk", flat=True)) == {
        refused.pk, canceled.pk}


def test_zero_days_turns_redaction_off(test_clock, comptoir_settings) -> None:
    comptoir_settings(REDACT_AFTER_DAYS=0)
    order = make_order(OrderState.REFUSED)
    test_clock.advance(timedelta(days=4000))
    assert sweep_redaction("w") == 0
    assert Order.objects.get(pk=order.pk).redacted_date is None
