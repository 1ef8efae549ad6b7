"""Scorecard reads: the facts of one shop over a window ending at clock.now(), in a few grouped queries (no loop
per order in SQL), turned into measures by scorecards.rules. A read model over several apps' tables: it only reads.

Business durations (acceptance and response delays) are the only per-row work in Python: the calendar's
`business_hours_between` is constant-time per pair."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, OuterRef, Q, Subquery

from comptoir.core import clock
from comptoir.incidents.models import Incident
from comptoir.messaging.models import Message
from comptoir.messaging.rules import Participant
from comptoir.orders.models import Order, OrderHistory
from comptoir.orders.services.lifecycle import calendar
from comptoir.orders.states import Trigger
from comptoir.refunds.models import Refund
from comptoir.refunds.rules import RefundKind
from comptoir.scorecards import rules
from comptoir.scorecards.models import ScorecardAlert, ScorecardThreshold
from comptoir.shipping.models import Shipment, ShipmentStatus

_DECISIONS = (Trigger.ACCEPT, Trigger.REFUSE, Trigger.AUTO_REFUSE)


def _deadline_slack() -> timedelta:
    """How far an order's acceptance deadline can be from its decision: the acceptance delay in calendar days
    (business days plus weekends and holidays), and the worker's lag for auto-refusals, with room to spare."""
    return timedelta(days=2 * settings.COMPTOIR["ACCEPTANCE_BUSINESS_DAYS"] + 15)


def _acceptance(shop_id: int, start: datetime, end: datetime) -> tuple[dict[str, int], tuple[timedelta, ...]]:
    """Decisions taken in [start, end) and the business time each order waited for it. The orders are found by
    their acceptance deadline (indexed per shop), which is never far from their decision."""
    slack = _deadline_slack()
    entered = (OrderHistory.objects.filter(order_id=OuterRef("order_id"), line_id="", trigger=Trigger.APPROVE)
               .order_by("-created_date").values("created_date")[:1])
    rows = (OrderHistory.objects
            .filter(order__shop_id=shop_id, order__acceptance_deadline__gte=start - slack,
                    order__acceptance_deadline__lt=end + slack)
            .filter(line_id="", trigger__in=_DECISIONS, created_date__gte=start, created_date__lt=end)
            .annotate(entered=Subquery(entered)).values_list("trigger", "created_date", "entered"))
    counts = dict.fromkeys(_DECISIONS, 0)
    between = calendar().business_hours_between
    delays = []
    for trigger, decided, since in rows:
        counts[trigger] += 1
        if since is not None:
            delays.append(between(since, decided))
    return {str(k): v for k, v in counts.items()}, tuple(delays)


def _replies(shop_id: int, start: datetime, end: datetime) -> tuple[tuple[timedelta | None, bool], ...]:
    """Customer messages to the shop sent in [start, end): the business time to the shop's next message in the
    thread (None if none yet) and whether 48 business hours have run out without an answer."""
    reply = (Message.objects.filter(thread_id=OuterRef("thread_id"), author_type=Participant.SHOP,
                                    created_date__gt=OuterRef("created_date"))
             .order_by("created_date", "id").values("created_date")[:1])
    rows = (Message.objects
            .filter(thread__shop_id=shop_id, thread__last_message_date__gte=start, author_type=Participant.CUSTOMER,
                    created_date__gte=start, created_date__lt=end)
            .annotate(reply=Subquery(reply)).values_list("created_date", "reply", "recipients"))
    between = calendar().business_hours_between
    limit = timedelta(hours=rules.ANSWER_BUSINESS_HOURS)
    found = []
    for sent, answered, recipients in rows:
        if Participant.SHOP.value not in (recipients or ()):
            continue  # a message to the operator only asks nothing of the shop
        if answered is not None and answered <= end:
            found.append((between(sent, answered), False))
        else:
            found.append((None, between(sent, end) >= limit))
    return tuple(found)


def facts(shop_id: int, days: int, *, end: datetime | None = None) -> rules.Facts:
    end = end or clock.now()
    start = end - timedelta(days=days)
    counts, delays = _acceptance(shop_id, start, end)
    shipped = Order.objects.filter(shop_id=shop_id, shipped_date__gte=start, shipped_date__lt=end).aggregate(
        total=Count("id"), late=Count("id", filter=Q(shipping_late=True)))
    parcels = (Shipment.objects.filter(shop_id=shop_id, status=ShipmentStatus.SHIPPED, shipped_date__gte=start,
                                       shipped_date__lt=end)
               .aggregate(total=Count("id"), tracked=Count("id", filter=~Q(tracking_number="") | ~Q(tracking_url=""))))
    incidents = (Incident.objects.filter(shop_id=shop_id, opened_at__gte=start, opened_at__lt=end)
                 .values("order_id").distinct().count())
    refunds = (Refund.objects.filter(shop_id=shop_id, created_date__gte=start, created_date__lt=end)
               .values("kind").annotate(orders=Count("order_id", distinct=True)))
    by_kind = {row["kind"]: row["orders"] for row in refunds}
    return rules.Facts(
        accepted=counts[Trigger.ACCEPT], refused=counts[Trigger.REFUSE], auto_refused=counts[Trigger.AUTO_REFUSE],
        acceptance_delays=delays, accepted_orders=counts[Trigger.ACCEPT],
        shipped_orders=shipped["total"], late_shipped_orders=shipped["late"],
        shipments=parcels["total"], tracked_shipments=parcels["tracked"],
        message_replies=_replies(shop_id, start, end), incident_orders=incidents,
        refunded_orders=by_kind.get(RefundKind.REFUND, 0), canceled_orders=by_kind.get(RefundKind.CANCELATION, 0),
    )


def scorecard(shop_id: int, days: int, *, end: datetime | None = None) -> dict[rules.Measure, rules.Value]:
    return rules.scorecard(facts(shop_id, days, end=end))


def scorecards(shop_id: int) -> dict[int, dict[rules.Measure, rules.Value]]:
    """Both windows (30 and 90 days) ending at the same instant."""
    end = clock.now()
    return {days: scorecard(shop_id, days, end=end) for days in rules.WINDOWS}


def thresholds() -> list[ScorecardThreshold]:
    return list(ScorecardThreshold.objects.all())


def threshold_rules() -> list[rules.Threshold]:
    return [rules.Threshold(rules.Measure(t.measure), t.warning_level, t.suspension_level, t.suspension_enabled,
                            t.window_days) for t in thresholds()]


def recent_alerts(shop_id: int, limit: int = 20) -> list[ScorecardAlert]:
    return list(ScorecardAlert.objects.filter(shop_id=shop_id).order_by("-created_date", "-id")[:limit])
