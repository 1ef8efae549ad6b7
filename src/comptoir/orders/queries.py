"""Every read of orders the surfaces need: one page plus a count, lines prefetched, no N+1."""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from functools import lru_cache
from typing import Any

from django.db import DEFAULT_DB_ALIAS
from django.db.models import Func, IntegerField, Prefetch, Q, QuerySet, Subquery
from django.db.models.expressions import BaseExpression

from comptoir.orders.models import Order, OrderHistory, OrderLine
from comptoir.replica import read_connection


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


_FILTER_FIELDS = tuple(item.name for item in fields(OrderFilter))


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
    page past the end needs a statement of its own for it), their rows, their lines (those two in one round trip
    on PostgreSQL). The three are compiled once and kept (see _page_pks and _rows_of): compiling them cost more
    than running them."""
    found = _page_pks(f, sort, descending, offset, limit)
    if not found:
        return RowPage([], {}, filtered_orders(f).count() if offset else 0)
    pks = [pk for pk, _ in found]
    order_rows, line_rows = _rows_and_lines_of(pks, tuple(columns.values()), tuple(line_columns.values()))
    make_order = _row_type("OrderRow", ("pk", *columns))._make
    by_pk = {row[0]: make_order(row) for row in order_rows}
    make_line = _row_type("OrderLineRow", ("pk", "order_pk", *line_columns))._make
    lines: dict[int, list[Any]] = {pk: [] for pk in pks}
    for row in line_rows:
        lines[row[1]].append(make_line(row))
    return RowPage([by_pk[pk] for pk in pks], lines, total=found[0][1])


def _pks_statement(f: OrderFilter, sort: str, descending: bool, offset: int, limit: int | None) -> QuerySet[Any, Any]:
    query = filtered_orders(f)
    count = query.order_by().annotate(n=Func(template="COUNT(*)", output_field=IntegerField())).values("n")
    ordered = query.order_by(*(f"-{key}" if descending else key for key in SORTS[sort]))
    page = ordered[offset : offset + limit] if limit is not None else ordered[offset:]
    return page.values_list("pk", Subquery(count))


# The page statement of the usual filters (a shop, states, order ids: OR11's) is compiled once per shape and kept:
# building and compiling the queryset cost ten times running it. The shape's SQL is compiled with stand-in values,
# each told apart from the others, and the parameters are then read by position from the filter.
_SHOP, _STATE, _ORDER_ID = "shop", "state", "order_id"
_SHAPED = frozenset({"shop_id", "states", "order_ids"})
_PLAIN = OrderFilter()


@lru_cache(maxsize=256)
def _pks_sql(
    has_shop: bool, n_states: int, n_ids: int, sort: str, descending: bool, offset: int, limit: int | None, vendor: str,
) -> tuple[str, tuple[tuple[str, int, type], ...]] | None:
    """The SQL of the shape and where each parameter comes from, (field, index, type: PostgreSQL's integers are
    wrapped, Int4); None: compiled each time."""
    stand_in = OrderFilter(shop_id=-987_654_321 if has_shop else None,
                           states=[f"\x00state{k}" for k in range(n_states)],
                           order_ids=[f"\x00order{k}" for k in range(n_ids)])
    sql, params = _pks_statement(stand_in, sort, descending, offset, limit).query.get_compiler(
        DEFAULT_DB_ALIAS).as_sql()
    sources = {stand_in.shop_id: (_SHOP, 0), **{v: (_STATE, k) for k, v in enumerate(stand_in.states)},
               **{v: (_ORDER_ID, k) for k, v in enumerate(stand_in.order_ids)}}
    where: list[tuple[str, int, type]] = []
    for param in params:
        if not isinstance(param, int | str) or isinstance(param, bool) or param not in sources:
            return None  # a value of the SQL's own: not kept
        where.append((*sources[param], type(param)))
    if has_shop and not any(name == _SHOP for name, _, _ in where):
        return None
    return sql, tuple(where)


def _unset(value: Any, default: Any) -> bool:
    """A filter field left as it is by default (an empty list for an empty tuple; False is not None)."""
    return value == default or (isinstance(default, tuple | dict) and isinstance(value, list | tuple | dict)
                                and not value)


def _page_pks(f: OrderFilter, sort: str, descending: bool, offset: int, limit: int | None) -> list[tuple[int, int]]:
    """(pk, count of every order matched) of the page's orders, in the page's order."""
    shaped = all(_unset(getattr(f, name), getattr(_PLAIN, name)) for name in _FILTER_FIELDS if name not in _SHAPED)
    connection = read_connection()
    kept = _pks_sql(f.shop_id is not None, len(f.states), len(f.order_ids), sort, descending, offset, limit,
                    connection.vendor) if shaped else None
    if kept is None:
        return list(_pks_statement(f, sort, descending, offset, limit))
    sql, where = kept
    values = {_SHOP: (f.shop_id,), _STATE: tuple(f.states), _ORDER_ID: tuple(f.order_ids)}
    with connection.cursor() as cursor:
        cursor.execute(sql, [kind(values[name][k]) for name, k, kind in where])
        return cursor.fetchall()


def _orders_by_pk(pks: Sequence[int], columns: tuple[Column, ...]) -> QuerySet[Any, Any]:
    return Order.objects.filter(pk__in=pks).values_list("pk", *columns)


def _lines_by_order_pk(pks: Sequence[int], columns: tuple[Column, ...]) -> QuerySet[Any, Any]:
    lines = OrderLine.objects.filter(order_id__in=pks).order_by("order_id", "index")
    return lines.values_list("pk", "order_id", *columns)


# SQLite's converter of booleans (imported by name: the module needs its backend loaded first).
_SQLITE_BOOLEAN = ("django.db.backends.sqlite3.operations", "DatabaseOperations.convert_booleanfield_value")
_BOOLEANS = {1: True, 0: False}  # as SQLite's converter: 1 and 0 (and True, False, 1.0, 0.0) become booleans


def _booleans(column: tuple[Any, ...], converter: Any) -> tuple[Any, ...]:
    return tuple(map(_BOOLEANS.get, column, column))


def _numbers(column: tuple[Any, ...], converter: Any) -> tuple[Any, ...]:
    """A FloatField or IntegerField expression's converter (None, or float() / int() of the value): a no-op on the
    column when the database already returned that type, as both do for our casts."""
    kind = float if converter.expression.output_field.get_internal_type() == "FloatField" else int
    if set(map(type, column)) <= {kind, type(None)}:
        return column
    return _generic(column, converter)


def _generic(column: tuple[Any, ...], converter: Any) -> tuple[Any, ...]:
    connection = read_connection()
    for func in converter.funcs:
        column = tuple(func(value, converter.expression, connection) for value in column)
    return column


@dataclass(frozen=True, slots=True)
class _Converter:
    position: int
    funcs: tuple[Callable[..., Any], ...]
    expression: Any
    apply: Callable[[tuple[Any, ...], Any], tuple[Any, ...]]  # the whole column at once


def _converter(position: int, funcs: list[Callable[..., Any]], expression: Any) -> _Converter:
    if [(getattr(func, "__module__", ""), getattr(func, "__qualname__", "")) for func in funcs] == [_SQLITE_BOOLEAN]:
        apply = _booleans
    elif (len(funcs) == 1 and getattr(expression, "convert_value", None) is funcs[0]
          and expression.output_field.get_internal_type() in ("FloatField", "IntegerField")):
        apply = _numbers
    else:
        apply = _generic
    return _Converter(position, tuple(funcs), expression, apply)


@dataclass(frozen=True, slots=True)
class _Statement:
    sql: str
    params: tuple[Any, ...]  # the columns' own, before the pks
    converters: tuple[_Converter, ...]
    # PostgreSQL: the same SQL with the pks' `IN (%s, …)` as `= ANY(%s::bigint[])` of one array: one text for every
    # page, which psycopg prepares (server-side binding, settings.py), instead of ~100 placeholders to parse again.
    any_sql: str | None = None


def _any_sql(sql: str, count: int) -> str | None:
    """`sql` with its last `IN (%s, …)` of `count` placeholders (the pks, its last parameters) as one array."""
    listed = "IN (" + ", ".join(["%s"] * count) + ")"
    head, found, tail = sql.rpartition(listed)
    if not found or "%s" in tail:
        return None
    return f"{head}= ANY(%s::bigint[]){tail}"


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
    own = tuple(params[: len(params) - count])
    return _Statement(sql, own, tuple(_converter(pos, funcs, expr) for pos, (funcs, expr) in converters.items()),
                      _any_sql(sql, count) if vendor == "postgresql" and count else None)


def _rows_of(build: _Build, pks: list[int], columns: tuple[Column, ...]) -> list[tuple[Any, ...]]:
    """`build(pks, columns)`'s rows. Compiling ~50 columns and their expressions cost more than running the
    statement, and it depends only on the number of pks: it is compiled once per page size and kept."""
    connection = read_connection()
    statement = _statement(build, len(pks), columns, connection.vendor) if len(pks) <= _KEPT_UP_TO else None
    if statement is None:
        return list(build(pks, columns))
    with connection.cursor() as cursor:
        if statement.any_sql:
            cursor.execute(statement.any_sql, (*statement.params, pks))
        else:
            cursor.execute(statement.sql, (*statement.params, *pks))
        rows = cursor.fetchall()
    return _converted(statement, rows)


def _rows_and_lines_of(
    pks: list[int], columns: tuple[Column, ...], line_columns: tuple[Column, ...],
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The rows of the page's orders and of their lines. On PostgreSQL both statements go in one round trip
    (psycopg's pipeline mode): a round trip less per OR11 page."""
    connection = read_connection()
    if connection.vendor == "postgresql" and len(pks) <= _KEPT_UP_TO:
        orders = _statement(_orders_by_pk, len(pks), columns, connection.vendor)
        lines = _statement(_lines_by_order_pk, len(pks), line_columns, connection.vendor)
        if orders is not None and lines is not None and orders.any_sql and lines.any_sql:
            with connection.cursor() as order_cursor, connection.cursor() as line_cursor:
                with connection.connection.pipeline():
                    order_cursor.execute(orders.any_sql, (*orders.params, pks))
                    line_cursor.execute(lines.any_sql, (*lines.params, pks))
                    order_rows = order_cursor.fetchall()
                    line_rows = line_cursor.fetchall()
            return _converted(orders, order_rows), _converted(lines, line_rows)
    return _rows_of(_orders_by_pk, pks, columns), _rows_of(_lines_by_order_pk, pks, line_columns)


def _converted(statement: _Statement, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    if not statement.converters or not rows:
        return rows
    # What the ORM does after reading (e.g. SQLite's 0 and 1 into booleans), a column at a time.
    by_column = list(zip(*rows, strict=True))
    for converter in statement.converters:
        by_column[converter.position] = converter.apply(by_column[converter.position], converter)
    return list(zip(*by_column, strict=True))


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
