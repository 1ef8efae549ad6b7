"""Seller customer service: « Service client > Incidents » (tabs « En cours » and « Terminés ») and « Signaler
comme résolu » from the order page (OR64): the operator then confirms or reopens. The guide forbids collecting
anything from a customer without the operator, so no page offers a way to charge one. Thin: incidents services
write, incidents queries read."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from comptoir.core.errors import ComptoirError
from comptoir.incidents import queries, services
from comptoir.seller.incident_zone import describe, incident_zone, resolve_form
from comptoir.seller.views import BASE, _detail_context, _shop_order, _who, seller_view
from comptoir.shops.models import Shop
from comptoir.web.errors import french_message
from comptoir.web.views import confirmation, invalid_form_dialog, is_confirmed

PAGE_SIZE = 20
TABS = [("en-cours", "En cours"), ("termines", "Terminés")]


@require_GET
@seller_view
def incident_list(request: HttpRequest) -> HttpResponse:
    """Newest first; « En cours » holds the open and the signalled-resolved ones, « Terminés » the closed."""
    shop: Shop = request.shop  # type: ignore[attr-defined]
    tab = "termines" if request.GET.get("onglet") == "termines" else "en-cours"
    page = Paginator(queries.shop_incidents(shop.id, ongoing=tab == "en-cours"), PAGE_SIZE) \
        .get_page(request.GET.get("page"))
    for incident in page.object_list:
        describe(incident)
    params = request.GET.copy()
    params.pop("page", None)
    return render(request, "seller/incidents.html", {
        "shop": shop, "nav": "incidents", "tabs": TABS, "tab": tab, "page": page,
        "counts": queries.shop_counts(shop.id), "querystring_nopage": params.urlencode(),
    })


@require_POST
@seller_view
def resolve(request: HttpRequest, order_id: str, line_id: str) -> HttpResponse:
    """Validate the reason, confirm, then `incidents.services.resolve`. A refusal changes nothing."""
    order = _shop_order(request, order_id)
    lines = list(order.lines.all())
    line = next((ln for ln in lines if ln.line_id == line_id), None)
    if line is None:
        raise Http404("Article introuvable")
    incident = queries.line_incident(order.pk, line.pk)
    detail_url = f"{reverse('seller:order', args=[order.order_id])}#incidents"
    if incident is None:
        messages.error(request, "Aucun incident sur cet article.")
        return redirect(detail_url)
    form = resolve_form(incident, request.POST)
    if not form.is_valid():
        if request.htmx:  # type: ignore[attr-defined]
            return invalid_form_dialog(request, form)
        context = _detail_context(request, order)
        context["incident_zone"] = incident_zone(order, lines, context["history"], bound=form,
                                                 bound_incident=incident.pk)
        context["form_error"] = "L'incident n'a pas été signalé comme résolu : corrigez le formulaire ci-dessous."
        return render(request, "seller/order_detail.html", context, status=400)
    if not is_confirmed(request):
        return confirmation(
            request, surface_base=BASE, title=f"Signaler l'incident comme résolu ({order.order_id})",
            summary=[f"Article : {line.product_title} ({line.offer_sku})", f"Incident : {incident.reason_label}",
                     f"Motif de résolution : {form.reason_label()}"],
            action=reverse("seller:incident_resolve", args=[order.order_id, line.line_id]), cancel_url=detail_url,
            confirm_label="Signaler comme résolu",
            warning="L'opérateur confirmera la résolution auprès du client, ou rouvrira l'incident.",
        )
    try:
        services.resolve(order_id=order.order_id, line_id=line.line_id, reason_code=form.cleaned_data["motif"],
                         who=_who(request), shop_id=order.shop_id)
    except ComptoirError as error:
        if error.status == 404:
            raise Http404("Incident introuvable") from None
        messages.error(request, f"L'incident n'a pas été signalé comme résolu : {french_message(error)}")
        return redirect(detail_url)
    messages.success(request, "Incident signalé comme résolu : l'opérateur va le confirmer.")
    return redirect(detail_url)
