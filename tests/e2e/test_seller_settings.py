"""Seller settings in a real browser: add a user, then remove them through the confirmation dialog.

(Refusals answer 400, which Chromium logs as a console error: they are covered by tests/web.)
"""

from __future__ import annotations

import pytest

from comptoir.shops.models import ShopMember
from tests.e2e.test_journeys import login
from tests.factories import ShopFactory
from tests.web_factories import make_seller

pytestmark = pytest.mark.django_db(transaction=True)


def test_seller_adds_then_removes_a_user(new_page) -> None:  # type: ignore[no-untyped-def]
    shop = ShopFactory(id=2001, name="Boutique Lumière")
    make_seller(shop, "anne@lumiere.test")
    page = new_page()

    login(page, "/vendeur/connexion/", "anne@lumiere.test")
    page.goto("/vendeur/parametres/")
    page.get_by_label("Adresse e-mail (identifiant de connexion)").fill("paul@lumiere.test")
    page.get_by_label("Mot de passe", exact=True).fill("Un-secret-solide-77")
    page.get_by_role("button", name="Ajouter l'utilisateur").click()
    page.get_by_text("paul@lumiere.test peut maintenant se connecter").wait_for()

    page.get_by_role("button", name="Retirer paul@lumiere.test").click()
    dialog = page.locator("dialog#dialog")
    dialog.get_by_role("button", name="Retirer l'utilisateur").click()
    page.get_by_text("paul@lumiere.test a été retiré de la boutique.").wait_for()

    assert list(ShopMember.objects.filter(shop=shop).values_list("user__email", flat=True)) == ["anne@lumiere.test"]
