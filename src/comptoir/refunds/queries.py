"""Reads for refunds: each line's account (paid, given back, units in parcels), refunds of an order."""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Q, Sum

from comptoir.ledger import queries as ledger_queries
from comptoir.orders.models import OrderLine
from comptoir.orders.states import OrderState
from comptoir.refunds.models import Refund
from comptoir.refunds.rules import LineAccount, RefundKind
from comptoir.shipping.models import ShipmentLine, ShipmentStatus

# Line states in which every unit that was to ship has left.
LEFT_STATES = frozenset({OrderState.SHIPPED, OrderState.TO_COLLECT, OrderState.RECEIVED, OrderState.CLOSED})


def balances(shop_id: int) -> dict[str, int]:
    return ledger_queries.balances(shop_id)


def _units(order_pk: int) -> tuple[dict[int, int], dict[int, int]]:
    """Per line pk: units in any parcel, and units in shipped parcels."""
    in_any: dict[int, int] = defaultdict(int)
    shipped: dict[int, int] = defaultdict(int)
    rows = (ShipmentLine.objects.filter(shipment__order_id=order_pk)
            .values_list("order_line_id", "shipment__status").annotate(units=Sum("quantity")))
    for line_pk, status, units in rows:
        in_any[line_pk] += units
        if status == ShipmentStatus.SHIPPED:
            shipped[line_pk] += units
    return in_any, shipped


def shipped_units(order_pk: int) -> dict[str, int]:
    """Per line id: units in shipped parcels."""
    _, shipped = _units(order_pk)
    ids = dict(OrderLine.objects.filter(order_id=order_pk).values_list("pk", "line_id"))
    return {ids[pk]: units for pk, units in shipped.items()}


def line_accounts(order_pk: int, lines: list[OrderLine]) -> dict[str, LineAccount]:
    """Every line's account, from two grouped queries (refunds, parcels) whatever the number of lines."""
    sums = {
        row["line_id"]: row
        for row in Refund.objects.filter(order_id=order_pk).values("line_id").annotate(
            amount=Sum("amount_cents"), amount_tax=Sum("amount_tax_cents"), shipping=Sum("shipping_cents"),
            shipping_tax=Sum("shipping_tax_cents"), fee=Sum("commission_fee_cents"),
            vat=Sum("commission_vat_cents"), refunded=Sum("quantity", filter=Q(kind=RefundKind.REFUND)),
        )
    }
    in_any, shipped = _units(order_pk)
    accounts = {}
    for line in lines:
        s = sums.get(line.pk, {})
        if line.state in LEFT_STATES:  # every unit left, with or without parcels recorded (OR24 on old orders)
            shipped[line.pk] = in_any[line.pk] = max(shipped.get(line.pk, 0), line.quantity - line.canceled_quantity)
        accounts[line.line_id] = LineAccount(
            line_id=line.line_id, quantity=line.quantity, unit_price_cents=line.unit_price_cents,
            price_cents=line.price_cents, tax_cents=line.tax_cents, tax_rate=line.tax_rate,
            shipping_cents=line.shipping_price_cents, shipping_tax_cents=line.shipping_tax_cents,
            shipping_tax_rate=line.shipping_tax_rate, commission_fee_cents=line.commission_fee_cents,
            commission_vat_cents=line.commission_vat_cents,
            back_amount_cents=s.get("amount") or 0, back_amount_tax_cents=s.get("amount_tax") or 0,
            back_shipping_cents=s.get("shipping") or 0, back_shipping_tax_cents=s.get("shipping_tax") or 0,
            back_commission_fee_cents=s.get("fee") or 0, back_commission_vat_cents=s.get("vat") or 0,
            refunded_quantity=s.get("refunded") or 0, canceled_quantity=line.canceled_quantity,
            in_shipments_quantity=in_any.get(line.pk, 0), shipped_quantity=shipped.get(line.pk, 0),
        )
    return accounts


def refunds_of_order(order_pk: int) -> list[Refund]:
    return list(Refund.objects.filter(order_id=order_pk).order_by("created_date", "id"))


def refunds_by_line(order_pks: list[int]) -> dict[int, list[Refund]]:
    """Refund rows per line pk for several orders in one query (OR11 pages)."""
    result: dict[int, list[Refund]] = defaultdict(list)
    for refund in Refund.objects.filter(order_id__in=order_pks).order_by("created_date", "id"):
        result[refund.line_id].append(refund)
    return result
