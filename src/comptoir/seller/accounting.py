"""Seller back office, Comptabilité (/vendeur/comptabilite/): balances, the filtered ledger lines, their CSV,
and the operator's commission invoices to the shop (one per payout, Factur-X).

Read-only, through ledger.queries and documents.queries; the French labels and the CSV come from
comptoir.web.accounting.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from comptoir.documents import queries as document_queries
from comptoir.ledger import queries as ledger_queries
from comptoir.seller.forms import TransactionFilterForm
from comptoir.seller.views import seller_view
from comptoir.shops.models import Shop
from comptoir.web.accounting import (
    PAYMENT_STATE_LABELS,
    TRANSACTION_TYPE_LABELS,
    payment_state,
    transactions_csv,
)
from comptoir.web.files import file_download

PAGE_SIZE = 50


def _entries(request: HttpRequest, shop: Shop) -> tuple[TransactionFilterForm, QuerySet[Any]]:
    form = TransactionFilterForm(request.GET or None)
    query = ledger_queries.transactions(form.transaction_filter(shop.id)).order_by("-created_date", "-id")
    return form, query


@seller_view
def accounting(request: HttpRequest) -> HttpResponse:
    shop: Shop = request.shop  # type: ignore[attr-defined]
    form, query = _entries(request, shop)
    page = Paginator(query, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = []
    for entry in page.object_list:
        state = payment_state(entry.account)
        rows.append((entry, TRANSACTION_TYPE_LABELS.get(entry.transaction_type, entry.transaction_type),
                     PAYMENT_STATE_LABELS.get(state, state)))
    params = request.GET.copy()
    params.pop("page", None)
    valid = not form.is_bound or form.is_valid()
    return render(request, "seller/accounting.html", {
        "shop": shop, "nav": "accounting", "balances": ledger_queries.balances(shop.id), "form": form,
        "page": page, "rows": rows, "total": page.paginator.count, "querystring_nopage": params.urlencode(),
        "export_url": f"{reverse('seller:accounting_csv')}?{params.urlencode()}",
        "form_error": "" if valid else "Filtres invalides : la liste n'est pas filtrée. Corrigez-les ci-dessous.",
        "commission_invoices": document_queries.commission_invoices_of_shop(shop.id),
    }, status=200 if valid else 400)


@seller_view
def commission_invoice(request: HttpRequest, document_id: int) -> HttpResponse:
    """One of the shop's commission invoices; another shop's is not found."""
    shop: Shop = request.shop  # type: ignore[attr-defined]
    document = document_queries.commission_invoice_of_shop(shop.id, document_id)
    if document is None:
        raise Http404("Facture introuvable")
    return file_download(document_queries.read_bytes(document), content_type=document.content_type,
                         file_name=document.file_name)


@seller_view
def accounting_export(request: HttpRequest) -> HttpResponse:
    shop: Shop = request.shop  # type: ignore[attr-defined]
    form, query = _entries(request, shop)
    if form.is_bound and not form.is_valid():
        messages.error(request, "Filtres invalides : corrigez-les avant d'exporter.")
        return redirect(f"{reverse('seller:accounting')}?{request.GET.urlencode()}")
    return transactions_csv(query.iterator(chunk_size=500), f"comptabilite-{shop.id}.csv")
