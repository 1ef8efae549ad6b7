"""Declaring parcels (ST01, the seller's form, the bulk import): many parcels at once with a fixed number of
statements per batch. The batch locks its orders (by id, then their lines), reads them and what is already in
shipments once, checks each parcel in turn against what the earlier ones took (each refused on its own, with
the same French error as alone), then writes the accepted ones in bulk. Orders whose every unit has left move
to SHIPPED together through the lifecycle table (`ship_orders`)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from django.db import DatabaseError, transaction
from django.db.models import Sum

from comptoir.core import clock
from comptoir.core.errors import ComptoirError, ValidationError
from comptoir.notifications import services as notification_services
from comptoir.orders.errors import OrderInvalidState, OrderNotFound
from comptoir.orders.events import OrderEvent
from comptoir.orders.services import Who
from comptoir.orders.services import shipments as order_shipments
from comptoir.orders.services.sql import fetch_rows, writing
from comptoir.shipping import rules
from comptoir.shipping.errors import ShipmentLineNotFound
from comptoir.shipping.models import Shipment, ShipmentLine, ShipmentStatus
from comptoir.shipping.services.carriers import active_carriers
from comptoir.shipping.services.requests import (
    BatchReport,
    ItemError,
    LineRequest,
    ShipmentRequest,
    check_batch_size,
)
from comptoir.shipping.services.tracking import (
    event,
    resolve_tracking,
    schedule_tracking_checks,
    set_tracking,
    set_tracking_timer,
    tracking_payload,
)

# Parcels per transaction for ST01: locks on at most this many orders at once, and bounded statements.
BATCH: Final = 100
Outcome = Shipment | ComptoirError


@dataclass(slots=True)
class _Order:
    """An order of the batch as the parcels checked so far leave it (nothing written yet)."""

    order: Any
    lines: list[Any]
    accepted: dict[str, int]
    in_shipments: dict[str, int]
    shipped: dict[str, int]
    first_shipped: dict[str, datetime] = field(default_factory=dict)  # line id → when it first left, here
    parcels: list[tuple[Shipment, list[ShipmentLine]]] = field(default_factory=list)
    completed_at: datetime | None = None  # its last unit left with a parcel of this batch
    # It had parcels before this batch (their lines: a parcel always has one, but OR23's for an order with
    # nothing left, which only an order with other parcels can get). Without, the batch's parcels are all it has.
    had_parcels: bool = False


def create_shipment(*, shop_id: int, request: ShipmentRequest, who: Who) -> Shipment:
    """ST01 for one shipment, atomically: lines and quantities checked against what remains to ship."""
    with writing():
        outcome = ship_parcels(shop_id=shop_id, requests=[request], who=who)[0]
    if isinstance(outcome, ComptoirError):
        raise outcome
    return outcome


def create_shipments(*, shop_id: int, requests: Sequence[ShipmentRequest], who: Who) -> BatchReport:
    """ST01: up to 1,000 shipments, in transactions of BATCH; each refused one is reported, the others go on."""
    check_batch_size(len(requests))
    report = BatchReport()
    for start in range(0, len(requests), BATCH):
        chunk = requests[start:start + BATCH]
        with writing():  # on SQLite, queued on the writer mutex rather than polling the busy handler
            outcomes = ship_parcels(shop_id=shop_id, requests=chunk, who=who)
        for request, outcome in zip(chunk, outcomes, strict=True):
            if isinstance(outcome, ComptoirError):
                report.errors.append(ItemError(request.order_id, outcome.message, outcome.code))
            else:
                report.succeeded.append(outcome)
    return report


def ship_parcels(*, shop_id: int, requests: Sequence[ShipmentRequest], who: Who) -> list[Outcome]:
    """Declare `requests` in the caller's transaction: per request its Shipment, or the error that refused
    it (then nothing of it is written). Should writing the batch fail (a lost race, a refused SHIP), the
    batch is rolled back to its savepoint and each parcel is declared alone, in its own savepoint."""
    assert transaction.get_connection().in_atomic_block, "shipments are written inside a transaction"
    if not requests:
        return []
    try:
        with transaction.atomic():
            return _ship_together(shop_id, requests, who)
    except (ComptoirError, DatabaseError) as exc:
        if len(requests) == 1:
            if isinstance(exc, ComptoirError):
                return [exc]
            raise
    return [_ship_alone(shop_id, request, who) for request in requests]


def _ship_alone(shop_id: int, request: ShipmentRequest, who: Who) -> Outcome:
    try:
        with transaction.atomic():
            return _ship_together(shop_id, [request], who)[0]
    except ComptoirError as exc:
        return exc


# --- reading and checking --------------------------------------------------------------------------------


def _load(shop_id: int, order_ids: Sequence[str]) -> dict[str, _Order]:
    """Lock the orders (in id order: two batches never wait on each other crosswise), then their lines; and
    read what their lines already have in shipments. Three compiled statements (a batch holds at most a few
    hundred orders)."""
    orders, lines = order_shipments.lock_shop_orders(shop_id=shop_id, order_ids=order_ids)
    pks = [o.pk for o in orders]
    line_ids = {line.pk: line.line_id for group in lines.values() for line in group}
    in_any: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    shipped: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for order_pk, line_pk, status, units in _units_in_parcels(pks):
        in_any[order_pk][line_ids[line_pk]] += units
        if status == ShipmentStatus.SHIPPED:
            shipped[order_pk][line_ids[line_pk]] += units
    had_parcels = set(in_any)
    return {o.order_id: _Order(o, lines[o.pk], order_shipments.accepted_quantities(lines[o.pk]),
                               in_any[o.pk], shipped[o.pk], had_parcels=o.pk in had_parcels) for o in orders}


def _units_in_parcels(order_pks: list[int]) -> list[tuple[int, int, str, int]]:
    """Per (order, line, parcel status): the units in parcels."""
    if not order_pks:
        return []
    return fetch_rows(  # type: ignore[return-value]
        ("units_in_parcels", len(order_pks)),
        lambda: (ShipmentLine.objects.filter(shipment__order_id__in=order_pks)
                 .values_list("shipment__order_id", "order_line_id", "shipment__status")
                 .annotate(units=Sum("quantity")).order_by()),
        order_pks)


def _state_refusal(order_id: str, state: str) -> OrderInvalidState:
    """Word for word `lock_for_shipping`'s refusal (the same parcel gets the same error alone or in a batch)."""
    expected = ", ".join(sorted(order_shipments.SHIPPABLE_STATES))
    return OrderInvalidState(f"Action impossible : la commande {order_id} est à l'état {state}"
                             f" (attendu : {expected}).")


def _resolve_lines(requests: Sequence[LineRequest], work: _Order) -> list[tuple[Any, LineRequest]]:
    by_id = {line.line_id: line for line in work.lines}
    resolved: list[tuple[Any, LineRequest]] = []
    for item in requests:
        if item.order_line_id:
            line = by_id.get(item.order_line_id)
        elif item.offer_sku:
            # Several lines may carry one SKU: take the first that still has units to ship.
            candidates = [ln for ln in work.lines if ln.offer_sku == item.offer_sku and ln.line_id in work.accepted]
            line = next((ln for ln in candidates
                         if work.accepted[ln.line_id] > work.in_shipments.get(ln.line_id, 0)),
                        candidates[0] if candidates else None)
        else:
            raise ValidationError("Chaque ligne d'expédition indique order_line_id ou offer_sku.",
                                  field="shipment_lines")
        if line is None:
            raise ShipmentLineNotFound(
                f"Ligne {item.order_line_id or item.offer_sku} introuvable dans la commande.")
        resolved.append((line, item))
    return resolved


def _check(request: ShipmentRequest, work: _Order | None, carriers: dict[str, rules.CarrierSpec],
           now: datetime) -> tuple[Shipment, list[ShipmentLine]]:
    """One parcel against its order as the batch leaves it, in `create_shipment`'s order of checks; the
    parcel's rows, unsaved, when it passes."""
    if work is None:
        raise OrderNotFound(f"Commande {request.order_id} introuvable.")
    order = work.order
    if work.completed_at is not None:
        raise _state_refusal(order.order_id, "SHIPPED")
    if order.state not in order_shipments.SHIPPABLE_STATES:
        raise _state_refusal(order.order_id, order.state)
    shipped_at = request.shipped_date or now
    if request.shipped:
        rules.check_ship_date(shipped_at, now=now, debited_at=order.customer_debited_date)
    resolved = _resolve_lines(request.lines, work)
    requested: dict[str, int] = defaultdict(int)
    for line, item in resolved:
        requested[line.line_id] += item.quantity
    rules.check_quantities(requested, accepted=work.accepted, in_shipments=work.in_shipments)
    tracking = resolve_tracking(request.tracking, order, lambda code: carriers.get((code or "").strip()))
    shipment = Shipment(
        shipment_id=str(uuid.uuid4()), order=order, shop_id=order.shop_id,
        status=ShipmentStatus.SHIPPED if request.shipped else ShipmentStatus.SHIPPING,
        shipped_date=shipped_at if request.shipped else None, invoice_reference=request.invoice_reference,
        created_date=now, last_updated_date=now,
    )
    set_tracking(shipment, tracking)
    rows = [ShipmentLine(shipment=shipment, order_line=line, quantity=item.quantity,
                         package_reference=item.package_reference) for line, item in resolved]
    for line_id, quantity in requested.items():
        work.in_shipments[line_id] += quantity
        if request.shipped:
            work.shipped[line_id] += quantity
            work.first_shipped.setdefault(line_id, shipped_at)
    if request.shipped and rules.fully_shipped(work.accepted, work.shipped):
        work.completed_at = shipped_at
    work.parcels.append((shipment, rows))
    return shipment, rows


# --- writing ---------------------------------------------------------------------------------------------


def _ship_together(shop_id: int, requests: Sequence[ShipmentRequest], who: Who) -> list[Outcome]:
    now = clock.now()
    orders = _load(shop_id, [r.order_id for r in requests])
    carriers = active_carriers(r.tracking.carrier_code for r in requests if r.tracking and not r.tracking.empty)
    outcomes: list[Outcome] = []
    for request in requests:
        try:
            outcomes.append(_check(request, orders.get(request.order_id), carriers, now)[0])
        except ComptoirError as exc:
            outcomes.append(exc)
    touched = [work for work in orders.values() if work.parcels]
    if not touched:
        return outcomes
    _insert_parcels(touched)
    order_shipments.note_shipments([(work.order, work.lines, work.first_shipped) for work in touched])
    _schedule_tracking_checks([work for work in touched if work.first_shipped])
    _notify_parcels(touched)
    _ship_completed([work for work in touched if work.completed_at is not None], who)
    return outcomes


_SHIPMENT_FIELDS = [f for f in Shipment._meta.concrete_fields if not f.primary_key]


def _insert_parcels(touched: list[_Order]) -> None:
    """The parcels (INSERT … RETURNING their ids) then their lines, without the ORM's compilation. Each
    Shipment is left as a read would give it, its lines in place of `shipment.lines.all()` (as prefetch_related
    leaves them): the callers answer from the rows just written instead of reading them back."""
    parcels = [(shipment, rows) for work in touched for shipment, rows in work.parcels]
    ids = notification_services.insert_rows(
        Shipment, [{f.name: getattr(shipment, f.attname) for f in _SHIPMENT_FIELDS} for shipment, _ in parcels],
        returning=True)
    alias = transaction.get_connection().alias
    for (shipment, rows), pk in zip(parcels, ids, strict=True):
        shipment.pk = pk
        shipment._state.adding, shipment._state.db = False, alias
        for row in rows:
            row.shipment = shipment  # again, now that it has its id
    notification_services.insert_rows(ShipmentLine, [
        {"shipment": row.shipment_id, "order_line": row.order_line_id, "quantity": row.quantity,
         "package_reference": row.package_reference}
        for _, rows in parcels for row in rows
    ])
    for shipment, rows in parcels:
        cached = ShipmentLine.objects.none()
        cached._result_cache, cached._prefetch_done = rows, True
        shipment._prefetched_objects_cache = {"lines": cached}


def _schedule_tracking_checks(shipped: list[_Order]) -> None:
    """`schedule_tracking_checks` for the orders that had a parcel leave: for an order without earlier parcels
    its untracked ones are known (this batch's), so only the others are read again."""
    earlier = [work.order.pk for work in shipped if work.had_parcels]
    if earlier:
        schedule_tracking_checks(earlier)
    for work in sorted((w for w in shipped if not w.had_parcels), key=lambda w: w.order.pk):
        firsts = [s.shipped_date for s, _ in work.parcels if s.status == ShipmentStatus.SHIPPED
                  and not s.tracking_number and s.shipped_date is not None]
        if firsts:
            set_tracking_timer(work.order.pk, min(firsts))


def _notify_parcels(touched: list[_Order]) -> None:
    """The customer hears of each parcel that left without completing its order (the order's own mail,
    with every tracking link, says the rest): one outbox INSERT for the batch."""
    events: list[OrderEvent] = []
    for work in touched:
        titles = {line.pk: line.product_title for line in work.lines}
        # After the parcel that completed the order, the batch took no other parcel of it.
        completing = work.parcels[-1][0] if work.completed_at is not None else None
        for shipment, rows in work.parcels:
            if shipment.status != ShipmentStatus.SHIPPED or shipment is completing:
                continue
            events.append(event("ShipmentShipped", work.order, {
                **tracking_payload(shipment),
                "lines": [{"title": titles.get(row.order_line_id, ""), "quantity": row.quantity} for row in rows],
            }))
    notification_services.record_events(events)


def _ship_completed(completed: list[_Order], who: Who) -> None:
    """Fire SHIP for each order whose last unit just left, dated by that parcel; its mail lists every
    tracking link of the order (one query for the batch)."""
    if not completed:
        return
    trackings: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for work in completed:
        if not work.had_parcels:  # its parcels are this batch's, in id order
            trackings[work.order.pk] = [tracking_payload(s) for s, _ in work.parcels if s.has_tracking]
    earlier = [work.order.pk for work in completed if work.had_parcels]
    if earlier:
        for shipment in (Shipment.objects.filter(order_id__in=earlier).order_by("order_id", "id")
                         .only("order_id", "shipment_id", "carrier_name", "tracking_number", "tracking_url")):
            if shipment.has_tracking:
                trackings[shipment.order_id].append(tracking_payload(shipment))
    order_shipments.ship_orders([(work.order, work.lines, work.completed_at, {"trackings": trackings[work.order.pk]})
                                 for work in completed if work.completed_at is not None], who=who)
