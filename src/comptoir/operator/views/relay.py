"""Operator pages over the relay address (/operateur/relais/): every mail through it, filtered by verdict and
shop, with the rule that matched and its excerpt; one mail with the text judged and the message as received.

Reads through relay.queries.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from comptoir.operator.relay_forms import RelayFilterForm
from comptoir.operator.views.common import operator_view
from comptoir.relay import queries

PER_PAGE = 50


@operator_view
def relay_list(request: HttpRequest) -> HttpResponse:
    form = RelayFilterForm(request.GET or None)
    valid = not form.is_bound or form.is_valid()
    data = form.cleaned_data if form.is_bound and valid else {}
    shop_id = data.get("boutique")
    query = queries.relay_messages(verdict=data.get("verdict") or None, shop_id=shop_id)
    page = Paginator(query if valid else query.none(), PER_PAGE).get_page(request.GET.get("page"))
    kept = request.GET.copy()
    kept.pop("page", None)
    return render(request, "operator/relay.html", {
        "nav": "relay", "form": form, "page": page, "rows": list(page.object_list),
        "counts": queries.verdict_counts(shop_id=shop_id if valid else None), "shop_id": shop_id,
        "querystring_nopage": kept.urlencode(),
        "form_error": "" if valid else "Filtre invalide : corrigez-le ci-dessous.",
    }, status=200 if valid else 400)


@operator_view
def relay_detail(request: HttpRequest, message_id: int) -> HttpResponse:
    message = queries.relay_message(message_id)
    if message is None:
        raise Http404("Mail introuvable")
    return render(request, "operator/relay_detail.html", {"nav": "relay", "message": message})
