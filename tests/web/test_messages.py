"""Messages in the seller back office (menu with the « Non lus » tab, the order's « Messages » tab and zone, the
home indicator, the language warning) and in the customer space (write, read answers, attachments)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from comptoir.customer.links import customer_path
from comptoir.messaging import services
from comptoir.messaging.models import Attachment, Message, Thread, ThreadRead
from comptoir.messaging.rules import Participant
from comptoir.notifications.models import OutboxEvent
from comptoir.orders.models import Order
from comptoir.orders.states import OrderState
from comptoir.shops.models import Shop
from tests.factories import make_order
from tests.unit.documents.pdfs import png_bytes

pytestmark = pytest.mark.django_db

CUSTOMER_QUESTION = "Bonjour, quand mon colis partira-t-il ? J'en ai besoin pour samedi."
ENGLISH_REPLY = "Hello, your parcel will leave tomorrow morning, sorry for the delay."
FRENCH_REPLY = "Bonjour, votre colis partira demain matin, merci de votre patience."


@pytest.fixture(autouse=True)
def message_storage(settings: Any, tmp_path: Path) -> Path:
    settings.STORAGES = {**settings.STORAGES, "documents": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}}}
    return tmp_path


@pytest.fixture
def order(shop: Shop) -> Order:
    return make_order(OrderState.SHIPPING, shop=shop, lines=1)


def customer_writes(order: Order, body: str = CUSTOMER_QUESTION) -> Thread:
    thread, _ = services.start_thread(order_id=order.order_id, author=services.Author(Participant.CUSTOMER, "Jeanne"),
                                      body=body, to=["SHOP"], topic_value="Délai de livraison")
    return thread


# --- seller ----------------------------------------------------------------------------------------------------


def test_home_counts_unread_threads_and_links_to_the_unread_tab(seller_client: Client, order: Order) -> None:
    customer_writes(order)
    body = seller_client.get("/vendeur/").content.decode()
    assert 'id="unread-indicator"' in body and "/vendeur/messages/?onglet=non-lus" in body
    assert '<h2>Messages non lus</h2><span class="value">1</span>' in body


def test_inbox_lists_threads_and_the_unread_tab_keeps_unread_ones(seller_client: Client, order: Order,
                                                                   shop: Shop,
                                                                   django_assert_max_num_queries: Any) -> None:
    unread = customer_writes(order)
    other = make_order(OrderState.SHIPPING, shop=shop, lines=1)
    read = customer_writes(other, "Bonjour, tout est bien arrivé, merci beaucoup !")
    services.mark_read(thread_id=read.pk, participant=Participant.SHOP, shop_id=shop.id)
    for n in range(4):  # more rows must not mean more queries
        services.start_thread(order_id=other.order_id, shop_id=shop.id, author=services.Author(Participant.SHOP, "B"),
                              body=f"Bonjour, information numéro {n} sur votre commande.", to=["CUSTOMER"])
    with django_assert_max_num_queries(12):
        everything = seller_client.get("/vendeur/messages/").content.decode()
    assert f'data-thread="{unread.pk}"' in everything and f'data-thread="{read.pk}"' in everything
    assert "1 non lu" in everything and order.order_id in everything and everything.count("data-thread=") == 6
    only_unread = seller_client.get("/vendeur/messages/?onglet=non-lus").content.decode()
    assert f'data-thread="{unread.pk}"' in only_unread and f'data-thread="{read.pk}"' not in only_unread
    assert "Non lus (1)" in only_unread


def test_inbox_shows_nothing_of_other_shops(other_seller_client: Client, order: Order) -> None:
    thread = customer_writes(order)
    body = other_seller_client.get("/vendeur/messages/").content.decode()
    assert f'data-thread="{thread.pk}"' not in body and "Aucune conversation" in body
    assert other_seller_client.get(f"/vendeur/commandes/{order.order_id}/messages/").status_code == 404


def test_order_zone_shows_conversations_and_the_tab_marks_them_read(seller_client: Client, order: Order,
                                                                   django_assert_max_num_queries: Any) -> None:
    thread = customer_writes(order)
    for n in range(3):
        customer_writes(order, f"Bonjour, une autre question numéro {n} sur la commande.")
    with django_assert_max_num_queries(20):
        detail = seller_client.get(f"/vendeur/commandes/{order.order_id}/").content.decode()
    assert 'id="message-zone"' in detail and "Délai de livraison" in detail and "1 non lu" in detail
    assert detail.count("data-thread=") == 4
    assert "Démarrer une conversation" in detail
    tab = seller_client.get(f"/vendeur/commandes/{order.order_id}/messages/").content.decode()
    assert CUSTOMER_QUESTION.replace("'", "&#x27;") in tab
    assert ThreadRead.objects.get(thread=thread, participant="SHOP").unread_count == 0
    assert ThreadRead.objects.get(thread=thread, participant="SHOP").last_read_at is not None


def test_french_reply_is_sent_and_the_customer_notified(seller_client: Client, order: Order) -> None:
    thread = customer_writes(order)
    response = seller_client.post(f"/vendeur/commandes/{order.order_id}/messages/{thread.pk}/repondre/",
                                  {"body": FRENCH_REPLY})
    assert response.status_code == 302
    reply = Message.objects.filter(thread=thread).last()
    assert reply.author_type == "SHOP" and reply.body == FRENCH_REPLY and reply.recipients == ["CUSTOMER"]
    assert Thread.objects.get(pk=thread.pk).shop_reply_needed_since is None
    assert OutboxEvent.objects.filter(event_type="SellerMessageReceived", audience="CUSTOMER").count() == 1


def test_english_reply_to_a_french_customer_warns_and_sends_only_when_confirmed(seller_client: Client,
                                                                                order: Order) -> None:
    thread = customer_writes(order)
    url = f"/vendeur/commandes/{order.order_id}/messages/{thread.pk}/repondre/"
    warned = seller_client.post(url, {"body": ENGLISH_REPLY})
    assert warned.status_code == 200
    page = warned.content.decode()
    assert "ne semble pas rédigé en français" in page and "Envoyer quand même" in page
    assert ENGLISH_REPLY in page  # the text is kept in the form
    assert Message.objects.filter(thread=thread).count() == 1
    sent = seller_client.post(url, {"body": ENGLISH_REPLY, "confirmer_langue": "1"})
    assert sent.status_code == 302 and Message.objects.filter(thread=thread).count() == 2


def test_english_reply_to_an_english_customer_is_sent_at_once(seller_client: Client, order: Order) -> None:
    thread = customer_writes(order, "Hello, when will my parcel ship? I need it by Saturday.")
    response = seller_client.post(f"/vendeur/commandes/{order.order_id}/messages/{thread.pk}/repondre/",
                                  {"body": ENGLISH_REPLY})
    assert response.status_code == 302 and Message.objects.filter(thread=thread).count() == 2


def test_a_message_to_the_operator_is_not_subject_to_the_language_rule(seller_client: Client,
                                                                       order: Order) -> None:
    response = seller_client.post(f"/vendeur/commandes/{order.order_id}/messages/nouvelle/", {
        "destinataire": "OPERATOR", "sujet": "Question", "body": ENGLISH_REPLY})
    assert response.status_code == 302
    thread = Thread.objects.get(order=order)
    assert "CUSTOMER" not in thread.participants


def test_start_a_conversation_in_staging_with_an_attachment(seller_client: Client, shop: Shop) -> None:
    staging = make_order(OrderState.STAGING, shop=shop, lines=1)
    response = seller_client.post(f"/vendeur/commandes/{staging.order_id}/messages/nouvelle/", {
        "destinataire": "CUSTOMER", "sujet": "Votre commande", "body": FRENCH_REPLY,
        "files": SimpleUploadedFile("photo.png", png_bytes(), "image/png")})
    assert response.status_code == 302, response.content.decode()[:2000]
    (attachment,) = Attachment.objects.all()
    download = seller_client.get(f"/vendeur/commandes/{staging.order_id}/messages/pieces-jointes/{attachment.pk}/")
    assert download.status_code == 200 and download.content == png_bytes()


def test_bad_inputs_are_refused_in_french_and_write_nothing(seller_client: Client, order: Order) -> None:
    url = f"/vendeur/commandes/{order.order_id}/messages/nouvelle/"
    empty = seller_client.post(url, {"destinataire": "CUSTOMER", "sujet": "x", "body": "   "})
    assert empty.status_code == 400 and "corrigez le formulaire" in empty.content.decode()
    disguised = seller_client.post(url, {"destinataire": "CUSTOMER", "sujet": "x", "body": FRENCH_REPLY,
                                         "files": SimpleUploadedFile("facture.pdf", b"MZ" + b"\x00" * 100)})
    assert disguised.status_code == 400 and "Seuls les PDF, JPEG et PNG" in disguised.content.decode()
    assert not Thread.objects.exists()
    assert seller_client.post(f"/vendeur/commandes/{order.order_id}/messages/999/repondre/",
                              {"body": FRENCH_REPLY}).status_code == 404


# --- customer --------------------------------------------------------------------------------------------------


def test_customer_writes_to_the_seller(order: Order) -> None:
    client = Client()
    path = customer_path(order)
    response = client.post(f"{path}messages/", {"sujet": "Délai", "body": CUSTOMER_QUESTION,
                                                "files": SimpleUploadedFile("colis.png", png_bytes(), "image/png")})
    assert response.status_code == 302
    thread = Thread.objects.get(order=order)
    assert thread.shop_reply_needed_since is not None and thread.participants == ["CUSTOMER", "OPERATOR", "SHOP"]
    assert Order.objects.get(pk=order.pk).has_customer_message is True
    assert ThreadRead.objects.get(thread=thread, participant="SHOP").unread_count == 1
    assert OutboxEvent.objects.filter(event_type="CustomerMessageReceived", audience="SELLER").count() == 1
    page = client.get(path).content.decode()
    assert "Vos échanges avec le vendeur" in page and "Délai" in page and "colis.png" in page


def test_customer_reads_the_answer_and_replies(order: Order) -> None:
    thread = customer_writes(order)
    services.reply(thread_id=thread.pk, shop_id=order.shop_id, author=services.Author(Participant.SHOP, "Lumière"),
                   body=FRENCH_REPLY)
    client = Client()
    page = client.get(customer_path(order)).content.decode()
    assert FRENCH_REPLY in page
    assert ThreadRead.objects.get(thread=thread, participant="CUSTOMER").unread_count == 0
    response = client.post(f"{customer_path(order)}messages/{thread.pk}/", {"body": "Merci beaucoup, parfait !"})
    assert response.status_code == 302
    assert Message.objects.filter(thread=thread).count() == 3


def test_customer_never_sees_a_thread_between_seller_and_operator(order: Order) -> None:
    services.start_thread(order_id=order.order_id, shop_id=order.shop_id, to=["OPERATOR"],
                          author=services.Author(Participant.SHOP, "Lumière"), body="Question interne au support.")
    thread = Thread.objects.get()
    page = Client().get(customer_path(order)).content.decode()
    assert "Question interne au support" not in page
    assert Client().post(f"{customer_path(order)}messages/{thread.pk}/", {"body": "Bonjour ?"}).status_code == 404


def test_customer_cannot_reach_another_orders_thread_or_attachment(shop: Shop, order: Order) -> None:
    other = make_order(OrderState.SHIPPING, shop=shop, lines=1)
    services.start_thread(order_id=other.order_id, author=services.Author(Participant.CUSTOMER, "X"),
                          body="Bonjour, voici la photo du colis abîmé.", to=["SHOP"],
                          files=[services.File("photo.png", png_bytes())])
    thread, attachment = Thread.objects.get(), Attachment.objects.get()
    client = Client()
    assert client.post(f"{customer_path(order)}messages/{thread.pk}/", {"body": "Bonjour"}).status_code == 404
    assert client.get(f"{customer_path(order)}pieces-jointes/{attachment.pk}/").status_code == 404
    assert client.get(f"{customer_path(other)}pieces-jointes/{attachment.pk}/").status_code == 200


def test_customer_empty_message_is_refused(order: Order) -> None:
    client = Client()
    response = client.post(f"{customer_path(order)}messages/", {"body": "  "}, follow=True)
    assert "pas été envoyé" in response.content.decode()
    assert not Thread.objects.exists()
