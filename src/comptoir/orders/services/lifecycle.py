"""The one place that assigns `order.state`: fires a row of the lifecycle table, moves the lines, writes
history, sets and cancels timers, emits events and moves money, all in the caller's transaction. A sweep applies
one transition to a batch of locked orders at once (`apply_transitions`): the same rows, written in bulk."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
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
from comptoir.orders.services.sql import changed, fetch, remember, update_alike, update_sql, write, writing
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
from comptoir.webhooks import services as webhook_services

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

_ORDER_FIELDS = (
    "state", "version", "last_updated_date", "state_reason_code", "state_reason_label", "acceptance_deadline",
    "shipping_deadline", "acceptance_decision_date", "customer_debited_date", "transaction_number",
    "shipped_date", "received_date", "closed_date", "shipping_late", "waiting_customer_documents",
)
_LINE_FIELDS = ("state", "state_reason_code", "state_reason_label", "last_updated_date", "debited_date",
                "shipped_date", "received_date")
_UPDATE_ORDER = update_sql(Order, _ORDER_FIELDS, ("id", "version"))


def lock_order(order_id: str, *, shop_id: int | None = None) -> Order:
    """Lock one order (PostgreSQL row lock; SQLite already holds the write lock: IMMEDIATE transactions).

    With `shop_id`, an order of another shop is reported as not found: a key sees nothing of other shops.
    """
    if shop_id is None:
        found = fetch(Order, "lock_order", lambda: Order.objects.select_for_update().filter(order_id=order_id),
                       [order_id])
    else:
        found = fetch(Order, "lock_shop_order",
                       lambda: Order.objects.select_for_update().filter(order_id=order_id).filter(shop_id=shop_id),
                       [order_id, shop_id])
    if not found:
        raise OrderNotFound(f"Commande {order_id} introuvable.")
    return found[0]


def lock_lines(order: Order) -> list[OrderLine]:
    return fetch(OrderLine, "lock_lines",
                  lambda: OrderLine.objects.select_for_update().filter(order_id=order.pk).order_by("index"), [order.pk])


def lock_orders(pks: Sequence[int]) -> dict[int, Order]:
    """Lock a batch of orders (by id, always in id order: two sweeps never wait on each other in a cycle)."""
    ids = sorted(set(pks))
    if not ids:
        return {}
    found = fetch(Order, ("lock_orders", len(ids)),
                   lambda: Order.objects.select_for_update().filter(pk__in=ids).order_by("pk"), ids)
    remember(found, _ORDER_FIELDS)  # `_flush` then writes only the columns that moved, set-based
    return {order.pk: order for order in found}


def lock_lines_of(orders: Sequence[Order]) -> dict[int, list[OrderLine]]:
    ids = sorted(order.pk for order in orders)
    lines: dict[int, list[OrderLine]] = {pk: [] for pk in ids}
    if ids:
        for line in fetch(OrderLine, ("lock_lines_of", len(ids)),
                           lambda: OrderLine.objects.select_for_update().filter(order_id__in=ids)
                           .order_by("order_id", "index"), ids):
            lines[line.order_id].append(line)
    remember([line for group in lines.values() for line in group], _LINE_FIELDS)
    return lines


def facts_of(order: Order, lines: list[OrderLine] | None = None) -> OrderFacts:
    return OrderFacts(
        state=OrderState(order.state),
        waiting_customer_documents=order.waiting_customer_documents,
        any_line_shipped=False if lines is None else any(line.shipped_date for line in lines),
        has_open_incident=order.has_incident,
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


@dataclass(slots=True)
class _Writes:
    """What one or many transitions write, gathered in memory and flushed in a few statements."""

    orders: list[tuple[Order, int]] = field(default_factory=list)  # (order, version read under the lock)
    lines: list[OrderLine] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)  # OrderHistory rows
    events: list[OrderEvent] = field(default_factory=list)
    timers: list[tuple[int, list[TimerKind], dict[TimerKind, datetime]]] = field(default_factory=list)
    releases: list[tuple[int, str]] = field(default_factory=list)  # (order pk, order id) whose hold goes back
    deactivations: list[tuple[list[int], str]] = field(default_factory=list)  # (offer ids, reason) per order
    # Orders whose state moved (order, state before, trigger, actor, lines): the webhooks' OrderStateChanged.
    moved: list[tuple[Order, str, str, str, list[OrderLine]]] = field(default_factory=list)


def _plan(
    order: Order,
    lines: list[OrderLine],
    transition: Transition,
    who: Who,
    now: datetime,
    writes: _Writes,
    *,
    line_targets: Mapping[str, OrderState] | None = None,
    reason_code: str = "",
    reason_label: str = "",
    details: dict[str, Any] | None = None,
    event_data: dict[str, Any] | None = None,
    suspensions: set[int] | None = None,
) -> list[OrderEvent]:
    """Move the order and its lines in memory, run the effects that belong to other apps, and add this
    transition's rows to `writes`; `line_targets` overrides the target per line (partial refusal).
    `suspensions`: in a batch, the shops it has just suspended (`_suspend_shops`) and not yet announced."""
    source = OrderState(order.state)
    target = transition.target_from(source)
    history = writes.history
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
            reasoned = new_state in _REASONED
            history.append({
                "order": order.pk, "line_id": line.line_id, "created_date": now, "actor": who.actor,
                "actor_name": who.name, "trigger": transition.trigger, "from_state": line.state, "to_state": new_state,
                "reason_code": reason_code if reasoned else "", "reason_label": reason_label if reasoned else "",
            })
            line.state = new_state
            line.last_updated_date = now
            if reasoned:
                line.state_reason_code, line.state_reason_label = reason_code, reason_label
            changed_lines.append(line)
    if transition.target is not None:
        derived = derive_order_state([OrderState(line.state) for line in lines], fallback=target)
        if derived != target:
            raise AssertionError(f"lines say {derived}, the table says {target} ({transition.trigger})")
    # The order row carries the reason when the order itself is dropped or stays put (a note).
    order_reason = target in DROPPED_LINE_STATES or transition.target is None
    history.append({
        "order": order.pk, "created_date": now, "actor": who.actor, "actor_name": who.name,
        "trigger": transition.trigger, "from_state": source, "to_state": target,
        "reason_code": reason_code if order_reason else "", "reason_label": reason_label if order_reason else "",
        "details": details or {},
    })
    if target != source:
        writes.moved.append((order, source, transition.trigger, who.actor, lines))

    writes.orders.append((order, order.version))
    order.state = target
    order.version += 1
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
            writes.releases.append((order.pk, order.order_id))
        elif isinstance(effect, DeactivateOffers):
            writes.deactivations.append(([line.offer_id for line in changed_lines if line.offer_id],
                                         f"Commande {order.order_id} refusée automatiquement"))
        elif isinstance(effect, PostLedger):
            _post_ledger(order, lines, effect.kind)
        elif isinstance(effect, SuspendShop):
            if suspensions is None:  # one order alone: suspend its shop now
                announce = shop_services.suspend_shop(shop_id=order.shop_id, reason=effect.reason)
            else:  # the batch suspended it already: the shop's first order of the batch says so, once
                announce = order.shop_id in suspensions
                suspensions.discard(order.shop_id)
            if announce:
                events.append(OrderEvent("ShopSuspended", order.order_id, order.shop_id, now,
                                         {"reason": effect.reason}))
    # Cancel only the timers this transition did not just (re)schedule.
    scheduled = {e.timer for e in transition.effects if isinstance(e, Schedule)}
    writes.timers.append((order.pk, [k for k in cancel_kinds if k not in scheduled], schedules))
    writes.lines.extend(changed_lines)
    writes.events.extend(events)
    return events


def _flush(writes: _Writes, now: datetime) -> None:
    # Holds and offers of the whole batch in a few statements (each release keeps its own idempotency key).
    if writes.releases:
        payment_services.release_orders(orders=writes.releases)
    if writes.deactivations:
        catalog_services.deactivate_offers_of_orders(offers=writes.deactivations)
    timer_services.replace_many(writes.timers, now=now)
    # The version check turns a lost race into a clean conflict on either database.
    if _write_orders(writes.orders) != len(writes.orders):
        raise OrderConflict()
    _write_lines(writes.lines)
    notification_services.insert_rows(OrderHistory, writes.history)
    notification_services.record_events(writes.events)
    webhook_services.record_state_changes(writes.moved, now)


def _write_orders(orders: list[tuple[Order, int]]) -> int:
    """Orders locked by `lock_orders` write only the columns that moved, and those that moved alike (a sweep's
    batch) share one `UPDATE … WHERE id IN (…) AND version = …`; the others their whole row. Returns the rows
    written."""
    alike, whole = [], []
    for order, version in orders:
        names = changed(order, _ORDER_FIELDS)
        if names is None:
            whole.append([*(getattr(order, name) for name in _ORDER_FIELDS), order.pk, version])
        else:
            alike.append((names, tuple(getattr(order, name) for name in names), (version,), order.pk))
    updated = update_alike(Order, alike, where=("version",)) if alike else 0
    if whole:
        updated += write("update_order", _UPDATE_ORDER, whole)
    return updated


def _write_lines(lines: list[OrderLine]) -> None:
    """Lines that end alike (an accept of every line, a sweep's batch) share one UPDATE … IN: of the columns that
    moved for lines locked by `lock_lines_of`, of all of them for the others."""
    alike = []
    for line in lines:
        names = changed(line, _LINE_FIELDS)
        if names is None:
            names = _LINE_FIELDS
        if names:
            alike.append((names, tuple(getattr(line, name) for name in names), (), line.pk))
    update_alike(OrderLine, alike)


def _suspend_shops(batch: Sequence[tuple[Order, list[OrderLine], Transition]]) -> set[int]:
    """The shops a batch's transitions suspend, by one UPDATE … RETURNING (per reason): those that were open."""
    by_reason: dict[str, list[int]] = {}
    for order, _, transition in batch:
        for effect in transition.effects:
            if isinstance(effect, SuspendShop):
                by_reason.setdefault(effect.reason, []).append(order.shop_id)
    suspended: set[int] = set()
    for reason, shop_ids in by_reason.items():
        suspended |= shop_services.suspend_shops(shop_ids=shop_ids, reason=reason)
    return suspended


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
    writes = _Writes()
    events = _plan(order, lines, transition, who, now, writes, line_targets=line_targets, reason_code=reason_code,
                   reason_label=reason_label, details=details, event_data=event_data)
    _flush(writes, now)
    return events


def apply_transitions(
    batch: Sequence[tuple[Order, list[OrderLine], Transition]],
    who: Who,
    now: datetime,
    *,
    reason_code: str = "",
    reason_label: str = "",
    event_data: Mapping[int, dict[str, Any]] | None = None,
) -> list[OrderEvent]:
    """`apply_transition` for a batch of orders locked together (a sweep): each order moves exactly as it would
    alone, and the rows of all of them are written by a few bulk statements. `event_data`: per order pk, the
    data of the events it emits. Returns the events of all of them."""
    assert transaction.get_connection().in_atomic_block, "lifecycle changes run inside a transaction"
    writes = _Writes()
    suspended = _suspend_shops(batch)
    for order, lines, transition in batch:
        _plan(order, lines, transition, who, now, writes, reason_code=reason_code, reason_label=reason_label,
              event_data=event_data.get(order.pk) if event_data else None, suspensions=suspended)
    if writes.orders:
        _flush(writes, now)
    return writes.events


def record_history(order: Order, who: Who, trigger: str, *, line_id: str = "", from_state: str = "",
                   to_state: str = "", reason_code: str = "", reason_label: str = "",
                   details: dict[str, Any] | None = None) -> None:
    """A history row for a step that is not an order transition (an incident, a mediation step, a reminder)."""
    notification_services.insert_rows(OrderHistory, [{
        "order": order.pk, "line_id": line_id, "created_date": clock.now(), "actor": who.actor.value,
        "actor_name": who.name[:200], "trigger": trigger, "from_state": from_state, "to_state": to_state,
        "reason_code": reason_code[:50], "reason_label": reason_label[:300], "details": details or {},
    }])


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
    with writing():
        order = lock_order(order_id, shop_id=shop_id)
        lines = lock_lines(order)
        transition = check(order, trigger, who, lines)
        if prepare is not None:
            prepare(order, lines)
        apply_transition(order, lines, transition, who, reason_code=reason_code, reason_label=reason_label)
    return order
