"""The operator refunds and cancels too, with the same dialogs as the seller (comptoir.web.refunds) but the
operator's reasons and Who(Actor.OPERATOR); any shop's order."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET, require_http_methods

from comptoir.operator.views.common import BASE, operator_view, who
from comptoir.operator.views.orders import _order
from comptoir.web import refunds
from comptoir.web.refunds import CANCEL_LINES, CANCEL_ORDER, REFUND, Surface


def _surface(request: HttpRequest) -> Surface:
    return Surface(base=BASE, namespace="operator", who=who(request), shop_id=None, extra={"nav": "orders"})


@require_http_methods(["GET", "POST"])
@operator_view
def refund(request: HttpRequest, order_id: str) -> HttpResponse:
    return refunds.dialog(request, _order(order_id), _surface(request), REFUND)


@require_GET
@operator_view
def refund_proposal(request: HttpRequest, order_id: str) -> HttpResponse:
    return refunds.proposal(request, _order(order_id), _surface(request))


@require_http_methods(["GET", "POST"])
@operator_view
def cancel_lines(request: HttpRequest, order_id: str) -> HttpResponse:
    return refunds.dialog(request, _order(order_id), _surface(request), CANCEL_LINES)


@require_http_methods(["GET", "POST"])
@operator_view
def cancel_order(request: HttpRequest, order_id: str) -> HttpResponse:
    return refunds.dialog(request, _order(order_id), _surface(request), CANCEL_ORDER)
