"""Pure: an invoice or credit note as data → a Factur-X PDF (PDF/A-3 with its CII XML, EN 16931 profile).

The visible PDF is drawn with fpdf2 (embedded DejaVu font when the system has it, an sRGB output intent),
the CII XML is written here and checked against the library's XSD, and `facturx.generate_from_binary`
attaches it with the PDF/A-3 metadata. No database here: documents.services builds `InvoiceData`; the
operator's commission invoice to a shop (business to business) is `commission_invoice`, through the same code.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import facturx
from fpdf import FPDF
from fpdf.enums import OutputIntentSubType
from fpdf.output import PDFICCProfile
from lxml import etree

LEVEL = "en16931"
INVOICE_TYPE_CODE = "380"
CREDIT_NOTE_TYPE_CODE = "381"
_RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
_RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
_UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
_QDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
_FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu")
# ISO 3166 alpha-3 (Comptoir's addresses, as Mirakl's) → alpha-2 (EN 16931).
_ALPHA2 = {"FRA": "FR", "BEL": "BE", "DEU": "DE", "ESP": "ES", "ITA": "IT", "LUX": "LU", "CHE": "CH", "NLD": "NL",
           "PRT": "PT", "MCO": "MC", "AUT": "AT", "IRL": "IE", "GBR": "GB", "POL": "PL", "SWE": "SE", "DNK": "DK"}


def alpha2(code: str) -> str:
    code = (code or "").strip().upper()
    return code if len(code) == 2 else _ALPHA2.get(code, "FR")


@dataclass(frozen=True, slots=True)
class Party:
    name: str
    street: str = ""
    zip_code: str = ""
    city: str = ""
    country: str = "FR"  # alpha-2
    legal_id: str = ""  # SIREN (9 digits) or SIRET (14)
    rcs: str = ""
    legal_form: str = ""
    share_capital: str = ""
    vat_number: str = ""
    email: str = ""


@dataclass(frozen=True, slots=True)
class Line:
    title: str
    sku: str
    quantity: int
    net_cents: int  # excluding tax, for the whole quantity
    tax_cents: int
    rate: Decimal  # 20.0000
    eco_cents: int = 0  # eco-participation included, for the whole quantity


@dataclass(frozen=True, slots=True)
class Charge:
    """Shipping billed, excluding tax, at one VAT rate."""

    net_cents: int
    tax_cents: int
    rate: Decimal


@dataclass(frozen=True, slots=True)
class InvoiceData:
    number: str
    issue_date: date
    sale_date: date
    seller: Party
    buyer: Party
    lines: tuple[Line, ...]
    charges: tuple[Charge, ...] = ()
    ship_to: Party | None = None
    currency: str = "EUR"
    order_id: str = ""
    credit_note: bool = False
    preceding_number: str = ""  # the invoice a credit note corrects
    preceding_date: date | None = None
    producer_registration_number: str = ""
    customer_service_email: str = ""
    warranty_duration: str = ""
    reason: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)
    # Business to business (the operator's commission invoice): the buyer's SIREN and VAT number are written,
    # the consumer mentions (eco-participation, warranty, shipping) left out, the VAT computed on each rate's
    # total (EN 16931 BR-CO-17).
    b2b: bool = False
    title: str = ""  # "Facture" or "Avoir" when empty
    payment_terms: str = "Payée à la commande."


@dataclass(frozen=True, slots=True)
class Totals:
    line_total: int
    charge_total: int
    tax_basis: int
    tax_total: int
    grand_total: int
    eco_total: int
    by_rate: tuple[tuple[Decimal, int, int], ...]  # (rate, basis, vat)


def vat_of(basis_cents: int, rate: Decimal) -> int:
    return int((Decimal(basis_cents) * Decimal(rate) / 100).quantize(Decimal("1"), ROUND_HALF_UP))


def totals(data: InvoiceData) -> Totals:
    groups: dict[Decimal, list[int]] = defaultdict(lambda: [0, 0])
    for item in (*data.lines, *data.charges):
        groups[item.rate][0] += item.net_cents
        groups[item.rate][1] += item.tax_cents
    if data.b2b:
        for rate, group in groups.items():
            group[1] = vat_of(group[0], rate)
    line_total = sum(line.net_cents for line in data.lines)
    charge_total = sum(charge.net_cents for charge in data.charges)
    tax_total = sum(vat for _, vat in groups.values())
    return Totals(line_total, charge_total, line_total + charge_total, tax_total,
                  line_total + charge_total + tax_total, sum(line.eco_cents for line in data.lines),
                  tuple((rate, basis, vat) for rate, (basis, vat) in sorted(groups.items())))


def _amount(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def _rate(rate: Decimal) -> str:
    return str(Decimal(rate).quantize(Decimal("0.01")))


def unit_price(line: Line) -> Decimal:
    # A negative line (commission given back) is a negative quantity at a positive price (EN 16931 BR-27).
    return (Decimal(line.net_cents) / 100 / (line.quantity or 1)).quantize(Decimal("0.0001"), ROUND_HALF_UP)


def legal_notes(data: InvoiceData, t: Totals) -> list[str]:
    """The guide's legal mentions, printed on the PDF and written as notes (BT-22) in the XML."""
    if data.b2b:
        return list(data.notes)
    notes = [f"Éco-participation incluse : {euros(t.eco_total, data.currency)}."]
    if data.producer_registration_number:
        notes.append(f"Numéro d'enregistrement au registre des producteurs : {data.producer_registration_number}.")
    if data.customer_service_email:
        notes.append(f"Service client : {data.customer_service_email}.")
    warranty = data.warranty_duration or "2 ans"
    notes.append(f"Durée de garantie : {warranty} (garantie légale de conformité de 2 ans).")
    return [*notes, *data.notes]


def euros(cents: int, currency: str = "EUR") -> str:
    sign = "-" if cents < 0 else ""
    units = f"{abs(cents) // 100:,}".replace(",", " ")
    symbol = "€" if currency == "EUR" else currency
    return f"{sign}{units},{abs(cents) % 100:02d} {symbol}"


def _sub(parent: etree._Element, tag: str, text: str | None = None, ns: str = _RAM,
         **attrs: str) -> etree._Element:
    node = etree.SubElement(parent, f"{{{ns}}}{tag}", **attrs)
    if text is not None:
        node.text = text
    return node


def _date(parent: etree._Element, tag: str, value: date) -> None:
    _sub(_sub(parent, tag), "DateTimeString", value.strftime("%Y%m%d"), ns=_UDT, format="102")


def _party(parent: etree._Element, tag: str, party: Party, *, seller: bool = False, ids: bool = False) -> None:
    node = _sub(parent, tag)
    _sub(node, "Name", party.name)
    if seller:
        description = ", ".join(x for x in (party.legal_form, f"au capital de {party.share_capital}"
                                            if party.share_capital else "", f"RCS {party.rcs}" if party.rcs else "") if x)
        if description:
            _sub(node, "Description", description)
    if (seller or ids) and party.legal_id:
        digits = "".join(ch for ch in party.legal_id if ch.isdigit())
        organization = _sub(node, "SpecifiedLegalOrganization")
        _sub(organization, "ID", digits, schemeID="0009" if len(digits) == 14 else "0002")
    address = _sub(node, "PostalTradeAddress")
    if party.zip_code:
        _sub(address, "PostcodeCode", party.zip_code)
    if party.street:
        _sub(address, "LineOne", party.street)
    if party.city:
        _sub(address, "CityName", party.city)
    _sub(address, "CountryID", party.country or "FR")
    if party.email:
        _sub(_sub(node, "URIUniversalCommunication"), "URIID", party.email, schemeID="EM")
    if (seller or ids) and party.vat_number:
        _sub(_sub(node, "SpecifiedTaxRegistration"), "ID", party.vat_number.replace(" ", ""), schemeID="VA")


def _category(rate: Decimal) -> str:
    return "S" if rate > 0 else "Z"


def cii_xml(data: InvoiceData) -> bytes:
    """The CII XML, EN 16931 profile (Factur-X 1.0)."""
    t = totals(data)
    nsmap = {"rsm": _RSM, "ram": _RAM, "udt": _UDT, "qdt": _QDT}
    root = etree.Element(f"{{{_RSM}}}CrossIndustryInvoice", nsmap=nsmap)
    context = _sub(root, "ExchangedDocumentContext", ns=_RSM)
    _sub(_sub(context, "GuidelineSpecifiedDocumentContextParameter"), "ID", "urn:cen.eu:en16931:2017")
    document = _sub(root, "ExchangedDocument", ns=_RSM)
    _sub(document, "ID", data.number)
    _sub(document, "TypeCode", CREDIT_NOTE_TYPE_CODE if data.credit_note else INVOICE_TYPE_CODE)
    _date(document, "IssueDateTime", data.issue_date)
    for text in legal_notes(data, t):
        note = _sub(document, "IncludedNote")
        _sub(note, "Content", text)
    transaction = _sub(root, "SupplyChainTradeTransaction", ns=_RSM)
    for index, line in enumerate(data.lines, start=1):
        item = _sub(transaction, "IncludedSupplyChainTradeLineItem")
        _sub(_sub(item, "AssociatedDocumentLineDocument"), "LineID", str(index))
        product = _sub(item, "SpecifiedTradeProduct")
        if line.sku:
            _sub(product, "SellerAssignedID", line.sku)
        _sub(product, "Name", line.title)
        agreement = _sub(item, "SpecifiedLineTradeAgreement")
        _sub(_sub(agreement, "NetPriceProductTradePrice"), "ChargeAmount", str(unit_price(line)))
        _sub(_sub(item, "SpecifiedLineTradeDelivery"), "BilledQuantity", str(line.quantity), unitCode="C62")
        settlement = _sub(item, "SpecifiedLineTradeSettlement")
        tax = _sub(settlement, "ApplicableTradeTax")
        _sub(tax, "TypeCode", "VAT")
        _sub(tax, "CategoryCode", _category(line.rate))
        _sub(tax, "RateApplicablePercent", _rate(line.rate))
        _sub(_sub(settlement, "SpecifiedTradeSettlementLineMonetarySummation"), "LineTotalAmount",
             _amount(line.net_cents))
    agreement = _sub(transaction, "ApplicableHeaderTradeAgreement")
    _party(agreement, "SellerTradeParty", data.seller, seller=True)
    _party(agreement, "BuyerTradeParty", data.buyer, ids=data.b2b)
    if data.order_id:
        _sub(_sub(agreement, "BuyerOrderReferencedDocument"), "IssuerAssignedID", data.order_id)
    delivery = _sub(transaction, "ApplicableHeaderTradeDelivery")
    if data.ship_to is not None:
        _party(delivery, "ShipToTradeParty", data.ship_to)
    _date(_sub(delivery, "ActualDeliverySupplyChainEvent"), "OccurrenceDateTime", data.sale_date)
    settlement = _sub(transaction, "ApplicableHeaderTradeSettlement")
    _sub(settlement, "InvoiceCurrencyCode", data.currency)
    for rate, basis, vat in t.by_rate:
        tax = _sub(settlement, "ApplicableTradeTax")
        _sub(tax, "CalculatedAmount", _amount(vat))
        _sub(tax, "TypeCode", "VAT")
        _sub(tax, "BasisAmount", _amount(basis))
        _sub(tax, "CategoryCode", _category(rate))
        _sub(tax, "RateApplicablePercent", _rate(rate))
    for charge in data.charges:
        node = _sub(settlement, "SpecifiedTradeAllowanceCharge")
        _sub(_sub(node, "ChargeIndicator"), "Indicator", "true", ns=_UDT)
        _sub(node, "ActualAmount", _amount(charge.net_cents))
        _sub(node, "Reason", "Frais de port")
        tax = _sub(node, "CategoryTradeTax")
        _sub(tax, "TypeCode", "VAT")
        _sub(tax, "CategoryCode", _category(charge.rate))
        _sub(tax, "RateApplicablePercent", _rate(charge.rate))
    if not data.credit_note and data.payment_terms:
        _sub(_sub(settlement, "SpecifiedTradePaymentTerms"), "Description", data.payment_terms)
    summation = _sub(settlement, "SpecifiedTradeSettlementHeaderMonetarySummation")
    _sub(summation, "LineTotalAmount", _amount(t.line_total))
    _sub(summation, "ChargeTotalAmount", _amount(t.charge_total))
    _sub(summation, "AllowanceTotalAmount", "0.00")
    _sub(summation, "TaxBasisTotalAmount", _amount(t.tax_basis))
    _sub(summation, "TaxTotalAmount", _amount(t.tax_total), currencyID=data.currency)
    _sub(summation, "GrandTotalAmount", _amount(t.grand_total))
    _sub(summation, "TotalPrepaidAmount", _amount(t.grand_total))
    _sub(summation, "DuePayableAmount", "0.00")
    if data.preceding_number:
        referenced = _sub(settlement, "InvoiceReferencedDocument")
        _sub(referenced, "IssuerAssignedID", data.preceding_number)
        if data.preceding_date:
            _sub(_sub(referenced, "FormattedIssueDateTime"), "DateTimeString",
                 data.preceding_date.strftime("%Y%m%d"), ns=_QDT, format="102")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


class _Pdf(FPDF):
    def __init__(self) -> None:
        super().__init__(format="A4")
        self.font_name = "Helvetica"
        for folder in _FONT_DIRS:
            regular, bold = Path(folder) / "DejaVuSans.ttf", Path(folder) / "DejaVuSans-Bold.ttf"
            if regular.exists() and bold.exists():
                self.add_font("DejaVu", "", str(regular))
                self.add_font("DejaVu", "B", str(bold))
                self.font_name = "DejaVu"
                break

    def text_of(self, value: str) -> str:
        if self.font_name == "DejaVu":
            return value
        # The PDF core fonts are Latin-1: typographic signs become plain ones, € becomes EUR.
        value = value.replace("€", "EUR").replace("’", "'").replace("\u202f", " ")
        return value.encode("latin-1", "replace").decode("latin-1")

    def put(self, value: str, *, size: float = 9, bold: bool = False, width: float = 0, align: str = "L",
            height: float = 5) -> None:
        self.set_font(self.font_name, "B" if bold else "", size)
        self.multi_cell(width or self.epw, height, self.text_of(value), align=align,
                        new_x="LMARGIN" if not width else "RIGHT", new_y="NEXT" if not width else "TOP")


def _srgb_profile() -> PDFICCProfile:
    from PIL import ImageCms  # Pillow comes with fpdf2

    return PDFICCProfile(contents=ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes(), n=3,
                         alternate="DeviceRGB")


def visible_pdf(data: InvoiceData) -> bytes:
    """The human-readable invoice: every mention of the seller guide, with the words the checker looks for."""
    t = totals(data)
    pdf = _Pdf()
    kind = data.title or ("Avoir" if data.credit_note else "Facture")
    pdf.set_title(f"{kind} {data.number}")
    pdf.set_author(data.seller.name)
    pdf.set_creator("Comptoir")
    pdf.set_lang("fr-FR")
    pdf.add_output_intent(OutputIntentSubType.PDFA, "sRGB", registry_name="http://www.color.org",
                          dest_output_profile=_srgb_profile(), info="sRGB IEC61966-2.1")
    pdf.add_page()
    s = data.seller
    pdf.put(f"{kind} n° {data.number}", size=16, bold=True)
    pdf.put(f"Date de {'l’avoir' if data.credit_note else 'facture'} : {data.issue_date:%d/%m/%Y}")
    pdf.put(f"Date de {'la prestation' if data.b2b else 'la vente'} : {data.sale_date:%d/%m/%Y}")
    if data.order_id:
        pdf.put(f"Commande : {data.order_id}")
    if data.preceding_number:
        suffix = f" du {data.preceding_date:%d/%m/%Y}" if data.preceding_date else ""
        pdf.put(f"Avoir sur la facture n° {data.preceding_number}{suffix}" + (f" — {data.reason}" if data.reason else ""))
    pdf.ln(3)
    pdf.put("Vendeur", bold=True)
    pdf.put(s.name)
    pdf.put(f"Siège social : {s.street}, {s.zip_code} {s.city}")
    identity = [f"{s.legal_form} au capital de {s.share_capital}" if s.share_capital else s.legal_form,
                f"SIREN {s.legal_id}" if len("".join(c for c in s.legal_id if c.isdigit())) == 9 else
                f"SIRET {s.legal_id}", f"RCS {s.rcs}" if s.rcs else "", f"N° TVA intracommunautaire : {s.vat_number}"]
    pdf.put(" · ".join(x for x in identity if x))
    pdf.ln(3)
    pdf.put("Client", bold=True)
    b = data.buyer
    pdf.put(f"{b.name}\nAdresse de facturation : {b.street}, {b.zip_code} {b.city}")
    if data.b2b:
        pdf.put(" · ".join(x for x in (f"SIREN/SIRET {b.legal_id}" if b.legal_id else "",
                                       f"N° TVA intracommunautaire : {b.vat_number}" if b.vat_number else "") if x))
    if data.ship_to is not None:
        d = data.ship_to
        pdf.put(f"Adresse de livraison : {d.name}, {d.street}, {d.zip_code} {d.city}")
    pdf.ln(3)
    widths = (56, 20, 40, 20, 34)
    headers = ("Désignation", "Quantité", "Prix unitaire HT", "TVA", "Total HT")
    for width, header in zip(widths, headers, strict=True):
        pdf.put(header, bold=True, width=width, align="L" if header == "Désignation" else "R")
    pdf.ln(6)
    for line in data.lines:
        pdf.put(f"{line.title} ({line.sku})" if line.sku else line.title)
        values = ("", str(line.quantity),
                  euros(int((unit_price(line) * 100).quantize(Decimal("1"), ROUND_HALF_UP)), data.currency),
                  f"{_rate(line.rate).replace('.', ',')} %", euros(line.net_cents, data.currency))
        for width, value in zip(widths, values, strict=True):
            pdf.put(value, width=width, align="R")
        pdf.ln(6)
        if line.eco_cents:
            pdf.put(f"    dont éco-participation : {euros(line.eco_cents, data.currency)}", size=8)
    for charge in data.charges:
        pdf.put(f"Frais de port : {euros(charge.net_cents, data.currency)} HT "
                f"(TVA {_rate(charge.rate).replace('.', ',')} %)")
    if not data.charges and not data.b2b:
        pdf.put("Frais de port : 0,00 €")
    pdf.ln(2)
    for rate, basis, vat in t.by_rate:
        pdf.put(f"TVA {_rate(rate).replace('.', ',')} % sur {euros(basis, data.currency)} : "
                f"{euros(vat, data.currency)}", align="R")
    pdf.put(f"Total HT : {euros(t.tax_basis, data.currency)}", align="R", bold=True)
    pdf.put(f"Total TVA : {euros(t.tax_total, data.currency)}", align="R", bold=True)
    pdf.put(f"Total TTC : {euros(t.grand_total, data.currency)}", align="R", bold=True, size=11)
    pdf.put(data.payment_terms if not data.credit_note else "Remboursé au client.", align="R")
    pdf.ln(4)
    pdf.put("Mentions légales", bold=True)
    for note in legal_notes(data, t):
        pdf.put(note, size=8, height=4)
    return bytes(pdf.output())


def generate(data: InvoiceData) -> tuple[bytes, bytes]:
    """(Factur-X PDF, its XML). Raises if the XML fails the Factur-X XSD: never issue a non-conforming one."""
    xml = cii_xml(data)
    facturx.xml_check_xsd(xml, flavor="factur-x", level=LEVEL)
    kind = data.title or ("Avoir" if data.credit_note else "Facture")
    metadata = {"author": data.seller.name, "keywords": "Factur-X", "title": f"{kind} {data.number}",
                "subject": f"{kind} {data.number} — {data.seller.name}"}
    pdf = facturx.generate_from_binary(visible_pdf(data), xml, flavor="factur-x", level=LEVEL, check_xsd=True,
                                       pdf_metadata=metadata, lang="fr-FR")
    return pdf, xml


def commission_invoice(*, number: str, issue_date: date, period_end: date, operator: Party, shop: Party,
                       fees_by_order: tuple[tuple[str, int], ...], vat_rate: Decimal, payout_id: int,
                       currency: str = "EUR") -> InvoiceData:
    """The operator's invoice to a shop for the commission of one payout: one line per order (its fee, excl.
    tax; negative when commission was given back on a refund), VAT at `vat_rate` on the total."""
    lines = tuple(Line(f"Commission sur la commande {order_id}", "", -1 if fee < 0 else 1, fee,
                       vat_of(fee, vat_rate), vat_rate) for order_id, fee in fees_by_order)
    return InvoiceData(
        number=number, issue_date=issue_date, sale_date=period_end, seller=operator, buyer=shop, lines=lines,
        currency=currency, b2b=True, title="Facture de commission",
        payment_terms=f"Acquittée par compensation sur le versement n° {payout_id}.",
        notes=(f"Commissions de la place de marché devenues définitives, versement n° {payout_id}.",
               "Pas d'escompte pour paiement anticipé. Pénalités de retard : trois fois le taux d'intérêt légal. "
               "Indemnité forfaitaire pour frais de recouvrement : 40 €."))
