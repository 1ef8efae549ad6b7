"""Operator « Relais e-mail »: mails through the relay listed with their rule and excerpt, filtered by verdict
and shop, one mail with its text and raw source; the blocked count on the shop page. Staff only."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from django.conf import settings
from django.test import Client

from comptoir.orders.models import Order
from comptoir.orders.states import OrderState
from comptoir.relay import services
from comptoir.relay.models import RelayMessage
from comptoir.shops.models import Shop
from tests.factories import make_order

pytestmark = pytest.mark.django_db


def _send(order: Order, sender: str, subject: str, body: str) -> str:
    message = EmailMessage()
    message["From"], message["Subject"], message["Message-ID"] = sender, subject, make_msgid()
    message["To"] = f"{order.relay_token}@{settings.COMPTOIR['RELAY_DOMAIN']}"
    message.set_content(body)
    return services.receive(mail_from=sender, recipient=message["To"], content=message.as_bytes())


@pytest.fixture
def mails(shop: Shop, other_shop: Shop) -> dict[str, RelayMessage]:
    shop.customer_service_email = "sav@lumiere.test"
    shop.save()
    other_shop.customer_service_email = "sav@voisine.test"
    other_shop.save()
    order = make_order(OrderState.SHIPPING, shop=shop)
    other = make_order(OrderState.SHIPPING, shop=other_shop)
    assert _send(order, "sav@lumiere.test", "Votre adresse", "Pouvez-vous confirmer le code d'accès ?").startswith("250")
    assert _send(order, "sav@lumiere.test", "Petit service",
                 "Bonjour, laissez-nous un avis 5 étoiles sur Trustpilot !").startswith("550")
    assert _send(other, "sav@voisine.test", "Bonne nouvelle", "Les soldes commencent demain.").startswith("550")
    assert services.check_recipient(mail_from="inconnu@ailleurs.test",
                                    recipient=f"{order.relay_token}@{settings.COMPTOIR['RELAY_DOMAIN']}")
    rows = RelayMessage.objects.all()
    return {m.subject or m.verdict: m for m in rows}


def test_the_list_shows_each_mail_with_its_verdict_rule_and_excerpt(operator_client: Client, mails,  # type: ignore[no-untyped-def]
                                                                    django_assert_max_num_queries) -> None:
    with django_assert_max_num_queries(8):
        body = operator_client.get("/operateur/relais/").content.decode()

    blocked = mails["Petit service"]
    assert f'id="relais-{blocked.id}"' in body
    assert "Sollicitation d&#x27;avis client" in body and "laissez-nous un avis 5 étoiles" in body
    assert "Transmis (1)" in body and "Bloqués (2)" in body and "Refusés (1)" in body
    assert "Expéditeur qui n&#x27;est ni la boutique ni le client" in body
    assert 'aria-current="page">Relais e-mail</a>' in body


def test_the_list_is_filtered_by_verdict_and_shop(operator_client: Client, mails, other_shop: Shop) -> None:  # type: ignore[no-untyped-def]
    blocked = operator_client.get("/operateur/relais/", {"verdict": "BLOCKED"}).content.decode()
    of_other = operator_client.get("/operateur/relais/", {"verdict": "BLOCKED", "boutique": other_shop.id})

    assert f'id="relais-{mails["Votre adresse"].id}"' not in blocked
    assert f'id="relais-{mails["Petit service"].id}"' in blocked
    body = of_other.content.decode()
    assert f'id="relais-{mails["Bonne nouvelle"].id}"' in body
    assert f'id="relais-{mails["Petit service"].id}"' not in body
    assert "Publicité : réduction ou soldes" in body and "Bloqués (1)" in body


@pytest.mark.parametrize("query", [{"verdict": "PERDU"}, {"boutique": "abc"}, {"boutique": "0"}])
def test_a_bad_filter_is_refused_and_lists_nothing(operator_client: Client, mails, query) -> None:  # type: ignore[no-untyped-def]
    response = operator_client.get("/operateur/relais/", query)

    assert response.status_code == 400
    body = response.content.decode()
    assert "Filtre invalide" in body and 'id="relais-' not in body


def test_the_detail_shows_the_rule_the_excerpt_the_text_and_the_raw_message(operator_client: Client,  # type: ignore[no-untyped-def]
                                                                            mails) -> None:
    blocked = mails["Petit service"]

    body = operator_client.get(f"/operateur/relais/{blocked.id}/").content.decode()

    assert 'id="relay-rule">Sollicitation d&#x27;avis client' in body
    assert "laissez-nous un avis 5 étoiles sur Trustpilot" in body
    assert f"Message-ID: {blocked.message_id}".replace("<", "&lt;").replace(">", "&gt;") in body


def test_an_unknown_mail_is_404(operator_client: Client, db) -> None:  # type: ignore[no-untyped-def]
    assert operator_client.get("/operateur/relais/999999/").status_code == 404


def test_sellers_cannot_see_the_relay_log(seller_client: Client, mails) -> None:  # type: ignore[no-untyped-def]
    response = seller_client.get("/operateur/relais/")

    assert response.status_code == 302 and "/operateur/connexion/" in response["Location"]


def test_the_shop_page_counts_the_blocked_mails_of_that_shop(operator_client: Client, mails, shop: Shop,  # type: ignore[no-untyped-def]
                                                             other_shop: Shop) -> None:
    body = operator_client.get(f"/operateur/boutiques/{shop.id}/").content.decode()
    empty = ShopPage(operator_client, 4242)

    assert (f'id="shop-relay-blocked"><a href="/operateur/relais/?verdict=BLOCKED&amp;boutique={shop.id}">1</a>'
            in body)
    assert empty.blocked == "0"


class ShopPage:
    def __init__(self, client: Client, shop_id: int) -> None:
        from tests.factories import ShopFactory

        ShopFactory(id=shop_id)
        body = client.get(f"/operateur/boutiques/{shop_id}/").content.decode()
        self.blocked = body.split('id="shop-relay-blocked">', 1)[1].split("</dd>", 1)[0]
