"""The invoice checker: reads an invoice's text (pypdf) and its embedded Factur-X XML (factur-x), and reports
every mandatory mention of the seller guide as found or missing (documents.mentions). Never raises: a
malformed or hostile file gives an « illisible » report."""

from __future__ import annotations

import logging
from io import BytesIO
from typing import Any

import facturx
from lxml import etree
from pypdf import PdfReader

from comptoir.documents import mentions
from comptoir.documents.mentions import Expectations, Facts

logger = logging.getLogger(__name__)

MAX_PAGES = 20  # an invoice is a few pages; a huge PDF is read only this far
MAX_TEXT_CHARS = 200_000
NS = {"rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
      "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
      "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"}
_SAFE_XML = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True)


class Unreadable(Exception):
    """The file could not be read (reason in French)."""


def pdf_text(data: bytes) -> str:
    """The text of the first pages, or Unreadable. pypdf caps what a compressed stream may inflate to."""
    try:
        reader = PdfReader(BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise Unreadable("PDF chiffré : le texte ne peut pas être lu")
        parts: list[str] = []
        for page in reader.pages[:MAX_PAGES]:
            parts.append(page.extract_text() or "")
            if sum(len(p) for p in parts) > MAX_TEXT_CHARS:
                break
    except Unreadable:
        raise
    except Exception as exc:  # noqa: BLE001 -- any failure of a hostile file is "illisible", never a crash
        logger.info("invoice checker: unreadable PDF (%s: %s)", type(exc).__name__, exc)
        raise Unreadable("PDF illisible ou endommagé") from None
    return "\n".join(parts)[:MAX_TEXT_CHARS]


def embedded_xml(data: bytes) -> bytes | None:
    """The Factur-X/ZUGFeRD XML attached to the PDF, if any (None also when the PDF cannot be searched)."""
    try:
        _name, xml = facturx.get_xml_from_pdf(data, check_xsd=False)
    except Exception as exc:  # noqa: BLE001 -- same: a broken attachment is reported, never raised
        logger.info("invoice checker: no readable Factur-X XML (%s)", type(exc).__name__)
        return None
    return xml or None


def _text(node: Any, path: str) -> str:
    found = node.xpath(path, namespaces=NS)
    if not found:
        return ""
    value = found[0]
    return (value if isinstance(value, str) else (value.text or "")).strip()


def read_facts(xml: bytes) -> tuple[Facts, Any]:
    """EN 16931 business terms read from CII XML; raises etree.XMLSyntaxError on non-XML."""
    root = etree.fromstring(xml, _SAFE_XML)
    agreement = "//ram:ApplicableHeaderTradeAgreement"
    seller = f"{agreement}/ram:SellerTradeParty"
    buyer = f"{agreement}/ram:BuyerTradeParty"
    summation = "//ram:SpecifiedTradeSettlementHeaderMonetarySummation"
    lines = root.xpath("//ram:IncludedSupplyChainTradeLineItem", namespaces=NS)
    facts = Facts(
        number=_text(root, "/rsm:CrossIndustryInvoice/rsm:ExchangedDocument/ram:ID"),
        issue_date=_text(root, "/rsm:CrossIndustryInvoice/rsm:ExchangedDocument/ram:IssueDateTime/udt:DateTimeString"),
        delivery_date=_text(root, "//ram:ActualDeliverySupplyChainEvent/ram:OccurrenceDateTime/udt:DateTimeString"),
        seller_name=_text(root, f"{seller}/ram:Name"),
        seller_legal_id=_text(root, f"{seller}/ram:SpecifiedLegalOrganization/ram:ID"),
        seller_vat=_text(root, f"{seller}/ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']"),
        seller_zip=_text(root, f"{seller}/ram:PostalTradeAddress/ram:PostcodeCode"),
        seller_description=_text(root, f"{seller}/ram:Description"),
        buyer_name=_text(root, f"{buyer}/ram:Name"),
        buyer_zip=_text(root, f"{buyer}/ram:PostalTradeAddress/ram:PostcodeCode"),
        ship_to_zip=_text(root, "//ram:ShipToTradeParty/ram:PostalTradeAddress/ram:PostcodeCode"),
        line_count=len(lines),
        lines_with_quantity=sum(1 for li in lines if _text(li, "ram:SpecifiedLineTradeDelivery/ram:BilledQuantity")),
        lines_with_price=sum(1 for li in lines if _text(
            li, "ram:SpecifiedLineTradeAgreement/ram:NetPriceProductTradePrice/ram:ChargeAmount")),
        lines_with_rate=sum(1 for li in lines if _text(
            li, "ram:SpecifiedLineTradeSettlement/ram:ApplicableTradeTax/ram:RateApplicablePercent")),
        product_names=[_text(li, "ram:SpecifiedTradeProduct/ram:Name") for li in lines],
        charge_total=_text(root, f"{summation}/ram:ChargeTotalAmount"),
        tax_basis_total=_text(root, f"{summation}/ram:TaxBasisTotalAmount"),
        tax_total=_text(root, f"{summation}/ram:TaxTotalAmount"),
        grand_total=_text(root, f"{summation}/ram:GrandTotalAmount"),
        notes=" ".join(n.strip() for n in root.xpath(
            "/rsm:CrossIndustryInvoice/rsm:ExchangedDocument/ram:IncludedNote/ram:Content/text()", namespaces=NS)),
    )
    return facts, root


def schema_errors(root: Any) -> str:
    """Empty when the XML passes the Factur-X XSD of its own level; else the library's message."""
    try:
        facturx.xml_check_xsd(root, flavor="factur-x", level=facturx.get_facturx_level(root))
    except Exception as exc:  # noqa: BLE001 -- the library raises bare Exception on an invalid XML
        return str(exc)[:500] or type(exc).__name__
    return ""


def unreadable_report(reason: str) -> dict[str, Any]:
    return {"status": "UNREADABLE", "readable": False, "reason": reason, "facturx": None, "mentions": [],
            "problems": [], "message": f"Facture illisible : {reason}. Vérifiez le fichier et déposez-le à nouveau."}


def check_invoice(data: bytes, content_type: str, expect: Expectations) -> dict[str, Any]:
    """The report stored on the document (JSON). Images cannot be read: reported as such."""
    if content_type != "application/pdf":
        return unreadable_report("image : les mentions ne peuvent pas être vérifiées, déposez un PDF")
    try:
        text = pdf_text(data)
    except Unreadable as exc:
        return unreadable_report(str(exc))
    facts: Facts | None = None
    facturx_info: dict[str, Any] | None = None
    xml = embedded_xml(data)
    if xml:
        try:
            facts, root = read_facts(xml)
            level = facturx.get_facturx_level(root)
            errors = schema_errors(root)
            facturx_info = {"present": True, "level": level, "valid": not errors, "errors": errors}
        except Exception as exc:  # noqa: BLE001 -- an attachment that is not CII XML is reported, not raised
            facts = None
            facturx_info = {"present": True, "level": None, "valid": False,
                            "errors": f"XML illisible ({type(exc).__name__})"}
    if not text.strip() and facts is None:
        return unreadable_report("aucun texte dans le PDF (document scanné ?)")
    found = mentions.find_mentions(text, facts, expect)
    if facts is not None:
        found.append(mentions.facturx_consistency(text, facts, expect))
    if facturx_info and not facturx_info["valid"]:
        found.append({"key": "facturx_schema", "group": "facturx", "label": "XML Factur-X valide (schéma XSD)",
                      "status": mentions.MISMATCH, "detail": facturx_info["errors"]})
    status, problems = mentions.summary(found)
    message = ("Toutes les mentions obligatoires sont présentes." if status == "COMPLETE"
               else f"{len(problems)} mention(s) manquante(s) ou incohérente(s) : " + ", ".join(problems) + ".")
    return {"status": status, "readable": True, "reason": "", "facturx": facturx_info or {"present": False},
            "mentions": found, "problems": problems, "message": message}
