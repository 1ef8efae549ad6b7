"""Operator pages over shops: the list with balances, one shop, suspension, reactivation, commission rate.

Writes through shops.services; balances come from ledger.queries.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from comptoir.core.errors import ComptoirError
from comptoir.ledger import queries as ledger_queries
from comptoir.operator.forms import CommissionForm, ReasonForm
from comptoir.operator.views.common import BASE, FORM_ERROR, operator_view
from comptoir.relay import queries as relay_queries
from comptoir.scorecards import queries as scorecard_queries
from comptoir.shops import services as shop_services
from comptoir.shops.models import Shop, ShopState
from comptoir.web.errors import french_message
from comptoir.web.scorecards import scorecard_rows
from comptoir.web.templatetags.comptoir_web import percent
from comptoir.web.views import confirmation, invalid_form_dialog, is_confirmed


@operator_view
def shop_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(Shop.objects.order_by("id"), 50).get_page(request.GET.get("page"))
    shops = list(page.object_list)
    balances = ledger_queries.balances_by_shop([shop.id for shop in shops])
    return render(request, "operator/shops.html", {
        "page": page, "rows": [(shop, balances[shop.id]) for shop in shops], "nav": "shops",
        "querystring_nopage": "",
    })


def _shop(shop_id: int) -> Shop:
    shop = Shop.objects.filter(id=shop_id).first()
    if shop is None:
        raise Http404("Boutique introuvable")
    return shop


def _detail(request: HttpRequest, shop: Shop, *, status: int = 200, **overrides: Any) -> HttpResponse:
    context: dict[str, Any] = {
        "shop": shop, "nav": "shops", "form": ReasonForm(), "balances": ledger_queries.balances(shop.id),
        "commission_form": CommissionForm(initial={"rate": CommissionForm.display(shop.commission_rate)}),
        "relay_blocked": relay_queries.blocked_count(shop.id),
        "scorecard": scorecard_rows(shop.id), "scorecard_alerts": scorecard_queries.recent_alerts(shop.id),
    }
    context.update(overrides)
    return render(request, "operator/shop_detail.html", context, status=status)


@operator_view
def shop_detail(request: HttpRequest, shop_id: int) -> HttpResponse:
    return _detail(request, _shop(shop_id))


@require_POST
@operator_view
def shop_state(request: HttpRequest, shop_id: int, action: str) -> HttpResponse:
    """Suspend or reactivate a shop, with a reason, after confirmation."""
    shop = _shop(shop_id)
    detail_url = reverse("operator:shop", args=[shop.id])
    suspend = action == "suspendre"
    if action not in ("suspendre", "reactiver"):
        raise Http404()
    if suspend != (shop.state == ShopState.OPEN):
        messages.error(request, "La boutique n'est pas dans un état qui permet cette action.")
        return redirect(detail_url)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        if request.htmx:  # type: ignore[attr-defined]
            return invalid_form_dialog(request, form)
        return _detail(request, shop, status=400, form=form, form_error=FORM_ERROR)
    reason = form.cleaned_data["reason"]
    title = "Suspendre la boutique" if suspend else "Réactiver la boutique"
    if not is_confirmed(request):
        return confirmation(request, surface_base=BASE, title=title,
                            summary=[f"{shop.name} (n° {shop.id})", f"Motif : {reason}"],
                            action=reverse("operator:shop_state", args=[shop.id, action]),
                            cancel_url=detail_url, confirm_label=title, danger=suspend)
    try:
        if suspend:
            with transaction.atomic():
                changed = shop_services.suspend_shop(shop_id=shop.id, reason=reason)
            if not changed:
                messages.error(request, "La boutique n'était plus ouverte : rien n'a changé.")
                return redirect(detail_url)
            messages.success(request, "Boutique suspendue.")
        else:
            shop_services.reactivate_shop(shop_id=shop.id, reason=reason)
            messages.success(request, "Boutique réactivée.")
    except ComptoirError as error:
        messages.error(request, french_message(error))
    return redirect(detail_url)


@require_POST
@operator_view
def shop_commission(request: HttpRequest, shop_id: int) -> HttpResponse:
    """Change the commission rate of new orders, after confirmation; bad input changes nothing."""
    shop = _shop(shop_id)
    detail_url = reverse("operator:shop", args=[shop.id])
    form = CommissionForm(request.POST)
    if not form.is_valid():
        if request.htmx:  # type: ignore[attr-defined]
            return invalid_form_dialog(request, form)
        return _detail(request, shop, status=400, commission_form=form, form_error=FORM_ERROR)
    rate = form.cleaned_data["rate"]
    if not is_confirmed(request):
        return confirmation(request, surface_base=BASE, title="Modifier la commission", summary=[
            f"{shop.name} (n° {shop.id})",
            f"Commission : {percent(shop.commission_rate)} → {percent(rate)}",
            "Le nouveau taux s'applique aux commandes importées à partir de maintenant ; "
            "les commandes existantes gardent leur taux.",
        ], action=reverse("operator:shop_commission", args=[shop.id]), cancel_url=detail_url,
            confirm_label="Modifier la commission")
    try:
        shop_services.set_commission_rate(shop_id=shop.id, rate=rate)
    except ComptoirError as error:
        messages.error(request, french_message(error))
        return redirect(detail_url)
    messages.success(request, f"Commission de la boutique fixée à {percent(rate)}.")
    return redirect(detail_url)
