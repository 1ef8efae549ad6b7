"""« Rembourser », « Annuler » (units in no parcel yet) and « Annuler la commande » on the seller's order detail:
thin over the dialogs shared with the operator (comptoir.web.refunds); the refunds services write."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET, require_http_methods

from comptoir.seller.views import BASE, _shop_order, _who, seller_view
from comptoir.web import refunds
from comptoir.web.refunds import CANCEL_LINES, CANCEL_ORDER, REFUND, Surface


def _surface(request: HttpRequest) -> Surface:
    shop = request.shop  # type: ignore[attr-defined]
    return Surface(base=BASE, namespace="seller", who=_who(request), shop_id=shop.id,
                   extra={"shop": shop, "nav": "orders"})


@require_http_methods(["GET", "POST"])
@seller_view
def refund(request: HttpRequest, order_id: str) -> HttpResponse:
    return refunds.dialog(request, _shop_order(request, order_id), _surface(request), REFUND)


@require_GET
@seller_view
def refund_proposal(request: HttpRequest, order_id: str) -> HttpResponse:
    return refunds.proposal(request, _shop_order(request, order_id), _surface(request))


@require_http_methods(["GET", "POST"])
@seller_view
def cancel_lines(request: HttpRequest, order_id: str) -> HttpResponse:
    return refunds.dialog(request, _shop_order(request, order_id), _surface(request), CANCEL_LINES)


@require_http_methods(["GET", "POST"])
@seller_view
def cancel_order(request: HttpRequest, order_id: str) -> HttpResponse:
    return refunds.dialog(request, _shop_order(request, order_id), _surface(request), CANCEL_ORDER)
