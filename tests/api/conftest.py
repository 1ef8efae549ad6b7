"""Fixtures of the API tests: two shops with their keys, and the operator's key."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from comptoir.core import clock
from comptoir.shops.models import Shop
from tests.factories import ShopFactory, operator_key, shop_key


@pytest.fixture
def shop(db: None) -> Shop:
    return ShopFactory()


@pytest.fixture
def key(shop: Shop) -> str:
    return shop_key(shop)


@pytest.fixture
def other_shop(db: None) -> Shop:
    return ShopFactory()


@pytest.fixture
def other_key(other_shop: Shop) -> str:
    return shop_key(other_shop)


@pytest.fixture
def op_key(db: None) -> str:
    return operator_key()


@pytest.fixture
def fresh_clock() -> Iterator[None]:
    """The sandbox clock offset is cached for 0.5 s: no moved clock may leak into the next test."""
    clock.forget_offset()
    yield
    clock.forget_offset()
