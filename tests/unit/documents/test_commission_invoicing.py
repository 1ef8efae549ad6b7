"""The operator's commission invoice to a shop, as data: B2B parties in the CII XML, VAT on the total, a
commission given back as a negative quantity; the XML passes the Factur-X EN 16931 schema."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import facturx

from comptoir.documents import invoicing

OPERATOR = invoicing.Party("Marché Démo SAS", "10 rue de la République", "75011", "Paris", "FR", "900000001",
                           "Paris B 900 000 001", "SAS", "50 000 €", "FR68900000001", "facturation@marche.test")
SHOP = invoicing.Party("Boutique Lumière SARL", "1 rue de la Paix", "75002", "Paris", "FR", "123456782",
                       vat_number="FR11123456782", email="sav@lumiere.test")


def _invoice(*fees: tuple[str, int]) -> invoicing.InvoiceData:
    return invoicing.commission_invoice(
        number="COM-000001", issue_date=date(2026, 3, 2), period_end=date(2026, 3, 2), operator=OPERATOR,
        shop=SHOP, fees_by_order=fees, vat_rate=Decimal("20.0000"), payout_id=7)


def test_the_vat_is_twenty_percent_of_the_commission_total_not_the_sum_of_rounded_lines() -> None:
    # 3 × 0,33 € = 0,99 €: per line 0,066 → 0,07 each (0,21 €), on the total 0,198 → 0,20 €.
    t = invoicing.totals(_invoice(("A", 33), ("B", 33), ("C", 33)))

    assert (t.tax_basis, t.tax_total, t.grand_total) == (99, 20, 119)


def test_the_xml_names_both_companies_with_their_siren_and_vat_numbers_and_passes_the_schema() -> None:
    pdf, xml = invoicing.generate(_invoice(("T1-A", 398), ("T2-A", 249)))

    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")
    _name, embedded = facturx.get_xml_from_pdf(pdf, check_xsd=True)
    assert embedded == xml
    text = xml.decode()
    buyer = text[text.index("<ram:BuyerTradeParty>"):text.index("</ram:BuyerTradeParty>")]
    assert '<ram:ID schemeID="0002">123456782</ram:ID>' in buyer and ">FR11123456782<" in buyer
    assert ">FR68900000001<" in text and ">900000001<" in text
    assert "<ram:TaxBasisTotalAmount>6.47</ram:TaxBasisTotalAmount>" in text
    assert '<ram:TaxTotalAmount currencyID="EUR">1.29</ram:TaxTotalAmount>' in text
    assert "<ram:GrandTotalAmount>7.76</ram:GrandTotalAmount>" in text
    assert "versement n° 7" in text
    assert "Éco-participation" not in text  # consumer mentions stay on consumer invoices


def test_a_commission_given_back_is_a_negative_quantity_at_a_positive_price() -> None:
    data = _invoice(("T1-A", 398), ("T0-A", -149))
    _pdf, xml = invoicing.generate(data)

    text = xml.decode()
    assert '<ram:BilledQuantity unitCode="C62">-1</ram:BilledQuantity>' in text
    assert "<ram:ChargeAmount>1.4900</ram:ChargeAmount>" in text and "<ram:LineTotalAmount>-1.49" in text
    assert invoicing.totals(data).tax_basis == 249
