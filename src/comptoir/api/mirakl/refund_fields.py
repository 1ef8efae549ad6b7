"""OR11's refund fields: `order_lines[].refunds[]` and `cancelations[]`, `can_refund`, `can_cancel`, `fully_refunded`
and `order_refunds`. A page's orders carry `has_refunds` and `has_parcel` (columns computed by the page's own
statement); `refunds_of_page` then reads the refund rows of the orders that have some, in one query or none."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from django.db.models import Exists, OuterRef

from comptoir.api.render import amount, iso, rate
from comptoir.orders.states import DROPPED_LINE_STATES, OrderState
from comptoir.refunds import queries as refund_queries
from comptoir.refunds.models import Refund
from comptoir.refunds.rules import RefundKind
from comptoir.shipping.models import Shipment

# Columns of the page's orders. Shipping has no query for the parcel flag yet (shipping/ belongs to another
# team): an indexed EXISTS on its FK.
ORDER_FLAGS = {
    "has_refunds": Exists(Refund.objects.filter(order=OuterRef("pk"))),
    "has_parcel": Exists(Shipment.objects.filter(order=OuterRef("pk"))),  # then OR29 is refused: can_cancel false
}


def refunds_of_page(orders: Sequence[Any]) -> dict[int, list[Refund]]:
    """Refund rows per line pk of the page's orders that have some."""
    with_refunds = [order.pk for order in orders if order.has_refunds]
    return refund_queries.refunds_by_line(with_refunds) if with_refunds else {}


def _taxes(code: str, cents: int, tax_rate: float) -> list[dict[str, Any]]:
    return [{"code": code, "amount": amount(cents), "rate": rate(tax_rate)}]


def _common(row: Refund, line: Any) -> dict[str, Any]:
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


def _refund_json(row: Refund, line: Any, notice: str | None) -> dict[str, Any]:
    return {**_common(row, line), "state": row.state, "refund_state": row.state,
            "transaction_date": iso(row.transaction_date), "transaction_number": row.transaction_number or None,
            "commission_tax_amount": amount(row.commission_vat_cents), "order_refund_id": row.group_id,
            "tax_legal_notice": notice}


def line_fields(line: Any, rows: list[Refund] | None, live: bool, notice: str | None) -> dict[str, Any]:
    """`can_refund`, `refunds` and `cancelations` of one line (amounts tax included, as the order's)."""
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


def order_refunds(lines: list[Any], by_line: dict[int, list[Refund]]) -> list[dict[str, Any]]:
    """One entry per OR28 request (`order_refund_id`) with its VAT per code and rate, product and shipping."""
    if not by_line:
        return []
    groups: dict[str, dict[str, dict[tuple[str, float], int]]] = defaultdict(
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


def fully_refunded(lines: list[Any]) -> bool:
    live = [line for line in lines if line.state not in DROPPED_LINE_STATES]
    return bool(live) and all(line.state == OrderState.REFUNDED for line in live)
