"""Imposing the operator's solution when a formal notice expires (the worker, or the operator from the
mediation board once the 24 business hours have passed): a refund of the line through the refund service,
debited from the seller, with the reason OPERATOR_MEDIATION; the refund closes the incident as imposed (final).
A refund the seller's balance cannot cover is recorded on the incident for the operator, who acts."""

from __future__ import annotations

from comptoir.core import clock
from comptoir.core.errors import ComptoirError
from comptoir.core.ids import parse_id
from comptoir.incidents import rules
from comptoir.incidents import services as incident_services
from comptoir.incidents.errors import IncidentInvalidState, IncidentNotFound
from comptoir.incidents.models import Incident
from comptoir.incidents.rules import Action, IncidentState, Solution
from comptoir.ledger import services as ledger_services
from comptoir.orders.services.lifecycle import Who, lock_order, writing
from comptoir.orders.states import Actor
from comptoir.refunds import services as refund_services
from comptoir.refunds.rules import RefundMode

# The refund table lets the operator refund; the worker imposes on its behalf, once the notice has expired.
ON_EXPIRY = Who(Actor.OPERATOR, "Médiation (délai de mise en demeure expiré)")


def impose(*, incident_id: int | str, who: Who) -> Incident:
    """Impose the solution of the incident's formal notice. Raises when the incident is not open, has no
    formal notice or its delay has not expired; a refused refund is recorded on the incident and re-raised.
    Locks the shop (its balance), the order, then the incident, and refunds in the same transaction: an incident
    closed meanwhile is never refunded twice."""
    if parse_id(incident_id) is None:
        raise IncidentNotFound(f"Incident {incident_id} introuvable.")
    found = Incident.objects.filter(pk=int(incident_id)).values_list("shop_id", "order__order_id").first()
    if found is None:
        raise IncidentNotFound(f"Incident {incident_id} introuvable.")
    try:
        with writing():
            ledger_services.lock_shop_balances(found[0])
            lock_order(found[1])
            incident = Incident.objects.select_for_update().select_related("line").get(pk=int(incident_id))
            _check(incident, who)
            request = refund_request(incident.line.line_id, Solution.from_json(incident.solution or {}))
            refund_services.refund_lines(requests=[request], who=who, shop_id=None)
    except IncidentInvalidState:
        raise
    except ComptoirError as exc:
        incident_services.record_impose_failure(incident_id=int(incident_id), message=exc.message)
        raise
    incident.refresh_from_db()
    return incident


def refund_request(line_id: str, solution: Solution) -> refund_services.LineRequest:
    """The refund a solution imposes on its line (the mediation board previews the same request)."""
    return refund_services.LineRequest(
        line_id, rules.OPERATOR_MEDIATION,
        mode=RefundMode.FULL if solution.amount_cents is None else RefundMode.AMOUNT,
        amount_cents=solution.amount_cents, tax_included=solution.amount_cents is not None)


def _check(incident: Incident, who: Who) -> None:
    why = rules.refusal(Action.IMPOSE, IncidentState(incident.state), who.actor)
    if why:
        raise IncidentInvalidState(why)
    if incident.formal_notice_due is None or incident.solution is None:
        raise IncidentInvalidState("Aucune mise en demeure n'a été faite : la solution ne peut pas être imposée.")
    if incident.formal_notice_due > clock.now():
        raise IncidentInvalidState("Le délai de la mise en demeure court encore : la solution ne peut pas encore "
                                   "être imposée.")
