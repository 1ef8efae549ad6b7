"""Incident use cases: open a claim on order lines (customer, operator, or the worker when a claim went
unanswered), the seller signals it resolved (OR64), the operator confirms, reopens or closes it, starts the
mediation and serves a formal notice; a refund of the line closes it. Imposing the solution is in
`mediation.py` (it goes through the refund service, which closes the incident by `close_for_refund`).

Each write locks the order then its incidents (STYLE §5: shop, order, lines), writes a history row on the
order (the « Historique » tab shows every step), keeps the line's `incident_state` and the order's
`has_incident` in step, and writes the outbox events in the same transaction."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import F, Min, Sum
from django.utils import timezone

from comptoir.core import clock
from comptoir.core.ids import parse_id
from comptoir.incidents import rules
from comptoir.incidents.errors import (
    IncidentInvalidState,
    IncidentNotAllowed,
    IncidentNotFound,
    IncidentReasonInvalid,
    SolutionInvalid,
)
from comptoir.incidents.models import Incident
from comptoir.incidents.rules import Action, IncidentState, Solution
from comptoir.notifications import services as notification_services
from comptoir.orders.errors import OrderLineNotFound
from comptoir.orders.events import OrderEvent
from comptoir.orders.models import Order, OrderLine
from comptoir.orders.services.lifecycle import Who, calendar, lock_lines, lock_order, record_history, writing
from comptoir.orders.states import Actor, FlagTimerKind, OrderState, TimerKind
from comptoir.refunds.models import Reason, ReasonType, Refund
from comptoir.timers import services as timer_services


def setting(name: str, default: int) -> int:
    return int(settings.COMPTOIR.get(name, default))


def reasons(reason_type: ReasonType, who: Who) -> list[Reason]:
    """The reasons offered to this actor: a seller sees the ones marked for shops (OR64's list)."""
    query = Reason.objects.filter(type=reason_type, active=True)
    if who.actor == Actor.SELLER:
        query = query.filter(is_shop_right=True)
    return list(query)


def _reason(code: str, reason_type: ReasonType, who: Who) -> Reason:
    code = (code or "").strip()
    if not code:
        raise IncidentReasonInvalid("Un motif est obligatoire.", field="reason_code")
    reason = Reason.objects.filter(type=reason_type, code=code, active=True).first()
    if reason is None or (who.actor == Actor.SELLER and not reason.is_shop_right) or \
            (who.actor == Actor.CUSTOMER and reason.code == rules.NO_SHOP_ANSWER):  # the worker's own reason
        kind = "d'ouverture" if reason_type == ReasonType.INCIDENT_OPEN else "de résolution"
        raise IncidentReasonInvalid(f"Motif {kind} d'incident inconnu : {code}.", field="reason_code")
    return reason


def _event(name: str, order: Order, incident: Incident, **data: Any) -> OrderEvent:
    return OrderEvent(name, order.order_id, order.shop_id, clock.now(), {
        "incident_id": incident.pk, "line_id": incident.line.line_id, "title": incident.line.product_title,
        "reason_code": incident.reason_code, "reason": incident.reason_label, **data})


def _history(order: Order, incident: Incident, who: Who, action: Action, *, from_state: str = "",
             to_state: str = "", reason_code: str = "", reason_label: str = "", **details: Any) -> None:
    record_history(order, who, action.value, line_id=incident.line.line_id, from_state=from_state,
                   to_state=to_state, reason_code=reason_code, reason_label=reason_label,
                   details={"incident_id": incident.pk, **details})


def _sync_flags(order: Order) -> None:
    """The order's `has_incident` from its live incidents; a received order whose last incident closed gets its
    closing timer back (CLOSE is refused while an incident is open, which makes the pending one a no-op)."""
    live = Incident.objects.filter(order_id=order.pk).exclude(state=IncidentState.CLOSED).exists()
    if live != order.has_incident:
        Order.objects.filter(pk=order.pk).update(has_incident=live, last_updated_date=clock.now())
        order.has_incident = live
    if not live and order.state == OrderState.RECEIVED and order.received_date is not None \
            and timer_services.pending_due_at(order_pk=order.pk, kind=TimerKind.AUTO_CLOSE) is None:
        due = max(clock.now(), calendar().add_calendar_days(order.received_date, setting("CLOSING_DAYS", 14)))
        timer_services.schedule(order_pk=order.pk, kind=TimerKind.AUTO_CLOSE, due_at=due)


def _set_line(line: OrderLine, incident_state: OrderState) -> None:
    line.incident_state = incident_state.value
    OrderLine.objects.filter(pk=line.pk).update(incident_state=line.incident_state, last_updated_date=clock.now())


# --- opening --------------------------------------------------------------------------------------------------

def open_incident(*, order_id: str, line_ids: Sequence[str], reason_code: str, who: Who, description: str = "",
                  shop_id: int | None = None, thread_id: int | None = None) -> list[Incident]:
    """Open an incident on each of the lines (OR62; the customer space, the operator). A line that already has
    a live incident keeps it (no second one). All or nothing: a line that cannot have one refuses the lot."""
    if who.actor not in rules.OPENERS:
        raise IncidentNotAllowed("Un vendeur ne peut pas ouvrir d'incident : il répond au client.")
    if not line_ids:
        raise IncidentNotAllowed("Choisissez au moins un article.", field="line_ids")
    reason = _reason(reason_code, ReasonType.INCIDENT_OPEN, who)
    with writing():
        order = lock_order(order_id, shop_id=shop_id)
        by_id = {line.line_id: line for line in lock_lines(order)}
        unknown = [lid for lid in line_ids if lid not in by_id]
        if unknown:
            raise OrderLineNotFound(f"Ligne {unknown[0]} introuvable sur la commande {order_id}.", field="line_ids")
        for lid in line_ids:
            why = rules.line_refusal(OrderState(by_id[lid].state), who.actor, shipping_late=order.shipping_late)
            if why:
                raise IncidentNotAllowed(why, field="line_ids")
        return open_on_lines(order, [by_id[lid] for lid in dict.fromkeys(line_ids)], reason, who,
                             description=description.strip()[:5000], thread_id=thread_id)


def open_on_lines(order: Order, lines: Iterable[OrderLine], reason: Reason, who: Who, *, description: str = "",
                  thread_id: int | None = None, mediation: bool = False) -> list[Incident]:
    """The order and its lines are locked by the caller. Returns the incidents opened (not the existing ones)."""
    now = clock.now()
    lines = list(lines)
    live = set(Incident.objects.filter(line_id__in=[ln.pk for ln in lines]).exclude(state=IncidentState.CLOSED)
               .values_list("line_id", flat=True))
    opened = []
    for line in lines:
        if line.pk in live:
            continue
        incident = Incident.objects.create(
            order=order, line=line, shop_id=order.shop_id, opened_by=who.actor.value, opened_by_name=who.name[:200],
            reason_code=reason.code, reason_label=reason.label, description=description, thread_id=thread_id,
            opened_at=now, updated_at=now, mediation_started_at=now if mediation else None)
        _set_line(line, OrderState.INCIDENT_OPEN)
        _history(incident.order, incident, who, Action.OPEN, from_state=line.state, to_state=OrderState.INCIDENT_OPEN,
                 reason_code=reason.code, reason_label=reason.label, mediation=mediation)
        opened.append(incident)
    if opened:
        _sync_flags(order)
        notification_services.record_events([_event("IncidentOpened", order, i, opened_by=who.actor.value,
                                                    description=description[:500], mediation=mediation)
                                             for i in opened])
    return opened


# --- the seller's and the operator's acts ---------------------------------------------------------------------

def _locked(incident_id: int | str, *, shop_id: int | None = None, order_id: str | None = None,
            line_id: str | None = None) -> tuple[Order, Incident]:
    """Lock the incident's order then the incident; scoped lookups report others' incidents as not found."""
    query = Incident.objects.all()
    if incident_id is not None:
        if parse_id(incident_id) is None:
            raise IncidentNotFound(f"Incident {incident_id} introuvable.")
        query = query.filter(pk=int(incident_id))
    if shop_id is not None:
        query = query.filter(shop_id=shop_id)
    if order_id is not None:
        query = query.filter(order__order_id=order_id)
    if line_id is not None:
        query = query.filter(line__line_id=line_id).exclude(state=IncidentState.CLOSED)
    found = query.order_by("-id").values_list("pk", "order__order_id").first()
    if found is None:
        what = f"sur la ligne {line_id}" if line_id else str(incident_id)
        raise IncidentNotFound(f"Aucun incident en cours {what}." if line_id else f"Incident {what} introuvable.")
    order = lock_order(found[1])
    incident = Incident.objects.select_for_update().select_related("line").get(pk=found[0])
    incident.order = order
    return order, incident


def _check(incident: Incident, action: Action, who: Who) -> None:
    why = rules.refusal(action, IncidentState(incident.state), who.actor)
    if why:
        raise IncidentInvalidState(why)


def resolve(*, order_id: str, line_id: str, reason_code: str, who: Who, shop_id: int | None) -> Incident:
    """OR64: the seller signals the incident of the line resolved; the operator confirms (closes) or reopens."""
    reason = _reason(reason_code, ReasonType.INCIDENT_CLOSE, who)
    with writing():
        order = lock_order(order_id, shop_id=shop_id)
        if not OrderLine.objects.filter(order_id=order.pk, line_id=line_id).exists():
            raise OrderLineNotFound(f"Ligne {line_id} introuvable sur la commande {order_id}.")
        # The order is locked: its latest incident on the line, locked too (no second lookup of the order).
        incident = Incident.objects.select_for_update().select_related("line") \
            .filter(order_id=order.pk, line__line_id=line_id).order_by("-id").first()
        if incident is None:
            raise IncidentInvalidState(f"Aucun incident sur la ligne {line_id}.")
        incident.order = order
        _check(incident, Action.RESOLVE, who)
        now = clock.now()
        incident.state, incident.shop_resolved_at, incident.updated_at = IncidentState.SHOP_RESOLVED, now, now
        incident.shop_resolution_code, incident.shop_resolution_label = reason.code, reason.label
        incident.save(update_fields=["state", "shop_resolved_at", "shop_resolution_code", "shop_resolution_label",
                                     "updated_at"])
        _history(order, incident, who, Action.RESOLVE, reason_code=reason.code, reason_label=reason.label)
        notification_services.record_events([_event("IncidentResolutionSignaled", order, incident,
                                                    resolution=reason.label)])
        return incident


def reopen(*, incident_id: int | str, who: Who, note: str = "") -> Incident:
    """The operator does not confirm the seller's resolution: the incident is open again."""
    with writing():
        order, incident = _locked(incident_id)
        _check(incident, Action.REOPEN, who)
        incident.state, incident.updated_at = IncidentState.OPEN, clock.now()
        incident.save(update_fields=["state", "updated_at"])
        _history(order, incident, who, Action.REOPEN, reason_label=note.strip()[:300])
        _reschedule_formal_notice(order)  # a notice whose delay ran out meanwhile is imposed now
        notification_services.record_events([_event("IncidentReopened", order, incident, note=note.strip()[:500])])
        return incident


def close(*, incident_id: int | str, who: Who, reason_code: str = "", note: str = "",
          order_id: str | None = None) -> Incident:
    """Close the incident: the operator (confirming the seller's resolution or deciding), or the customer
    (`order_id` scopes the customer's lookup to its order). Without a reason, the seller's resolution's."""
    with writing():
        order, incident = _locked(incident_id, order_id=order_id)
        _check(incident, Action.CLOSE, who)
        if reason_code:
            reason = _reason(reason_code, ReasonType.INCIDENT_CLOSE, who)
            code, label = reason.code, reason.label
        elif incident.shop_resolution_code:
            code, label = incident.shop_resolution_code, incident.shop_resolution_label
        elif who.actor == Actor.CUSTOMER:
            code, label = "10", "Problème résolu avec le client"
        else:
            raise IncidentReasonInvalid("Un motif de clôture est obligatoire.", field="reason_code")
        _close(order, incident, who, code, label, note=note)
        return incident


def _close(order: Order, incident: Incident, who: Who, code: str, label: str, *, note: str = "",
           imposed: bool = False) -> None:
    now = clock.now()
    incident.state, incident.closed_at, incident.closed_by, incident.updated_at = IncidentState.CLOSED, now, \
        who.actor.value, now
    incident.close_reason_code, incident.close_reason_label = code, label[:200]
    fields = ["state", "closed_at", "closed_by", "close_reason_code", "close_reason_label", "updated_at"]
    if imposed:
        incident.imposed_at, incident.impose_error = now, ""
        fields += ["imposed_at", "impose_error"]
    incident.save(update_fields=fields)
    _set_line(incident.line, OrderState.INCIDENT_CLOSED)
    _history(order, incident, who, Action.IMPOSE if imposed else Action.CLOSE, from_state=OrderState.INCIDENT_OPEN,
             to_state=OrderState.INCIDENT_CLOSED, reason_code=code, reason_label=label, note=note.strip()[:500])
    _sync_flags(order)
    _reschedule_formal_notice(order)
    notification_services.record_events([_event("IncidentClosed", order, incident, closing_reason=label,
                                                imposed=imposed, closed_by=who.actor.value)])


def close_for_refund(order: Order, line_ids: Iterable[str], who: Who, *, refund_reason_code: str) -> int:
    """A refund of a line closes its live incident (the refund service calls this in its transaction, the order
    locked). A refund for the operator's mediation closes it as the imposed solution: final. Returns how many.
    An order without a live incident (`has_incident`, read under the lock) costs the refund no query."""
    if not order.has_incident:
        return 0
    found = list(Incident.objects.select_for_update().select_related("line")
                 .filter(order_id=order.pk, line__line_id__in=list(line_ids)).exclude(state=IncidentState.CLOSED))
    imposed = refund_reason_code == rules.OPERATOR_MEDIATION and who.actor in (Actor.OPERATOR, Actor.SYSTEM)
    code, label = (rules.OPERATOR_MEDIATION, "Solution imposée par l'opérateur (médiation)") if imposed else \
        (rules.REFUNDED, "Ligne remboursée")
    for incident in found:
        incident.order = order
        _close(order, incident, who, code, label, imposed=imposed)
    return len(found)


# --- mediation ------------------------------------------------------------------------------------------------

def start_mediation(*, incident_id: int | str, who: Who) -> Incident:
    with writing():
        order, incident = _locked(incident_id)
        _check(incident, Action.START_MEDIATION, who)
        if incident.mediation_started_at is not None:
            raise IncidentInvalidState("La médiation est déjà en cours.")
        incident.mediation_started_at = incident.updated_at = clock.now()
        incident.save(update_fields=["mediation_started_at", "updated_at"])
        _history(order, incident, who, Action.START_MEDIATION)
        notification_services.record_events([_event("MediationStarted", order, incident)])
        return incident


def send_formal_notice(*, incident_id: int | str, who: Who, solution: Solution) -> Incident:
    """The operator serves the seller a formal notice: settle within 24 business hours, or `solution` is imposed
    (and can no longer be contested). Starts the mediation if it was not."""
    if solution.amount_cents is not None and solution.amount_cents <= 0:
        raise SolutionInvalid("Le montant imposé doit être positif.", field="amount")
    with writing():
        order, incident = _locked(incident_id)
        _check(incident, Action.FORMAL_NOTICE, who)
        if incident.formal_notice_at is not None:
            raise IncidentInvalidState("Une mise en demeure a déjà été faite pour cet incident.")
        if solution.amount_cents is not None:
            _check_amount(incident.line, solution.amount_cents)
        now = clock.now()
        due = calendar().add_business_hours(now, setting("FORMAL_NOTICE_BUSINESS_HOURS",
                                                         rules.FORMAL_NOTICE_BUSINESS_HOURS))
        incident.mediation_started_at = incident.mediation_started_at or now
        incident.formal_notice_at, incident.formal_notice_due, incident.updated_at = now, due, now
        incident.solution = solution.as_json()
        incident.save(update_fields=["mediation_started_at", "formal_notice_at", "formal_notice_due", "solution",
                                     "updated_at"])
        _history(order, incident, who, Action.FORMAL_NOTICE, reason_label=solution.describe()[:300],
                 due=due.isoformat(), solution=solution.as_json())
        notification_services.record_events([_event(
            "FormalNoticeSent", order, incident, due=due.isoformat(), solution=solution.describe(),
            due_label=timezone.localtime(due).strftime("%d/%m/%Y à %H:%M"))])
        _reschedule_formal_notice(order)
        return incident


def _check_amount(line: OrderLine, amount_cents: int) -> None:
    """An imposed amount cannot exceed what is left to refund on the line (price and shipping, tax included)."""
    refunded = Refund.objects.filter(line_id=line.pk).aggregate(
        total=Sum(F("amount_cents") + F("shipping_cents")))["total"] or 0
    left = line.price_cents + line.shipping_price_cents - refunded
    if amount_cents > left:
        raise SolutionInvalid(f"Le montant imposé dépasse ce qu'il reste à rembourser sur la ligne "
                              f"({left / 100:.2f} €).".replace(".", ",", 1), field="amount")


def _reschedule_formal_notice(order: Order) -> None:
    due = (Incident.objects.filter(order_id=order.pk, state=IncidentState.OPEN, formal_notice_due__isnull=False,
                                   imposed_at__isnull=True)
           .aggregate(due=Min("formal_notice_due"))["due"])
    if due is None:
        timer_services.cancel(order_pk=order.pk, kinds=[FlagTimerKind.FORMAL_NOTICE])
    elif timer_services.pending_due_at(order_pk=order.pk, kind=FlagTimerKind.FORMAL_NOTICE) != due:
        timer_services.schedule(order_pk=order.pk, kind=FlagTimerKind.FORMAL_NOTICE, due_at=due)


def record_impose_failure(*, incident_id: int, message: str) -> None:
    """Imposing failed (the refund was refused): kept on the incident for the operator, who acts."""
    Incident.objects.filter(pk=incident_id).update(impose_error=message[:500], updated_at=clock.now())


def expired_notices(order_pk: int, now: datetime) -> list[int]:
    return list(Incident.objects.filter(order_id=order_pk, state=IncidentState.OPEN, imposed_at__isnull=True,
                                        formal_notice_due__lte=now).values_list("pk", flat=True))

