"""A01 GET /api/account and V01 GET /api/version over HTTP."""

from __future__ import annotations

import pytest
from django.test import Client

from comptoir.orders.states import OrderState
from comptoir.shops.models import Shop
from tests.api.helpers import ISO_Z, assert_error, body_of, get, put
from tests.factories import make_order

pytestmark = pytest.mark.django_db

URL = "/api/account"


def test_a01_describes_the_keys_shop_with_every_key(client: Client, shop: Shop, key: str) -> None:
    # given a shop and its key; when the seller reads its account
    response = get(client, URL, key)

    # then the shop's profile in Mirakl's shape
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = body_of(response)
    assert body["shop_id"] == shop.id and isinstance(body["shop_id"], int)
    assert body["shop_name"] == shop.name
    assert body["shop_state"] == "OPEN"
    assert body["suspension_type"] is None
    assert body["currency_iso_code"] == "EUR"
    assert ISO_Z.match(body["date_created"]) and ISO_Z.match(body["last_updated_date"])
    assert body["is_professional"] is True
    for name in (
        "premium",
        "description",
        "return_policy",
        "approval_delay",
        "approval_rate",
        "order_messages_response_delay",
        "contact_informations",
        "default_billing_information",
        "model",
    ):
        assert name in body, name
    for name in ("shop_additional_fields", "channels", "domains"):
        assert body[name] == [], name
    # and a shop without orders has every balance at zero, as a number
    details = body["payment_details"]
    for name in ("paid_balance", "payable_balance", "pending_balance", "reserve_balance"):
        assert details[name] == 0 and isinstance(details[name], int | float), name


def test_a01_balances_show_what_the_shop_will_be_and_is_owed(client: Client, shop: Shop, key: str) -> None:
    # given one debited order not yet received, and one received order (each 10.00 + 20.00, 4.90 shipping per
    # line: 39.80 paid; commission 10 % of 14.90 and 24.90 → 1.49 + 2.49, VAT 0.30 + 0.50 → 4.78)
    make_order(OrderState.SHIPPING, shop=shop)
    make_order(OrderState.RECEIVED, shop=shop)
    make_order(OrderState.WAITING_ACCEPTANCE, shop=shop)  # not debited: in no balance

    # when the seller reads its account
    details = body_of(get(client, URL, key))["payment_details"]

    # then each balance holds one order's 39.80 − 4.78 = 35.02, as JSON numbers
    assert details["pending_balance"] == 35.02
    assert details["payable_balance"] == 35.02
    assert all(isinstance(details[name], int | float) for name in ("pending_balance", "payable_balance"))


def test_a01_shows_suspended_after_the_operator_suspends_the_shop(
    client: Client, shop: Shop, key: str, op_key: str
) -> None:
    # given an open shop; when the operator suspends it through the operator API
    response = put(client, f"/api/operator/shops/{shop.id}/suspend", op_key, {"reason": "Retards répétés"})
    assert response.status_code == 204

    # then its key still reads the account, which says SUSPENDED
    body = body_of(get(client, URL, key))
    assert body["shop_state"] == "SUSPENDED"
    assert body["suspension_type"] is not None

    # and after reactivation OPEN again
    assert (
        put(client, f"/api/operator/shops/{shop.id}/reactivate", op_key, {"reason": "Réglé"}).status_code
        == 204
    )
    assert body_of(get(client, URL, key))["shop_state"] == "OPEN"


def test_suspending_needs_a_reason_and_an_existing_shop(
    client: Client, shop: Shop, key: str, op_key: str
) -> None:
    assert_error(put(client, f"/api/operator/shops/{shop.id}/suspend", op_key, {}), 400, "VALIDATION_ERROR")
    assert_error(
        put(client, f"/api/operator/shops/{shop.id}/suspend", op_key, {"reason": "  "}),
        400,
        "VALIDATION_ERROR",
    )
    assert_error(
        put(client, "/api/operator/shops/999999/suspend", op_key, {"reason": "x"}),
        404,
        {"SHOP_NOT_FOUND", "NOT_FOUND"},
    )
    assert body_of(get(client, URL, key))["shop_state"] == "OPEN"


def test_a_seller_key_cannot_suspend_its_own_shop(client: Client, shop: Shop, key: str) -> None:
    assert_error(
        put(client, f"/api/operator/shops/{shop.id}/suspend", key, {"reason": "x"}), 401, "UNAUTHORIZED"
    )
    assert body_of(get(client, URL, key))["shop_state"] == "OPEN"


def test_a01_without_a_key_is_401(client: Client) -> None:
    assert_error(get(client, URL, None), 401, "UNAUTHORIZED")


def test_a01_for_another_shop_id_is_404(client: Client, key: str, other_shop: Shop) -> None:
    response = get(client, URL, key, {"shop_id": str(other_shop.id)})
    assert_error(response, 404, {"SHOP_NOT_FOUND", "NOT_FOUND"})
    assert other_shop.name not in response.content.decode()


def test_v01_answers_without_authentication(client: Client) -> None:
    # given no key; when a client checks the API is up
    response = get(client, "/api/version", None)

    # then 200 with a version
    assert response.status_code == 200
    assert isinstance(body_of(response)["version"], str)
