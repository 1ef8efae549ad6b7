"""Web tests: fast password hashing, shops 2001 and 2002 with a logged-in member each."""

from __future__ import annotations

import pytest
from django.test import Client

from comptoir.shops.models import Shop
from tests.factories import ShopFactory
from tests.web_factories import make_operator, make_seller


@pytest.fixture(autouse=True)
def _fast_hashing(settings) -> None:  # type: ignore[no-untyped-def]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def shop(db) -> Shop:  # type: ignore[no-untyped-def]
    return ShopFactory(id=2001, name="Boutique Lumière")


@pytest.fixture
def other_shop(db) -> Shop:  # type: ignore[no-untyped-def]
    return ShopFactory(id=2002, name="Boutique Voisine")


@pytest.fixture
def seller_client(shop: Shop) -> Client:
    client = Client()
    client.force_login(make_seller(shop))
    return client


@pytest.fixture
def other_seller_client(other_shop: Shop) -> Client:
    client = Client()
    client.force_login(make_seller(other_shop))
    return client


@pytest.fixture
def operator_client(db) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(make_operator())
    return client
