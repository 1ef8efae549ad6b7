"""What the mediation pages show beside the data: which of the operator's actions an incident offers and, for
the others, why not (in French: the page explains instead of hiding), the formal notice's deadline as it would be
if served now, and the « Incidents » zone of the operator's order page. The services decide again under lock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone

from comptoir.core import clock
from comptoir.incidents import queries, rules
from comptoir.incidents import services as incident_services
from comptoir.incidents.models import Incident
from comptoir.incidents.rules import Action, IncidentState
from comptoir.operator.incident_forms import OpenIncidentForm
from comptoir.orders.models import Order, OrderLine
from comptoir.orders.services.lifecycle import Who, calendar
from comptoir.orders.states import Actor, OrderState
from comptoir.refunds.models import ReasonType


@dataclass(frozen=True, slots=True)
class IncidentAction:
    action: Action
    title: str  # the button and the confirmation's title
    effect: str  # what the confirmation says will happen
    done: str  # the message once done
    danger: bool = False


ACTIONS: dict[str, IncidentAction] = {
    "demarrer-mediation": IncidentAction(
        Action.START_MEDIATION, "Démarrer la médiation",
        "Le service client de la marketplace prend l'incident en main ; le vendeur en est averti.",
        "Médiation démarrée : le vendeur en est averti."),
    "mise-en-demeure": IncidentAction(
        Action.FORMAL_NOTICE, "Mettre le vendeur en demeure",
        "Le vendeur est mis en demeure de régler le problème ; faute de quoi la solution lui sera imposée et ne "
        "pourra plus être contestée.", "Mise en demeure envoyée au vendeur.", danger=True),
    "imposer": IncidentAction(
        Action.IMPOSE, "Imposer la solution",
        "La solution de la mise en demeure est appliquée maintenant, à la charge du vendeur : elle est définitive.",
        "Solution imposée : l'incident est clos.", danger=True),
    "confirmer": IncidentAction(
        Action.CLOSE, "Confirmer la résolution du vendeur",
        "L'incident est clos avec le motif donné par le vendeur ; le client et le vendeur en sont avertis.",
        "Résolution confirmée : l'incident est clos."),
    "rouvrir": IncidentAction(
        Action.REOPEN, "Rouvrir l'incident",
        "La résolution du vendeur n'est pas confirmée : l'incident est de nouveau en cours et le vendeur en est "
        "averti.", "Incident rouvert : le vendeur en est averti."),
    "clore": IncidentAction(
        Action.CLOSE, "Clore l'incident",
        "L'incident est clos avec ce motif ; le client et le vendeur en sont avertis.", "Incident clos."),
}


OPERATOR = Who(Actor.OPERATOR, "")  # whose reason lists the forms offer


def local(instant: datetime) -> str:
    return timezone.localtime(instant).strftime("%d/%m/%Y à %H:%M")


def refusals(incident: Incident, now: datetime) -> dict[str, str | None]:
    """Per action of ACTIONS: None when the operator may do it now, else why not (shown on the page)."""
    state = IncidentState(incident.state)
    found = {key: rules.refusal(item.action, state, Actor.OPERATOR) for key, item in ACTIONS.items()}
    if found["demarrer-mediation"] is None and incident.mediation_started_at is not None:
        found["demarrer-mediation"] = "La médiation est déjà en cours."
    if found["mise-en-demeure"] is None and incident.formal_notice_at is not None:
        found["mise-en-demeure"] = "Une mise en demeure a déjà été faite pour cet incident."
    if found["imposer"] is None:
        if incident.formal_notice_due is None:
            found["imposer"] = "Aucune mise en demeure n'a été faite : la solution ne peut pas être imposée."
        elif incident.formal_notice_due > now:
            found["imposer"] = (f"Le délai de la mise en demeure court jusqu'au {local(incident.formal_notice_due)} "
                                "(heure de Paris) : la solution ne pourra être imposée qu'ensuite, et le système "
                                "l'imposera de lui-même à l'échéance.")
    if found["confirmer"] is None and state != IncidentState.SHOP_RESOLVED:
        found["confirmer"] = "Le vendeur n'a pas signalé l'incident résolu."
    if state == IncidentState.CLOSED and incident.imposed_at is not None:
        found = dict.fromkeys(found, "La solution a été imposée : elle est définitive et ne peut plus être "
                                     "remise en question.")
    return found


def notice_due(now: datetime) -> datetime:
    """The deadline of a formal notice served at `now`: 24 business hours (a setting)."""
    hours = incident_services.setting("FORMAL_NOTICE_BUSINESS_HOURS", rules.FORMAL_NOTICE_BUSINESS_HOURS)
    return calendar().add_business_hours(now, hours)


def incident_lines(order: Order, lines: list[OrderLine]) -> list[OrderLine]:
    """The lines the operator may open an incident on: allowed by the incident rules, none open on them yet."""
    return [line for line in lines if line.incident_state != OrderState.INCIDENT_OPEN and rules.line_refusal(
        OrderState(line.state), Actor.OPERATOR, shipping_late=order.shipping_late) is None]


def open_form(order: Order, lines: list[OrderLine], data: Any = None) -> OpenIncidentForm | None:
    """« Ouvrir un incident » on the lines that may have one, with the operator's reasons; None when none may."""
    eligible = incident_lines(order, lines)
    if not eligible:
        return None
    return OpenIncidentForm(data, lines=eligible, prefix="incident",
                            reasons=incident_services.reasons(ReasonType.INCIDENT_OPEN, OPERATOR))


def order_zone(order: Order, lines: list[OrderLine]) -> dict[str, Any]:
    """The operator's order page: its incidents (each with its steps) and the « Ouvrir un incident » form."""
    return {"incidents": queries.order_incidents(order.pk, history=order.history.all()),
            "open_incident_form": open_form(order, lines), "incident_now": clock.now()}
