"""Refund and cancelation use cases: preview, refund lines (OR28), cancel lines (OR30) or a whole order (OR29),
and pay the refunds back through the payment provider (a timer row, swept by the worker).

A request is a batch of line requests, possibly over several orders of one or more shops; it is all or
nothing. Locks follow STYLE §5: shops (their balances), then orders, then lines. The money is taken from the
balance the order sits in (pending before reception, payable after) and a request the balance cannot cover is
refused as a whole.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import Max

from comptoir.core import clock
from comptoir.incidents import services as incident_services
from comptoir.ledger import services as ledger_services
from comptoir.ledger.rules import RefundMoney
from comptoir.notifications import services as notification_services
from comptoir.orders.errors import OrderLineDuplicateId, OrderLineNotFound
from comptoir.orders.events import OrderEvent
from comptoir.orders.models import Order, OrderLine
from comptoir.orders.services import shipments as order_shipments
from comptoir.orders.services.lifecycle import SYSTEM, Who, apply_transition, check, lock_lines, lock_order
from comptoir.orders.services.sql import writing
from comptoir.orders.states import DROPPED_LINE_STATES, Actor, FlagTimerKind, OrderState, Trigger
from comptoir.payments import services as payment_services
from comptoir.refunds import queries
from comptoir.refunds.errors import (
    BalanceInsufficient,
    CancelationQuantityExceeded,
    RefundInvalid,
    RefundLineInvalidState,
    RefundReasonInvalid,
)
from comptoir.refunds.models import Reason, ReasonType, Refund
from comptoir.refunds.reasons import DEFAULT_REASONS
from comptoir.refunds.rules import (
    Amounts,
    Ask,
    LineAccount,
    Preview,
    RefundKind,
    RefundMode,
    RefundState,
    apply,
    compute,
    euros,
    preview,
)
from comptoir.shipping.models import Shipment, ShipmentStatus
from comptoir.timers import services as timer_services

# After reception the money sits in the payable balance (DESIGN §4).
PAYABLE_STATES = frozenset({OrderState.RECEIVED, OrderState.CLOSED})
MAX_BATCH = 100
MAX_PAYMENT_REFUSALS = 5


@dataclass(frozen=True, slots=True)
class LineRequest:
    """One line of a refund or cancelation request. Amounts in cents; `None` when not given. `mode=None`: the
    mode the amounts mean on the line, read under its lock (`rules.infer`)."""

    order_line_id: str
    reason_code: str
    mode: RefundMode | None = RefundMode.FULL
    quantity: int = 0
    amount_cents: int | None = None
    shipping_cents: int | None = None
    tax_included: bool = False
    excluded_from_shipment: bool = False


@dataclass(frozen=True, slots=True)
class Planned:
    """A checked request: the line, the amounts, the reason."""

    order: Order
    line: OrderLine
    amounts: Amounts
    reason: Reason


@dataclass(frozen=True, slots=True)
class Plan:
    items: list[Planned]
    previews: dict[int, Preview]  # per shop
    # A preview does not raise for a balance that cannot cover the refund: it reports what the refund would raise.
    refusal: BalanceInsufficient | None = None

    @property
    def preview(self) -> Preview:
        """The request's totals (one shop: the usual case; the balance shown is that shop's)."""
        values = list(self.previews.values())
        if len(values) == 1:
            return values[0]
        return preview([p.amounts for p in self.items], balance_label="", balance_before_cents=0)


def reasons(reason_type: ReasonType | str, who: Who) -> list[Reason]:
    """The reasons offered to this actor (a shop sees only the ones marked for shops)."""
    query = Reason.objects.filter(type=reason_type, active=True)
    if who.actor == Actor.SELLER:
        query = query.filter(is_shop_right=True)
    return list(query)


def _reason(code: str, reason_type: ReasonType, who: Who, cache: dict[str, Reason]) -> Reason:
    if not code or not code.strip():
        raise RefundReasonInvalid("Un motif est obligatoire.", field="reason_code")
    if code not in cache:
        reason = queries.active_reason(reason_type, code.strip())
        if reason is None or (who.actor == Actor.SELLER and not reason.is_shop_right):
            label = "de remboursement" if reason_type == ReasonType.REFUND else "d'annulation"
            raise RefundReasonInvalid(f"Motif {label} inconnu : {code}.", field="reason_code")
        cache[code] = reason
    return cache[code]


def _kind_reason_type(kind: RefundKind) -> ReasonType:
    return ReasonType.REFUND if kind == RefundKind.REFUND else ReasonType.CANCELATION


def _check_requests(requests: Sequence[LineRequest]) -> None:
    if not requests:
        raise RefundInvalid("La demande ne contient aucune ligne.", field="refunds")
    if len(requests) > MAX_BATCH:
        raise RefundInvalid(f"{MAX_BATCH} lignes au plus par demande.", field="refunds")
    seen: set[str] = set()
    for request in requests:
        if request.order_line_id in seen:
            raise OrderLineDuplicateId(f"La ligne {request.order_line_id} apparaît deux fois.",
                                       field="order_line_id")
        seen.add(request.order_line_id)


def _orders_of(requests: Sequence[LineRequest], shop_id: int | None) -> dict[str, tuple[str, int]]:
    """line id → (order id, shop id), for the lines visible to the caller (another shop's line is not found)."""
    found = queries.lines_of([r.order_line_id for r in requests], shop_id)
    for request in requests:
        if request.order_line_id not in found:
            raise OrderLineNotFound(f"Ligne de commande {request.order_line_id} introuvable.",
                                    field="order_line_id")
    return found


def _plan(requests: Sequence[LineRequest], kind: RefundKind, who: Who, shop_id: int | None, *,
          lock: bool) -> tuple[Plan, dict[str, tuple[Order, list[OrderLine], dict[str, LineAccount]]]]:
    _check_requests(requests)
    found = _orders_of(requests, shop_id)
    order_of_line = {line_id: order_id for line_id, (order_id, _) in found.items()}
    order_ids = sorted(set(order_of_line.values()))
    shop_ids = sorted({shop for _, shop in found.values()})
    balances = {sid: (ledger_services.lock_shop_balances(sid) if lock else queries.balances(sid)) for sid in shop_ids}
    loaded: dict[str, tuple[Order, list[OrderLine], dict[str, LineAccount]]] = {}
    trigger = Trigger.REFUND if kind == RefundKind.REFUND else Trigger.CANCEL_LINES
    for order_id in order_ids:
        if lock:
            order = lock_order(order_id, shop_id=shop_id)
            lines = lock_lines(order)
        else:
            order = Order.objects.get(order_id=order_id)
            lines = list(OrderLine.objects.filter(order_id=order.pk).order_by("index"))
        check(order, trigger, who, lines)
        loaded[order_id] = (order, lines, queries.line_accounts(order.pk, lines))

    reason_cache: dict[str, Reason] = {}
    items: list[Planned] = []
    for request in requests:
        order, lines, accounts = loaded[order_of_line[request.order_line_id]]
        line = next(ln for ln in lines if ln.line_id == request.order_line_id)
        if line.state in DROPPED_LINE_STATES:
            raise RefundLineInvalidState(
                f"Ligne {line.line_id} : {'refusée' if line.state == OrderState.REFUSED else 'annulée'}, "
                "rien n'a été débité.", field="order_line_id")
        if line.state == OrderState.REFUNDED:
            raise RefundLineInvalidState(f"La ligne {line.line_id} est déjà intégralement remboursée.",
                                         field="order_line_id")
        reason = _reason(request.reason_code, _kind_reason_type(kind), who, reason_cache)
        ask = Ask(line.line_id, kind, request.mode, request.quantity, request.amount_cents, request.shipping_cents,
                  request.tax_included, request.excluded_from_shipment)
        amounts = compute(accounts[line.line_id], ask)
        accounts[line.line_id] = apply(accounts[line.line_id], amounts)
        items.append(Planned(order, line, amounts, reason))

    previews: dict[int, Preview] = {}
    refusal: BalanceInsufficient | None = None
    for sid in shop_ids:
        mine = [p for p in items if p.order.shop_id == sid]
        payable = any(p.order.state in PAYABLE_STATES for p in mine)
        label = "payable" if payable else "en attente"
        before = balances[sid]["payable" if payable else "pending"]
        previews[sid] = preview([p.amounts for p in mine], balance_label=label, balance_before_cents=before)
        # Refunds of received orders come from the payable balance, the others from the pending one: each
        # balance must cover its part (the pending part always can: it is the order's own money).
        for from_payable, account in ((True, "payable"), (False, "pending")):
            cost = sum(p.amounts.seller_cost_cents for p in mine if (p.order.state in PAYABLE_STATES) == from_payable)
            if cost and balances[sid][account] - cost < 0:
                what = "payable" if from_payable else "en attente"
                error = BalanceInsufficient(
                    f"Votre solde {what} ({euros(balances[sid][account])}) ne couvre pas ce remboursement "
                    f"({euros(cost)} à votre charge). Par sécurité, le remboursement est refusé : contactez le "
                    "service client de l'opérateur.")
                if lock:
                    raise error
                refusal = refusal or error
    return Plan(items, previews, refusal), loaded


def preview_request(*, requests: Sequence[LineRequest], who: Who, shop_id: int | None,
                    kind: RefundKind = RefundKind.REFUND) -> Plan:
    """Everything a refund would do, computed and checked, nothing written (the balance may still move
    before the seller confirms: the refund checks again under lock). A balance too low is not raised here but
    reported in `plan.refusal`, so the seller sees the figures and why the refund would be refused."""
    plan, _ = _plan(requests, kind, who, shop_id, lock=False)
    return plan


# Checks a front door makes on what was written (Mirakl's OR28 compares the client's taxes with the computed
# ones); run last in the refund's transaction, raising undoes everything.
Verify = Callable[[list[Refund]], None]


def refund_lines(*, requests: Sequence[LineRequest], who: Who, shop_id: int | None,
                 verify: Verify | None = None) -> list[Refund]:
    """OR28: refund lines, all or nothing. The rows come with their `order` and `line` loaded."""
    return _execute(requests, RefundKind.REFUND, who, shop_id, verify)


def cancel_lines(*, requests: Sequence[LineRequest], who: Who, shop_id: int | None,
                 verify: Verify | None = None) -> list[Refund]:
    """OR30: cancel lines or units that are not in a parcel yet; the customer is paid back."""
    return _execute(requests, RefundKind.CANCELATION, who, shop_id, verify)


def cancel_order(*, order_id: str, who: Who, shop_id: int | None, reason_code: str = "") -> list[Refund]:
    """OR29: cancel every unit of the order (only when nothing has shipped). Before the debit (the operator
    only) nothing was captured: the card's hold is released by the table's CANCEL row."""
    with transaction.atomic():
        order = lock_order(order_id, shop_id=shop_id)
        lines = lock_lines(order)
        transition = check(order, Trigger.CANCEL, who, lines)
        if order.state != OrderState.SHIPPING:
            reason = _reason(reason_code or default_reason_code(ReasonType.CANCELATION, who),
                             ReasonType.CANCELATION, who, {})
            apply_transition(order, lines, transition, who, reason_code=reason.code, reason_label=reason.label)
            return []
        # Every unit or nothing: with units in a parcel, FULL would cancel only the others and leave the order.
        if any(a.in_shipments_quantity for a in queries.line_accounts(order.pk, lines).values()):
            raise CancelationQuantityExceeded(
                f"Commande {order.order_id} : des unités sont déjà dans un colis, la commande ne peut plus être "
                "annulée en entier. Annulez ligne par ligne les unités restantes (OR30).")
        code = reason_code or default_reason_code(ReasonType.CANCELATION, who)
        requests = [LineRequest(line.line_id, code, RefundMode.FULL)
                    for line in lines if line.state not in DROPPED_LINE_STATES]
        return _execute(requests, RefundKind.CANCELATION, who, shop_id)


def ensure_default_reasons() -> int:
    """Create the default reasons that are missing (a flushed database); returns how many were created."""
    created = 0
    for position, (kind, code, label, shop) in enumerate(DEFAULT_REASONS):
        _, new = Reason.objects.get_or_create(type=kind, code=code, defaults={
            "label": label, "is_shop_right": shop, "position": position})
        created += new
    return created


def default_reason_code(reason_type: ReasonType, who: Who) -> str:
    found = reasons(reason_type, who)
    if not found:
        raise RefundReasonInvalid("Aucun motif n'est configuré.", field="reason_code")
    return found[0].code


def _execute(requests: Sequence[LineRequest], kind: RefundKind, who: Who, shop_id: int | None,
             verify: Verify | None = None) -> list[Refund]:
    with writing():  # on SQLite, queued on the writer mutex rather than polling the busy handler
        plan, loaded = _plan(requests, kind, who, shop_id, lock=True)
        now = clock.now()
        group = str(uuid.uuid4())
        rows = [
            Refund(
                order=p.order, line=p.line, shop_id=p.order.shop_id, group_id=group, kind=kind, mode=p.amounts.mode,
                reason_code=p.reason.code, reason_label=p.reason.label, quantity=p.amounts.quantity,
                amount_cents=p.amounts.amount_cents, amount_tax_cents=p.amounts.amount_tax_cents,
                shipping_cents=p.amounts.shipping_cents, shipping_tax_cents=p.amounts.shipping_tax_cents,
                commission_fee_cents=p.amounts.commission_fee_cents,
                commission_vat_cents=p.amounts.commission_vat_cents,
                excluded_quantity=p.amounts.excluded_quantity,
                from_payable=p.order.state in PAYABLE_STATES, currency_iso_code=p.order.currency_iso_code,
                actor=who.actor, actor_name=who.name, created_date=now,
            )
            for p in plan.items
        ]
        _insert_refunds(rows)
        for order_id, (order, lines, _) in loaded.items():
            mine = [p for p in plan.items if p.order.order_id == order_id]
            _settle_order(order, lines, mine, kind, who, group)
        if verify is not None:
            verify(rows)
    return rows


_REFUND_FIELDS = [f for f in Refund._meta.concrete_fields if not f.primary_key]


def _insert_refunds(rows: list[Refund]) -> None:
    """INSERT … RETURNING the rows without the ORM's compilation (every refund comes here); each is then as
    `bulk_create` leaves it: its id set, its order and line in place."""
    ids = notification_services.insert_rows(
        Refund, [{f.name: getattr(row, f.attname) for f in _REFUND_FIELDS} for row in rows], returning=True)
    alias = transaction.get_connection().alias
    for row, pk in zip(rows, ids, strict=True):
        row.pk = pk
        row._state.adding, row._state.db = False, alias


def _settle_order(order: Order, lines: list[OrderLine], planned: list[Planned], kind: RefundKind, who: Who,
                  group: str) -> None:
    """Write one order's part: units that no longer ship, the ledger, the lifecycle move, the payment timer."""
    by_line = {line.line_id: line for line in lines}
    excluded = [(by_line[p.line.line_id], p.amounts.excluded_quantity) for p in planned if p.amounts.excluded_quantity]
    for line, units in excluded:
        line.canceled_quantity += units
        OrderLine.objects.filter(pk=line.pk).update(canceled_quantity=line.canceled_quantity)
    ledger_services.post_refunds(
        shop_id=order.shop_id, order_id=order.order_id, from_payable=order.state in PAYABLE_STATES,
        refunds=[RefundMoney(p.line.line_id, p.amounts.amount_cents, p.amounts.shipping_cents,
                             p.amounts.commission_fee_cents, p.amounts.commission_vat_cents) for p in planned],
    )
    settled_state = OrderState.REFUNDED if kind == RefundKind.REFUND else OrderState.CANCELED
    targets = {p.line.line_id: settled_state for p in planned if p.amounts.settles_line}
    total = sum(p.amounts.total_cents for p in planned)
    reason = planned[0].reason
    event_data: dict[str, Any] = {
        "group_id": group,
        "total": euros(total),
        "total_cents": total,
        "lines": [{"title": p.line.product_title, "quantity": p.amounts.quantity,
                   "amount": euros(p.amounts.total_cents), "reason": p.reason.label} for p in planned],
    }
    details = {"group_id": group, "total_cents": total, "kind": kind.value}
    live_after = [ln for ln in lines if ln.state not in DROPPED_LINE_STATES and ln.line_id not in targets]
    if kind == RefundKind.CANCELATION and not live_after:
        trigger = Trigger.CANCEL  # every line canceled: the order is canceled
    else:
        trigger = Trigger.CANCEL_LINES if kind == RefundKind.CANCELATION else Trigger.REFUND
    transition = check(order, trigger, who, lines)
    apply_transition(order, lines, transition, who, line_targets=targets, reason_code=reason.code,
                     reason_label=reason.label, details=details, event_data=event_data)
    if kind == RefundKind.REFUND:  # « Le remboursement d'une commande fermera automatiquement l'incident lié. »
        incident_services.close_for_refund(order, [p.line.line_id for p in planned], who,
                                           refund_reason_code=reason.code)
    if excluded and order.state == OrderState.SHIPPING:
        _ship_if_nothing_left(order, lines)
    timer_services.schedule(order_pk=order.pk, kind=FlagTimerKind.REFUND_PAYMENT, due_at=clock.now())


def _ship_if_nothing_left(order: Order, lines: list[OrderLine]) -> None:
    """The last units left to ship were canceled while the others have left: the order is shipped."""
    shipped = queries.shipped_units(order.pk)
    accepted = order_shipments.accepted_quantities(lines)
    if not any(shipped.values()) or any(shipped.get(lid, 0) < qty for lid, qty in accepted.items()):
        return
    last = Shipment.objects.filter(order_id=order.pk, status=ShipmentStatus.SHIPPED).aggregate(
        last=Max("shipped_date"))["last"] or clock.now()
    order_shipments.ship_order(order, lines, who=SYSTEM, shipped_at=last)


def _payment_key(pk: int, refusals: int) -> str:
    return f"refund:{pk}" if refusals == 0 else f"refund:{pk}:retry{refusals}"


def handle_refund_payment(order_pk: int, still_pending: Callable[[], bool]) -> bool:
    """The worker's side job: pay back every refund of the order still waiting, one provider call each with
    the refund's own idempotency key (a retry after a crash pays nothing twice), then record the outcome.
    A refusal by the provider is retried later with a new key, up to MAX_PAYMENT_REFUSALS, and the operator is
    told each time (the customer must be paid back: a person may have to act)."""
    waiting = list(Refund.objects.filter(order_id=order_pk, state__in=[
        RefundState.WAITING_REFUND, RefundState.WAITING_REFUND_PAYMENT],
        payment_refusals__lt=MAX_PAYMENT_REFUSALS).values_list("pk", "amount_cents", "shipping_cents",
                                                               "payment_refusals"))
    order = Order.objects.filter(pk=order_pk).values("order_id", "shop_id").first()
    if order is None:
        return False
    results = {}
    for pk, amount, shipping, refusals in waiting:
        key = _payment_key(pk, refusals)
        results[pk] = (key, amount + shipping,
                       payment_services.call_refund(order_pk=order_pk, order_id=order["order_id"], refund_key=key,
                                                    amount_cents=amount + shipping))
    with transaction.atomic():
        still_pending()  # done either way: the refunds below are what this run paid
        now = clock.now()
        refused: list[Refund] = []
        for refund in Refund.objects.select_for_update().filter(pk__in=list(results)).exclude(
                state=RefundState.REFUNDED):
            key, cents, result = results[refund.pk]
            if key != _payment_key(refund.pk, refund.payment_refusals):
                continue  # another run recorded this try meanwhile
            payment_services.record_refund(order_pk=order_pk, refund_key=key, amount_cents=cents, result=result)
            if result.succeeded:
                refund.state, refund.transaction_date = RefundState.REFUNDED, now
                refund.transaction_number = result.reference
                refund.failure_reason = ""
            else:
                refund.state, refund.failure_reason = RefundState.WAITING_REFUND_PAYMENT, result.failure_reason[:300]
                refund.payment_refusals += 1
                refused.append(refund)
            refund.save(update_fields=["state", "transaction_date", "transaction_number", "failure_reason",
                                       "payment_refusals"])
        if refused:
            notification_services.record_events([OrderEvent("RefundPaymentFailed", order["order_id"],
                                                            order["shop_id"], now, {
                "refunds": [{"refund_id": r.refund_id, "amount": euros(r.total_cents), "reason": r.failure_reason,
                             "tries": r.payment_refusals, "final": r.payment_refusals >= MAX_PAYMENT_REFUSALS}
                            for r in refused],
            })])
            retry = [r for r in refused if r.payment_refusals < MAX_PAYMENT_REFUSALS]
            if retry:
                delay = min(2 ** max(r.payment_refusals for r in retry), 24)
                timer_services.schedule(order_pk=order_pk, kind=FlagTimerKind.REFUND_PAYMENT,
                                        due_at=now + timedelta(hours=delay))
    return bool(results)
