"""Seller back office: login, home, orders list and detail, acceptance, settings."""

from __future__ import annotations

import pytest
from django.test import Client

from comptoir.orders.models import Order
from comptoir.orders.states import OrderState
from comptoir.shops.models import ApiKey, Shop
from comptoir.shops.services import authenticate_key
from tests.factories import make_order
from tests.web_factories import PASSWORD, make_seller, make_user

pytestmark = pytest.mark.django_db
MAX_LIST_QUERIES = 8
# The home page adds its indicators: unread messages, missing invoices and incidents (one grouped query each).
# + the scorecard block: 7 grouped queries per window (30 and 90 days), whatever the number of orders.
MAX_HOME_QUERIES = MAX_LIST_QUERIES + 3 + 14


def _line_ids(order: Order) -> list[str]:
    return list(order.lines.order_by("index").values_list("line_id", flat=True))


# --- login -----------------------------------------------------------------------------------------

def test_a_member_logs_in_with_email_and_lands_on_home(shop: Shop) -> None:
    make_seller(shop, "anne@lumiere.test")
    client = Client()

    response = client.post("/vendeur/connexion/", {"username": "Anne@Lumiere.test", "password": PASSWORD})

    assert response.status_code == 302 and response["Location"] == "/vendeur/"
    assert "Boutique Lumière" in client.get("/vendeur/").content.decode()


def test_a_wrong_password_is_refused_in_french(shop: Shop) -> None:
    make_seller(shop, "anne@lumiere.test")

    response = Client().post("/vendeur/connexion/", {"username": "anne@lumiere.test", "password": "faux"})

    assert response.status_code == 200
    assert "Adresse e-mail ou mot de passe incorrect." in response.content.decode()


def test_five_failures_lock_the_account_even_with_the_right_password(shop: Shop) -> None:
    make_seller(shop, "anne@lumiere.test")
    client = Client()
    for _ in range(5):
        client.post("/vendeur/connexion/", {"username": "anne@lumiere.test", "password": "faux"})

    response = client.post("/vendeur/connexion/", {"username": "anne@lumiere.test", "password": PASSWORD})

    assert response.status_code == 200
    assert "Trop de tentatives" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_user_without_a_shop_cannot_enter_the_seller_space(db) -> None:  # type: ignore[no-untyped-def]
    make_user("intrus@exemple.test")

    response = Client().post("/vendeur/connexion/", {"username": "intrus@exemple.test", "password": PASSWORD})

    assert "n&#x27;a pas accès" in response.content.decode() or "n'a pas accès" in response.content.decode()


def test_login_requires_the_csrf_token(shop: Shop) -> None:
    make_seller(shop, "anne@lumiere.test")

    response = Client(enforce_csrf_checks=True).post(
        "/vendeur/connexion/", {"username": "anne@lumiere.test", "password": PASSWORD})

    assert response.status_code == 403


def test_pages_redirect_anonymous_visitors_to_the_login(db) -> None:  # type: ignore[no-untyped-def]
    for url in ("/vendeur/", "/vendeur/commandes/", "/vendeur/parametres/"):
        response = Client().get(url)
        assert response.status_code == 302 and response["Location"].startswith("/vendeur/connexion/")


def test_logout_ends_the_session(seller_client: Client) -> None:
    seller_client.post("/vendeur/deconnexion/")

    assert seller_client.get("/vendeur/").status_code == 302


def test_password_change_keeps_the_user_logged_in(shop: Shop) -> None:
    user = make_seller(shop, "anne@lumiere.test")
    client = Client()
    client.force_login(user)

    response = client.post("/vendeur/mot-de-passe/", {
        "old_password": PASSWORD, "new_password1": "Un-nouveau-secret-99", "new_password2": "Un-nouveau-secret-99"})

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("Un-nouveau-secret-99")


# --- home ------------------------------------------------------------------------------------------

def test_home_counts_orders_to_accept_and_to_ship_with_links(seller_client: Client, shop: Shop) -> None:
    make_order(OrderState.WAITING_ACCEPTANCE, shop=shop)
    make_order(OrderState.SHIPPING, shop=shop)
    make_order(OrderState.STAGING, shop=shop)

    body = seller_client.get("/vendeur/").content.decode()

    assert "Commandes à accepter" in body and "Prochain refus automatique dans" in body
    assert "?etat=WAITING_ACCEPTANCE" in body and "?etat=SHIPPING" in body and "retard=on" in body
    assert "Solde payable" in body and "Messages non lus" in body and "Factures manquantes" in body


# --- list ------------------------------------------------------------------------------------------

def test_list_filters_by_status_number_sku_and_customer(seller_client: Client, shop: Shop) -> None:
    waiting = make_order(OrderState.WAITING_ACCEPTANCE, shop=shop)
    shipping = make_order(OrderState.SHIPPING, shop=shop)
    sku = waiting.lines.first().offer_sku

    by_state = seller_client.get("/vendeur/commandes/", {"etat": "SHIPPING"}).content.decode()
    by_number = seller_client.get("/vendeur/commandes/", {"numero": waiting.order_id}).content.decode()
    by_sku = seller_client.get("/vendeur/commandes/", {"sku": sku}).content.decode()
    by_name = seller_client.get("/vendeur/commandes/", {"client": "martin"}).content.decode()
    by_other_name = seller_client.get("/vendeur/commandes/", {"client": "Dupont"}).content.decode()

    assert shipping.order_id in by_state and waiting.order_id not in by_state
    assert waiting.order_id in by_number and shipping.order_id not in by_number
    assert waiting.order_id in by_sku and shipping.order_id not in by_sku
    assert waiting.order_id in by_name and shipping.order_id in by_name
    assert "Aucune commande" in by_other_name


def test_list_shows_only_the_sellers_own_orders(seller_client: Client, shop: Shop, other_shop: Shop) -> None:
    mine = make_order(OrderState.WAITING_ACCEPTANCE, shop=shop)
    theirs = make_order(OrderState.WAITING_ACCEPTANCE, shop=other_shop)

    body = seller_client.get("/vendeur/commandes/").content.decode()

    assert mine.order_id in body and theirs.order_id not in body


def test_list_rejects_bad_dates_with_a_french_message(seller_client: Client) -> None:
    response = seller_client.get("/vendeur/commandes/", {"du": "2026-13-45"})
    inverted = seller_client.get("/vendeur/commandes/", {"du": "2026-05-02", "au": "2026-05-01"})

    assert response.status_code == 400 and "Date invalide" in response.content.decode()
    assert inverted.status_code == 400 and "La date de début doit précéder" in inverted.content.decode()


def test_csv_export_contains_the_filtered_list(seller_client: Client, shop: Shop) -> None:
    waiting = make_order(OrderState.WAITING_ACCEPTANCE, shop=shop)
    shipping = make_order(OrderState.SHIPPING, shop=shop)

    response = seller_client.get("/vendeur/commandes/export.csv", {"etat": "WAITING_ACCEPTANCE"})
    content = b"".join(response.streaming_content).decode()

    assert response["Content-Type"].startswith("text/csv")
    assert waiting.order_id in content and shipping.order_id not in content
    assert "Échéance d'acceptation" in content and "En attente d'acceptation" in content


def test_list_pages_run_a_bounded_number_of_queries(seller_client: Client, shop: Shop,
                                                    django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    # session, user, membership, count, page, lines, (sandbox clock offset): the same for 2 or 30 rows.
    for _ in range(2):
        make_order(OrderState.WAITING_ACCEPTANCE, shop=shop)
    with django_assert_max_num_queries(MAX_LIST_QUERIES):
        seller_client.get("/vendeur/commandes/", {"par_page": 100})
    for _ in range(28):
        make_order(OrderState.SHIPPING, shop=shop, lines=3)
    with django_assert_max_num_queries(MAX_LIST_QUERIES):
        response = seller_client.get("/vendeur/commandes/", {"par_page": 100})
    with django_assert_max_num_queries(MAX_HOME_QUERIES):
        seller_client.get("/vendeur/")

    assert response.context["total"] == 30


def test_sorting_by_amount_orders_the_rows(seller_client: Client, shop: Shop) -> None:
    cheap = make_order(OrderState.WAITING_ACCEPTANCE, shop=shop, lines=1)
    dear = make_order(OrderState.WAITING_ACCEPTANCE, shop=shop, lines=3)

    body = seller_client.get("/vendeur/commandes/", {"tri": "-montant"}).content.decode()

    assert body.index(dear.order_id) < body.index(cheap.order_id)


# --- detail ----------------------------------------------------------------------------------------

def test_an_order_of_another_shop_is_a_404(other_seller_client: Client, shop: Shop) -> None:
    order = make_order(OrderState.WAITING_ACCEPTANCE, shop=shop)

    assert other_seller_client.get(f"/vendeur/commandes/{order.order_id}/").status_code == 404
    response = other_seller_client.post(f"/vendeur/commandes/{order.order_id}/decision/",
                                        {f"ligne_{lid}": "accepter" for lid in _line_ids(order)} | {"confirme": "1"})
    assert response.status_code == 404
    assert Order.objects.get(pk=order.pk).state == OrderState.WAITING_ACCEPTANCE


def test_waiting_order_offers_the_decision_but_hides_the_address(seller_client: Client, shop: Shop) -> None:
    order = make_order(OrderState.WAITING_ACCEPTANCE, shop=shop)

    body = seller_client.get(f"/vendeur/commandes/{order.order_id}/").content.decode()

    assert "Valider la décision" in body and 'value="refuser"' in body
    assert "Martin" in body and "12 rue des Lilas" not in body and "0612345678" not in body
    assert "jeanne.martin@example.com" not in body
    for tab in ("Expédition", "Contacter le client", "Historique", "Documents"):
        assert tab in body
    assert "TVA collectée par" in body


def test_staging_order_offers_no_action(seller_client: Client, shop: Shop) -> None:
    order = make_order(OrderState.STAGING, shop=shop)

    body = seller_client.get(f"/vendeur/commandes/{order.order_id}/").content.decode()

    assert "Valider la décision" not in body and "détection de fraude" in body


def test_shipping_order_shows_the_address_and_no_decision(seller_client: Client, shop: Shop) -> None:
    order = make_order(OrderState.SHIPPING, shop=shop)

    body = seller_client.get(f"/vendeur/commandes/{order.order_id}/").content.decode()

    assert "Valider la décision" not in body
    assert "12 rue des Lilas" in body and "0612345678" in body
    assert "jeanne.martin@example.com" not in body


def test_history_tab_lists_the_transitions(seller_client: Client, shop: Shop) -> None:
    order = make_order(OrderState.WAITING_ACCEPTANCE, shop=shop)

    body = seller_client.get(f"/vendeur/commandes/{order.order_id}/", {"onglet": "historique"}).content.decode()

    assert "Validée par l&#x27;anti-fraude" in body or "Validée par l'anti-fraude" in body


# --- acceptance ------------------------------------------------------------------------------------

def test_refusing_a_line_without_a_reason_is_rejected_and_changes_nothing(seller_client: Client, shop: Shop) -> None:
    order = make_order(OrderState.WAITING_ACCEPTANCE, shop=shop)
    first, second = _line_ids(order)

    response = seller_client.post(f"/vendeur/commandes/{order.order_id}/decision/",
                                  {f"ligne_{first}": "refuser", f"ligne_{second}": "accepter", "confirme": "1"})

    assert response.status_code == 400
    assert "Indiquez le motif du refus." in response.content.decode()
    assert Order.objects.get(pk=order.pk).state == OrderState.WAITING_ACCEPTANCE


def test_a_missing_decision_is_rejected(seller_client: Client, shop: Shop) -> None:
    order = make_order(OrderState.WAITING_ACCEPTANCE, shop=shop)
    first, _second = _line_ids(order)

    response = seller_client.post(f"/vendeur/commandes/{order.order_id}/decision/",
                                  {f"ligne_{first}": "accepter", "confirme": "1"})

    assert response.status_code == 400 and "Choisissez « Accepter » ou « Refuser »" in response.content.decode()
    assert Order.objects.get(pk=order.pk).state == OrderState.WAITING_ACCEPTANCE


def test_the_first_post_asks_for_confirmation_and_changes_nothing(seller_client: Client, shop: Shop) -> None:
    order = make_order(OrderState.WAITING_ACCEPTANCE, shop=shop)
    first, second = _line_ids(order)

    response = seller_client.post(f"/vendeur/commandes/{order.order_id}/decision/",
                                  {f"ligne_{first}": "refuser", f"ligne_{second}": "accepter", "motif": "Rupture"})

    body = response.content.decode()
    assert response.status_code == 200 and "Confirmer la décision" in body and 'name="confirme"' in body
    assert Order.objects.get(pk=order.pk).state == OrderState.WAITING_ACCEPTANCE


def test_htmx_gets_the_confirmation_as_a_dialog_fragment(seller_client: Client, shop: Shop) -> None:
    order = make_order(OrderState.WAITING_ACCEPTANCE, shop=shop)
    data = {f"ligne_{lid}": "accepter" for lid in _line_ids(order)}

    body = seller_client.post(f"/vendeur/commandes/{order.order_id}/decision/", data,
                              headers={"HX-Request": "true"}).content.decode()

    assert "Confirmer la décision" in body and "<html" not in body


def test_partial_refusal_with_reason_accepts_the_rest(seller_client: Client, shop: Shop) -> None:
    order = make_order(OrderState.WAITING_ACCEPTANCE, shop=shop)
    first, second = _line_ids(order)

    response = seller_client.post(f"/vendeur/commandes/{order.order_id}/decision/", {
        f"ligne_{first}": "refuser", f"ligne_{second}": "accepter", "motif": "Rupture de stock", "confirme": "1"})

    assert response.status_code == 302
    order.refresh_from_db()
    assert order.state == OrderState.WAITING_DEBIT
    assert order.lines.get(line_id=first).state == OrderState.REFUSED
    assert order.lines.get(line_id=first).state_reason_label == "Rupture de stock"
    body = seller_client.get(response["Location"]).content.decode()
    assert "1 article(s) refusé(s)" in body and "Rupture de stock" in body


def test_refusing_every_line_refuses_the_order(seller_client: Client, shop: Shop) -> None:
    order = make_order(OrderState.WAITING_ACCEPTANCE, shop=shop)

    seller_client.post(f"/vendeur/commandes/{order.order_id}/decision/",
                       {f"ligne_{lid}": "refuser" for lid in _line_ids(order)} | {"motif": "Prix erroné",
                                                                                  "confirme": "1"})

    assert Order.objects.get(pk=order.pk).state == OrderState.REFUSED


def test_deciding_an_order_no_longer_waiting_changes_nothing(seller_client: Client, shop: Shop) -> None:
    order = make_order(OrderState.SHIPPING, shop=shop)

    response = seller_client.post(f"/vendeur/commandes/{order.order_id}/decision/",
                                  {f"ligne_{lid}": "refuser" for lid in _line_ids(order)} | {"motif": "x",
                                                                                             "confirme": "1"},
                                  follow=True)

    assert "n&#x27;est plus en attente d&#x27;acceptation" in response.content.decode()
    assert Order.objects.get(pk=order.pk).state == OrderState.SHIPPING


# --- settings --------------------------------------------------------------------------------------

def test_settings_show_legal_profile_and_users(seller_client: Client, shop: Shop) -> None:
    body = seller_client.get("/vendeur/parametres/").content.decode()

    assert "Boutique Lumière SARL" in body and "vendeur-2001@boutique.test" in body


def test_api_key_rotation_confirms_then_shows_the_key_once(seller_client: Client, shop: Shop) -> None:
    ask = seller_client.post("/vendeur/parametres/cle-api/")
    assert "Générer la clé" in ask.content.decode() and not ApiKey.objects.filter(shop=shop).exists()

    response = seller_client.post("/vendeur/parametres/cle-api/", {"confirme": "1"})

    raw = response.context["raw_key"]
    assert raw in response.content.decode() and response["Cache-Control"] == "no-store"
    assert authenticate_key(raw).shop_id == shop.id
    assert raw not in seller_client.get("/vendeur/parametres/").content.decode()
