"""Back-office journeys in a real browser: seller acceptance, operator fraud gate, isolation, customer link."""

from __future__ import annotations

import re

import pytest

from comptoir.customer.links import customer_path
from comptoir.orders.models import Order
from comptoir.orders.states import OrderState
from tests.factories import ShopFactory, make_order
from tests.web_factories import PASSWORD, make_operator, make_seller

pytestmark = pytest.mark.django_db(transaction=True)


def login(page, url: str, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(url)
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()


def test_seller_refuses_one_line_and_accepts_the_other(new_page) -> None:  # type: ignore[no-untyped-def]
    shop = ShopFactory(id=2001, name="Boutique Lumière")
    make_seller(shop, "anne@lumiere.test")
    order = make_order(OrderState.WAITING_ACCEPTANCE, shop=shop)
    first, second = order.lines.order_by("index")
    page = new_page()

    login(page, "/vendeur/connexion/", "anne@lumiere.test")
    page.get_by_role("link", name=re.compile("Commandes à accepter")).click()
    page.get_by_role("link", name=order.order_id).click()
    page.locator(f'input[name="ligne_{first.line_id}"][value="refuser"]').check()
    page.locator(f'input[name="ligne_{second.line_id}"][value="accepter"]').check()
    page.get_by_label("Motif du refus").fill("Rupture de stock")
    page.get_by_role("button", name="Valider la décision…").click()
    dialog = page.locator("dialog#dialog")
    dialog.get_by_role("button", name="Confirmer la décision").click()

    page.get_by_text("1 article(s) refusé(s)").wait_for()
    assert "onglet=historique" in page.url
    assert page.locator("h1 .badge").inner_text() == "Débit en cours"
    history = page.locator("table.history")
    assert "Rupture de stock" in history.inner_text() and "Acceptation" in history.inner_text()
    assert Order.objects.get(pk=order.pk).state == OrderState.WAITING_DEBIT


def test_operator_approves_and_the_seller_then_sees_the_order(new_page) -> None:  # type: ignore[no-untyped-def]
    shop = ShopFactory(id=2001, name="Boutique Lumière")
    make_seller(shop, "anne@lumiere.test")
    make_operator("ops@marche.test")
    order = make_order(OrderState.STAGING, shop=shop)
    ops = new_page()

    login(ops, "/operateur/connexion/", "ops@marche.test")
    ops.get_by_role("link", name=order.order_id).click()
    ops.get_by_role("button", name="Valider la commande…").click()
    ops.locator("dialog#dialog").get_by_role("button", name="Valider la commande").click()
    ops.get_by_text("validée").wait_for()

    seller = new_page()
    login(seller, "/vendeur/connexion/", "anne@lumiere.test")
    seller.goto("/vendeur/commandes/?etat=WAITING_ACCEPTANCE")
    row = seller.locator("tr", has=seller.get_by_role("link", name=order.order_id))
    assert "En attente d'acceptation" in row.inner_text()


def test_a_seller_of_another_shop_gets_a_404(new_page) -> None:  # type: ignore[no-untyped-def]
    order = make_order(OrderState.WAITING_ACCEPTANCE, shop=ShopFactory(id=2001))
    make_seller(ShopFactory(id=2002), "bob@voisine.test")
    page = new_page()

    login(page, "/vendeur/connexion/", "bob@voisine.test")
    response = page.goto(f"/vendeur/commandes/{order.order_id}/")

    assert response.status == 404


def test_a_customer_link_with_a_wrong_signature_gets_a_404(new_page) -> None:  # type: ignore[no-untyped-def]
    order = make_order(OrderState.SHIPPING, shop=ShopFactory(id=2001))
    page = new_page(width=390, height=844)

    good = page.goto(customer_path(order))
    assert good.status == 200 and page.get_by_text("Confirmée, en préparation").count() >= 1
    bad = page.goto(customer_path(order)[:-6] + "XXXXX/")

    assert bad.status == 404


def test_pages_fit_a_phone_screen(new_page) -> None:  # type: ignore[no-untyped-def]
    shop = ShopFactory(id=2001, name="Boutique Lumière")
    make_seller(shop, "anne@lumiere.test")
    order = make_order(OrderState.SHIPPING, shop=shop)
    page = new_page(width=390, height=844)

    login(page, "/vendeur/connexion/", "anne@lumiere.test")
    for url in ("/vendeur/", "/vendeur/commandes/", f"/vendeur/commandes/{order.order_id}/", "/vendeur/parametres/"):
        page.goto(url)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 1, f"{url} is {overflow}px wider than the phone"
