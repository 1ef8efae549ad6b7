"""OR11 GET /api/orders over HTTP: the shape strict Mirakl clients need, filters, errors, auth, queries."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.http import HttpResponse
from django.test import Client

from comptoir.orders import services
from comptoir.orders.models import Order
from comptoir.orders.states import OrderState
from comptoir.shops.models import Shop
from comptoir.shops.services import issue_api_key
from tests.api.helpers import ISO_Z, assert_error, body_of, clock_at, get, shared_rows
from tests.factories import OPERATOR, OfferFactory, ShopFactory, make_order, shop_key

pytestmark = pytest.mark.django_db

URL = "/api/orders"

# Reference §12: keys strict clients require on every order and line, present and non-null.
STRICT_ORDER_KEYS = """
can_cancel commercial_id created_date currency_iso_code customer has_customer_message has_incident
has_invoice last_updated_date leadtime_to_ship order_additional_fields order_id order_lines
order_state price promotions shipping_price shipping_type_code shipping_type_label
shipping_zone_code shipping_zone_label total_commission total_price
""".split()
STRICT_LINE_KEYS = """
can_refund cancelations commission_fee commission_rate_vat commission_taxes commission_vat
created_date offer_id offer_sku offer_state_code order_line_additional_fields order_line_id
order_line_index order_line_state price price_unit product_medias product_sku product_title
promotions quantity refunds shipping_price shipping_taxes taxes total_commission total_price
""".split()
# Reference §8: the other keys, present even when null.
NULLABLE_ORDER_KEYS = """
order_state_reason_code order_state_reason_label acceptance_decision_date customer_debited_date
transaction_date transaction_number shipping_deadline delivery_date order_tax_mode order_taxes
order_refunds payment_type payment_workflow payment_duration customer_directly_pays_seller
can_shop_ship fully_refunded customer_notification_email shipping_type_standard_code
shipping_carrier_code shipping_carrier_standard_code shipping_company shipping_tracking
shipping_tracking_url shipping_pudo_id channel references fulfillment invoice_details quote_id
""".split()
NULLABLE_LINE_KEYS = """
order_line_state_reason_code order_line_state_reason_label product_shop_sku category_code
category_label description origin_unit_price price_additional_info shipping_price_unit
shipping_price_additional_unit tax_legal_notice fees eco_contributions last_updated_date
debited_date shipped_date received_date shipping_from measurement
""".split()
# Lists are always lists, never omitted or null (§12).
LIST_ORDER_KEYS = """
order_additional_fields order_lines order_taxes order_refunds
""".split()
LIST_LINE_KEYS = """
cancelations commission_taxes order_line_additional_fields product_medias promotions refunds
shipping_taxes taxes fees eco_contributions
""".split()
AMOUNT_ORDER_KEYS = """
price shipping_price total_price total_commission
""".split()
AMOUNT_LINE_KEYS = """
price price_unit shipping_price total_price commission_fee commission_vat total_commission
""".split()
DATE_ORDER_KEYS = """
created_date last_updated_date acceptance_decision_date customer_debited_date transaction_date
shipping_deadline
""".split()
DATE_LINE_KEYS = """
created_date last_updated_date debited_date shipped_date received_date
""".split()
DAY_1 = datetime(2025, 3, 10, 10, 0, tzinfo=UTC)
DAY_2 = datetime(2025, 3, 11, 10, 0, tzinfo=UTC)
DAY_3 = datetime(2025, 3, 12, 10, 0, tzinfo=UTC)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _ids(response: HttpResponse) -> list[str]:
    return [o["order_id"] for o in body_of(response)["orders"]]


@pytest.fixture(scope="module")
def dated(django_db_setup: None, django_db_blocker: Any) -> Iterator[tuple[str, dict[str, Order]]]:
    """A shop with one order created on each of three days at 10:00 UTC; d1 is still STAGING (last updated on
    day 1), d2 and d3 were approved on day 3 at 12:00. Made once for the module: the tests only read."""
    with shared_rows(django_db_blocker):
        with clock_at() as set_now:
            shop = ShopFactory()
            made = {}
            for name, day in (("d1", DAY_1), ("d2", DAY_2), ("d3", DAY_3)):
                set_now(day)
                made[name] = make_order(OrderState.STAGING, shop=shop, lines=1)
            set_now(DAY_3 + timedelta(hours=2))
            for name in ("d2", "d3"):
                services.approve_order(order_id=made[name].order_id, who=OPERATOR)
        yield shop_key(shop), made


@pytest.fixture(scope="module")
def crowd(django_db_setup: None, django_db_blocker: Any) -> Iterator[tuple[str, list[str]]]:
    """A shop's key and its 50 orders of 3 lines each, oldest first. Made once for the module."""
    with shared_rows(django_db_blocker):
        shop = ShopFactory()
        offers = [(OfferFactory(shop=shop), 1) for _ in range(3)]
        made = [make_order(OrderState.STAGING, shop=shop, offers=offers).order_id for _ in range(50)]
        yield shop_key(shop), made


@pytest.fixture
def three_days(dated: tuple[str, dict[str, Order]]) -> dict[str, Order]:
    return dated[1]


@pytest.fixture
def dated_key(dated: tuple[str, dict[str, Order]]) -> str:
    return dated[0]


# --- shape -------------------------------------------------------------------------------------------


def test_every_order_and_line_key_strict_clients_need_is_present_and_not_null(
    client: Client, shop: Shop, key: str
) -> None:
    # given an order that went all the way to SHIPPED, and one still waiting for acceptance
    shipped = make_order(OrderState.SHIPPED, shop=shop, lines=3)
    waiting = make_order(OrderState.WAITING_ACCEPTANCE, shop=shop)

    # when the seller lists its orders
    response = get(client, URL, key)

    # then both carry every key, with non-null values where strict clients require them
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = body_of(response)
    assert body["total_count"] == 2
    assert {o["order_id"] for o in body["orders"]} == {shipped.order_id, waiting.order_id}
    for order in body["orders"]:
        for name in STRICT_ORDER_KEYS:
            assert order.get(name) is not None, name
        for name in NULLABLE_ORDER_KEYS:
            assert name in order, name
        for name in LIST_ORDER_KEYS:
            assert isinstance(order[name], list), name
        assert order["promotions"] == {"applied_promotions": [], "total_deduced_amount": 0}
        assert isinstance(order["leadtime_to_ship"], int)
        for name in ("customer_id", "firstname", "lastname"):
            assert isinstance(order["customer"][name], str) and order["customer"][name], name
        for flag in ("can_cancel", "has_customer_message", "has_incident", "has_invoice"):
            assert isinstance(order[flag], bool), flag
        assert order["order_lines"]
        for line in order["order_lines"]:
            for name in STRICT_LINE_KEYS:
                assert line.get(name) is not None, (order["order_id"], name)
            for name in NULLABLE_LINE_KEYS:
                assert name in line, name
            for name in LIST_LINE_KEYS:
                assert isinstance(line[name], list), name
            for name in ("offer_id", "order_line_index", "quantity"):
                assert isinstance(line[name], int) and not isinstance(line[name], bool), name
            assert all({"amount", "code"} <= set(tax) for tax in line["commission_taxes"])
            assert isinstance(line["can_refund"], bool)
    shipped_json = next(o for o in body["orders"] if o["order_id"] == shipped.order_id)
    assert [line["order_line_index"] for line in shipped_json["order_lines"]] == [1, 2, 3]
    for address in ("billing_address", "shipping_address"):
        for name in ("city", "country", "firstname", "lastname", "street_1"):
            assert isinstance(shipped_json["customer"][address][name], str), (address, name)


def test_amounts_are_json_numbers_with_the_hand_computed_values(client: Client, shop: Shop, key: str) -> None:
    # given 2 × 19.99 and 1 × 5.50, 4.90 shipping per line, 20 % VAT, commission 10 % + 20 % VAT on it
    offers = [(OfferFactory(shop=shop, price_cents=1999), 2), (OfferFactory(shop=shop, price_cents=550), 1)]
    order = make_order(OrderState.WAITING_ACCEPTANCE, shop=shop, offers=offers)

    # when the seller reads it
    response = get(client, URL, key, {"order_ids": order.order_id})

    # then line 1: 39.98 + 4.90 = 44.88; commission 4.488 → 4.49, its VAT 0.898 → 0.90; VAT in 39.98 = 6.66
    #      line 2: 5.50 + 4.90 = 10.40; commission 1.04, its VAT 0.208 → 0.21; VAT in 5.50 = 0.92
    body = body_of(response)
    (data,) = body["orders"]
    first, second = data["order_lines"]
    assert (first["price_unit"], first["quantity"], first["price"]) == (19.99, 2, 39.98)
    assert (first["shipping_price"], first["total_price"]) == (4.9, 44.88)
    assert (first["commission_fee"], first["commission_vat"], first["total_commission"]) == (4.49, 0.9, 5.39)
    assert first["commission_rate_vat"] == 20.0
    assert first["taxes"][0]["amount"] == 6.66 and first["taxes"][0]["rate"] == 20.0
    assert first["taxes"][0]["code"] == "TVA20"
    assert first["shipping_taxes"][0]["amount"] == 0.82
    assert (second["price"], second["total_price"], second["total_commission"]) == (5.5, 10.4, 1.25)
    assert second["taxes"][0]["amount"] == 0.92
    # and the order sums its lines
    assert (data["price"], data["shipping_price"]) == (45.48, 9.8)
    assert (data["total_price"], data["total_commission"]) == (55.28, 6.64)
    for name in AMOUNT_ORDER_KEYS:
        assert _is_number(data[name]), name
    for line in data["order_lines"]:
        for name in AMOUNT_LINE_KEYS:
            assert _is_number(line[name]), name
    # and the wire text holds plain two-decimal numbers, never strings or float noise
    assert b'"total_price":55.28' in response.content
    assert b'"price":45.48' in response.content
    assert data["currency_iso_code"] == "EUR"


def test_dates_are_utc_iso_8601_with_z(client: Client, shop: Shop, key: str) -> None:
    # given an order that was approved, accepted, debited, shipped and received
    make_order(OrderState.RECEIVED, shop=shop)

    # when listed
    (order,) = body_of(get(client, URL, key))["orders"]

    # then every date is UTC with a Z
    for name in DATE_ORDER_KEYS:
        assert ISO_Z.match(order[name]), (name, order[name])
    for line in order["order_lines"]:
        for name in DATE_LINE_KEYS:
            assert ISO_Z.match(line[name]), (name, line[name])


def test_a_fresh_order_has_null_dates_for_what_did_not_happen_yet(
    client: Client, shop: Shop, key: str
) -> None:
    # given an order waiting for acceptance
    make_order(OrderState.WAITING_ACCEPTANCE, shop=shop)

    # when listed
    (order,) = body_of(get(client, URL, key))["orders"]

    # then the debit and shipment dates are null, not absent or empty strings
    assert order["customer_debited_date"] is None
    assert order["acceptance_decision_date"] is None
    assert all(line["shipped_date"] is None and line["debited_date"] is None for line in order["order_lines"])


# --- filters -----------------------------------------------------------------------------------------


def test_order_ids_filter_accepts_comma_separated_and_repeated_values(
    client: Client, shop: Shop, key: str
) -> None:
    # given three orders
    a, b, c = (make_order(OrderState.STAGING, shop=shop, lines=1) for _ in range(3))

    # when filtering two of them, as a csv and as a repeated parameter
    csv = get(client, URL, key, {"order_ids": f"{a.order_id},{c.order_id}"})
    repeated = get(client, URL, key, {"order_ids": [a.order_id, c.order_id]})

    # then both forms return exactly those two
    for response in (csv, repeated):
        body = body_of(response)
        assert sorted(_ids(response)) == sorted([a.order_id, c.order_id])
        assert body["total_count"] == 2
    assert b.order_id not in _ids(csv)


def test_order_state_codes_filter_takes_a_csv_of_states(client: Client, shop: Shop, key: str) -> None:
    # given orders in three states
    staging = make_order(OrderState.STAGING, shop=shop, lines=1)
    waiting = make_order(OrderState.WAITING_ACCEPTANCE, shop=shop, lines=1)
    make_order(OrderState.REFUSED, shop=shop, lines=1)

    # when filtering on two of the states
    response = get(client, URL, key, {"order_state_codes": "STAGING,WAITING_ACCEPTANCE"})

    # then only those orders come back
    assert sorted(_ids(response)) == sorted([staging.order_id, waiting.order_id])
    assert body_of(response)["total_count"] == 2


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"start_date": "2025-03-11T00:00:00Z"}, ["d2", "d3"]),
        ({"start_date": "2025-03-11T00:00:00+00:00"}, ["d2", "d3"]),
        ({"start_date": "2025-03-11T11:00:00+02:00"}, ["d2", "d3"]),  # 09:00 UTC
        ({"start_date": "2025-03-11"}, ["d2", "d3"]),
        ({"end_date": "2025-03-11T23:59:59Z"}, ["d1", "d2"]),
        ({"end_date": "2025-03-11"}, ["d1", "d2"]),  # a bare end date includes that whole day
        ({"end_date": "2025-03-11T09:59:59+00:00"}, ["d1"]),
        ({"start_date": "2025-03-11", "end_date": "2025-03-11"}, ["d2"]),
    ],
)
def test_creation_date_window_accepts_z_offsets_and_bare_dates(
    client: Client, dated_key: str, three_days: dict, params: dict, expected: list[str]
) -> None:
    # given orders created on 10, 11 and 12 March 2025 at 10:00 UTC (fixture)
    # when the window is given in any of the three formats clients send
    response = get(client, URL, dated_key, params)

    # then exactly the orders created inside it come back
    assert response.status_code == 200, response.content
    assert sorted(_ids(response)) == sorted(three_days[name].order_id for name in expected)


def test_an_unescaped_plus_in_an_offset_is_still_understood(
    client: Client, dated_key: str, three_days: dict
) -> None:
    # given orders on three days; when a client forgets to escape '+' (it arrives as a space)
    response = client.get(f"{URL}?start_date=2025-03-11T00:00:00+00:00", HTTP_AUTHORIZATION=dated_key)

    # then it still means +00:00
    assert sorted(_ids(response)) == sorted([three_days["d2"].order_id, three_days["d3"].order_id])


def test_update_date_window_filters_on_last_update(client: Client, dated_key: str, three_days: dict) -> None:
    # given d1 last updated on day 1, d2 and d3 approved on day 3 at 12:00 (fixture)
    since = get(client, URL, dated_key, {"start_update_date": "2025-03-12T11:00:00Z"})
    until = get(client, URL, dated_key, {"end_update_date": "2025-03-12T11:00:00+00:00"})
    day = get(client, URL, dated_key, {"start_update_date": "2025-03-10", "end_update_date": "2025-03-10"})

    # then each window holds the orders touched inside it
    assert sorted(_ids(since)) == sorted([three_days["d2"].order_id, three_days["d3"].order_id])
    assert _ids(until) == [three_days["d1"].order_id]
    assert _ids(day) == [three_days["d1"].order_id]


def test_customer_debited_filter_separates_paid_from_unpaid_orders(
    client: Client, shop: Shop, key: str
) -> None:
    # given a debited order and one still waiting for acceptance
    paid = make_order(OrderState.SHIPPING, shop=shop, lines=1)
    unpaid = make_order(OrderState.WAITING_ACCEPTANCE, shop=shop, lines=1)

    # when filtering on customer_debited
    yes = get(client, URL, key, {"customer_debited": "true"})
    no = get(client, URL, key, {"customer_debited": "false"})

    # then each side gets its order
    assert _ids(yes) == [paid.order_id]
    assert _ids(no) == [unpaid.order_id]


def test_has_incident_filter_takes_true_false_and_all(client: Client, shop: Shop, key: str) -> None:
    # given two orders, one flagged with an open incident (no incident service yet: set the flag directly)
    quiet = make_order(OrderState.SHIPPING, shop=shop, lines=1)
    troubled = make_order(OrderState.SHIPPING, shop=shop, lines=1)
    Order.objects.filter(pk=troubled.pk).update(has_incident=True)

    # when filtering
    with_incident = get(client, URL, key, {"has_incident": "true"})
    without = get(client, URL, key, {"has_incident": "false"})
    every = get(client, URL, key, {"has_incident": "all"})

    # then
    assert _ids(with_incident) == [troubled.order_id]
    assert body_of(with_incident)["orders"][0]["has_incident"] is True
    assert _ids(without) == [quiet.order_id]
    assert sorted(_ids(every)) == sorted([quiet.order_id, troubled.order_id])


def test_default_page_is_ten_and_max_offset_page_through(
    client: Client, crowd: tuple[str, list[str]]
) -> None:
    # given fifty orders (fixture)
    key, made = crowd

    # when paging
    default = get(client, URL, key)
    first = get(client, URL, key, {"max": "5"})
    middle = get(client, URL, key, {"max": "7", "offset": "20"})
    last = get(client, URL, key, {"max": "5", "offset": "45"})
    beyond = get(client, URL, key, {"max": "5", "offset": "60"})

    # then pages hold the asked slice and total_count stays the full count
    assert _ids(default) == made[:10]
    assert _ids(first) == made[:5]
    assert _ids(middle) == made[20:27]
    assert _ids(last) == made[45:]
    assert _ids(beyond) == []
    for response in (default, first, middle, last, beyond):
        assert body_of(response)["total_count"] == 50


def test_paginate_false_returns_every_order_at_once(client: Client, crowd: tuple[str, list[str]]) -> None:
    # given fifty orders (fixture); when pagination is off (max is then ignored)
    key, made = crowd
    response = get(client, URL, key, {"paginate": "false", "max": "2"})

    # then all of them come back
    assert _ids(response) == made
    assert body_of(response)["total_count"] == 50


def test_max_of_one_hundred_is_accepted(client: Client, crowd: tuple[str, list[str]]) -> None:
    key, made = crowd
    response = get(client, URL, key, {"max": "100"})
    assert response.status_code == 200
    assert _ids(response) == made


def test_sort_by_creation_date_ascending_by_default_and_descending_on_request(
    client: Client, dated_key: str, three_days: dict
) -> None:
    # given orders created on three days (fixture)
    in_order = [three_days[name].order_id for name in ("d1", "d2", "d3")]

    # when sorting
    default = get(client, URL, dated_key)
    asc = get(client, URL, dated_key, {"sort": "dateCreated", "order": "asc"})
    desc = get(client, URL, dated_key, {"sort": "dateCreated", "order": "desc"})
    upper = get(
        client, URL, dated_key, {"sort": "dateCreated", "order": "DESC"}
    )  # the SDK lower-cases; others may not

    # then
    assert _ids(default) == in_order
    assert _ids(asc) == in_order
    assert _ids(desc) == in_order[::-1]
    assert _ids(upper) == in_order[::-1]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"order_state_codes": "WAITING_ACCEPTANCE,TELEPORTED"}, "order_state_codes"),
        ({"start_date": "yesterday"}, "start_date"),
        ({"end_date": "2025-02-30"}, "end_date"),
        ({"start_update_date": "2025-13-01T00:00:00Z"}, "start_update_date"),
        ({"max": "abc"}, "max"),
        ({"max": "101"}, "max"),
        ({"max": "0"}, "max"),
        ({"offset": "-1"}, "offset"),
        ({"order": "sideways"}, "order"),
        ({"sort": "price"}, "sort"),
        ({"customer_debited": "maybe"}, "customer_debited"),
        ({"has_incident": "sometimes"}, "has_incident"),
        ({"paginate": "nope"}, "paginate"),
        ({"order_ids": ",".join(f"X{i}-A" for i in range(101))}, "order_ids"),
    ],
)
def test_bad_query_values_are_rejected_with_a_mirakl_error_body(
    client: Client, key: str, params: dict, field: str
) -> None:
    # given a seller; when a parameter has a bad value
    response = get(client, URL, key, params)

    # then 400 with Mirakl's body and no orders
    body = assert_error(response, 400, "VALIDATION_ERROR")
    assert field in body["message"]
    assert "orders" not in body


# --- authentication and shops --------------------------------------------------------------------------


def test_no_key_is_401(client: Client, shop: Shop) -> None:
    make_order(OrderState.STAGING, shop=shop, lines=1)
    body = assert_error(get(client, URL, None), 401, "UNAUTHORIZED")
    assert "orders" not in body


def test_a_wrong_key_is_401(client: Client, key: str) -> None:
    assert_error(get(client, URL, key + "x"), 401, "UNAUTHORIZED")
    assert_error(get(client, URL, "Bearer "), 401, "UNAUTHORIZED")


def test_a_revoked_key_is_401(client: Client, shop: Shop, key: str) -> None:
    # given a new key issued for the shop (the old one is revoked)
    issue_api_key(shop_id=shop.id, raw_key="another-key-for-the-shop")

    # then the old key no longer opens anything, the new one does
    assert_error(get(client, URL, key), 401, "UNAUTHORIZED")
    assert get(client, URL, "another-key-for-the-shop").status_code == 200


def test_the_key_is_also_accepted_with_a_bearer_prefix(client: Client, shop: Shop, key: str) -> None:
    order = make_order(OrderState.STAGING, shop=shop, lines=1)
    response = get(client, URL, f"Bearer {key}")
    assert response.status_code == 200
    assert _ids(response) == [order.order_id]


def test_the_operator_key_does_not_open_the_seller_api(client: Client, shop: Shop, op_key: str) -> None:
    make_order(OrderState.STAGING, shop=shop, lines=1)
    assert_error(get(client, URL, op_key), 401, "UNAUTHORIZED")


def test_shop_id_of_the_keys_own_shop_is_accepted(client: Client, shop: Shop, key: str) -> None:
    order = make_order(OrderState.STAGING, shop=shop, lines=1)
    response = get(client, URL, key, {"shop_id": str(shop.id)})
    assert response.status_code == 200
    assert _ids(response) == [order.order_id]


def test_shop_id_of_another_shop_is_404_with_no_data(
    client: Client, shop: Shop, key: str, other_shop: Shop
) -> None:
    # given orders in both shops
    make_order(OrderState.STAGING, shop=shop, lines=1)
    theirs = make_order(OrderState.STAGING, shop=other_shop, lines=1)

    # when the seller names the other shop
    response = get(client, URL, key, {"shop_id": str(other_shop.id)})

    # then 404, and nothing of either shop's orders
    body = assert_error(response, 404, {"SHOP_NOT_FOUND", "NOT_FOUND"})
    assert "orders" not in body
    assert theirs.order_id.encode() not in response.content
    assert other_shop.name.encode() not in response.content


def test_another_shops_orders_are_invisible_even_by_id(client: Client, other_shop: Shop, key: str) -> None:
    # given an order of shop A in several states, and shop B's key
    theirs = [
        make_order(state, shop=other_shop, lines=1) for state in (OrderState.STAGING, OrderState.SHIPPING)
    ]

    # when B asks for A's order ids
    response = get(client, URL, key, {"order_ids": ",".join(o.order_id for o in theirs)})
    everything = get(client, URL, key, {"paginate": "false"})

    # then nothing
    assert body_of(response) == {"orders": [], "total_count": 0}
    assert body_of(everything) == {"orders": [], "total_count": 0}


# --- cost --------------------------------------------------------------------------------------------


def test_a_page_costs_the_same_few_queries_for_5_or_50_orders(
    client: Client, crowd: tuple[str, list[str]], django_assert_max_num_queries: Any
) -> None:
    # given 50 orders with 3 lines each (fixture)
    key, _made = crowd

    # when listing 5 then 50 of them
    with django_assert_max_num_queries(6) as small:
        few = get(client, URL, key, {"max": "5"})
    with django_assert_max_num_queries(6) as large:
        many = get(client, URL, key, {"max": "50"})

    # then the same bounded number of queries, whatever the page size
    assert len(body_of(few)["orders"]) == 5
    assert len(body_of(many)["orders"]) == 50
    assert all(len(o["order_lines"]) == 3 for o in body_of(many)["orders"])
    assert len(small.captured_queries) == len(large.captured_queries)
