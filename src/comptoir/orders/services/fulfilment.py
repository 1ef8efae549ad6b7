"""Shipping the whole order and its reception. (Shipments with parcels and tracking extend this.)"""

from __future__ import annotations

from comptoir.core import clock
from comptoir.orders.models import Order, OrderLine
from comptoir.orders.services.lifecycle import Who, transition_order
from comptoir.orders.states import DROPPED_LINE_STATES, Trigger


def ship_whole_order(*, order_id: str, who: Who, shop_id: int | None = None) -> Order:
    def shipped(order: Order, lines: list[OrderLine]) -> None:
        now = clock.now()
        order.shipped_date = now
        for line in lines:
            if line.state not in DROPPED_LINE_STATES:
                line.shipped_date = now

    return transition_order(order_id, Trigger.SHIP, who, shop_id=shop_id, prepare=shipped)


def confirm_reception(*, order_id: str, who: Who) -> Order:
    def received(order: Order, lines: list[OrderLine]) -> None:
        now = clock.now()
        order.received_date = now
        for line in lines:
            if line.state not in DROPPED_LINE_STATES:
                line.received_date = now

    return transition_order(order_id, Trigger.RECEIVE, who, prepare=received)


def close_order(*, order_id: str, who: Who) -> Order:
    def closed(order: Order, _lines: list[OrderLine]) -> None:
        order.closed_date = clock.now()

    return transition_order(order_id, Trigger.CLOSE, who, prepare=closed)
