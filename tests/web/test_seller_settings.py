"""Seller settings: the shop's legal profile, its users (add, remove with confirmation), French refusals."""

from __future__ import annotations

import pytest
from django import forms
from django.contrib.auth import get_user_model
from django.test import Client

from comptoir.core.errors import ValidationError
from comptoir.seller.forms import apply_error
from comptoir.shops.models import Shop, ShopMember
from tests.web_factories import PASSWORD, make_seller

pytestmark = pytest.mark.django_db


def _profile(shop: Shop, **changes: str) -> dict[str, str]:
    shop.refresh_from_db()
    data = {name: getattr(shop, name) for name in (
        "name", "legal_name", "legal_form", "share_capital", "identification_number", "rcs", "vat_number",
        "head_office_street", "head_office_zip_code", "head_office_city", "head_office_country_iso_code",
        "customer_service_email", "contact_phone", "producer_registration_number", "warranty_duration")}
    return data | changes


def _members(shop: Shop) -> set[str]:
    return set(ShopMember.objects.filter(shop=shop).values_list("user__email", flat=True))


# --- profile ---------------------------------------------------------------------------------------

def test_the_profile_form_is_labelled_and_prefilled(seller_client: Client, shop: Shop) -> None:
    body = seller_client.get("/vendeur/parametres/profil/").content.decode()

    assert '<label for="id_legal_name">Raison sociale</label>' in body
    assert 'value="Boutique Lumière SARL"' in body
    assert "Modifier le profil" in seller_client.get("/vendeur/parametres/").content.decode()


def test_saving_the_profile_updates_the_shop(seller_client: Client, shop: Shop) -> None:
    response = seller_client.post("/vendeur/parametres/profil/", _profile(
        shop, legal_name="Lumière et Fils SAS", vat_number="FR12345678901",
        customer_service_email="sav@lumiere.test"))

    assert response.status_code == 302 and response["Location"] == "/vendeur/parametres/"
    shop.refresh_from_db()
    assert (shop.legal_name, shop.vat_number, shop.customer_service_email) == (
        "Lumière et Fils SAS", "FR12345678901", "sav@lumiere.test")
    body = seller_client.get(response["Location"]).content.decode()
    assert "Le profil de la boutique a été enregistré." in body and "Lumière et Fils SAS" in body


def test_a_bad_email_is_refused_in_french_and_nothing_changes(seller_client: Client, shop: Shop) -> None:
    before = _profile(shop)

    response = seller_client.post("/vendeur/parametres/profil/", _profile(
        shop, legal_name="Changé", customer_service_email="pas-une-adresse"))

    body = response.content.decode()
    assert response.status_code == 400
    assert "Adresse e-mail invalide." in body and "Le profil n'a pas été enregistré" in body
    assert _profile(shop) == before


def test_an_empty_shop_name_is_refused(seller_client: Client, shop: Shop) -> None:
    response = seller_client.post("/vendeur/parametres/profil/", _profile(shop, name="  "))

    assert response.status_code == 400 and "Le nom de la boutique est obligatoire." in response.content.decode()
    shop.refresh_from_db()
    assert shop.name == "Boutique Lumière"


def test_a_service_refusal_lands_on_its_field_without_the_technical_prefix() -> None:
    form = forms.Form(data={})
    form.fields["vat_number"] = forms.CharField(required=False)
    form.is_valid()

    apply_error(form, ValidationError("vat_number : Numéro trop long.", field="vat_number"))
    apply_error(form, ValidationError("Erreur générale."))

    assert form.errors["vat_number"] == ["Numéro trop long."]
    assert form.non_field_errors() == ["Erreur générale."]


def test_the_profile_post_needs_the_csrf_token(shop: Shop) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_seller(shop))

    response = client.post("/vendeur/parametres/profil/", _profile(shop, legal_name="Pirate"))

    assert response.status_code == 403
    shop.refresh_from_db()
    assert shop.legal_name == "Boutique Lumière SARL"


# --- users -----------------------------------------------------------------------------------------

def test_adding_a_user_lets_them_log_in(seller_client: Client, shop: Shop) -> None:
    response = seller_client.post("/vendeur/parametres/utilisateurs/",
                                  {"email": "Paul@Lumiere.test", "password": "Un-secret-solide-77"})

    assert response.status_code == 302
    assert "paul@lumiere.test" in _members(shop)
    login = Client().post("/vendeur/connexion/", {"username": "paul@lumiere.test", "password": "Un-secret-solide-77"})
    assert login.status_code == 302


def test_the_add_form_is_labelled(seller_client: Client) -> None:
    body = seller_client.get("/vendeur/parametres/").content.decode()

    assert "Ajouter un utilisateur" in body
    assert '<label for="id_email">Adresse e-mail (identifiant de connexion)</label>' in body
    assert '<label for="id_password">Mot de passe</label>' in body


@pytest.mark.parametrize(("data", "message"), [
    ({"email": "vendeur-2001@boutique.test", "password": "Un-secret-solide-77"},
     "Un utilisateur existe déjà avec cette adresse."),
    ({"email": "paul@lumiere.test", "password": "court"}, "Ce mot de passe est trop court."),
    ({"email": "paul@lumiere.test", "password": "password123"}, "Ce mot de passe est trop courant."),
    ({"email": "pas-une-adresse", "password": "Un-secret-solide-77"}, "Adresse e-mail invalide."),
    ({"email": "paul@lumiere.test", "password": ""}, "Le mot de passe est obligatoire."),
])
def test_bad_new_users_are_refused_in_french_and_nothing_changes(seller_client: Client, shop: Shop,
                                                                 data: dict[str, str], message: str) -> None:
    users_before = get_user_model().objects.count()

    response = seller_client.post("/vendeur/parametres/utilisateurs/", data)

    body = response.content.decode()
    assert response.status_code == 400
    assert message in body.replace("&#x27;", "'") and "n&#x27;a pas été ajouté" in body
    assert f"value=\"{data['password']}\"" not in body or not data["password"]  # a password is never echoed
    assert _members(shop) == {"vendeur-2001@boutique.test"}
    assert get_user_model().objects.count() == users_before


def test_removing_a_user_asks_for_confirmation_first(seller_client: Client, shop: Shop) -> None:
    paul = make_seller(shop, "paul@lumiere.test")

    ask = seller_client.post(f"/vendeur/parametres/utilisateurs/{paul.pk}/retirer/")
    fragment = seller_client.post(f"/vendeur/parametres/utilisateurs/{paul.pk}/retirer/",
                                  headers={"HX-Request": "true"})

    assert ask.status_code == 200 and "Retirer l&#x27;utilisateur" in ask.content.decode()
    assert 'name="confirme"' in ask.content.decode() and "paul@lumiere.test" in ask.content.decode()
    assert "<html" not in fragment.content.decode()
    assert "paul@lumiere.test" in _members(shop)


def test_a_confirmed_removal_removes_the_user(seller_client: Client, shop: Shop) -> None:
    paul = make_seller(shop, "paul@lumiere.test")

    response = seller_client.post(f"/vendeur/parametres/utilisateurs/{paul.pk}/retirer/", {"confirme": "1"},
                                  follow=True)

    assert "paul@lumiere.test a été retiré de la boutique." in response.content.decode()
    assert _members(shop) == {"vendeur-2001@boutique.test"}
    assert Client().post("/vendeur/connexion/", {"username": "paul@lumiere.test",
                                                 "password": PASSWORD}).status_code == 200


def test_nobody_removes_themselves(shop: Shop) -> None:
    me = make_seller(shop, "anne@lumiere.test")
    make_seller(shop, "paul@lumiere.test")
    client = Client()
    client.force_login(me)

    page = client.get("/vendeur/parametres/").content.decode()
    response = client.post(f"/vendeur/parametres/utilisateurs/{me.pk}/retirer/", {"confirme": "1"}, follow=True)

    assert f"/utilisateurs/{me.pk}/retirer/" not in page  # no button for oneself
    assert "Vous ne pouvez pas vous retirer vous-même." in response.content.decode()
    assert "anne@lumiere.test" in _members(shop)


def test_a_user_of_another_shop_cannot_be_removed(seller_client: Client, other_shop: Shop) -> None:
    neighbour = make_seller(other_shop, "bob@voisine.test")
    make_seller(other_shop, "carla@voisine.test")

    response = seller_client.post(f"/vendeur/parametres/utilisateurs/{neighbour.pk}/retirer/", {"confirme": "1"})

    assert response.status_code == 404
    assert _members(other_shop) == {"bob@voisine.test", "carla@voisine.test"}


def test_user_actions_are_post_only(seller_client: Client, shop: Shop) -> None:
    paul = make_seller(shop, "paul@lumiere.test")

    assert seller_client.get(f"/vendeur/parametres/utilisateurs/{paul.pk}/retirer/").status_code == 405
    assert seller_client.get("/vendeur/parametres/utilisateurs/").status_code == 405
