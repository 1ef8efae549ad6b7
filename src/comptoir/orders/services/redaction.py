"""Personal data (GDPR): REDACT_AFTER_DAYS after an order ended (closed, or refused or canceled), the worker
redacts the customer's name, civility, e-mail, addresses and phones on the order, the customers' names on its
messages and history, and writes a history row. The ledger and issued documents (invoices) keep what the law
requires: they are not touched. Idempotent: an order is redacted once (`redacted_date`), in batches."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import F

from comptoir.core import clock
from comptoir.messaging import redaction as messaging_redaction
from comptoir.notifications import services as notification_services
from comptoir.orders.models import Order, OrderHistory
from comptoir.orders.services.lifecycle import SYSTEM, lock_orders
from comptoir.orders.services.sql import writing
from comptoir.orders.states import Actor, OrderState

TRIGGER = "REDACT_PERSONAL_DATA"
REDACTED_FIRSTNAME = "Client"
REDACTED_LASTNAME = "anonymisé"
# What an address keeps: the country, which says nothing of the person (shipping zones, statistics).
KEPT_ADDRESS_KEYS = ("country", "country_iso_code")
_DROPPED = (OrderState.REFUSED, OrderState.CANCELED)


def redact_after_days() -> int:
    return settings.COMPTOIR["REDACT_AFTER_DAYS"]


def ended_date(order: Order) -> datetime | None:
    """When the order ended, or None while it is live: closing, or the refusal or cancelation."""
    if order.state == OrderState.CLOSED:
        return order.closed_date or order.last_updated_date
    if order.state in _DROPPED:
        return order.last_updated_date
    return None


def redacted_address(address: dict[str, Any] | None) -> dict[str, Any]:
    return {key: address[key] for key in KEPT_ADDRESS_KEYS if address and address.get(key)}


def due_orders(now: datetime, limit: int) -> list[int]:
    """Ended orders past the delay and not redacted yet, oldest end first (two partial indexes)."""
    days = redact_after_days()
    if days <= 0:
        return []
    cutoff = now - timedelta(days=days)
    base = Order.objects.filter(redacted_date__isnull=True)
    closed = list(base.filter(state=OrderState.CLOSED, closed_date__lte=cutoff)
                  .order_by("closed_date", "id").values_list("pk", flat=True)[:limit])
    dropped = list(base.filter(state__in=_DROPPED, last_updated_date__lte=cutoff)
                   .order_by("last_updated_date", "id").values_list("pk", flat=True)[: limit - len(closed)])
    return closed + dropped


def redact_orders(*, order_pks: Sequence[int], now: datetime | None = None) -> int:
    """Redact those of the orders still due (re-read under the lock); returns how many were redacted."""
    now = now or clock.now()
    days = redact_after_days()
    if days <= 0 or not order_pks:
        return 0
    cutoff = now - timedelta(days=days)
    with writing():
        locked = lock_orders(order_pks)
        due = [order for order in locked.values()
               if order.redacted_date is None and (end := ended_date(order)) is not None and end <= cutoff]
        if not due:
            return 0
        for order in due:
            order.customer_civility = ""
            order.customer_firstname = REDACTED_FIRSTNAME
            order.customer_lastname = REDACTED_LASTNAME
            order.customer_email = ""
            order.billing_address = redacted_address(order.billing_address)
            order.shipping_address = redacted_address(order.shipping_address)
            order.redacted_date = now
            order.last_updated_date = now
            order.version = F("version") + 1
        Order.objects.bulk_update(due, ["customer_civility", "customer_firstname", "customer_lastname",
                                        "customer_email", "billing_address", "shipping_address", "redacted_date",
                                        "last_updated_date", "version"])
        pks = [order.pk for order in due]
        # A customer's name written in the history (a reception confirmed, a message) goes too.
        OrderHistory.objects.filter(order_id__in=pks, actor=Actor.CUSTOMER).update(actor_name=REDACTED_FIRSTNAME)
        messaging_redaction.redact_customer_names(order_pks=pks)
        notification_services.insert_rows(OrderHistory, [{
            "order": order.pk, "created_date": now, "actor": SYSTEM.actor.value, "actor_name": SYSTEM.name,
            "trigger": TRIGGER, "from_state": order.state, "to_state": order.state,
            "reason_label": f"Données personnelles du client anonymisées ({days} jours après la fin de la commande)",
            "details": {"after_days": days, "fields": ["customer_civility", "customer_firstname", "customer_lastname",
                                                       "customer_email", "billing_address", "shipping_address"]},
        } for order in due])
    return len(due)


def sweep_redaction(worker_id: str, *, limit: int | None = None) -> int:
    """One batch of the worker's redaction sweep; returns how many orders were redacted."""
    now = clock.now()
    pks = due_orders(now, limit or settings.COMPTOIR["REDACT_BATCH_SIZE"])
    return redact_orders(order_pks=pks, now=now) if pks else 0
