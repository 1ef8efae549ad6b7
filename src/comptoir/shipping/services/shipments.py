"""Parcels already declared: add or correct their tracking (ST23, OR23), ship a prepared one (ST24) or every
unit left (OR24). Each locks the order first; the order reaches SHIPPED through the lifecycle table once every
accepted unit has left."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Sum

from comptoir.core import clock
from comptoir.core.errors import ValidationError
from comptoir.notifications import services as notification_services
from comptoir.orders.services import Who
from comptoir.orders.services import shipments as order_shipments
from comptoir.shipping import rules
from comptoir.shipping.errors import ShipmentInvalidState, ShipmentNotFound
from comptoir.shipping.models import Shipment, ShipmentLine, ShipmentStatus
from comptoir.shipping.services.carriers import active_carrier
from comptoir.shipping.services.requests import BatchReport, TrackingRequest, each
from comptoir.shipping.services.tracking import (
    event,
    resolve_tracking,
    schedule_tracking_check,
    set_tracking,
    tracking_payload,
)


def quantities(order_pk: int) -> tuple[dict[str, int], dict[str, int]]:
    """Per line id: units in any shipment, and units in shipped shipments."""
    in_any: dict[str, int] = defaultdict(int)
    shipped: dict[str, int] = defaultdict(int)
    rows = (ShipmentLine.objects.filter(shipment__order_id=order_pk)
            .values("order_line__line_id", "shipment__status").annotate(units=Sum("quantity")))
    for row in rows:
        in_any[row["order_line__line_id"]] += row["units"]
        if row["shipment__status"] == ShipmentStatus.SHIPPED:
            shipped[row["order_line__line_id"]] += row["units"]
    return in_any, shipped


def _after_shipping(order: Any, lines: list[Any], shipped_now: list[Shipment], who: Who) -> None:
    """Shipments just left: the lines note it; the order moves to SHIPPED through the table when every
    accepted unit has left (its mail carries every tracking link), else the customer hears of this parcel."""
    titles = {line.pk: line.product_title for line in lines}
    line_ids = {line.pk: line.line_id for line in lines}
    parcel_lines = {s.pk: list(ShipmentLine.objects.filter(shipment_id=s.pk).order_by("id")) for s in shipped_now}
    shipped_line_ids = {line_ids[sl.order_line_id] for s in shipped_now for sl in parcel_lines[s.pk]}
    last = max(s.shipped_date for s in shipped_now if s.shipped_date is not None)
    order_shipments.note_shipment(order, lines, shipped_line_ids=shipped_line_ids, shipped_at=last)
    schedule_tracking_check(order.pk)
    _, shipped = quantities(order.pk)
    if rules.fully_shipped(order_shipments.accepted_quantities(lines), shipped):
        trackings = [tracking_payload(s) for s in Shipment.objects.filter(order_id=order.pk).order_by("id")
                     if s.has_tracking]
        order_shipments.ship_order(order, lines, who=who, shipped_at=last, event_data={"trackings": trackings})
        return
    notification_services.record_events([
        event("ShipmentShipped", order, {
            **tracking_payload(s),
            "lines": [{"title": titles.get(sl.order_line_id, ""), "quantity": sl.quantity}
                      for sl in parcel_lines[s.pk]],
        })
        for s in shipped_now
    ])


def _lock_shipment(shipment_id: str, shop_id: int, *, order_states: frozenset[Any]) -> tuple[Any, list[Any],
                                                                                               Shipment]:
    """Find the shipment (another shop's is not found), then lock its order, then re-read it."""
    order_id = (Shipment.objects.filter(shipment_id=shipment_id, shop_id=shop_id)
                .values_list("order__order_id", flat=True).first())
    if order_id is None:
        raise ShipmentNotFound(f"Expédition {shipment_id} introuvable.")
    order, lines = order_shipments.lock_for_shipping(order_id=order_id, shop_id=shop_id, states=order_states)
    shipment = Shipment.objects.get(shipment_id=shipment_id)
    return order, lines, shipment


def update_tracking(*, shop_id: int, shipment_id: str, tracking: TrackingRequest, who: Who) -> Shipment:
    """ST23: add or correct a shipment's tracking (also after the order has shipped)."""
    with transaction.atomic():
        order, lines, shipment = _lock_shipment(shipment_id, shop_id,
                                                order_states=order_shipments.TRACKING_STATES)
        resolved = resolve_tracking(tracking, order, active_carrier)
        if resolved == rules.NO_TRACKING:
            raise ValidationError("Informations de suivi manquantes.", field="tracking")
        set_tracking(shipment, resolved)
        shipment.last_updated_date = clock.now()
        shipment.save()
        order_shipments.note_shipment(order, lines, shipped_line_ids=set(), shipped_at=None)
        schedule_tracking_check(order.pk)
        if shipment.status == ShipmentStatus.SHIPPED:
            notification_services.record_events([event("ShipmentTrackingUpdated", order,
                                                       tracking_payload(shipment))])
    return shipment


def update_trackings(*, shop_id: int, items: Sequence[tuple[str, TrackingRequest]], who: Who) -> BatchReport:
    return each([(sid, (sid, t)) for sid, t in items],
                lambda item: update_tracking(shop_id=shop_id, shipment_id=item[0], tracking=item[1], who=who))


def ship_shipment(*, shop_id: int, shipment_id: str, who: Who) -> Shipment:
    """ST24: a prepared shipment leaves now."""
    with transaction.atomic():
        order, lines, shipment = _lock_shipment(shipment_id, shop_id,
                                                order_states=order_shipments.SHIPPABLE_STATES)
        if shipment.status != ShipmentStatus.SHIPPING:
            raise ShipmentInvalidState(f"L'expédition {shipment_id} est déjà à l'état {shipment.status}.")
        now = clock.now()
        shipment.status, shipment.shipped_date, shipment.last_updated_date = ShipmentStatus.SHIPPED, now, now
        shipment.save()
        _after_shipping(order, lines, [shipment], who)
    return shipment


def ship_shipments(*, shop_id: int, shipment_ids: Sequence[str], who: Who) -> BatchReport:
    return each([(sid, sid) for sid in shipment_ids],
                lambda sid: ship_shipment(shop_id=shop_id, shipment_id=sid, who=who))


def set_order_tracking(*, shop_id: int, order_id: str, tracking: TrackingRequest, who: Who) -> Shipment:
    """OR23 (one tracking per order, before multi-shipment): the tracking goes on the order's prepared
    shipment, created for every unit left to ship if there is none; once shipped, on its latest shipment."""
    with transaction.atomic():
        order, lines = order_shipments.lock_for_shipping(order_id=order_id, shop_id=shop_id,
                                                         states=order_shipments.TRACKING_STATES)
        resolved = resolve_tracking(tracking, order, active_carrier)
        if resolved == rules.NO_TRACKING:
            raise ValidationError("Informations de suivi manquantes.", field="tracking")
        now = clock.now()
        shipments = Shipment.objects.filter(order_id=order.pk)
        pending = shipments.filter(status=ShipmentStatus.SHIPPING).order_by("-id").first()
        target = pending or shipments.order_by("-id").first()
        if target is None or (pending is None and order.state in order_shipments.SHIPPABLE_STATES):
            target = _new_shipment_for_remaining(order, lines, now)
        set_tracking(target, resolved)
        target.last_updated_date = now
        target.save()
        order_shipments.note_shipment(order, lines, shipped_line_ids=set(), shipped_at=None)
        schedule_tracking_check(order.pk)
        if target.status == ShipmentStatus.SHIPPED:
            notification_services.record_events([event("ShipmentTrackingUpdated", order,
                                                       tracking_payload(target))])
    return target


def _new_shipment_for_remaining(order: Any, lines: list[Any], now: datetime) -> Shipment:
    """A prepared shipment with every unit not yet in one; an order shipped without shipments (back office
    « Marquer comme expédiée ») gets one shipped shipment holding everything, so its tracking has a home."""
    in_shipments, _ = quantities(order.pk)
    remaining = rules.remaining_quantities(order_shipments.accepted_quantities(lines), in_shipments)
    shipped = order.state not in order_shipments.SHIPPABLE_STATES
    shipment = Shipment.objects.create(
        shipment_id=str(uuid.uuid4()), order=order, shop_id=order.shop_id,
        status=ShipmentStatus.SHIPPED if shipped else ShipmentStatus.SHIPPING,
        shipped_date=order.shipped_date if shipped else None, created_date=now, last_updated_date=now,
    )
    ShipmentLine.objects.bulk_create([
        ShipmentLine(shipment=shipment, order_line=line, quantity=remaining[line.line_id])
        for line in lines if remaining.get(line.line_id, 0) > 0
    ])
    return shipment


def ship_remaining(*, shop_id: int, order_id: str, who: Who) -> Shipment:
    """OR24: every unit left ships now, in one shipment (the prepared one when OR23 or ST01 made one)."""
    with transaction.atomic():
        order, lines = order_shipments.lock_for_shipping(order_id=order_id, shop_id=shop_id)
        now = clock.now()
        pending = list(Shipment.objects.filter(order_id=order.pk, status=ShipmentStatus.SHIPPING).order_by("id"))
        in_shipments, _ = quantities(order.pk)
        remaining = rules.remaining_quantities(order_shipments.accepted_quantities(lines), in_shipments)
        if any(remaining.values()):
            if pending:
                ShipmentLine.objects.bulk_create([
                    ShipmentLine(shipment=pending[-1], order_line=line, quantity=remaining[line.line_id])
                    for line in lines if remaining.get(line.line_id, 0) > 0
                ])
            else:
                pending = [_new_shipment_for_remaining(order, lines, now)]
        for shipment in pending:
            shipment.status, shipment.shipped_date, shipment.last_updated_date = ShipmentStatus.SHIPPED, now, now
            shipment.save()
        _after_shipping(order, lines, pending, who)
    return pending[-1]
