"""Document use cases: upload (OR74 and the seller's tab), delete (OR76), and the Factur-X invoice and credit
note issued from the order. Each write locks the order; `Order.has_invoice` follows the invoices in the same
transaction. Invoice numbers come from a per-shop counter row locked in the issuing transaction."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F

from comptoir.core import clock
from comptoir.core.errors import ComptoirError
from comptoir.documents import checker, invoicing, queries, rules
from comptoir.documents.errors import (
    CreditNoteAlreadyExists,
    DocumentNameInvalid,
    DocumentNotDeletable,
    DocumentNotFound,
    InvoiceAlreadyExists,
    InvoiceNotAllowed,
    RefundNotFound,
    ShopLegalProfileIncomplete,
)
from comptoir.documents.mentions import Expectations
from comptoir.documents.models import InvoiceCounter, OrderDocument
from comptoir.documents.rules import DocumentType
from comptoir.documents.storage import discard, documents_storage, max_bytes
from comptoir.orders.models import Order
from comptoir.orders.services import Who
from comptoir.orders.services.lifecycle import lock_order
from comptoir.refunds import queries as refund_queries
from comptoir.shops.models import Shop

logger = logging.getLogger(__name__)
_DROPPED = ("REFUSED", "CANCELED")
_ADDRESS_KEYS = ("street_1", "zip_code", "city")


@dataclass(frozen=True, slots=True)
class UploadItem:
    file_name: str
    type_code: str
    data: bytes
    size: int | None = None  # as announced by the upload, checked before reading when known


@dataclass(frozen=True, slots=True)
class UploadError:
    file_name: str
    type_code: str
    code: str
    field: str
    message: str


@dataclass(slots=True)
class UploadReport:
    stored: list[OrderDocument] = field(default_factory=list)
    errors: list[UploadError] = field(default_factory=list)


# --- expectations of the checker -----------------------------------------------------------------------------


def _address(raw: dict[str, Any] | None) -> tuple[str, ...]:
    raw = raw or {}
    return tuple(str(raw.get(key) or "").strip() for key in _ADDRESS_KEYS)


def expectations_for(order: Order, shop: Shop, *, credit_total_cents: int | None = None) -> Expectations:
    lines = [line for line in order.lines.all() if line.state not in _DROPPED]
    billing, delivery = _address(order.billing_address), _address(order.shipping_address)
    total = sum(line.price_cents + line.shipping_price_cents for line in lines)
    return Expectations(
        legal_name=shop.legal_name, legal_form=shop.legal_form, identification_number=shop.identification_number,
        vat_number=shop.vat_number, head_office_zip_code=shop.head_office_zip_code,
        head_office_city=shop.head_office_city, customer_service_email=shop.customer_service_email,
        producer_registration_number=shop.producer_registration_number,
        customer_firstname=order.customer_firstname, customer_lastname=order.customer_lastname,
        billing_street=billing[0], billing_zip_code=billing[1], billing_city=billing[2],
        delivery_differs=bool(delivery[1]) and delivery != billing,
        delivery_street=delivery[0], delivery_zip_code=delivery[1], delivery_city=delivery[2],
        total_incl_tax_cents=credit_total_cents if credit_total_cents is not None else total,
        shipping_cents=sum(line.shipping_price_cents for line in lines) if credit_total_cents is None else 0,
        product_titles=tuple(line.product_title for line in lines) if credit_total_cents is None else (),
        credit_note=credit_total_cents is not None,
    )


def check_report(order: Order, data: bytes, content_type: str) -> dict[str, Any]:
    return checker.check_invoice(data, content_type, expectations_for(order, order.shop))


# --- upload and delete ---------------------------------------------------------------------------------------


def _set_has_invoice(order: Order) -> None:
    """Kept true while an invoice exists (OR11's has_invoice): a targeted update, never a save of the order."""
    value = queries.has_invoice(order.pk)
    if value != order.has_invoice:
        Order.objects.filter(pk=order.pk).update(has_invoice=value, last_updated_date=clock.now())
        order.has_invoice = value


def _store(order: Order, *, doc_type: DocumentType, file_name: str, data: bytes, content_type: str, who: Who,
           written: list[str], report: dict[str, Any] | None = None, number: str = "", refund_group_id: str = "",
           generated: bool = False) -> OrderDocument:
    document = OrderDocument(
        order=order, shop_id=order.shop_id, type=doc_type.value, storage_token=uuid.uuid4().hex,
        file_name=file_name, file_size=len(data), content_type=content_type, uploaded_by=who.name,
        uploaded_by_actor=str(who.actor), date_uploaded=clock.now(), check_report=report, generated=generated,
        number=number, refund_group_id=refund_group_id,
    )
    document.file.save(file_name, ContentFile(data), save=False)
    written.append(document.file.name)
    document.save()
    return document


def upload_document(*, order_id: str, shop_id: int, item: UploadItem, who: Who) -> OrderDocument:
    """One file: checked by type, content, size and count; an invoice is read by the checker (its report is
    stored on the document). Nothing is stored when any check fails."""
    doc_type = rules.document_type(item.type_code)
    rules.check_size(item.size if item.size is not None else len(item.data), max_bytes(), item.file_name)
    rules.check_size(len(item.data), max_bytes(), item.file_name)
    kind = rules.check_content(item.data[:1024], item.file_name)
    file_name = rules.sanitize_file_name(item.file_name, kind)
    order = Order.objects.filter(order_id=order_id, shop_id=shop_id).select_related("shop").first()
    if order is None:
        raise lock_order_not_found(order_id)
    # The checker runs before the lock: reading a PDF may take a moment, the order is only read.
    report = check_report(order, item.data, kind.content_type) if doc_type in rules.INVOICE_TYPES else None
    written: list[str] = []
    try:
        with transaction.atomic():
            locked = lock_order(order_id, shop_id=shop_id)
            rules.check_count(OrderDocument.objects.filter(order_id=locked.pk).count())
            document = _store(locked, doc_type=doc_type, file_name=file_name, data=item.data,
                              content_type=kind.content_type, who=who, written=written, report=report)
            _set_has_invoice(locked)
    except BaseException:
        discard(written)
        raise
    return document


def lock_order_not_found(order_id: str) -> ComptoirError:
    from comptoir.orders.errors import OrderNotFound

    return OrderNotFound(f"Commande {order_id} introuvable.")


def upload_documents(*, order_id: str, shop_id: int, items: Sequence[UploadItem], who: Who) -> UploadReport:
    """OR74: each file on its own; a refused file is reported (the others are stored), as Mirakl answers."""
    if not Order.objects.filter(order_id=order_id, shop_id=shop_id).exists():
        raise lock_order_not_found(order_id)
    report = UploadReport()
    seen: set[str] = set()
    for item in items:
        try:
            if item.file_name in seen:
                raise DocumentNameInvalid(f"Deux fichiers portent le nom {item.file_name!r}.", field="file_name")
            seen.add(item.file_name)
            report.stored.append(upload_document(order_id=order_id, shop_id=shop_id, item=item, who=who))
        except ComptoirError as exc:
            report.errors.append(UploadError(item.file_name, item.type_code, exc.code, exc.field or "files",
                                             exc.message))
    return report


def delete_document(*, document_id: int, shop_id: int, who: Who) -> None:
    """OR76. An issued (generated) invoice or credit note is never deleted: the law wants a credit note."""
    found = OrderDocument.objects.filter(pk=document_id, shop_id=shop_id).values_list("order__order_id", flat=True)
    order_id = found.first()
    if order_id is None:
        raise DocumentNotFound(f"Document {document_id} introuvable.")
    with transaction.atomic():
        order = lock_order(order_id, shop_id=shop_id)
        document = OrderDocument.objects.filter(pk=document_id, order_id=order.pk).first()
        if document is None:
            raise DocumentNotFound(f"Document {document_id} introuvable.")
        if document.generated:
            raise DocumentNotDeletable(
                f"La {document.type_label.lower()} n° {document.number} a été émise : elle ne peut pas être "
                "supprimée. Émettez un avoir pour la corriger.")
        name = document.file.name
        document.delete()
        _set_has_invoice(order)
        logger.info("documents: %s deleted document %s of order %s", who.name, document_id, order_id)
        transaction.on_commit(lambda: documents_storage().delete(name))


# --- issuing invoices and credit notes -----------------------------------------------------------------------


def _next_number(shop_id: int, series: str) -> str:
    InvoiceCounter.objects.get_or_create(shop_id=shop_id, series=series)
    counter = InvoiceCounter.objects.select_for_update().get(shop_id=shop_id, series=series)
    InvoiceCounter.objects.filter(pk=counter.pk).update(last_number=F("last_number") + 1)
    return f"{series}-{shop_id}-{counter.last_number + 1:06d}"


def _check_profile(shop: Shop) -> None:
    missing = [label for label, value in (
        ("raison sociale", shop.legal_name), ("forme juridique", shop.legal_form),
        ("SIREN ou SIRET", shop.identification_number), ("adresse du siège", shop.head_office_street),
        ("code postal du siège", shop.head_office_zip_code), ("ville du siège", shop.head_office_city),
        ("e-mail du service client", shop.customer_service_email)) if not value.strip()]
    if missing:
        raise ShopLegalProfileIncomplete(
            "Complétez le profil légal de la boutique (Paramètres > Profil) avant d'émettre une facture : "
            + ", ".join(missing) + ".")


def _party_of(address: dict[str, Any] | None, fallback_name: str) -> invoicing.Party:
    raw = address or {}
    name = f"{raw.get('firstname') or ''} {raw.get('lastname') or ''}".strip() or fallback_name
    street = ", ".join(str(raw[k]) for k in ("street_1", "street_2") if raw.get(k))
    return invoicing.Party(name=name, street=street, zip_code=str(raw.get("zip_code") or ""),
                           city=str(raw.get("city") or ""), country=invoicing.alpha2(str(raw.get("country_iso_code") or "")))


def _seller(shop: Shop) -> invoicing.Party:
    return invoicing.Party(
        name=shop.legal_name, street=shop.head_office_street, zip_code=shop.head_office_zip_code,
        city=shop.head_office_city, country=invoicing.alpha2(shop.head_office_country_iso_code),
        legal_id=shop.identification_number, rcs=shop.rcs, legal_form=shop.legal_form,
        share_capital=shop.share_capital, vat_number=shop.vat_number, email=shop.customer_service_email)


def _today() -> date:
    return clock.now().astimezone(calendar_tz()).date()


def calendar_tz() -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo("Europe/Paris")


def _invoice_data(order: Order, shop: Shop, number: str) -> invoicing.InvoiceData:
    lines = [line for line in order.lines.all().order_by("index") if line.state not in _DROPPED]
    customer = f"{order.customer_firstname} {order.customer_lastname}".strip()
    buyer = _party_of(order.billing_address, customer)
    buyer = invoicing.Party(**{**{f: getattr(buyer, f) for f in buyer.__dataclass_fields__}, "name": customer})
    delivery = _party_of(order.shipping_address, customer)
    charges = [invoicing.Charge(line.shipping_price_cents - line.shipping_tax_cents, line.shipping_tax_cents,
                                line.shipping_tax_rate) for line in lines if line.shipping_price_cents]
    sale = (order.customer_debited_date or order.created_date).astimezone(calendar_tz()).date()
    return invoicing.InvoiceData(
        number=number, issue_date=_today(), sale_date=sale, seller=_seller(shop), buyer=buyer,
        ship_to=delivery if _address(order.shipping_address) != _address(order.billing_address) else None,
        lines=tuple(invoicing.Line(line.product_title, line.offer_sku, line.quantity,
                                   line.price_cents - line.tax_cents, line.tax_cents, line.tax_rate,
                                   line.eco_contribution_cents * line.quantity) for line in lines),
        charges=_merge_charges(charges), currency=order.currency_iso_code, order_id=order.order_id,
        producer_registration_number=shop.producer_registration_number,
        customer_service_email=shop.customer_service_email, warranty_duration=shop.warranty_duration,
    )


def _merge_charges(charges: list[invoicing.Charge]) -> tuple[invoicing.Charge, ...]:
    merged: dict[Any, list[int]] = {}
    for charge in charges:
        entry = merged.setdefault(charge.rate, [0, 0])
        entry[0] += charge.net_cents
        entry[1] += charge.tax_cents
    return tuple(invoicing.Charge(net, tax, rate) for rate, (net, tax) in merged.items())


def _issue(order: Order, shop: Shop, data: invoicing.InvoiceData, *, doc_type: DocumentType, who: Who,
           written: list[str], refund_group_id: str = "", credit_total: int | None = None) -> OrderDocument:
    pdf, _xml = invoicing.generate(data)
    report = checker.check_invoice(pdf, "application/pdf",
                                   expectations_for(order, shop, credit_total_cents=credit_total))
    prefix = "avoir" if data.credit_note else "facture"
    return _store(order, doc_type=doc_type, file_name=f"{prefix}-{data.number}.pdf", data=pdf,
                  content_type="application/pdf", who=who, written=written, report=report, number=data.number,
                  refund_group_id=refund_group_id, generated=True)


def generate_invoice(*, order_id: str, shop_id: int, who: Who) -> OrderDocument:
    """The order's Factur-X invoice, numbered FA-<shop>-NNNNNN, attached as CUSTOMER_INVOICE."""
    written: list[str] = []
    try:
        with transaction.atomic():
            order = lock_order(order_id, shop_id=shop_id)
            shop = Shop.objects.get(pk=shop_id)
            if order.state not in rules.INVOICEABLE_STATES:
                raise InvoiceNotAllowed("La facture s'émet une fois la commande acceptée et payée par le client.")
            if queries.has_invoice(order.pk):
                raise InvoiceAlreadyExists(
                    "Cette commande a déjà une facture. Supprimez d'abord la facture déposée si elle est à remplacer.")
            _check_profile(shop)
            number = _next_number(shop_id, "FA")
            document = _issue(order, shop, _invoice_data(order, shop, number),
                              doc_type=DocumentType.CUSTOMER_INVOICE, who=who, written=written)
            _set_has_invoice(order)
    except BaseException:
        discard(written)
        raise
    return document


def generate_credit_note(*, order_id: str, shop_id: int, refund_group_id: str, who: Who) -> OrderDocument:
    """A credit note for one refund (Mirakl's order_refund_id), referring to the order's issued invoice."""
    written: list[str] = []
    try:
        with transaction.atomic():
            order = lock_order(order_id, shop_id=shop_id)
            shop = Shop.objects.get(pk=shop_id)
            refunds = [r for r in refund_queries.refunds_of_order(order.pk)
                       if r.group_id == refund_group_id and r.kind == "REFUND"]
            if not refunds:
                raise RefundNotFound(f"Remboursement {refund_group_id} introuvable sur la commande {order_id}.")
            if OrderDocument.objects.filter(order_id=order.pk, refund_group_id=refund_group_id).exists():
                raise CreditNoteAlreadyExists()
            invoice = (OrderDocument.objects.filter(order_id=order.pk, type=DocumentType.CUSTOMER_INVOICE,
                                                    generated=True).order_by("id").first())
            if invoice is None:
                raise InvoiceNotAllowed("Émettez d'abord la facture de la commande : l'avoir s'y réfère.")
            _check_profile(shop)
            number = _next_number(shop_id, "AV")
            base = _invoice_data(order, shop, number)
            lines_by_pk = {line.pk: line for line in order.lines.all()}
            items = [invoicing.Line(f"Remboursement : {lines_by_pk[r.line_id].product_title}",
                                    lines_by_pk[r.line_id].offer_sku, max(r.quantity, 1),
                                    r.amount_cents - r.amount_tax_cents, r.amount_tax_cents,
                                    lines_by_pk[r.line_id].tax_rate) for r in refunds if r.amount_cents]
            # Shipping given back is a line of its own: a credit note may refund nothing but shipping.
            items += [invoicing.Line("Remboursement des frais de port", lines_by_pk[r.line_id].offer_sku, 1,
                                     r.shipping_cents - r.shipping_tax_cents, r.shipping_tax_cents,
                                     lines_by_pk[r.line_id].shipping_tax_rate) for r in refunds if r.shipping_cents]
            total = sum(r.amount_cents + r.shipping_cents for r in refunds)
            data = invoicing.InvoiceData(**{
                **{f: getattr(base, f) for f in base.__dataclass_fields__},
                "lines": tuple(items), "charges": (), "credit_note": True,
                "preceding_number": invoice.number,
                "preceding_date": invoice.date_uploaded.astimezone(calendar_tz()).date(),
                "reason": refunds[0].reason_label})
            document = _issue(order, shop, data, doc_type=DocumentType.CUSTOMER_CREDIT_NOTE, who=who, written=written,
                              refund_group_id=refund_group_id, credit_total=total)
    except BaseException:
        discard(written)
        raise
    return document
