"""The « Incidents » zone of the seller's order page: per line, its incidents with their state and steps, and the
« Signaler comme résolu » form (OR64's reasons, the shop's own). Imported by the order page (views.py) and by the
incident views (incidents.py); kept apart so neither imports the other."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms

from comptoir.incidents import queries, services
from comptoir.incidents.models import Incident
from comptoir.incidents.rules import IncidentState, Solution
from comptoir.orders.models import Order, OrderHistory, OrderLine
from comptoir.orders.services.lifecycle import Who
from comptoir.orders.states import Actor
from comptoir.refunds.models import Reason, ReasonType

OPENED_BY = {"CUSTOMER": "Client", "OPERATOR": "Opérateur", "SYSTEM": "Comptoir"}
SELLER = Who(Actor.SELLER, "")


class ResolveForm(forms.Form):
    motif = forms.ChoiceField(label="Motif de résolution", error_messages={
        "required": "Choisissez un motif de résolution.",
        "invalid_choice": "Motif de résolution inconnu : choisissez-en un dans la liste.",
    })

    def __init__(self, *args: Any, reasons: Iterable[Reason], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["motif"].choices = [("", "— Choisir un motif —"), *((r.code, r.label) for r in reasons)]

    def reason_label(self) -> str:
        return dict(self.fields["motif"].choices).get(self.cleaned_data["motif"], "")


def shop_reasons() -> list[Reason]:
    return services.reasons(ReasonType.INCIDENT_CLOSE, SELLER)


def resolve_form(incident: Incident, data: Any = None, *, reasons: Iterable[Reason] | None = None) -> ResolveForm:
    return ResolveForm(data, reasons=shop_reasons() if reasons is None else reasons, auto_id=f"i{incident.pk}_%s")


def describe(incident: Incident) -> Incident:
    """What the pages show beyond the row: who opened it, the solution of the formal notice."""
    incident.opened_by_label = OPENED_BY.get(incident.opened_by, incident.opened_by)  # type: ignore[attr-defined]
    incident.solution_text = (Solution.from_json(incident.solution).describe()  # type: ignore[attr-defined]
                              if incident.solution else "")
    return incident


def incident_zone(order: Order, lines: list[OrderLine], history: Iterable[OrderHistory], *,
                  bound: ResolveForm | None = None, bound_incident: int | None = None) -> dict[str, Any] | None:
    """None when no line ever had an incident (no query then); `bound` is a refused form to show again."""
    if not any(line.incident_state for line in lines):
        return None
    incidents = [describe(i) for i in queries.order_incidents(order.pk, history=history)]
    reasons = shop_reasons() if any(i.state == IncidentState.OPEN for i in incidents) else []
    for incident in incidents:
        if incident.state == IncidentState.OPEN:
            incident.resolve_form = (bound if bound is not None and bound_incident == incident.pk  # type: ignore[attr-defined]
                                     else resolve_form(incident, reasons=reasons))
    return {"lines": queries.incidents_by_line(lines, incidents)}
