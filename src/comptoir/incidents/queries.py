"""Every read of incidents the surfaces need: the seller's « Service client > Incidents » list and home counters,
one order's incidents with their steps (the seller's order page, the customer space), the lines a customer
may still report a problem on; the operator API's and the mediation board's reads below."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery

from comptoir.core.ids import parse_id
from comptoir.incidents import rules
from comptoir.incidents.models import Incident
from comptoir.incidents.rules import LIVE_STATES, IncidentState
from comptoir.messaging.models import Thread
from comptoir.orders.models import Order, OrderHistory, OrderLine
from comptoir.orders.states import Actor, OrderState
from comptoir.refunds.models import Reason, ReasonType

_LIVE = [s.value for s in LIVE_STATES]


# --- the seller's list and home indicator ------------------------------------------------------------------------

def shop_incidents(shop_id: int, *, ongoing: bool) -> QuerySet[Incident]:
    """The « En cours » (open or signalled resolved) or « Terminés » (closed) tab, newest first, with the order
    and the line each row shows (one query per page)."""
    query = Incident.objects.filter(shop_id=shop_id).select_related("order", "line")
    query = query.filter(state__in=_LIVE) if ongoing else query.filter(state=IncidentState.CLOSED)
    return query.order_by("-opened_at", "-id")


@dataclass(frozen=True, slots=True)
class ShopIncidentCounts:
    ongoing: int
    in_mediation: int  # ongoing incidents the operator mediates
    closed: int


def shop_counts(shop_id: int) -> ShopIncidentCounts:
    """The home indicator and the tabs' counters, in one aggregate on the (shop_id, state, opened_at) index."""
    live = Q(state__in=_LIVE)
    total = Incident.objects.filter(shop_id=shop_id).aggregate(
        ongoing=Count("id", filter=live),
        in_mediation=Count("id", filter=live & Q(mediation_started_at__isnull=False)),
        closed=Count("id", filter=Q(state=IncidentState.CLOSED)))
    return ShopIncidentCounts(int(total["ongoing"]), int(total["in_mediation"]), int(total["closed"]))


# --- one order --------------------------------------------------------------------------------------------------

def order_incidents(order_pk: int, *, history: Iterable[OrderHistory] | None = None) -> list[Incident]:
    """The order's incidents, oldest first, each with `steps`: its history rows (opening, resolution, mediation,
    formal notice, closing), oldest first. `history` is the order's history when the caller already has it."""
    incidents = list(Incident.objects.filter(order_id=order_pk).select_related("line").order_by("opened_at", "id"))
    if not incidents:
        return incidents
    rows = history if history is not None else (
        OrderHistory.objects.filter(order_id=order_pk, details__has_key="incident_id").order_by("created_date", "id"))
    steps: dict[int, list[OrderHistory]] = {i.pk: [] for i in incidents}
    for row in rows:
        details = row.details if isinstance(row.details, dict) else {}
        incident_id = details.get("incident_id")
        if isinstance(incident_id, int) and incident_id in steps:
            steps[incident_id].append(row)
    for incident in incidents:
        incident.steps = steps[incident.pk]  # type: ignore[attr-defined]
    return incidents


def line_incident(order_pk: int, line_pk: int) -> Incident | None:
    """The line's latest incident (the one the seller acts on), with its line."""
    return (Incident.objects.filter(order_id=order_pk, line_id=line_pk).select_related("line")
            .order_by("-opened_at", "-id").first())


@dataclass(frozen=True, slots=True)
class LineIncidents:
    line: OrderLine
    incidents: list[Incident]  # oldest first

    @property
    def live(self) -> Incident | None:
        return next((i for i in self.incidents if i.state != IncidentState.CLOSED), None)


def incidents_by_line(lines: Iterable[OrderLine], incidents: Iterable[Incident]) -> list[LineIncidents]:
    """The order page's « Incidents » zone: one entry per line that has had an incident, in the lines' order."""
    by_line: dict[int, list[Incident]] = {}
    for incident in incidents:
        by_line.setdefault(incident.line_id, []).append(incident)
    return [LineIncidents(line, by_line[line.pk]) for line in lines if line.pk in by_line]


def customer_reportable_lines(order: Order, lines: Iterable[OrderLine],
                              incidents: Iterable[Incident]) -> list[OrderLine]:
    """The lines the customer may report a problem on: the incident rules allow the customer (goods shipped, or
    late to ship) and no incident is already open on them (a second claim would join the first one)."""
    live = {i.line_id for i in incidents if i.state != IncidentState.CLOSED}
    return [line for line in lines if line.pk not in live and rules.line_refusal(
        OrderState(line.state), Actor.CUSTOMER, shipping_late=order.shipping_late) is None]


# --- the operator API: incidents across shops, one incident, the live incident of a line ------------------------

FORMAL_NOTICE_FILTERS = ("none", "running", "expired")


@dataclass(frozen=True, slots=True)
class IncidentFilter:
    states: Sequence[str] = ()
    shop_id: int | None = None
    order_id: str = ""
    in_mediation: bool | None = None
    formal_notice: str = ""  # "none", "running" (deadline ahead), "expired" (deadline passed, nothing imposed)
    now: datetime | None = None  # the instant "running" and "expired" are judged at


def _filtered(f: IncidentFilter) -> QuerySet[Incident]:
    query = Incident.objects.all()
    if f.states:
        query = query.filter(state__in=list(f.states))
    if f.shop_id is not None:
        query = query.filter(shop_id=f.shop_id)
    if f.order_id:
        query = query.filter(order__order_id=f.order_id)
    if f.in_mediation is not None:
        query = query.filter(mediation_started_at__isnull=not f.in_mediation)
    if f.formal_notice == "none":
        query = query.filter(formal_notice_due__isnull=True)
    elif f.formal_notice == "running":
        query = query.filter(formal_notice_due__gt=f.now, imposed_at__isnull=True, state=IncidentState.OPEN)
    elif f.formal_notice == "expired":
        query = query.filter(formal_notice_due__lte=f.now, imposed_at__isnull=True, state=IncidentState.OPEN)
    return query


def incidents_page(f: IncidentFilter, *, offset: int = 0, limit: int = 10) -> tuple[list[Incident], int]:
    """A page of incidents (newest first) with their order and line, and the total count: two queries."""
    query = _filtered(f)
    total = query.count()
    page = query.select_related("order", "line").order_by("-opened_at", "-id")[offset: offset + limit]
    return list(page), total


def incident(incident_id: int | str) -> Incident | None:
    if parse_id(incident_id) is None:
        return None
    return Incident.objects.select_related("order", "line").filter(pk=int(incident_id)).first()


def live_incident_on_line(order_id: str, line_id: str) -> Incident | None:
    return (Incident.objects.select_related("order", "line").filter(order__order_id=order_id, line__line_id=line_id)
            .filter(state__in=_LIVE).order_by("-id").first())


def line_known(order_id: str, line_id: str) -> bool | None:
    """Whether the order has this line; None when there is no such order."""
    found = list(OrderLine.objects.filter(order__order_id=order_id, line_id=line_id).values_list("pk", flat=True)[:1])
    if found:
        return True
    return False if Order.objects.filter(order_id=order_id).exists() else None


def opening_reasons() -> list[Reason]:
    """The INCIDENT_OPEN reasons incidents are opened with (by the customer, the operator or the worker): a shop
    never gives one but reads them on its lines (RE01)."""
    return list(Reason.objects.filter(type=ReasonType.INCIDENT_OPEN, active=True))


# --- the operator's mediation board and its « Messages » page ---------------------------------------------------

# The board's filters (the menu's tabs): every live incident, then the operator's work by stage, then the closed.
BOARD_FILTERS: dict[str, str] = {
    "en-cours": "En cours",
    "a-confirmer": "Résolus selon le vendeur, à confirmer",
    "mediation": "En médiation",
    "mise-en-demeure": "Mise en demeure en cours",
    "delai-expire": "Délai expiré",
    "clos": "Clos",
}


def _board_q(key: str, now: datetime) -> Q:
    live, still_open = Q(state__in=_LIVE), Q(state=IncidentState.OPEN, imposed_at__isnull=True)
    return {
        "en-cours": live,
        "a-confirmer": Q(state=IncidentState.SHOP_RESOLVED),
        "mediation": live & Q(mediation_started_at__isnull=False, formal_notice_at__isnull=True),
        "mise-en-demeure": still_open & Q(formal_notice_due__gt=now),
        "delai-expire": still_open & Q(formal_notice_due__lte=now),
        "clos": Q(state=IncidentState.CLOSED),
    }[key]


_BOARD_ORDER = {  # the most urgent first: the nearest deadline, the longest wait; the latest closed
    "mise-en-demeure": ("formal_notice_due", "id"), "delai-expire": ("formal_notice_due", "id"),
    "clos": ("-closed_at", "-id"),
}


def board(key: str, *, now: datetime, shop_id: int | None = None) -> QuerySet[Incident]:
    """One tab of the board, with the order, its shop and the line each row shows (one query per page)."""
    query = Incident.objects.filter(_board_q(key, now)).select_related("order__shop", "line")
    if shop_id is not None:
        query = query.filter(shop_id=shop_id)
    return query.order_by(*_BOARD_ORDER.get(key, ("opened_at", "id")))


def board_counts(*, now: datetime, shop_id: int | None = None) -> dict[str, int]:
    """Incidents per tab, in one aggregate."""
    query = Incident.objects.all() if shop_id is None else Incident.objects.filter(shop_id=shop_id)
    total = query.aggregate(**{key.replace("-", "_"): Count("id", filter=_board_q(key, now))
                               for key in BOARD_FILTERS})
    return {key: int(total[key.replace("-", "_")]) for key in BOARD_FILTERS}


def board_incident(incident_id: int | str) -> Incident | None:
    """One incident with its order, the order's shop and the line."""
    if parse_id(incident_id) is None:
        return None
    return Incident.objects.select_related("order__shop", "line").filter(pk=int(incident_id)).first()


def incident_timeline(incident: Incident) -> list[OrderHistory]:
    """The order's history rows about the incident, oldest first; for a claim escalated by the worker, the
    reminder and the escalation of its conversation too."""
    about = Q(details__incident_id=incident.pk)
    if incident.thread_id is not None:
        about |= Q(trigger__in=["REMIND_CUSTOMER_REPLY", "ESCALATE_CUSTOMER_REPLY"],
                   details__thread_id=incident.thread_id)
    return list(OrderHistory.objects.filter(about, order_id=incident.order_id).order_by("created_date", "id"))


def threads_awaiting_seller(*, shop_id: int | None = None) -> QuerySet[Thread]:
    """Conversations where a customer waits for the seller's answer, the longest wait first, each with its order,
    shop and `incident_pk` (the incident its escalation opened, if any)."""
    query = (Thread.objects.filter(shop_reply_needed_since__isnull=False).select_related("order", "shop")
             .annotate(incident_pk=Subquery(Incident.objects.filter(thread_id=OuterRef("pk")).order_by("-id")
                                            .values("pk")[:1])))
    if shop_id is not None:
        query = query.filter(shop_id=shop_id)
    return query.order_by("shop_reply_needed_since", "id")
