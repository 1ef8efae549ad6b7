"""Messages end to end in Chromium: the customer writes from the customer space → the seller sees it unread
(home indicator, « Non lus » tab) → answers in French → the customer reads the answer; and an English answer to
a French customer is held back with the language warning until « Envoyer quand même »."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from comptoir.customer.links import customer_path
from comptoir.messaging.models import Message
from comptoir.orders.states import OrderState
from tests.e2e.test_journeys import login
from tests.factories import ShopFactory, make_order
from tests.web_factories import make_seller

pytestmark = pytest.mark.django_db(transaction=True)

QUESTION = "Bonjour, quand mon colis partira-t-il ? J'en ai besoin avant samedi."
ANSWER = "Bonjour, votre colis part demain matin avec Colissimo, vous l'aurez vendredi."
ENGLISH = "Hello, your parcel will leave tomorrow morning, sorry for the delay."


@pytest.fixture(autouse=True)
def message_storage(settings: Any, tmp_path: Path) -> Path:
    settings.STORAGES = {**settings.STORAGES, "documents": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}}}
    return tmp_path


def test_customer_writes_seller_answers_in_french_then_an_english_answer_is_warned(new_page) -> None:  # type: ignore[no-untyped-def]
    shop = ShopFactory(id=2001, name="Boutique Lumière")
    make_seller(shop, "anne@lumiere.test")
    order = make_order(OrderState.SHIPPING, shop=shop, lines=1)

    # The customer writes from the link of the notification mails.
    customer = new_page()
    customer.goto(customer_path(order))
    customer.get_by_label("Sujet").fill("Délai de livraison")
    customer.get_by_label("Votre message").fill(QUESTION)
    customer.get_by_role("button", name="Envoyer au vendeur").click()
    expect(customer.locator(".messages[role=status]")).to_contain_text("Votre message a été envoyé au vendeur.")
    expect(customer.locator("#messages")).to_contain_text(QUESTION)

    # The seller sees it unread on the home page and in the « Non lus » tab.
    seller = new_page()
    login(seller, "/vendeur/connexion/", "anne@lumiere.test")
    expect(seller.locator("#unread-indicator .value")).to_have_text("1")
    seller.locator("#unread-indicator").click()
    expect(seller.get_by_role("tab", name="Non lus (1)")).to_have_attribute("aria-selected", "true")
    row = seller.locator("table.threads tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("1 non lu")
    row.get_by_role("link", name=order.order_id).click()

    # Opening the conversation reads it; the French answer goes at once.
    expect(seller.locator(".conversation")).to_contain_text(QUESTION)
    conversation = seller.locator(".conversation").first
    conversation.get_by_label("Votre message").fill(ANSWER)
    conversation.get_by_role("button", name="Répondre").click()
    expect(seller.locator(".messages[role=status]")).to_contain_text("Réponse envoyée.")
    seller.goto("/vendeur/")
    expect(seller.locator("#unread-indicator .value")).to_have_text("0")

    # The customer reads the answer.
    customer.reload()
    expect(customer.locator("#messages .message-shop")).to_contain_text(ANSWER)

    # An English answer to this French-speaking customer: the warning, then « Envoyer quand même ».
    seller.goto(f"/vendeur/commandes/{order.order_id}/messages/")
    conversation = seller.locator(".conversation").first
    conversation.get_by_label("Votre message").fill(ENGLISH)
    conversation.get_by_role("button", name="Répondre").click()
    warning = seller.locator(".language-warning")
    expect(warning).to_contain_text("ne semble pas rédigé en français")
    assert Message.objects.filter(body=ENGLISH).count() == 0
    warning.get_by_role("button", name="Envoyer quand même").click()
    expect(seller.locator(".messages[role=status]")).to_contain_text("Réponse envoyée.")
    assert Message.objects.filter(body=ENGLISH, author_type="SHOP").count() == 1
    customer.reload()
    expect(customer.locator("#messages")).to_contain_text(ENGLISH)
