"""Every read of orders the surfaces need: one page plus a count, lines prefetched, no N+1."""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection
from django.db.models import Func, IntegerField, Prefetch, Q, QuerySet, Subquery
from django.db.models.expressions import BaseExpression

from comptoir.orders.models import Order, OrderHistory, OrderLine


@dataclass(frozen=True, slots=True)
class OrderFilter:
    shop_id: int | None = None
    order_ids: Sequence[str] = ()
    states: Sequence[str] = ()
    created_from: datetime | None = None
    created_to: datetime | None = None
    updated_from: datetime | None = None
    updated_to: datetime | None = None
    customer_debited: bool | None = None
    has_incident: bool | None = None
    has_invoice: bool | None = None
    references_for_customer: Sequence[str] = ()
    references_for_seller: Sequence[str] = ()
    channel_codes: Sequence[str] = ()
    only_null_channel: bool = False
    payment_workflow: str | None = None
    # Back-office searches: part of the order number, every word of the customer's name, an exact SKU.
    order_id_contains: str = ""
    customer_name: str = ""
    sku: str = ""
    extra: dict = field(default_factory=dict)


def filtered_orders(f: OrderFilter) -> QuerySet[Order]:
    query = Order.objects.all()
    if f.shop_id is not None:
        query = query.filter(shop_id=f.shop_id)
    if f.order_ids:
        query = query.filter(order_id__in=list(f.order_ids))
    if f.states:
        query = query.filter(state__in=list(f.states))
    if f.created_from:
        query = query.filter(created_date__gte=f.created_from)
    if f.created_to:
        query = query.filter(created_date__lte=f.created_to)
    if f.updated_from:
        query = query.filter(last_updated_date__gte=f.updated_from)
    if f.updated_to:
        query = query.filter(last_updated_date__lte=f.updated_to)
    if f.customer_debited is not None:
        query = query.filter(customer_debited_date__isnull=not f.customer_debited)
    if f.has_incident is not None:
        query = query.filter(has_incident=f.has_incident)
    if f.has_invoice is not None:
        query = query.filter(has_invoice=f.has_invoice)
    if f.references_for_customer:
        query = query.filter(order_reference_for_customer__in=list(f.references_for_customer))
    if f.references_for_seller:
        query = query.filter(order_reference_for_seller__in=list(f.references_for_seller))
    if f.only_null_channel:
        query = query.filter(channel_code="")
    elif f.channel_codes:
        query = query.filter(channel_code__in=list(f.channel_codes))
    if f.payment_workflow:
        query = query.filter(payment_workflow=f.payment_workflow)
    return _searched(query, f)


def _searched(query: QuerySet[Order], f: OrderFilter) -> QuerySet[Order]:
    if number := f.order_id_contains.strip():
        query = query.filter(order_id__icontains=number)
    # The seller sees the customer's name in every state (DESIGN §5, orders.rules.customer_view): searchable always.
    for word in f.customer_name.split():
        query = query.filter(Q(customer_firstname__icontains=word) | Q(customer_lastname__icontains=word))
    if sku := f.sku.strip():
        query = query.filter(pk__in=OrderLine.objects.filter(
            Q(offer_sku__iexact=sku) | Q(product_sku__iexact=sku)).values("order_id"))
    return query


SORTS = {"dateCreated": ("created_date", "id"), "dateUpdated": ("last_updated_date", "id")}
# A column of a row page: a field name, or an expression computed by the database (a formatted date, a flag).
Column = str | BaseExpression


@dataclass(frozen=True, slots=True)
class RowPage:
    """A page of orders as named tuples (`pk` and the columns asked), each order's lines as named tuples
    (`pk`, `order_pk` and the line columns asked) by index, and the count of every order the filter matches."""

    orders: list[Any]
    lines: dict[int, list[Any]]
    total: int


@lru_cache(maxsize=32)
def _row_type(name: str, fields: tuple[str, ...]) -> Any:
    return namedtuple(name, fields)  # noqa: PYI024 (the fields are the caller's)


def order_rows_page(
    f: OrderFilter, *, columns: Mapping[str, Column], line_columns: Mapping[str, Column], sort: str = "dateCreated",
    descending: bool = False, offset: int = 0, limit: int | None = 10,
) -> RowPage:
    """A page of complete orders as plain rows (building model instances, parsing every date and Decimal was most
    of an OR11 page of 100), in three statements: the page's pks with the count (a subquery computed once; only a
    page past the end needs a statement of its own for it), their rows, their lines."""
    query = filtered_orders(f)
    count = query.order_by().annotate(n=Func(template="COUNT(*)", output_field=IntegerField())).values("n")
    ordered = query.order_by(*(f"-{key}" if descending else key for key in SORTS[sort]))
    page = ordered[offset : offset + limit] if limit is not None else ordered[offset:]
    found = list(page.values_list("pk", Subquery(count)))
    if not found:
        return RowPage([], {}, query.count() if offset else 0)
    pks = [pk for pk, _ in found]
    make_order = _row_type("OrderRow", ("pk", *columns))._make
    by_pk = {row[0]: make_order(row) for row in _rows_of(_orders_by_pk, pks, tuple(columns.values()))}
    make_line = _row_type("OrderLineRow", ("pk", "order_pk", *line_columns))._make
    lines: dict[int, list[Any]] = {pk: [] for pk in pks}
    for row in _rows_of(_lines_by_order_pk, pks, tuple(line_columns.values())):
        lines[row[1]].append(make_line(row))
    return RowPage([by_pk[pk] for pk in pks], lines, total=found[0][1])


def _orders_by_pk(pks: Sequence[int], columns: tuple[Column, ...]) -> QuerySet[Any, Any]:
    return Order.objects.filter(pk__in=pks).values_list("pk", *columns)


def _lines_by_order_pk(pks: Sequence[int], columns: tuple[Column, ...]) -> QuerySet[Any, Any]:
    lines = OrderLine.objects.filter(order_id__in=pks).order_by("order_id", "index")
    return lines.values_list("pk", "order_id", *columns)


@dataclass(frozen=True, slots=True)
class _Statement:
    sql: str
    params: tuple[Any, ...]  # the columns' own, before the pks
    converters: tuple[tuple[int, tuple[Callable[..., Any], ...], Any], ...]  # (position, converters, expression)


_Build = Callable[[Sequence[int], tuple[Column, ...]], QuerySet[Any, Any]]
_KEPT_UP_TO = 100  # larger pages (OR11's paginate=false) are rare: compiled each time


@lru_cache(maxsize=512)  # page sizes 1 to _KEPT_UP_TO of each statement, the operator's variant included
def _statement(build: _Build, count: int, columns: tuple[Column, ...], vendor: str) -> _Statement | None:
    """The SQL of `build` for `count` pks, if the pks are its last parameters (None: the ORM runs it each time)."""
    compiler = build(range(count), columns).query.get_compiler(DEFAULT_DB_ALIAS)
    sql, params = compiler.as_sql()
    if list(params[len(params) - count :]) != list(range(count)):
        return None
    converters = compiler.get_converters([expression for expression, _, _ in compiler.select])
    return _Statement(sql, tuple(params[: len(params) - count]),
                      tuple((pos, tuple(funcs), expr) for pos, (funcs, expr) in converters.items()))


def _rows_of(build: _Build, pks: list[int], columns: tuple[Column, ...]) -> list[tuple[Any, ...]]:
    """`build(pks, columns)`'s rows. Compiling ~50 columns and their expressions cost more than running the
    statement, and it depends only on the number of pks: it is compiled once per page size and kept."""
    statement = _statement(build, len(pks), columns, connection.vendor) if len(pks) <= _KEPT_UP_TO else None
    if statement is None:
        return list(build(pks, columns))
    with connection.cursor() as cursor:
        cursor.execute(statement.sql, (*statement.params, *pks))
        rows = cursor.fetchall()
    if not statement.converters:
        return rows
    converted = []
    for row in rows:  # what the ORM does after reading: e.g. SQLite's 0 and 1 into booleans
        values = list(row)
        for pos, funcs, expression in statement.converters:
            for func in funcs:
                values[pos] = func(values[pos], expression, connection)
        converted.append(tuple(values))
    return converted


def order_detail(order_id: str) -> Order | None:
    return (
        Order.objects.filter(order_id=order_id)
        .select_related("shop")
        .prefetch_related(
            Prefetch("lines", queryset=OrderLine.objects.order_by("index")),
            Prefetch("history", queryset=OrderHistory.objects.order_by("created_date", "id")),
        )
        .first()
    )


def shop_balances(shop_id: int) -> dict[str, int]:
    """The shop's pending, payable and paid balances in cents: sums of its ledger entries."""
    from comptoir.ledger import queries as ledger_queries

    return ledger_queries.balances(shop_id)
