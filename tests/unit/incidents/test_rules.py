"""Pure incident rules: who may do what in which state, which lines may carry an incident, the line state a
Mirakl connector reads, and the customer-service clock's next step."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from comptoir.core.calendar import default_calendar
from comptoir.incidents import rules
from comptoir.incidents.rules import Action, IncidentState, Solution, SolutionKind
from comptoir.messaging.rules import next_reply_step
from comptoir.orders.states import Actor, OrderState

PARIS = ZoneInfo("Europe/Paris")
OPEN_, R, C = IncidentState.OPEN, IncidentState.SHOP_RESOLVED, IncidentState.CLOSED


@pytest.mark.parametrize(("action", "state", "actor", "allowed"), [
    (Action.RESOLVE, OPEN_, Actor.SELLER, True),
    (Action.RESOLVE, R, Actor.SELLER, False),
    (Action.RESOLVE, C, Actor.SELLER, False),
    (Action.RESOLVE, OPEN_, Actor.OPERATOR, False),
    (Action.REOPEN, R, Actor.OPERATOR, True),
    (Action.REOPEN, OPEN_, Actor.OPERATOR, False),
    (Action.CLOSE, OPEN_, Actor.CUSTOMER, True),
    (Action.CLOSE, R, Actor.OPERATOR, True),
    (Action.CLOSE, C, Actor.OPERATOR, False),
    (Action.CLOSE, OPEN_, Actor.SELLER, False),  # the seller signals; the operator or the customer closes
    (Action.FORMAL_NOTICE, OPEN_, Actor.OPERATOR, True),
    (Action.FORMAL_NOTICE, R, Actor.OPERATOR, False),
    (Action.IMPOSE, OPEN_, Actor.SYSTEM, True),
    (Action.IMPOSE, C, Actor.OPERATOR, False),
    (Action.IMPOSE, OPEN_, Actor.SELLER, False),
])
def test_the_incident_table(action: Action, state: IncidentState, actor: Actor, allowed: bool) -> None:
    assert (rules.refusal(action, state, actor) is None) is allowed


@pytest.mark.parametrize(("line_state", "actor", "late", "allowed"), [
    (OrderState.SHIPPED, Actor.CUSTOMER, False, True),
    (OrderState.RECEIVED, Actor.CUSTOMER, False, True),
    (OrderState.TO_COLLECT, Actor.OPERATOR, False, True),
    (OrderState.SHIPPING, Actor.CUSTOMER, False, False),
    (OrderState.SHIPPING, Actor.CUSTOMER, True, True),  # late: the customer may complain
    (OrderState.SHIPPING, Actor.SYSTEM, False, True),
    (OrderState.WAITING_ACCEPTANCE, Actor.OPERATOR, False, False),
    (OrderState.REFUNDED, Actor.OPERATOR, False, False),
    (OrderState.CLOSED, Actor.CUSTOMER, False, False),
])
def test_lines_that_may_carry_an_incident(line_state: OrderState, actor: Actor, late: bool, allowed: bool) -> None:
    assert (rules.line_refusal(line_state, actor, shipping_late=late) is None) is allowed


@pytest.mark.parametrize(("line_state", "incident_state", "shown"), [
    ("SHIPPED", "", "SHIPPED"),
    ("SHIPPED", "INCIDENT_OPEN", "INCIDENT_OPEN"),
    ("RECEIVED", "INCIDENT_CLOSED", "INCIDENT_CLOSED"),
    ("REFUNDED", "INCIDENT_CLOSED", "REFUNDED"),
    ("CLOSED", "INCIDENT_CLOSED", "CLOSED"),
])
def test_the_line_state_a_connector_reads(line_state: str, incident_state: str, shown: str) -> None:
    assert rules.api_line_state(line_state, incident_state) == shown


def test_the_reply_clock_steps_through_a_weekend() -> None:
    cal = default_calendar()
    # Friday 15:00: 48 business hours skip the weekend and Tuesday 14 July (a holiday): Wednesday 15:00.
    friday = datetime(2026, 7, 10, 15, 0, tzinfo=PARIS)
    step = next_reply_step(friday, None, None, cal.add_business_hours)
    assert step is not None and step.kind == "REMIND" and step.due_at == datetime(2026, 7, 15, 15, 0, tzinfo=PARIS)
    step = next_reply_step(friday, friday + timedelta(days=5), None, cal.add_business_hours)
    assert step is not None and step.kind == "ESCALATE" and step.due_at == datetime(2026, 7, 16, 15, 0, tzinfo=PARIS)
    assert next_reply_step(friday, friday, friday, cal.add_business_hours) is None
    assert next_reply_step(None, None, None, cal.add_business_hours) is None


def test_a_solution_describes_itself_in_french_and_round_trips() -> None:
    whole, part = Solution(SolutionKind.REFUND), Solution(SolutionKind.REFUND, 1250, "Colis abîmé")
    assert whole.describe() == "remboursement intégral de la ligne"
    assert part.describe() == "remboursement de 12,50 € — Colis abîmé"
    assert Solution.from_json(part.as_json()) == part
