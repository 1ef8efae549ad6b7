"""The operator opens incidents from its order page (chosen lines, a reason, confirmed first; bad input changes
nothing), writes in the order's conversations from the incident page or the order's « Messages » page (as the
operator, to the seller only or to both), and reads « Messages »: the customers waiting for a seller, the longest
wait first, with the business hours elapsed and the reminder and mediation of the customer-service clock."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from comptoir.incidents import services
from comptoir.incidents.models import Incident
from comptoir.messaging import services as messaging
from comptoir.messaging.models import Attachment, Message, Thread
from comptoir.messaging.rules import Participant
from comptoir.orders.models import Order, OrderHistory
from comptoir.orders.services.lifecycle import Who
from comptoir.orders.states import Actor, OrderState
from comptoir.refunds.services import ensure_default_reasons
from comptoir.shops.models import Shop
from comptoir.timers.worker import run_until_idle
from tests.factories import make_order

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
CUSTOMER = messaging.Author(Participant.CUSTOMER, "Jeanne Martin")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _reasons(settings: Any, tmp_path: Path) -> None:
    ensure_default_reasons()
    settings.STORAGES = {**settings.STORAGES, "documents": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}}}


def line_ids(order: Order) -> list[str]:
    return list(order.lines.order_by("index").values_list("line_id", flat=True))


def open_url(order: Order) -> str:
    return f"/operateur/incidents/ouvrir/{order.order_id}/"


# --- « Ouvrir un incident » from the order page ----------------------------------------------------------------


def test_the_operator_opens_an_incident_on_chosen_lines_after_confirming(operator_client: Client, shop: Shop) -> None:
    order = make_order(OrderState.SHIPPED, shop=shop, lines=2)
    first, second = line_ids(order)
    page = operator_client.get(f"/operateur/commandes/{order.order_id}/").content.decode()
    data = {"incident-lignes": [second], "incident-motif": "NO_SHOP_ANSWER", "incident-description": "Relancé 3 fois."}

    ask = operator_client.post(open_url(order), data)
    assert ask.status_code == 200 and "Ouvrir l&#x27;incident" in ask.content.decode()
    assert not Incident.objects.exists()
    done = operator_client.post(open_url(order), {**data, "confirme": "1"})

    assert 'id="open-incident-form"' in page and "Absence de réponse de la boutique" in page
    incident = Incident.objects.get()
    assert done.status_code == 302 and done["Location"] == f"/operateur/incidents/{incident.pk}/"
    assert incident.line.line_id == second and incident.opened_by == "OPERATOR"
    assert incident.reason_code == "NO_SHOP_ANSWER" and incident.description == "Relancé 3 fois."
    body = operator_client.get(f"/operateur/commandes/{order.order_id}/").content.decode()
    assert f'id="order-incident-{incident.pk}"' in body
    assert "Incident ouvert" in body.split('id="history-title"')[1]
    assert f'value="{second}"' not in body.split('id="open-incident-form"')[1].split("</form>")[0]
    assert f'value="{first}"' in body


@pytest.mark.parametrize(("data", "message"), [
    ({"incident-motif": "2"}, "Cochez au moins un article."),
    ({"incident-lignes": ["inconnue"], "incident-motif": "2"}, "Article inconnu"),
    ({"incident-lignes": ["FIRST"], "incident-motif": ""}, "Le motif est obligatoire."),
    ({"incident-lignes": ["FIRST"], "incident-motif": "10"}, "Motif d&#x27;incident inconnu."),  # a closing reason
])
def test_a_bad_incident_opening_is_refused_and_opens_nothing(operator_client: Client, shop: Shop, data,  # type: ignore[no-untyped-def]
                                                            message: str) -> None:
    order = make_order(OrderState.SHIPPED, shop=shop, lines=2)
    if data.get("incident-lignes") == ["FIRST"]:
        data = {**data, "incident-lignes": line_ids(order)[:1]}

    response = operator_client.post(open_url(order), {**data, "confirme": "1"})

    assert response.status_code == 400 and message in response.content.decode()
    assert not Incident.objects.exists() and not OrderHistory.objects.filter(trigger="OPEN_INCIDENT").exists()


def test_no_incident_can_be_opened_before_the_goods_leave(operator_client: Client, shop: Shop) -> None:
    order = make_order(OrderState.WAITING_ACCEPTANCE, shop=shop, lines=1)

    page = operator_client.get(f"/operateur/commandes/{order.order_id}/").content.decode()
    response = operator_client.post(open_url(order), {"incident-lignes": line_ids(order), "incident-motif": "1",
                                                      "confirme": "1"})

    assert 'id="open-incident-form"' not in page and "Aucun article ne peut recevoir de nouvel incident" in page
    assert response.status_code == 400
    assert "Aucun article de cette commande ne peut recevoir d&#x27;incident." in response.content.decode()
    assert not Incident.objects.exists()
    assert operator_client.post("/operateur/incidents/ouvrir/INCONNUE/", {"confirme": "1"}).status_code == 404


# --- conversations ---------------------------------------------------------------------------------------------


def test_the_operator_replies_from_the_incident_page_to_the_customer_and_the_seller(
        operator_client: Client, shop: Shop) -> None:
    order = make_order(OrderState.SHIPPED, shop=shop, lines=1)
    thread, _ = messaging.start_thread(order_id=order.order_id, author=CUSTOMER, body="Colis abîmé.")
    (incident,) = services.open_incident(order_id=order.order_id, line_ids=line_ids(order), reason_code="2",
                                         who=Who(Actor.CUSTOMER, "Jeanne"))
    url = f"/operateur/incidents/{incident.pk}/conversations/{thread.pk}/repondre/"

    empty = operator_client.post(url, {"body": "  "})
    done = operator_client.post(url, {"body": "Nous prenons le dossier en main.",
                                      "files": SimpleUploadedFile("constat.pdf", PDF, "application/pdf")})

    assert empty.status_code == 400 and "Le message n&#x27;a pas été envoyé" in empty.content.decode()
    assert done.status_code == 302 and done["Location"].endswith(f"#conversation-{thread.pk}")
    message = Message.objects.get(author_type="OPERATOR")
    assert message.body == "Nous prenons le dossier en main." and sorted(message.recipients) == ["CUSTOMER", "SHOP"]
    assert message.author_name == "operateur@marche.test"
    attachment = Attachment.objects.get()
    download = operator_client.get(f"/operateur/messages/{order.order_id}/pieces-jointes/{attachment.pk}/")
    assert download.status_code == 200 and download.content == PDF
    assert Thread.objects.get(pk=thread.pk).shop_reply_needed_since is not None  # only the seller's answer counts


def test_another_orders_thread_is_not_found_and_nothing_is_sent(operator_client: Client, shop: Shop) -> None:
    order = make_order(OrderState.SHIPPED, shop=shop, lines=1)
    other = make_order(OrderState.SHIPPED, shop=shop, lines=1)
    thread, _ = messaging.start_thread(order_id=other.order_id, author=CUSTOMER, body="Bonjour")
    (incident,) = services.open_incident(order_id=order.order_id, line_ids=line_ids(order), reason_code="2",
                                         who=Who(Actor.CUSTOMER, "Jeanne"))

    for url in (f"/operateur/incidents/{incident.pk}/conversations/{thread.pk}/repondre/",
                f"/operateur/messages/{order.order_id}/{thread.pk}/repondre/",
                f"/operateur/messages/{order.order_id}/999999/repondre/"):
        assert operator_client.post(url, {"body": "Bonjour"}).status_code == 404
    assert Message.objects.count() == 1


def test_the_operator_starts_a_conversation_with_the_seller_only_or_with_both(
        operator_client: Client, shop: Shop) -> None:
    order = make_order(OrderState.SHIPPED, shop=shop, lines=1)
    (incident,) = services.open_incident(order_id=order.order_id, line_ids=line_ids(order), reason_code="2",
                                         who=Who(Actor.OPERATOR, "Support"))

    bad = operator_client.post(f"/operateur/incidents/{incident.pk}/conversations/demarrer/",
                               {"destinataire": "CLIENT", "sujet": "Médiation", "body": "Bonjour"})
    seller_only = operator_client.post(f"/operateur/incidents/{incident.pk}/conversations/demarrer/",
                                       {"destinataire": "SHOP", "sujet": "Médiation", "body": "Merci de rembourser."})
    both = operator_client.post(f"/operateur/messages/{order.order_id}/demarrer/",
                                {"destinataire": "BOTH", "sujet": "Point d'étape", "body": "Bonjour à tous."})

    assert bad.status_code == 400 and "Destinataire inconnu." in bad.content.decode()
    assert seller_only.status_code == 302 and both.status_code == 302
    private, shared = Thread.objects.order_by("id")
    assert private.participants == ["OPERATOR", "SHOP"] and private.topic_value == "Médiation"
    assert shared.participants == ["CUSTOMER", "OPERATOR", "SHOP"]
    page = operator_client.get(f"/operateur/messages/{order.order_id}/").content.decode()
    assert "Merci de rembourser." in page and "Bonjour à tous." in page and f"incident n° {incident.pk}" in page


# --- « Messages »: customers waiting for a seller --------------------------------------------------------------


def test_messages_lists_waiting_customers_oldest_first_with_business_hours_and_the_clock(
        operator_client: Client, shop: Shop, other_shop: Shop, test_clock, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    test_clock.set(datetime(2026, 7, 9, 10, 0, tzinfo=PARIS))  # Thursday
    old = make_order(OrderState.SHIPPED, shop=shop, lines=1)
    waiting, _ = messaging.start_thread(order_id=old.order_id, author=CUSTOMER, body="Où est mon colis ?")
    test_clock.advance(timedelta(days=1))  # Friday
    recent = make_order(OrderState.SHIPPED, shop=other_shop, lines=1)
    newer, _ = messaging.start_thread(order_id=recent.order_id, author=CUSTOMER, body="Facture ?")
    answered_order = make_order(OrderState.SHIPPED, shop=shop, lines=1)
    answered, _ = messaging.start_thread(order_id=answered_order.order_id, author=CUSTOMER, body="Bonjour")
    messaging.reply(thread_id=answered.pk, author=messaging.Author(Participant.SHOP, "Lumière"), body="Bonjour !")
    test_clock.set(datetime(2026, 7, 15, 10, 0, 30, tzinfo=PARIS))  # Wednesday; 14 July is a holiday
    run_until_idle()  # 48 business hours: both reminded; 72: the first one escalates into an incident

    with django_assert_max_num_queries(7):
        body = operator_client.get("/operateur/messages/").content.decode()
    only_other = operator_client.get("/operateur/messages/", {"boutique": other_shop.id}).content.decode()

    assert 'aria-current="page">Messages</a>' in body
    assert body.index(f'id="thread-{waiting.pk}"') < body.index(f'id="thread-{newer.pk}"')
    assert f'id="thread-{answered.pk}"' not in body
    first = body.split(f'id="thread-{waiting.pk}"')[1].split("</tr>")[0]
    second = body.split(f'id="thread-{newer.pk}"')[1].split("</tr>")[0]
    assert "72 h ouvrées" in first and "Vendeur relancé le" in first and "Médiation depuis le" in first
    incident = Incident.objects.get()
    assert f"incident n° {incident.pk}" in first and incident.in_mediation
    assert "48 h ouvrées" in second and "Vendeur relancé le" in second
    assert "Incident et médiation le 16/07/2026 à 10:00" in second
    assert f'id="thread-{newer.pk}"' in only_other and f'id="thread-{waiting.pk}"' not in only_other
    assert operator_client.get("/operateur/messages/", {"boutique": "x"}).status_code == 400
