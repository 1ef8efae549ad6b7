"""Mirakl seller API for money given back: OR28 (refund lines), OR30 (cancel lines), OR29 (cancel an order), and
Comptoir's refund preview. Thin: the body becomes line requests, the refunds services compute, check and write.

OR28 names no mode: it is read from the amounts (a line's remaining amount and shipping → FULL, shipping alone →
SHIPPING, units and an amount → QUANTITY, an amount alone → AMOUNT), which needs the line's account: the request
is planned first (the same checks, nothing written), then run in the same transaction.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any, Literal

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema
from pydantic import ConfigDict, Field, StrictBool

from comptoir.api.render import amount, json_response, rate
from comptoir.core.errors import Conflict, ValidationError
from comptoir.core.money import decimal_to_cents, tax_on_net
from comptoir.orders.models import OrderLine
from comptoir.orders.services import Who
from comptoir.orders.states import Actor
from comptoir.refunds import queries as refund_queries
from comptoir.refunds import services
from comptoir.refunds.models import Refund
from comptoir.refunds.rules import Amounts, RefundKind, RefundMode, euros

router = Router(tags=["Refunds and cancelations"])

TAX_INCLUDED, TAX_EXCLUDED = "TAX_INCLUDED", "TAX_EXCLUDED"
TaxMode = Literal["TAX_INCLUDED", "TAX_EXCLUDED"]


def _shop_id(request: HttpRequest) -> int:
    return request.shop.id  # type: ignore[attr-defined, no-any-return]


def _who(request: HttpRequest) -> Who:
    return Who(Actor.SELLER, f"API boutique {_shop_id(request)}")


# --- request schemas ---------------------------------------------------------------------------------------


class TaxIn(Schema):
    model_config = ConfigDict(extra="ignore")
    code: str | None = None
    amount: Decimal
    rate: Decimal | None = None


class RefundIn(Schema):
    model_config = ConfigDict(extra="ignore")
    order_line_id: str = Field(min_length=1, max_length=140)
    reason_code: str = Field(max_length=50)
    amount: Decimal | None = None
    shipping_amount: Decimal | None = None
    quantity: int | None = Field(default=None, ge=0, le=100_000)
    taxes: list[TaxIn] | None = None
    shipping_taxes: list[TaxIn] | None = None
    currency_iso_code: str | None = Field(default=None, max_length=3)
    excluded_from_shipment: StrictBool = False


class RefundsIn(Schema):
    model_config = ConfigDict(extra="ignore")
    order_tax_mode: TaxMode | None = None
    refunds: list[RefundIn] = Field(min_length=1, max_length=services.MAX_BATCH)


class CancelationIn(Schema):
    model_config = ConfigDict(extra="ignore")
    order_line_id: str = Field(min_length=1, max_length=140)
    reason_code: str = Field(max_length=50)
    quantity: int | None = Field(default=None, ge=0, le=100_000)
    amount: Decimal | None = None
    shipping_amount: Decimal | None = None
    currency_iso_code: str | None = Field(default=None, max_length=3)


class CancelationsIn(Schema):
    model_config = ConfigDict(extra="ignore")
    order_tax_mode: TaxMode | None = None
    cancelations: list[CancelationIn] = Field(min_length=1, max_length=services.MAX_BATCH)


# --- from the body to line requests --------------------------------------------------------------------------


def _cents(value: Decimal | None, field: str) -> int | None:
    if value is None:
        return None
    try:
        return decimal_to_cents(value)
    except ValueError:
        raise ValidationError(f"{field} : montant invalide ({value}) ; deux décimales au plus.", field=field) from None


def _provisional_refund(item: RefundIn, index: int, tax_included: bool) -> services.LineRequest:
    """The request without FULL (which needs the line's account): the plan tells whether it settles the line."""
    where = f"refunds[{index}]"
    cents = _cents(item.amount, f"{where}.amount")
    shipping = _cents(item.shipping_amount, f"{where}.shipping_amount")
    quantity = item.quantity or 0
    if not cents and shipping:
        mode, cents = RefundMode.SHIPPING, None
    elif quantity > 0:
        mode = RefundMode.QUANTITY  # without an amount, the units' price is proposed
    elif cents:
        mode = RefundMode.AMOUNT
    else:
        raise ValidationError(f"{where} : indiquez amount (et shipping_amount) ou quantity.", field=f"{where}.amount")
    return services.LineRequest(item.order_line_id, item.reason_code, mode, quantity=quantity, amount_cents=cents,
                                shipping_cents=shipping, tax_included=tax_included,
                                excluded_from_shipment=item.excluded_from_shipment)


def _check_taxes(item: RefundIn, index: int, planned: services.Planned) -> None:
    """Taxes sent by the client must be the ones Comptoir computes, to the cent (one cent of rounding allowed)."""
    parts = ((item.taxes, planned.amounts.amount_tax_cents, planned.line.tax_rate, "taxes", "du produit"),
             (item.shipping_taxes, planned.amounts.shipping_tax_cents, planned.line.shipping_tax_rate,
              "shipping_taxes", "des frais de port"))
    for given, computed, tax_rate, name, what in parts:
        if not given:
            continue
        field = f"refunds[{index}].{name}"
        sent = sum(_cents(tax.amount, f"{field}.amount") or 0 for tax in given)
        if abs(sent - computed) > 1:
            raise ValidationError(
                f"{field} : les taxes envoyées ({euros(sent)}) ne correspondent pas à la TVA {what} calculée par "
                f"Comptoir pour la ligne {item.order_line_id} : {euros(computed)} (taux {rate(tax_rate):g} %).",
                code="REFUND_TAXES_MISMATCH", field=field)


def _check_currency(code: str | None, index: int, planned: services.Planned, key: str) -> None:
    if code and code.upper() != planned.order.currency_iso_code:
        raise ValidationError(f"{key}[{index}].currency_iso_code : la commande {planned.order.order_id} est en "
                              f"{planned.order.currency_iso_code}.", field=f"{key}[{index}].currency_iso_code")


def _planned_by_line(plan: services.Plan) -> dict[str, services.Planned]:
    return {p.line.line_id: p for p in plan.items}


def _plan_refunds(body: RefundsIn, request: HttpRequest) -> tuple[list[services.LineRequest], services.Plan]:
    """The line requests OR28 will run and their plan: every check of the refund, nothing written. A balance
    too low is in `plan.refusal`."""
    tax_included = (body.order_tax_mode or TAX_INCLUDED) == TAX_INCLUDED
    requests = [_provisional_refund(item, i, tax_included) for i, item in enumerate(body.refunds)]
    plan = services.preview_request(requests=requests, who=_who(request), shop_id=_shop_id(request),
                                    kind=RefundKind.REFUND)
    planned = _planned_by_line(plan)
    final = []
    for i, (item, line_request) in enumerate(zip(body.refunds, requests, strict=True)):
        p = planned[item.order_line_id]
        _check_currency(item.currency_iso_code, i, p, "refunds")
        _check_taxes(item, i, p)
        if p.amounts.settles_line and line_request.mode != RefundMode.FULL:
            line_request = services.LineRequest(item.order_line_id, item.reason_code, RefundMode.FULL,
                                                tax_included=tax_included,
                                                excluded_from_shipment=item.excluded_from_shipment)
        final.append(line_request)
    return final, plan


def _plan_cancelations(body: CancelationsIn, request: HttpRequest) -> tuple[list[services.LineRequest],
                                                                             services.Plan]:
    """OR30's line requests: every cancelable unit (FULL) when the quantity is absent or names them all, else
    QUANTITY. Amounts typed excluding tax are converted with the line's rate (cancelations are computed
    tax included)."""
    tax_included = (body.order_tax_mode or TAX_INCLUDED) == TAX_INCLUDED
    requests = []
    for i, item in enumerate(body.cancelations):
        cents = _cents(item.amount, f"cancelations[{i}].amount")
        shipping = _cents(item.shipping_amount, f"cancelations[{i}].shipping_amount")
        requests.append(services.LineRequest(
            item.order_line_id, item.reason_code,
            RefundMode.FULL if item.quantity is None else RefundMode.QUANTITY, quantity=item.quantity or 0,
            amount_cents=cents if tax_included else None, shipping_cents=shipping if tax_included else None,
            tax_included=True))
    plan = services.preview_request(requests=requests, who=_who(request), shop_id=_shop_id(request),
                                    kind=RefundKind.CANCELATION)
    planned = _planned_by_line(plan)
    counted = [r for r in requests if r.mode == RefundMode.QUANTITY or not tax_included]
    accounts = {}
    for order_pk in {planned[r.order_line_id].order.pk for r in counted}:
        lines: list[OrderLine] = [p.line for p in plan.items if p.order.pk == order_pk]
        accounts.update(refund_queries.line_accounts(order_pk, lines))
    final = []
    for i, (item, line_request) in enumerate(zip(body.cancelations, requests, strict=True)):
        _check_currency(item.currency_iso_code, i, planned[item.order_line_id], "cancelations")
        if line_request.mode == RefundMode.QUANTITY and (
                line_request.quantity == accounts[item.order_line_id].cancelable_quantity):
            line_request = replace(line_request, mode=RefundMode.FULL, quantity=0)
        if not tax_included and (item.amount is not None or item.shipping_amount is not None):
            account, line = accounts[item.order_line_id], planned[item.order_line_id].line
            line_request = replace(
                line_request,
                amount_cents=_gross(_cents(item.amount, "amount"), account.remaining_amount,
                                    account.remaining_amount_excl_tax(), line.tax_rate),
                shipping_cents=_gross(_cents(item.shipping_amount, "shipping_amount"), account.remaining_shipping,
                                      account.remaining_shipping_excl_tax(), line.shipping_tax_rate))
        final.append(line_request)
    if not tax_included and any(r.amount_cents is not None or r.shipping_cents is not None for r in final):
        plan = services.preview_request(requests=final, who=_who(request), shop_id=_shop_id(request),
                                        kind=RefundKind.CANCELATION)  # the amounts converted: plan them again
    return final, plan


def _gross(net: int | None, remaining: int, remaining_excl: int, tax_rate: Decimal) -> int | None:
    if net is None or net <= 0:
        return net
    return remaining if net == remaining_excl else net + tax_on_net(net, tax_rate)


def _same_as_planned(rows: list[Refund], plan: services.Plan, requests: list[services.LineRequest]) -> None:
    """On PostgreSQL the plan was read before the locks: a refund of the same line that committed in between
    changes what the request means. Then nothing is written and the client retries on fresh figures."""
    planned = {p.line.pk: p.amounts for p in plan.items}
    asked = {r.order_line_id: r for r in requests}
    for row in rows:
        before = planned[row.line_id]
        moved = (row.amount_cents, row.amount_tax_cents, row.shipping_cents, row.shipping_tax_cents) != (
            before.amount_cents, before.amount_tax_cents, before.shipping_cents, before.shipping_tax_cents)
        line_id = next(p.line.line_id for p in plan.items if p.line.pk == row.line_id)
        if moved or (asked[line_id].quantity and row.quantity != before.quantity):
            raise Conflict(f"La ligne {line_id} a changé pendant la demande ; relisez-la et recommencez.",
                           code="REFUND_CONFLICT")


# --- JSON shapes -------------------------------------------------------------------------------------------


def _part(cents: int, tax_cents: int, tax_included: bool) -> float | None:
    return amount(cents if tax_included else cents - tax_cents)


def _taxes(code: str, cents: int, tax_rate: Decimal) -> list[dict[str, Any]]:
    return [{"code": code, "amount": amount(cents), "rate": rate(tax_rate)}]


def _money_json(line: OrderLine, a: Refund | Amounts, tax_included: bool) -> dict[str, Any]:
    return {
        "amount": _part(a.amount_cents, a.amount_tax_cents, tax_included),
        "shipping_amount": _part(a.shipping_cents, a.shipping_tax_cents, tax_included),
        "quantity": a.quantity,
        "taxes": _taxes(line.tax_code, a.amount_tax_cents, line.tax_rate),
        "shipping_taxes": _taxes(line.shipping_tax_code, a.shipping_tax_cents, line.shipping_tax_rate),
        "fees": [],
        "eco_contributions": [],
    }


def _rows_json(rows: list[Refund], plan: services.Plan, tax_included: bool, id_key: str) -> list[dict[str, Any]]:
    lines = {p.line.pk: p.line for p in plan.items}
    out = []
    for row in rows:
        line = lines[row.line_id]
        item: dict[str, Any] = {id_key: str(row.pk), "order_line_id": line.line_id}
        if row.kind == RefundKind.REFUND:
            item["order_refund_id"] = row.group_id
        item.update(_money_json(line, row, tax_included))
        item.update(reason_code=row.reason_code, currency_iso_code=row.currency_iso_code)
        if row.kind == RefundKind.REFUND:
            item["excluded_from_shipment"] = row.excluded_quantity > 0
        out.append(item)
    return out


# --- endpoints ---------------------------------------------------------------------------------------------


@router.put("/orders/refund", response=dict, summary="OR28 - Refund order lines", operation_id="OR28",
            description="All or nothing, ≤100 lines of any orders of the shop. Per line: `reason_code` (RE02 REFUND) "
            "and the amounts in `order_tax_mode` (TAX_INCLUDED by default; TAX_EXCLUDED: Comptoir adds the VAT "
            "at the line's rate). The line's remaining `amount` and `shipping_amount` → full refund; "
            "`shipping_amount` alone (amount 0) → shipping only; `quantity` with or without `amount` → by units "
            "(the units' price is proposed when no amount is sent); `amount` alone → commercial gesture. `taxes` "
            "and `shipping_taxes`, when sent, must match Comptoir's VAT within one cent (400 "
            "REFUND_TAXES_MISMATCH). 400 when more than what is left would be given back, when the line is "
            "not refundable in its state, or when the balance cannot cover the refund "
            "(REFUND_BALANCE_INSUFFICIENT).")
def refund_lines(request: HttpRequest, body: RefundsIn) -> HttpResponse:
    tax_included = (body.order_tax_mode or TAX_INCLUDED) == TAX_INCLUDED
    with transaction.atomic():  # SQLite: one IMMEDIATE transaction, the plan cannot go stale
        requests, plan = _plan_refunds(body, request)
        if plan.refusal is not None:
            raise plan.refusal
        rows = services.refund_lines(requests=requests, who=_who(request), shop_id=_shop_id(request))
        _same_as_planned(rows, plan, requests)
    return json_response({"order_tax_mode": TAX_INCLUDED if tax_included else TAX_EXCLUDED,
                          "refunds": _rows_json(rows, plan, tax_included, "refund_id")})


@router.post("/orders/refund/preview", response=dict, operation_id="refund_preview",
             summary="Comptoir extension - Preview a refund (OR28's body)",
             description="Not a Mirakl API. Takes OR28's body and answers what the refund would give back, "
             "nothing written: `total_excl_tax`, `total_tax`, `total`, `commission_refunded`, `seller_cost` (what "
             "leaves the seller's balance), `balance` {`kind` PENDING|PAYABLE, `before`, `after`, `sufficient`, "
             "`message`} and the amounts per line. A balance too low is a 200 with `sufficient: false` and the "
             "message OR28 would answer with its 400; any other problem is OR28's 400.")
def preview_refund(request: HttpRequest, body: RefundsIn) -> HttpResponse:
    tax_included = (body.order_tax_mode or TAX_INCLUDED) == TAX_INCLUDED
    requests, plan = _plan_refunds(body, request)
    if any(r.mode == RefundMode.FULL for r in requests):  # FULL counts the line's remaining units
        plan = services.preview_request(requests=requests, who=_who(request), shop_id=_shop_id(request),
                                        kind=RefundKind.REFUND)
    p = plan.preview
    lines = []
    for planned in plan.items:
        a = planned.amounts
        lines.append({"order_id": planned.order.order_id, "order_line_id": planned.line.line_id, "mode": a.mode,
                      **_money_json(planned.line, a, tax_included), "total": amount(a.total_cents),
                      "commission_refunded": amount(a.commission_total_cents),
                      "seller_cost": amount(a.seller_cost_cents), "reason_code": planned.reason.code,
                      "excluded_from_shipment": a.excluded_quantity > 0})
    return json_response({
        "order_tax_mode": TAX_INCLUDED if tax_included else TAX_EXCLUDED,
        "total_excl_tax": amount(p.excl_tax_cents),
        "total_tax": amount(p.tax_cents),
        "total": amount(p.total_cents),
        "commission_refunded": amount(p.commission_back_cents),
        "seller_cost": amount(p.seller_cost_cents),
        "balance": {"kind": "PAYABLE" if p.balance_label == "payable" else "PENDING",
                    "before": amount(p.balance_before_cents), "after": amount(p.balance_after_cents),
                    "sufficient": plan.refusal is None,
                    "message": plan.refusal.message if plan.refusal is not None else None},
        "refunds": lines,
    })


@router.put("/orders/cancel", response=dict, summary="OR30 - Cancel order lines", operation_id="OR30",
            description="All or nothing, ≤100 lines, orders in SHIPPING. Per line: `reason_code` (RE02 "
            "CANCELATION) and `quantity`: absent, or every unit not yet in a parcel → the whole rest of the line; "
            "fewer → those units (amount and shipping proposed pro rata, or as sent). Units in a parcel cannot be "
            "canceled (400 CANCELATION_QUANTITY_EXCEEDED). The customer is paid back.")
def cancel_lines(request: HttpRequest, body: CancelationsIn) -> HttpResponse:
    tax_included = (body.order_tax_mode or TAX_INCLUDED) == TAX_INCLUDED
    with transaction.atomic():
        requests, plan = _plan_cancelations(body, request)
        if plan.refusal is not None:
            raise plan.refusal
        rows = services.cancel_lines(requests=requests, who=_who(request), shop_id=_shop_id(request))
        _same_as_planned(rows, plan, requests)
    return json_response({"order_tax_mode": TAX_INCLUDED if tax_included else TAX_EXCLUDED,
                          "cancelations": _rows_json(rows, plan, tax_included, "cancelation_id")})


@router.put("/orders/{order_id}/cancel", response={204: None}, summary="OR29 - Cancel an order",
            operation_id="OR29",
            description="Cancels every line of an order in SHIPPING when nothing is in a parcel (`can_cancel` in "
            "OR11); the customer is paid back. Optional query parameter `reason_code` (a CANCELATION reason, "
            "default the first one). 400 ORDER_INVALID_STATE in any other state.")
def cancel_order(request: HttpRequest, order_id: str, reason_code: str | None = None) -> HttpResponse:
    services.cancel_order(order_id=order_id, who=_who(request), shop_id=_shop_id(request),
                          reason_code=(reason_code or "").strip())
    return HttpResponse(status=204)
