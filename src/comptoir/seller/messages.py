"""Seller messages: the « Messages » menu (all conversations, « Non lus » tab), the order page's « Messages » tab
(read, reply, attachments, « Démarrer une conversation ») and the guide's language rule: a message to the customer
not written in French is shown back with a warning and sent only on « Envoyer quand même » (English is fine when
the customer wrote English). Thin: messaging services write, messaging queries read."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages as flash
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from comptoir.core.errors import ComptoirError
from comptoir.messaging import queries, rules, services
from comptoir.messaging.rules import Participant
from comptoir.orders.models import Order
from comptoir.seller.views import _detail_context, _shop_order, seller_view
from comptoir.shops.models import Shop
from comptoir.web.errors import french_message
from comptoir.web.files import file_download
from comptoir.web.forms import FilesField, MultipleFileInput, message_files

PAGE_SIZE = 50
RECIPIENTS = [("CUSTOMER", "Le client"), ("OPERATOR", "Le service client de la marketplace"),
              ("BOTH", "Le client et le service client")]
_TO = {"CUSTOMER": ["CUSTOMER"], "OPERATOR": ["OPERATOR"], "BOTH": ["CUSTOMER", "OPERATOR"]}


class ReplyForm(forms.Form):
    body = forms.CharField(label="Votre message", widget=forms.Textarea(attrs={"rows": 4}),
                           max_length=rules.MAX_BODY_LENGTH)
    files = FilesField(label="Pièces jointes", required=False, widget=MultipleFileInput(),
                       help_text="PDF, JPEG ou PNG, 5 Mo au plus chacune.")


class StartForm(ReplyForm):
    field_order = ["destinataire", "sujet", "body", "files"]
    destinataire = forms.ChoiceField(label="Destinataire", choices=RECIPIENTS, initial="CUSTOMER")
    sujet = forms.CharField(label="Sujet", max_length=rules.MAX_SUBJECT_LENGTH, initial=rules.DEFAULT_SUBJECT)


def _author(request: HttpRequest) -> services.Author:
    shop: Shop = request.shop  # type: ignore[attr-defined]
    return services.Author(Participant.SHOP, shop.name)


def _tab_url(order: Order) -> str:
    return reverse("seller:messages_tab", args=[order.order_id])


def _page(request: HttpRequest, order: Order, *, start_form: StartForm | None = None,
          reply_forms: dict[int, ReplyForm] | None = None, warning: dict[str, Any] | None = None,
          error: str = "", status: int = 200) -> HttpResponse:
    context: dict[str, Any] = _detail_context(request, order)
    threads = context["message_threads"]
    forms_by_thread = reply_forms or {}
    for thread in threads:
        thread.reply_form = forms_by_thread.get(thread.pk) or ReplyForm(auto_id=f"t{thread.pk}_%s")  # type: ignore[attr-defined]
    context.update(tab="messages", form_error=error, messages_tab={
        "threads": threads, "start_form": start_form or StartForm(auto_id="new_%s"), "warning": warning,
        "open_start": start_form is not None or not threads,
    })
    return render(request, "seller/order_detail.html", context, status=status)


@require_GET
@seller_view
def messages_tab(request: HttpRequest, order_id: str) -> HttpResponse:
    """The order's conversations; opening them marks them read for the shop."""
    order = _shop_order(request, order_id)
    services.mark_order_read(order_pk=order.pk, participant=Participant.SHOP)
    return _page(request, order)


def _language_warning(order: Order, body: str, to: list[str]) -> bool:
    if "CUSTOMER" not in to:
        return False
    return rules.needs_language_warning(body, queries.customer_languages(order.pk))


def _confirmed(request: HttpRequest) -> bool:
    return request.POST.get("confirmer_langue") == "1"


@require_POST
@seller_view
def start(request: HttpRequest, order_id: str) -> HttpResponse:
    order = _shop_order(request, order_id)
    form = StartForm(request.POST, request.FILES, auto_id="new_%s")
    if not form.is_valid():
        return _page(request, order, start_form=form, error="Le message n'a pas été envoyé : corrigez le formulaire.",
                     status=400)
    to = _TO[form.cleaned_data["destinataire"]]
    files = message_files(form)
    if not _confirmed(request) and _language_warning(order, form.cleaned_data["body"], to):
        return _page(request, order, start_form=form, warning={"thread": None, "files": bool(files)})
    try:
        services.start_thread(order_id=order.order_id, shop_id=order.shop_id, author=_author(request),
                              body=form.cleaned_data["body"], to=to, topic_value=form.cleaned_data["sujet"],
                              files=files)
    except ComptoirError as exc:
        return _page(request, order, start_form=form, error=french_message(exc), status=400)
    flash.success(request, "Message envoyé.")
    return redirect(_tab_url(order))


@require_POST
@seller_view
def reply(request: HttpRequest, order_id: str, thread_id: int) -> HttpResponse:
    order = _shop_order(request, order_id)
    form = ReplyForm(request.POST, request.FILES, auto_id=f"t{thread_id}_%s")
    thread = next((t for t in queries.order_threads(order.pk, Participant.SHOP) if t.pk == thread_id), None)
    if thread is None:
        raise Http404("Conversation introuvable")
    if not form.is_valid():
        return _page(request, order, reply_forms={thread_id: form},
                     error="Le message n'a pas été envoyé : corrigez le formulaire.", status=400)
    files = message_files(form)
    to = ["CUSTOMER"] if "CUSTOMER" in thread.participants else ["OPERATOR"]
    if not _confirmed(request) and _language_warning(order, form.cleaned_data["body"], to):
        return _page(request, order, reply_forms={thread_id: form}, warning={"thread": thread_id, "files": bool(files)})
    try:
        services.reply(thread_id=thread_id, order_id=order.order_id, shop_id=order.shop_id, author=_author(request),
                       body=form.cleaned_data["body"], to=to, files=files)
    except ComptoirError as exc:
        return _page(request, order, reply_forms={thread_id: form}, error=french_message(exc), status=400)
    flash.success(request, "Réponse envoyée.")
    return redirect(f"{_tab_url(order)}#conversation-{thread_id}")


@require_GET
@seller_view
def attachment(request: HttpRequest, order_id: str, attachment_id: int) -> HttpResponse:
    order = _shop_order(request, order_id)
    found = queries.order_attachment(order.pk, attachment_id)
    if found is None or not rules.visible_to(Participant.SHOP, found.message.author_type, found.message.recipients):
        raise Http404("Pièce jointe introuvable")
    return file_download(queries.read_bytes(found), content_type=found.content_type,
                         file_name=found.name)


@require_GET
@seller_view
def inbox(request: HttpRequest) -> HttpResponse:
    """« Messages »: every conversation of the shop, newest first; the « Non lus » tab keeps the unread ones."""
    shop: Shop = request.shop  # type: ignore[attr-defined]
    unread_only = request.GET.get("onglet") == "non-lus"
    threads = list(queries.shop_inbox(shop.id, unread_only=unread_only)[:PAGE_SIZE])
    return render(request, "seller/messages.html", {
        "shop": shop, "nav": "messages", "threads": threads, "unread_only": unread_only,
        "counts": queries.shop_unread(shop.id), "page_size": PAGE_SIZE,
    })
