"""Seller back office (/vendeur/): home indicators, orders list and detail, acceptance, settings, shop switch.

Thin: reads through orders.queries (via comptoir.web.orderlist), writes through orders/shops services.
The Comptabilité pages live in seller/accounting.py.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.views.decorators.http import require_POST

from comptoir.core import clock
from comptoir.core.errors import ComptoirError
from comptoir.documents import queries as document_queries
from comptoir.incidents import queries as incident_queries
from comptoir.messaging import queries as messaging_queries
from comptoir.messaging.rules import Participant
from comptoir.orders import queries, services
from comptoir.orders.models import Order
from comptoir.orders.rules import Decision
from comptoir.orders.services.lifecycle import facts_of
from comptoir.orders.states import Actor, OrderState, Trigger, allowed_triggers
from comptoir.replica import listing_reads
from comptoir.seller.forms import AddUserForm, DecisionForm, SellerLoginForm, ShopProfileForm, apply_error
from comptoir.seller.incident_zone import incident_zone
from comptoir.seller.shipping_forms import shipping_tab
from comptoir.shipping import queries as shipping_queries
from comptoir.shops import services as shop_services
from comptoir.shops.models import ApiKey, Shop, ShopMember
from comptoir.web import orderlist
from comptoir.web.countdown import auto_refusal
from comptoir.web.errors import french_message
from comptoir.web.refunds import order_refunds
from comptoir.web.scorecards import scorecard_rows
from comptoir.web.views import SurfaceLoginView, confirmation, invalid_form_dialog, is_confirmed

BASE = "seller/base.html"
LOGIN_URL = reverse_lazy("seller:login")
TABS = [("expedition", "Expédition"), ("contact", "Contacter le client"), ("messages", "Messages"),
        ("historique", "Historique"), ("documents", "Documents")]


# The shop a member of several shops works on, chosen in the header; only ever one of the user's shops.
SHOP_SESSION_KEY = "vendeur_boutique"


def seller_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Logged-in shop members only. Sets `request.seller_shops` (all the user's shops, one query) and
    `request.shop`: the one chosen in the header if the user still belongs to it, else the first."""

    @login_required(login_url=LOGIN_URL)
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        shops = [member.shop for member in ShopMember.objects.select_related("shop")
                 .filter(user_id=request.user.pk).order_by("shop_id")]
        if not shops:
            raise Http404("Aucune boutique")
        chosen = request.session.get(SHOP_SESSION_KEY)
        request.seller_shops = shops  # type: ignore[attr-defined]
        request.shop = next((shop for shop in shops if shop.id == chosen), shops[0])  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    return wrapper


@require_POST
@seller_view
def switch_shop(request: HttpRequest) -> HttpResponse:
    """Work on another of the user's shops; any other id is a 404 (and changes nothing)."""
    raw = request.POST.get("boutique", "")
    shop = next((s for s in request.seller_shops if str(s.id) == raw.strip()), None)  # type: ignore[attr-defined]
    if shop is None:
        raise Http404("Boutique introuvable")
    request.session[SHOP_SESSION_KEY] = shop.id
    messages.success(request, f"Vous travaillez maintenant sur la boutique {shop.name}.")
    return redirect("seller:home")


def _who(request: HttpRequest) -> services.Who:
    return services.Who(Actor.SELLER, request.user.get_username())


class SellerLogin(SurfaceLoginView):
    authentication_form = SellerLoginForm
    surface_base = BASE
    heading = "Connexion à votre espace vendeur"

    def get_default_redirect_url(self) -> str:
        return reverse("seller:home")


class SellerPasswordChange(auth_views.PasswordChangeView):
    template_name = "seller/password.html"
    success_url = reverse_lazy("seller:settings")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "shop": self.request.shop, "nav": "settings"}  # type: ignore[attr-defined]

    def form_valid(self, form: Any) -> HttpResponse:
        messages.success(self.request, "Votre mot de passe a été modifié.")
        return super().form_valid(form)


password_change = seller_view(SellerPasswordChange.as_view())


@seller_view
def home(request: HttpRequest) -> HttpResponse:
    shop: Shop = request.shop  # type: ignore[attr-defined]
    indicators = orderlist.shop_indicators(shop.id)
    balances = queries.shop_balances(shop.id)
    return render(request, "seller/home.html", {"shop": shop, "ind": indicators, "balances": balances,
                                                "untracked": shipping_queries.untracked_flagged_count(shop.id),
                                                "invoices_missing": document_queries.invoice_missing_count(shop.id),
                                                "unread": messaging_queries.shop_unread(shop.id),
                                                "incidents": incident_queries.shop_counts(shop.id),
                                                "scorecard": scorecard_rows(shop.id), "nav": "home"})


def _list_context(request: HttpRequest, shop: Shop) -> tuple[orderlist.OrderFilterForm, Any]:
    form = orderlist.OrderFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    return form, orderlist.filter_orders(data, shop_id=shop.id)


@seller_view
@listing_reads()  # the replica's, when there is one (comptoir/replica.py)
def order_list(request: HttpRequest) -> HttpResponse:
    shop: Shop = request.shop  # type: ignore[attr-defined]
    form, query = _list_context(request, shop)
    per_page = (form.cleaned_data.get("par_page") if form.is_bound and form.is_valid() else None) or 20
    page = orderlist.paginate(query, request.GET.get("page"), per_page)
    now = clock.now()
    rows = []
    for order in page.object_list:
        if order.state == OrderState.WAITING_ACCEPTANCE and order.acceptance_deadline:
            order.auto_refusal = auto_refusal(order.acceptance_deadline, now)  # type: ignore[attr-defined]
        rows.append((order, orderlist.seen_customer(order)))
    params = request.GET.copy()
    params.pop("page", None)
    return render(request, "seller/orders.html", {
        "shop": shop, "form": form, "page": page, "rows": rows, "nav": "orders",
        "querystring_nopage": params.urlencode(), "total": page.paginator.count,
        "export_url": f"{reverse('seller:orders_csv')}?{params.urlencode()}",
    }, status=200 if not form.is_bound or form.is_valid() else 400)


@seller_view
def order_export(request: HttpRequest) -> HttpResponse:
    shop: Shop = request.shop  # type: ignore[attr-defined]
    form, query = _list_context(request, shop)
    if form.is_bound and not form.is_valid():
        messages.error(request, "Filtres invalides : corrigez-les avant d'exporter.")
        return redirect(f"{reverse('seller:orders')}?{request.GET.urlencode()}")
    return orderlist.csv_response(query, f"commandes-{shop.id}.csv")


def _shop_order(request: HttpRequest, order_id: str) -> Order:
    """The order with lines and history, or 404 when it does not exist *or belongs to another shop*."""
    order = queries.order_detail(order_id)
    if order is None or order.shop_id != request.shop.id:  # type: ignore[attr-defined]
        raise Http404("Commande introuvable")
    return order


def _detail_context(request: HttpRequest, order: Order, form: DecisionForm | None = None) -> dict[str, Any]:
    lines = list(order.lines.all())
    allowed = allowed_triggers(facts_of(order, lines), Actor.SELLER)
    waiting = [line for line in lines if line.state == OrderState.WAITING_ACCEPTANCE]
    can_decide = bool(waiting) and (Trigger.ACCEPT in allowed or Trigger.REFUSE in allowed)
    deadline = order.acceptance_deadline
    tab = request.GET.get("onglet", "expedition")
    if tab not in dict(TABS):
        tab = "expedition"
    history = list(order.history.all())
    return {
        "shop": request.shop, "order": order, "lines": lines, "history": history,  # type: ignore[attr-defined]
        "customer": orderlist.seen_customer(order), "allowed": allowed, "can_decide": can_decide,
        "form": form or (DecisionForm(lines=waiting) if can_decide else None), "tabs": TABS, "tab": tab,
        **order_refunds(order, lines, Actor.SELLER), "nav": "orders",
        "relay_email": f"{order.relay_token}@{settings.COMPTOIR['RELAY_DOMAIN']}",
        "can_ship": Trigger.SHIP in allowed,
        "auto_refusal": auto_refusal(deadline, clock.now()) if can_decide and deadline else None,
        "shipping": shipping_tab(order, lines) if tab == "expedition" else None,
        "message_threads": messaging_queries.order_threads(order.pk, Participant.SHOP),
        "incident_zone": incident_zone(order, lines, history),
    }


@seller_view
def order_detail(request: HttpRequest, order_id: str) -> HttpResponse:
    order = _shop_order(request, order_id)
    return render(request, "seller/order_detail.html", _detail_context(request, order))


@require_POST
@seller_view
def decide(request: HttpRequest, order_id: str) -> HttpResponse:
    """Accept or refuse each waiting line: validate, confirm, then `decide_lines`. Errors change nothing."""
    order = _shop_order(request, order_id)
    detail_url = reverse("seller:order", args=[order.order_id])
    lines = [line for line in order.lines.all() if line.state == OrderState.WAITING_ACCEPTANCE]
    allowed = allowed_triggers(facts_of(order, list(order.lines.all())), Actor.SELLER)
    if not lines or not (Trigger.ACCEPT in allowed or Trigger.REFUSE in allowed):
        messages.error(request, "Cette commande n'est plus en attente d'acceptation.")
        return redirect(detail_url)
    form = DecisionForm(request.POST, lines=lines)
    if not form.is_valid():
        if request.htmx:  # type: ignore[attr-defined]
            return invalid_form_dialog(request, form)
        context = _detail_context(request, order, form)
        context["form_error"] = "Le formulaire contient des erreurs : corrigez-les ci-dessous."
        return render(request, "seller/order_detail.html", context, status=400)
    decisions = form.decisions()
    refused = [line for line, ok in decisions if not ok]
    reason = (form.cleaned_data.get("motif") or "").strip()
    if not is_confirmed(request):
        summary = [f"{'Accepter' if ok else 'Refuser'} : {line.product_title} ({line.offer_sku}) × {line.quantity}"
                   for line, ok in decisions]
        if refused:
            summary.append(f"Motif du refus : {reason}")
        return confirmation(
            request, surface_base=BASE, title=f"Confirmer la décision sur la commande {order.order_id}",
            summary=summary, action=reverse("seller:decide", args=[order.order_id]), cancel_url=detail_url,
            confirm_label="Confirmer la décision", danger=len(refused) == len(decisions),
            warning="L'acceptance déclenche le débit du client." if len(refused) < len(decisions) else
            "Tous les articles seront refusés : la commande sera annulée pour le client.",
        )
    try:
        services.decide_lines(
            order_id=order.order_id, shop_id=order.shop_id, who=_who(request), refusal_reason=reason,
            decisions=[Decision(line.line_id, ok) for line, ok in decisions],
        )
    except ComptoirError as error:
        messages.error(request, french_message(error))
        return redirect(detail_url)
    if refused and len(refused) == len(decisions):
        messages.success(request, "La commande a été refusée.")
    elif refused:
        messages.success(request, f"Commande acceptée ; {len(refused)} article(s) refusé(s).")
    else:
        messages.success(request, "Commande acceptée. Le débit du client est en cours.")
    return redirect(f"{detail_url}?{urlencode({'onglet': 'historique'})}")


def _settings_context(request: HttpRequest, add_form: AddUserForm | None = None) -> dict[str, Any]:
    shop: Shop = request.shop  # type: ignore[attr-defined]
    members = ShopMember.objects.filter(shop=shop).select_related("user").order_by("user__email")
    key = ApiKey.objects.filter(shop=shop, revoked_date__isnull=True).order_by("-created_date").first()
    return {"shop": shop, "members": members, "key": key, "nav": "settings", "add_form": add_form or AddUserForm()}


@seller_view
def shop_settings(request: HttpRequest) -> HttpResponse:
    return render(request, "seller/settings.html", _settings_context(request))


@seller_view
def edit_profile(request: HttpRequest) -> HttpResponse:
    """The legal mentions, saved through update_shop_profile; a refusal is shown on its field, nothing saved."""
    shop: Shop = request.shop  # type: ignore[attr-defined]
    form = ShopProfileForm(request.POST if request.method == "POST" else None, shop=shop)
    if form.is_bound and form.is_valid():
        try:
            shop_services.update_shop_profile(shop_id=shop.id, values=form.values())
        except ComptoirError as error:
            apply_error(form, error)
        else:
            messages.success(request, "Le profil de la boutique a été enregistré.")
            return redirect("seller:settings")
    return render(request, "seller/profile.html", {"shop": shop, "form": form, "nav": "settings"},
                  status=400 if form.is_bound else 200)


@require_POST
@seller_view
def add_user(request: HttpRequest) -> HttpResponse:
    shop: Shop = request.shop  # type: ignore[attr-defined]
    form = AddUserForm(request.POST)
    if form.is_valid():
        try:
            member = shop_services.add_shop_user(shop_id=shop.id, email=form.cleaned_data["email"],
                                                 password=form.cleaned_data["password"])
        except ComptoirError as error:
            apply_error(form, error)
        else:
            messages.success(request, f"{member.user.email} peut maintenant se connecter à l'espace vendeur.")
            return redirect("seller:settings")
    context = _settings_context(request, add_form=form)
    context["form_error"] = "L'utilisateur n'a pas été ajouté : corrigez le formulaire ci-dessous."
    return render(request, "seller/settings.html", context, status=400)


@require_POST
@seller_view
def remove_user(request: HttpRequest, user_id: int) -> HttpResponse:
    """Confirm, then remove_shop_user; its refusals (last user, oneself) come back in French, nothing removed."""
    shop: Shop = request.shop  # type: ignore[attr-defined]
    member = ShopMember.objects.select_related("user").filter(shop=shop, user_id=user_id).first()
    if member is None:
        raise Http404("Utilisateur introuvable")
    email = member.user.email or member.user.get_username()
    settings_url = reverse("seller:settings")
    if not is_confirmed(request):
        return confirmation(
            request, surface_base=BASE, title="Retirer un utilisateur",
            summary=[f"{email} ne pourra plus se connecter à l'espace vendeur de {shop.name}.",
                     "Ses actions passées restent dans l'historique des commandes."],
            action=reverse("seller:remove_user", args=[user_id]), cancel_url=settings_url,
            confirm_label="Retirer l'utilisateur", danger=True,
        )
    try:
        shop_services.remove_shop_user(shop_id=shop.id, user_id=user_id, acting_user_id=request.user.pk)
    except ComptoirError as error:
        messages.error(request, french_message(error))
    else:
        messages.success(request, f"{email} a été retiré de la boutique.")
    return redirect(settings_url)


@require_POST
@seller_view
def rotate_key(request: HttpRequest) -> HttpResponse:
    shop: Shop = request.shop  # type: ignore[attr-defined]
    if not is_confirmed(request):
        return confirmation(
            request, surface_base=BASE, title="Générer une nouvelle clé API",
            summary=["Une nouvelle clé sera créée et affichée une seule fois.",
                     "L'ancienne clé cessera immédiatement de fonctionner : mettez à jour vos connecteurs."],
            action=reverse("seller:rotate_key"), cancel_url=reverse("seller:settings"),
            confirm_label="Générer la clé", danger=True,
        )
    raw = shop_services.issue_api_key(shop_id=shop.id, label=f"Back office ({request.user.get_username()})")
    response = render(request, "seller/api_key.html", {"shop": shop, "raw_key": raw, "nav": "settings"})
    response["Cache-Control"] = "no-store"
    return response
