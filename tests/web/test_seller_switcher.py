"""A user of several shops picks the one they work on in the header; only among their own shops."""

from __future__ import annotations

import pytest
from django.test import Client

from comptoir.orders.states import OrderState
from comptoir.shops.models import Shop, ShopMember
from tests.factories import ShopFactory, make_order
from tests.web_factories import make_seller

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_shop_client(shop: Shop, other_shop: Shop) -> Client:
    user = make_seller(shop, "anne@lumiere.test")
    ShopMember.objects.create(shop=other_shop, user=user)
    client = Client()
    client.force_login(user)
    return client


def test_the_header_offers_the_users_shops_and_starts_on_the_first(two_shop_client: Client) -> None:
    body = two_shop_client.get("/vendeur/").content.decode()

    assert '<label for="shop-switch">Boutique</label>' in body
    assert '<option value="2001" selected>Boutique Lumière</option>' in body
    assert '<option value="2002">Boutique Voisine</option>' in body
    assert "Bonjour, Boutique Lumière" in body


def test_switching_shows_the_other_shops_orders(two_shop_client: Client, shop: Shop, other_shop: Shop) -> None:
    mine = make_order(OrderState.WAITING_ACCEPTANCE, shop=shop)
    theirs = make_order(OrderState.WAITING_ACCEPTANCE, shop=other_shop)

    response = two_shop_client.post("/vendeur/boutique/", {"boutique": "2002"}, follow=True)
    orders = two_shop_client.get("/vendeur/commandes/").content.decode()

    assert "Vous travaillez maintenant sur la boutique Boutique Voisine." in response.content.decode()
    assert "Bonjour, Boutique Voisine" in response.content.decode()
    assert theirs.order_id in orders and mine.order_id not in orders
    assert two_shop_client.get(f"/vendeur/commandes/{mine.order_id}/").status_code == 404


@pytest.mark.parametrize("value", ["2099", "abc", ""])
def test_a_shop_the_user_does_not_belong_to_is_a_404(two_shop_client: Client, value: str) -> None:
    ShopFactory(id=2099, name="Boutique Étrangère")

    response = two_shop_client.post("/vendeur/boutique/", {"boutique": value})

    assert response.status_code == 404
    assert "Bonjour, Boutique Lumière" in two_shop_client.get("/vendeur/").content.decode()


def test_losing_access_to_the_chosen_shop_falls_back_to_another(two_shop_client: Client, other_shop: Shop) -> None:
    two_shop_client.post("/vendeur/boutique/", {"boutique": "2002"})
    ShopMember.objects.filter(shop=other_shop).delete()

    body = two_shop_client.get("/vendeur/").content.decode()

    assert "Bonjour, Boutique Lumière" in body and "shop-switch" not in body


def test_a_single_shop_user_sees_no_switcher(seller_client: Client) -> None:
    body = seller_client.get("/vendeur/").content.decode()

    assert "shop-switch" not in body and "Boutique Lumière" in body


def test_switching_needs_post_and_the_csrf_token(shop: Shop, other_shop: Shop) -> None:
    user = make_seller(shop, "anne@lumiere.test")
    ShopMember.objects.create(shop=other_shop, user=user)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)

    assert client.get("/vendeur/boutique/", {"boutique": "2002"}).status_code == 405
    assert client.post("/vendeur/boutique/", {"boutique": "2002"}).status_code == 403
    assert "Bonjour, Boutique Lumière" in client.get("/vendeur/").content.decode()
