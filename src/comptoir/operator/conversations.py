"""The operator's side of an order's conversations, shared by the incident page and the order's « Messages »
page: every thread (the operator reads them all) with its reply form, « Démarrer une conversation » with the
seller only or with the customer and the seller, and posting both. Thin over messaging services and queries."""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.http import Http404, HttpRequest

from comptoir.core.errors import ComptoirError
from comptoir.messaging import queries, services
from comptoir.messaging.errors import ThreadNotFound
from comptoir.messaging.models import Thread
from comptoir.messaging.rules import Participant
from comptoir.operator.incident_forms import RECIPIENTS_TO, ReplyForm, StartForm
from comptoir.orders.models import Order
from comptoir.web.errors import french_message
from comptoir.web.forms import message_files

NOT_SENT = "Le message n'a pas été envoyé : corrigez le formulaire."


@dataclass
class Posted:
    form: forms.Form
    error: str = ""  # French; empty once sent
    thread_id: int | None = None


def author(request: HttpRequest) -> services.Author:
    user = request.user
    return services.Author(Participant.OPERATOR, user.get_full_name() or user.get_username())  # type: ignore[union-attr]


def reply_form(thread_id: int, data: object = None, files: object = None) -> ReplyForm:
    return ReplyForm(data, files, auto_id=f"t{thread_id}_%s")  # type: ignore[arg-type]


def start_form(data: object = None, files: object = None) -> StartForm:
    return StartForm(data, files, auto_id="new_%s")  # type: ignore[arg-type]


def threads(order: Order, *, bound: Posted | None = None) -> list[Thread]:
    """Every thread of the order, oldest first, each with `visible` (all its messages) and its `reply_form`
    (the one just posted when it came back with errors)."""
    found = queries.order_threads(order.pk, Participant.OPERATOR)
    for thread in found:
        keep = bound is not None and bound.thread_id == thread.pk
        thread.reply_form = bound.form if keep and bound else reply_form(thread.pk)  # type: ignore[attr-defined]
    return found


def post_reply(request: HttpRequest, order: Order, thread_id: int) -> Posted:
    """A reply as the operator, to every other member of the thread. Another order's thread is not found."""
    form = reply_form(thread_id, request.POST, request.FILES)
    if not form.is_valid():
        return Posted(form, NOT_SENT, thread_id)
    try:
        services.reply(thread_id=thread_id, order_id=order.order_id, author=author(request),
                       body=form.cleaned_data["body"], files=message_files(form))
    except ThreadNotFound:
        raise Http404("Conversation introuvable") from None
    except ComptoirError as exc:
        return Posted(form, french_message(exc), thread_id)
    return Posted(form, "", thread_id)


def post_start(request: HttpRequest, order: Order) -> Posted:
    form = start_form(request.POST, request.FILES)
    if not form.is_valid():
        return Posted(form, NOT_SENT)
    try:
        thread, _ = services.start_thread(
            order_id=order.order_id, author=author(request), body=form.cleaned_data["body"],
            to=RECIPIENTS_TO[form.cleaned_data["destinataire"]], topic_value=form.cleaned_data["sujet"],
            files=message_files(form))
    except ComptoirError as exc:
        return Posted(form, french_message(exc))
    return Posted(form, "", thread.pk)


def mark_read(order: Order) -> None:
    services.mark_order_read(order_pk=order.pk, participant=Participant.OPERATOR)
