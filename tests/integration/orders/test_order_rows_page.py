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
