"""Every read of documents the surfaces need (the API's lists, the seller's tab, the customer space, the
orders flagged still without an invoice after shipment, the operator's commission invoices to shops)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import QuerySet

from comptoir.documents.models import InvoiceMissingFlag, OrderDocument, ShopDocument, ShopDocumentType
from comptoir.documents.rules import CUSTOMER_TYPES, INVOICE_TYPES
from comptoir.orders.models import Order
from comptoir.refunds import queries as refund_queries

# Orders the invoice is expected for once shipped (a refused or cancelled order has none).
SHIPPED_STATES = ("SHIPPED", "TO_COLLECT", "RECEIVED", "CLOSED", "INCIDENT_OPEN", "INCIDENT_CLOSED")


def documents_of_orders(shop_id: int, order_ids: Sequence[str]) -> QuerySet[OrderDocument]:
    return (OrderDocument.objects.filter(shop_id=shop_id, order__order_id__in=list(order_ids))
            .select_related("order").order_by("order_id", "id"))


def documents_by_ids(shop_id: int, ids: Sequence[int]) -> QuerySet[OrderDocument]:
    return OrderDocument.objects.filter(shop_id=shop_id, pk__in=list(ids)).select_related("order").order_by("id")


def documents_of_shop(shop_id: int, *, order_ids: Sequence[str] = (), types: Sequence[str] = ()) -> QuerySet[
        OrderDocument]:
    query = OrderDocument.objects.filter(shop_id=shop_id).select_related("order")
    if order_ids:
        query = query.filter(order__order_id__in=list(order_ids))
    if types:
        query = query.filter(type__in=list(types))
    return query.order_by("order_id", "id")


def documents_of_order(order_pk: int) -> list[OrderDocument]:
    return list(OrderDocument.objects.filter(order_id=order_pk).order_by("id"))


def document_of_order(order_pk: int, document_id: int) -> OrderDocument | None:
    return OrderDocument.objects.filter(order_id=order_pk, pk=document_id).first()


def customer_documents(order_pk: int) -> list[OrderDocument]:
    """What the customer space shows: invoices and credit notes, as soon as they exist."""
    return list(OrderDocument.objects.filter(order_id=order_pk, type__in=[t.value for t in CUSTOMER_TYPES])
                .order_by("id"))


def read_bytes(document: OrderDocument | ShopDocument) -> bytes:
    with document.file.open("rb") as handle:
        return handle.read()  # type: ignore[no-any-return]


def missing_days() -> int:
    """INVOICE_MISSING_BUSINESS_DAYS: how many business days after shipment an invoice is expected."""
    return int(settings.COMPTOIR.get("INVOICE_MISSING_BUSINESS_DAYS", 2))


def invoice_missing_flags(shop_id: int | None = None) -> QuerySet[InvoiceMissingFlag]:
    """Orders flagged by documents.timers (N business days after shipment) that still have no invoice: the
    seller's and the operator's to-do, oldest shipment first. An invoice uploaded later takes it off the list."""
    query = InvoiceMissingFlag.objects.filter(order__has_invoice=False)
    if shop_id is not None:
        query = query.filter(shop_id=shop_id)
    return query.select_related("order", "shop").order_by("shipped_date", "id")


def invoice_missing_count(shop_id: int) -> int:
    return InvoiceMissingFlag.objects.filter(shop_id=shop_id, order__has_invoice=False).count()


def invoice_missing_orders(shop_id: int | None = None, *, limit: int = 200) -> list[Order]:
    return [flag.order for flag in invoice_missing_flags(shop_id)[:limit]]


@dataclass(frozen=True, slots=True)
class PendingCreditNote:
    """A refund (Mirakl's order_refund_id) of the order that has no credit note yet."""
    refund_group_id: str
    total_cents: int
    reason_label: str


def refunds_without_credit_note(order_pk: int) -> list[PendingCreditNote]:
    """The seller tab's « Générer un avoir »: refunds (not cancelations before shipment) still without one."""
    done = set(OrderDocument.objects.filter(order_id=order_pk).exclude(refund_group_id="")
               .values_list("refund_group_id", flat=True))
    groups: dict[str, list[Any]] = {}
    for refund in refund_queries.refunds_of_order(order_pk):
        if refund.kind == "REFUND" and refund.group_id not in done:
            groups.setdefault(refund.group_id, []).append(refund)
    return [PendingCreditNote(group, sum(r.amount_cents + r.shipping_cents for r in refunds),
                              refunds[0].reason_label) for group, refunds in groups.items()]


def has_generated_invoice(order_pk: int) -> bool:
    return OrderDocument.objects.filter(order_id=order_pk, type="CUSTOMER_INVOICE", generated=True).exists()


def has_invoice(order_pk: int) -> bool:
    return OrderDocument.objects.filter(order_id=order_pk, type__in=[t.value for t in INVOICE_TYPES]).exists()


def commission_invoices_of_shop(shop_id: int, *, limit: int = 100) -> list[ShopDocument]:
    """The seller's Comptabilité: its commission invoices, newest first."""
    return list(ShopDocument.objects.filter(shop_id=shop_id, type=ShopDocumentType.COMMISSION_INVOICE)
                .order_by("-id")[:limit])


def commission_invoice_of_shop(shop_id: int, document_id: int) -> ShopDocument | None:
    return ShopDocument.objects.filter(shop_id=shop_id, pk=document_id,
                                       type=ShopDocumentType.COMMISSION_INVOICE).first()


def commission_invoices_of_payout(payout_id: int) -> dict[int, ShopDocument]:
    """Shop id → the commission invoice a payout issued it (the operator's payout page)."""
    return {document.shop_id: document for document in
            ShopDocument.objects.filter(payout_id=payout_id, type=ShopDocumentType.COMMISSION_INVOICE)}


def commission_invoice_of_payout(payout_id: int, document_id: int) -> ShopDocument | None:
    return ShopDocument.objects.filter(payout_id=payout_id, pk=document_id,
                                       type=ShopDocumentType.COMMISSION_INVOICE).first()
