"""« Expédition » tab actions: declare a parcel (the whole order or chosen quantities), preview the tracking
link while the number is typed (htmx), correct a parcel's tracking. Thin: the shipping services write, each
parcel in its own transaction; a refusal is shown in French and nothing is saved."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from comptoir.core.errors import ComptoirError
from comptoir.orders.models import Order
from comptoir.seller.forms import apply_error
from comptoir.seller.shipping_forms import OTHER, WHOLE, TrackingForm, new_shipment_form, shipping_tab
from comptoir.seller.views import BASE, _detail_context, _shop_order, _who, seller_view
from comptoir.shipping import rules
from comptoir.shipping import services as shipping_services
from comptoir.shipping.models import Shipment
from comptoir.web.errors import french_message
from comptoir.web.views import confirmation, invalid_form_dialog, is_confirmed


def _tab_url(order: Order) -> str:
    return f"{reverse('seller:order', args=[order.order_id])}?onglet=expedition"


def _page_with_errors(request: HttpRequest, order: Order, tab: object, message: str) -> HttpResponse:
    context = _detail_context(request, order)
    context.update(tab="expedition", shipping=tab, form_error=message)
    return render(request, "seller/order_detail.html", context, status=400)


@require_POST
@seller_view
def ship(request: HttpRequest, order_id: str) -> HttpResponse:
    """One parcel: validate (same rules as the services), confirm, then `create_shipment`."""
    order = _shop_order(request, order_id)
    lines = list(order.lines.all())
    form = new_shipment_form(order, lines, request.POST)
    if not form.is_valid():
        if request.htmx:  # type: ignore[attr-defined]
            return invalid_form_dialog(request, form)
        return _page_with_errors(request, order, shipping_tab(order, lines, form=form),
                                 "Le colis n'a pas été déclaré : corrigez le formulaire ci-dessous.")
    tracking = form.tracking
    assert tracking is not None and form.shipped_at is not None
    if not is_confirmed(request):
        summary = [f"{line.product_title} ({line.offer_sku}) × {qty}" for line, qty in form.requested]
        summary.append(f"Transporteur : {tracking.carrier_name} · n° {tracking.tracking_number}")
        summary.append(f"Lien de suivi : {tracking.tracking_url}")
        summary.append(f"Expédié le {form.cleaned_data['shipped_date']:%d/%m/%Y}")
        whole = form.mode == WHOLE
        return confirmation(
            request, surface_base=BASE, cancel_url=_tab_url(order),
            title=f"{'Expédier toute la commande' if whole else 'Déclarer un colis'} {order.order_id}",
            summary=summary, action=reverse("seller:ship", args=[order.order_id]),
            confirm_label="Confirmer l'expédition",
            warning="Le client sera prévenu avec le lien de suivi. Ne déclarez un colis que s'il est réellement parti.",
        )
    try:
        shipping_services.create_shipment(shop_id=order.shop_id, request=form.shipment_request(), who=_who(request))
    except ComptoirError as error:
        messages.error(request, french_message(error))
        return redirect(_tab_url(order))
    refreshed = Order.objects.only("state").get(pk=order.pk)
    if refreshed.state == order.state:
        messages.success(request, "Colis déclaré : le client a reçu le lien de suivi. "
                                  "Déclarez le colis suivant pour le reste de la commande.")
    else:
        messages.success(request, "Commande expédiée : le client a reçu les liens de suivi.")
    return redirect(_tab_url(order))


@require_POST
@seller_view
def correct_tracking(request: HttpRequest, order_id: str, shipment_id: str) -> HttpResponse:
    """Add or correct a parcel's tracking (also once the order has shipped): `update_tracking` (ST23)."""
    order = _shop_order(request, order_id)
    shipment = Shipment.objects.filter(order_id=order.pk, shipment_id=shipment_id).first()
    if shipment is None:
        raise Http404("Colis introuvable")
    form = TrackingForm(request.POST, order=order, prefix=f"suivi-{shipment.pk}")
    if not form.is_valid():
        if request.htmx:  # type: ignore[attr-defined]
            return invalid_form_dialog(request, form)
        return _page_with_errors(request, order, shipping_tab(order, list(order.lines.all()),
                                                              correction=(shipment_id, form)),
                                 "Le suivi n'a pas été modifié : corrigez le formulaire ci-dessous.")
    tracking = form.tracking
    assert tracking is not None
    if not is_confirmed(request):
        return confirmation(
            request, surface_base=BASE, cancel_url=_tab_url(order),
            title=f"Modifier le suivi du colis de la commande {order.order_id}",
            summary=[f"Transporteur : {tracking.carrier_name} · n° {tracking.tracking_number}",
                     f"Lien de suivi : {tracking.tracking_url}"],
            action=reverse("seller:correct_tracking", args=[order.order_id, shipment_id]),
            confirm_label="Enregistrer le suivi",
        )
    try:
        shipping_services.update_tracking(shop_id=order.shop_id, shipment_id=shipment_id,
                                          tracking=form.tracking_request(), who=_who(request))
    except ComptoirError as error:
        apply_error(form, error)
        messages.error(request, french_message(error))
        return redirect(_tab_url(order))
    messages.success(request, "Suivi du colis enregistré.")
    return redirect(_tab_url(order))


@require_GET
@seller_view
def tracking_preview(request: HttpRequest, order_id: str) -> HttpResponse:
    """htmx: the link the carrier's template gives for the number being typed (nothing saved)."""
    order = _shop_order(request, order_id)
    prefix = request.GET.get("prefixe", "")
    code = request.GET.get(f"{prefix}carrier_code", "").strip()
    number = request.GET.get(f"{prefix}tracking_number", "").strip()
    link, error = "", ""
    if code == OTHER:
        error = "Transporteur « Autre » : indiquez son nom, le numéro et le lien de suivi https://."
    elif code:
        carrier = shipping_services.active_carrier(code)
        if carrier is None:
            error = "Transporteur inconnu ou désactivé."
        elif number:
            try:
                rules.resolve_tracking(carrier=carrier, carrier_code=code, carrier_name=None,
                                       tracking_number=number, tracking_url=None)
                link = shipping_services.preview_link(
                    tracking_url=carrier.tracking_url, tracking_number=number,
                    postcode=str((order.shipping_address or {}).get("zip_code") or ""))
            except ComptoirError as exc:
                error = exc.message
    return render(request, "seller/_tracking_preview.html", {"link": link, "error": error})
