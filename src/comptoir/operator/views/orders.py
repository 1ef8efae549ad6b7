"""Operator pages over orders: the fraud queue, every order across shops, the fraud decisions.

Reads through orders.queries (via comptoir.web.orderlist), writes through orders.services.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from comptoir.core.errors import ComptoirError
from comptoir.documents import queries as document_queries
from comptoir.operator import incident_pages
from comptoir.operator.forms import NoteForm, OperatorOrderFilterForm, ReasonForm
from comptoir.operator.views.common import BASE, FORM_ERROR, operator_view, who
from comptoir.orders import queries, services
from comptoir.orders.links import customer_path
from comptoir.orders.models import Order
from comptoir.orders.services.lifecycle import facts_of
from comptoir.orders.states import Actor, OrderState, Trigger, allowed_triggers
from comptoir.replica import listing_reads
from comptoir.web import orderlist
from comptoir.web.errors import french_message
from comptoir.web.refunds import order_refunds
from comptoir.web.views import confirmation, invalid_form_dialog, is_confirmed


@operator_view
@listing_reads()  # the replica's, when there is one (comptoir/replica.py)
def fraud_queue(request: HttpRequest) -> HttpResponse:
    query = orderlist.filter_orders({"etat": [OrderState.STAGING], "tri": "date"}, shop_id=None)
    page = orderlist.paginate(query, request.GET.get("page"), 50)
    return render(request, "operator/fraud_queue.html", {
        "page": page, "rows": [(o, None) for o in page.object_list], "nav": "fraud", "querystring_nopage": "",
        "total": page.paginator.count,
    })


@operator_view
@listing_reads()
def order_list(request: HttpRequest) -> HttpResponse:
    form = OperatorOrderFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    query = orderlist.filter_orders(data, shop_id=data.get("boutique"))
    if request.GET.get("format") == "csv" and (not form.is_bound or form.is_valid()):
        return orderlist.csv_response(query, "commandes.csv", with_shop=True)
    page = orderlist.paginate(query, request.GET.get("page"), data.get("par_page") or 20)
    params = request.GET.copy()
    params.pop("page", None)
    return render(request, "operator/orders.html", {
        "form": form, "page": page, "rows": [(o, _full_customer(o)) for o in page.object_list],
        "nav": "orders", "querystring_nopage": params.urlencode(), "total": page.paginator.count,
        "export_url": f"?{params.urlencode()}&format=csv" if params else "?format=csv",
    }, status=400 if form.is_bound and not form.is_valid() else 200)


def _full_customer(order: Order) -> dict[str, Any]:
    """The operator is the customer's counterpart: it sees the whole snapshot."""
    return {"civility": order.customer_civility, "firstname": order.customer_firstname,
            "lastname": order.customer_lastname, "email": order.customer_email,
            "billing_address": order.billing_address or None, "shipping_address": order.shipping_address or None}


def _order(order_id: str) -> Order:
    order = queries.order_detail(order_id)
    if order is None:
        raise Http404("Commande introuvable")
    return order


def _reject_form(data: Any = None) -> ReasonForm:
    form = ReasonForm(data, prefix="rejet")
    form.fields["reason"].label = "Motif du rejet"
    return form


def _detail_context(order: Order) -> dict[str, Any]:
    lines = list(order.lines.all())
    allowed = allowed_triggers(facts_of(order, lines), Actor.OPERATOR)
    return {
        "order": order, "lines": lines, "history": list(order.history.all()), "allowed": allowed,
        "customer": _full_customer(order), "nav": "orders", "customer_path": customer_path(order),
        "can_approve": Trigger.APPROVE in allowed, "can_reject": Trigger.REJECT in allowed,
        "can_request_documents": Trigger.REQUEST_DOCUMENTS in allowed,
        "reject_form": _reject_form(), "note_form": NoteForm(prefix="docs"),
        **order_refunds(order, lines, Actor.OPERATOR),
        "documents": document_queries.documents_of_order(order.pk),
        **incident_pages.order_zone(order, lines),
    }


@operator_view
def order_detail(request: HttpRequest, order_id: str) -> HttpResponse:
    return render(request, "operator/order_detail.html", _detail_context(_order(order_id)))


FRAUD_ACTIONS = {
    "approuver": (Trigger.APPROVE, "Valider la commande", "La commande passera en attente d'acceptation par le vendeur."),
    "rejeter": (Trigger.REJECT, "Rejeter la commande", "La commande sera annulée et le paiement du client libéré."),
    "justificatifs": (Trigger.REQUEST_DOCUMENTS, "Demander des justificatifs au client",
                      "La commande reste en détection de fraude en attendant les documents du client."),
}


@require_POST
@operator_view
def fraud_decision(request: HttpRequest, order_id: str, action: str) -> HttpResponse:
    if action not in FRAUD_ACTIONS:
        raise Http404()
    order = _order(order_id)
    trigger, title, effect = FRAUD_ACTIONS[action]
    detail_url = reverse("operator:order", args=[order.order_id])
    if trigger not in allowed_triggers(facts_of(order, list(order.lines.all())), Actor.OPERATOR):
        messages.error(request, "Cette action n'est plus possible sur cette commande.")
        return redirect(detail_url)
    form: ReasonForm | NoteForm | None = None
    text = ""
    if action == "rejeter":
        form = _reject_form(request.POST)
    elif action == "justificatifs":
        form = NoteForm(request.POST, prefix="docs")
    if form is not None:
        if not form.is_valid():
            if request.htmx:  # type: ignore[attr-defined]
                return invalid_form_dialog(request, form)
            context = _detail_context(order)
            context["reject_form" if action == "rejeter" else "note_form"] = form
            context["form_error"] = FORM_ERROR
            return render(request, "operator/order_detail.html", context, status=400)
        text = form.cleaned_data.get("reason") or form.cleaned_data.get("note") or ""
    if not is_confirmed(request):
        summary = [f"Commande {order.order_id} (boutique {order.shop_id}).", effect]
        if text:
            summary.append(f"Motif : {text}")
        return confirmation(request, surface_base=BASE, title=title, summary=summary,
                            action=reverse("operator:fraud", args=[order.order_id, action]),
                            cancel_url=detail_url, confirm_label=title, danger=action == "rejeter")
    try:
        if action == "approuver":
            services.approve_order(order_id=order.order_id, who=who(request))
            messages.success(request, f"Commande {order.order_id} validée : elle attend l'acceptation du vendeur.")
        elif action == "rejeter":
            services.reject_order(order_id=order.order_id, reason=text, who=who(request))
            messages.success(request, f"Commande {order.order_id} rejetée.")
        else:
            services.request_customer_documents(order_id=order.order_id, note=text, who=who(request))
            messages.success(request, "Justificatifs demandés au client.")
    except ComptoirError as error:
        messages.error(request, french_message(error))
        return redirect(detail_url)
    return redirect("operator:home" if action != "justificatifs" else detail_url)
