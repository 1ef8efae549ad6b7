"""Issue 8's journey: a seller uploads an invoice missing two mandatory mentions, sees both listed as missing,
deletes it, generates a compliant Factur-X invoice instead, and the customer downloads it from the customer
space: a PDF with its embedded CII XML."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from facturx import get_facturx_xml_from_pdf, xml_check_xsd
from fpdf import FPDF
from playwright.sync_api import expect

from comptoir.customer.links import customer_path
from comptoir.documents.models import OrderDocument
from comptoir.orders.models import Order
from comptoir.orders.states import OrderState
from tests.api.test_documents import _legal
from tests.e2e.test_journeys import login
from tests.factories import ShopFactory, make_order
from tests.web_factories import make_seller

pytestmark = pytest.mark.django_db(transaction=True)

# The seller's own invoice: every mandatory mention but the RCS and the warranty duration.
MENTIONS = (
    "Boutique Lumière SARL", "Siège social : 1 rue de la Paix, 75002 Paris", "SIREN 123 456 789",
    "SARL au capital de 10 000 EUR", "N° TVA intracommunautaire : FR12 123 456 789", "Facture n° F2026-0042",
    "Date de facture : 27/11/2026", "Date de la vente : 26/11/2026",
    "Désignation | Quantité | Prix unitaire HT | TVA", "{products}", "Frais de port : 8,16",
    "Total HT : 33,17", "Total TVA : 6,63", "Total TTC : 39,80", "Client : {customer}",
    "Adresse de facturation : {billing}", "Dont éco-participation : 0,00",
    "Registre des producteurs : FR123456_01ABCD", "Service client : sav@lumiere.test",
)


def seller_invoice(order: Order) -> bytes:
    billing = order.billing_address or {}
    values = {"products": " / ".join(f"{line.product_title} | {line.quantity} | 10,00 | 20 %"
                                     for line in order.lines.order_by("index")),
              "customer": f"{order.customer_firstname} {order.customer_lastname}",
              "billing": f"{billing.get('street_1', '')}, {billing.get('zip_code', '')} {billing.get('city', '')}"}
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)
    for text in MENTIONS:
        line = text.format(**values).encode("latin-1", "replace").decode("latin-1")
        pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


@pytest.fixture(autouse=True)
def document_storage(settings: Any, tmp_path: Path) -> None:
    settings.STORAGES = {**settings.STORAGES, "documents": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}}}


def test_upload_an_incomplete_invoice_then_generate_one_the_customer_downloads(new_page, tmp_path) -> None:  # type: ignore[no-untyped-def]
    shop = _legal(ShopFactory(id=2001, name="Boutique Lumière"))
    make_seller(shop, "anne@lumiere.test")
    order = make_order(OrderState.SHIPPED, shop=shop)
    page = new_page()
    login(page, "/vendeur/connexion/", "anne@lumiere.test")
    page.goto(f"/vendeur/commandes/{order.order_id}/")
    page.get_by_role("tab", name="Documents").click()

    # Documents > Envoyer un document > Type de document > Facture.
    page.get_by_label("Type de document").select_option(label="Facture")
    page.get_by_label("Document", exact=True).set_input_files(
        {"name": "facture-vendeur.pdf", "mimeType": "application/pdf", "buffer": seller_invoice(order)})
    page.get_by_role("button", name="Envoyer le document").click()
    report = page.locator("#check-report")
    expect(report.get_by_role("heading")).to_contain_text("facture-vendeur.pdf")
    missing = report.locator('li[data-status="missing"]')
    expect(missing).to_have_count(2)
    assert sorted(missing.nth(i).get_attribute("data-mention") for i in range(2)) == [
        "legal_warranty", "seller_rcs"]
    expect(report.locator('li[data-mention="seller_rcs"]')).to_contain_text("manquante")
    expect(report.locator('li[data-mention="legal_warranty"]')).to_contain_text("manquante")
    expect(report.locator('li[data-mention="seller_vat_number"]')).to_have_attribute("data-status", "found")

    # Delete it and generate a compliant one instead.
    rows = page.locator("table.documents tbody tr")
    rows.filter(has_text="facture-vendeur.pdf").get_by_role("button", name="Supprimer").click()
    expect(page.locator(".flash-success")).to_contain_text("Document supprimé.")
    expect(page.get_by_text("Aucun document pour l'instant.")).to_be_visible()
    page.get_by_role("button", name="Générer la facture").click()
    number = f"FA-{shop.id}-000001"
    expect(page.locator(".flash-success").first).to_contain_text(f"Facture n° {number} émise")
    expect(page.locator("#check-report .flash")).to_have_class("flash flash-success")
    expect(page.locator('#check-report li[data-status="missing"]')).to_have_count(0)
    expect(rows).to_have_count(1)
    expect(page.get_by_role("button", name="Générer la facture")).to_have_count(0)
    assert OrderDocument.objects.get().generated

    # The customer downloads it from the customer space: a PDF with its Factur-X XML embedded.
    customer = new_page()
    customer.goto(customer_path(order))
    with customer.expect_download() as info:
        customer.get_by_role("link", name=f"Télécharger la facture n° {number}").click()
    download = info.value
    assert download.suggested_filename == f"facture-{number}.pdf"
    data = Path(download.path()).read_bytes()
    assert data.startswith(b"%PDF")
    xml_name, xml = get_facturx_xml_from_pdf(data, check_xsd=False)
    assert xml_name == "factur-x.xml" and number.encode() in xml
    assert xml_check_xsd(xml, flavor="factur-x", level="en16931")
