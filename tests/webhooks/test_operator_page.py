"""Operator back office, « Webhooks des vendeurs »: read-only, every shop's endpoints and the latest deliveries."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from comptoir.orders.states import OrderState
from comptoir.timers.worker import run_until_idle
from comptoir.webhooks import services
from tests.factories import ShopFactory, make_order
from tests.web_factories import make_operator, make_seller
from tests.webhooks.receiver import Receiver

pytestmark = pytest.mark.django_db
PAGE = "/operateur/webhooks/"


@pytest.fixture(autouse=True)
def _fast_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_the_operator_sees_every_shops_endpoints_and_deliveries(receiver: Receiver,
                                                               django_assert_max_num_queries: Any) -> None:
    # given two shops' endpoints, one delivered to, one refusing
    first, second = ShopFactory(name="Boutique Une"), ShopFactory(name="Boutique Deux")
    ok = services.create_endpoint(shop_id=first.id, url=receiver.url, event_types=["OrderAwaitingAcceptance"])
    receiver.secret = ok.secret
    services.create_endpoint(shop_id=second.id, url="https://erp.example.com/hooks", enabled=False)
    order = make_order(OrderState.WAITING_ACCEPTANCE, shop=first)
    run_until_idle("test-worker")
    client = Client()
    client.force_login(make_operator())

    with django_assert_max_num_queries(6):
        page = client.get(PAGE).content.decode()
    assert "Boutique Une" in page and "Boutique Deux" in page and "https://erp.example.com/hooks" in page
    assert order.order_id in page and "HTTP 200" in page and "Désactivé" in page
    assert order.order_id not in client.get(PAGE, {"etat": "DEAD"}).content.decode()
    assert client.get(PAGE, {"etat": "NOPE"}).status_code == 400
    assert "Webhooks des vendeurs" in client.get("/operateur/notifications/").content.decode()


def test_a_seller_cannot_open_it() -> None:
    shop = ShopFactory()
    client = Client()
    client.force_login(make_seller(shop))
    answer = client.get(PAGE)
    assert answer.status_code == 302 and "/operateur/connexion/" in answer["Location"]
