"""Shipping use cases: declare shipments (split by line and quantity), add or correct tracking, ship them,
and let the order reach SHIPPED through the lifecycle once every accepted unit has left. Every write locks
the order first, so two concurrent declarations cannot ship the same unit twice."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from django.db import IntegrityError, transaction
from django.db.models import Sum

from comptoir.core import clock
from comptoir.core.errors import ComptoirError, ValidationError
from comptoir.notifications import services as notification_services
from comptoir.orders.events import OrderEvent
from comptoir.orders.services import Who
from comptoir.orders.services import shipments as order_shipments
from comptoir.orders.services.lifecycle import calendar
from comptoir.orders.states import FlagTimerKind
from comptoir.shipping import rules
from comptoir.shipping.errors import (
    CarrierAlreadyExists,
    CarrierNotFound,
    ShipmentInvalidState,
    ShipmentLineNotFound,
    ShipmentNotFound,
)
from comptoir.shipping.models import Carrier, Shipment, ShipmentLine, ShipmentStatus
from comptoir.timers import services as timer_services

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class LineRequest:
    quantity: int
    order_line_id: str | None = None
    offer_sku: str | None = None
    package_reference: str = ""


@dataclass(frozen=True, slots=True)
class TrackingRequest:
    carrier_code: str | None = None
    carrier_name: str | None = None
    tracking_number: str | None = None
    tracking_url: str | None = None

    @property
    def empty(self) -> bool:
        return not any((self.carrier_code, self.carrier_name, self.tracking_number, self.tracking_url))


@dataclass(frozen=True, slots=True)
class ShipmentRequest:
    order_id: str
    lines: Sequence[LineRequest]
    tracking: TrackingRequest | None = None
    shipped: bool = True
    shipped_date: datetime | None = None  # the parcel's real departure; now when absent
    invoice_reference: str = ""


@dataclass(frozen=True, slots=True)
class ItemError:
    key: str  # the order_id (ST01) or shipment id (ST23, ST24) the error is about
    message: str
    code: str


@dataclass(slots=True)
class BatchReport:
    succeeded: list[Any] = field(default_factory=list)
    errors: list[ItemError] = field(default_factory=list)


def _each(keys_and_items: Sequence[tuple[str, T]], one: Callable[[T], Any]) -> BatchReport:
    """Bulk endpoints: each item in its own transaction; a refused item is reported, the others go on."""
    if len(keys_and_items) > rules.MAX_SHIPMENTS_PER_CALL:
        raise ValidationError(f"{rules.MAX_SHIPMENTS_PER_CALL} expéditions au plus par appel.", field="shipments")
    report = BatchReport()
    for key, item in keys_and_items:
        try:
            report.succeeded.append(one(item))
        except ComptoirError as exc:
            report.errors.append(ItemError(key, exc.message, exc.code))
    return report


# --- carriers ----------------------------------------------------------------------------------------------


def active_carrier(code: str | None) -> rules.CarrierSpec | None:
    if rules.is_other_carrier(code):
        return None
    carrier = Carrier.objects.filter(code=(code or "").strip(), active=True).first()
    return carrier.spec() if carrier else None


def create_carrier(*, code: str, label: str, tracking_url: str, standard_code: str = "") -> Carrier:
    code = code.strip()
    if rules.is_other_carrier(code) or not label.strip():
        raise ValidationError("Code et libellé du transporteur obligatoires (« autre » est réservé).", field="code")
    rules.check_tracking_url_template(tracking_url)
    now = clock.now()
    try:
        with transaction.atomic():
            return Carrier.objects.create(code=code, label=label.strip(), standard_code=standard_code.strip(),
                                          tracking_url=tracking_url.strip(), active=True, created_date=now,
                                          last_updated_date=now)
    except IntegrityError:
        raise CarrierAlreadyExists(f"Un transporteur porte déjà le code {code}.", field="code") from None


def update_carrier(*, code: str, label: str | None = None, tracking_url: str | None = None,
                   standard_code: str | None = None, active: bool | None = None) -> Carrier:
    with transaction.atomic():
        carrier = Carrier.objects.select_for_update().filter(code=code).first()
        if carrier is None:
            raise CarrierNotFound(f"Transporteur {code} introuvable.")
        if tracking_url is not None:
            rules.check_tracking_url_template(tracking_url)
            carrier.tracking_url = tracking_url.strip()
        if label is not None:
            if not label.strip():
                raise ValidationError("Libellé du transporteur obligatoire.", field="label")
            carrier.label = label.strip()
        if standard_code is not None:
            carrier.standard_code = standard_code.strip()
        if active is not None:
            carrier.active = active
        carrier.last_updated_date = clock.now()
        carrier.save()
    return carrier


def disable_carrier(*, code: str) -> Carrier:
    """Disabled carriers leave the sellers' list; shipments already declared keep their link."""
    return update_carrier(code=code, active=False)


def preview_link(*, tracking_url: str, tracking_number: str, postcode: str = "") -> str:
    return rules.tracking_link(tracking_url, tracking_number=tracking_number, postcode=postcode)


# --- tracking check (DESIGN §3: 24 business hours after shipment, flagged if no tracking) -------------------


def tracking_due_at(shipped_date: datetime) -> datetime:
    return calendar().add_business_hours(shipped_date, rules.TRACKING_GRACE_BUSINESS_HOURS)


def untracked_shipments(order_pk: int) -> Any:
    """Shipped parcels of the order without a tracking number and not flagged yet."""
    return Shipment.objects.filter(order_id=order_pk, status=ShipmentStatus.SHIPPED, tracking_number="",
                                   tracking_missing_flagged=False, shipped_date__isnull=False)


def schedule_tracking_check(order_pk: int) -> None:
    """One pending TRACKING_MISSING timer per order, due when its first unflagged untracked parcel reaches
    24 business hours; none when every shipped parcel has tracking (adding it cancels the timer)."""
    dates = list(untracked_shipments(order_pk).values_list("shipped_date", flat=True))
    kind = FlagTimerKind.TRACKING_MISSING
    if not dates:
        timer_services.cancel(order_pk=order_pk, kinds=[kind])  # type: ignore[list-item]
        return
    due = tracking_due_at(min(dates))
    if timer_services.pending_due_at(order_pk=order_pk, kind=kind) != due:  # type: ignore[arg-type]
        timer_services.schedule(order_pk=order_pk, kind=kind, due_at=due)  # type: ignore[arg-type]


# --- shipments ---------------------------------------------------------------------------------------------


def _resolve_tracking(request: TrackingRequest | None, order: Any) -> rules.Tracking:
    if request is None or request.empty:
        return rules.NO_TRACKING
    postcode = str((order.shipping_address or {}).get("zip_code") or "")
    return rules.resolve_tracking(
        carrier=active_carrier(request.carrier_code), carrier_code=request.carrier_code,
        carrier_name=request.carrier_name, tracking_number=request.tracking_number,
        tracking_url=request.tracking_url, postcode=postcode,
    )


def _set_tracking(shipment: Shipment, tracking: rules.Tracking) -> None:
    shipment.carrier_code = tracking.carrier_code
    shipment.carrier_standard_code = tracking.carrier_standard_code
    shipment.carrier_name = tracking.carrier_name
    shipment.tracking_number = tracking.tracking_number
    shipment.tracking_url = tracking.tracking_url


def _quantities(order_pk: int) -> tuple[dict[str, int], dict[str, int]]:
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


def _resolve_lines(requests: Sequence[LineRequest], lines: list[Any], accepted: dict[str, int],
                   in_shipments: dict[str, int]) -> list[tuple[Any, LineRequest]]:
    by_id = {line.line_id: line for line in lines}
    resolved: list[tuple[Any, LineRequest]] = []
    for item in requests:
        if item.order_line_id:
            line = by_id.get(item.order_line_id)
        elif item.offer_sku:
            # Several lines may carry one SKU: take the first that still has units to ship.
            candidates = [ln for ln in lines if ln.offer_sku == item.offer_sku and ln.line_id in accepted]
            line = next((ln for ln in candidates if accepted[ln.line_id] > in_shipments.get(ln.line_id, 0)),
                        candidates[0] if candidates else None)
        else:
            raise ValidationError("Chaque ligne d'expédition indique order_line_id ou offer_sku.",
                                  field="shipment_lines")
        if line is None:
            raise ShipmentLineNotFound(
                f"Ligne {item.order_line_id or item.offer_sku} introuvable dans la commande.")
        resolved.append((line, item))
    return resolved


def _event(name: str, order: Any, data: dict[str, Any]) -> OrderEvent:
    return OrderEvent(name, order.order_id, order.shop_id, clock.now(), data)


def _tracking_payload(shipment: Shipment) -> dict[str, Any]:
    return {"shipment_id": shipment.shipment_id, "carrier_name": shipment.carrier_name,
            "tracking_number": shipment.tracking_number, "tracking_url": shipment.tracking_url}


def _after_shipping(order: Any, lines: list[Any], shipped_now: list[Shipment], who: Who) -> None:
    """Shipments just left: the lines note it; the order moves to SHIPPED through the table when every
    accepted unit has left (its mail carries every tracking link), else the customer hears of this parcel."""
    titles = {line.pk: line.product_title for line in lines}
    line_ids = {line.pk: line.line_id for line in lines}
    shipped_line_ids = {line_ids[sl.order_line_id] for s in shipped_now for sl in s.lines.all()}
    last = max(s.shipped_date for s in shipped_now if s.shipped_date is not None)
    order_shipments.note_shipment(order, lines, shipped_line_ids=shipped_line_ids, shipped_at=last)
    schedule_tracking_check(order.pk)
    _, shipped = _quantities(order.pk)
    if rules.fully_shipped(order_shipments.accepted_quantities(lines), shipped):
        trackings = [_tracking_payload(s) for s in Shipment.objects.filter(order_id=order.pk).order_by("id")
                     if s.has_tracking]
        order_shipments.ship_order(order, lines, who=who, shipped_at=last, event_data={"trackings": trackings})
        return
    notification_services.record_events([
        _event("ShipmentShipped", order, {
            **_tracking_payload(s),
            "lines": [{"title": titles.get(sl.order_line_id, ""), "quantity": sl.quantity} for sl in s.lines.all()],
        })
        for s in shipped_now
    ])


def create_shipment(*, shop_id: int, request: ShipmentRequest, who: Who) -> Shipment:
    """ST01 for one shipment, atomically: lines and quantities checked against what remains to ship."""
    with transaction.atomic():
        order, lines = order_shipments.lock_for_shipping(order_id=request.order_id, shop_id=shop_id)
        now = clock.now()
        shipped_at = request.shipped_date or now
        if request.shipped:
            rules.check_ship_date(shipped_at, now=now, debited_at=order.customer_debited_date)
        accepted = order_shipments.accepted_quantities(lines)
        in_shipments, _ = _quantities(order.pk)
        resolved = _resolve_lines(request.lines, lines, accepted, in_shipments)
        requested: dict[str, int] = defaultdict(int)
        for line, item in resolved:
            requested[line.line_id] += item.quantity
        rules.check_quantities(requested, accepted=accepted, in_shipments=in_shipments)
        tracking = _resolve_tracking(request.tracking, order)
        shipment = Shipment(
            shipment_id=str(uuid.uuid4()), order=order, shop_id=order.shop_id,
            status=ShipmentStatus.SHIPPED if request.shipped else ShipmentStatus.SHIPPING,
            shipped_date=shipped_at if request.shipped else None, invoice_reference=request.invoice_reference,
            created_date=now, last_updated_date=now,
        )
        _set_tracking(shipment, tracking)
        shipment.save()
        ShipmentLine.objects.bulk_create([
            ShipmentLine(shipment=shipment, order_line=line, quantity=item.quantity,
                         package_reference=item.package_reference)
            for line, item in resolved
        ])
        if request.shipped:
            _after_shipping(order, lines, [shipment], who)
        else:
            order_shipments.note_shipment(order, lines, shipped_line_ids=set(), shipped_at=None)
    return shipment


def create_shipments(*, shop_id: int, requests: Sequence[ShipmentRequest], who: Who) -> BatchReport:
    return _each([(r.order_id, r) for r in requests],
                 lambda r: create_shipment(shop_id=shop_id, request=r, who=who))


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
        resolved = _resolve_tracking(tracking, order)
        if resolved == rules.NO_TRACKING:
            raise ValidationError("Informations de suivi manquantes.", field="tracking")
        _set_tracking(shipment, resolved)
        shipment.last_updated_date = clock.now()
        shipment.save()
        order_shipments.note_shipment(order, lines, shipped_line_ids=set(), shipped_at=None)
        schedule_tracking_check(order.pk)
        if shipment.status == ShipmentStatus.SHIPPED:
            notification_services.record_events([_event("ShipmentTrackingUpdated", order,
                                                        _tracking_payload(shipment))])
    return shipment


def update_trackings(*, shop_id: int, items: Sequence[tuple[str, TrackingRequest]], who: Who) -> BatchReport:
    return _each([(sid, (sid, t)) for sid, t in items],
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
    return _each([(sid, sid) for sid in shipment_ids],
                 lambda sid: ship_shipment(shop_id=shop_id, shipment_id=sid, who=who))


def set_order_tracking(*, shop_id: int, order_id: str, tracking: TrackingRequest, who: Who) -> Shipment:
    """OR23 (one tracking per order, before multi-shipment): the tracking goes on the order's prepared
    shipment, created for every unit left to ship if there is none; once shipped, on its latest shipment."""
    with transaction.atomic():
        order, lines = order_shipments.lock_for_shipping(order_id=order_id, shop_id=shop_id,
                                                         states=order_shipments.TRACKING_STATES)
        resolved = _resolve_tracking(tracking, order)
        if resolved == rules.NO_TRACKING:
            raise ValidationError("Informations de suivi manquantes.", field="tracking")
        now = clock.now()
        shipments = Shipment.objects.filter(order_id=order.pk)
        pending = shipments.filter(status=ShipmentStatus.SHIPPING).order_by("-id").first()
        target = pending or shipments.order_by("-id").first()
        if target is None or (pending is None and order.state in order_shipments.SHIPPABLE_STATES):
            target = _new_shipment_for_remaining(order, lines, now)
        _set_tracking(target, resolved)
        target.last_updated_date = now
        target.save()
        order_shipments.note_shipment(order, lines, shipped_line_ids=set(), shipped_at=None)
        schedule_tracking_check(order.pk)
        if target.status == ShipmentStatus.SHIPPED:
            notification_services.record_events([_event("ShipmentTrackingUpdated", order,
                                                        _tracking_payload(target))])
    return target


def _new_shipment_for_remaining(order: Any, lines: list[Any], now: datetime) -> Shipment:
    """A prepared shipment with every unit not yet in one; an order shipped without shipments (back office
    « Marquer comme expédiée ») gets one shipped shipment holding everything, so its tracking has a home."""
    in_shipments, _ = _quantities(order.pk)
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
        in_shipments, _ = _quantities(order.pk)
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


def ensure_default_carriers() -> int:
    """Create the seeded French carriers that are missing (the migration seeds them; a flushed database or
    a demo load calls this). Existing carriers, edited or disabled by the operator, are left alone."""
    from comptoir.shipping.carriers import FRENCH_CARRIERS

    now = clock.now()
    created = 0
    for spec in FRENCH_CARRIERS:
        _, made = Carrier.objects.get_or_create(code=spec.code, defaults={
            "label": spec.label, "standard_code": spec.standard_code, "tracking_url": spec.tracking_url,
            "created_date": now, "last_updated_date": now})
        created += made
    return created
