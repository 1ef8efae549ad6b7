"""Incidents and mediation on a real database: opening, the seller's resolution and the operator's decision,
the customer-service clock (48/72 business hours across weekends and holidays), the formal notice and the
imposed refund, a refund closing the incident, and the order that does not close while an incident is open."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connections

from comptoir.core.errors import ComptoirError
from comptoir.incidents import mediation, services
from comptoir.incidents.errors import (
    IncidentInvalidState,
    IncidentNotAllowed,
    IncidentReasonInvalid,
    SolutionInvalid,
)
from comptoir.incidents.models import Incident
from comptoir.incidents.rules import IncidentState, Solution, SolutionKind
from comptoir.ledger import queries as ledger_queries
from comptoir.ledger.services import run_payout
from comptoir.messaging import services as messaging
from comptoir.messaging.models import Thread
from comptoir.messaging.rules import Participant
from comptoir.notifications.models import OutboxEvent
from comptoir.notifications.rendering import render
from comptoir.orders.models import Order, OrderHistory
from comptoir.orders.services.lifecycle import Who
from comptoir.orders.states import Actor, FlagTimerKind, OrderState, TimerKind
from comptoir.refunds import services as refund_services
from comptoir.refunds.models import Refund
from comptoir.timers.models import Timer, TimerState
from comptoir.timers.worker import run_until_idle
from tests.factories import make_order

pytestmark = pytest.mark.django_db(transaction=True)

PARIS = ZoneInfo("Europe/Paris")
CUSTOMER = Who(Actor.CUSTOMER, "Jeanne Martin")
OPERATOR = Who(Actor.OPERATOR, "Support")
SELLER = Who(Actor.SELLER, "Boutique")


@pytest.fixture(autouse=True)
def _setup(settings: Any, tmp_path: Path) -> None:
    refund_services.ensure_default_reasons()
    settings.STORAGES = {**settings.STORAGES, "documents": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}}}


def _line(order: Order, index: int = 0):  # type: ignore[no-untyped-def]
    return list(order.lines.order_by("index"))[index]


def _near(value: datetime | None, expected: datetime) -> bool:
    """The test clock keeps running while a test runs: instants match to the second."""
    return value is not None and abs(value - expected) < timedelta(seconds=5)


def _events(name: str) -> list[OutboxEvent]:
    return list(OutboxEvent.objects.filter(event_type=name).order_by("id"))


def test_the_customer_opens_an_incident_the_seller_is_told_and_oR11_flags_follow() -> None:
    order = make_order(OrderState.SHIPPED)
    line = _line(order)
    (incident,) = services.open_incident(order_id=order.order_id, line_ids=[line.line_id], reason_code="2",
                                         who=CUSTOMER, description="Le carton est arrivé écrasé.")
    order.refresh_from_db()
    line.refresh_from_db()
    assert order.has_incident is True and line.incident_state == "INCIDENT_OPEN"
    assert line.state == OrderState.SHIPPED and order.state == OrderState.SHIPPED  # workflow states unchanged
    assert incident.reason_label == "Article endommagé" and incident.opened_by == "CUSTOMER"
    assert sorted(e.audience for e in _events("IncidentOpened")) == ["CUSTOMER", "SELLER"]
    order.shop.customer_service_email = "sav@boutique.test"
    order.shop.save(update_fields=["customer_service_email"])
    for event in _events("IncidentOpened"):
        mail = render(event)
        assert mail is not None and "Article endommagé" in mail.body and order.order_id in mail.subject
    history = OrderHistory.objects.get(order=order, trigger="OPEN_INCIDENT")
    assert history.line_id == line.line_id and history.to_state == "INCIDENT_OPEN" and history.actor == "CUSTOMER"
    # A second claim on the same line joins the first one.
    assert services.open_incident(order_id=order.order_id, line_ids=[line.line_id], reason_code="4",
                                  who=CUSTOMER) == []
    assert Incident.objects.filter(line=line).count() == 1


@pytest.mark.parametrize(("state", "who", "error"), [
    (OrderState.WAITING_ACCEPTANCE, CUSTOMER, IncidentNotAllowed),
    (OrderState.SHIPPING, CUSTOMER, IncidentNotAllowed),  # not late yet: the customer writes to the seller
    (OrderState.SHIPPED, SELLER, IncidentNotAllowed),  # a seller never opens one
])
def test_incidents_cannot_be_opened_everywhere(state: OrderState, who: Who, error: type[Exception]) -> None:
    order = make_order(state)
    with pytest.raises(error):
        services.open_incident(order_id=order.order_id, line_ids=[_line(order).line_id], reason_code="1", who=who)
    assert not Incident.objects.exists() and not Order.objects.get(pk=order.pk).has_incident


def test_bad_reasons_and_unknown_lines_change_nothing() -> None:
    order = make_order(OrderState.SHIPPED)
    with pytest.raises(IncidentReasonInvalid):
        services.open_incident(order_id=order.order_id, line_ids=[_line(order).line_id], reason_code="99",
                               who=CUSTOMER)
    with pytest.raises(Exception, match="introuvable"):
        services.open_incident(order_id=order.order_id, line_ids=[_line(order).line_id, "nope"], reason_code="1",
                               who=CUSTOMER)
    assert not Incident.objects.exists()


def test_the_seller_signals_it_resolved_and_the_operator_confirms_or_reopens() -> None:
    order = make_order(OrderState.SHIPPED)
    line = _line(order)
    (incident,) = services.open_incident(order_id=order.order_id, line_ids=[line.line_id], reason_code="1",
                                         who=OPERATOR)
    with pytest.raises(IncidentReasonInvalid):  # an operator-only reason is not the seller's
        services.resolve(order_id=order.order_id, line_id=line.line_id, reason_code="OPERATOR_MEDIATION",
                         who=SELLER, shop_id=order.shop_id)
    services.resolve(order_id=order.order_id, line_id=line.line_id, reason_code="11", who=SELLER,
                     shop_id=order.shop_id)
    incident.refresh_from_db()
    assert incident.state == IncidentState.SHOP_RESOLVED and incident.shop_resolution_label == "Article livré au client"
    assert Order.objects.get(pk=order.pk).has_incident is True  # still live until the operator confirms
    assert [e.audience for e in _events("IncidentResolutionSignaled")] == ["OPERATOR"]
    with pytest.raises(IncidentInvalidState):
        services.resolve(order_id=order.order_id, line_id=line.line_id, reason_code="11", who=SELLER,
                         shop_id=order.shop_id)
    services.reopen(incident_id=incident.pk, who=OPERATOR, note="Le client n'a rien reçu.")
    assert Incident.objects.get(pk=incident.pk).state == IncidentState.OPEN
    services.resolve(order_id=order.order_id, line_id=line.line_id, reason_code="11", who=SELLER,
                     shop_id=order.shop_id)
    services.close(incident_id=incident.pk, who=OPERATOR)
    incident.refresh_from_db()
    line.refresh_from_db()
    assert incident.state == IncidentState.CLOSED and incident.close_reason_code == "11"
    assert line.incident_state == "INCIDENT_CLOSED" and Order.objects.get(pk=order.pk).has_incident is False
    assert sorted(e.audience for e in _events("IncidentClosed")) == ["CUSTOMER", "SELLER"]
    with pytest.raises(IncidentInvalidState):
        services.close(incident_id=incident.pk, who=OPERATOR, reason_code="10")


def test_another_shop_cannot_resolve_the_incident() -> None:
    order = make_order(OrderState.SHIPPED)
    other = make_order(OrderState.SHIPPED)
    line = _line(order)
    services.open_incident(order_id=order.order_id, line_ids=[line.line_id], reason_code="1", who=CUSTOMER)
    with pytest.raises(Exception, match="introuvable"):
        services.resolve(order_id=order.order_id, line_id=line.line_id, reason_code="11", who=SELLER,
                         shop_id=other.shop_id)
    assert Incident.objects.get().state == IncidentState.OPEN


def test_a_refund_of_the_line_closes_its_incident() -> None:
    order = make_order(OrderState.SHIPPED)
    line = _line(order)
    (incident,) = services.open_incident(order_id=order.order_id, line_ids=[line.line_id], reason_code="2",
                                         who=CUSTOMER)
    refund_services.refund_lines(requests=[refund_services.LineRequest(
        line.line_id, "20", mode=None, amount_cents=500, tax_included=True)], who=SELLER, shop_id=order.shop_id)
    incident.refresh_from_db()
    assert incident.state == IncidentState.CLOSED and incident.close_reason_code == "REFUNDED"
    assert incident.imposed_at is None and Order.objects.get(pk=order.pk).has_incident is False


def test_an_order_does_not_close_while_an_incident_is_open_then_closes_after(test_clock) -> None:  # type: ignore[no-untyped-def]
    order = make_order(OrderState.RECEIVED)
    line = _line(order)
    (incident,) = services.open_incident(order_id=order.order_id, line_ids=[line.line_id], reason_code="4",
                                         who=CUSTOMER)
    test_clock.advance(timedelta(days=30))
    run_until_idle()
    assert Order.objects.get(pk=order.pk).state == OrderState.RECEIVED
    services.close(incident_id=incident.pk, who=CUSTOMER, order_id=order.order_id)
    assert Timer.objects.filter(order=order, kind=TimerKind.AUTO_CLOSE, state=TimerState.PENDING).exists()
    run_until_idle()
    assert Order.objects.get(pk=order.pk).state == OrderState.CLOSED


def _customer_writes(order: Order, test_clock, when: datetime) -> Thread:  # type: ignore[no-untyped-def]
    test_clock.set(when)
    thread, _ = messaging.start_thread(order_id=order.order_id, author=messaging.Author(Participant.CUSTOMER, "J"),
                                       body="Mon colis n'est jamais arrivé, que se passe-t-il ?", to=["SHOP"])
    return thread


def test_the_reply_clock_reminds_at_48_and_escalates_at_72_business_hours_across_a_holiday(test_clock) -> None:  # type: ignore[no-untyped-def]
    order = make_order(OrderState.SHIPPED)
    # Thursday 2026-12-24 10:00: Friday 25 is Christmas, then a weekend. 48 business hours end Tuesday 29 10:00,
    # 72 end Wednesday 30 10:00.
    thread = _customer_writes(order, test_clock, datetime(2026, 12, 24, 10, 0, tzinfo=PARIS))
    timer = Timer.objects.get(order=order, kind=FlagTimerKind.CUSTOMER_REPLY, state=TimerState.PENDING)
    assert _near(timer.due_at, datetime(2026, 12, 29, 10, 0, tzinfo=PARIS))
    test_clock.set(datetime(2026, 12, 29, 9, 58, tzinfo=PARIS))
    run_until_idle()
    assert not _events("CustomerReplyOverdue")
    test_clock.set(datetime(2026, 12, 29, 10, 1, tzinfo=PARIS))
    run_until_idle()
    assert [e.audience for e in _events("CustomerReplyOverdue")] == ["SELLER"]
    assert not Incident.objects.exists()
    assert _near(Timer.objects.get(order=order, kind=FlagTimerKind.CUSTOMER_REPLY, state=TimerState.PENDING).due_at,
                 datetime(2026, 12, 30, 10, 0, tzinfo=PARIS))
    test_clock.set(datetime(2026, 12, 30, 10, 1, tzinfo=PARIS))
    run_until_idle()
    incidents = list(Incident.objects.filter(order=order))
    assert len(incidents) == 2 and all(i.in_mediation and i.opened_by == "SYSTEM" for i in incidents)
    assert {i.reason_code for i in incidents} == {"NO_SHOP_ANSWER"} and incidents[0].thread_id == thread.pk
    assert OrderHistory.objects.filter(order=order, trigger="ESCALATE_CUSTOMER_REPLY").count() == 1
    assert len(_events("CustomerReplyOverdue")) == 1  # nothing sent twice
    assert not Timer.objects.filter(order=order, kind=FlagTimerKind.CUSTOMER_REPLY, state=TimerState.PENDING).exists()


def test_an_answer_stops_the_clock(test_clock) -> None:  # type: ignore[no-untyped-def]
    order = make_order(OrderState.SHIPPED)
    thread = _customer_writes(order, test_clock, datetime(2026, 12, 1, 10, 0, tzinfo=PARIS))
    test_clock.set(datetime(2026, 12, 2, 10, 0, tzinfo=PARIS))
    messaging.reply(thread_id=thread.pk, shop_id=order.shop_id, author=messaging.Author(Participant.SHOP, "B"),
                    body="Votre colis est en route, il arrive demain.")
    assert not Timer.objects.filter(order=order, kind=FlagTimerKind.CUSTOMER_REPLY, state=TimerState.PENDING).exists()
    test_clock.set(datetime(2026, 12, 10, 10, 0, tzinfo=PARIS))
    run_until_idle()
    assert not _events("CustomerReplyOverdue") and not Incident.objects.exists()


def test_escalation_on_an_order_not_shipped_goes_to_the_operator(test_clock) -> None:  # type: ignore[no-untyped-def]
    order = make_order(OrderState.WAITING_ACCEPTANCE)
    _customer_writes(order, test_clock, datetime(2026, 12, 1, 10, 0, tzinfo=PARIS))
    test_clock.set(datetime(2026, 12, 4, 11, 0, tzinfo=PARIS))
    run_until_idle()
    assert not Incident.objects.exists()
    assert sorted(e.audience for e in _events("CustomerClaimEscalated")) == ["OPERATOR", "SELLER"]


def _formal_notice(order: Order, test_clock, amount: int | None = None) -> Incident:  # type: ignore[no-untyped-def]
    # Friday 2026-12-04 15:00: 24 business hours end Monday 2026-12-07 15:00.
    test_clock.set(datetime(2026, 12, 4, 15, 0, tzinfo=PARIS))
    (incident,) = services.open_incident(order_id=order.order_id, line_ids=[_line(order).line_id], reason_code="1",
                                         who=CUSTOMER)
    return services.send_formal_notice(incident_id=incident.pk, who=OPERATOR,
                                       solution=Solution(SolutionKind.REFUND, amount, "Colis perdu"))


def test_a_formal_notice_expires_and_the_refund_is_imposed_and_final(test_clock) -> None:  # type: ignore[no-untyped-def]
    order = make_order(OrderState.SHIPPED)
    line = _line(order)
    incident = _formal_notice(order, test_clock)
    assert _near(incident.formal_notice_due, datetime(2026, 12, 7, 15, 0, tzinfo=PARIS)) and incident.in_mediation
    with pytest.raises(IncidentInvalidState, match="court encore"):
        mediation.impose(incident_id=incident.pk, who=OPERATOR)
    with pytest.raises(IncidentInvalidState):
        services.send_formal_notice(incident_id=incident.pk, who=OPERATOR, solution=Solution(SolutionKind.REFUND))
    test_clock.set(datetime(2026, 12, 7, 14, 58, tzinfo=PARIS))
    run_until_idle()
    assert not Refund.objects.exists()
    test_clock.set(datetime(2026, 12, 7, 15, 1, tzinfo=PARIS))
    run_until_idle()
    incident.refresh_from_db()
    refund = Refund.objects.get()
    assert refund.reason_code == "OPERATOR_MEDIATION" and refund.line_id == line.pk
    assert refund.amount_cents + refund.shipping_cents == line.price_cents + line.shipping_price_cents
    assert incident.state == IncidentState.CLOSED and incident.imposed_at is not None
    assert incident.close_reason_code == "OPERATOR_MEDIATION"
    assert OrderHistory.objects.filter(order=order, trigger="IMPOSE_SOLUTION").count() == 1
    assert {e.audience for e in _events("OrderRefunded")} == {"CUSTOMER"}
    customer_mail = render(OutboxEvent.objects.get(event_type="IncidentClosed", audience="CUSTOMER"))
    assert customer_mail is not None and "imposé" in customer_mail.body
    with pytest.raises(IncidentInvalidState):  # final: the seller can no longer contest it
        services.resolve(order_id=order.order_id, line_id=line.line_id, reason_code="10", who=SELLER,
                         shop_id=order.shop_id)


def test_the_seller_settles_before_the_deadline_and_nothing_is_imposed(test_clock) -> None:  # type: ignore[no-untyped-def]
    order = make_order(OrderState.SHIPPED)
    line = _line(order)
    incident = _formal_notice(order, test_clock, amount=500)
    refund_services.refund_lines(requests=[refund_services.LineRequest(
        line.line_id, "18", mode=None, amount_cents=700, tax_included=True)], who=SELLER, shop_id=order.shop_id)
    incident.refresh_from_db()
    assert incident.state == IncidentState.CLOSED and incident.imposed_at is None
    assert not Timer.objects.filter(order=order, kind=FlagTimerKind.FORMAL_NOTICE, state=TimerState.PENDING).exists()
    test_clock.set(datetime(2026, 12, 9, 10, 0, tzinfo=PARIS))
    run_until_idle()
    assert Refund.objects.count() == 1


def test_an_imposed_amount_above_the_line_is_refused_when_served() -> None:
    order = make_order(OrderState.SHIPPED)
    line = _line(order)
    (incident,) = services.open_incident(order_id=order.order_id, line_ids=[line.line_id], reason_code="1",
                                         who=CUSTOMER)
    with pytest.raises(SolutionInvalid, match="dépasse"):
        services.send_formal_notice(incident_id=incident.pk, who=OPERATOR, solution=Solution(
            SolutionKind.REFUND, line.price_cents + line.shipping_price_cents + 1))
    incident.refresh_from_db()
    assert incident.formal_notice_at is None and not _events("FormalNoticeSent")


def test_an_imposed_refund_the_balance_cannot_cover_waits_for_the_operator(test_clock) -> None:  # type: ignore[no-untyped-def]
    order = make_order(OrderState.RECEIVED)
    incident = _formal_notice(order, test_clock)
    run_payout(by="test")  # the payable balance is paid out: nothing left to debit the seller from
    assert ledger_queries.balances(order.shop_id)["payable"] == 0
    test_clock.set(datetime(2026, 12, 8, 10, 0, tzinfo=PARIS))
    run_until_idle()
    incident.refresh_from_db()
    assert incident.state == IncidentState.OPEN and "service client" in incident.impose_error
    assert not Refund.objects.exists()
    assert [e.audience for e in _events("SolutionImposeFailed")] == ["OPERATOR"]
    assert OrderHistory.objects.filter(order=order, trigger="IMPOSE_FAILED").count() == 1


def test_the_sellers_refund_racing_the_imposition_pays_the_customer_once(test_clock) -> None:  # type: ignore[no-untyped-def]
    order = make_order(OrderState.SHIPPED)
    line = _line(order)
    incident = _formal_notice(order, test_clock)
    test_clock.set(datetime(2026, 12, 7, 15, 5, tzinfo=PARIS))
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def run(act: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=30)
            act()
            outcomes.append("ok")
        except ComptoirError as exc:
            outcomes.append(exc.code)
        finally:
            connections.close_all()

    acts = [lambda: mediation.impose(incident_id=incident.pk, who=OPERATOR),
            lambda: refund_services.refund_lines(requests=[refund_services.LineRequest(line.line_id, "18")],
                                                 who=SELLER, shop_id=order.shop_id)]
    threads = [threading.Thread(target=run, args=(act,)) for act in acts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes)[-1] == "ok" and outcomes.count("ok") == 1, outcomes
    assert Refund.objects.count() == 1
    assert OrderHistory.objects.filter(order=order, trigger__in=["CLOSE_INCIDENT", "IMPOSE_SOLUTION"]).count() == 1
    assert Incident.objects.get(pk=incident.pk).state == IncidentState.CLOSED
