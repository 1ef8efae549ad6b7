"""Messaging services on a real database: read state per participant, the shop's unread counters, the reply
clock of the guide's 48-hour rule, has_customer_message, and the outbox mails of both audiences."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from comptoir.messaging import queries, services
from comptoir.messaging.errors import MessageEmpty, MessageInvalid, ThreadNotFound
from comptoir.messaging.models import Message, Thread, ThreadRead
from comptoir.messaging.rules import Participant
from comptoir.notifications.models import OutboxEvent
from comptoir.notifications.rendering import render
from comptoir.orders.errors import OrderNotFound
from comptoir.orders.models import Order
from comptoir.orders.states import OrderState
from tests.factories import ShopFactory, make_order

pytestmark = pytest.mark.django_db

CUSTOMER = services.Author(Participant.CUSTOMER, "Jeanne Martin")
SELLER = services.Author(Participant.SHOP, "Boutique")
OPERATOR = services.Author(Participant.OPERATOR, "Support")


@pytest.fixture(autouse=True)
def message_storage(settings: Any, tmp_path: Path) -> Path:
    settings.STORAGES = {**settings.STORAGES, "documents": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}}}
    return tmp_path


def unread(thread: Thread, participant: str) -> int:
    return ThreadRead.objects.get(thread=thread, participant=participant).unread_count


def test_customer_message_sets_the_reply_clock_and_the_seller_answer_clears_it() -> None:
    order = make_order(OrderState.SHIPPED, lines=1)
    thread, _ = services.start_thread(order_id=order.order_id, author=CUSTOMER, body="Où est mon colis ?",
                                      to=["SHOP"])
    thread.refresh_from_db()
    assert thread.shop_reply_needed_since is not None and thread.last_sender_type == "CUSTOMER"
    assert Order.objects.get(pk=order.pk).has_customer_message is True
    services.reply(thread_id=thread.pk, shop_id=order.shop_id, author=SELLER, body="Il arrive demain.")
    thread.refresh_from_db()
    assert thread.shop_reply_needed_since is None and thread.message_count == 2
    assert thread.last_excerpt == "Il arrive demain."


def test_unread_counts_follow_each_participant() -> None:
    shop = ShopFactory()
    first, second = make_order(OrderState.SHIPPING, shop=shop, lines=1), make_order(OrderState.STAGING, shop=shop,
                                                                                     lines=1)
    a, _ = services.start_thread(order_id=first.order_id, author=CUSTOMER, body="Question une", to=["SHOP"])
    services.reply(thread_id=a.pk, order_id=first.order_id, author=CUSTOMER, body="Question deux")
    services.start_thread(order_id=second.order_id, author=CUSTOMER, body="Question trois", to=["SHOP"])
    assert queries.shop_unread(shop.id) == queries.UnreadCounts(threads=2, messages=3)
    assert unread(a, "OPERATOR") == 0 and unread(a, "CUSTOMER") == 0
    assert services.mark_read(thread_id=a.pk, participant=Participant.SHOP, shop_id=shop.id) is True
    assert services.mark_read(thread_id=a.pk, participant=Participant.SHOP, shop_id=shop.id) is False
    assert queries.shop_unread(shop.id) == queries.UnreadCounts(threads=1, messages=1)
    assert queries.shop_unread(ShopFactory().id) == queries.UnreadCounts(threads=0, messages=0)


def test_the_operator_writes_to_both_and_a_seller_operator_thread_answers_the_operator() -> None:
    order = make_order(OrderState.SHIPPING, lines=1)
    thread, message = services.start_thread(order_id=order.order_id, author=OPERATOR, body="Point sur la commande")
    assert message.recipients == ["CUSTOMER", "SHOP"]
    assert unread(thread, "CUSTOMER") == 1 and unread(thread, "SHOP") == 1
    private, _ = services.start_thread(order_id=order.order_id, shop_id=order.shop_id, author=SELLER,
                                       body="Question au support", to=["OPERATOR"])
    answer = services.reply(thread_id=private.pk, shop_id=order.shop_id, author=SELLER, body="Relance")
    assert answer.recipients == ["OPERATOR"]
    with pytest.raises(ThreadNotFound):
        services.reply(thread_id=private.pk, order_id=order.order_id, author=CUSTOMER, body="Et moi ?")
    assert [t.pk for t in queries.order_threads(order.pk, Participant.CUSTOMER)] == [thread.pk]


def test_bad_requests_write_nothing() -> None:
    order = make_order(OrderState.SHIPPING, lines=1)
    other_shop = ShopFactory()
    with pytest.raises(MessageEmpty):
        services.start_thread(order_id=order.order_id, author=SELLER, body=" ")
    with pytest.raises(OrderNotFound):
        services.start_thread(order_id=order.order_id, shop_id=other_shop.id, author=SELLER, body="Bonjour")
    with pytest.raises(MessageInvalid):
        services.start_thread(order_id=order.order_id, author=SELLER, body="Bonjour", to=["SHOP"])
    assert not Thread.objects.exists() and not Message.objects.exists()


def test_the_mails_of_both_audiences_render_in_french_with_their_links() -> None:
    order = make_order(OrderState.SHIPPING, lines=1)
    thread, _ = services.start_thread(order_id=order.order_id, author=CUSTOMER, body="Où en est ma commande ?",
                                      to=["SHOP"], topic_value="Suivi")
    services.reply(thread_id=thread.pk, shop_id=order.shop_id, author=SELLER, body="Elle part aujourd'hui.")
    seller_event = OutboxEvent.objects.get(event_type="CustomerMessageReceived")
    customer_event = OutboxEvent.objects.get(event_type="SellerMessageReceived")
    assert (seller_event.audience, customer_event.audience) == ("SELLER", "CUSTOMER")
    customer_mail = render(customer_event)
    assert customer_mail is not None and customer_mail.to == ["jeanne.martin@example.com"]
    assert customer_mail.subject == f"Réponse du vendeur sur votre commande {order.order_id}"
    assert "Elle part aujourd'hui." in customer_mail.body and "/client/commande/" in customer_mail.body
    order.shop.customer_service_email = "sav@boutique.test"
    order.shop.save(update_fields=["customer_service_email"])
    seller_mail = render(seller_event)
    assert seller_mail is not None and "Où en est ma commande ?" in seller_mail.body
    assert f"/vendeur/commandes/{order.order_id}/messages/" in seller_mail.body
