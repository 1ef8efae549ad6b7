"""A seller refunds a shipped order through every mode of the « Rembourser » dialog (gesture, quantity with an
edited amount, shipping only, full), checking the preview before each confirmation and the amounts after, then
cancels a unit of an order not shipped yet; the customer space shows it all."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from comptoir.customer.links import customer_path
from comptoir.orders.models import OrderLine
from comptoir.orders.states import OrderState
from comptoir.refunds.models import Refund
from comptoir.refunds.services import ensure_default_reasons
from tests.e2e.test_journeys import login
from tests.factories import ShopFactory, make_order
from tests.web_factories import make_seller

pytestmark = pytest.mark.django_db(transaction=True)

NBSP = "\u00a0"


@pytest.fixture(autouse=True)
def _reasons() -> None:
    ensure_default_reasons()  # a transactional test starts from flushed tables


def eur(text: str) -> str:
    return text.replace(" €", f"{NBSP}€")


def open_refund_dialog(page):  # type: ignore[no-untyped-def]
    page.get_by_role("link", name="Rembourser").click()
    dialog = page.locator("dialog#dialog")
    expect(dialog.get_by_role("heading", name="Rembourser")).to_be_visible()
    expect(dialog.locator("#ht-warning")).to_contain_text("Le montant que vous renseignez est hors taxe.")
    return dialog


def fill_line(dialog, line_id: str, *, mode: str | None = None, reason: str, **fields: str):  # type: ignore[no-untyped-def]
    box = dialog.locator(f"#ligne-{line_id}")
    if mode:
        box.get_by_label("Type de remboursement").select_option(mode)
    for label, value in fields.items():
        box.get_by_label({"quantite": "Quantité (remboursement partiel)", "montant": "Montant du produit HT (€)",
                          "port": "Frais de port HT (€)"}[label]).fill(value)
    box.get_by_label("Motif du remboursement").select_option(label=reason)
    return box


def check_preview_and_confirm(page, dialog, *, excl: str, tax: str, total: str) -> None:  # type: ignore[no-untyped-def]
    dialog.get_by_role("button", name="Vérifier le remboursement…").click()
    expect(dialog.locator("#preview-total")).to_have_text(eur(total))
    expect(dialog.locator("#preview-excl-tax")).to_have_text(eur(excl))
    expect(dialog.locator("#preview-tax")).to_have_text(eur(tax))
    expect(dialog.locator("#balance-after")).to_be_visible()
    dialog.get_by_role("button", name="Confirmer le remboursement").click()
    expect(page.locator(".flash-success")).to_contain_text(f"Remboursement enregistré : {eur(total)} TTC")


def test_every_refund_mode_then_a_cancelation(new_page) -> None:  # type: ignore[no-untyped-def]
    shop = ShopFactory(id=2001, name="Boutique Lumière")
    make_seller(shop, "anne@lumiere.test")
    order = make_order(OrderState.SHIPPED, shop=shop, quantity=2)  # 2 × 10,00 € and 2 × 20,00 €, port 4,90 € each
    first, second = order.lines.order_by("index")
    page = new_page()
    login(page, "/vendeur/connexion/", "anne@lumiere.test")
    page.goto(f"/vendeur/commandes/{order.order_id}/")

    # Gesture: 5,00 € excluding tax on the second line → 6,00 € incl. 20 % VAT.
    dialog = open_refund_dialog(page)
    fill_line(dialog, second.line_id, mode="AMOUNT", montant="5,00", reason="Geste commercial")
    check_preview_and_confirm(page, dialog, excl="5,00 €", tax="1,00 €", total="6,00 €")

    # Quantity: one unit, the amount is proposed (and the mode chosen) as it is typed, then edited.
    dialog = open_refund_dialog(page)
    box = dialog.locator(f"#ligne-{second.line_id}")
    box.get_by_label("Quantité (remboursement partiel)").fill("1")
    expect(box.get_by_label("Montant du produit HT (€)")).to_have_value("16,67")
    expect(box.get_by_label("Type de remboursement")).to_have_value("QUANTITY")
    box.get_by_label("Montant du produit HT (€)").fill("10,00")
    box.get_by_label("Motif du remboursement").select_option(label="Produit retourné par le client")
    check_preview_and_confirm(page, dialog, excl="10,00 €", tax="2,00 €", total="12,00 €")

    # Shipping only on the first line: all its shipping, 4,90 € incl. VAT.
    dialog = open_refund_dialog(page)
    fill_line(dialog, first.line_id, mode="SHIPPING", reason="Frais de port trop perçus")
    check_preview_and_confirm(page, dialog, excl="4,08 €", tax="0,82 €", total="4,90 €")

    # Full refund of the first line: what remains of it (its shipping already went back).
    dialog = open_refund_dialog(page)
    fill_line(dialog, first.line_id, mode="FULL", reason="Produit endommagé ou défectueux")
    check_preview_and_confirm(page, dialog, excl="16,67 €", tax="3,33 €", total="20,00 €")

    expect(page.locator("#amount-refunded")).to_have_text(eur("42,90 €"))  # 6 + 12 + 4,90 + 20
    expect(page.locator("#amount-total-after")).to_have_text(eur("26,90 €"))  # 69,80 − 42,90
    rows = page.locator("table.refunds tbody tr")
    expect(rows).to_have_count(4)
    expect(rows.nth(3)).to_contain_text("Remboursement intégral")
    expect(rows.nth(3)).to_contain_text("En attente de remboursement")
    assert OrderLine.objects.get(pk=first.pk).state == OrderState.REFUNDED
    assert sorted(Refund.objects.values_list("mode", flat=True)) == ["AMOUNT", "FULL", "QUANTITY", "SHIPPING"]

    # An error stays in the dialog, next to its field: more than what remains on the second line.
    dialog = open_refund_dialog(page)
    fill_line(dialog, second.line_id, mode="AMOUNT", montant="100", reason="Geste commercial")
    dialog.get_by_role("button", name="Vérifier le remboursement…").click()
    expect(dialog.locator(f"#id_montant_{second.line_id}_erreur")).to_contain_text("dépasse ce qui reste")
    dialog.get_by_role("link", name="Fermer").click()
    assert Refund.objects.count() == 4

    # Cancel one unit of an order that has not shipped yet, from the line's « Annuler » button.
    waiting = make_order(OrderState.SHIPPING, shop=shop, quantity=2)
    line = waiting.lines.order_by("index").first()
    page.goto(f"/vendeur/commandes/{waiting.order_id}/")
    page.get_by_role("link", name=f"Annuler des unités de {line.product_title}").click()
    dialog = page.locator("dialog#dialog")
    box = dialog.locator(f"#ligne-{line.line_id}")
    expect(box.get_by_label("Unités à annuler")).to_have_value("2")
    box.get_by_label("Unités à annuler").fill("1")
    box.get_by_label("Motif de l'annulation").select_option(label="Produit en rupture de stock")
    dialog.get_by_role("button", name="Vérifier l'annulation…").click()
    expect(dialog.locator("#preview-total")).to_have_text(eur("12,45 €"))  # one unit and half its shipping
    dialog.get_by_role("button", name="Confirmer l'annulation").click()
    expect(page.locator(".flash-success")).to_contain_text("1 unité(s) annulée(s)")
    expect(page.get_by_text("dont 1 annulée(s)")).to_be_visible()
    expect(page.locator("#amount-refunded")).to_have_text(eur("12,45 €"))
    expect(page.locator("h1 .badge")).to_have_text("En attente d'expédition")

    customer = new_page()
    customer.goto(customer_path(order))
    expect(customer.locator("table.refunds tbody tr")).to_have_count(4)
    expect(customer.locator("#refunded-total")).to_have_text(eur("42,90 €"))
