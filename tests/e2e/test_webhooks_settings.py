"""Seller webhooks in a real browser: add an endpoint (a real receiver on 127.0.0.1) from « Paramètres », copy its
secret, see a new order delivered and signed in the delivery log, then « Renvoyer » it (same event id)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from comptoir.orders.states import OrderState
from comptoir.timers.worker import run_until_idle
from comptoir.webhooks import queries
from comptoir.webhooks.models import Endpoint
from tests.e2e.test_journeys import login
from tests.factories import ShopFactory, make_order
from tests.web_factories import make_seller
from tests.webhooks.receiver import Receiver, running_receiver

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def receiver(comptoir_settings: Any) -> Iterator[Receiver]:
    comptoir_settings(WEBHOOK_ALLOW_LOCAL_HTTP=True)
    with running_receiver(Receiver()) as running:
        yield running
    queries.reset_subscriptions({})  # the tables are flushed after this test


def test_seller_registers_an_endpoint_and_redelivers_an_event(new_page, receiver: Receiver) -> None:  # type: ignore[no-untyped-def]
    shop = ShopFactory(id=2001, name="Boutique Lumière")
    make_seller(shop, "anne@lumiere.test")
    page = new_page()

    # the seller adds an endpoint from the settings
    login(page, "/vendeur/connexion/", "anne@lumiere.test")
    page.goto("/vendeur/parametres/")
    page.get_by_role("link", name="Gérer les webhooks").click()
    page.get_by_label("Adresse du point de terminaison (https)").fill(receiver.url)
    page.get_by_label("Nouvelle commande à accepter").check()
    page.get_by_role("button", name="Ajouter le point de terminaison").click()
    page.get_by_text("Copiez ce secret maintenant").wait_for()
    secret = page.locator("#webhook-secret").inner_text().strip()
    assert secret == Endpoint.objects.get(shop=shop).secret
    receiver.secret = secret

    # a new order to accept is delivered, signed
    order = make_order(OrderState.WAITING_ACCEPTANCE, shop=shop)
    run_until_idle("e2e-worker")
    assert len(receiver.processed) == 1 and receiver.calls[0].signature_ok

    # the log shows it delivered; « Renvoyer » sends the same event again
    page.get_by_role("link", name="Retour aux webhooks").click()
    page.get_by_role("link", name="Journal des envois").click()
    row = page.locator("#webhook-deliveries tbody tr").first
    assert order.order_id in row.inner_text() and "Livré" in row.inner_text()
    event_id = next(iter(receiver.processed))
    page.get_by_role("button", name=f"Renvoyer {event_id}").click()
    page.get_by_text(f"L'événement {event_id} sera renvoyé").wait_for()
    run_until_idle("e2e-worker")
    assert [c.headers["X-Comptoir-Event-Id"] for c in receiver.calls] == [event_id, event_id]
    assert len(receiver.processed) == 1  # deduplicated by the receiver
    page.reload()
    assert "2" in page.locator("#webhook-deliveries tbody tr").first.locator("summary").inner_text()

    # both pages fit a phone screen
    page.set_viewport_size({"width": 390, "height": 844})
    for url in ("/vendeur/parametres/webhooks/", page.url):
        page.goto(url)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 1, f"{url} is {overflow}px wider than the phone"
