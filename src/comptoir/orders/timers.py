"""What happens when an order's timer comes due: the same trigger a person would fire, as SYSTEM.

A trigger the table no longer allows (the seller accepted meanwhile) makes the timer a no-op.
Calls to the payment provider are made outside the transaction, with stable idempotency keys.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction

from comptoir.core import clock
from comptoir.orders.errors import OrderInvalidState
from comptoir.orders.models import Order, OrderLine
from comptoir.orders.services.lifecycle import SYSTEM, apply_transition, check, lock_lines
from comptoir.orders.states import DROPPED_LINE_STATES, OrderState, TimerKind, Trigger
from comptoir.payments import services as payment_services

AUTO_REFUSAL_CODE = "AUTO_REFUSED"
AUTO_REFUSAL_LABEL = "refus automatique"


def _locked(order_pk: int) -> Order | None:
    return Order.objects.select_for_update().filter(pk=order_pk).first()


def _fire(order_pk: int, trigger: Trigger, *, still_pending: Callable[[], bool], prepare=None, **kwargs) -> bool:
    """Fire `trigger` as SYSTEM if still allowed; returns whether anything changed."""
    with transaction.atomic():
        order = _locked(order_pk)
        if order is None or not still_pending():
            return False
        lines = lock_lines(order)
        try:
            transition = check(order, trigger, SYSTEM, lines)
        except OrderInvalidState:
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


def handle(kind: TimerKind, order_pk: int, still_pending: Callable[[], bool]) -> bool:
    """Entry point of the worker for order timers. `still_pending()` re-checks the claimed row in the
    transaction, so a timer cancelled meanwhile does nothing."""
    if kind == TimerKind.DEBIT:
        return _debit(order_pk, still_pending)
    if kind == TimerKind.RENEW_AUTHORIZATION:
        return _renew(order_pk, still_pending)
    if kind == TimerKind.AUTO_REFUSE:
        return _fire(order_pk, Trigger.AUTO_REFUSE, still_pending=still_pending,
                     reason_code=AUTO_REFUSAL_CODE, reason_label=AUTO_REFUSAL_LABEL)
    if kind == TimerKind.DEBIT_GIVE_UP:
        return _debit(order_pk, still_pending, giving_up=True)
    if kind == TimerKind.SHIPPING_DEADLINE:
        def late(order: Order, _lines: list) -> None:
            order.shipping_late = True

        return _fire(order_pk, Trigger.MARK_SHIPPING_LATE, still_pending=still_pending, prepare=late)
    if kind == TimerKind.AUTO_RECEIVE:
        def received(order: Order, lines: list) -> None:
            order.received_date = clock.now()
            for line in lines:
                if line.state == OrderState.SHIPPED:
                    line.received_date = order.received_date

        return _fire(order_pk, Trigger.RECEIVE, still_pending=still_pending, prepare=received)
    if kind == TimerKind.AUTO_CLOSE:
        def closed(order: Order, _lines: list) -> None:
            order.closed_date = clock.now()

        return _fire(order_pk, Trigger.CLOSE, still_pending=still_pending, prepare=closed)
    if kind == TimerKind.ACCEPTANCE_WARNING:
        return _fire(order_pk, Trigger.WARN_ACCEPTANCE_DEADLINE, still_pending=still_pending)
    raise AssertionError(f"no handler for timer {kind}")


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
