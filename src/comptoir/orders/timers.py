"""What happens when an order's timer comes due: the same trigger a person would fire, as SYSTEM.

A trigger the table no longer allows (the seller accepted meanwhile) makes the timer a no-op.
Calls to the payment provider are made outside the transaction, with stable idempotency keys.
Timers that only fire a trigger (auto-refusal, reception, closing...) are handled by batches: one transaction
locks the batch's orders, takes their timers and applies the same transition to all of them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.db import transaction

from comptoir.core import clock
from comptoir.ledger import services as ledger_services
from comptoir.orders.errors import GuardRefused, OrderInvalidState
from comptoir.orders.models import Order, OrderLine
from comptoir.orders.services.lifecycle import (
    SYSTEM,
    apply_transition,
    apply_transitions,
    check,
    lock_lines,
    lock_lines_of,
    lock_orders,
    writing,
)
from comptoir.orders.states import DROPPED_LINE_STATES, OrderState, TimerKind, Trigger
from comptoir.payments import services as payment_services

AUTO_REFUSAL_CODE = "AUTO_REFUSED"
AUTO_REFUSAL_LABEL = "refus automatique"


def _locked(order_pk: int) -> Order | None:
    return lock_orders([order_pk]).get(order_pk)


def _fire(order_pk: int, trigger: Trigger, *, still_pending: Callable[[], bool], prepare=None, **kwargs) -> bool:
    """Fire `trigger` as SYSTEM if still allowed; returns whether anything changed."""
    with writing():
        order = _locked(order_pk)
        if order is None or not still_pending():
            return False
        lines = lock_lines(order)
        try:
            transition = check(order, trigger, SYSTEM, lines)
        except (OrderInvalidState, GuardRefused):  # moved meanwhile, or a guard holds it (an open incident)
            return False
        if prepare is not None:
            prepare(order, lines)
        apply_transition(order, lines, transition, SYSTEM, **kwargs)
        return True


def live_amount_cents(order_pk: int) -> int:
    """What the customer pays for the accepted lines (and their shipping)."""
    total = 0
    for price, shipping, state in OrderLine.objects.filter(order_id=order_pk).values_list(
        "price_cents", "shipping_price_cents", "state"
    ):
        if state not in DROPPED_LINE_STATES:
            total += price + shipping
    return total


Prepare = Callable[[Order, list[OrderLine], datetime], None]


def _late(order: Order, _lines: list[OrderLine], _now: datetime) -> None:
    order.shipping_late = True


def _received(order: Order, lines: list[OrderLine], now: datetime) -> None:
    order.received_date = now
    for line in lines:
        if line.state == OrderState.SHIPPED:
            line.received_date = now


def _closed(order: Order, _lines: list[OrderLine], now: datetime) -> None:
    order.closed_date = now


# The timers that fire one trigger as SYSTEM: the trigger, what it sets first, the reason it records.
FIRING: dict[TimerKind, tuple[Trigger, Prepare | None, dict[str, Any]]] = {
    TimerKind.AUTO_REFUSE: (Trigger.AUTO_REFUSE, None,
                            {"reason_code": AUTO_REFUSAL_CODE, "reason_label": AUTO_REFUSAL_LABEL}),
    TimerKind.SHIPPING_DEADLINE: (Trigger.MARK_SHIPPING_LATE, _late, {}),
    TimerKind.AUTO_RECEIVE: (Trigger.RECEIVE, _received, {}),
    TimerKind.AUTO_CLOSE: (Trigger.CLOSE, _closed, {}),
    TimerKind.ACCEPTANCE_WARNING: (Trigger.WARN_ACCEPTANCE_DEADLINE, None, {}),
}


def handle(kind: TimerKind, order_pk: int, still_pending: Callable[[], bool]) -> bool:
    """Entry point of the worker for order timers. `still_pending()` re-checks the claimed row in the
    transaction, so a timer cancelled meanwhile does nothing."""
    if kind == TimerKind.DEBIT:
        return _debit(order_pk, still_pending)
    if kind == TimerKind.RENEW_AUTHORIZATION:
        return _renew(order_pk, still_pending)
    if kind == TimerKind.DEBIT_GIVE_UP:
        return _debit(order_pk, still_pending, giving_up=True)
    if kind in FIRING:
        trigger, prep, reason = FIRING[kind]

        def prepare(order: Order, lines: list[OrderLine]) -> None:
            if prep is not None:
                prep(order, lines, clock.now())

        return _fire(order_pk, trigger, still_pending=still_pending, prepare=prepare, **reason)
    raise AssertionError(f"no handler for timer {kind}")


def handle_batch(kind: TimerKind, timers: list[tuple[int, int]], take: Callable[[list[int]], set[int]]) -> int:
    """The FIRING timers (timer pk, order pk) of one kind, in one transaction: lock their orders (in id order),
    `take(timer pks)` marks done those still claimed and pending and returns them, then each order whose
    trigger the table still allows moves exactly as `handle` would move it, its rows written with the others'.
    An error rolls the whole batch back (the worker then runs its timers one by one). Returns the orders moved."""
    trigger, prepare, reason = FIRING[kind]
    with writing():
        orders = lock_orders([order_pk for _, order_pk in timers])
        taken = take([timer_pk for timer_pk, _ in timers])
        due = [orders[order_pk] for timer_pk, order_pk in timers if timer_pk in taken and order_pk in orders]
        lines = lock_lines_of(due)
        now = clock.now()
        batch = []
        for order in due:
            try:
                transition = check(order, trigger, SYSTEM, lines[order.pk])
            except (OrderInvalidState, GuardRefused):
                continue  # the seller (or someone) moved the order meanwhile: the timer is a no-op
            if prepare is not None:
                prepare(order, lines[order.pk], now)
            batch.append((order, lines[order.pk], transition))
        # The receptions' ledger postings: the batch's pending entries read by one SELECT, written by one INSERT.
        received = [order.order_id for order, _, _ in batch] if kind == TimerKind.AUTO_RECEIVE else []
        with ledger_services.batched(received_order_ids=received):
            apply_transitions(batch, SYSTEM, now, **reason)
    return len(batch)


def _debit(order_pk: int, still_pending: Callable[[], bool], *, giving_up: bool = False) -> bool:
    """Capture the accepted lines. When giving up, ask the provider one last time with the same key first:
    a capture that went through while our calls were failing must confirm the order, never cancel it."""
    order = Order.objects.filter(pk=order_pk).only("order_id", "state").first()
    if order is None or order.state not in (OrderState.WAITING_DEBIT, OrderState.WAITING_DEBIT_PAYMENT):
        with transaction.atomic():
            still_pending()
        return False
    amount = live_amount_cents(order_pk)
    try:
        result = payment_services.call_capture(order_pk=order_pk, order_id=order.order_id, amount_cents=amount)
    except Exception:
        if not giving_up:
            raise  # the worker retries with backoff until the give-up timer
        return _fire(order_pk, Trigger.FAIL_DEBIT, still_pending=still_pending,
                     reason_code="DEBIT_TIMEOUT", reason_label="Débit non confirmé dans le délai")

    def record(order: Order, lines: list) -> None:
        payment_services.record_capture(order_pk=order_pk, order_id=order.order_id, amount_cents=amount,
                                        result=result)
        if result.succeeded:
            now = clock.now()
            order.customer_debited_date = now
            order.transaction_number = result.reference
            for line in lines:
                if line.state not in DROPPED_LINE_STATES:
                    line.debited_date = now

    if result.succeeded:
        return _fire(order_pk, Trigger.CONFIRM_DEBIT, still_pending=still_pending, prepare=record)
    return _fire(order_pk, Trigger.FAIL_DEBIT, still_pending=still_pending, prepare=record,
                 reason_code="DEBIT_REFUSED", reason_label=result.failure_reason or "Débit refusé")


def _renew(order_pk: int, still_pending: Callable[[], bool]) -> bool:
    order = Order.objects.filter(pk=order_pk).only("order_id", "state").first()
    if order is None or order.state not in (OrderState.STAGING, OrderState.WAITING_ACCEPTANCE):
        with transaction.atomic():
            still_pending()
        return False
    result = payment_services.call_reauthorize(order_pk=order_pk, order_id=order.order_id)

    def record(order: Order, _lines: list) -> None:
        payment_services.record_reauthorization(order_pk=order_pk, order_id=order.order_id, result=result)

    if result.succeeded:
        return _fire(order_pk, Trigger.RENEW_AUTHORIZATION, still_pending=still_pending, prepare=record)
    return _fire(order_pk, Trigger.EXPIRE_AUTHORIZATION, still_pending=still_pending, prepare=record,
                 reason_code="AUTHORIZATION_EXPIRED",
                 reason_label=result.failure_reason or "Autorisation de paiement expirée")
