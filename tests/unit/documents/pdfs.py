"""PDFs made in the tests: a seller's own invoice with or without each mandatory mention."""

from __future__ import annotations

from fpdf import FPDF

# Each mention as the line a seller's invoice prints for it (key → text).
FULL = {
    "seller_legal_name": "Boutique Lumière SARL",
    "seller_head_office": "Siège social : 1 rue de la Paix, 75002 Paris",
    "seller_identification": "SIREN 123 456 789",
    "seller_rcs": "RCS Paris B 123 456 789",
    "seller_legal_form_capital": "SARL au capital de 10 000 EUR",
    "seller_vat_number": "N° TVA intracommunautaire : FR12 123 456 789",
    "invoice_number": "Facture n° F2025-0042",
    "invoice_issue_date": "Date de facture : 12/03/2025",
    "invoice_sale_date": "Date de la vente : 10/03/2025",
    "invoice_lines": "Désignation | Quantité | Prix unitaire HT | TVA",
    "invoice_shipping": "Frais de port : 4,08",
    "invoice_total_excl_tax": "Total HT : 37,41",
    "invoice_total_vat": "Total TVA : 7,49",
    "invoice_total_incl_tax": "Total TTC : {total}",
    "customer_name": "Client : Jeanne Martin",
    "customer_billing_address": "Adresse de facturation : 12 rue des Lilas, 69003 Lyon",
    "legal_eco_participation": "Dont éco-participation : 0,50",
    "legal_producer_registration": "Registre des producteurs : FR123456_01ABCD",
    "legal_customer_service_email": "Service client : sav@lumiere.test",
    "legal_warranty": "Garantie : 2 ans",
}


def invoice_pdf(total: str, *, without: tuple[str, ...] = (), products: tuple[str, ...] = (),
                extra: tuple[str, ...] = ()) -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)
    lines = [text.format(total=total) for key, text in FULL.items() if key not in without]
    lines[lines.index(FULL["invoice_lines"]) + 1:1] = [f"{title} | 1 | 10,00 | 20 %" for title in products]
    for text in (*lines, *extra):
        pdf.cell(0, 6, text.encode("latin-1", "replace").decode("latin-1"), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def png_bytes() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(buffer, format="PNG")
    return buffer.getvalue()
