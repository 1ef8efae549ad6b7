"""Reads for refunds: each line's account (paid, given back, units in parcels), refunds of an order. The reads of
every refund (OR28, OR30) are compiled once per connection (orders.services.sql): the ORM's compilation of them
cost more than running them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.db.models import Sum

from comptoir.ledger import queries as ledger_queries
from comptoir.orders.models import OrderLine
from comptoir.orders.services.sql import fetch, fetch_rows, statement
from comptoir.orders.states import OrderState
from comptoir.refunds.models import Reason, ReasonType, Refund
from comptoir.refunds.rules import LineAccount, RefundKind
from comptoir.shipping.models import Shipment, ShipmentLine, ShipmentStatus

# Line states in which every unit that was to ship has left.
LEFT_STATES = frozenset({OrderState.SHIPPED, OrderState.TO_COLLECT, OrderState.RECEIVED, OrderState.CLOSED})


def balances(shop_id: int) -> dict[str, int]:
    return ledger_queries.balances(shop_id)


def lines_of(line_ids: Sequence[str], shop_id: int | None) -> dict[str, tuple[str, int]]:
    """line id → (order id, shop id) of the lines found (with `shop_id`, that shop's only)."""
    ids = list(line_ids)
    if shop_id is None:
        rows = fetch_rows(("refund_lines_of", len(ids)),
                          lambda: OrderLine.objects.filter(line_id__in=ids)
                          .values_list("line_id", "order__order_id", "order__shop_id"), ids)
    else:
        rows = fetch_rows(("refund_shop_lines_of", len(ids)),
                          lambda: OrderLine.objects.filter(line_id__in=ids).filter(order__shop_id=shop_id)
                          .values_list("line_id", "order__order_id", "order__shop_id"), [*ids, shop_id])
    return {line_id: (order_id, shop) for line_id, order_id, shop in rows}


def active_reason(reason_type: ReasonType, code: str) -> Reason | None:
    """The active reason of that type and code (the first by the model's order, as `.first()` would)."""
    found = fetch(Reason, "active_reason",
                  lambda: Reason.objects.filter(type=reason_type, code=code, active=True)[:1], [code, reason_type])
    return found[0] if found else None


def _accounts_sql(connection: Any) -> str:
    """The refunds' sums per line and the units in parcels per (line, parcel status) of one order, in one
    statement (params: the REFUND kind, the order pk twice). Each row: line pk, parcel status (NULL for the
    refunds' row), then the refunds' seven sums (the units in parcels in the first column of them)."""
    q = connection.ops.quote_name
    r, s, sl = (q(m._meta.db_table) for m in (Refund, Shipment, ShipmentLine))
    sums = ", ".join(f"SUM({r}.{q(Refund._meta.get_field(name).column)})" for name in (
        "amount_cents", "amount_tax_cents", "shipping_cents", "shipping_tax_cents", "commission_fee_cents",
        "commission_vat_cents"))
    line, quantity = q(Refund._meta.get_field("line").column), q("quantity")
    order = q(Refund._meta.get_field("order").column)
    return (f"SELECT {r}.{line}, NULL, {sums}, SUM(CASE WHEN {r}.{q('kind')} = %s THEN {r}.{quantity} END) "
            f"FROM {r} WHERE {r}.{order} = %s GROUP BY {r}.{line} "
            f"UNION ALL SELECT {sl}.{q('order_line_id')}, {s}.{q('status')}, SUM({sl}.{quantity}), NULL, NULL, "
            f"NULL, NULL, NULL, NULL FROM {sl} INNER JOIN {s} ON ({sl}.{q('shipment_id')} = {s}.{q('id')}) "
            f"WHERE {s}.{q('order_id')} = %s GROUP BY {sl}.{q('order_line_id')}, {s}.{q('status')}")


def _account_rows(order_pk: int) -> tuple[dict[int, list[int]], dict[int, int], dict[int, int]]:
    """Per line pk: the refunds' sums (amount, its tax, shipping, its tax, fee, its VAT, refunded units), the units
    in any parcel, the units in shipped parcels."""
    sql = statement("refund_accounts", _accounts_sql)
    with transaction.get_connection().cursor() as cursor:
        cursor.execute(sql, [RefundKind.REFUND.value, order_pk, order_pk])
        rows = cursor.fetchall()
    sums: dict[int, list[int]] = {}
    in_any: dict[int, int] = defaultdict(int)
    shipped: dict[int, int] = defaultdict(int)
    for line_pk, status, *values in rows:
        if status is None:  # SUM of a bigint is a numeric on PostgreSQL: ints, as the ORM's Sum gives them
            sums[line_pk] = [0 if v is None else int(v) for v in values]
        else:
            in_any[line_pk] += int(values[0])
            if status == ShipmentStatus.SHIPPED:
                shipped[line_pk] += int(values[0])
    return sums, in_any, shipped


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


_NO_SUMS = [0] * 7


def line_accounts(order_pk: int, lines: list[OrderLine]) -> dict[str, LineAccount]:
    """Every line's account, from one statement (refunds' sums and parcels' units) whatever the number of lines."""
    sums, in_any, shipped = _account_rows(order_pk)
    accounts = {}
    for line in lines:
        amount, amount_tax, shipping, shipping_tax, fee, vat, refunded = sums.get(line.pk, _NO_SUMS)
        if line.state in LEFT_STATES:  # every unit left, with or without parcels recorded (OR24 on old orders)
            shipped[line.pk] = in_any[line.pk] = max(shipped.get(line.pk, 0), line.quantity - line.canceled_quantity)
        accounts[line.line_id] = LineAccount(
            line_id=line.line_id, quantity=line.quantity, unit_price_cents=line.unit_price_cents,
            price_cents=line.price_cents, tax_cents=line.tax_cents, tax_rate=line.tax_rate,
            shipping_cents=line.shipping_price_cents, shipping_tax_cents=line.shipping_tax_cents,
            shipping_tax_rate=line.shipping_tax_rate, commission_fee_cents=line.commission_fee_cents,
            commission_vat_cents=line.commission_vat_cents,
            back_amount_cents=amount, back_amount_tax_cents=amount_tax,
            back_shipping_cents=shipping, back_shipping_tax_cents=shipping_tax,
            back_commission_fee_cents=fee, back_commission_vat_cents=vat,
            refunded_quantity=refunded, canceled_quantity=line.canceled_quantity,
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
