"""Template filters of the back offices: money in French, state labels, countdowns."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.html import format_html

from comptoir.core import clock
from comptoir.orders.states import STATE_LABELS, OrderState
from comptoir.web.countdown import countdown as remaining

register = template.Library()


@register.filter
def euros(cents: int | None, currency: str = "EUR") -> str:
    """1234567 → « 12 345,67 € » (narrow no-break spaces, French decimal comma)."""
    if cents is None:
        return "—"
    sign = "-" if cents < 0 else ""
    units, rest = divmod(abs(int(cents)), 100)
    grouped = f"{units:,}".replace(",", "\u202f")
    symbol = "€" if currency == "EUR" else currency
    return f"{sign}{grouped},{rest:02d}\u00a0{symbol}"


@register.filter
def state_label(state: str) -> str:
    try:
        return STATE_LABELS[OrderState(state)]
    except ValueError:
        return state


@register.filter
def state_badge(state: str) -> str:
    return format_html('<span class="badge badge-{}">{}</span>', str(state).lower(), state_label(state))


@register.filter
def countdown(deadline: datetime | None) -> str:
    """Time left until `deadline`, « 2 j 4 h » / « 3 h 12 min » / « dépassé »."""
    if deadline is None:
        return "—"
    return remaining(deadline, clock.now()).text  # the formatting itself is pure: comptoir.web.countdown


@register.filter
def percent(rate: object) -> str:
    text = f"{rate:f}".rstrip("0").rstrip(".") if rate is not None else "0"
    return text.replace(".", ",") + "\u00a0%"


TRIGGER_LABELS = {
    "IMPORT": "Commande reçue", "APPROVE": "Validée par l'anti-fraude", "REJECT": "Rejetée par l'anti-fraude",
    "REQUEST_DOCUMENTS": "Justificatifs demandés au client", "ACCEPT": "Acceptation",
    "REFUSE": "Refus", "AUTO_REFUSE": "Refus automatique (délai dépassé)",
    "WARN_ACCEPTANCE_DEADLINE": "Rappel : échéance d'acceptation proche",
    "RENEW_AUTHORIZATION": "Autorisation de paiement renouvelée", "EXPIRE_AUTHORIZATION": "Autorisation expirée",
    "REQUEST_DEBIT": "Débit demandé", "CONFIRM_DEBIT": "Client débité", "FAIL_DEBIT": "Échec du débit",
    "MARK_SHIPPING_LATE": "Expédition en retard", "SHIP": "Expédiée", "CANCEL": "Annulation",
    "RECEIVE": "Reçue", "CLOSE": "Clôturée", "REFUND": "Remboursement", "CANCEL_LINES": "Annulation d'articles",
    # Incidents and the operator's mediation (incidents.rules.Action and the customer-service timer).
    "OPEN_INCIDENT": "Incident ouvert", "RESOLVE_INCIDENT": "Incident signalé résolu par le vendeur",
    "REOPEN_INCIDENT": "Incident rouvert par l'opérateur", "CLOSE_INCIDENT": "Incident clos",
    "START_MEDIATION": "Médiation de l'opérateur", "FORMAL_NOTICE": "Mise en demeure",
    "IMPOSE_SOLUTION": "Solution imposée par l'opérateur", "IMPOSE_FAILED": "Échec de la solution imposée",
    "REMIND_CUSTOMER_REPLY": "Relance : message client sans réponse (48 h ouvrées)",
    "ESCALATE_CUSTOMER_REPLY": "Message client sans réponse (72 h ouvrées) : incident et médiation",
}
ACTOR_LABELS = {"SELLER": "Vendeur", "OPERATOR": "Opérateur", "CUSTOMER": "Client", "SYSTEM": "Système"}


@register.filter
def trigger_label(trigger: str) -> str:
    return TRIGGER_LABELS.get(trigger, trigger)


@register.filter
def history_note(row: object) -> str:
    """What a refund or cancelation row of the history gave back (its details: group_id, total_cents, kind)."""
    details = getattr(row, "details", None) or {}
    if isinstance(details, dict) and getattr(row, "trigger", "") == "FORMAL_NOTICE" and details.get("due"):
        try:  # the formal notice's deadline, in local time
            due = timezone.localtime(datetime.fromisoformat(str(details["due"])))
        except ValueError:
            return ""
        return f"Échéance de la mise en demeure : {due:%d/%m/%Y à %H:%M}"
    if not isinstance(details, dict) or "total_cents" not in details:
        return ""
    what = "annulation" if details.get("kind") == "CANCELATION" else "remboursement"
    return f"{euros(details['total_cents'])} TTC rendus au client ({what})"


@register.filter
def actor_label(actor: str) -> str:
    return ACTOR_LABELS.get(actor, actor)


@register.filter
def get_label(labels: dict, key: str) -> str:
    try:
        return labels.get(OrderState(key), key)
    except ValueError:
        return labels.get(key, key)
