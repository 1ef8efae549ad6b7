"""Fixtures of the operations tests: shops with their API keys, the operator's key, metric samples."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from comptoir.shops.models import Shop
from tests.factories import ShopFactory, operator_key, shop_key


@pytest.fixture
def shop(db: None) -> Shop:
    return ShopFactory()


@pytest.fixture
def key(shop: Shop) -> str:
    return shop_key(shop)


@pytest.fixture
def other_key(db: None) -> str:
    return shop_key(ShopFactory())


@pytest.fixture
def op_key(db: None) -> str:
    return operator_key()


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a Prometheus exposition: (name, labels) → value."""
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


@pytest.fixture
def scrape(client: Client) -> Callable[..., dict[tuple[str, frozenset[tuple[str, str]]], float]]:
    """scrape() → the samples /metrics answers now."""

    def read(**headers: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
        response = client.get("/metrics", **headers)
        assert response.status_code == 200, response.content
        assert response["Content-Type"].startswith("text/plain")
        return samples(response.content.decode())

    return read


def value(found: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)
