"""The lifecycle table checked against the spec (DESIGN §2, the seller guide): pure, no database.

The expectation is written out here by hand, independently of `TRANSITIONS`: a change to the table that
is not also a change to the spec makes these tests fail.
"""

from __future__ import annotations

import itertools

import pytest

from comptoir.orders.states import (
    FINAL_STATES,
    TIMER_TRIGGERS,
    TRANSITIONS,
    Actor,
    Cancel,
    GuardRejected,
    OrderFacts,
    OrderState,
    Schedule,
    TimerKind,
    TransitionNotAllowed,
    Trigger,
    allowed_triggers,
    derive_order_state,
    fire,
    mermaid,
)

S, T, A = OrderState, Trigger, Actor

# (state, trigger, actor) -> the state the order is in afterwards. Every triple not listed is refused.
EXPECTED: dict[tuple[OrderState, Trigger, Actor], OrderState] = {
    # fraud gate: the operator (or the storefront's scoring, as SYSTEM) decides; the seller cannot act
    (S.STAGING, T.APPROVE, A.OPERATOR): S.WAITING_ACCEPTANCE,
    (S.STAGING, T.APPROVE, A.SYSTEM): S.WAITING_ACCEPTANCE,
    (S.STAGING, T.REQUEST_DOCUMENTS, A.OPERATOR): S.STAGING,
    (S.STAGING, T.REJECT, A.OPERATOR): S.CANCELED,
    (S.STAGING, T.RENEW_AUTHORIZATION, A.SYSTEM): S.STAGING,
    (S.STAGING, T.EXPIRE_AUTHORIZATION, A.SYSTEM): S.CANCELED,
    # acceptance: the seller decides, the deadline refuses automatically
    (S.WAITING_ACCEPTANCE, T.ACCEPT, A.SELLER): S.WAITING_DEBIT,
    (S.WAITING_ACCEPTANCE, T.REFUSE, A.SELLER): S.REFUSED,
    (S.WAITING_ACCEPTANCE, T.WARN_ACCEPTANCE_DEADLINE, A.SYSTEM): S.WAITING_ACCEPTANCE,
    (S.WAITING_ACCEPTANCE, T.AUTO_REFUSE, A.SYSTEM): S.REFUSED,
    (S.WAITING_ACCEPTANCE, T.RENEW_AUTHORIZATION, A.SYSTEM): S.WAITING_ACCEPTANCE,
    (S.WAITING_ACCEPTANCE, T.EXPIRE_AUTHORIZATION, A.SYSTEM): S.CANCELED,
    (S.WAITING_ACCEPTANCE, T.CANCEL, A.OPERATOR): S.CANCELED,
    # debit: the worker only
    (S.WAITING_DEBIT, T.REQUEST_DEBIT, A.SYSTEM): S.WAITING_DEBIT_PAYMENT,
    (S.WAITING_DEBIT, T.CONFIRM_DEBIT, A.SYSTEM): S.SHIPPING,
    (S.WAITING_DEBIT, T.FAIL_DEBIT, A.SYSTEM): S.CANCELED,
    (S.WAITING_DEBIT_PAYMENT, T.CONFIRM_DEBIT, A.SYSTEM): S.SHIPPING,
    (S.WAITING_DEBIT_PAYMENT, T.FAIL_DEBIT, A.SYSTEM): S.CANCELED,
    # shipping
    (S.SHIPPING, T.MARK_SHIPPING_LATE, A.SYSTEM): S.SHIPPING,
    (S.SHIPPING, T.SHIP, A.SELLER): S.SHIPPED,
    (S.SHIPPING, T.SHIP, A.SYSTEM): S.SHIPPED,  # the units left to ship were canceled, the rest had left
    (S.SHIPPING, T.CANCEL, A.SELLER): S.CANCELED,
    (S.SHIPPING, T.CANCEL, A.OPERATOR): S.CANCELED,
    # cancelation of lines or units before they ship (OR30): the order stays in SHIPPING
    (S.SHIPPING, T.CANCEL_LINES, A.SELLER): S.SHIPPING,
    (S.SHIPPING, T.CANCEL_LINES, A.OPERATOR): S.SHIPPING,
    # refunds (OR28): once the money is captured, by the seller or the operator; the order stays put
    **{(state, T.REFUND, actor): state
       for state in (S.SHIPPING, S.SHIPPED, S.TO_COLLECT, S.RECEIVED, S.CLOSED)
       for actor in (A.SELLER, A.OPERATOR)},
    # reception (15 days, or the customer confirms) and closing
    (S.SHIPPED, T.RECEIVE, A.CUSTOMER): S.RECEIVED,
    (S.SHIPPED, T.RECEIVE, A.OPERATOR): S.RECEIVED,
    (S.SHIPPED, T.RECEIVE, A.SYSTEM): S.RECEIVED,
    (S.RECEIVED, T.CLOSE, A.SYSTEM): S.CLOSED,
}

# (state, trigger) -> (the fact that makes the guard refuse, the refusal code)
GUARDS: dict[tuple[OrderState, Trigger], tuple[str, str]] = {
    (S.STAGING, T.REQUEST_DOCUMENTS): ("waiting_customer_documents", "fraud.already_waiting_documents"),
    (S.SHIPPING, T.CANCEL): ("any_line_shipped", "order.partially_shipped"),
}

FACT_VARIANTS = [
    {"waiting_customer_documents": waiting, "any_line_shipped": shipped}
    for waiting, shipped in itertools.product((False, True), repeat=2)
]


def _expected_outcome(state: OrderState, trigger: Trigger, actor: Actor, facts: dict[str, bool]) -> object:
    """The target state, a guard refusal code, or TransitionNotAllowed."""
    if (state, trigger, actor) not in EXPECTED:
        return TransitionNotAllowed
    guard = GUARDS.get((state, trigger))
    if guard is not None and facts[guard[0]]:
        return guard[1]
    return EXPECTED[(state, trigger, actor)]


def _actual_outcome(state: OrderState, trigger: Trigger, actor: Actor, facts: dict[str, bool]) -> object:
    try:
        transition = fire(OrderFacts(state=state, **facts), trigger, actor)
    except TransitionNotAllowed as exc:
        assert (exc.state, exc.trigger, exc.actor) == (state, trigger, actor)
        return TransitionNotAllowed
    except GuardRejected as exc:
        assert exc.trigger == trigger
        return exc.code
    # fire() hands back a row of the table, one that really matches the request
    assert any(transition is row for row in TRANSITIONS)
    assert transition.trigger == trigger and state in transition.source and actor in transition.actors
    return transition.target_from(state)


@pytest.mark.parametrize("facts", FACT_VARIANTS, ids=lambda f: ",".join(k for k, v in f.items() if v) or "plain")
def test_fire_follows_the_spec_for_every_state_trigger_and_actor(facts: dict[str, bool]) -> None:
    # given every combination of state, trigger and actor
    mismatches = []
    for state, trigger, actor in itertools.product(OrderState, Trigger, Actor):
        # when the trigger is fired
        expected = _expected_outcome(state, trigger, actor, facts)
        actual = _actual_outcome(state, trigger, actor, facts)
        # then the table answers exactly what the spec says
        if actual != expected:
            mismatches.append((state.value, trigger.value, actor.value, expected, actual))
    assert mismatches == []


def test_the_spec_lists_only_real_states_and_every_row_of_the_table() -> None:
    table_triples = {
        (state, row.trigger, actor) for row in TRANSITIONS for state in row.source for actor in row.actors
    }
    assert table_triples == set(EXPECTED)


@pytest.mark.parametrize("facts", FACT_VARIANTS, ids=lambda f: ",".join(k for k, v in f.items() if v) or "plain")
def test_allowed_triggers_offers_exactly_what_fire_accepts(facts: dict[str, bool]) -> None:
    for state, actor in itertools.product(OrderState, Actor):
        order_facts = OrderFacts(state=state, **facts)
        accepted = set()
        for trigger in Trigger:
            try:
                fire(order_facts, trigger, actor)
            except (TransitionNotAllowed, GuardRejected):
                continue
            accepted.add(trigger)
        assert allowed_triggers(order_facts, actor) == accepted, (state, actor)


# -- the spec's rules, one by one -------------------------------------------------------------------------


def test_sellers_can_never_pass_the_fraud_gate() -> None:
    for state in OrderState:
        for trigger in (T.APPROVE, T.REJECT, T.REQUEST_DOCUMENTS):
            with pytest.raises(TransitionNotAllowed):
                fire(OrderFacts(state=state), trigger, A.SELLER)


def test_the_seller_can_do_nothing_while_the_order_is_checked_for_fraud() -> None:
    assert allowed_triggers(OrderFacts(state=S.STAGING), A.SELLER) == frozenset()


def test_nobody_leaves_closed_refused_or_canceled() -> None:
    assert FINAL_STATES == {S.CLOSED, S.REFUSED, S.CANCELED}
    for state, trigger, actor in itertools.product(FINAL_STATES, Trigger, Actor):
        if (state, trigger) == (S.CLOSED, T.REFUND) and actor in (A.SELLER, A.OPERATOR):
            # a return after closing is still refunded: the order stays closed, only its lines change
            assert fire(OrderFacts(state=state), trigger, actor).target_from(state) == S.CLOSED
            continue
        with pytest.raises(TransitionNotAllowed):
            fire(OrderFacts(state=state), trigger, actor)


@pytest.mark.parametrize("trigger", [
    T.AUTO_REFUSE, T.WARN_ACCEPTANCE_DEADLINE, T.RENEW_AUTHORIZATION, T.EXPIRE_AUTHORIZATION,
    T.REQUEST_DEBIT, T.CONFIRM_DEBIT, T.FAIL_DEBIT, T.MARK_SHIPPING_LATE, T.CLOSE,
])
def test_timed_and_payment_moves_are_fired_by_the_system_alone(trigger: Trigger) -> None:
    for state, actor in itertools.product(OrderState, (A.SELLER, A.OPERATOR, A.CUSTOMER)):
        with pytest.raises(TransitionNotAllowed):
            fire(OrderFacts(state=state), trigger, actor)
    assert any(fire_ok(state, trigger, A.SYSTEM) for state in OrderState)


def fire_ok(state: OrderState, trigger: Trigger, actor: Actor) -> bool:
    try:
        fire(OrderFacts(state=state), trigger, actor)
    except (TransitionNotAllowed, GuardRejected):
        return False
    return True


def test_the_customer_can_only_confirm_reception() -> None:
    offered = set().union(*(allowed_triggers(OrderFacts(state=state), A.CUSTOMER) for state in OrderState))
    assert offered == {T.RECEIVE}


def test_only_the_seller_accepts_refuses_and_ships() -> None:
    for trigger in (T.ACCEPT, T.REFUSE):
        actors = {actor for state, actor in itertools.product(OrderState, Actor) if fire_ok(state, trigger, actor)}
        assert actors == {A.SELLER}, trigger
    # the system ships only when the last units to ship were canceled; no operator or customer ever ships
    actors = {actor for state, actor in itertools.product(OrderState, Actor) if fire_ok(state, T.SHIP, actor)}
    assert actors == {A.SELLER, A.SYSTEM}


# -- guards -------------------------------------------------------------------------------------------------


def test_documents_cannot_be_requested_twice() -> None:
    waiting = OrderFacts(state=S.STAGING, waiting_customer_documents=True)
    with pytest.raises(GuardRejected) as refused:
        fire(waiting, T.REQUEST_DOCUMENTS, A.OPERATOR)
    assert refused.value.code == "fraud.already_waiting_documents"
    assert T.REQUEST_DOCUMENTS not in allowed_triggers(waiting, A.OPERATOR)
    # the operator can still decide while waiting for the documents
    assert {T.APPROVE, T.REJECT} <= allowed_triggers(waiting, A.OPERATOR)


def test_documents_can_be_requested_when_not_already_waiting() -> None:
    transition = fire(OrderFacts(state=S.STAGING), T.REQUEST_DOCUMENTS, A.OPERATOR)
    assert transition.target_from(S.STAGING) == S.STAGING


@pytest.mark.parametrize("actor", [A.SELLER, A.OPERATOR])
def test_an_order_cannot_be_canceled_once_a_line_shipped(actor: Actor) -> None:
    partly_shipped = OrderFacts(state=S.SHIPPING, any_line_shipped=True)
    with pytest.raises(GuardRejected) as refused:
        fire(partly_shipped, T.CANCEL, actor)
    assert refused.value.code == "order.partially_shipped"
    assert T.CANCEL not in allowed_triggers(partly_shipped, actor)
    assert fire(OrderFacts(state=S.SHIPPING), T.CANCEL, actor).target_from(S.SHIPPING) == S.CANCELED


# -- timers --------------------------------------------------------------------------------------------------


def test_every_timer_kind_fires_a_trigger_the_system_may_fire() -> None:
    assert set(TIMER_TRIGGERS) == set(TimerKind)
    for kind, trigger in TIMER_TRIGGERS.items():
        assert any(fire_ok(state, trigger, A.SYSTEM) for state in OrderState), kind


def _pending_timers_per_state() -> dict[OrderState, set[TimerKind]]:
    """Which timers may be pending in each reachable state: import schedules the renewal, then every row
    cancels, consumes (its own timer fired it) and schedules timers. A fixpoint over the graph."""
    pending: dict[OrderState, set[TimerKind]] = {S.STAGING: {TimerKind.RENEW_AUTHORIZATION}}
    changed = True
    while changed:
        changed = False
        for row in TRANSITIONS:
            cancels = {e.timer for e in row.effects if isinstance(e, Cancel)}
            schedules = {e.timer for e in row.effects if isinstance(e, Schedule)}
            consumed = {kind for kind, trigger in TIMER_TRIGGERS.items() if trigger == row.trigger}
            for source in row.source:
                if source not in pending:
                    continue
                after = (pending[source] - cancels - consumed) | schedules
                target = row.target_from(source)
                if target not in pending or not after <= pending[target]:
                    pending[target] = pending.get(target, set()) | after
                    changed = True
    return pending


def test_no_timer_outlives_the_state_it_governs() -> None:
    # given every state an order can reach and the timers that may still be pending there
    pending = _pending_timers_per_state()
    assert set(pending) == {
        S.STAGING, S.WAITING_ACCEPTANCE, S.WAITING_DEBIT, S.WAITING_DEBIT_PAYMENT, S.SHIPPING, S.SHIPPED,
        S.RECEIVED, S.CLOSED, S.REFUSED, S.CANCELED,
    }
    # then a final state has no timer left, and every pending timer can still fire where it is
    for state, kinds in pending.items():
        if state in FINAL_STATES:
            assert kinds == set(), state
        for kind in kinds:
            assert fire_ok(state, TIMER_TRIGGERS[kind], A.SYSTEM), (state, kind)


def test_entering_acceptance_schedules_the_auto_refusal_and_accepting_cancels_it() -> None:
    approve = fire(OrderFacts(state=S.STAGING), T.APPROVE, A.OPERATOR)
    accept = fire(OrderFacts(state=S.WAITING_ACCEPTANCE), T.ACCEPT, A.SELLER)
    assert TimerKind.AUTO_REFUSE in {e.timer for e in approve.effects if isinstance(e, Schedule)}
    assert TimerKind.AUTO_REFUSE in {e.timer for e in accept.effects if isinstance(e, Cancel)}


# -- the order's state derived from its lines -----------------------------------------------------------------


@pytest.mark.parametrize(("lines", "expected"), [
    ([S.WAITING_ACCEPTANCE], S.WAITING_ACCEPTANCE),
    ([S.SHIPPED, S.SHIPPING, S.SHIPPED], S.SHIPPING),  # waits for its least advanced line
    ([S.RECEIVED, S.SHIPPED], S.SHIPPED),
    ([S.WAITING_DEBIT, S.REFUSED], S.WAITING_DEBIT),  # refused lines drop out
    ([S.CANCELED, S.SHIPPED], S.SHIPPED),
    ([S.REFUSED, S.REFUSED], S.REFUSED),
    ([S.REFUSED, S.CANCELED], S.CANCELED),
    ([S.CANCELED, S.CANCELED], S.CANCELED),
    ([S.INCIDENT_OPEN, S.SHIPPED], S.SHIPPED),  # incident flags are not workflow states
])
def test_the_order_state_is_derived_from_its_lines(lines: list[OrderState], expected: OrderState) -> None:
    assert derive_order_state(lines) == expected
    assert derive_order_state(iter(reversed(lines))) == expected  # order and iterables do not matter


def test_an_order_without_lines_has_no_state() -> None:
    with pytest.raises(ValueError):
        derive_order_state([])


# -- the Mermaid graph -----------------------------------------------------------------------------------------


def test_the_mermaid_graph_shows_every_transition_and_final_state() -> None:
    graph = mermaid()
    assert graph.startswith("stateDiagram-v2\n")
    assert "[*] --> STAGING" in graph
    for state, trigger, actor in EXPECTED:
        edges = [line for line in graph.splitlines()
                 if line.strip().startswith(f"{state} --> {EXPECTED[(state, trigger, actor)]}: {trigger} (")]
        assert len(edges) == 1, (state, trigger)
        assert actor.value in edges[0], (state, trigger, actor)
    for state in FINAL_STATES:
        assert f"{state} --> [*]" in graph
