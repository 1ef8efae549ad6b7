"""Tracking on a parcel: what a declaration resolves to, the payload the mails carry, and the check 24 business
hours after a parcel left without a tracking number (DESIGN §3): one pending TRACKING_MISSING timer per order."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from django.db.models import Min

from comptoir.core import clock
from comptoir.orders.events import OrderEvent
from comptoir.orders.services.lifecycle import calendar
from comptoir.orders.states import FlagTimerKind
from comptoir.shipping import rules
from comptoir.shipping.models import Shipment, ShipmentStatus
from comptoir.shipping.services.requests import TrackingRequest
from comptoir.timers import services as timer_services


def tracking_due_at(shipped_date: datetime) -> datetime:
    return calendar().add_business_hours(shipped_date, rules.TRACKING_GRACE_BUSINESS_HOURS)


def untracked_shipments(order_pk: int) -> Any:
    """Shipped parcels of the order without a tracking number and not flagged yet."""
    return _untracked().filter(order_id=order_pk)


def _untracked() -> Any:
    return Shipment.objects.filter(status=ShipmentStatus.SHIPPED, tracking_number="",
                                   tracking_missing_flagged=False, shipped_date__isnull=False)


def set_tracking_timer(order_pk: int, first_untracked: datetime | None) -> None:
    """The order's TRACKING_MISSING timer for its first untracked parcel's departure (none: cancel it)."""
    kind = FlagTimerKind.TRACKING_MISSING
    if first_untracked is None:
        timer_services.cancel(order_pk=order_pk, kinds=[kind])  # type: ignore[list-item]
        return
    due = tracking_due_at(first_untracked)
    if timer_services.pending_due_at(order_pk=order_pk, kind=kind) != due:  # type: ignore[arg-type]
        timer_services.schedule(order_pk=order_pk, kind=kind, due_at=due)  # type: ignore[arg-type]


def schedule_tracking_check(order_pk: int) -> None:
    """One pending TRACKING_MISSING timer per order, due when its first unflagged untracked parcel reaches
    24 business hours; none when every shipped parcel has tracking (adding it cancels the timer)."""
    set_tracking_timer(order_pk, untracked_shipments(order_pk).aggregate(first=Min("shipped_date"))["first"])


def schedule_tracking_checks(order_pks: Iterable[int]) -> None:
    """After parcels were added (never tracking removed) to these orders: one query finds the orders that now
    have an untracked parcel, and only those get their timer set. The others had none before either, so
    they have no pending timer to cancel (and a stale one would only find nothing due)."""
    pks = sorted(set(order_pks))
    firsts: dict[int, datetime] = {}
    for start in range(0, len(pks), 500):
        rows = (_untracked().filter(order_id__in=pks[start:start + 500]).values("order_id")
                .annotate(first=Min("shipped_date")).values_list("order_id", "first"))
        firsts.update(rows)
    for order_pk, first in sorted(firsts.items()):
        set_tracking_timer(order_pk, first)


def resolve_tracking(request: TrackingRequest | None, order: Any,
                     carrier_of: Callable[[str | None], rules.CarrierSpec | None]) -> rules.Tracking:
    if request is None or request.empty:
        return rules.NO_TRACKING
    postcode = str((order.shipping_address or {}).get("zip_code") or "")
    return rules.resolve_tracking(
        carrier=carrier_of(request.carrier_code), carrier_code=request.carrier_code,
        carrier_name=request.carrier_name, tracking_number=request.tracking_number,
        tracking_url=request.tracking_url, postcode=postcode,
    )


def set_tracking(shipment: Shipment, tracking: rules.Tracking) -> None:
    shipment.carrier_code = tracking.carrier_code
    shipment.carrier_standard_code = tracking.carrier_standard_code
    shipment.carrier_name = tracking.carrier_name
    shipment.tracking_number = tracking.tracking_number
    shipment.tracking_url = tracking.tracking_url


def tracking_payload(shipment: Shipment) -> dict[str, Any]:
    return {"shipment_id": shipment.shipment_id, "carrier_name": shipment.carrier_name,
            "tracking_number": shipment.tracking_number, "tracking_url": shipment.tracking_url}


def event(name: str, order: Any, data: dict[str, Any]) -> OrderEvent:
    return OrderEvent(name, order.order_id, order.shop_id, clock.now(), data)
