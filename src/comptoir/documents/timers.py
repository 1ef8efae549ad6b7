"""Documents' sweep: a shipped order still without an invoice INVOICE_MISSING_BUSINESS_DAYS business days after
shipment is flagged once (an `InvoiceMissingFlag` row) and its seller told once (OrderEvent "InvoiceMissing").
A flag, not an order transition: the order's state and row are left alone."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef

from comptoir.core import clock
from comptoir.documents.models import InvoiceMissingFlag
from comptoir.documents.queries import SHIPPED_STATES, missing_days
from comptoir.notifications import services as notification_services
from comptoir.orders.events import OrderEvent
from comptoir.orders.models import Order
from comptoir.orders.services.lifecycle import calendar, lock_orders


def invoice_due_at(shipped_date: datetime) -> datetime:
    """When a missing invoice is flagged: N business days after shipment (Europe/Paris, French holidays)."""
    return calendar().add_business_days(shipped_date, missing_days())


def sweep_invoice_missing(worker_id: str, *, limit: int | None = None) -> int:
    """One batch; returns how many orders were flagged. The candidates come oldest shipment first, and the due
    instant grows with the shipment date, so the due ones are a prefix of the batch: the first one not due yet
    ends it. N business days are at least N calendar days, which bounds the query (state and date indexed)."""
    days = missing_days()
    now = clock.now()
    candidates = list(
        Order.objects.filter(state__in=SHIPPED_STATES, has_invoice=False, shipped_date__isnull=False,
                             shipped_date__lte=now - timedelta(days=days))
        .filter(~Exists(InvoiceMissingFlag.objects.filter(order_id=OuterRef("pk"))))
        .order_by("shipped_date", "id").values_list("pk", "shipped_date")[: limit or
                                                                            settings.COMPTOIR["WORKER_BATCH_SIZE"]])
    due = []
    for pk, shipped in candidates:
        if invoice_due_at(shipped) > now:
            break
        due.append(pk)
    if not due:
        return 0
    with transaction.atomic():
        # Re-read under the lock: an invoice uploaded meanwhile, or another worker's flag, wins.
        locked = lock_orders(due)
        flagged = set(InvoiceMissingFlag.objects.filter(order_id__in=due).values_list("order_id", flat=True))
        orders = [o for o in locked.values() if o.pk not in flagged and not o.has_invoice
                  and o.state in SHIPPED_STATES and o.shipped_date is not None]
        InvoiceMissingFlag.objects.bulk_create([
            InvoiceMissingFlag(order_id=o.pk, shop_id=o.shop_id, shipped_date=o.shipped_date, flagged_date=now)
            for o in orders])
        notification_services.record_events([
            OrderEvent("InvoiceMissing", o.order_id, o.shop_id, now, {
                "shipped_date": o.shipped_date.isoformat() if o.shipped_date else None, "business_days": days})
            for o in orders])
    return len(orders)
