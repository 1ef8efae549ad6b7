"""The customer-service clock, when its timers come due (the worker):

- CUSTOMER_REPLY: a customer's message the seller has not answered. At 48 business hours the seller is
  reminded; at 72 the claim becomes an incident on the order's lines and the operator's mediation starts.
- FORMAL_NOTICE: the 24 business hours of a formal notice are over: the operator's solution is imposed.

Both re-read the rows under the order's lock: a seller who answered, or refunded, meanwhile makes them no-ops.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.db import transaction

from comptoir.core import clock
from comptoir.core.errors import ComptoirError
from comptoir.incidents import mediation, rules
from comptoir.incidents import services as incident_services
from comptoir.incidents.models import Incident
from comptoir.incidents.rules import IncidentState
from comptoir.messaging import rules as reply_rules
from comptoir.messaging import services as messaging_services
from comptoir.messaging.models import Thread
from comptoir.notifications import services as notification_services
from comptoir.orders.events import OrderEvent
from comptoir.orders.models import Order, OrderLine
from comptoir.orders.services.lifecycle import (
    SYSTEM,
    calendar,
    lock_lines,
    lock_orders,
    record_history,
    writing,
)
from comptoir.orders.states import OrderState
from comptoir.refunds.models import Reason, ReasonType

log = logging.getLogger("comptoir.incidents")


def _hours(name: str, default: int) -> int:
    return int(settings.COMPTOIR.get(name, default))


def handle_customer_reply(order_pk: int, still_pending: Callable[[], bool]) -> bool:
    """Remind, or escalate, every thread of the order whose step is due; then set the timer to the next one."""
    with writing():
        order = lock_orders([order_pk]).get(order_pk)
        if order is None or not still_pending():
            return False
        now, cal = clock.now(), calendar()
        remind = _hours("REPLY_REMINDER_BUSINESS_HOURS", reply_rules.REMINDER_BUSINESS_HOURS)
        escalate = _hours("REPLY_ESCALATION_BUSINESS_HOURS", reply_rules.ESCALATION_BUSINESS_HOURS)
        acted = False
        for thread in Thread.objects.select_for_update().filter(
                order_id=order_pk, shop_reply_needed_since__isnull=False, reply_escalated_at__isnull=True):
            while (step := reply_rules.next_reply_step(
                    thread.shop_reply_needed_since, thread.reply_reminded_at, thread.reply_escalated_at,
                    cal.add_business_hours, remind_hours=remind, escalate_hours=escalate)) and step.due_at <= now:
                if step.kind == "REMIND":
                    thread.reply_reminded_at = now
                    _remind(order, thread, remind)
                else:
                    thread.reply_escalated_at = now
                    _escalate(order, thread, escalate)
                acted = True
            Thread.objects.filter(pk=thread.pk).update(reply_reminded_at=thread.reply_reminded_at,
                                                       reply_escalated_at=thread.reply_escalated_at)
        messaging_services.schedule_reply_timer(order_pk)
        return acted


def _remind(order: Order, thread: Thread, hours: int) -> None:
    record_history(order, SYSTEM, "REMIND_CUSTOMER_REPLY", reason_label=f"Message client sans réponse depuis "
                   f"{hours} h ouvrées", details={"thread_id": thread.pk, "topic": thread.topic_value})
    notification_services.record_events([OrderEvent("CustomerReplyOverdue", order.order_id, order.shop_id,
                                                    clock.now(), {"thread_id": str(thread.pk),
                                                                  "topic": thread.topic_value, "hours": hours})])


def _escalate(order: Order, thread: Thread, hours: int) -> None:
    """The claim becomes an incident on each line it may concern, in mediation; lines that already have one get
    the mediation started. An order with no such line (not shipped yet, settled) goes to the operator as is."""
    lines = lock_lines(order)
    eligible = [line for line in lines
                if rules.line_refusal(OrderState(line.state), SYSTEM.actor, shipping_late=order.shipping_late) is None]
    record_history(order, SYSTEM, "ESCALATE_CUSTOMER_REPLY", reason_label=f"Message client sans réponse depuis "
                   f"{hours} h ouvrées : médiation de l'opérateur", details={"thread_id": thread.pk})
    reason = Reason.objects.filter(type=ReasonType.INCIDENT_OPEN, code=rules.NO_SHOP_ANSWER).first()
    if eligible and reason is not None:
        incident_services.open_on_lines(order, eligible, reason, SYSTEM, description=thread.last_excerpt,
                                        thread_id=thread.pk, mediation=True)
        _mediate_existing(order, eligible)
        return
    notification_services.record_events([OrderEvent("CustomerClaimEscalated", order.order_id, order.shop_id,
                                                    clock.now(), {"thread_id": str(thread.pk),
                                                                  "topic": thread.topic_value, "hours": hours})])


def _mediate_existing(order: Order, lines: list[OrderLine]) -> None:
    waiting = Incident.objects.filter(line_id__in=[ln.pk for ln in lines], mediation_started_at__isnull=True) \
        .exclude(state=IncidentState.CLOSED).values_list("pk", flat=True)
    for incident_id in list(waiting):
        incident_services.start_mediation(incident_id=incident_id, who=SYSTEM)


def handle_formal_notice(order_pk: int, still_pending: Callable[[], bool]) -> bool:
    """Impose the solution of each expired formal notice of the order. The timer row is taken first, in its own
    transaction: an imposition the seller's balance refuses is left to the operator (recorded, notified), not
    retried in a loop."""
    with transaction.atomic():
        if not still_pending():
            return False
    imposed = False
    for incident_id in incident_services.expired_notices(order_pk, clock.now()):
        try:
            mediation.impose(incident_id=incident_id, who=mediation.ON_EXPIRY)
            imposed = True
        except ComptoirError as exc:
            log.warning("incident %s: imposing the solution failed: %s", incident_id, exc.message)
            _tell_operator(incident_id, exc.message)
    return imposed


def _tell_operator(incident_id: int, message: str) -> None:
    incident = Incident.objects.select_related("order", "line").filter(pk=incident_id).first()
    if incident is None:
        return
    with transaction.atomic():
        record_history(incident.order, SYSTEM, "IMPOSE_FAILED", line_id=incident.line.line_id,
                       reason_label=message[:300], details={"incident_id": incident_id})
        notification_services.record_events([OrderEvent(
            "SolutionImposeFailed", incident.order.order_id, incident.shop_id, clock.now(),
            {"incident_id": incident_id, "line_id": incident.line.line_id, "error": message[:500]})])
