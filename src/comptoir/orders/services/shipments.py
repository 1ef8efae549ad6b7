"""What the shipping app needs from the order lifecycle: lock an order for a shipment, note a partial
shipment on its lines, and fire SHIP (the only way to SHIPPED) once every accepted unit has left."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from django.db import transaction

from comptoir.core import clock
from comptoir.orders.errors import OrderConflict, OrderInvalidState
from comptoir.orders.events import OrderEvent
from comptoir.orders.models import Order, OrderLine
from comptoir.orders.services.lifecycle import (
    Who,
    apply_transition,
    apply_transitions,
    check,
    lock_lines,
    lock_lines_of,
    lock_order,
)
from comptoir.orders.services.sql import fetch, update_in_sql, write
from comptoir.orders.states import DROPPED_LINE_STATES, OrderState, Transition, Trigger

SHIPPABLE_STATES = frozenset({OrderState.SHIPPING})
# Tracking may still be corrected once the order has shipped (Mirakl OR23).
TRACKING_STATES = frozenset({OrderState.SHIPPING, OrderState.SHIPPED})


def lock_for_shipping(*, order_id: str, shop_id: int | None,
                      states: frozenset[OrderState] = SHIPPABLE_STATES,
                      ) -> tuple[Order, list[OrderLine]]:
    """Lock the order then its lines (STYLE §5 lock order); another shop's order is not found."""
    assert transaction.get_connection().in_atomic_block, "shipments are written inside a transaction"
    order = lock_order(order_id, shop_id=shop_id)
    if order.state not in states:
        raise OrderInvalidState(
            f"Action impossible : la commande {order.order_id} est à l'état {order.state}"
            f" (attendu : {', '.join(sorted(states))})."
        )
    return order, lock_lines(order)


def lock_shop_orders(*, shop_id: int, order_ids: Sequence[str]) -> tuple[list[Order], dict[int, list[OrderLine]]]:
    """Lock a batch of the shop's orders (in id order: two batches never wait on each other crosswise), then
    their lines (per order pk, by index); two compiled statements. Orders not found (or another shop's) are
    left out."""
    ids = sorted(set(order_ids))
    orders = fetch(Order, ("lock_shop_orders", len(ids)),
                   lambda: Order.objects.select_for_update().filter(shop_id=shop_id, order_id__in=ids).order_by("pk"),
                   [*ids, shop_id])
    return orders, lock_lines_of(orders)


def accepted_quantities(lines: list[OrderLine]) -> dict[str, int]:
    """Per live line: the units to ship, that is accepted minus canceled."""
    return {line.line_id: line.quantity - line.canceled_quantity
            for line in lines if line.state not in DROPPED_LINE_STATES}


def note_shipment(order: Order, lines: list[OrderLine], *, shipped_line_ids: set[str],
                  shipped_at: datetime | None) -> None:
    """A shipment was written: the order's version moves (a racing writer gets a clean conflict), and lines
    that just left for the first time get their shipped date (so the order can no longer be canceled)."""
    left = dict.fromkeys(shipped_line_ids, shipped_at) if shipped_at is not None else {}
    note_shipments([(order, lines, left)])


def note_shipments(notes: Sequence[tuple[Order, list[OrderLine], Mapping[str, datetime]]]) -> None:
    """`note_shipment` for many orders (each once) locked by the caller, in a few statements: one version
    UPDATE per version read (each row still matched on the version read under its lock; usually one), then
    one UPDATE per ship date of the lines that left for the first time (`notes`: line id → when it left)."""
    now = clock.now()
    by_version: dict[int, list[Order]] = defaultdict(list)
    for order, _, _ in notes:
        by_version[order.version].append(order)
    for version, orders in by_version.items():
        updated = write(("note_shipments_orders", len(orders)),
                        update_in_sql(Order, ("version", "last_updated_date"), len(orders), where=("version",)),
                        [[version + 1, now, *[o.pk for o in orders], version]])
        if updated != len(orders):
            raise OrderConflict()
        for order in orders:
            order.version, order.last_updated_date = version + 1, now
    first: dict[datetime, list[int]] = defaultdict(list)
    for _, lines, left in notes:
        for line in lines:
            shipped_at = left.get(line.line_id)
            if shipped_at is not None and line.shipped_date is None:
                line.shipped_date = shipped_at
                first[shipped_at].append(line.pk)
    for shipped_at, pks in first.items():
        write(("note_shipments_lines", len(pks)), update_in_sql(OrderLine, ("shipped_date", "last_updated_date"),
                                                                 len(pks)), [[shipped_at, now, *pks]])


def ship_order(order: Order, lines: list[OrderLine], *, who: Who, shipped_at: datetime,
               event_data: dict[str, Any] | None = None,
               batch: list[tuple[Order, list[OrderLine], Transition]] | None = None) -> list[OrderEvent]:
    """Fire SHIP on an order already locked by `lock_for_shipping`, dated by its last shipment. The SHIP row
    cancels the shipping deadline and starts the reception timer. With `batch` (`ship_orders`), the checked
    move is added to it, to be written with the others', instead of applied now."""
    transition = check(order, Trigger.SHIP, who, lines)
    order.shipped_date = shipped_at
    for line in lines:
        if line.state not in DROPPED_LINE_STATES and line.shipped_date is None:
            line.shipped_date = shipped_at
    if batch is not None:
        batch.append((order, lines, transition))
        return []
    return apply_transition(order, lines, transition, who, event_data=event_data)


def ship_orders(items: Sequence[tuple[Order, list[OrderLine], datetime, dict[str, Any] | None]], *,
                who: Who) -> list[OrderEvent]:
    """`ship_order` for many orders locked by the caller (order, lines, shipped at, event data): each checked
    against the table in turn (the first refusal raises, nothing written), then all moved by one
    `apply_transitions`."""
    batch: list[tuple[Order, list[OrderLine], Transition]] = []
    event_data: dict[int, dict[str, Any]] = {}
    for order, lines, shipped_at, data in items:
        ship_order(order, lines, who=who, shipped_at=shipped_at, batch=batch)
        if data is not None:
            event_data[order.pk] = data
    if not batch:
        return []
    return apply_transitions(batch, who, clock.now(), event_data=event_data)
