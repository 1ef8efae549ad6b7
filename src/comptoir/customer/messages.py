"""Customer space messages: the customer writes to the seller (a new conversation or a reply) with attachments,
and downloads those of the conversation. The customer is whoever holds the signed order link; a wrong link,
another order's thread or attachment is a 404. Thin: messaging services and queries."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages as flash
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from comptoir.core.errors import ComptoirError
from comptoir.customer.links import order_id_from_token
from comptoir.messaging import queries, rules, services
from comptoir.messaging.rules import Participant
from comptoir.orders import queries as order_queries
from comptoir.orders.models import Order
from comptoir.web.errors import french_message
from comptoir.web.files import file_download
from comptoir.web.forms import FilesField, MultipleFileInput, message_files


class CustomerMessageForm(forms.Form):
    sujet = forms.CharField(label="Sujet", max_length=rules.MAX_SUBJECT_LENGTH, required=False)
    body = forms.CharField(label="Votre message", widget=forms.Textarea(attrs={"rows": 4}),
                           max_length=rules.MAX_BODY_LENGTH)
    files = FilesField(label="Pièces jointes (facultatif)", required=False, widget=MultipleFileInput(),
                       help_text="PDF, JPEG ou PNG, 5 Mo au plus chacune (une photo du colis, par exemple).")


def customer_order(token: str) -> Order:
    found = order_id_from_token(token)
    order = order_queries.order_detail(found[0]) if found else None
    if order is None or (found and found[1] != order.relay_token):
        raise Http404("Commande introuvable")
    return order


def _author(order: Order) -> services.Author:
    return services.Author(Participant.CUSTOMER, f"{order.customer_firstname} {order.customer_lastname}".strip())


def _back(token: str, anchor: str = "messages") -> HttpResponse:
    return redirect(f"{reverse('customer:order', args=[token])}#{anchor}")


def _refused(request: HttpRequest, token: str, form: forms.Form, exc: ComptoirError | None = None) -> HttpResponse:
    if exc is not None:
        flash.error(request, f"Votre message n'a pas été envoyé : {french_message(exc)}")
    else:
        errors = "; ".join(str(e) for field in form.errors.values() for e in field)
        flash.error(request, f"Votre message n'a pas été envoyé : {errors}")
    return _back(token)


@require_POST
def write(request: HttpRequest, token: str) -> HttpResponse:
    """« Écrire au vendeur »: a new conversation with the seller."""
    order = customer_order(token)
    form = CustomerMessageForm(request.POST, request.FILES)
    if not form.is_valid():
        return _refused(request, token, form)
    try:
        services.start_thread(order_id=order.order_id, author=_author(order), body=form.cleaned_data["body"],
                              to=["SHOP"], topic_value=form.cleaned_data["sujet"], files=message_files(form))
    except ComptoirError as exc:
        return _refused(request, token, form, exc)
    flash.success(request, "Votre message a été envoyé au vendeur.")
    return _back(token)


@require_POST
def reply(request: HttpRequest, token: str, thread_id: int) -> HttpResponse:
    order = customer_order(token)
    form = CustomerMessageForm(request.POST, request.FILES)
    if not form.is_valid():
        return _refused(request, token, form)
    try:
        services.reply(thread_id=thread_id, order_id=order.order_id, author=_author(order),
                       body=form.cleaned_data["body"], files=message_files(form))
    except ComptoirError as exc:
        if exc.status == 404:
            raise Http404("Conversation introuvable") from None
        return _refused(request, token, form, exc)
    flash.success(request, "Votre réponse a été envoyée.")
    return _back(token, f"conversation-{thread_id}")


@require_GET
def attachment(request: HttpRequest, token: str, attachment_id: int) -> HttpResponse:
    order = customer_order(token)
    found = queries.order_attachment(order.pk, attachment_id)
    if found is None or not rules.visible_to(Participant.CUSTOMER, found.message.author_type,
                                             found.message.recipients):
        raise Http404("Pièce jointe introuvable")
    response = file_download(queries.read_bytes(found), content_type=found.content_type,
                             file_name=found.name)
    response["X-Robots-Tag"] = "noindex"
    return response


def order_messages(order: Order) -> dict[str, Any]:
    """What the order page shows of the conversations (marked read for the customer as it opens them)."""
    threads = queries.order_threads(order.pk, Participant.CUSTOMER)
    services.mark_order_read(order_pk=order.pk, participant=Participant.CUSTOMER)
    return {"threads": threads, "form": CustomerMessageForm()}
