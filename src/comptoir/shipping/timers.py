"""Shipping's timer: a parcel shipped without tracking is flagged 24 business hours later (DESIGN §3).

A flag, not an order transition: it stays out of the lifecycle table. The worker sends the FlagTimerKind
TRACKING_MISSING here; the flag counts against the seller and the seller is notified.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction

from comptoir.core import clock
from comptoir.notifications import services as notification_services
from comptoir.orders.events import OrderEvent
from comptoir.orders.models import Order
from comptoir.shipping import services


def handle_tracking_missing(order_pk: int, still_pending: Callable[[], bool]) -> bool:
    """Flag every parcel of the order whose 24 business hours have run out without tracking, tell the seller,
    and schedule the check of the next one. A timer cancelled meanwhile (tracking added) does nothing."""
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(pk=order_pk).first()
        if order is None or not still_pending():
            return False
        now = clock.now()
        due = [s for s in services.untracked_shipments(order_pk).select_for_update().order_by("id")
               if s.shipped_date is not None and services.tracking_due_at(s.shipped_date) <= now]
        for shipment in due:
            shipment.tracking_missing_flagged, shipment.tracking_missing_flagged_date = True, now
            shipment.last_updated_date = now
            shipment.save(update_fields=["tracking_missing_flagged", "tracking_missing_flagged_date",
                                         "last_updated_date"])
        if due:
            notification_services.record_events([OrderEvent("ShipmentTrackingMissing", order.order_id,
                                                            order.shop_id, now, {
                "shipments": [{"shipment_id": s.shipment_id, "carrier_name": s.carrier_name,
                               "shipped_date": s.shipped_date.isoformat() if s.shipped_date else None}
                              for s in due],
            })])
        services.schedule_tracking_check(order_pk)
        return bool(due)
