"""The invoice checker on PDFs made here: every mention found, two missing, hostile files, Factur-X round trip."""

from __future__ import annotations

import zlib
from datetime import date
from decimal import Decimal

import facturx
import pytest

from comptoir.documents import checker, invoicing
from comptoir.documents.mentions import MISMATCH, MISSING, Expectations
from tests.unit.documents.pdfs import invoice_pdf, png_bytes

EXPECT = Expectations(
    legal_name="Boutique Lumière SARL", legal_form="SARL", identification_number="123456789",
    vat_number="FR12123456789", head_office_zip_code="75002", head_office_city="Paris",
    customer_service_email="sav@lumiere.test", producer_registration_number="FR123456_01ABCD",
    customer_firstname="Jeanne", customer_lastname="Martin", billing_street="12 rue des Lilas",
    billing_zip_code="69003", billing_city="Lyon", total_incl_tax_cents=4490, shipping_cents=490,
    product_titles=("Lampe de bureau",),
)


def _statuses(report: dict) -> dict[str, str]:
    return {m["key"]: m["status"] for m in report["mentions"]}


def test_an_invoice_with_every_mention_is_complete() -> None:
    report = checker.check_invoice(invoice_pdf("44,90", products=("Lampe de bureau",)), "application/pdf", EXPECT)
    assert report["status"] == "COMPLETE", report["problems"]


def test_two_missing_mentions_are_listed_and_only_them() -> None:
    pdf = invoice_pdf("44,90", products=("Lampe de bureau",), without=("seller_rcs", "legal_warranty"))
    report = checker.check_invoice(pdf, "application/pdf", EXPECT)
    assert report["status"] == "INCOMPLETE"
    assert [k for k, s in _statuses(report).items() if s == MISSING] == ["seller_rcs", "legal_warranty"]
    assert report["problems"] == ["Numéro RCS", "Durée de garantie"]


@pytest.mark.parametrize("key", ["seller_vat_number", "invoice_number", "invoice_sale_date", "customer_name",
                                 "customer_billing_address", "legal_eco_participation",
                                 "legal_producer_registration", "legal_customer_service_email",
                                 "invoice_total_vat", "invoice_total_excl_tax", "invoice_shipping"])
def test_each_mention_removed_is_reported_missing(key: str) -> None:
    report = checker.check_invoice(invoice_pdf("44,90", products=("Lampe de bureau",), without=(key,)),
                                   "application/pdf", EXPECT)
    assert _statuses(report)[key] == MISSING


def test_a_total_that_is_not_the_orders_is_a_mismatch() -> None:
    report = checker.check_invoice(invoice_pdf("99,90", products=("Lampe de bureau",)), "application/pdf", EXPECT)
    assert _statuses(report)["invoice_total_incl_tax"] == MISMATCH


def test_a_product_of_the_order_absent_from_the_invoice_is_missing() -> None:
    report = checker.check_invoice(invoice_pdf("44,90", products=("Autre chose",)), "application/pdf", EXPECT)
    assert _statuses(report)["invoice_products"] == MISSING


@pytest.mark.parametrize("data", [
    b"%PDF-1.4\n1 0 obj << /Type /Catalog",  # truncated
    b"%PDF-1.7\n" + b"\x00\xff" * 5000,  # garbage after the header
    b"%PDF-1.4\n1 0 obj <</Length 99999999 /Filter /FlateDecode>> stream\n" + zlib.compress(b"\x00" * 20_000_000)
    + b"\nendstream endobj trailer <</Root 1 0 R>> %%EOF",  # a compression bomb-ish stream
])
def test_hostile_pdfs_are_reported_unreadable_never_raised(data: bytes) -> None:
    report = checker.check_invoice(data, "application/pdf", EXPECT)
    assert report["status"] == "UNREADABLE"
    assert "illisible" in report["message"].lower()


def test_an_image_invoice_cannot_be_checked() -> None:
    report = checker.check_invoice(png_bytes(), "image/png", EXPECT)
    assert report["status"] == "UNREADABLE" and "image" in report["reason"]


def _data(**changes: object) -> invoicing.InvoiceData:
    seller = invoicing.Party("Boutique Lumière SARL", "1 rue de la Paix", "75002", "Paris", "FR", "123456789",
                             "Paris B 123 456 789", "SARL", "10 000 €", "FR12123456789", "sav@lumiere.test")
    data = invoicing.InvoiceData(
        number="FA-1-000001", issue_date=date(2025, 3, 12), sale_date=date(2025, 3, 10), seller=seller,
        buyer=invoicing.Party("Jeanne Martin", "12 rue des Lilas", "69003", "Lyon"),
        lines=(invoicing.Line("Lampe de bureau", "SKU-1", 2, 3333, 667, Decimal("20.0000"), 100),),
        charges=(invoicing.Charge(408, 82, Decimal("20.0000")),), order_id="T1-A",
        producer_registration_number="FR123456_01ABCD", customer_service_email="sav@lumiere.test",
        warranty_duration="2 ans")
    return invoicing.InvoiceData(**{**{f: getattr(data, f) for f in data.__dataclass_fields__}, **changes})


def test_round_trip_generated_invoice_passes_the_xsd_and_every_mention() -> None:
    pdf, xml = invoicing.generate(_data())
    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")
    _name, embedded = facturx.get_xml_from_pdf(pdf, check_xsd=True)
    assert embedded == xml
    report = checker.check_invoice(pdf, "application/pdf", EXPECT)
    assert report["status"] == "COMPLETE", report["problems"]
    assert report["facturx"] == {"present": True, "level": "en16931", "valid": True, "errors": ""}


def test_round_trip_credit_note() -> None:
    pdf, xml = invoicing.generate(_data(number="AV-1-000001", credit_note=True, preceding_number="FA-1-000001",
                                        preceding_date=date(2025, 3, 12), charges=()))
    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")
    assert b"<ram:TypeCode>381</ram:TypeCode>" in xml


def test_an_embedded_xml_that_does_not_match_the_pdf_is_reported() -> None:
    good = _data()
    xml = invoicing.cii_xml(invoicing.InvoiceData(**{**{f: getattr(good, f) for f in good.__dataclass_fields__},
                                                     "number": "FA-OTHER-9"}))
    pdf = facturx.generate_from_binary(invoicing.visible_pdf(good), xml, flavor="factur-x", level="en16931")
    report = checker.check_invoice(pdf, "application/pdf", EXPECT)
    consistency = next(m for m in report["mentions"] if m["key"] == "facturx_consistency")
    assert consistency["status"] == MISMATCH and "FA-OTHER-9" in consistency["detail"]
