"""The relay over real SMTP: the relay server runs in-process on a free port, mail is sent with smtplib, and
what it forwards arrives at the test SMTP server (`smtp_inbox`). French examples of allowed and forbidden mail."""

from __future__ import annotations

import smtplib
import socket
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid, parseaddr

import pytest
from django.conf import settings

from comptoir.notifications.dispatch import sweep_outbox
from comptoir.notifications.models import OutboxEvent
from comptoir.orders.models import Order
from comptoir.orders.states import OrderState
from comptoir.relay.models import Direction, RelayMessage
from comptoir.relay.queries import blocked_count
from comptoir.relay.server import controller
from comptoir.shops.models import Shop
from tests.factories import ShopFactory, make_order
from tests.unit.relay.examples import ALLOWED, FORBIDDEN, SHOP_NAME, SHOP_SENDER
from tests.web_factories import make_seller

pytestmark = pytest.mark.django_db(transaction=True)

CUSTOMER = "jeanne.martin@example.com"  # tests.factories.import_request
MEMBER = "camille@atelier-lumiere.fr"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def relay_port(smtp_inbox) -> Iterator[int]:  # type: ignore[no-untyped-def]
    port = _free_port()
    server = controller(host="127.0.0.1", port=port)
    server.start()
    try:
        yield port
    finally:
        server.stop()


@pytest.fixture
def shop() -> Shop:
    shop = ShopFactory(name=SHOP_NAME, customer_service_email=SHOP_SENDER)
    make_seller(shop, MEMBER)
    return shop


@pytest.fixture
def order(shop: Shop) -> Order:
    return make_order(OrderState.SHIPPING, shop=shop)


def address(order: Order) -> str:
    return f"{order.relay_token}@{settings.COMPTOIR['RELAY_DOMAIN']}"


def mail(subject: str, body: str, *, sender: str = SHOP_SENDER, to: str = "", **headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = f"Atelier Lumière <{sender}>"
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="atelier-lumiere.fr")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message


def send(port: int, message: EmailMessage, *, sender: str = SHOP_SENDER, to: list[str] | None = None) -> dict:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        return client.send_message(message, sender, to or [message["To"]])  # CRLF line ends, as real clients


def to_customer(inbox) -> list:  # type: ignore[no-untyped-def]
    return [m for m in inbox.messages if m["To"] == CUSTOMER]


@pytest.mark.parametrize("example", ALLOWED, ids=[e.name for e in ALLOWED])
def test_an_allowed_mail_reaches_the_customer_from_the_relay_address(example, order, relay_port,  # type: ignore[no-untyped-def]
                                                                      smtp_inbox) -> None:
    relay = address(order)

    refused = send(relay_port, mail(example.subject, example.body, to=relay))

    assert refused == {}
    (forwarded,) = to_customer(smtp_inbox)
    assert parseaddr(forwarded["From"]) == (SHOP_NAME, relay)
    assert forwarded["Reply-To"] == relay
    assert forwarded["Subject"] == example.subject
    text = forwarded.get_content()
    assert example.body.splitlines()[-1] in text
    assert f"commande {order.order_id}" in text
    assert SHOP_SENDER not in str(forwarded)  # the customer writes back through the relay
    row = RelayMessage.objects.get()
    assert (row.verdict, row.direction, row.rule_id) == ("ALLOWED", Direction.TO_CUSTOMER, "")
    assert row.forwarded_date is not None and forwarded["Message-ID"] == row.forwarded_message_id
    assert row.subject == example.subject and row.size > len(example.body)


@pytest.mark.parametrize("example", FORBIDDEN, ids=[e.name for e in FORBIDDEN])
def test_a_forbidden_mail_is_refused_kept_and_reported_with_its_rule(example, order, relay_port,  # type: ignore[no-untyped-def]
                                                                     smtp_inbox) -> None:
    with pytest.raises(smtplib.SMTPDataError) as refused:
        send(relay_port, mail(example.subject, example.body, to=address(order)))

    assert refused.value.smtp_code == 550
    assert f"regle {example.rule_id}".encode() in refused.value.smtp_error
    assert to_customer(smtp_inbox) == []
    row = RelayMessage.objects.get()
    assert (row.verdict, row.rule_id, row.forwarded_date) == ("BLOCKED", example.rule_id, None)
    assert example.excerpt_contains in row.excerpt
    assert f"Message-ID: {row.message_id}" in row.raw_text and not row.raw_truncated  # kept for the operator
    assert blocked_count(order.shop_id) == 1
    events = OutboxEvent.objects.filter(event_type="RelayMailBlocked", order_id=order.order_id)
    assert sorted(events.values_list("audience", flat=True)) == ["OPERATOR", "SELLER"]


def test_the_operator_and_the_seller_are_told_of_a_blocked_mail_in_french(order, relay_port, smtp_inbox) -> None:
    with pytest.raises(smtplib.SMTPDataError):
        send(relay_port, mail("Merci !", "Laissez-nous un avis 5 étoiles, ça nous aide !", to=address(order)))

    sweep_outbox("w1")

    by_to = {m["To"]: m for m in smtp_inbox.messages}
    operator = by_to[settings.COMPTOIR["OPERATOR_EMAIL"]]
    assert operator["Subject"].strip() == f"Mail bloqué par le relais — commande {order.order_id}"
    assert f"boutique {SHOP_NAME} (n° {order.shop_id})" in operator.get_content()
    assert "Sollicitation d'avis client (review.request)" in operator.get_content()
    assert "Laissez-nous un avis 5 étoiles" in operator.get_content()
    seller = by_to[MEMBER]
    assert "n'a pas été transmis : sollicitation d'avis client" in seller.get_content()
    assert CUSTOMER not in seller.as_string()


def test_an_unknown_address_bounces_at_rcpt(order, relay_port, smtp_inbox) -> None:
    unknown = f"0000deadbeef@{settings.COMPTOIR['RELAY_DOMAIN']}"

    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        send(relay_port, mail("Bonjour", "Une question sur votre adresse.", to=unknown))

    code, text = refused.value.recipients[unknown]
    assert code == 550 and b"inconnue" in text
    assert RelayMessage.objects.count() == 0 and smtp_inbox.messages == []


def test_another_domain_is_not_relayed(order, relay_port) -> None:
    elsewhere = f"{order.relay_token}@example.org"

    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        send(relay_port, mail("Bonjour", "Texte", to=elsewhere))

    assert refused.value.recipients[elsewhere][0] == 550


def test_an_address_expires_after_the_delay_once_the_order_is_closed(shop, relay_port, smtp_inbox,  # type: ignore[no-untyped-def]
                                                                     comptoir_settings, test_clock) -> None:
    comptoir_settings(RELAY_EXPIRY_DAYS=90)
    closed = make_order(OrderState.CLOSED, shop=shop)
    relay = address(closed)
    test_clock.advance(timedelta(days=89))
    send(relay_port, mail("Votre garantie", ALLOWED[3].body, to=relay))
    assert len(to_customer(smtp_inbox)) == 1

    test_clock.advance(timedelta(days=2))
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        send(relay_port, mail("Votre garantie", ALLOWED[3].body, to=relay))

    code, text = refused.value.recipients[relay]
    assert code == 550 and b"expiree" in text
    assert len(to_customer(smtp_inbox)) == 1
    bounced = RelayMessage.objects.get(verdict="BOUNCED")
    assert bounced.rule_id == "relay.expired" and "90 jours" in bounced.rule_label


def test_a_sender_that_is_not_the_shop_is_refused(order, relay_port, smtp_inbox) -> None:
    stranger = "promo@autre-boutique.example"
    relay = address(order)

    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        send(relay_port, mail("Bonjour", "Une question sur votre adresse.", sender=stranger, to=relay),
             sender=stranger)

    assert refused.value.recipients[relay][0] == 550
    assert smtp_inbox.messages == []
    row = RelayMessage.objects.get()
    assert (row.verdict, row.rule_id, row.mail_from) == ("BOUNCED", "relay.sender_refused", stranger)


def test_any_member_of_the_shop_may_write(order, relay_port, smtp_inbox) -> None:
    send(relay_port, mail("Votre adresse", ALLOWED[0].body, sender=MEMBER, to=address(order)), sender=MEMBER)

    assert len(to_customer(smtp_inbox)) == 1


def test_the_customers_answer_reaches_the_shop_without_the_customers_address(order, relay_port,  # type: ignore[no-untyped-def]
                                                                             smtp_inbox) -> None:
    relay = address(order)
    send(relay_port, mail(ALLOWED[0].subject, ALLOWED[0].body, to=relay))
    question = to_customer(smtp_inbox)[0]
    answer = mail(f"Re: {ALLOWED[0].subject}",
                  "Bonjour, c'est le 12 rue des Lilas, code 4321B. Je ne veux pas de votre newsletter ni de code "
                  f"promo.\n\nLe 3 mai, Jeanne Martin <{CUSTOMER}> a écrit :\n> Pourriez-vous nous confirmer",
                  sender=CUSTOMER, to=relay, In_Reply_To=question["Message-ID"])

    send(relay_port, answer, sender=CUSTOMER)

    (received,) = [m for m in smtp_inbox.messages if m["To"] == SHOP_SENDER]
    assert parseaddr(received["From"]) == (f"Client de la commande {order.order_id}", relay)
    assert received["Reply-To"] == relay and received["In-Reply-To"] == question["Message-ID"]
    assert "12 rue des Lilas" in received.get_content()
    assert CUSTOMER not in received.as_string()  # not even in the quoted « a écrit » line
    row = RelayMessage.objects.get(direction=Direction.TO_SHOP)
    assert row.verdict == "ALLOWED" and row.rule_id == ""  # a customer's mail is never blocked


def test_the_sellers_answer_to_the_customer_may_give_the_tracking_and_quote_the_customer(  # type: ignore[no-untyped-def]
        order, relay_port, smtp_inbox) -> None:
    relay = address(order)
    question = mail("Où est mon colis ?", "Bonjour, j'ai reçu la confirmation de commande mais toujours pas de "
                    "colis. Pouvez-vous me donner le numéro de suivi ?", sender=CUSTOMER, to=relay)
    send(relay_port, question, sender=CUSTOMER)
    forwarded = next(m for m in smtp_inbox.messages if m["To"] == SHOP_SENDER)
    answer = mail("Re: Où est mon colis ?",
                  "Bonjour, votre colis a été expédié hier, voici le numéro de suivi : 6A12345678901.\n\n"
                  "> Bonjour, j'ai reçu la confirmation de commande mais toujours pas de colis.\n"
                  "> Pouvez-vous me donner le numéro de suivi ?",
                  to=relay, In_Reply_To=forwarded["Message-ID"], References=forwarded["Message-ID"])

    send(relay_port, answer)

    assert [m["Subject"] for m in to_customer(smtp_inbox)] == ["Re: Où est mon colis ?"]


def test_an_html_mail_is_judged_on_its_text_and_links(order, relay_port, smtp_inbox) -> None:
    message = mail("Notice de montage", "Bonjour")
    message.clear_content()
    message.set_content('<p>Bonjour,</p><p>La notice est <a href="https://www.atelier-lumiere.fr/promo">ici</a>.</p>',
                        subtype="html")
    message.replace_header("To", address(order))

    with pytest.raises(smtplib.SMTPDataError):
        send(relay_port, message)

    row = RelayMessage.objects.get()
    assert row.rule_id == "ad.own_site" and "atelier-lumiere.fr/promo" in row.excerpt
    assert row.body_text.startswith("Bonjour,")


def test_attachments_are_forwarded_within_the_size_limit(order, relay_port, smtp_inbox,  # type: ignore[no-untyped-def]
                                                         comptoir_settings) -> None:
    comptoir_settings(RELAY_MAX_ATTACHMENT_BYTES=10_000)
    message = mail("Photo demandée", ALLOWED[2].body, to=address(order))
    message.add_attachment(b"%PDF-1.4 bon de retour", maintype="application", subtype="pdf",
                           filename="bon-de-retour.pdf")
    message.add_attachment(b"\x89PNG" + b"0" * 20_000, maintype="image", subtype="png", filename="enorme.png")

    send(relay_port, message)

    (forwarded,) = to_customer(smtp_inbox)
    attachments = {part.get_filename(): part.get_content() for part in forwarded.iter_attachments()}
    assert attachments == {"bon-de-retour.pdf": b"%PDF-1.4 bon de retour"}
    assert "non transmises, trop volumineuses : enorme.png" in forwarded.get_body(("plain",)).get_content()


def test_one_relay_address_per_transaction(shop, order, relay_port, smtp_inbox) -> None:
    other = make_order(OrderState.SHIPPING, shop=shop)
    first, second = address(order), address(other)

    refused = send(relay_port, mail("Votre adresse", ALLOWED[0].body, to=first), to=[first, second])

    assert refused[second][0] == 452
    assert len(to_customer(smtp_inbox)) == 1
    assert RelayMessage.objects.get().order_id == order.pk


def test_a_mail_sent_twice_with_the_same_message_id_is_forwarded_once(order, relay_port, smtp_inbox) -> None:
    message = mail("Retard", ALLOWED[1].body, to=address(order))

    send(relay_port, message)
    send(relay_port, message)

    assert len(to_customer(smtp_inbox)) == 1
    assert RelayMessage.objects.count() == 1


def test_when_outgoing_mail_is_down_the_sender_is_told_to_retry_and_nothing_is_logged(  # type: ignore[no-untyped-def]
        order, relay_port, settings) -> None:
    settings.EMAIL_PORT = _free_port()  # nobody listens there

    with pytest.raises(smtplib.SMTPDataError) as refused:
        send(relay_port, mail("Retard", ALLOWED[1].body, to=address(order)))

    assert refused.value.smtp_code == 451
    assert RelayMessage.objects.count() == 0


def test_the_stored_message_is_cut_at_the_limit(order, relay_port, smtp_inbox, comptoir_settings) -> None:
    comptoir_settings(RELAY_RAW_MAX_BYTES=600)

    send(relay_port, mail("Retard", ALLOWED[1].body + "\n" + "Détail. " * 200, to=address(order)))

    row = RelayMessage.objects.get()
    assert len(bytes(row.raw)) == 600 and row.raw_truncated and row.size > 600
