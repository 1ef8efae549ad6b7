"""Pure: which mandatory mentions of the seller guide (« Mentions obligatoires sur la facture ») an invoice's
text and its Factur-X facts carry, compared with what the order and the shop's legal profile expect."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

FOUND, MISSING, MISMATCH, NOT_APPLICABLE = "found", "missing", "mismatch", "not_applicable"
STATUS_LABELS = {FOUND: "présente", MISSING: "manquante", MISMATCH: "incohérente", NOT_APPLICABLE: "sans objet"}
GROUPS = {"seller": "Vos informations", "invoice": "Informations sur la facture",
          "customer": "Les informations du client", "legal": "Mentions légales", "facturx": "Factur-X"}

# (key, group, French label) in the guide's order.
MENTIONS: tuple[tuple[str, str, str], ...] = (
    ("seller_legal_name", "seller", "Raison sociale de l'entreprise"),
    ("seller_head_office", "seller", "Adresse du siège social"),
    ("seller_identification", "seller", "Numéro d'identification de l'entreprise (SIREN/SIRET)"),
    ("seller_rcs", "seller", "Numéro RCS"),
    ("seller_legal_form_capital", "seller", "Forme juridique et capital social"),
    ("seller_vat_number", "seller", "Numéro de TVA intracommunautaire"),
    ("invoice_number", "invoice", "Numéro de facture"),
    ("invoice_issue_date", "invoice", "Date d'émission de la facture"),
    ("invoice_sale_date", "invoice", "Date de la vente"),
    ("invoice_products", "invoice", "Description précise des produits vendus"),
    ("invoice_line_quantity", "invoice", "Quantité"),
    ("invoice_line_unit_price", "invoice", "Prix unitaire hors taxe"),
    ("invoice_line_vat_rate", "invoice", "Taux de TVA applicable"),
    ("invoice_shipping", "invoice", "Frais de port"),
    ("invoice_total_excl_tax", "invoice", "Montant total HT"),
    ("invoice_total_incl_tax", "invoice", "Montant total TTC"),
    ("invoice_total_vat", "invoice", "Montant total de la TVA"),
    ("customer_name", "customer", "Nom et prénom du client"),
    ("customer_billing_address", "customer", "Adresse complète de facturation"),
    ("customer_delivery_address", "customer", "Adresse de livraison (si différente)"),
    ("legal_eco_participation", "legal", "Éco-participations"),
    ("legal_producer_registration", "legal", "Numéro d'enregistrement au registre des producteurs"),
    ("legal_customer_service_email", "legal", "Adresse e-mail du service client"),
    ("legal_warranty", "legal", "Durée de garantie"),
)


@dataclass(frozen=True, slots=True)
class Expectations:
    """What the order and the shop's legal profile say the invoice must show (empty: not compared)."""

    legal_name: str = ""
    legal_form: str = ""
    identification_number: str = ""
    vat_number: str = ""
    head_office_zip_code: str = ""
    head_office_city: str = ""
    customer_service_email: str = ""
    producer_registration_number: str = ""
    customer_firstname: str = ""
    customer_lastname: str = ""
    billing_street: str = ""
    billing_zip_code: str = ""
    billing_city: str = ""
    delivery_differs: bool = False
    delivery_street: str = ""
    delivery_zip_code: str = ""
    delivery_city: str = ""
    total_incl_tax_cents: int | None = None
    shipping_cents: int = 0
    product_titles: tuple[str, ...] = ()
    credit_note: bool = False


@dataclass(slots=True)
class Facts:
    """What was read from the Factur-X XML (BT numbers of EN 16931); all empty without XML."""

    number: str = ""
    issue_date: str = ""
    delivery_date: str = ""
    seller_name: str = ""
    seller_legal_id: str = ""
    seller_vat: str = ""
    seller_zip: str = ""
    seller_description: str = ""
    buyer_name: str = ""
    buyer_zip: str = ""
    ship_to_zip: str = ""
    line_count: int = 0
    lines_with_quantity: int = 0
    lines_with_price: int = 0
    lines_with_rate: int = 0
    product_names: list[str] = field(default_factory=list)
    charge_total: str = ""
    tax_basis_total: str = ""
    tax_total: str = ""
    grand_total: str = ""
    notes: str = ""


def normalize(text: str) -> str:
    """Lower case, no accents, one space between words, typographic apostrophes made plain."""
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.replace("’", "'").replace("\u00a0", " ").replace("\u202f", " ").lower()
    return re.sub(r"\s+", " ", text).strip()


def compact(text: str) -> str:
    return re.sub(r"[\s.\-]", "", normalize(text))


_DATE = (r"(\d{1,2}\s?[/.-]\s?\d{1,2}\s?[/.-]\s?\d{2,4}|\d{4}-\d{2}-\d{2}|\d{1,2}\s+(janvier|fevrier|mars|avril|mai|"
         r"juin|juillet|aout|septembre|octobre|novembre|decembre)\s+\d{4})")
_PATTERNS = {
    "legal_form": re.compile(r"\b(sarl|sasu|sas|sa|eurl|snc|sca|scop|sci|eirl|ei|selarl|micro-entreprise|"
                             r"entrepreneur individuel|auto-entrepreneur)\b"),
    "capital": re.compile(r"\bcapital\b"),
    "head_office": re.compile(r"\bsiege( social)?\b"),
    "identification": re.compile(r"\b(siren|siret)\b\s*(n°|no)?\s*:?\s*\d{3}\s?\d{3}\s?\d{3}"),
    "rcs": re.compile(r"\brcs\b"),
    "vat_number": re.compile(r"\b[a-z]{2}\s?[0-9a-z]{2}\s?\d{3}\s?\d{3}\s?\d{3}\b"),
    "vat_label": re.compile(r"\b(tva|vat)\b"),
    "number": re.compile(r"(?<!de )(?<!du )\b(facture|avoir|invoice|credit note)\s*(n°|n o|no\.?|numero|number|num\.?|#|:)"
                         r"\s*:?\s*(?!\d{1,2}\s?[/.-]\s?\d{1,2}\s?[/.-])[a-z0-9][a-z0-9/_.-]*\d"),
    "issue_date": re.compile(r"(date\s+(d'\s*emission|de\s+(la\s+)?facture|de\s+l'avoir|de\s+facturation)|"
                             r"emise?\s+le|(facture|avoir)\s+du)\D{0,20}" + _DATE),
    "sale_date": re.compile(r"(date\s+(de\s+(la\s+)?vente|de\s+(la\s+)?commande|de\s+livraison|d'\s*expedition)|"
                            r"vendue?s?\s+le|commande\s+(du|passee\s+le)|livree?s?\s+le)\D{0,20}" + _DATE),
    "quantity": re.compile(r"\b(quantite|qte|qty|quantity)\b"),
    "unit_price": re.compile(r"(prix\s+unitaire\s+(ht|hors\s+tax)|\bp\.?\s?u\.?\s+ht\b|unit\s+price)"),
    "rate": re.compile(r"\d{1,2}([.,]\d{1,2})?\s?%"),
    "shipping": re.compile(r"(frais\s+de\s+(port|livraison|transport|expedition)|\blivraison\b|\bport\b)"),
    "total_excl": re.compile(r"(total|montant)\s+(ht|hors\s+tax)"),
    "total_incl": re.compile(r"((total|montant)\s+(ttc|toutes\s+taxes)|net\s+a\s+payer)"),
    "total_vat": re.compile(r"((total|montant)\s+(total\s+)?(de\s+la\s+)?tva|tva\s+totale|dont\s+tva|total\s+vat)"),
    "eco": re.compile(r"(eco\s?-?\s?(participation|contribution)|ecotaxe|\bdeee\b)"),
    "producer": re.compile(r"(registre\s+des\s+producteurs|identifiant\s+unique|\bidu\b|"
                           r"n°\s*d'\s*enregistrement|\bfr\d{6}_\w+)"),
    "email": re.compile(r"[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}"),
    "warranty": re.compile(r"garantie[^.]{0,80}?(\d+\s*(ans?|mois)|legale)|(\d+\s*(ans?|mois))\s+de\s+garantie"),
}


def amount_forms(cents: int) -> set[str]:
    """How an amount may be printed, spaces removed: 1234,50 / 1234.50 / 1.234,50 / 1,234.50."""
    units, rest = divmod(abs(cents), 100)
    grouped = f"{units:,}"
    return {f"{units},{rest:02d}", f"{units}.{rest:02d}", f"{grouped.replace(',', '.')},{rest:02d}",
            f"{grouped}.{rest:02d}"}


def _has_amount(spaceless: str, cents: int) -> bool:
    return any(re.search(r"(?<![\d.,])" + re.escape(form) + r"(?![\d])", spaceless) for form in amount_forms(cents))


def _decimal_cents(raw: str) -> int | None:
    try:
        units, _, decimals = raw.strip().partition(".")
        return int(units) * 100 + int((decimals + "00")[:2]) * (1 if not units.startswith("-") else -1)
    except ValueError:
        return None


def find_mentions(text: str, facts: Facts | None, expect: Expectations) -> list[dict[str, Any]]:
    """One row per mandatory mention: key, group, label, status (found/missing/mismatch/not_applicable), detail."""
    norm = normalize(text)
    spaceless = re.sub(r"\s", "", norm)
    squeezed = compact(text)
    fx = facts or Facts()

    def has(pattern: str) -> bool:
        return bool(_PATTERNS[pattern].search(norm))

    def contains(value: str) -> bool:
        return bool(value.strip()) and normalize(value) in norm

    def contains_compact(value: str) -> bool:
        return bool(compact(value)) and compact(value) in squeezed

    results: dict[str, tuple[str, str]] = {}

    def put(key: str, ok: bool, detail: str = "", *, status: str | None = None) -> None:
        results[key] = (status or (FOUND if ok else MISSING), detail)

    # Seller
    if expect.legal_name:
        put("seller_legal_name", contains(expect.legal_name) or normalize(fx.seller_name) == normalize(expect.legal_name),
            "" if contains(expect.legal_name) else f"« {expect.legal_name} » introuvable")
    else:
        put("seller_legal_name", has("legal_form") or bool(fx.seller_name),
            "profil légal de la boutique vide : raison sociale non comparée")
    if expect.head_office_zip_code:
        put("seller_head_office", (contains_compact(expect.head_office_zip_code) and contains(expect.head_office_city))
            or fx.seller_zip == expect.head_office_zip_code,
            f"code postal et ville du siège ({expect.head_office_zip_code} {expect.head_office_city}) introuvables")
    else:
        put("seller_head_office", has("head_office") or bool(fx.seller_zip))
    put("seller_identification", has("identification") or bool(fx.seller_legal_id)
        or (bool(expect.identification_number) and contains_compact(expect.identification_number)),
        "SIREN ou SIRET introuvable")
    put("seller_rcs", has("rcs"), "mention « RCS » introuvable")
    form = contains(expect.legal_form) if expect.legal_form else has("legal_form")
    capital = has("capital") or "capital" in normalize(fx.seller_description)
    put("seller_legal_form_capital", form and capital,
        "" if form and capital else ("capital social introuvable" if form else "forme juridique introuvable"))
    put("seller_vat_number", bool(fx.seller_vat) or (contains_compact(expect.vat_number) if expect.vat_number
                                                      else has("vat_number") and has("vat_label")),
        "numéro de TVA intracommunautaire introuvable")
    # Invoice
    put("invoice_number", has("number") or bool(fx.number), "aucun « Facture n° … » lisible")
    put("invoice_issue_date", has("issue_date") or bool(fx.issue_date), "aucune « Date de facture : JJ/MM/AAAA »")
    put("invoice_sale_date", has("sale_date") or bool(fx.delivery_date), "aucune « Date de la vente : JJ/MM/AAAA »")
    absent = [title for title in expect.product_titles
              if not contains(title[:40]) and not any(normalize(title)[:40] in normalize(n) for n in fx.product_names)]
    put("invoice_products", bool(expect.product_titles or norm) and not absent,
        ("produits absents : " + ", ".join(absent)) if absent else "")
    put("invoice_line_quantity", has("quantity") or (fx.line_count > 0 and fx.lines_with_quantity == fx.line_count))
    put("invoice_line_unit_price", has("unit_price") or (fx.line_count > 0 and fx.lines_with_price == fx.line_count))
    put("invoice_line_vat_rate", (has("rate") and has("vat_label"))
        or (fx.line_count > 0 and fx.lines_with_rate == fx.line_count))
    if expect.shipping_cents == 0:
        put("invoice_shipping", True, "pas de frais de port facturés", status=NOT_APPLICABLE)
    else:
        put("invoice_shipping", has("shipping") or bool(fx.charge_total))
    put("invoice_total_excl_tax", has("total_excl") or bool(fx.tax_basis_total))
    labelled = has("total_incl") or bool(fx.grand_total)
    if labelled and expect.total_incl_tax_cents is not None:
        in_text = _has_amount(spaceless, expect.total_incl_tax_cents)
        in_xml = _decimal_cents(fx.grand_total) == expect.total_incl_tax_cents if fx.grand_total else False
        euros = f"{expect.total_incl_tax_cents / 100:.2f}".replace(".", ",")
        if in_text or in_xml:
            put("invoice_total_incl_tax", True)
        else:
            put("invoice_total_incl_tax", False, f"le total de la commande ({euros} €) n'apparaît pas",
                status=MISMATCH)
    else:
        put("invoice_total_incl_tax", labelled)
    put("invoice_total_vat", has("total_vat") or bool(fx.tax_total))
    # Customer
    full = f"{expect.customer_firstname} {expect.customer_lastname}".strip()
    if full:
        reversed_name = f"{expect.customer_lastname} {expect.customer_firstname}"
        in_text = contains(full) or contains(reversed_name)
        in_xml = normalize(fx.buyer_name) in (normalize(full), normalize(reversed_name)) if fx.buyer_name else False
        if in_text or in_xml:
            put("customer_name", True)
        elif fx.buyer_name:
            put("customer_name", False, f"le client de la facture ({fx.buyer_name}) n'est pas celui de la commande",
                status=MISMATCH)
        else:
            put("customer_name", False, f"« {full} » introuvable")
    else:
        put("customer_name", False, "client inconnu")
    if expect.billing_zip_code:
        put("customer_billing_address", (contains_compact(expect.billing_zip_code)
                                         and (contains(expect.billing_city) or contains(expect.billing_street)))
            or fx.buyer_zip == expect.billing_zip_code, "adresse de facturation introuvable")
    else:
        put("customer_billing_address", bool(fx.buyer_zip) or "facturation" in norm)
    if not expect.delivery_differs:
        put("customer_delivery_address", True, "identique à l'adresse de facturation", status=NOT_APPLICABLE)
    else:
        put("customer_delivery_address", (contains_compact(expect.delivery_zip_code)
                                          and (contains(expect.delivery_street) or contains(expect.delivery_city)))
            or fx.ship_to_zip == expect.delivery_zip_code, "adresse de livraison introuvable")
    # Legal mentions (the XML's notes count as text: the generator writes them there too)
    notes = normalize(fx.notes)
    put("legal_eco_participation", has("eco") or bool(_PATTERNS["eco"].search(notes)))
    put("legal_producer_registration", (contains_compact(expect.producer_registration_number)
                                        if expect.producer_registration_number else has("producer"))
        or bool(_PATTERNS["producer"].search(notes)))
    if expect.customer_service_email:
        put("legal_customer_service_email", contains(expect.customer_service_email),
            f"« {expect.customer_service_email} » introuvable")
    else:
        put("legal_customer_service_email", has("email"))
    put("legal_warranty", has("warranty") or bool(_PATTERNS["warranty"].search(notes)))
    return [{"key": key, "group": group, "label": label, "status": results[key][0], "detail": results[key][1]}
            for key, group, label in MENTIONS]


def facturx_consistency(text: str, facts: Facts, expect: Expectations) -> dict[str, Any]:
    """The embedded XML must say what the PDF shows: same number, same total, the order's total."""
    norm = normalize(text)
    spaceless = re.sub(r"\s", "", norm)
    problems: list[str] = []
    if facts.number and compact(facts.number) not in compact(text):
        problems.append(f"le numéro du XML ({facts.number}) n'apparaît pas dans le PDF")
    grand = _decimal_cents(facts.grand_total) if facts.grand_total else None
    if grand is not None and norm and not _has_amount(spaceless, grand):
        problems.append(f"le total TTC du XML ({facts.grand_total}) n'apparaît pas dans le PDF")
    if grand is not None and expect.total_incl_tax_cents is not None and grand != expect.total_incl_tax_cents:
        problems.append(f"le total TTC du XML ({facts.grand_total}) diffère de celui de la commande")
    return {"key": "facturx_consistency", "group": "facturx", "label": "XML Factur-X conforme au PDF",
            "status": MISMATCH if problems else FOUND, "detail": " ; ".join(problems)}


def summary(mentions: list[Mapping[str, Any]]) -> tuple[str, list[str]]:
    """COMPLETE or INCOMPLETE, and the labels of what is missing or inconsistent."""
    problems = [m["label"] for m in mentions if m["status"] in (MISSING, MISMATCH)]
    return ("INCOMPLETE" if problems else "COMPLETE"), problems
