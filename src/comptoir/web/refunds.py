"""The refund and cancelation dialogs of an order, shared by the seller and operator back offices, and what the
order detail shows of them (the buttons the table allows, the refunds in the amounts zone).

Thin over comptoir.refunds: form → preview (the service computes and checks, nothing written) → confirmation →
the service writes, all or nothing. A refusal is shown in French next to the field of its line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

from comptoir.core.errors import ComptoirError
from comptoir.orders.models import Order, OrderLine
from comptoir.orders.services.lifecycle import Who, facts_of
from comptoir.orders.states import DROPPED_LINE_STATES, Actor, OrderState, Trigger, allowed_triggers
from comptoir.refunds import queries as refund_queries
from comptoir.refunds import services as refund_services
from comptoir.refunds.errors import BalanceInsufficient
from comptoir.refunds.models import ReasonType, Refund
from comptoir.refunds.rules import (
    MODE_LABELS,
    REFUND_STATE_LABELS,
    LineAccount,
    RefundKind,
    RefundMode,
    RefundState,
)
from comptoir.refunds.rules import proposed_excl_tax as proposed
from comptoir.web.errors import french_message
from comptoir.web.refund_forms import (
    CancelLinesForm,
    CancelOrderForm,
    LineDialogForm,
    RefundForm,
    cents_input,
)
from comptoir.web.templatetags.comptoir_web import euros
from comptoir.web.views import base_for, is_confirmed

REFUND, CANCEL_LINES, CANCEL_ORDER = "refund", "cancel_lines", "cancel_order"
NOT_POSSIBLE = "Cette action n'est pas possible sur cette commande dans son état actuel."
HT_WARNING = ("Le montant que vous renseignez est hors taxe. Faites bien attention au montant total qui "
              "s'apprête à être remboursé.")


@dataclass(frozen=True, slots=True)
class Surface:
    """Who acts and where: the back office's base template, URL namespace, actor, shop (None: the operator)."""

    base: str
    namespace: str
    who: Who
    shop_id: int | None
    extra: dict[str, Any] = field(default_factory=dict)  # what the base template needs (shop, nav)

    def url(self, name: str, order: Order) -> str:
        return reverse(f"{self.namespace}:{name}", args=[order.order_id])


@dataclass(frozen=True, slots=True)
class Action:
    key: str  # also the URL name in each surface
    kind: RefundKind
    title: str
    submit_label: str
    confirm_label: str
    form_class: type[LineDialogForm]


ACTIONS = {
    REFUND: Action(REFUND, RefundKind.REFUND, "Rembourser", "Vérifier le remboursement…",
                   "Confirmer le remboursement", RefundForm),
    CANCEL_LINES: Action(CANCEL_LINES, RefundKind.CANCELATION, "Annuler des articles", "Vérifier l'annulation…",
                         "Confirmer l'annulation", CancelLinesForm),
    CANCEL_ORDER: Action(CANCEL_ORDER, RefundKind.CANCELATION, "Annuler la commande", "Vérifier l'annulation…",
                         "Confirmer l'annulation de la commande", CancelOrderForm),
}


@dataclass(frozen=True, slots=True)
class Availability:
    """Which dialogs the order offers this actor now (the table first, then what the lines still hold)."""

    refundable: list[tuple[OrderLine, LineAccount]]
    cancelable: list[tuple[OrderLine, LineAccount]]
    whole: list[tuple[OrderLine, LineAccount]]  # the lines « Annuler la commande » cancels
    can_refund: bool
    can_cancel_lines: bool
    can_cancel_order: bool

    def allows(self, key: str) -> bool:
        return {REFUND: self.can_refund, CANCEL_LINES: self.can_cancel_lines, CANCEL_ORDER: self.can_cancel_order}[key]

    def lines_for(self, key: str) -> list[tuple[OrderLine, LineAccount]]:
        return {REFUND: self.refundable, CANCEL_LINES: self.cancelable, CANCEL_ORDER: self.whole}[key]

    @property
    def cancelable_ids(self) -> set[str]:
        return {line.line_id for line, _ in self.cancelable} if self.can_cancel_lines else set()


def availability(order: Order, lines: list[OrderLine], actor: Actor) -> Availability:
    allowed = allowed_triggers(facts_of(order, lines), actor)
    accounts = refund_queries.line_accounts(order.pk, lines)
    paid = [(line, accounts[line.line_id]) for line in lines if line.state not in DROPPED_LINE_STATES]
    open_lines = [(line, account) for line, account in paid if line.state != OrderState.REFUNDED]
    refundable = [(line, account) for line, account in open_lines if not account.fully_given_back]
    cancelable = [(line, account) for line, account in open_lines if account.cancelable_quantity > 0]
    nothing_in_parcels = not any(account.in_shipments_quantity for account in accounts.values())
    return Availability(
        refundable=refundable, cancelable=cancelable, whole=paid,
        can_refund=Trigger.REFUND in allowed and bool(refundable),
        can_cancel_lines=Trigger.CANCEL_LINES in allowed and bool(cancelable),
        can_cancel_order=(order.state == OrderState.SHIPPING and Trigger.CANCEL in allowed and nothing_in_parcels
                          and bool(open_lines)),
    )


# --- what the order detail shows ---------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class RefundRow:
    created_date: datetime
    title: str
    operation: str
    quantity: int
    excl_tax_cents: int
    tax_cents: int
    total_cents: int
    reason: str
    state: str
    state_label: str
    transaction_date: datetime | None


def refund_rows(refunds: list[Refund], lines: list[OrderLine]) -> list[RefundRow]:
    titles = {line.pk: line.product_title for line in lines}
    rows = []
    for refund in refunds:
        tax = refund.amount_tax_cents + refund.shipping_tax_cents
        operation = ("Annulation" if refund.kind == RefundKind.CANCELATION
                     else MODE_LABELS.get(RefundMode(refund.mode), refund.mode))
        rows.append(RefundRow(
            created_date=refund.created_date, title=titles.get(refund.line_id, ""), operation=operation,
            quantity=refund.quantity, excl_tax_cents=refund.total_cents - tax, tax_cents=tax,
            total_cents=refund.total_cents, reason=refund.reason_label, state=refund.state,
            state_label=REFUND_STATE_LABELS.get(RefundState(refund.state), refund.state),
            transaction_date=refund.transaction_date))
    return rows


def order_amounts(lines: list[OrderLine], refunds: list[Refund]) -> dict[str, int]:
    """The amounts zone: what the customer paid (lines refused or canceled before the debit excluded), and what
    went back to them. A line canceled after the debit was paid: it counts, and its cancelation is a refund."""
    paid_back = {refund.line_id for refund in refunds}
    live = [line for line in lines if line.state not in DROPPED_LINE_STATES or line.pk in paid_back] or lines
    commission = sum(line.commission_fee_cents + line.commission_vat_cents for line in live)
    total = sum(line.price_cents + line.shipping_price_cents for line in live)
    refunded = sum(refund.total_cents for refund in refunds)
    commission_back = sum(refund.commission_total_cents for refund in refunds)
    return {
        "products": sum(line.price_cents for line in live),
        "shipping": sum(line.shipping_price_cents for line in live),
        "total": total,
        "vat": sum(line.tax_cents + line.shipping_tax_cents for line in live),
        "eco": sum(line.eco_contribution_cents * line.quantity for line in live),
        "commission": commission,
        "net": total - commission,
        "refunded": refunded,
        "refunded_tax": sum(refund.amount_tax_cents + refund.shipping_tax_cents for refund in refunds),
        "commission_back": commission_back,
        "total_after": total - refunded,
        "net_after": total - commission - (refunded - commission_back),
    }


def order_refunds(order: Order, lines: list[OrderLine], actor: Actor) -> dict[str, Any]:
    """The detail page's part: buttons, refund rows, amounts."""
    refunds = refund_queries.refunds_of_order(order.pk)
    return {"refund_actions": availability(order, lines, actor), "refund_rows": refund_rows(refunds, lines),
            "amounts": order_amounts(lines, refunds)}


# --- the dialogs ----------------------------------------------------------------------------------------------

def _leave(request: HttpRequest, url: str) -> HttpResponse:
    if getattr(request, "htmx", False):
        return HttpResponseClientRedirect(url)
    return redirect(url)


def _hidden(request: HttpRequest) -> list[tuple[str, list[str]]]:
    return [(name, request.POST.getlist(name)) for name in request.POST
            if name not in ("csrfmiddlewaretoken", "confirme", "modifier")]


def _recap_items(plan: refund_services.Plan, action: Action) -> list[dict[str, Any]]:
    return [{
        "title": p.line.product_title, "sku": p.line.offer_sku, "quantity": p.amounts.quantity,
        "operation": MODE_LABELS[RefundMode(p.amounts.mode)] if action.kind == RefundKind.REFUND else "Annulation",
        "excl_tax": p.amounts.excl_tax_cents, "tax": p.amounts.tax_total_cents, "total": p.amounts.total_cents,
        "reason": p.reason.label,
    } for p in plan.items]


def _page(request: HttpRequest, surface: Surface, action: Action, order: Order, form: LineDialogForm, *,
          plan: refund_services.Plan | None = None, refusal: str = "", status: int = 200) -> HttpResponse:
    if form.is_bound:
        form.describe_errors()
    action_url = surface.url(action.key, order)
    if action.key == REFUND:
        proposal_url = surface.url("refund_proposal", order)
        for line, _ in form.lines:
            for short, mode in (("quantite", RefundMode.QUANTITY), ("montant", RefundMode.AMOUNT),
                                ("port", RefundMode.SHIPPING)):
                attrs = form.fields[form.name(short, line)].widget.attrs
                attrs.update({"data-mode-select": f"id_{form.name('mode', line)}", "data-mode": mode.value})
            form.fields[form.name("quantite", line)].widget.attrs.update({
                "hx-get": f"{proposal_url}?ligne={line.line_id}", "hx-trigger": "input changed delay:300ms",
                "hx-target": f"#id_{form.name('montant', line)}", "hx-swap": "outerHTML", "hx-sync": "this:replace",
            })
    context = {
        **surface.extra, "base_template": base_for(request, surface.base), "order": order, "action": action,
        "form": form, "rows": form.rows(), "plan": plan, "refusal": refusal, "action_url": action_url,
        "detail_url": surface.url("order", order), "hidden": _hidden(request), "ht_warning": HT_WARNING,
        "step": "recap" if plan is not None or refusal else "form",
        "items": _recap_items(plan, action) if plan is not None else [],
        "preview": plan.preview if plan is not None else None, "is_refund": action.kind == RefundKind.REFUND,
    }
    return render(request, "web/refund_dialog.html", context,
                  status=200 if getattr(request, "htmx", False) else status)


def _initial(request: HttpRequest, action: Action, lines: list[tuple[OrderLine, LineAccount]]) -> dict[str, Any]:
    if request.method == "POST":  # « Modifier »: back to the form with what was typed
        return {name: request.POST.get(name) for name, _ in _hidden(request)}
    chosen = request.GET.get("ligne", "")
    if action.key == CANCEL_LINES:
        return {f"annuler_{line.line_id}": account.cancelable_quantity for line, account in lines
                if line.line_id == chosen}
    return {}


def _reasons(action: Action, who: Who) -> list[Any]:
    kind = ReasonType.REFUND if action.kind == RefundKind.REFUND else ReasonType.CANCELATION
    return refund_services.reasons(kind, who)


def _execute(action: Action, form: LineDialogForm, order: Order, surface: Surface,
             requests: list[refund_services.LineRequest]) -> list[Refund]:
    if action.key == REFUND:
        return refund_services.refund_lines(requests=requests, who=surface.who, shop_id=surface.shop_id)
    if action.key == CANCEL_LINES:
        return refund_services.cancel_lines(requests=requests, who=surface.who, shop_id=surface.shop_id)
    return refund_services.cancel_order(order_id=order.order_id, who=surface.who, shop_id=surface.shop_id,
                                        reason_code=form.cleaned_data["motif"])


def _success(action: Action, rows: list[Refund], currency: str) -> str:
    total = euros(sum(row.total_cents for row in rows), currency)
    if action.key == REFUND:
        return f"Remboursement enregistré : {total} TTC seront rendus au client."
    if action.key == CANCEL_LINES:
        units = sum(row.quantity for row in rows)
        return f"{units} unité(s) annulée(s) : {total} TTC seront rendus au client."
    return f"Commande annulée : {total} TTC seront rendus au client."


def dialog(request: HttpRequest, order: Order, surface: Surface, key: str) -> HttpResponse:
    """GET: the form. POST: check (each line, then the whole request) and show the preview; with `confirme=1`,
    write through the service and go back to the order. `modifier` goes back to the form as typed."""
    action = ACTIONS[key]
    lines = list(order.lines.all())
    avail = availability(order, lines, surface.who.actor)
    detail_url = surface.url("order", order)
    if not avail.allows(key):
        messages.error(request, NOT_POSSIBLE)
        return _leave(request, detail_url)
    form_lines = avail.lines_for(key)
    reasons = _reasons(action, surface.who)
    if request.method != "POST" or "modifier" in request.POST:
        form = action.form_class(initial=_initial(request, action, form_lines), lines=form_lines, reasons=reasons)
        return _page(request, surface, action, order, form)
    form = action.form_class(request.POST, lines=form_lines, reasons=reasons)
    if not form.is_valid():
        return _page(request, surface, action, order, form, status=400)
    requests = form.requests()
    for one in requests:  # each line alone first, so that a refusal lands next to its line's field
        try:
            refund_services.preview_request(requests=[one], who=surface.who, shop_id=surface.shop_id,
                                            kind=action.kind)
        except BalanceInsufficient:
            pass  # said below, for the whole request
        except ComptoirError as error:
            form.add_line_error(one.order_line_id, error)
    if form.errors:
        return _page(request, surface, action, order, form, status=400)
    try:
        plan = refund_services.preview_request(requests=requests, who=surface.who, shop_id=surface.shop_id,
                                               kind=action.kind)
    except BalanceInsufficient as error:
        return _page(request, surface, action, order, form, refusal=error.message, status=400)
    except ComptoirError as error:
        form.add_error(None, french_message(error))
        return _page(request, surface, action, order, form, status=400)
    refusal = getattr(plan, "refusal", None)  # a balance too low: the figures, why, and no confirm button
    if refusal is not None:
        return _page(request, surface, action, order, form, plan=plan, refusal=refusal.message, status=400)
    if not is_confirmed(request):
        return _page(request, surface, action, order, form, plan=plan)
    try:
        rows = _execute(action, form, order, surface, requests)
    except BalanceInsufficient as error:
        return _page(request, surface, action, order, form, refusal=error.message, status=400)
    except ComptoirError as error:
        form.add_error(None, french_message(error))
        return _page(request, surface, action, order, form, status=400)
    messages.success(request, _success(action, rows, order.currency_iso_code))
    return _leave(request, detail_url)


def proposal(request: HttpRequest, order: Order, surface: Surface) -> HttpResponse:
    """htmx: the amount excl. tax proposed for the units typed, as the line's amount input (still editable)."""
    line_id = request.GET.get("ligne", "")
    avail = availability(order, list(order.lines.all()), surface.who.actor)
    found = next(((line, account) for line, account in avail.refundable if line.line_id == line_id), None)
    if found is None or not avail.can_refund:
        raise Http404("Article introuvable")
    line, account = found
    try:
        quantity = int(request.GET.get(f"quantite_{line_id}", ""))
    except ValueError:
        quantity = 0
    cents = proposed(account, quantity) if 1 <= quantity <= account.remaining_quantity else None
    form = RefundForm(initial={RefundForm.name("montant", line): cents_input(cents)}, lines=[found], reasons=[])
    widget = form.fields[form.name("montant", line)].widget
    widget.attrs.update({"data-mode-select": f"id_{form.name('mode', line)}", "data-mode": RefundMode.AMOUNT.value})
    return HttpResponse(str(form[form.name("montant", line)]))
