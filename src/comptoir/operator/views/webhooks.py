"""Operator page over the sellers' webhooks, read-only: every shop's endpoints with their delivery counts, and the
latest deliveries (optionally of one state). Reads through webhooks.queries; sellers act from their own space."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from comptoir.operator.views.common import operator_view
from comptoir.webhooks import queries, rules
from comptoir.webhooks.models import DeliveryState

DELIVERIES_SHOWN = 100


@operator_view
def webhook_list(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("etat", "")
    valid = state in ("", *DeliveryState.values)
    return render(request, "operator/webhooks.html", {
        "nav": "outbox", "endpoints": queries.all_endpoints(), "state": state if valid else "",
        "deliveries": queries.recent_deliveries(state=state, limit=DELIVERIES_SHOWN) if valid else [],
        "states": DeliveryState.choices, "labels": rules.EVENT_TYPES, "shown": DELIVERIES_SHOWN,
        "form_error": "" if valid else "État inconnu : la liste n'est pas affichée.",
    }, status=200 if valid else 400)
