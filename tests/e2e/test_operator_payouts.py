"""Operator journey in a real browser: see the payable balances, run a payout in the dialog, read and
download its statement."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from playwright.sync_api import expect

from comptoir.ledger.models import Payout
from comptoir.orders.states import OrderState
from tests.e2e.test_journeys import login
from tests.factories import OfferFactory, ShopFactory, make_order
from tests.web_factories import make_operator

pytestmark = pytest.mark.django_db(transaction=True)


def test_operator_runs_a_payout_and_downloads_its_statement(new_page) -> None:  # type: ignore[no-untyped-def]
    shop = ShopFactory(id=2001, name="Boutique Lumière")
    make_order(OrderState.RECEIVED, shop=shop, offers=[(OfferFactory(shop=shop, price_cents=2010), 1)])  # net 22,00 €
    make_operator("ops@marche.test")
    page = new_page()

    login(page, "/operateur/connexion/", "ops@marche.test")
    page.get_by_role("link", name="Versements").click()
    expect(page.locator("#payable-total")).to_have_text("22,00\u00a0€")
    page.get_by_role("button", name="Lancer un versement…").click()
    dialog = page.locator("dialog#dialog")
    expect(dialog).to_contain_text("1 boutique à payer, 22,00\u00a0€ au total.")
    dialog.get_by_role("button", name="Lancer le versement").click()

    page.get_by_text("effectué").wait_for()
    payout = Payout.objects.get()
    assert page.url.endswith(f"/operateur/versements/{payout.id}/")
    expect(page.locator("table.statement tbody tr")).to_contain_text("Boutique Lumière")
    expect(page.locator("table.statement tbody tr")).to_contain_text("22,00\u00a0€")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Télécharger le relevé (CSV)").click()
    download = download_info.value
    assert download.suggested_filename == f"versement-{payout.id}.csv"
    rows = list(csv.reader(io.StringIO(Path(download.path()).read_text("utf-8-sig")), delimiter=";"))
    assert rows[1][2:] == ["2001", "Boutique Lumière", "22,00", "EUR"]

    page.get_by_role("link", name="Boutiques").click()
    shop_row = page.locator("tr", has=page.get_by_role("link", name="Boutique Lumière"))
    expect(shop_row.locator('td[data-label="Versé"]')).to_have_text("22,00\u00a0€")
