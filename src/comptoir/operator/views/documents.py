"""Operator pages over order documents: download any shop's document, and the orders flagged still without an
invoice N business days after shipment (« Factures manquantes »). Reads through documents.queries."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from comptoir.documents import queries
from comptoir.operator.views.common import operator_view
from comptoir.orders import queries as order_queries
from comptoir.web.files import file_download


@require_GET
@operator_view
def document_download(request: HttpRequest, order_id: str, document_id: int) -> HttpResponse:
    order = order_queries.order_detail(order_id)
    document = queries.document_of_order(order.pk, document_id) if order is not None else None
    if document is None:
        raise Http404("Document introuvable")
    return file_download(queries.read_bytes(document), content_type=document.content_type,
                         file_name=document.file_name)


@require_GET
@operator_view
def invoices_missing(request: HttpRequest) -> HttpResponse:
    flags = list(queries.invoice_missing_flags()[:500])
    return render(request, "operator/invoices_missing.html", {"flags": flags, "nav": "orders",
                                                              "days": queries.missing_days()})
