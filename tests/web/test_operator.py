"""Operator back office: staff login, fraud queue and decisions, orders across shops, shop suspension."""

from __future__ import annotations

import pytest
from django.test import Client

from comptoir.orders.models import Order
from comptoir.orders.states import OrderState
from comptoir.shops.models import Shop, ShopState
from tests.factories import make_order
from tests.web_factories import PASSWORD, make_operator, make_seller

pytestmark = pytest.mark.django_db


def test_staff_logs_in_and_sellers_are_refused(shop: Shop) -> None:
    make_operator("ops@marche.test")
    make_seller(shop, "anne@lumiere.test")

    staff = Client().post("/operateur/connexion/", {"username": "ops@marche.test", "password": PASSWORD})
    seller = Client().post("/operateur/connexion/", {"username": "anne@lumiere.test", "password": PASSWORD})

    assert staff.status_code == 302 and staff["Location"] == "/operateur/"
    assert seller.status_code == 200 and "accès à cet espace" in seller.content.decode()


def test_a_seller_session_does_not_open_operator_pages(seller_client: Client) -> None:
    response = seller_client.get("/operateur/")

    assert response.status_code == 302 and response["Location"].startswith("/operateur/connexion/")


def test_fraud_queue_lists_staging_orders_only(operator_client: Client, shop: Shop) -> None:
    staging = make_order(OrderState.STAGING, shop=shop)
    waiting = make_order(OrderState.WAITING_ACCEPTANCE, shop=shop)

    body = operator_client.get("/operateur/").content.decode()

    assert staging.order_id in body and waiting.order_id not in body


def test_staging_detail_offers_the_three_fraud_actions(operator_client: Client, shop: Shop) -> None:
    order = make_order(OrderState.STAGING, shop=shop)

    body = operator_client.get(f"/operateur/commandes/{order.order_id}/").content.decode()

    assert "Valider la commande" in body and "Rejeter la commande" in body and "Demander des justificatifs" in body


def test_a_waiting_order_offers_no_fraud_action(operator_client: Client, shop: Shop) -> None:
    order = make_order(OrderState.WAITING_ACCEPTANCE, shop=shop)

    body = operator_client.get(f"/operateur/commandes/{order.order_id}/").content.decode()

    assert "Valider la commande" not in body and "Historique" in body


def test_approval_asks_confirmation_then_moves_the_order(operator_client: Client, shop: Shop) -> None:
    order = make_order(OrderState.STAGING, shop=shop)
    url = f"/operateur/commandes/{order.order_id}/approuver/"

    ask = operator_client.post(url)
    assert "Valider la commande" in ask.content.decode()
    assert Order.objects.get(pk=order.pk).state == OrderState.STAGING

    done = operator_client.post(url, {"confirme": "1"})

    assert done.status_code == 302
    assert Order.objects.get(pk=order.pk).state == OrderState.WAITING_ACCEPTANCE


def test_rejection_without_reason_is_refused_and_changes_nothing(operator_client: Client, shop: Shop) -> None:
    order = make_order(OrderState.STAGING, shop=shop)

    response = operator_client.post(f"/operateur/commandes/{order.order_id}/rejeter/",
                                    {"rejet-reason": "  ", "confirme": "1"})

    assert response.status_code == 400 and "Le motif est obligatoire." in response.content.decode()
    assert Order.objects.get(pk=order.pk).state == OrderState.STAGING


def test_rejection_with_reason_cancels_the_order(operator_client: Client, shop: Shop) -> None:
    order = make_order(OrderState.STAGING, shop=shop)

    operator_client.post(f"/operateur/commandes/{order.order_id}/rejeter/",
                         {"rejet-reason": "Carte volée", "confirme": "1"})

    order.refresh_from_db()
    assert order.state == OrderState.CANCELED and order.state_reason_label == "Carte volée"


def test_requesting_documents_twice_is_refused_the_second_time(operator_client: Client, shop: Shop) -> None:
    order = make_order(OrderState.STAGING, shop=shop)
    url = f"/operateur/commandes/{order.order_id}/justificatifs/"

    operator_client.post(url, {"docs-note": "Pièce d'identité", "confirme": "1"})
    again = operator_client.post(url, {"docs-note": "Encore", "confirme": "1"}, follow=True)

    assert Order.objects.get(pk=order.pk).waiting_customer_documents is True
    assert "plus possible" in again.content.decode()
    body = operator_client.get(f"/operateur/commandes/{order.order_id}/").content.decode()
    assert "Demander des justificatifs" not in body and "Valider la commande" in body


def test_orders_list_crosses_shops_and_filters_by_shop(operator_client: Client, shop: Shop,
                                                      other_shop: Shop) -> None:
    mine = make_order(OrderState.WAITING_ACCEPTANCE, shop=shop)
    theirs = make_order(OrderState.SHIPPING, shop=other_shop)

    everything = operator_client.get("/operateur/commandes/").content.decode()
    only_2002 = operator_client.get("/operateur/commandes/", {"boutique": 2002}).content.decode()
    csv = b"".join(operator_client.get("/operateur/commandes/", {"format": "csv"}).streaming_content).decode()

    assert mine.order_id in everything and theirs.order_id in everything
    assert theirs.order_id in only_2002 and mine.order_id not in only_2002
    assert mine.order_id in csv and theirs.order_id in csv


def test_operator_lists_run_a_bounded_number_of_queries(operator_client: Client, shop: Shop, other_shop: Shop,
                                                        django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    for i in range(20):
        make_order(OrderState.STAGING if i % 2 else OrderState.WAITING_ACCEPTANCE, shop=shop if i % 3 else other_shop)
    for url in ("/operateur/", "/operateur/commandes/?par_page=100", "/operateur/boutiques/"):
        with django_assert_max_num_queries(7):
            assert operator_client.get(url).status_code == 200


def test_suspension_needs_a_reason_and_confirmation(operator_client: Client, shop: Shop) -> None:
    url = f"/operateur/boutiques/{shop.id}/suspendre/"

    empty = operator_client.post(url, {"reason": "", "confirme": "1"})
    assert empty.status_code == 400 and "Le motif est obligatoire." in empty.content.decode()
    ask = operator_client.post(url, {"reason": "Retards répétés"})
    assert "Suspendre la boutique" in ask.content.decode()
    assert Shop.objects.get(pk=shop.pk).state == ShopState.OPEN

    operator_client.post(url, {"reason": "Retards répétés", "confirme": "1"})

    shop.refresh_from_db()
    assert shop.state == ShopState.SUSPENDED and shop.suspension_reason == "Retards répétés"


def test_a_suspended_shop_is_reactivated_with_a_reason(operator_client: Client, shop: Shop) -> None:
    operator_client.post(f"/operateur/boutiques/{shop.id}/suspendre/", {"reason": "Contrôle", "confirme": "1"})

    operator_client.post(f"/operateur/boutiques/{shop.id}/reactiver/", {"reason": "Contrôle OK", "confirme": "1"})

    assert Shop.objects.get(pk=shop.pk).state == ShopState.OPEN
    body = operator_client.get(f"/operateur/boutiques/{shop.id}/").content.decode()
    assert "Suspendre" in body and "Commission" in body
