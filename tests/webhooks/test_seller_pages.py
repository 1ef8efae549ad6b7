"""Seller back office, Paramètres › Webhooks: add (secret shown once), refuse bad input in French changing nothing,
edit, rotate and delete through the confirmation step, the delivery log and « Renvoyer »; other shops' are 404."""

from __future__ import annotations

from html import unescape
from typing import Any

import pytest
from django.test import Client

from comptoir.orders.states import OrderState
from comptoir.shops.models import Shop
from comptoir.timers.worker import run_until_idle
from comptoir.webhooks import services
from comptoir.webhooks.models import Delivery, DeliveryState, Endpoint
from tests.factories import ShopFactory, make_order
from tests.web_factories import make_seller
from tests.webhooks.receiver import Receiver

pytestmark = pytest.mark.django_db
PAGE = "/vendeur/parametres/webhooks/"
URL = "https://erp.example.com/hooks"


@pytest.fixture(autouse=True)
def _fast_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def shop() -> Shop:
    return ShopFactory(name="Boutique Lumière")


@pytest.fixture
def seller(shop: Shop) -> Client:
    client = Client()
    client.force_login(make_seller(shop))
    return client


def test_the_settings_page_links_to_the_webhooks(seller: Client) -> None:
    page = seller.get("/vendeur/parametres/").content.decode()
    assert 'href="/vendeur/parametres/webhooks/"' in page and "Webhooks" in page


def test_adding_an_endpoint_shows_its_secret_once(seller: Client, shop: Shop) -> None:
    answer = seller.post(PAGE, {"url": URL, "description": "ERP", "event_types": ["IncidentOpened"], "enabled": "on"})
    endpoint = Endpoint.objects.get(shop=shop)
    assert answer.status_code == 200 and answer["Cache-Control"] == "no-store"
    assert endpoint.secret in answer.content.decode() and "ne sera plus jamais affiché" in answer.content.decode()
    assert endpoint.url == URL and endpoint.event_types == ["IncidentOpened"] and endpoint.enabled

    listing = seller.get(PAGE).content.decode()
    assert URL in listing and "Nouvel incident" in listing and endpoint.secret not in listing
    assert endpoint.secret[:10] in listing


@pytest.mark.parametrize("url, message", [
    ("http://erp.example.com/hooks", "doit commencer par https://"),
    ("erp.example.com/hooks", "URL complète"),
    ("https://erp example.com/", "espaces"),
    ("", "Ce champ est obligatoire"),
    ("https://192.168.0.10/hooks", "adresse IP privée"),
])
def test_a_bad_address_is_refused_in_french_and_nothing_is_added(seller: Client, url: str, message: str) -> None:
    answer = seller.post(PAGE, {"url": url, "enabled": "on"})
    assert answer.status_code == 400
    page = unescape(answer.content.decode())
    assert message in page and "n'a pas été ajouté" in page
    assert Endpoint.objects.count() == 0


def test_an_unknown_event_type_is_refused(seller: Client) -> None:
    answer = seller.post(PAGE, {"url": URL, "event_types": ["OrderShipped"]})
    assert answer.status_code == 400 and Endpoint.objects.count() == 0


def test_editing_disables_and_narrows_the_events(seller: Client, shop: Shop) -> None:
    endpoint = services.create_endpoint(shop_id=shop.id, url=URL)
    form = seller.get(f"{PAGE}{endpoint.id}/").content.decode()
    assert URL in form
    answer = seller.post(f"{PAGE}{endpoint.id}/", {"url": URL, "event_types": ["OrderStateChanged"]})
    assert answer.status_code == 302
    endpoint.refresh_from_db()
    assert not endpoint.enabled and endpoint.event_types == ["OrderStateChanged"]
    bad = seller.post(f"{PAGE}{endpoint.id}/", {"url": "http://erp.example.com/", "enabled": "on"})
    assert bad.status_code == 400 and "https://" in bad.content.decode()
    endpoint.refresh_from_db()
    assert not endpoint.enabled and endpoint.url == URL


def test_rotating_and_deleting_go_through_a_confirmation(seller: Client, shop: Shop) -> None:
    endpoint = services.create_endpoint(shop_id=shop.id, url=URL)
    old = endpoint.secret
    step = seller.post(f"{PAGE}{endpoint.id}/secret/")
    assert step.status_code == 200 and "Générer le secret" in step.content.decode()
    assert Endpoint.objects.get(id=endpoint.id).secret == old
    done = seller.post(f"{PAGE}{endpoint.id}/secret/", {"confirme": "1"})
    new = Endpoint.objects.get(id=endpoint.id).secret
    assert new != old and new in done.content.decode()

    assert "Supprimer" in seller.post(f"{PAGE}{endpoint.id}/supprimer/").content.decode()
    assert Endpoint.objects.filter(id=endpoint.id).exists()
    assert seller.post(f"{PAGE}{endpoint.id}/supprimer/", {"confirme": "1"}).status_code == 302
    assert not Endpoint.objects.filter(id=endpoint.id).exists()


def test_another_shops_endpoint_is_not_found(seller: Client) -> None:
    other = ShopFactory()
    endpoint = services.create_endpoint(shop_id=other.id, url=URL)
    for path in (f"{PAGE}{endpoint.id}/", f"{PAGE}{endpoint.id}/envois/"):
        assert seller.get(path).status_code == 404
    for path in (f"{PAGE}{endpoint.id}/secret/", f"{PAGE}{endpoint.id}/supprimer/"):
        assert seller.post(path, {"confirme": "1"}).status_code == 404
    assert Endpoint.objects.get(id=endpoint.id).secret == endpoint.secret


def test_the_delivery_log_shows_attempts_and_redelivers(seller: Client, shop: Shop, receiver: Receiver,
                                                        django_assert_max_num_queries: Any) -> None:
    # given an endpoint that refused a first event once (retried in 30 s), and 25 more deliveries (two pages)
    endpoint = services.create_endpoint(shop_id=shop.id, url=receiver.url, event_types=["OrderAwaitingAcceptance"])
    receiver.secret = endpoint.secret
    receiver.script = [503]
    order = make_order(OrderState.WAITING_ACCEPTANCE, shop=shop)
    run_until_idle("test-worker")
    for _ in range(25):
        make_order(OrderState.WAITING_ACCEPTANCE, shop=shop)
    run_until_idle("test-worker")
    first = Delivery.objects.get(event__order_id=order.order_id)

    # the log: latest first, 20 a page, bounded queries
    with django_assert_max_num_queries(8):
        page = seller.get(f"{PAGE}{endpoint.id}/envois/").content.decode()
    assert "26 envois" in page and "Page 1 sur 2" in page and order.order_id not in page
    second = seller.get(f"{PAGE}{endpoint.id}/envois/?page=2").content.decode()
    assert order.order_id in second and "HTTP 503" in second and first.event.event_id in second

    # « Renvoyer »: the same event id, due now
    answer = seller.post(f"{PAGE}{endpoint.id}/envois/{first.id}/renvoyer/", {"page": "2"})
    assert answer.status_code == 302 and answer["Location"].endswith("/envois/?page=2")
    first.refresh_from_db()
    assert first.state == DeliveryState.PENDING
    run_until_idle("test-worker")
    assert [c.headers["X-Comptoir-Event-Id"] for c in receiver.calls].count(first.event.event_id) == 2
    first.refresh_from_db()
    assert first.state == DeliveryState.DELIVERED
    assert seller.post(f"{PAGE}{endpoint.id}/envois/999999/renvoyer/").status_code == 404
