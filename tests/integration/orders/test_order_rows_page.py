"""orders.queries.order_rows_page on a real database: the page, its count and its lines as the ORM reads them,
whether the rows' statements are kept between calls or compiled each time."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db.models import Exists, OuterRef

from comptoir.orders import queries
from comptoir.orders.models import Order, OrderLine
from comptoir.orders.states import OrderState
from tests.factories import ShopFactory, make_order

pytestmark = pytest.mark.django_db

# Raw columns whose values the ORM converts after reading them (aware datetimes, Decimal, booleans; on SQLite the
# driver hands back naive datetimes and numbers), and an expression.
COLUMNS: dict[str, Any] = {
    "order_id": "order_id", "created_date": "created_date", "has_incident": "has_incident",
    "billing_address": "billing_address",
    "has_lines": Exists(OrderLine.objects.filter(order=OuterRef("pk"))),
}
LINE_COLUMNS: dict[str, Any] = {"line_id": "line_id", "tax_rate": "tax_rate", "created_date": "created_date"}


def _page(**kwargs: Any) -> queries.RowPage:
    return queries.order_rows_page(queries.OrderFilter(**kwargs.pop("where")), columns=COLUMNS,
                                   line_columns=LINE_COLUMNS, **kwargs)


def _as_orm_reads(page: queries.RowPage) -> list[tuple[Any, ...]]:
    return [(tuple(order), [tuple(line) for line in page.lines[order.pk]]) for order in page.orders]


@pytest.fixture
def shop_orders() -> list[Order]:
    shop = ShopFactory()
    return [make_order(state, shop=shop, lines=2) for state in
            (OrderState.STAGING, OrderState.WAITING_ACCEPTANCE, OrderState.SHIPPING)]


def test_a_page_holds_the_columns_asked_converted_as_the_orm_converts_them(shop_orders: list[Order]) -> None:
    # given a shop's three orders of two lines
    shop_id = shop_orders[0].shop_id

    # when reading the two newest
    page = _page(where={"shop_id": shop_id}, descending=True, limit=2)

    # then the values and their types are the ORM's, the lines in index order, and the count of all three
    newest = [shop_orders[2], shop_orders[1]]
    assert page.total == 3
    assert [order.order_id for order in page.orders] == [o.order_id for o in newest]
    for row, order in zip(page.orders, newest, strict=True):
        expected = Order.objects.values_list("pk", *[c for c in COLUMNS if c != "has_lines"]).get(pk=order.pk)
        assert tuple(row)[:-1] == expected
        assert row.created_date.tzinfo is not None and row.has_incident is False and row.has_lines is True
        assert isinstance(row.billing_address, dict)
        lines = list(OrderLine.objects.filter(order=order).order_by("index").values_list(
            "pk", "order_id", *LINE_COLUMNS))
        assert [tuple(line) for line in page.lines[order.pk]] == lines
        assert all(isinstance(line.tax_rate, Decimal) for line in page.lines[order.pk])


def test_the_same_rows_when_the_statements_are_compiled_each_time(
    shop_orders: list[Order], monkeypatch: pytest.MonkeyPatch
) -> None:
    # given the page read with its statements kept
    kept = _as_orm_reads(_page(where={"shop_id": shop_orders[0].shop_id}, limit=10))

    # when no statement may be kept
    monkeypatch.setattr(queries, "_KEPT_UP_TO", 0)
    compiled = _as_orm_reads(_page(where={"shop_id": shop_orders[0].shop_id}, limit=10))

    # then the same rows
    assert compiled == kept and len(kept) == 3


def test_an_empty_page_counts_without_reading_rows(shop_orders: list[Order], django_assert_num_queries: Any) -> None:
    # given three orders, when reading past the end, then a page of nothing, the count, two statements
    with django_assert_num_queries(2):
        past = _page(where={"shop_id": shop_orders[0].shop_id}, offset=5, limit=10)
    assert (past.orders, past.lines, past.total) == ([], {}, 3)
    # and a filter matching nothing answers in one
    with django_assert_num_queries(1):
        nothing = _page(where={"shop_id": shop_orders[0].shop_id, "states": ["CLOSED"]}, limit=10)
    assert (nothing.orders, nothing.total) == ([], 0)


def _pks(page: queries.RowPage) -> list[str]:
    return [order.order_id for order in page.orders]


@pytest.mark.parametrize("where", [
    {"states": ["SHIPPING", "STAGING"]},
    {"states": ["SHIPPING", "SHIPPING"]},
    {"order_ids": "first_two"},
    {"states": ["STAGING", "SHIPPING", "WAITING_ACCEPTANCE"], "order_ids": "first_two"},
    {"has_incident": False},
    {"customer_debited": False, "states": ["SHIPPING", "STAGING"]},
])
def test_the_page_statement_kept_per_shape_reads_each_filter_s_own_values(
    shop_orders: list[Order], where: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # given two shops with the same three orders, and the page statement of a shape kept after a first call
    other_shop = ShopFactory()
    other = [make_order(o.state, shop=other_shop, lines=1) for o in shop_orders]
    if where.get("order_ids") == "first_two":
        where = {**where, "order_ids": [o.order_id for o in shop_orders[:2] + other[:2]]}
    for shop in (shop_orders[0].shop_id, other[0].shop_id):
        _page(where={**where, "shop_id": shop}, limit=10)

    # when reading each shop's page with the kept statement, and with the statement compiled each time
    kept = [_page(where={**where, "shop_id": o[0].shop_id}, descending=True, limit=10) for o in (shop_orders, other)]
    monkeypatch.setattr(queries, "_pks_sql", lambda *args: None)
    compiled = [_page(where={**where, "shop_id": o[0].shop_id}, descending=True, limit=10)
                for o in (shop_orders, other)]

    # then each shop sees its own orders only, the same as compiled, with the same count
    for page, again, orders in zip(kept, compiled, (shop_orders, other), strict=True):
        assert _pks(page) == _pks(again) and page.total == again.total == len(page.orders)
        assert set(_pks(page)) <= {o.order_id for o in orders} and page.orders


def test_without_a_shop_the_kept_page_statement_reads_every_shop(shop_orders: list[Order]) -> None:
    # given the orders of two shops
    other = make_order(OrderState.SHIPPING, shop=ShopFactory(), lines=1)

    # when listing SHIPPING orders of every shop twice (the second with the kept statement)
    first = _page(where={"states": ["SHIPPING"]}, limit=10)
    second = _page(where={"states": ["SHIPPING"]}, limit=10)

    # then both shops' orders, the same twice
    assert _pks(first) == _pks(second) == [shop_orders[2].order_id, other.order_id]


def test_database_dates_match_iso(shop_orders: list[Order]) -> None:
    # given dates at the edges of the second and of the calendar
    from datetime import UTC, datetime, timedelta, timezone

    from comptoir.api.render import IsoDate, iso

    dates = [datetime(2025, 3, 10, 9, 15, 59, 999999, tzinfo=UTC), datetime(1, 1, 1, tzinfo=UTC),
             datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
             datetime(2025, 6, 30, 23, 30, tzinfo=timezone(timedelta(hours=-5)))]
    for order, date in zip(shop_orders, dates, strict=False):
        Order.objects.filter(pk=order.pk).update(created_date=date, acceptance_deadline=None)
    last = dates[3]
    Order.objects.filter(pk=shop_orders[2].pk).update(created_date=dates[2], acceptance_deadline=last)

    # when the database formats them
    rows = Order.objects.filter(pk__in=[o.pk for o in shop_orders]).order_by("pk").values_list(
        IsoDate("created_date"), IsoDate("acceptance_deadline"))

    # then iso()'s text (UTC, truncated to the second), and null for null
    assert list(rows) == [(iso(dates[0]), None), (iso(dates[1]), None), (iso(dates[2]), iso(last))]
    assert iso(last) == "2025-07-01T04:30:00Z"


def test_postgresql_reads_the_rows_with_the_pks_as_one_array_in_one_round_trip(shop_orders: list[Order]) -> None:
    from django.db import connection

    # given a page read once (its statements kept)
    where = {"shop_id": shop_orders[0].shop_id}
    first = _as_orm_reads(_page(where=where, limit=10))

    # when reading it again, recording what each statement is given and whether it was sent in a pipeline
    given: list[tuple[str, Any, bool]] = []

    def record(execute, sql, params, many, context):  # noqa: ANN001, ANN202
        status = getattr(getattr(context["connection"].connection, "pgconn", None), "pipeline_status", 0)
        given.append((sql, params, bool(status)))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        again = _as_orm_reads(_page(where=where, limit=10))

    # then the same rows; on PostgreSQL the orders' and lines' statements take the pks as one array (one statement
    # text for every page, prepared by psycopg) and go in one round trip (pipeline mode); on SQLite the pks stay
    # parameters of their own, one execute each
    assert again == first and len(first) == 3
    pks = {order.pk for order in shop_orders}
    rows_statements = given[1:]
    assert len(rows_statements) == 2
    if connection.vendor == "postgresql":
        for sql, params, pipelined in rows_statements:
            assert "= ANY(%s::bigint[])" in sql and set(params[-1]) == pks and pipelined, (sql, params)
        assert '"orders_orderline"' in rows_statements[1][0].split("FROM", 1)[1]
    else:
        for _sql, params, pipelined in rows_statements:
            assert pks <= set(params) and not pipelined, params
