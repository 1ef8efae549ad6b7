"""Mirakl seller API for order documents: DO01 (types), OR72 (list), OR73 (download, several as a zip), OR74
(upload: multipart, metadata as JSON or as the official SDK's XML; only failures answered), OR76 (delete);
and Comptoir's extensions issuing the Factur-X invoice and credit notes. Thin: documents services and queries."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from django.http import HttpRequest, HttpResponse
from lxml import etree
from ninja import Router, Schema
from pydantic import Field

from comptoir.api.openapi import integer, one_of, parameters, values
from comptoir.api.render import iso, json_response, parse_list
from comptoir.core import clock
from comptoir.core.errors import ValidationError
from comptoir.core.ids import parse_id
from comptoir.documents import queries, rules, services
from comptoir.documents.errors import DocumentNotFound
from comptoir.documents.models import OrderDocument
from comptoir.orders.services import Who
from comptoir.orders.states import Actor

router = Router(tags=["Documents"])

MAX_FILES_PER_CALL = rules.MAX_DOCUMENTS_PER_ORDER
MAX_IDS = 100
MAX_DOWNLOAD_DOCUMENTS = 100
MAX_METADATA_BYTES = 256 * 1024
_XML = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True)


def _shop_id(request: HttpRequest) -> int:
    return request.shop.id  # type: ignore[attr-defined, no-any-return]


def _who(request: HttpRequest) -> Who:
    return Who(Actor.SELLER, f"API boutique {_shop_id(request)}")


# --- response schemas (documentation: the views render their JSON themselves) -------------------------------


class DocumentType(Schema):
    code: str
    label: str
    description: str
    entity: str


class DocumentTypes(Schema):
    documents: list[DocumentType]


class OrderDocumentOut(Schema):
    id: int
    order_id: str
    file_name: str
    file_size: int
    type: str
    date_uploaded: str
    content_type: str
    invoice_number: str | None
    invoice_check: dict[str, Any] | None = Field(description="The invoice checker's report (invoices only)")


class OrderDocuments(Schema):
    order_documents: list[OrderDocumentOut]


class DocumentInput(Schema):
    file_name: str
    type_code: str


class DocumentErrorOut(Schema):
    code: str
    field: str
    message: str


class DocumentFailure(Schema):
    input: DocumentInput
    errors: list[DocumentErrorOut]


class UploadReport(Schema):
    errors_count: int
    order_documents: list[DocumentFailure] = Field(description="Only the documents that failed")


_FILE = {"schema": {"type": "string", "format": "binary"}}
DOWNLOAD_RESPONSES = {"responses": {200: {
    "description": "One document: the file itself; several: a zip with one folder per order.",
    "content": {media: _FILE for media in (*(k.content_type for k in rules.KINDS), "application/zip")}}}}


def document_json(document: OrderDocument) -> dict[str, Any]:
    return {"id": document.pk, "order_id": document.order.order_id, "file_name": document.file_name,
            "file_size": document.file_size, "type": document.type, "date_uploaded": iso(document.date_uploaded),
            # Comptoir's additions (clients ignore unknown fields):
            "content_type": document.content_type, "invoice_number": document.number or None,
            "invoice_check": document.check_report}


@router.get("/documents", response=DocumentTypes, summary="DO01 - List document types", operation_id="DO01",
            openapi_extra=parameters(entities=values()))
def document_types(request: HttpRequest) -> HttpResponse:
    entities = [e.upper() for e in parse_list(request, "entities")]
    if entities and "ORDER" not in entities:
        return json_response({"documents": []})
    return json_response({"documents": [
        {"code": t.value, "label": rules.TYPE_LABELS[t], "description": rules.TYPE_DESCRIPTIONS[t], "entity": "ORDER"}
        for t in rules.DocumentType]})


def _ids(request: HttpRequest, name: str, *, integers: bool = False) -> list[Any]:
    values = parse_list(request, name)
    if len(values) > MAX_IDS:
        raise ValidationError(f"Paramètre {name} : {MAX_IDS} valeurs au plus.", field=name)
    if integers:
        ids = [parse_id(v) for v in values]
        if None in ids:
            raise ValidationError(f"Paramètre {name} : identifiants entiers attendus.", field=name)
        return ids
    return values


@router.get("/orders/documents", response=OrderDocuments, summary="OR72 - List order documents", operation_id="OR72",
            openapi_extra=parameters(required=("order_ids",), order_ids=values(min_items=1, max_items=MAX_IDS)))
def list_documents(request: HttpRequest) -> HttpResponse:
    order_ids = _ids(request, "order_ids")
    if not order_ids:
        raise ValidationError("Paramètre order_ids obligatoire.", field="order_ids")
    documents = queries.documents_of_orders(_shop_id(request), order_ids)
    return json_response({"order_documents": [document_json(d) for d in documents]})


@router.get("/orders/documents/download", summary="OR73 - Download order documents", operation_id="OR73",
            openapi_extra={**parameters(document_ids=values(integer(), max_items=MAX_IDS),
                                        order_ids=values(max_items=MAX_IDS),
                                        document_codes=values(one_of(*rules.DocumentType), max_items=MAX_IDS)),
                           **DOWNLOAD_RESPONSES},
            description="One `document_ids` value: the file itself. Otherwise a zip with one folder per order.")
def download_documents(request: HttpRequest) -> HttpResponse:
    document_ids = _ids(request, "document_ids", integers=True)
    order_ids = _ids(request, "order_ids")
    codes = [c.upper() for c in _ids(request, "document_codes")]
    if not document_ids and not order_ids:
        raise ValidationError("Indiquez document_ids ou order_ids.", field="document_ids")
    query = queries.documents_of_shop(_shop_id(request), order_ids=order_ids, types=codes)
    if document_ids:
        query = query.filter(pk__in=document_ids)
    documents = list(query[: MAX_DOWNLOAD_DOCUMENTS + 1])
    if not documents:
        raise DocumentNotFound("Aucun document trouvé.")
    if len(documents) > MAX_DOWNLOAD_DOCUMENTS:
        raise ValidationError(f"{MAX_DOWNLOAD_DOCUMENTS} documents au plus par téléchargement.", field="order_ids")
    if len(document_ids) == 1 and len(documents) == 1:
        return file_response(documents[0])
    buffer = io.BytesIO()
    names = rules.zip_member_names((d.order.order_id, d.file_name) for d in documents)
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, document in zip(names, documents, strict=True):
            archive.writestr(name, queries.read_bytes(document))
    response = HttpResponse(buffer.getvalue(), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="documents-{clock.now():%Y%m%d%H%M%S}.zip"'
    return response


def file_response(document: OrderDocument) -> HttpResponse:
    response = HttpResponse(queries.read_bytes(document), content_type=document.content_type)
    response["Content-Disposition"] = f'attachment; filename="{document.file_name}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _metadata(request: HttpRequest) -> list[dict[str, str]]:
    """`order_documents` as a form field or a file part, JSON or the official SDK's XML."""
    raw: bytes | str | None = request.POST.get("order_documents")
    if raw is None and "order_documents" in request.FILES:
        upload = request.FILES["order_documents"]
        raw = upload.read(MAX_METADATA_BYTES + 1)
    if raw is None or not str(raw).strip():
        raise ValidationError("Partie order_documents manquante (métadonnées des fichiers).", field="order_documents")
    data = raw.encode() if isinstance(raw, str) else raw
    if len(data) > MAX_METADATA_BYTES:
        raise ValidationError("Partie order_documents trop volumineuse.", field="order_documents")
    text = data.lstrip()
    if text.startswith(b"<"):
        try:
            root = etree.fromstring(text, _XML)
        except etree.XMLSyntaxError:
            raise ValidationError("order_documents : XML invalide.", field="order_documents") from None
        return [{"file_name": (node.findtext("file_name") or "").strip(),
                 "type_code": (node.findtext("type_code") or "").strip()}
                for node in root.iter("order_document")]
    try:
        parsed = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        raise ValidationError("order_documents : JSON invalide.", field="order_documents") from None
    entries = parsed.get("order_documents") if isinstance(parsed, dict) else None
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ValidationError("order_documents : liste d'objets {file_name, type_code} attendue.",
                              field="order_documents")
    return [{"file_name": str(e.get("file_name") or "").strip(), "type_code": str(e.get("type_code") or "").strip()}
            for e in entries]


def _failure(entry: dict[str, str], code: str, field: str, message: str) -> dict[str, Any]:
    return {"input": entry, "errors": [{"code": code, "field": field, "message": message}]}


@router.post("/orders/{order_id}/documents", response=UploadReport, summary="OR74 - Upload order documents",
             operation_id="OR74",
             description="Multipart: `files` (or `files[]`), one part per file, and `order_documents` "
                         "(JSON `{\"order_documents\": [{\"file_name\", \"type_code\"}]}` or the SDK's XML). "
                         "PDF, JPEG or PNG (checked by content), 10 MB each, 50 documents per order. Answers "
                         "only the documents that failed; invoices carry the checker's report in OR72.")
def upload_documents(request: HttpRequest, order_id: str) -> HttpResponse:
    files = [*request.FILES.getlist("files"), *request.FILES.getlist("files[]")]
    if not files:
        raise ValidationError("Aucun fichier (partie files).", field="files")
    if len(files) > MAX_FILES_PER_CALL:
        raise ValidationError(f"{MAX_FILES_PER_CALL} fichiers au plus par appel.", field="files")
    entries = _metadata(request)
    by_name: dict[str, dict[str, str]] = {}
    failures: list[dict[str, Any]] = []
    for entry in entries:
        if entry["file_name"] in by_name:
            failures.append(_failure(entry, "DOCUMENT_FILE_NAME_INVALID", "file_name",
                                     "Nom de fichier en double dans order_documents."))
        else:
            by_name[entry["file_name"]] = entry
    items: list[services.UploadItem] = []
    uploaded_names: set[str] = set()
    limit = services.max_bytes()
    for upload in files:
        name = upload.name or ""
        uploaded_names.add(name)
        entry = by_name.get(name)
        if entry is None:
            failures.append(_failure({"file_name": name, "type_code": ""}, "VALIDATION_ERROR", "order_documents",
                                     f"Aucune métadonnée pour le fichier {name!r}."))
            continue
        # Never read more than the limit plus one byte: the size check refuses the rest.
        data = upload.read(limit + 1) if (upload.size or 0) <= limit else b""
        items.append(services.UploadItem(name, entry["type_code"], data, size=upload.size))
    for name, entry in by_name.items():
        if name not in uploaded_names:
            failures.append(_failure(entry, "VALIDATION_ERROR", "files", f"Fichier {name!r} absent de la requête."))
    report = services.upload_documents(order_id=order_id, shop_id=_shop_id(request), items=items, who=_who(request))
    failures += [_failure({"file_name": e.file_name, "type_code": e.type_code}, e.code, e.field, e.message)
                 for e in report.errors]
    return json_response({"errors_count": len(failures), "order_documents": failures})


@router.delete("/orders/documents/{document_id}", response={204: None}, summary="OR76 - Delete an order document",
               operation_id="OR76")
def delete_document(request: HttpRequest, document_id: str) -> HttpResponse:
    pk = parse_id(document_id)
    if pk is None:
        raise DocumentNotFound(f"Document {document_id} introuvable.")
    services.delete_document(document_id=pk, shop_id=_shop_id(request), who=_who(request))
    return HttpResponse(status=204)


class CreditNoteIn(Schema):
    order_refund_id: str


@router.post("/orders/{order_id}/invoice", response={201: OrderDocumentOut}, summary="Issue the order's Factur-X invoice "
             "(Comptoir extension)", operation_id="invoice_generate",
             description="**Comptoir extension.** Issues the invoice from the order and the shop's legal profile "
                         "(Factur-X EN 16931, PDF/A-3), numbered without gaps per shop, attached as "
                         "CUSTOMER_INVOICE. 400 INVOICE_ALREADY_EXISTS, INVOICE_NOT_ALLOWED, "
                         "SHOP_LEGAL_PROFILE_INCOMPLETE.")
def generate_invoice(request: HttpRequest, order_id: str) -> HttpResponse:
    document = services.generate_invoice(order_id=order_id, shop_id=_shop_id(request), who=_who(request))
    return json_response(document_json(document), 201)


@router.post("/orders/{order_id}/credit_note", response={201: OrderDocumentOut}, summary="Issue a credit note for a refund "
             "(Comptoir extension)", operation_id="credit_note_generate")
def generate_credit_note(request: HttpRequest, order_id: str, payload: CreditNoteIn) -> HttpResponse:
    document = services.generate_credit_note(order_id=order_id, shop_id=_shop_id(request),
                                             refund_group_id=payload.order_refund_id, who=_who(request))
    return json_response(document_json(document), 201)

