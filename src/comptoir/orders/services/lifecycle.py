"""The one place that assigns `order.state`: fires a row of the lifecycle table, moves the lines, writes
history, sets and cancels timers, emits events and moves money, all in the caller's transaction."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction

from comptoir.catalog import services as catalog_services
from comptoir.core import clock
from comptoir.core.calendar import BusinessCalendar
from comptoir.ledger import services as ledger_services
from comptoir.ledger.rules import LineMoney
from comptoir.notifications import services as notification_services
from comptoir.orders.errors import GuardRefused, OrderConflict, OrderInvalidState, OrderNotFound
from comptoir.orders.events import OrderEvent
from comptoir.orders.models import Order, OrderHistory, OrderLine
from comptoir.orders.states import (
    DROPPED_LINE_STATES,
    SETTLED_LINE_STATES,
    Actor,
    Cancel,
    DeactivateOffers,
    DelayUnit,
    Emit,
    GuardRejected,
    OrderFacts,
    OrderState,
    PostLedger,
    ReleasePayment,
    Schedule,
    SuspendShop,
    TimerKind,
    Transition,
    TransitionNotAllowed,
    Trigger,
    derive_order_state,
    fire,
)
from comptoir.payments import services as payment_services
from comptoir.shops import services as shop_services
from comptoir.timers import services as timer_services

_calendar: BusinessCalendar | None = None


def calendar() -> BusinessCalendar:
    global _calendar
    if _calendar is None:
        conf = settings.COMPTOIR
        _calendar = BusinessCalendar(conf["CALENDAR_COUNTRY"], conf["CALENDAR_SUBDIVISION"])
    return _calendar


@dataclass(frozen=True, slots=True)
class Who:
    actor: Actor
    name: str = ""


SYSTEM = Who(Actor.SYSTEM, "Comptoir")
# Line states that carry the reason of the move (a refusal, a cancelation, a refund).
_REASONED = DROPPED_LINE_STATES | SETTLED_LINE_STATES


def lock_order(order_id: str, *, shop_id: int | None = None) -> Order:
    """Lock one order (PostgreSQL row lock; SQLite already holds the write lock: IMMEDIATE transactions).

    With `shop_id`, an order of another shop is reported as not found: a key sees nothing of other shops.
    """
    query = Order.objects.select_for_update().filter(order_id=order_id)
    if shop_id is not None:
        query = query.filter(shop_id=shop_id)
    order = query.first()
    if order is None:
        raise OrderNotFound(f"Commande {order_id} introuvable.")
    return order


def lock_lines(order: Order) -> list[OrderLine]:
    return list(OrderLine.objects.select_for_update().filter(order_id=order.pk).order_by("index"))


def facts_of(order: Order, lines: list[OrderLine] | None = None) -> OrderFacts:
    return OrderFacts(
        state=OrderState(order.state),
        waiting_customer_documents=order.waiting_customer_documents,
        any_line_shipped=False if lines is None else any(line.shipped_date for line in lines),
    )


def check(order: Order, trigger: Trigger, who: Who, lines: list[OrderLine] | None = None) -> Transition:
    try:
        return fire(facts_of(order, lines), trigger, who.actor)
    except TransitionNotAllowed:
        raise OrderInvalidState(
            f"Action impossible : la commande {order.order_id} est à l'état {order.state}."
        ) from None
    except GuardRejected as exc:
        raise GuardRefused(f"Action refusée ({exc.code}).", code=exc.code) from None


def _due_at(order: Order, effect: Schedule, now: datetime) -> datetime:
    conf = settings.COMPTOIR
    amount = conf[effect.setting] if effect.setting else 0
    if effect.minus_setting:
        amount -= conf[effect.minus_setting]
    if effect.unit == DelayUnit.SECONDS:
        from datetime import timedelta

        return now + timedelta(seconds=amount)
    if effect.unit == DelayUnit.BUSINESS_DAYS:
        return calendar().add_business_days(now, amount)
    if effect.unit == DelayUnit.CALENDAR_DAYS:
        return calendar().add_calendar_days(now, amount)
    if effect.unit == DelayUnit.AUTHORIZATION_RENEWAL:
        return payment_services.renewal_due_at(order_pk=order.pk)
    if effect.unit == DelayUnit.SHIPPING_DEADLINE:
        return calendar().add_business_days(now, order.leadtime_to_ship)
    raise AssertionError(effect.unit)


def _post_ledger(order: Order, lines: list[OrderLine], kind: str) -> None:
    if kind == "DEBIT":
        ledger_services.post_order_debit(shop_id=order.shop_id, order_id=order.order_id, lines=[
            LineMoney(line.line_id, line.price_cents, line.shipping_price_cents, line.commission_fee_cents,
                      line.commission_vat_cents)
            for line in lines if line.state not in DROPPED_LINE_STATES
        ])
    elif kind == "RECEPTION":
        ledger_services.post_order_received(shop_id=order.shop_id, order_id=order.order_id)
    else:
        raise AssertionError(kind)


def apply_transition(
    order: Order,
    lines: list[OrderLine],
    transition: Transition,
    who: Who,
    *,
    line_targets: Mapping[str, OrderState] | None = None,
    reason_code: str = "",
    reason_label: str = "",
    details: dict[str, Any] | None = None,
    event_data: dict[str, Any] | None = None,
) -> list[OrderEvent]:
    """Move the order and its lines; `line_targets` overrides the target per line (partial refusal)."""
    assert transaction.get_connection().in_atomic_block, "lifecycle changes run inside a transaction"
    now = clock.now()
    source = OrderState(order.state)
    target = transition.target_from(source)
    history: list[OrderHistory] = []
    changed_lines: list[OrderLine] = []
    for line in lines:
        if line.state in DROPPED_LINE_STATES:
            continue
        if transition.target is None:  # the order stays put; only the named lines move (refunds, cancels)
            if line_targets is None or line.line_id not in line_targets:
                continue
            new_state = line_targets[line.line_id]
        else:
            if line.state in SETTLED_LINE_STATES:
                continue
            new_state = (line_targets or {}).get(line.line_id, target)
        if new_state != line.state:
            history.append(OrderHistory(
                order=order, line_id=line.line_id, created_date=now, actor=who.actor, actor_name=who.name,
                trigger=transition.trigger, from_state=line.state, to_state=new_state,
                reason_code=reason_code if new_state in _REASONED else "",
                reason_label=reason_label if new_state in _REASONED else "",
            ))
            line.state = new_state
            line.last_updated_date = now
            if new_state in _REASONED:
                line.state_reason_code, line.state_reason_label = reason_code, reason_label
            changed_lines.append(line)
    if transition.target is not None:
        derived = derive_order_state([OrderState(line.state) for line in lines], fallback=target)
        if derived != target:
            raise AssertionError(f"lines say {derived}, the table says {target} ({transition.trigger})")
    # The order row carries the reason when the order itself is dropped or stays put (a note).
    order_reason = target in DROPPED_LINE_STATES or transition.target is None
    history.append(OrderHistory(
        order=order, created_date=now, actor=who.actor, actor_name=who.name, trigger=transition.trigger,
        from_state=source, to_state=target, reason_code=reason_code if order_reason else "",
        reason_label=reason_label if order_reason else "", details=details or {},
    ))

    previous_version = order.version
    order.state = target
    order.version = previous_version + 1
    order.last_updated_date = now
    if target in DROPPED_LINE_STATES:
        order.state_reason_code, order.state_reason_label = reason_code, reason_label

    events: list[OrderEvent] = []
    cancel_kinds: list[TimerKind] = []
    schedules: dict[TimerKind, datetime] = {}
    for effect in transition.effects:
        if isinstance(effect, Cancel):
            cancel_kinds.append(effect.timer)
        elif isinstance(effect, Schedule):
            due = _due_at(order, effect, now)
            schedules[effect.timer] = due
            if effect.timer == TimerKind.AUTO_REFUSE:
                order.acceptance_deadline = due
            elif effect.timer == TimerKind.SHIPPING_DEADLINE:
                order.shipping_deadline = due
        elif isinstance(effect, Emit):
            events.append(OrderEvent(effect.event, order.order_id, order.shop_id, now, dict(event_data or {})))
        elif isinstance(effect, ReleasePayment):
            payment_services.release_order(order_pk=order.pk, order_id=order.order_id)
        elif isinstance(effect, DeactivateOffers):
            catalog_services.deactivate_offers(
                offer_ids=[line.offer_id for line in changed_lines if line.offer_id],
                reason=f"Commande {order.order_id} refusée automatiquement",
            )
        elif isinstance(effect, PostLedger):
            _post_ledger(order, lines, effect.kind)
        elif isinstance(effect, SuspendShop):
            if shop_services.suspend_shop(shop_id=order.shop_id, reason=effect.reason):
                events.append(OrderEvent("ShopSuspended", order.order_id, order.shop_id, now,
                                         {"reason": effect.reason}))
    # Cancel only the timers this transition did not just (re)schedule.
    scheduled = {e.timer for e in transition.effects if isinstance(e, Schedule)}
    # One UPDATE and one INSERT for all of them (was an UPDATE + INSERT per scheduled kind, plus an UPDATE).
    timer_services.replace(order_pk=order.pk, cancel=[k for k in cancel_kinds if k not in scheduled],
                           schedules=schedules)

    # The version check turns a lost race into a clean conflict on either database.
    updated = Order.objects.filter(pk=order.pk, version=previous_version).update(
        state=order.state, version=order.version, last_updated_date=now,
        state_reason_code=order.state_reason_code, state_reason_label=order.state_reason_label,
        acceptance_deadline=order.acceptance_deadline, shipping_deadline=order.shipping_deadline,
        acceptance_decision_date=order.acceptance_decision_date,
        customer_debited_date=order.customer_debited_date, transaction_number=order.transaction_number,
        shipped_date=order.shipped_date, received_date=order.received_date, closed_date=order.closed_date,
        shipping_late=order.shipping_late, waiting_customer_documents=order.waiting_customer_documents,
    )
    if updated != 1:
        raise OrderConflict()
    if changed_lines:
        line_fields = ["state", "state_reason_code", "state_reason_label", "last_updated_date", "debited_date",
                       "shipped_date", "received_date"]
        values = {tuple(getattr(line, f) for f in line_fields) for line in changed_lines}
        if len(values) == 1:
            # The usual case (every line moves alike): one plain UPDATE ... WHERE id IN (...); bulk_update's
            # CASE per field and line costs several times more to build and to run.
            OrderLine.objects.filter(pk__in=[line.pk for line in changed_lines]).update(
                **dict(zip(line_fields, values.pop(), strict=True))
            )
        else:
            OrderLine.objects.bulk_update(changed_lines, line_fields)
    OrderHistory.objects.bulk_create(history)
    notification_services.record_events(events)
    return events


def transition_order(
    order_id: str,
    trigger: Trigger,
    who: Who,
    *,
    shop_id: int | None = None,
    reason_code: str = "",
    reason_label: str = "",
    prepare: Any = None,
) -> Order:
    """Lock, check against the table, apply. `prepare(order, lines)` may set dates before the write."""
    with transaction.atomic():
        order = lock_order(order_id, shop_id=shop_id)
        lines = lock_lines(order)
        transition = check(order, trigger, who, lines)
        if prepare is not None:
            prepare(order, lines)
        apply_transition(order, lines, transition, who, reason_code=reason_code, reason_label=reason_label)
    return order
