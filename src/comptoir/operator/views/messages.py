"""The operator's « Messages » (/operateur/messages/): the conversations where a customer waits for the seller,
the longest wait first, with the business hours elapsed and the customer-service clock's steps (reminder at 48
business hours, mediation at 72); and one order's conversations, which the operator reads in full and answers.
Reads through incidents and messaging queries, writes through messaging services."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from comptoir.core import clock
from comptoir.incidents import queries as incident_queries
from comptoir.messaging import queries as message_queries
from comptoir.messaging import rules as message_rules
from comptoir.messaging.models import Thread
from comptoir.operator import conversations
from comptoir.operator.relay_forms import RelayFilterForm
from comptoir.operator.views.common import operator_view
from comptoir.operator.views.orders import _order
from comptoir.orders.models import Order
from comptoir.orders.services.lifecycle import calendar
from comptoir.web.files import file_download

PER_PAGE = 50


@dataclass(frozen=True, slots=True)
class Waiting:
    thread: Thread
    hours: int  # business hours the customer has waited
    next_step: str  # what the clock does next, in French


def _hours(name: str, default: int) -> int:
    return int(settings.COMPTOIR.get(name, default))


def _waiting(thread: Thread, now: datetime) -> Waiting:
    cal, since = calendar(), thread.shop_reply_needed_since
    assert since is not None
    remind = _hours("REPLY_REMINDER_BUSINESS_HOURS", message_rules.REMINDER_BUSINESS_HOURS)
    escalate = _hours("REPLY_ESCALATION_BUSINESS_HOURS", message_rules.ESCALATION_BUSINESS_HOURS)
    step = message_rules.next_reply_step(since, thread.reply_reminded_at, thread.reply_escalated_at,
                                         cal.add_business_hours, remind_hours=remind, escalate_hours=escalate)
    if step is None:
        text = "Médiation de l'opérateur en cours"
    else:
        what = "relance du vendeur" if step.kind == "REMIND" else "incident et médiation"
        text = f"{what[0].upper()}{what[1:]} le {step.due_at.astimezone(cal.tz):%d/%m/%Y à %H:%M}"
    return Waiting(thread, int(cal.business_hours_between(since, now).total_seconds() // 3600), text)


class ShopFilterForm(RelayFilterForm):
    """Only the shop filter of the relay page's form."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        del self.fields["verdict"]


@require_GET
@operator_view
def awaiting(request: HttpRequest) -> HttpResponse:
    form = ShopFilterForm(request.GET or None)
    valid = not form.is_bound or form.is_valid()
    shop_id = form.cleaned_data.get("boutique") if form.is_bound and valid else None
    query = incident_queries.threads_awaiting_seller(shop_id=shop_id)
    page = Paginator(query if valid else query.none(), PER_PAGE).get_page(request.GET.get("page"))
    now = clock.now()
    kept = request.GET.copy()
    kept.pop("page", None)
    return render(request, "operator/messages.html", {
        "nav": "messages", "form": form, "page": page, "rows": [_waiting(t, now) for t in page.object_list],
        "querystring_nopage": kept.urlencode(),
        "form_error": "" if valid else "Filtre invalide : corrigez-le ci-dessous.",
    }, status=200 if valid else 400)


def _page(request: HttpRequest, order: Order, *, posted: conversations.Posted | None = None,
          status: int = 200) -> HttpResponse:
    conversations.mark_read(order)
    start = posted if posted is not None and posted.thread_id is None else None
    return render(request, "operator/order_messages.html", {
        "nav": "messages", "order": order,
        "incidents": incident_queries.order_incidents(order.pk, history=()),
        "threads": conversations.threads(order, bound=posted if posted and posted.thread_id else None),
        "start_form": start.form if start else conversations.start_form(),
        "form_error": posted.error if posted else "",
    }, status=status)


@require_GET
@operator_view
def order_messages(request: HttpRequest, order_id: str) -> HttpResponse:
    return _page(request, _order(order_id))


@require_POST
@operator_view
def reply(request: HttpRequest, order_id: str, thread_id: int) -> HttpResponse:
    order = _order(order_id)
    posted = conversations.post_reply(request, order, thread_id)
    if posted.error:
        return _page(request, order, posted=posted, status=400)
    messages.success(request, "Réponse envoyée.")
    return redirect(f"{reverse('operator:order_messages', args=[order.order_id])}#conversation-{thread_id}")


@require_POST
@operator_view
def start(request: HttpRequest, order_id: str) -> HttpResponse:
    order = _order(order_id)
    posted = conversations.post_start(request, order)
    if posted.error:
        return _page(request, order, posted=posted, status=400)
    messages.success(request, "Conversation démarrée.")
    return redirect(f"{reverse('operator:order_messages', args=[order.order_id])}#conversation-{posted.thread_id}")


@require_GET
@operator_view
def attachment(request: HttpRequest, order_id: str, attachment_id: int) -> HttpResponse:
    """The operator reads every message, so every attachment of the order's conversations."""
    order = _order(order_id)
    found = message_queries.order_attachment(order.pk, attachment_id)
    if found is None:
        raise Http404("Pièce jointe introuvable")
    return file_download(message_queries.read_bytes(found), content_type=found.content_type, file_name=found.name)
