"""Pure rules of incidents and the operator's mediation: the incident's own small state machine (who may do
what in which state), on which order lines an incident may be opened, the state a line shows through the API,
and the guide's customer-service deadlines (« répondre à tout message en maximum 48h ouvrées ; faute de
réponse sous 72h ouvrées, la réclamation sera automatiquement considérée comme incident […] une mise en
demeure […] de régler le problème sous 24h ouvrées, faute de quoi une solution vous sera imposée »)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from comptoir.orders.states import Actor, OrderState

FORMAL_NOTICE_BUSINESS_HOURS: Final = 24

# The reason the worker gives the incidents it opens from an unanswered claim (type INCIDENT_OPEN), and the one
# an imposed solution closes them with (type INCIDENT_CLOSE; also the refund reason of an imposed refund).
NO_SHOP_ANSWER: Final = "NO_SHOP_ANSWER"
OPERATOR_MEDIATION: Final = "OPERATOR_MEDIATION"
REFUNDED: Final = "REFUNDED"  # INCIDENT_CLOSE reason of an incident closed by a refund of its line


class IncidentState(StrEnum):
    OPEN = "OPEN"
    SHOP_RESOLVED = "SHOP_RESOLVED"  # the seller signals it resolved (OR64); the operator confirms or reopens
    CLOSED = "CLOSED"


STATE_LABELS: Final[dict[IncidentState, str]] = {
    IncidentState.OPEN: "En cours",
    IncidentState.SHOP_RESOLVED: "Résolu selon le vendeur",
    IncidentState.CLOSED: "Clos",
}
LIVE_STATES: Final = frozenset({IncidentState.OPEN, IncidentState.SHOP_RESOLVED})


class Action(StrEnum):
    OPEN = "OPEN_INCIDENT"
    RESOLVE = "RESOLVE_INCIDENT"  # the seller signals it resolved
    REOPEN = "REOPEN_INCIDENT"  # the operator does not confirm the seller's resolution
    CLOSE = "CLOSE_INCIDENT"
    START_MEDIATION = "START_MEDIATION"
    FORMAL_NOTICE = "FORMAL_NOTICE"
    IMPOSE = "IMPOSE_SOLUTION"


# (action, from states, actors allowed): the incident's table. OPEN has no source (a new incident).
ALLOWED: Final[dict[Action, tuple[frozenset[IncidentState], frozenset[Actor]]]] = {
    Action.RESOLVE: (frozenset({IncidentState.OPEN}), frozenset({Actor.SELLER})),
    Action.REOPEN: (frozenset({IncidentState.SHOP_RESOLVED}), frozenset({Actor.OPERATOR})),
    Action.CLOSE: (LIVE_STATES, frozenset({Actor.OPERATOR, Actor.CUSTOMER, Actor.SYSTEM})),
    Action.START_MEDIATION: (LIVE_STATES, frozenset({Actor.OPERATOR, Actor.SYSTEM})),
    Action.FORMAL_NOTICE: (frozenset({IncidentState.OPEN}), frozenset({Actor.OPERATOR})),
    Action.IMPOSE: (frozenset({IncidentState.OPEN}), frozenset({Actor.OPERATOR, Actor.SYSTEM})),
}
OPENERS: Final = frozenset({Actor.CUSTOMER, Actor.OPERATOR, Actor.SYSTEM})


def refusal(action: Action, state: IncidentState, actor: Actor) -> str | None:
    """Why `actor` may not do `action` on an incident in `state` (a French sentence), or None."""
    states, actors = ALLOWED[action]
    if actor not in actors:
        return "Vous ne pouvez pas faire cette action sur un incident."
    if state not in states:
        return f"Action impossible : l'incident est « {STATE_LABELS[state].lower()} »."
    return None


# Lines an incident may concern: the goods are on their way or delivered. The customer may also open one on a
# line still to ship once the shipping deadline has passed; the operator and the worker on any line to ship.
_SHIPPED: Final = frozenset({OrderState.SHIPPED, OrderState.TO_COLLECT, OrderState.RECEIVED})


def line_refusal(line_state: OrderState, actor: Actor, *, shipping_late: bool) -> str | None:
    if line_state in _SHIPPED:
        return None
    if line_state == OrderState.SHIPPING and (actor != Actor.CUSTOMER or shipping_late):
        return None
    if line_state == OrderState.SHIPPING:
        return "La commande est en cours de préparation : écrivez d'abord au vendeur."
    return f"Un incident ne peut pas être ouvert sur une ligne à l'état {line_state}."


def api_line_state(line_state: str, incident_state: str) -> str:
    """The `order_line_state` a Mirakl connector reads: INCIDENT_OPEN while an incident is open on the line,
    INCIDENT_CLOSED once closed while the goods are still with the customer, else the line's own state."""
    if incident_state == OrderState.INCIDENT_OPEN:
        return OrderState.INCIDENT_OPEN
    if incident_state == OrderState.INCIDENT_CLOSED and line_state in _SHIPPED:
        return OrderState.INCIDENT_CLOSED
    return line_state


class SolutionKind(StrEnum):
    REFUND = "REFUND"  # refund the line (in full, or an amount), debited from the seller


@dataclass(frozen=True, slots=True)
class Solution:
    """What the operator will impose when the formal notice expires."""

    kind: SolutionKind
    amount_cents: int | None = None  # None: the whole line (price and shipping) still refundable
    note: str = ""

    def as_json(self) -> dict[str, object]:
        return {"kind": self.kind.value, "amount_cents": self.amount_cents, "note": self.note}

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Solution:
        amount = data.get("amount_cents")
        return cls(SolutionKind(str(data.get("kind", "REFUND"))), int(amount) if amount is not None else None,
                   str(data.get("note", "")))

    def describe(self) -> str:
        if self.amount_cents is None:
            what = "remboursement intégral de la ligne"
        else:
            what = f"remboursement de {self.amount_cents / 100:.2f} €".replace(".", ",")
        return f"{what}{' — ' + self.note if self.note else ''}"
