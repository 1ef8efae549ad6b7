"""Seller back office, Paramètres › Webhooks: the shop's endpoints (add, change, rotate the secret, delete) and each
endpoint's delivery log with « Renvoyer ». Thin: webhooks services and queries; refusals come back in French on
the field they name, and change nothing."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from comptoir.core.errors import ComptoirError
from comptoir.seller.forms import apply_error
from comptoir.seller.views import BASE, seller_view
from comptoir.shops.models import Shop
from comptoir.web.errors import french_message
from comptoir.web.views import confirmation, is_confirmed
from comptoir.webhooks import queries, rules, services
from comptoir.webhooks.models import Endpoint

PAGE_SIZE = 20


class EndpointForm(forms.Form):
    url = forms.CharField(label="Adresse du point de terminaison (https)", max_length=1000,
                          help_text="Exemple : https://erp.exemple.fr/comptoir/webhooks",
                          widget=forms.TextInput(attrs={"inputmode": "url", "autocomplete": "off",
                                                        "spellcheck": "false"}))
    description = forms.CharField(label="Description (facultatif)", required=False, max_length=1000)
    event_types = forms.MultipleChoiceField(
        label="Événements envoyés", required=False, choices=list(rules.EVENT_TYPES.items()),
        widget=forms.CheckboxSelectMultiple, help_text="Aucune case cochée : tous les événements.")
    enabled = forms.BooleanField(label="Actif (recevoir les événements)", required=False, initial=True)


def _shop(request: HttpRequest) -> Shop:
    return request.shop  # type: ignore[attr-defined, no-any-return]


def _endpoint(request: HttpRequest, endpoint_id: int) -> Endpoint:
    try:
        return queries.endpoint(shop_id=_shop(request).id, endpoint_id=endpoint_id)
    except ComptoirError:
        raise Http404("Point de terminaison introuvable") from None


def _secret_page(request: HttpRequest, endpoint: Endpoint, *, created: bool) -> HttpResponse:
    response = render(request, "seller/webhook_secret.html", {
        "shop": _shop(request), "nav": "settings", "endpoint": endpoint, "created": created})
    response["Cache-Control"] = "no-store"
    return response


@seller_view
def endpoints(request: HttpRequest) -> HttpResponse:
    """The list and the « Ajouter » form; a created endpoint's secret is shown once, on the next page."""
    shop = _shop(request)
    form = EndpointForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            endpoint = services.create_endpoint(shop_id=shop.id, url=data["url"], event_types=data["event_types"],
                                                enabled=data["enabled"], description=data["description"])
        except ComptoirError as error:
            apply_error(form, error)
        else:
            return _secret_page(request, endpoint, created=True)
    return render(request, "seller/webhooks.html", {
        "shop": shop, "nav": "settings", "endpoints": queries.endpoints(shop.id), "form": form,
        "labels": rules.EVENT_TYPES, "form_error": "Le point de terminaison n'a pas été ajouté : corrigez le "
        "formulaire ci-dessous." if form.is_bound else "",
    }, status=400 if form.is_bound else 200)


@seller_view
def edit(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    shop = _shop(request)
    endpoint = _endpoint(request, endpoint_id)
    initial = {"url": endpoint.url, "description": endpoint.description, "event_types": endpoint.event_types,
               "enabled": endpoint.enabled}
    form = EndpointForm(request.POST if request.method == "POST" else None, initial=initial)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            services.update_endpoint(shop_id=shop.id, endpoint_id=endpoint.id, url=data["url"],
                                     event_types=data["event_types"], enabled=data["enabled"],
                                     description=data["description"])
        except ComptoirError as error:
            apply_error(form, error)
        else:
            messages.success(request, "Le point de terminaison a été enregistré.")
            return redirect("seller:webhooks")
    return render(request, "seller/webhook_edit.html", {"shop": shop, "nav": "settings", "endpoint": endpoint,
                                                        "form": form}, status=400 if form.is_bound else 200)


@require_POST
@seller_view
def rotate(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    endpoint = _endpoint(request, endpoint_id)
    if not is_confirmed(request):
        return confirmation(
            request, surface_base=BASE, title="Générer un nouveau secret",
            summary=[f"Point de terminaison : {endpoint.url}",
                     "Un nouveau secret sera créé et affiché une seule fois.",
                     "Les envois suivants seront signés avec lui : l'ancien cesse immédiatement de valoir."],
            action=reverse("seller:webhook_rotate", args=[endpoint.id]), cancel_url=reverse("seller:webhooks"),
            confirm_label="Générer le secret", danger=True,
        )
    endpoint = services.rotate_secret(shop_id=_shop(request).id, endpoint_id=endpoint.id)
    return _secret_page(request, endpoint, created=False)


@require_POST
@seller_view
def delete(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    endpoint = _endpoint(request, endpoint_id)
    if not is_confirmed(request):
        return confirmation(
            request, surface_base=BASE, title="Supprimer un point de terminaison",
            summary=[f"Point de terminaison : {endpoint.url}",
                     "Il ne recevra plus aucun événement ; les envois en attente et le journal sont supprimés."],
            action=reverse("seller:webhook_delete", args=[endpoint.id]), cancel_url=reverse("seller:webhooks"),
            confirm_label="Supprimer", danger=True,
        )
    try:
        services.delete_endpoint(shop_id=_shop(request).id, endpoint_id=endpoint.id)
    except ComptoirError as error:
        messages.error(request, french_message(error))
    else:
        messages.success(request, f"Le point de terminaison {endpoint.url} a été supprimé.")
    return redirect("seller:webhooks")


@seller_view
def deliveries(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    """The endpoint's delivery log, latest first, paginated, with each attempt."""
    endpoint = _endpoint(request, endpoint_id)
    page = Paginator(queries.delivery_log(endpoint.id), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "seller/webhook_deliveries.html", {
        "shop": _shop(request), "nav": "settings", "endpoint": endpoint, "page": page,
        "labels": rules.EVENT_TYPES, "querystring_nopage": "",
    })


@require_POST
@seller_view
def redeliver(request: HttpRequest, endpoint_id: int, delivery_id: int) -> HttpResponse:
    endpoint = _endpoint(request, endpoint_id)
    try:
        delivery = services.redeliver(shop_id=_shop(request).id, delivery_id=delivery_id, endpoint_id=endpoint.id)
    except ComptoirError:
        raise Http404("Envoi introuvable") from None
    messages.success(request, f"L'événement {delivery.event.event_id} sera renvoyé dans quelques instants.")
    page = request.POST.get("page", "")
    return redirect(f"{reverse('seller:webhook_deliveries', args=[endpoint.id])}?page={page if page.isdigit() else 1}")
