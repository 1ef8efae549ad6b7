"""Customer space: a signed link per order; anything else is a 404."""

from __future__ import annotations

import pytest
from django.test import Client

from comptoir.customer.links import customer_link, customer_path
from comptoir.orders.states import OrderState
from comptoir.shops.models import Shop
from tests.factories import make_order

pytestmark = pytest.mark.django_db


def test_the_signed_link_shows_status_products_and_amounts(shop: Shop) -> None:
    order = make_order(OrderState.SHIPPING, shop=shop)

    body = Client().get(customer_path(order)).content.decode()

    assert order.order_id in body and "Confirmée, en préparation" in body
    assert order.lines.first().product_title in body and "Total TTC" in body
    assert customer_link(order).startswith("http") and customer_link(order).endswith(customer_path(order))


def test_a_wrong_signature_is_a_404(shop: Shop) -> None:
    order = make_order(OrderState.WAITING_ACCEPTANCE, shop=shop)
    path = customer_path(order)
    tampered = path[:-3] + ("AAA" if not path[-4:-1].startswith("AAA") else "BBB") + "/"

    assert Client().get(tampered).status_code == 404
    assert Client().get(f"/client/commande/{order.order_id}/").status_code == 404


def test_links_of_two_orders_differ_and_each_opens_its_own(shop: Shop) -> None:
    first = make_order(OrderState.STAGING, shop=shop)
    second = make_order(OrderState.STAGING, shop=shop)

    assert customer_path(first) != customer_path(second)
    assert second.order_id not in Client().get(customer_path(first)).content.decode()


def test_a_refused_order_says_so(shop: Shop) -> None:
    order = make_order(OrderState.REFUSED, shop=shop)

    body = Client().get(customer_path(order)).content.decode()

    assert "Annulée par le vendeur" in body
