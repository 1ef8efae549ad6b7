"""A seller ships an order in two parcels with two carriers (Colissimo, then « Autre »); the customer space
then shows both tracking links."""

from __future__ import annotations

import pytest

from comptoir.customer.links import customer_path
from comptoir.orders.models import Order
from comptoir.orders.states import OrderState
from tests.e2e.test_journeys import login
from tests.factories import ShopFactory, ensure_carriers, make_order
from tests.web_factories import make_seller

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_parcels_two_carriers_then_the_customer_tracks_both(new_page) -> None:  # type: ignore[no-untyped-def]
    ensure_carriers()
    shop = ShopFactory(id=2001, name="Boutique Lumière")
    make_seller(shop, "anne@lumiere.test")
    order = make_order(OrderState.SHIPPING, shop=shop)
    first, second = order.lines.order_by("index")
    page = new_page()
    login(page, "/vendeur/connexion/", "anne@lumiere.test")
    page.goto(f"/vendeur/commandes/{order.order_id}/?onglet=expedition")
    dialog = page.locator("dialog#dialog")

    # Parcel 1: line 1 with Colissimo, the link previewed as the number is typed.
    page.get_by_label("Transporteur", exact=True).select_option("colissimo")
    page.get_by_label("Numéro de suivi").fill("6A100")
    page.locator("#tracking-preview a").wait_for()
    assert "code=6A100" in page.locator("#tracking-preview a").get_attribute("href")
    page.locator(f'input[name="quantite_{second.line_id}"]').fill("0")
    page.get_by_role("button", name="Déclarer ce colis…").click()
    dialog.get_by_role("button", name="Confirmer l'expédition").click()
    page.get_by_text("Colis déclaré").wait_for()

    # Parcel 2: line 2 with « Autre » (the form below the parcels already declared).
    form = page.locator("form.ship-form")
    form.get_by_label("Transporteur", exact=True).select_option("autre")
    form.get_by_label("Numéro de suivi").fill("CL-7")
    form.get_by_label("Nom du transporteur (« Autre »)").fill("Coursier Lyon")
    form.get_by_label("Lien de suivi https:// (« Autre »)").fill("https://coursier.example/suivi/CL-7")
    page.get_by_role("button", name="Déclarer ce colis…").click()
    dialog.get_by_role("button", name="Confirmer l'expédition").click()
    page.get_by_text("Commande expédiée").wait_for()

    assert page.locator("h1 .badge").inner_text() == "Envoyée"
    assert Order.objects.get(pk=order.pk).state == OrderState.SHIPPED
    links = page.locator("table.shipments a")
    assert links.count() == 2

    customer = new_page()
    customer.goto(customer_path(order))
    parcels = customer.locator("ul.parcels a")
    hrefs = [parcels.nth(i).get_attribute("href") for i in range(parcels.count())]
    assert hrefs == ["https://www.laposte.fr/outils/suivre-vos-envois?code=6A100",
                     "https://coursier.example/suivi/CL-7"]
    assert all(parcels.nth(i).get_attribute("rel").startswith("noopener") for i in range(2))
    assert first.line_id != second.line_id
