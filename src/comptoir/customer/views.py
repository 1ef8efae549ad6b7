"""Customer space (/client/): one order page reached by a signed link; a wrong signature is a 404."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from comptoir.customer.links import order_id_from_token
from comptoir.orders import queries
from comptoir.orders.states import DROPPED_LINE_STATES, OrderState
from comptoir.shipping import queries as shipping_queries
from comptoir.shipping.models import ShipmentStatus

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
}


def order_page(request: HttpRequest, token: str) -> HttpResponse:
    found = order_id_from_token(token)
    order = queries.order_detail(found[0]) if found else None
    if order is None or (found and found[1] != order.relay_token):
        raise Http404("Commande introuvable")
    state = OrderState(order.state)
    timeline = [h for h in order.history.all() if not h.line_id]
    lines = list(order.lines.all())
    live = [line for line in lines if line.state not in DROPPED_LINE_STATES]
    response = render(request, "customer/order.html", {
        "order": order, "status": CUSTOMER_LABELS.get(state, state), "timeline": timeline,
        "lines": lines, "dropped": DROPPED_LINE_STATES, "labels": CUSTOMER_LABELS,
        "amounts": {
            "products": sum(line.price_cents for line in live),
            "shipping": sum(line.shipping_price_cents for line in live),
            "total": sum(line.price_cents + line.shipping_price_cents for line in live),
            "vat": sum(line.tax_cents + line.shipping_tax_cents for line in live),
        },
        "final": state in (OrderState.REFUSED, OrderState.CANCELED),
        # Parcels that left (a prepared one is not the customer's business yet), each with its tracking.
        "parcels": [s for s in shipping_queries.shipments_of_order(order.pk) if s.status == ShipmentStatus.SHIPPED],
    })
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "no-referrer"
    return response
