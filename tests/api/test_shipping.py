"""Shipping over HTTP (Mirakl ST01, ST11, ST12, ST23, ST24, OR23, OR24, SH21): shapes field by field,
per-item reports, seek pagination, cross-shop isolation and bad input."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client

from comptoir.orders.models import Order
from comptoir.orders.states import OrderState
from comptoir.shipping.models import Shipment
from comptoir.shops.models import Shop
from tests.api.helpers import ISO_Z, assert_error, body_of, get, order_snapshot, post, put
from tests.factories import ensure_carriers, make_order

pytestmark = pytest.mark.django_db

SHIPMENT_KEYS = {"id", "order_id", "status", "status_customer_debit", "shipment_lines", "tracking", "shipped_date",
                 "created_date", "last_updated_date", "invoice_reference", "payment_details", "shipping_from",
                 "shipment_additional_information"}
TRACKING_KEYS = {"carrier_code", "carrier_standard_code", "carrier_name", "tracking_number", "tracking_url",
                 "validity_status", "last_known_location", "milestones"}
COLISSIMO = {"carrier_code": "colissimo", "tracking_number": "6A0001"}
COLISSIMO_URL = "https://www.laposte.fr/outils/suivre-vos-envois?code=6A0001"


@pytest.fixture(autouse=True)
def _carriers(db: None) -> None:
    ensure_carriers()


def _line_ids(order: Order) -> list[str]:
    return list(order.lines.order_by("index").values_list("line_id", flat=True))


def _shipment(order: Order, lines: dict[str, int], **extra: Any) -> dict[str, Any]:
    return {"order_id": order.order_id,
            "shipment_lines": [{"order_line_id": lid, "quantity": q} for lid, q in lines.items()], **extra}


# --- ST01 --------------------------------------------------------------------------------------------------


def test_st01_reports_each_shipment_and_creates_only_the_valid_ones(client: Client, shop: Shop, key: str,
                                                                    other_shop: Shop) -> None:
    # given two orders of the shop and one of another shop
    good = make_order(OrderState.SHIPPING, shop=shop, lines=2, quantity=2)
    over = make_order(OrderState.SHIPPING, shop=shop, lines=1)
    theirs = make_order(OrderState.SHIPPING, shop=other_shop, lines=1)
    first, second = _line_ids(good)
    before = order_snapshot(theirs)

    # when one call declares a valid partial shipment, an over-shipment and one on the other shop's order
    response = post(client, "/api/shipments", key, {"shipments": [
        _shipment(good, {first: 1}, tracking=COLISSIMO, shipped=True, invoice_reference="F-1"),
        _shipment(over, {_line_ids(over)[0]: 5}, shipped=True),
        _shipment(theirs, {_line_ids(theirs)[0]: 1}, shipped=True),
    ]})

    # then 201, one success with Mirakl's shipment shape, two errors that reveal nothing
    assert response.status_code == 201, response.content
    body = body_of(response)
    assert set(body) == {"shipment_success", "shipment_errors"}
    (created,) = body["shipment_success"]
    assert set(created) == SHIPMENT_KEYS
    assert set(created["tracking"]) == TRACKING_KEYS
    assert created["order_id"] == good.order_id and created["status"] == "SHIPPED"
    assert created["shipment_lines"] == [{"order_line_id": first, "offer_sku": good.lines.get(line_id=first).offer_sku,
                                          "quantity": 1, "package_reference": None}]
    assert created["tracking"]["carrier_code"] == "colissimo"
    assert created["tracking"]["carrier_name"] == "Colissimo"
    assert created["tracking"]["tracking_url"] == COLISSIMO_URL
    assert created["invoice_reference"] == "F-1"
    assert ISO_Z.match(created["shipped_date"]) and ISO_Z.match(created["created_date"])
    assert created["payment_details"]["customer_debited_date"] is not None
    errors = {e["order_id"]: e for e in body["shipment_errors"]}
    assert errors[over.order_id]["code"] == "SHIPMENT_QUANTITY_EXCEEDED"
    assert errors[theirs.order_id]["code"] == "ORDER_NOT_FOUND"
    assert "Boutique" not in errors[theirs.order_id]["message"]
    assert Order.objects.get(pk=good.pk).state == OrderState.SHIPPING
    assert order_snapshot(theirs) == before
    assert not Shipment.objects.filter(order__in=[over, theirs]).exists()
    assert second  # untouched


def test_st01_shipping_everything_moves_the_order_to_shipped(client: Client, shop: Shop, key: str) -> None:
    order = make_order(OrderState.SHIPPING, shop=shop, lines=2)
    first, second = _line_ids(order)
    sku = order.lines.get(line_id=second).offer_sku

    response = post(client, "/api/shipments", key, {"shipments": [{
        "order_id": order.order_id, "shipped": True, "tracking": COLISSIMO,
        "shipment_lines": [{"order_line_id": first, "quantity": 1}, {"offer_sku": sku, "quantity": 1}]}]})

    assert response.status_code == 201
    assert body_of(response)["shipment_errors"] == []
    orders = body_of(get(client, "/api/orders", key, {"order_ids": order.order_id}))["orders"]
    assert orders[0]["order_state"] == "SHIPPED"
    assert orders[0]["shipping_carrier_code"] == "colissimo"
    assert orders[0]["shipping_company"] == "Colissimo"
    assert orders[0]["shipping_tracking"] == "6A0001"
    assert orders[0]["shipping_tracking_url"] == COLISSIMO_URL
    assert all(line["shipped_date"] for line in orders[0]["order_lines"])


def test_st01_answers_each_shipment_as_st11_reads_it_back(client: Client, shop: Shop, key: str) -> None:
    # given two orders, one with a parcel already (ST01 answers from the rows it writes, not from a read)
    a = make_order(OrderState.SHIPPING, shop=shop, lines=2, quantity=2)
    b = make_order(OrderState.SHIPPING, shop=shop, lines=1, quantity=3)
    a1, a2 = _line_ids(a)
    (b1,) = _line_ids(b)
    post(client, "/api/shipments", key, {"shipments": [_shipment(b, {b1: 1}, shipped=False)]})
    sku = a.lines.get(line_id=a2).offer_sku
    Order.objects.filter(pk=a.pk).update(customer_debited_date=datetime(2025, 12, 1, 8, 30, tzinfo=UTC))

    # when one call declares a shipped parcel (date given, package references, an invoice), a prepared one, and
    # a second parcel of the same order
    response = post(client, "/api/shipments", key, {"shipments": [
        {"order_id": a.order_id, "shipped": True, "tracking": COLISSIMO, "invoice_reference": "F-9",
         "shipped_date": "2026-01-02T03:04:05.678+01:00",
         "shipment_lines": [{"order_line_id": a2, "quantity": 1, "package_reference": "P2"},
                            {"offer_sku": sku, "quantity": 1}, {"order_line_id": a1, "quantity": 2}]},
        _shipment(b, {b1: 1}, shipped=False, tracking={"carrier_name": "Coursier", "tracking_number": "C-1",
                                                       "tracking_url": "https://coursier.example.com/C-1"}),
        _shipment(b, {b1: 1}, shipped=True),
    ]})

    # then each shipment of the answer is, field for field and in order, what ST11 reads from the database
    assert response.status_code == 201, response.content
    created = body_of(response)["shipment_success"]
    assert len(created) == 3 and body_of(response)["shipment_errors"] == [], body_of(response)
    listed = {s["id"]: s for s in body_of(get(client, "/api/shipments", key, {"limit": 100}))["data"]}
    assert created == [listed[s["id"]] for s in created]
    assert created[0]["shipped_date"] == "2026-01-02T02:04:05Z"
    assert [sl["package_reference"] for sl in created[0]["shipment_lines"]] == ["P2", None, None]


def test_st01_future_ship_date_is_reported_as_an_error(client: Client, shop: Shop, key: str) -> None:
    order = make_order(OrderState.SHIPPING, shop=shop, lines=1)

    response = post(client, "/api/shipments", key, {"shipments": [
        _shipment(order, {_line_ids(order)[0]: 1}, shipped=True, shipped_date="2999-01-01T00:00:00Z")]})

    assert response.status_code == 201
    assert body_of(response)["shipment_errors"][0]["code"] == "SHIPMENT_DATE_IN_FUTURE"


@pytest.mark.parametrize("payload", [
    {},
    {"shipments": []},
    {"shipments": [{"order_id": "X"}]},
    {"shipments": [{"order_id": "X", "shipment_lines": [{"order_line_id": "X-1", "quantity": 0}]}]},
    {"shipments": [{"order_id": "X", "shipment_lines": [{"order_line_id": "X-1", "quantity": 1}], "shipped": "yes"}]},
    "not json",
])
def test_st01_malformed_requests_are_400(client: Client, key: str, payload: Any) -> None:
    assert_error(post(client, "/api/shipments", key, payload), 400, "VALIDATION_ERROR")


def test_st01_more_than_1000_shipments_is_400(client: Client, key: str) -> None:
    item = {"order_id": "X", "shipment_lines": [{"order_line_id": "X-1", "quantity": 1}]}
    assert_error(post(client, "/api/shipments", key, {"shipments": [item] * 1001}), 400, "VALIDATION_ERROR")


def test_st01_without_key_is_401(client: Client) -> None:
    assert_error(post(client, "/api/shipments", None, {"shipments": []}), 401, "UNAUTHORIZED")


def test_st01_other_carrier_without_an_https_link_is_an_item_error(client: Client, shop: Shop, key: str) -> None:
    order = make_order(OrderState.SHIPPING, shop=shop, lines=1)

    response = post(client, "/api/shipments", key, {"shipments": [_shipment(
        order, {_line_ids(order)[0]: 1}, shipped=True,
        tracking={"carrier_name": "Coursier", "tracking_number": "C1", "tracking_url": "http://c.example/C1"})]})

    assert body_of(response)["shipment_errors"][0]["code"] == "SHIPMENT_TRACKING_INVALID"


# --- ST11 --------------------------------------------------------------------------------------------------


def test_st11_pages_forward_and_back_with_tokens(client: Client, shop: Shop, key: str, other_shop: Shop,
                                                 django_assert_max_num_queries: Any) -> None:
    # given 5 shipments of the shop (one per order) and one of another shop
    orders = [make_order(OrderState.SHIPPING, shop=shop, lines=1, quantity=2) for _ in range(5)]
    for order in orders:
        post(client, "/api/shipments", key, {"shipments": [_shipment(order, {_line_ids(order)[0]: 1}, shipped=True)]})
    make_order(OrderState.SHIPPING, shop=other_shop, lines=1)

    # when paging 2 by 2
    with django_assert_max_num_queries(5):
        first = body_of(get(client, "/api/shipments", key, {"limit": "2"}))
    second = body_of(get(client, "/api/shipments", key, {"limit": "2", "page_token": first["next_page_token"]}))
    third = body_of(get(client, "/api/shipments", key, {"limit": "2", "page_token": second["next_page_token"]}))
    back = body_of(get(client, "/api/shipments", key, {"limit": "2", "page_token": second["previous_page_token"]}))

    # then every shipment once, in creation order; tokens absent at the ends
    ids = [s["order_id"] for page in (first, second, third) for s in page["data"]]
    assert ids == [o.order_id for o in orders]
    assert "previous_page_token" not in first and "next_page_token" not in third
    assert back["data"] == first["data"]


def test_st11_filters_by_order_and_state(client: Client, shop: Shop, key: str) -> None:
    a = make_order(OrderState.SHIPPING, shop=shop, lines=1, quantity=2)
    b = make_order(OrderState.SHIPPING, shop=shop, lines=1)
    post(client, "/api/shipments", key, {"shipments": [
        _shipment(a, {_line_ids(a)[0]: 1}, shipped=False), _shipment(b, {_line_ids(b)[0]: 1}, shipped=True)]})

    by_order = body_of(get(client, f"/api/shipments?order_id={a.order_id}&order_id={b.order_id}", key))
    prepared = body_of(get(client, "/api/shipments", key, {"shipment_state_code": "SHIPPING"}))

    assert len(by_order["data"]) == 2
    assert [s["order_id"] for s in prepared["data"]] == [a.order_id]
    assert_error(get(client, "/api/shipments", key, {"shipment_state_code": "LOST"}), 400, "VALIDATION_ERROR")
    assert_error(get(client, "/api/shipments", key, {"page_token": "%%%"}), 400, "VALIDATION_ERROR")
    assert_error(get(client, "/api/shipments", key, {"limit": "101"}), 400, "VALIDATION_ERROR")


def test_st11_shows_nothing_of_another_shop(client: Client, other_shop: Shop, key: str, other_key: str) -> None:
    theirs = make_order(OrderState.SHIPPING, shop=other_shop, lines=1)
    post(client, "/api/shipments", other_key, {"shipments": [_shipment(theirs, {_line_ids(theirs)[0]: 1})]})

    assert body_of(get(client, "/api/shipments", key, {"order_id": theirs.order_id})) == {"data": []}


# --- ST12 --------------------------------------------------------------------------------------------------


def test_st12_lists_what_is_left_to_ship_per_line(client: Client, shop: Shop, key: str) -> None:
    # given an order of 2 lines × 2 units, one unit of the first line shipped, and a fully prepared order
    order = make_order(OrderState.SHIPPING, shop=shop, lines=2, quantity=2)
    first, second = _line_ids(order)
    done = make_order(OrderState.SHIPPING, shop=shop, lines=1)
    post(client, "/api/shipments", key, {"shipments": [
        _shipment(order, {first: 1}, shipped=True), _shipment(done, {_line_ids(done)[0]: 1}, shipped=False)]})
    make_order(OrderState.WAITING_ACCEPTANCE, shop=shop)

    body = body_of(get(client, "/api/shipments/items_to_ship", key))

    (item,) = body["data"]
    assert item["order_id"] == order.order_id
    assert [(sl["order_line_id"], sl["quantity"]) for sl in item["shipment_lines"]] == [(first, 1), (second, 2)]
    assert item["shipping_address"]["zip_code"] == "69003"
    assert set(item["shipment_lines"][0]) == {"order_line_id", "offer_sku", "quantity", "product_title",
                                              "package_reference", "package_description"}


# --- ST23 / ST24 -------------------------------------------------------------------------------------------


def test_st23_then_st24_track_and_ship_a_prepared_shipment(client: Client, shop: Shop, key: str,
                                                          other_key: str) -> None:
    order = make_order(OrderState.SHIPPING, shop=shop, lines=1)
    created = body_of(post(client, "/api/shipments", key, {"shipments": [
        _shipment(order, {_line_ids(order)[0]: 1}, shipped=False)]}))["shipment_success"][0]
    sid = created["id"]
    assert created["status"] == "SHIPPING" and created["shipped_date"] is None

    tracked = body_of(post(client, "/api/shipments/tracking", key, {"shipments": [
        {"id": sid, "tracking": COLISSIMO}, {"id": "nope", "tracking": COLISSIMO}]}))
    stolen = body_of(put(client, "/api/shipments/ship", other_key, {"shipments": [{"id": sid}]}))
    shipped = body_of(put(client, "/api/shipments/ship", key, {"shipments": [{"id": sid}]}))

    assert tracked["shipment_success"] == [{"id": sid}]
    assert tracked["shipment_errors"][0]["id"] == "nope"
    assert tracked["shipment_errors"][0]["code"] == "SHIPMENT_NOT_FOUND"
    assert stolen["shipment_errors"][0]["code"] == "SHIPMENT_NOT_FOUND"
    assert shipped == {"shipment_success": [{"id": sid}], "shipment_errors": []}
    assert Order.objects.get(pk=order.pk).state == OrderState.SHIPPED
    listed = body_of(get(client, "/api/shipments", key))["data"][0]
    assert listed["tracking"]["tracking_url"] == COLISSIMO_URL and listed["status"] == "SHIPPED"


# --- OR23 / OR24 -------------------------------------------------------------------------------------------


def test_or23_then_or24_ship_the_whole_order_with_its_tracking(client: Client, shop: Shop, key: str) -> None:
    order = make_order(OrderState.SHIPPING, shop=shop, lines=2, quantity=2)

    tracking = put(client, f"/api/orders/{order.order_id}/tracking", key,
                   {"carrier_code": "mondial-relay", "tracking_number": "998877"})
    ship = put(client, f"/api/orders/{order.order_id}/ship", key)

    assert tracking.status_code == 204 and tracking.content == b""
    assert ship.status_code == 204 and ship.content == b""
    listed = body_of(get(client, "/api/orders", key, {"order_ids": order.order_id}))["orders"][0]
    assert listed["order_state"] == "SHIPPED"
    assert listed["shipping_tracking_url"].endswith("numeroExpedition=998877&codePostal=69003")
    (shipment,) = body_of(get(client, "/api/shipments", key))["data"]
    assert sum(sl["quantity"] for sl in shipment["shipment_lines"]) == 4


def test_or23_other_carrier_and_correction_after_shipping(client: Client, shop: Shop, key: str) -> None:
    order = make_order(OrderState.SHIPPING, shop=shop, lines=1)
    assert put(client, f"/api/orders/{order.order_id}/ship", key).status_code == 204

    response = put(client, f"/api/orders/{order.order_id}/tracking", key, {
        "carrier_name": "Coursier Lyon", "tracking_number": "L-42", "carrier_url": "https://c.example/L-42"})

    assert response.status_code == 204
    listed = body_of(get(client, "/api/orders", key, {"order_ids": order.order_id}))["orders"][0]
    assert listed["shipping_company"] == "Coursier Lyon"
    assert listed["shipping_carrier_code"] is None
    assert listed["shipping_tracking_url"] == "https://c.example/L-42"


def test_or23_bad_tracking_is_400(client: Client, shop: Shop, key: str) -> None:
    order = make_order(OrderState.SHIPPING, shop=shop, lines=1)
    path = f"/api/orders/{order.order_id}/tracking"

    assert_error(put(client, path, key, {"carrier_code": "pigeon", "tracking_number": "1"}), 400, "CARRIER_NOT_FOUND")
    assert_error(put(client, path, key, {"carrier_name": "X", "tracking_number": "1"}), 400,
                 "SHIPMENT_TRACKING_INVALID")
    assert_error(put(client, path, key, {}), 400, "VALIDATION_ERROR")
    assert not Shipment.objects.filter(order=order).exists()


def test_or24_outside_shipping_is_400_order_invalid_state(client: Client, shop: Shop, key: str) -> None:
    order = make_order(OrderState.WAITING_ACCEPTANCE, shop=shop, lines=1)
    shipped = make_order(OrderState.SHIPPED, shop=shop, lines=1)

    assert_error(put(client, f"/api/orders/{order.order_id}/ship", key), 400, "ORDER_INVALID_STATE")
    assert_error(put(client, f"/api/orders/{shipped.order_id}/ship", key), 400, "ORDER_INVALID_STATE")


def test_or23_or24_on_another_shops_order_are_404(client: Client, other_shop: Shop, key: str) -> None:
    theirs = make_order(OrderState.SHIPPING, shop=other_shop, lines=1)
    before = order_snapshot(theirs)

    assert_error(put(client, f"/api/orders/{theirs.order_id}/ship", key), 404, "ORDER_NOT_FOUND")
    assert_error(put(client, f"/api/orders/{theirs.order_id}/tracking", key, COLISSIMO), 404, "ORDER_NOT_FOUND")
    assert order_snapshot(theirs) == before


# --- SH21 --------------------------------------------------------------------------------------------------


def test_sh21_lists_active_carriers_sorted_by_label(client: Client, key: str, op_key: str) -> None:
    put(client, "/api/operator/carriers/tnt/disable", op_key)

    body = body_of(get(client, "/api/shipping/carriers", key))

    labels = [c["label"] for c in body["carriers"]]
    assert labels == sorted(labels)
    assert "TNT" not in labels and "Colissimo" in labels
    colissimo = next(c for c in body["carriers"] if c["code"] == "colissimo")
    assert colissimo == {"code": "colissimo", "label": "Colissimo", "standard_code": "COLISSIMO",
                         "tracking_url": "https://www.laposte.fr/outils/suivre-vos-envois?code={tracking_number}"}
