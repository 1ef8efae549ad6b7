"""« Documents » tab of the seller's order page (the guide's path: Documents > Envoyer un document > Type de
document > Facture): list, upload with the invoice checker's report, download, delete, « Générer la facture », « Générer un avoir » for each refund
without one, and the shop's « Factures manquantes » list.
Thin: the documents services write; a refusal is shown in French and nothing is saved."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from comptoir.core.errors import ComptoirError
from comptoir.documents import queries, rules, services
from comptoir.documents.models import OrderDocument
from comptoir.orders.models import Order
from comptoir.seller.views import _detail_context, _shop_order, _who, seller_view
from comptoir.web.errors import french_message
from comptoir.web.files import file_download


class UploadForm(forms.Form):
    type_code = forms.ChoiceField(label="Type de document",
                                  choices=[(t.value, rules.TYPE_LABELS[t]) for t in rules.DocumentType])
    document = forms.FileField(label="Document", help_text="PDF, JPEG ou PNG, 10 Mo au plus.")


def _tab_url(order: Order) -> str:
    return reverse("seller:documents", args=[order.order_id])


def _page(request: HttpRequest, order: Order, *, form: UploadForm | None = None,
          report_of: OrderDocument | None = None, error: str = "", status: int = 200) -> HttpResponse:
    context: dict[str, Any] = _detail_context(request, order)
    context.update(tab="documents", form_error=error, documents_tab={
        "documents": queries.documents_of_order(order.pk), "form": form or UploadForm(),
        "report_of": report_of, "can_generate": order.state in rules.INVOICEABLE_STATES and not order.has_invoice,
        "pending_credit_notes": queries.refunds_without_credit_note(order.pk),
        "has_generated_invoice": queries.has_generated_invoice(order.pk),
    })
    return render(request, "seller/order_detail.html", context, status=status)


@require_GET
@seller_view
def documents_tab(request: HttpRequest, order_id: str) -> HttpResponse:
    order = _shop_order(request, order_id)
    shown = request.GET.get("rapport", "")
    report_of = queries.document_of_order(order.pk, int(shown)) if shown.isdigit() else None
    return _page(request, order, report_of=report_of)


@require_POST
@seller_view
def upload(request: HttpRequest, order_id: str) -> HttpResponse:
    order = _shop_order(request, order_id)
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, order, form=form, error="Le document n'a pas été envoyé : corrigez le formulaire.",
                     status=400)
    upload_file = form.cleaned_data["document"]
    limit = services.max_bytes()
    data = upload_file.read(limit + 1) if (upload_file.size or 0) <= limit else b""
    item = services.UploadItem(upload_file.name or "", form.cleaned_data["type_code"], data, size=upload_file.size)
    try:
        document = services.upload_document(order_id=order.order_id, shop_id=order.shop_id, item=item,
                                            who=_who(request))
    except ComptoirError as exc:
        return _page(request, order, form=form, error=french_message(exc), status=400)
    messages.success(request, f"Document « {document.file_name} » envoyé.")
    return redirect(f"{_tab_url(order)}?rapport={document.pk}")


@require_GET
@seller_view
def download(request: HttpRequest, order_id: str, document_id: int) -> HttpResponse:
    order = _shop_order(request, order_id)
    document = queries.document_of_order(order.pk, document_id)
    if document is None:
        raise Http404("Document introuvable")
    return file_download(queries.read_bytes(document), content_type=document.content_type,
                         file_name=document.file_name)


@require_POST
@seller_view
def delete(request: HttpRequest, order_id: str, document_id: int) -> HttpResponse:
    order = _shop_order(request, order_id)
    try:
        services.delete_document(document_id=document_id, shop_id=order.shop_id, who=_who(request))
    except ComptoirError as exc:
        messages.error(request, french_message(exc))
        return redirect(_tab_url(order))
    messages.success(request, "Document supprimé.")
    return redirect(_tab_url(order))


@require_POST
@seller_view
def generate_invoice(request: HttpRequest, order_id: str) -> HttpResponse:
    order = _shop_order(request, order_id)
    try:
        document = services.generate_invoice(order_id=order.order_id, shop_id=order.shop_id, who=_who(request))
    except ComptoirError as exc:
        messages.error(request, french_message(exc))
        return redirect(_tab_url(order))
    messages.success(request, f"Facture n° {document.number} émise : le client peut la télécharger.")
    return redirect(f"{_tab_url(order)}?rapport={document.pk}")


@require_POST
@seller_view
def generate_credit_note(request: HttpRequest, order_id: str) -> HttpResponse:
    order = _shop_order(request, order_id)
    try:
        document = services.generate_credit_note(order_id=order.order_id, shop_id=order.shop_id,
                                                 refund_group_id=request.POST.get("remboursement", ""),
                                                 who=_who(request))
    except ComptoirError as exc:
        messages.error(request, french_message(exc))
        return redirect(_tab_url(order))
    messages.success(request, f"Avoir n° {document.number} émis : le client peut le télécharger.")
    return redirect(f"{_tab_url(order)}?rapport={document.pk}")


@require_GET
@seller_view
def invoices_missing(request: HttpRequest) -> HttpResponse:
    """The home indicator's list: the shop's shipped orders flagged still without an invoice."""
    shop = request.shop  # type: ignore[attr-defined]
    flags = list(queries.invoice_missing_flags(shop.id)[:500])
    return render(request, "seller/invoices_missing.html", {"shop": shop, "flags": flags, "nav": "home",
                                                            "days": queries.missing_days()})
