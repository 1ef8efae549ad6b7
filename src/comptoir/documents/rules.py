"""Pure rules of order documents: Mirakl's document types, the type of a file read from its first bytes (never
from its name), file-name sanitising, the size and count limits, and the names inside an OR73 zip."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from comptoir.documents.errors import (
    DocumentFileRefused,
    DocumentLimitReached,
    DocumentNameInvalid,
    DocumentTooLarge,
    DocumentTypeUnknown,
)

MAX_DOCUMENTS_PER_ORDER = 50  # Mirakl's OR74 limit
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
MAX_NAME_LENGTH = 120


class DocumentType(StrEnum):
    """Mirakl's order document type codes (DO01, entity ORDER) a seller may upload."""

    CUSTOMER_INVOICE = "CUSTOMER_INVOICE"
    CUSTOMER_CREDIT_NOTE = "CUSTOMER_CREDIT_NOTE"
    DELIVERY_NOTE = "DELIVERY_NOTE"
    OTHER = "OTHER"


TYPE_LABELS: dict[DocumentType, str] = {
    DocumentType.CUSTOMER_INVOICE: "Facture",
    DocumentType.CUSTOMER_CREDIT_NOTE: "Avoir",
    DocumentType.DELIVERY_NOTE: "Bon de livraison",
    DocumentType.OTHER: "Autre document",
}
TYPE_DESCRIPTIONS: dict[DocumentType, str] = {
    DocumentType.CUSTOMER_INVOICE: "Facture du client, visible dans son espace client",
    DocumentType.CUSTOMER_CREDIT_NOTE: "Avoir du client (remboursement), visible dans son espace client",
    DocumentType.DELIVERY_NOTE: "Bon de livraison",
    DocumentType.OTHER: "Autre document de la commande",
}
# Documents the customer sees in the customer space; invoices keep `Order.has_invoice` true.
CUSTOMER_TYPES = frozenset({DocumentType.CUSTOMER_INVOICE, DocumentType.CUSTOMER_CREDIT_NOTE})
INVOICE_TYPES = frozenset({DocumentType.CUSTOMER_INVOICE})
# Order states in which the goods are sold and paid: an invoice may be issued (the VAT is due at the debit).
INVOICEABLE_STATES = frozenset({"SHIPPING", "SHIPPED", "TO_COLLECT", "RECEIVED", "CLOSED", "INCIDENT_OPEN",
                                "INCIDENT_CLOSED", "REFUNDED"})


def document_type(code: str) -> DocumentType:
    try:
        return DocumentType(code.strip().upper())
    except ValueError:
        allowed = ", ".join(t.value for t in DocumentType)
        raise DocumentTypeUnknown(f"Type de document inconnu : {code!r} (attendu : {allowed}).",
                                  field="type_code") from None


@dataclass(frozen=True, slots=True)
class FileKind:
    content_type: str
    extensions: tuple[str, ...]  # the first one is the one given to a name without extension
    label: str


PDF = FileKind("application/pdf", (".pdf",), "PDF")
JPEG = FileKind("image/jpeg", (".jpg", ".jpeg"), "JPEG")
PNG = FileKind("image/png", (".png",), "PNG")
KINDS = (PDF, JPEG, PNG)
_KIND_OF_TYPE = {kind.content_type: kind for kind in KINDS}

# What a refused file is, to say so in the error (never trusted, only named).
_KNOWN_OTHERS = ((b"MZ", "un programme Windows"), (b"\x7fELF", "un programme"), (b"PK\x03\x04", "une archive ZIP"),
                 (b"\x1f\x8b", "une archive gzip"), (b"Rar!", "une archive RAR"), (b"GIF8", "une image GIF"),
                 (b"<", "du HTML ou du XML"))


def kind_of(content_type: str) -> FileKind:
    return _KIND_OF_TYPE[content_type]


def sniff(head: bytes) -> FileKind | None:
    """The kind of a file from its first bytes. A PDF may start after a little garbage (readers look in the
    first 1024 bytes), JPEG and PNG never."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if b"%PDF-" in head[:1024]:
        return PDF
    return None


def check_content(head: bytes, file_name: str) -> FileKind:
    """The file's kind by content; a name whose extension says otherwise is refused (a disguised file)."""
    kind = sniff(head)
    if kind is None:
        what = next((label for magic, label in _KNOWN_OTHERS if head.lstrip().startswith(magic)), None)
        if not head:
            raise DocumentFileRefused(f"Le fichier {file_name!r} est vide.", field="files")
        detail = f" : c'est {what}" if what else ""
        raise DocumentFileRefused(f"Fichier {file_name!r} refusé{detail}. Seuls les PDF, JPEG et PNG sont acceptés.",
                                  field="files")
    extension = _extension(file_name)
    if extension and extension not in kind.extensions:
        raise DocumentFileRefused(
            f"Le fichier {file_name!r} est un {kind.label} mais son nom se termine par {extension} : "
            f"renommez-le en {kind.extensions[0]}.", field="files")
    return kind


def check_size(size: int, max_bytes: int, file_name: str = "") -> None:
    if size > max_bytes:
        raise DocumentTooLarge(f"Le fichier {file_name!r} fait {_megabytes(size)} : {_megabytes(max_bytes)} au plus.",
                               field="files")


def check_count(existing: int, adding: int = 1) -> None:
    if existing + adding > MAX_DOCUMENTS_PER_ORDER:
        raise DocumentLimitReached(
            f"Une commande porte au plus {MAX_DOCUMENTS_PER_ORDER} documents ({existing} déjà déposés).",
            field="files")


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} Mo".replace(".", ",")


def _extension(name: str) -> str:
    base = name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    return ("." + base.rsplit(".", 1)[1].lower()) if "." in base.strip(".") else ""


_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")


def sanitize_file_name(raw: str, kind: FileKind) -> str:
    """ASCII letters, digits, `._- `; no path, no leading dot; the extension of the real content."""
    base = (raw or "").replace("\x00", "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    base = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode("ascii")
    stem = base.rsplit(".", 1)[0] if _extension(base) else base
    stem = _UNSAFE.sub("_", stem).strip(" ._-")
    stem = re.sub(r"_+", "_", stem)[: MAX_NAME_LENGTH - 6] or "document"
    extension = _extension(base)
    return stem + (extension if extension in kind.extensions else kind.extensions[0])


def check_distinct_names(names: Iterable[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise DocumentNameInvalid(f"Deux fichiers portent le nom {name!r} : les noms doivent être distincts.",
                                      field="file_name")
        seen.add(name)


def zip_member_names(entries: Iterable[tuple[str, str]]) -> list[str]:
    """OR73: `<order_id>/<file name>` per document; a repeated name becomes `name(1).ext`, `name(2).ext`…"""
    used: set[str] = set()
    names: list[str] = []
    for order_id, file_name in entries:
        folder = _UNSAFE.sub("_", order_id) or "commande"
        stem, dot, extension = file_name.rpartition(".")
        if not dot:
            stem, extension = file_name, ""
        candidate, n = f"{folder}/{file_name}", 0
        while candidate in used:
            n += 1
            candidate = f"{folder}/{stem}({n}){dot}{extension}"
        used.add(candidate)
        names.append(candidate)
    return names
