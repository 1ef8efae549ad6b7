"""At each payout the operator invoices every paid shop for the commission that became final since its last
invoice: one Factur-X invoice per shop, numbered COM-NNNNNN without gaps, downloadable by that shop only.

Hand-computed from make_order(RECEIVED): lines of 10,00 € and 20,00 €, 4,90 € shipping each, 10 % commission
on price and shipping: 1,49 € + 2,49 € = 3,98 € per order, VAT 20 % = 0,80 €, 4,78 € incl. tax."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import facturx
import pytest
from django.test import Client

from comptoir.documents import queries
from comptoir.documents.models import ShopDocument
from comptoir.ledger import services as ledger_services
from comptoir.orders.states import OrderState
from comptoir.refunds.services import LineRequest, refund_lines
from comptoir.shops.models import Shop
from tests.factories import SELLER, ShopFactory, make_order
from tests.web_factories import make_operator, make_seller

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def document_storage(settings: Any, tmp_path: Path) -> Path:
    settings.STORAGES = {**settings.STORAGES, "documents": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}}}
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return tmp_path


@pytest.fixture
def shop() -> Shop:
    return ShopFactory(id=4101, name="Boutique Lumière", legal_name="Lumière SARL", identification_number="123456782",
                       vat_number="FR11123456782", head_office_street="1 rue de la Paix",
                       head_office_zip_code="75002", head_office_city="Paris")


@pytest.fixture
def other_shop() -> Shop:
    return ShopFactory(id=4102, name="Boutique Voisine")


def _lines(document: ShopDocument) -> dict[str, tuple[int, int]]:
    return {line.order_id: (line.fee_cents, line.vat_cents) for line in document.lines.all()}


def test_a_payout_issues_one_invoice_per_paid_shop_with_the_hand_computed_totals(shop: Shop,
                                                                                  other_shop: Shop) -> None:
    first, second = make_order(OrderState.RECEIVED, shop=shop), make_order(OrderState.RECEIVED, shop=shop)
    neighbour = make_order(OrderState.RECEIVED, shop=other_shop)
    make_order(OrderState.SHIPPED, shop=shop)  # not received: its commission is not final yet

    payout = ledger_services.run_payout(by="tests")

    mine, theirs = ShopDocument.objects.filter(payout=payout).order_by("shop_id")
    assert (mine.shop_id, mine.number, mine.net_cents, mine.tax_cents, mine.total_cents) == (
        shop.id, "COM-000001", 796, 159, 955)  # 7,96 € × 20 % = 1,592 → 1,59 €
    assert _lines(mine) == {first.order_id: (398, 80), second.order_id: (398, 80)}
    assert (theirs.shop_id, theirs.number, theirs.net_cents, theirs.tax_cents, theirs.total_cents) == (
        other_shop.id, "COM-000002", 398, 80, 478)
    assert _lines(theirs) == {neighbour.order_id: (398, 80)}


def test_the_pdf_is_factur_x_with_an_xml_passing_the_schema_operator_selling_to_the_shop(shop: Shop) -> None:
    make_order(OrderState.RECEIVED, shop=shop)

    payout = ledger_services.run_payout(by="tests")

    document = ShopDocument.objects.get(payout=payout)
    _name, xml = facturx.get_xml_from_pdf(queries.read_bytes(document), check_xsd=True)
    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")
    text = xml.decode()
    seller = text[text.index("<ram:SellerTradeParty>"):text.index("</ram:SellerTradeParty>")]
    buyer = text[text.index("<ram:BuyerTradeParty>"):text.index("</ram:BuyerTradeParty>")]
    assert "Marché Démo SAS" in seller and ">FR68900000001<" in seller
    assert "Lumière SARL" in buyer and ">123456782<" in buyer and ">FR11123456782<" in buyer
    assert "<ram:GrandTotalAmount>4.78</ram:GrandTotalAmount>" in text


def test_a_second_payout_invoices_only_the_new_commission_with_the_next_number(shop: Shop) -> None:
    make_order(OrderState.RECEIVED, shop=shop)
    ledger_services.run_payout(by="tests")
    later = make_order(OrderState.RECEIVED, shop=shop, lines=1)  # 10,00 € + 4,90 €: 1,49 € commission

    payout = ledger_services.run_payout(by="tests")

    document = ShopDocument.objects.get(payout=payout)
    assert (document.number, document.net_cents, document.tax_cents, document.total_cents) == (
        "COM-000002", 149, 30, 179)
    assert _lines(document) == {later.order_id: (149, 30)}


def test_commission_given_back_by_a_refund_is_netted_on_the_invoice(shop: Shop) -> None:
    kept, refunded = make_order(OrderState.RECEIVED, shop=shop), make_order(OrderState.RECEIVED, shop=shop)
    line = refunded.lines.order_by("index").first()
    refund_lines(requests=[LineRequest(line.line_id, "17")], who=SELLER, shop_id=shop.id)

    payout = ledger_services.run_payout(by="tests")

    document = ShopDocument.objects.get(payout=payout)
    assert _lines(document) == {kept.order_id: (398, 80), refunded.order_id: (249, 50)}
    assert (document.net_cents, document.tax_cents) == (647, 129)


def test_a_shop_paid_without_commission_gets_no_invoice_and_no_number_is_used(shop: Shop) -> None:
    free = ShopFactory(id=4100, name="Boutique sans commission", commission_rate=Decimal("0"))
    make_order(OrderState.RECEIVED, shop=free)
    make_order(OrderState.RECEIVED, shop=shop)

    payout = ledger_services.run_payout(by="tests")

    assert payout.shops_count == 2
    assert list(ShopDocument.objects.filter(payout=payout).values_list("shop_id", "number")) == [
        (shop.id, "COM-000001")]


def test_the_seller_downloads_its_invoice_from_comptabilite_and_another_shop_gets_a_404(shop: Shop,
                                                                                      other_shop: Shop) -> None:
    make_order(OrderState.RECEIVED, shop=shop)
    ledger_services.run_payout(by="tests")
    document = ShopDocument.objects.get()
    mine, theirs = Client(), Client()
    mine.force_login(make_seller(shop))
    theirs.force_login(make_seller(other_shop))
    url = f"/vendeur/comptabilite/factures/{document.id}/"

    page = mine.get("/vendeur/comptabilite/").content.decode()
    download = mine.get(url)
    stolen = theirs.get(url)

    assert url in page and "COM-000001" in page
    assert download.status_code == 200 and download.content.startswith(b"%PDF")
    assert 'filename="facture-commission-COM-000001.pdf"' in download["Content-Disposition"]
    assert stolen.status_code == 404
    assert url not in theirs.get("/vendeur/comptabilite/").content.decode()


def test_the_operator_payout_page_lists_each_shops_invoice(shop: Shop, other_shop: Shop) -> None:
    make_order(OrderState.RECEIVED, shop=shop)
    make_order(OrderState.RECEIVED, shop=other_shop)
    payout = ledger_services.run_payout(by="tests")
    client = Client()
    client.force_login(make_operator())

    page = client.get(f"/operateur/versements/{payout.id}/").content.decode()

    for document in ShopDocument.objects.filter(payout=payout):
        url = f"/operateur/versements/{payout.id}/factures/{document.id}/"
        assert url in page and document.number in page
        assert client.get(url).content.startswith(b"%PDF")
    assert client.get(f"/operateur/versements/{payout.id + 1}/factures/{document.id}/").status_code == 404
