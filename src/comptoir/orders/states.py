"""The order lifecycle as one declarative table: every move of every order goes through `fire()`.

States are Mirakl's `order_state` codes. A row says which trigger moves which states where, for which
actors, under which pure guard, with which effects (timers to set or cancel, events to emit, money to move).
Timed moves are rows too: a timer coming due fires the same trigger a person would, as actor SYSTEM.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final


class OrderState(StrEnum):
    STAGING = "STAGING"
    WAITING_ACCEPTANCE = "WAITING_ACCEPTANCE"
    WAITING_DEBIT = "WAITING_DEBIT"
    WAITING_DEBIT_PAYMENT = "WAITING_DEBIT_PAYMENT"
    SHIPPING = "SHIPPING"
    SHIPPED = "SHIPPED"
    TO_COLLECT = "TO_COLLECT"
    RECEIVED = "RECEIVED"
    CLOSED = "CLOSED"
    REFUSED = "REFUSED"
    CANCELED = "CANCELED"
    # Line-only states in practice (Mirakl shares one enum for orders and lines).
    INCIDENT_OPEN = "INCIDENT_OPEN"
    INCIDENT_CLOSED = "INCIDENT_CLOSED"
    REFUNDED = "REFUNDED"


STATE_LABELS: Final[dict[OrderState, str]] = {
    OrderState.STAGING: "En attente de détection de fraude",
    OrderState.WAITING_ACCEPTANCE: "En attente d'acceptation",
    OrderState.WAITING_DEBIT: "Débit en cours",
    OrderState.WAITING_DEBIT_PAYMENT: "Débit en cours",
    OrderState.SHIPPING: "En attente d'expédition",
    OrderState.SHIPPED: "Envoyée",
    OrderState.TO_COLLECT: "À retirer",
    OrderState.RECEIVED: "Reçue",
    OrderState.CLOSED: "Clôturée",
    OrderState.REFUSED: "Refusée",
    OrderState.CANCELED: "Annulée",
    OrderState.INCIDENT_OPEN: "Incident ouvert",
    OrderState.INCIDENT_CLOSED: "Incident clos",
    OrderState.REFUNDED: "Remboursée",
}

INITIAL_STATE: Final = OrderState.STAGING
FINAL_STATES: Final = frozenset({OrderState.CLOSED, OrderState.REFUSED, OrderState.CANCELED})
# A line in one of these states no longer takes part in the order's progress.
DROPPED_LINE_STATES: Final = frozenset({OrderState.REFUSED, OrderState.CANCELED})
# A line fully refunded is settled: it keeps its state while the order moves on (it counts as live for money,
# not for progress), and order-level transitions leave it alone.
SETTLED_LINE_STATES: Final = frozenset({OrderState.REFUNDED})
# How far along the workflow a state is; an order waits for its least advanced live line.
PROGRESS: Final[tuple[OrderState, ...]] = (
    OrderState.STAGING,
    OrderState.WAITING_ACCEPTANCE,
    OrderState.WAITING_DEBIT,
    OrderState.WAITING_DEBIT_PAYMENT,
    OrderState.SHIPPING,
    OrderState.SHIPPED,
    OrderState.TO_COLLECT,
    OrderState.RECEIVED,
    OrderState.CLOSED,
)
# From these states on the seller sees the customer's addresses and phone (DESIGN §5). The line-only
# incident and refund states all come after the debit, so they show the details too.
CUSTOMER_DETAILS_STATES: Final = frozenset(PROGRESS[PROGRESS.index(OrderState.SHIPPING) :]) | {
    OrderState.INCIDENT_OPEN, OrderState.INCIDENT_CLOSED, OrderState.REFUNDED,
}


class Actor(StrEnum):
    SELLER = "SELLER"
    OPERATOR = "OPERATOR"
    CUSTOMER = "CUSTOMER"
    SYSTEM = "SYSTEM"


class Trigger(StrEnum):
    APPROVE = "APPROVE"  # fraud gate passed
    REQUEST_DOCUMENTS = "REQUEST_DOCUMENTS"  # fraud gate waits for the customer's documents
    REJECT = "REJECT"  # fraud gate rejects
    ACCEPT = "ACCEPT"  # seller accepts at least one line (the others are refused)
    REFUSE = "REFUSE"  # seller refuses every line
    WARN_ACCEPTANCE_DEADLINE = "WARN_ACCEPTANCE_DEADLINE"
    AUTO_REFUSE = "AUTO_REFUSE"  # acceptance deadline passed
    RENEW_AUTHORIZATION = "RENEW_AUTHORIZATION"
    EXPIRE_AUTHORIZATION = "EXPIRE_AUTHORIZATION"  # renewal failed: the order cannot be paid
    REQUEST_DEBIT = "REQUEST_DEBIT"  # capture sent, provider answers later
    CONFIRM_DEBIT = "CONFIRM_DEBIT"
    FAIL_DEBIT = "FAIL_DEBIT"
    MARK_SHIPPING_LATE = "MARK_SHIPPING_LATE"
    SHIP = "SHIP"
    CANCEL = "CANCEL"  # every line canceled: the order is canceled
    CANCEL_LINES = "CANCEL_LINES"  # some lines or units canceled, the order goes on
    REFUND = "REFUND"  # a refund: fully refunded lines become REFUNDED, the order stays where it is
    RECEIVE = "RECEIVE"
    CLOSE = "CLOSE"


class TimerKind(StrEnum):
    ACCEPTANCE_WARNING = "ACCEPTANCE_WARNING"
    AUTO_REFUSE = "AUTO_REFUSE"
    RENEW_AUTHORIZATION = "RENEW_AUTHORIZATION"
    DEBIT = "DEBIT"
    DEBIT_GIVE_UP = "DEBIT_GIVE_UP"
    SHIPPING_DEADLINE = "SHIPPING_DEADLINE"
    AUTO_RECEIVE = "AUTO_RECEIVE"
    AUTO_CLOSE = "AUTO_CLOSE"


class FlagTimerKind(StrEnum):
    """Timers that only raise a flag on something of the order (no trigger, no state change): they stay out
    of the lifecycle table and TIMER_TRIGGERS, and the worker sends them to their domain's handler."""

    TRACKING_MISSING = "TRACKING_MISSING"  # shipping.timers: a parcel shipped 24 business hours ago, no tracking
    REFUND_PAYMENT = "REFUND_PAYMENT"  # refunds.services: pay waiting refunds back through the payment provider
    # incidents.timers: a customer's message unanswered (48 business hours: reminder; 72: incident and mediation)
    CUSTOMER_REPLY = "CUSTOMER_REPLY"
    FORMAL_NOTICE = "FORMAL_NOTICE"  # incidents.timers: a formal notice expired: the operator's solution is imposed


# The trigger each timer fires when it comes due (as actor SYSTEM).
TIMER_TRIGGERS: Final[dict[TimerKind, Trigger]] = {
    TimerKind.ACCEPTANCE_WARNING: Trigger.WARN_ACCEPTANCE_DEADLINE,
    TimerKind.AUTO_REFUSE: Trigger.AUTO_REFUSE,
    TimerKind.RENEW_AUTHORIZATION: Trigger.RENEW_AUTHORIZATION,
    TimerKind.DEBIT: Trigger.CONFIRM_DEBIT,
    TimerKind.DEBIT_GIVE_UP: Trigger.FAIL_DEBIT,
    TimerKind.SHIPPING_DEADLINE: Trigger.MARK_SHIPPING_LATE,
    TimerKind.AUTO_RECEIVE: Trigger.RECEIVE,
    TimerKind.AUTO_CLOSE: Trigger.CLOSE,
}


class DelayUnit(StrEnum):
    SECONDS = "seconds"
    BUSINESS_DAYS = "business_days"
    CALENDAR_DAYS = "calendar_days"
    # Computed from the order itself (authorization expiry, shipping lead time).
    AUTHORIZATION_RENEWAL = "authorization_renewal"
    SHIPPING_DEADLINE = "shipping_deadline"


@dataclass(frozen=True, slots=True)
class Schedule:
    timer: TimerKind
    unit: DelayUnit
    setting: str | None = None  # name of the COMPTOIR setting holding the amount
    minus_setting: str | None = None  # subtracted from `setting` (warn N days before a deadline)


@dataclass(frozen=True, slots=True)
class Cancel:
    timer: TimerKind


@dataclass(frozen=True, slots=True)
class Emit:
    event: str  # the name of a class in orders.events


@dataclass(frozen=True, slots=True)
class ReleasePayment:
    """Release whatever the authorization holds that was not captured."""


@dataclass(frozen=True, slots=True)
class DeactivateOffers:
    """The offers of the order's undecided lines are deactivated (auto-refusal)."""


@dataclass(frozen=True, slots=True)
class SuspendShop:
    reason: str


@dataclass(frozen=True, slots=True)
class PostLedger:
    """Money follows the order: DEBIT puts the captured value in the shop's pending balance (minus
    commission); RECEPTION moves it to the payable balance."""

    kind: str


Effect = Schedule | Cancel | Emit | ReleasePayment | DeactivateOffers | SuspendShop | PostLedger


@dataclass(frozen=True, slots=True)
class OrderFacts:
    """What guards may look at: plain values, loaded by the service."""

    state: OrderState
    waiting_customer_documents: bool = False
    any_line_shipped: bool = False
    has_open_incident: bool = False


Guard = Callable[[OrderFacts], str | None]


@dataclass(frozen=True, slots=True)
class Transition:
    trigger: Trigger
    source: frozenset[OrderState]
    target: OrderState | None  # None: the order stays where it is (a self-loop with effects)
    actors: frozenset[Actor]
    guard: Guard | None = None
    effects: tuple[Effect, ...] = field(default=())

    def target_from(self, state: OrderState) -> OrderState:
        return state if self.target is None else self.target


def _not_waiting_documents(facts: OrderFacts) -> str | None:
    return "fraud.already_waiting_documents" if facts.waiting_customer_documents else None


def _no_open_incident(facts: OrderFacts) -> str | None:
    return "order.incident_open" if facts.has_open_incident else None


def _nothing_shipped(facts: OrderFacts) -> str | None:
    return "order.partially_shipped" if facts.any_line_shipped else None


S = OrderState
A = Actor
T = Trigger
K = TimerKind
U = DelayUnit

_ACCEPTANCE_TIMERS = (Cancel(K.AUTO_REFUSE), Cancel(K.ACCEPTANCE_WARNING), Cancel(K.RENEW_AUTHORIZATION))
_DEBIT_TIMERS = (Cancel(K.DEBIT), Cancel(K.DEBIT_GIVE_UP))
_AWAITING_PAYMENT = frozenset({S.STAGING, S.WAITING_ACCEPTANCE})
_DEBITING = frozenset({S.WAITING_DEBIT, S.WAITING_DEBIT_PAYMENT})
# Refunds need captured money: from the debit on, including after closing (returns within the legal delay).
_REFUNDABLE = frozenset({S.SHIPPING, S.SHIPPED, S.TO_COLLECT, S.RECEIVED, S.CLOSED})


def _row(
    trigger: Trigger,
    source: Iterable[OrderState],
    target: OrderState | None,
    actors: Iterable[Actor],
    *effects: Effect,
    guard: Guard | None = None,
) -> Transition:
    return Transition(trigger, frozenset(source), target, frozenset(actors), guard, tuple(effects))


TRANSITIONS: Final[tuple[Transition, ...]] = (
    # --- fraud gate (operator) ---
    _row(T.APPROVE, {S.STAGING}, S.WAITING_ACCEPTANCE, {A.OPERATOR, A.SYSTEM},
         Schedule(K.AUTO_REFUSE, U.BUSINESS_DAYS, "ACCEPTANCE_BUSINESS_DAYS"),
         Schedule(K.ACCEPTANCE_WARNING, U.BUSINESS_DAYS, "ACCEPTANCE_BUSINESS_DAYS", "ACCEPTANCE_WARNING_BUSINESS_DAYS"),
         Emit("OrderAwaitingAcceptance")),
    _row(T.REQUEST_DOCUMENTS, {S.STAGING}, None, {A.OPERATOR},
         Emit("CustomerDocumentsRequested"), guard=_not_waiting_documents),
    _row(T.REJECT, {S.STAGING}, S.CANCELED, {A.OPERATOR},
         Cancel(K.RENEW_AUTHORIZATION), ReleasePayment(), Emit("OrderCanceled")),
    # --- seller acceptance ---
    _row(T.ACCEPT, {S.WAITING_ACCEPTANCE}, S.WAITING_DEBIT, {A.SELLER},
         *_ACCEPTANCE_TIMERS,
         Schedule(K.DEBIT, U.SECONDS, "DEBIT_DELAY_SECONDS"),
         Schedule(K.DEBIT_GIVE_UP, U.SECONDS, "DEBIT_GIVE_UP_SECONDS"),
         Emit("OrderAccepted")),
    _row(T.REFUSE, {S.WAITING_ACCEPTANCE}, S.REFUSED, {A.SELLER},
         *_ACCEPTANCE_TIMERS, ReleasePayment(), Emit("OrderRefused")),
    _row(T.WARN_ACCEPTANCE_DEADLINE, {S.WAITING_ACCEPTANCE}, None, {A.SYSTEM},
         Emit("AcceptanceDeadlineSoon")),
    _row(T.AUTO_REFUSE, {S.WAITING_ACCEPTANCE}, S.REFUSED, {A.SYSTEM},
         *_ACCEPTANCE_TIMERS, ReleasePayment(), DeactivateOffers(),
         SuspendShop("Délai d'acceptation de 5 jours ouvrés dépassé"), Emit("OrderAutoRefused")),
    # --- card authorization kept alive while the order waits ---
    _row(T.RENEW_AUTHORIZATION, _AWAITING_PAYMENT, None, {A.SYSTEM},
         Schedule(K.RENEW_AUTHORIZATION, U.AUTHORIZATION_RENEWAL)),
    _row(T.EXPIRE_AUTHORIZATION, _AWAITING_PAYMENT, S.CANCELED, {A.SYSTEM},
         *_ACCEPTANCE_TIMERS, ReleasePayment(), Emit("OrderCanceled")),
    # --- debit ---
    _row(T.REQUEST_DEBIT, {S.WAITING_DEBIT}, S.WAITING_DEBIT_PAYMENT, {A.SYSTEM}),
    _row(T.CONFIRM_DEBIT, _DEBITING, S.SHIPPING, {A.SYSTEM},
         *_DEBIT_TIMERS, Schedule(K.SHIPPING_DEADLINE, U.SHIPPING_DEADLINE), PostLedger("DEBIT"),
         Emit("OrderDebited")),
    _row(T.FAIL_DEBIT, _DEBITING, S.CANCELED, {A.SYSTEM},
         *_DEBIT_TIMERS, ReleasePayment(), Emit("OrderCanceled")),
    # --- shipping ---
    _row(T.MARK_SHIPPING_LATE, {S.SHIPPING}, None, {A.SYSTEM}, Emit("ShippingLate")),
    # SYSTEM: the last units still to ship were canceled while the others had left.
    _row(T.SHIP, {S.SHIPPING}, S.SHIPPED, {A.SELLER, A.SYSTEM},
         Cancel(K.SHIPPING_DEADLINE), Schedule(K.AUTO_RECEIVE, U.CALENDAR_DAYS, "RECEPTION_DAYS"),
         Emit("OrderShipped")),
    _row(T.CANCEL, {S.SHIPPING}, S.CANCELED, {A.SELLER, A.OPERATOR},
         Cancel(K.SHIPPING_DEADLINE), Emit("OrderCanceled"), guard=_nothing_shipped),
    _row(T.CANCEL, {S.WAITING_ACCEPTANCE}, S.CANCELED, {A.OPERATOR},
         *_ACCEPTANCE_TIMERS, ReleasePayment(), Emit("OrderCanceled")),
    _row(T.CANCEL_LINES, {S.SHIPPING}, None, {A.SELLER, A.OPERATOR}, Emit("LinesCanceled")),
    # --- refunds (the refunds app writes the money; the table says when and who) ---
    _row(T.REFUND, _REFUNDABLE, None, {A.SELLER, A.OPERATOR}, Emit("OrderRefunded")),
    # --- reception and closing ---
    _row(T.RECEIVE, {S.SHIPPED}, S.RECEIVED, {A.CUSTOMER, A.OPERATOR, A.SYSTEM},
         Cancel(K.AUTO_RECEIVE), Schedule(K.AUTO_CLOSE, U.CALENDAR_DAYS, "CLOSING_DAYS"), PostLedger("RECEPTION"),
         Emit("OrderReceived")),
    # An order does not close while one of its lines has an open incident (closing it reschedules the close).
    _row(T.CLOSE, {S.RECEIVED}, S.CLOSED, {A.SYSTEM}, Emit("OrderClosed"), guard=_no_open_incident),
)


class TransitionNotAllowed(Exception):
    def __init__(self, state: OrderState, trigger: Trigger, actor: Actor) -> None:
        super().__init__(f"{trigger} is not allowed for {actor} in {state}")
        self.state, self.trigger, self.actor = state, trigger, actor


class GuardRejected(Exception):
    def __init__(self, code: str, trigger: Trigger) -> None:
        super().__init__(f"{trigger} refused: {code}")
        self.code, self.trigger = code, trigger


def _find(state: OrderState, trigger: Trigger, actor: Actor) -> Transition | None:
    for transition in TRANSITIONS:
        if transition.trigger == trigger and state in transition.source and actor in transition.actors:
            return transition
    return None


def fire(facts: OrderFacts, trigger: Trigger, actor: Actor) -> Transition:
    """The transition `trigger` takes from `facts.state` for `actor`, or an exception saying why not."""
    transition = _find(facts.state, trigger, actor)
    if transition is None:
        raise TransitionNotAllowed(facts.state, trigger, actor)
    if transition.guard is not None and (code := transition.guard(facts)) is not None:
        raise GuardRejected(code, trigger)
    return transition


def allowed_triggers(facts: OrderFacts, actor: Actor) -> frozenset[Trigger]:
    """Every trigger this actor may fire now: the only source of which buttons and calls are offered."""
    allowed = set()
    for transition in TRANSITIONS:
        if facts.state in transition.source and actor in transition.actors:
            if transition.guard is None or transition.guard(facts) is None:
                allowed.add(transition.trigger)
    return frozenset(allowed)


def derive_order_state(line_states: Iterable[OrderState], fallback: OrderState = OrderState.SHIPPED) -> OrderState:
    """An order's state from its lines: it waits for its least advanced live line. When every live line is
    settled (refunded) or in an incident, the order keeps `fallback`: the state the table moves it to."""
    states = list(line_states)
    if not states:
        raise ValueError("an order has at least one line")
    live = [state for state in states if state not in DROPPED_LINE_STATES]
    if not live:
        return OrderState.REFUSED if all(s == OrderState.REFUSED for s in states) else OrderState.CANCELED
    progress = [state for state in live if state in PROGRESS]
    if not progress:  # incident/refund states only: the order keeps the state it has reached
        return fallback
    return min(progress, key=PROGRESS.index)


def mermaid() -> str:
    """The graph, for docs/lifecycle.md."""
    lines = ["stateDiagram-v2", f"    [*] --> {INITIAL_STATE}"]
    for t in TRANSITIONS:
        actors = ",".join(sorted(a.value for a in t.actors))
        for source in sorted(t.source):
            lines.append(f"    {source} --> {t.target_from(source)}: {t.trigger} ({actors})")
    for state in sorted(FINAL_STATES):
        lines.append(f"    {state} --> [*]")
    return "\n".join(lines) + "\n"
