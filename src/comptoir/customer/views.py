"""Customer space (/client/): one order page reached by a signed link; a wrong signature is a 404."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from comptoir.customer.incidents import order_incidents
from comptoir.customer.links import order_id_from_token
from comptoir.customer.messages import order_messages
from comptoir.documents import queries as document_queries
from comptoir.orders import queries
from comptoir.orders.states import DROPPED_LINE_STATES, OrderState, Trigger
from comptoir.refunds import queries as refund_queries
from comptoir.shipping import queries as shipping_queries
from comptoir.shipping.models import ShipmentStatus
from comptoir.web.files import file_download
from comptoir.web.refunds import order_amounts, refund_rows
from comptoir.web.templatetags.comptoir_web import euros

CUSTOMER_LABELS = {
    OrderState.STAGING: "Commande reçue, vérification en cours",
    OrderState.WAITING_ACCEPTANCE: "En attente de confirmation du vendeur",
    OrderState.WAITING_DEBIT: "Confirmée, paiement en cours",
    OrderState.WAITING_DEBIT_PAYMENT: "Confirmée, paiement en cours",
    OrderState.SHIPPING: "Confirmée, en préparation",
    OrderState.SHIPPED: "Expédiée",
    OrderState.RECEIVED: "Reçue",
    OrderState.CLOSED: "Terminée",
    OrderState.REFUSED: "Annulée par le vendeur",
    OrderState.CANCELED: "Annulée",
    OrderState.REFUNDED: "Remboursé",
}


def _step(h: Any, order_state_labels: dict[OrderState, str]) -> str:
    """A step of the customer's timeline: the state reached, or what a refund or cancelation gave back."""
    details = getattr(h, "details", None) or {}
    trigger = getattr(h, "trigger", "")
    if isinstance(details, dict) and "total_cents" in details:
        amount = euros(details["total_cents"])
        if trigger == Trigger.REFUND:
            return f"Remboursement de {amount}"
        if trigger == Trigger.CANCEL_LINES:
            return f"Articles annulés : {amount} remboursés"
        return f"Commande annulée : {amount} remboursés"
    state = getattr(h, "to_state", "")
    try:
        return order_state_labels.get(OrderState(state), state)
    except ValueError:
        return state


def order_page(request: HttpRequest, token: str) -> HttpResponse:
    found = order_id_from_token(token)
    order = queries.order_detail(found[0]) if found else None
    if order is None or (found and found[1] != order.relay_token):
        raise Http404("Commande introuvable")
    state = OrderState(order.state)
    timeline = [(h.created_date, _step(h, CUSTOMER_LABELS)) for h in order.history.all() if not h.line_id]
    lines = list(order.lines.all())
    refunds = refund_queries.refunds_of_order(order.pk)
    response = render(request, "customer/order.html", {
        "order": order, "status": CUSTOMER_LABELS.get(state, state), "timeline": timeline,
        "lines": lines, "dropped": DROPPED_LINE_STATES, "labels": CUSTOMER_LABELS,
        "amounts": order_amounts(lines, refunds), "refunds": refund_rows(refunds, lines),
        "final": state in (OrderState.REFUSED, OrderState.CANCELED),
        # Parcels that left (a prepared one is not the customer's business yet), each with its tracking.
        "parcels": [s for s in shipping_queries.shipments_of_order(order.pk) if s.status == ShipmentStatus.SHIPPED],
        # Invoices and credit notes, downloadable as soon as the seller uploaded or issued them.
        "invoices": document_queries.customer_documents(order.pk), "token": token,
        # Conversations with the seller: read and answer, or write a new one (customer/messages.py).
        "conversation": order_messages(order),
        # Problems reported on articles: report one, follow them, close one (customer/incidents.py).
        "incidents": order_incidents(order, lines),
    })
    response["X-Robots-Tag"] = "noindex"
    # The signed link never leaves the site (carriers' tracking pages get no referrer), while the page's own forms
    # (messages) keep their Origin header, which Django's CSRF check needs ("no-referrer" sends Origin: null).
    response["Referrer-Policy"] = "same-origin"
    return response


def invoice_download(request: HttpRequest, token: str, document_id: int) -> HttpResponse:
    """An invoice or credit note of the order the signed link opens; anything else is a 404."""
    found = order_id_from_token(token)
    order = queries.order_detail(found[0]) if found else None
    if order is None or (found and found[1] != order.relay_token):
        raise Http404("Commande introuvable")
    document = next((d for d in document_queries.customer_documents(order.pk) if d.pk == document_id), None)
    if document is None:
        raise Http404("Document introuvable")
    response = file_download(document_queries.read_bytes(document), content_type=document.content_type,
                         file_name=document.file_name)
    response["X-Robots-Tag"] = "noindex"
    return response
