"""OR11's refund fields: `order_lines[].refunds[]` and `cancelations[]`, `can_refund`, `can_cancel`, `fully_refunded`
and `order_refunds`. `attach_refunds` reads them for a whole page in two queries (refund rows, orders with a
parcel); the serializers read what it attached, or query one order when called without it."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from comptoir.api.render import amount, iso, rate
from comptoir.orders.models import Order, OrderLine
from comptoir.orders.states import DROPPED_LINE_STATES, OrderState
from comptoir.refunds import queries as refund_queries
from comptoir.refunds.models import Refund
from comptoir.refunds.rules import RefundKind
from comptoir.shipping.models import Shipment

_UNSET = object()


def attach_refunds(orders: list[Order]) -> None:
    """For a page of orders: refund rows per line (only debited orders can have any) and which orders still in
    SHIPPING have a parcel (then OR29 is refused: `can_cancel` false)."""
    debited = [order.pk for order in orders if order.customer_debited_date is not None]
    by_line = refund_queries.refunds_by_line(debited) if debited else {}
    waiting = [order.pk for order in orders if order.state == OrderState.SHIPPING]
    # Shipping has no query for this yet (shipping/ belongs to another team): one indexed read on its FK.
    parcels = set(Shipment.objects.filter(order_id__in=waiting).values_list("order_id", flat=True)) if waiting else set()
    for order in orders:
        order.page_refunds = by_line  # type: ignore[attr-defined]
        order.page_in_parcel = order.pk in parcels  # type: ignore[attr-defined]


def _refunds_of(order: Order) -> dict[int, list[Refund]]:
    found = getattr(order, "page_refunds", _UNSET)
    if found is _UNSET:
        found = refund_queries.refunds_by_line([order.pk])
        order.page_refunds = found  # type: ignore[attr-defined]
    return found  # type: ignore[return-value]


def in_parcel(order: Order) -> bool:
    found = getattr(order, "page_in_parcel", _UNSET)
    if found is _UNSET:
        found = Shipment.objects.filter(order_id=order.pk).exists()
    return bool(found)


def _taxes(code: str, cents: int, tax_rate: Decimal) -> list[dict[str, Any]]:
    return [{"code": code, "amount": amount(cents), "rate": rate(tax_rate)}]


def _common(row: Refund, line: OrderLine) -> dict[str, Any]:
    return {
        "id": str(row.pk),
        "amount": amount(row.amount_cents),
        "shipping_amount": amount(row.shipping_cents),
        "quantity": row.quantity,
        "reason_code": row.reason_code,
        "created_date": iso(row.created_date),
        "taxes": _taxes(line.tax_code, row.amount_tax_cents, line.tax_rate),
        "shipping_taxes": _taxes(line.shipping_tax_code, row.shipping_tax_cents, line.shipping_tax_rate),
        "fees": [],
        "commission_amount": amount(row.commission_fee_cents),
        "commission_taxes": [{"code": "TVA20", "amount": amount(row.commission_vat_cents),
                              "rate": rate(line.commission_vat_rate)}],
        "commission_total_amount": amount(row.commission_fee_cents + row.commission_vat_cents),
        "eco_contributions": [],
    }


def _refund_json(row: Refund, line: OrderLine, notice: str | None) -> dict[str, Any]:
    return {**_common(row, line), "state": row.state, "refund_state": row.state,
            "transaction_date": iso(row.transaction_date), "transaction_number": row.transaction_number or None,
            "commission_tax_amount": amount(row.commission_vat_cents), "order_refund_id": row.group_id,
            "tax_legal_notice": notice}


def line_fields(line: OrderLine, order: Order, live: bool, notice: str | None) -> dict[str, Any]:
    """`can_refund`, `refunds` and `cancelations` of one line (amounts tax included, as the order's)."""
    rows = _refunds_of(order).get(line.pk)
    if not rows:
        return {"can_refund": live and line.state != OrderState.REFUNDED and line.debited_date is not None,
                "refunds": [], "cancelations": []}
    given_back = sum(row.amount_cents + row.shipping_cents for row in rows)
    return {
        "can_refund": (live and line.state != OrderState.REFUNDED and line.debited_date is not None
                       and given_back < line.price_cents + line.shipping_price_cents),
        "refunds": [_refund_json(row, line, notice) for row in rows if row.kind == RefundKind.REFUND],
        "cancelations": [_common(row, line) for row in rows if row.kind == RefundKind.CANCELATION],
    }


def order_refunds(order: Order, lines: list[OrderLine]) -> list[dict[str, Any]]:
    """One entry per OR28 request (`order_refund_id`) with its VAT per code and rate, product and shipping."""
    by_line = _refunds_of(order)
    if not by_line:
        return []
    groups: dict[str, dict[str, dict[tuple[str, Decimal], int]]] = defaultdict(
        lambda: {"taxes": defaultdict(int), "shipping_taxes": defaultdict(int)})
    for line in lines:
        for row in by_line.get(line.pk, ()):
            if row.kind == RefundKind.REFUND:
                group = groups[row.group_id]
                group["taxes"][(line.tax_code, line.tax_rate)] += row.amount_tax_cents
                group["shipping_taxes"][(line.shipping_tax_code, line.shipping_tax_rate)] += row.shipping_tax_cents
    return [{"order_refund_id": group_id,
             **{name: [{"code": code, "amount": amount(cents), "rate": rate(tax_rate)}
                       for (code, tax_rate), cents in parts.items()] for name, parts in group.items()}}
            for group_id, group in groups.items()]


def fully_refunded(lines: list[OrderLine]) -> bool:
    live = [line for line in lines if line.state not in DROPPED_LINE_STATES]
    return bool(live) and all(line.state == OrderState.REFUNDED for line in live)
