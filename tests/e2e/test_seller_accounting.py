"""Seller accounting in a real browser: open Comptabilité from the menu, read the balances, download the CSV."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from comptoir.orders.states import OrderState
from comptoir.shops.models import ShopMember
from comptoir.web.templatetags.comptoir_web import euros
from tests.e2e.test_journeys import login
from tests.factories import ShopFactory, make_order
from tests.web_factories import make_seller

pytestmark = pytest.mark.django_db(transaction=True)


def _net(order) -> int:  # type: ignore[no-untyped-def]
    return sum(line.price_cents + line.shipping_price_cents - line.commission_fee_cents - line.commission_vat_cents
               for line in order.lines.all())


def test_seller_reads_the_balances_and_downloads_the_csv(new_page) -> None:  # type: ignore[no-untyped-def]
    shop = ShopFactory(id=2001, name="Boutique Lumière")
    make_seller(shop, "anne@lumiere.test")
    received = make_order(OrderState.RECEIVED, shop=shop)
    shipped = make_order(OrderState.SHIPPED, shop=shop)
    page = new_page()

    login(page, "/vendeur/connexion/", "anne@lumiere.test")
    page.get_by_role("navigation", name="Navigation principale").get_by_role("link", name="Comptabilité").click()
    page.get_by_role("heading", name="Comptabilité", level=1).wait_for()

    assert page.locator("#balance-pending .value").inner_text() == euros(_net(shipped))
    assert page.locator("#balance-payable .value").inner_text() == euros(_net(received))
    assert page.locator("#balance-paid .value").inner_text() == euros(0)
    page.get_by_label("Payable").check()
    page.get_by_role("button", name="Filtrer").click()
    page.wait_for_url(re.compile(r"etat=PAYABLE"))
    assert set(page.locator("#transactions tbody td[data-label='État du paiement']").all_inner_texts()) == {"Payable"}

    with page.expect_download() as info:
        page.get_by_role("link", name="Exporter en CSV").click()
    download = info.value
    content = Path(download.path()).read_text(encoding="utf-8-sig")

    assert download.suggested_filename == "comptabilite-2001.csv"
    assert content.startswith("Date;Type d'opération;État du paiement")
    assert received.order_id in content and shipped.order_id not in content


def test_new_seller_pages_fit_a_phone_screen(new_page) -> None:  # type: ignore[no-untyped-def]
    shop = ShopFactory(id=2001, name="Boutique Lumière")
    user = make_seller(shop, "anne@lumiere.test")
    ShopMember.objects.create(shop=ShopFactory(id=2002, name="Boutique Voisine"), user=user)
    make_order(OrderState.RECEIVED, shop=shop)
    waiting = make_order(OrderState.WAITING_ACCEPTANCE, shop=shop)
    page = new_page(width=390, height=844)

    login(page, "/vendeur/connexion/", "anne@lumiere.test")
    for url in ("/vendeur/comptabilite/", "/vendeur/parametres/", "/vendeur/parametres/profil/",
                "/vendeur/commandes/", f"/vendeur/commandes/{waiting.order_id}/"):
        page.goto(url)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 1, f"{url} is {overflow}px wider than the phone"
    page.get_by_label("Boutique", exact=True).select_option("2002")
    page.get_by_role("button", name="Changer").click()
    page.get_by_text("Bonjour, Boutique Voisine").wait_for()
