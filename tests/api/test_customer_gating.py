"""What a seller sees of the customer through OR11, state by state (DESIGN §5): name before SHIPPING,
addresses and phone from SHIPPING on, the real e-mail never; the relay address always."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from comptoir.orders import services
from comptoir.orders.models import Order
from comptoir.orders.rules import Decision
from comptoir.orders.states import OrderState
from comptoir.shops.models import Shop
from tests.api.helpers import body_of, get, shared_rows
from tests.factories import ADDRESS, SELLER, ShopFactory, make_order, shop_key

pytestmark = pytest.mark.django_db

URL = "/api/orders"
REAL_EMAIL = "jeanne.martin@example.com"
PHONE = ADDRESS["phone"]
HIDDEN = [
    OrderState.STAGING,
    OrderState.WAITING_ACCEPTANCE,
    OrderState.WAITING_DEBIT,
    OrderState.WAITING_DEBIT_PAYMENT,
    OrderState.REFUSED,
    OrderState.CANCELED,
]
VISIBLE = [OrderState.SHIPPING, OrderState.SHIPPED, OrderState.RECEIVED, OrderState.CLOSED]
CUSTOMER_DATA = ("jeanne", "martin", "cust-1", "lilas", "69003", "lyon", "example")


@pytest.fixture(scope="module")
def seller(django_db_setup: None, django_db_blocker: Any) -> Iterator[tuple[str, dict[OrderState, Order]]]:
    """One shop, its key and an order in each workflow state, made once for the module (tests only read)."""
    with shared_rows(django_db_blocker):
        shop = ShopFactory()
        yield shop_key(shop), {state: make_order(state, shop=shop) for state in HIDDEN + VISIBLE}


def _read(client: Client, key: str, order: Order) -> tuple[dict, str]:
    response = get(client, URL, key, {"order_ids": order.order_id})
    assert response.status_code == 200
    (data,) = body_of(response)["orders"]
    return data, response.content.decode()


@pytest.mark.parametrize("state", HIDDEN)
def test_before_shipping_the_seller_sees_the_customers_name_but_no_address_or_phone(
    client: Client, seller: tuple, state: OrderState
) -> None:
    # given an order that never reached SHIPPING
    key, orders = seller
    order = orders[state]

    # when the seller lists it
    data, text = _read(client, key, order)

    # then id, civility and name only; both address keys present and null; no phone anywhere
    customer = data["customer"]
    assert data["order_state"] == state
    assert (customer["customer_id"], customer["civility"]) == ("cust-1", "Mme")
    assert (customer["firstname"], customer["lastname"]) == ("Jeanne", "Martin")
    assert "billing_address" in customer and customer["billing_address"] is None
    assert "shipping_address" in customer and customer["shipping_address"] is None
    assert PHONE not in text
    assert ADDRESS["street_1"] not in text
    assert ADDRESS["zip_code"] not in text


@pytest.mark.parametrize("state", VISIBLE)
def test_from_shipping_on_the_seller_sees_both_addresses_with_the_phone(
    client: Client, seller: tuple, state: OrderState
) -> None:
    # given an order that reached SHIPPING (or went further)
    key, orders = seller
    order = orders[state]

    # when the seller lists it
    data, _text = _read(client, key, order)

    # then both addresses, complete, with the phone
    customer = data["customer"]
    assert data["order_state"] == state
    for name in ("billing_address", "shipping_address"):
        address = customer[name]
        assert address["phone"] == PHONE
        assert (address["street_1"], address["zip_code"], address["city"]) == (
            "12 rue des Lilas",
            "69003",
            "Lyon",
        )
        assert (address["country"], address["country_iso_code"]) == ("France", "FRA")
        assert (address["firstname"], address["lastname"]) == ("Jeanne", "Martin")
        for key_name in ("company", "street_2", "state", "phone_secondary"):
            assert key_name in address, key_name  # every key present, null when unknown
    assert "additional_info" in customer["shipping_address"]


@pytest.mark.parametrize("state", HIDDEN + VISIBLE)
def test_the_real_email_never_appears_and_the_relay_address_is_opaque(
    client: Client, seller: tuple, state: OrderState
) -> None:
    # given an order in any state, whose customer gave a real e-mail at checkout
    key, orders = seller
    order = orders[state]
    assert Order.objects.get(pk=order.pk).customer_email == REAL_EMAIL

    # when the seller lists it
    data, text = _read(client, key, order)

    # then the real e-mail appears nowhere, and the notification address is the relay
    assert REAL_EMAIL not in text
    assert "jeanne.martin@" not in text.lower()
    assert "email" not in data["customer"]
    relay = data["customer_notification_email"]
    local, _, domain = relay.partition("@")
    assert domain == settings.COMPTOIR["RELAY_DOMAIN"]
    assert re.fullmatch(r"[A-Za-z0-9]{16,}", local), relay
    lowered = local.lower()
    for fragment in (*CUSTOMER_DATA, order.order_id.lower(), order.order_id.split("-")[0].lower()):
        assert fragment not in lowered, fragment


def test_each_order_has_its_own_relay_address_kept_through_the_workflow(
    client: Client, shop: Shop, key: str
) -> None:
    # given two orders of the same customer
    first = make_order(OrderState.WAITING_ACCEPTANCE, shop=shop)
    second = make_order(OrderState.WAITING_ACCEPTANCE, shop=shop)
    before, _ = _read(client, key, first)
    other, _ = _read(client, key, second)

    # when the first is accepted
    lines = list(first.lines.values_list("line_id", flat=True))
    services.decide_lines(
        order_id=first.order_id,
        shop_id=shop.id,
        who=SELLER,
        decisions=[Decision(line_id, True) for line_id in lines],
    )
    after, _ = _read(client, key, first)

    # then its relay address did not change, and the other order has a different one
    assert after["order_state"] == OrderState.WAITING_DEBIT
    assert after["customer_notification_email"] == before["customer_notification_email"]
    assert other["customer_notification_email"] != before["customer_notification_email"]
