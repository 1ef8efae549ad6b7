"""Domain error codes (comptoir.core.errors) as French messages for the back offices."""

from __future__ import annotations

from comptoir.core.errors import ComptoirError

MESSAGES: dict[str, str] = {
    "ORDER_NOT_FOUND": "Commande introuvable.",
    "ORDER_INVALID_STATE": "Cette action n'est plus possible : la commande a changé d'état. Rechargez la page.",
    "ORDER_CONFLICT": "La commande a été modifiée en même temps par quelqu'un d'autre. Rechargez la page et recommencez.",
    "ORDER_LINE_NOT_FOUND": "Une des lignes n'est pas (ou plus) en attente d'acceptation.",
    "ORDER_LINE_DUPLICATE_ID": "Une ligne a reçu deux décisions.",
    "ORDER_LINE_NULL_ELEMENT": "Une décision est vide.",
    "ORDER_LINE_ACCEPTANCE_DECISION_MISSING": "Chaque article doit être accepté ou refusé.",
    "ORDER_ACTION_REFUSED": "Action refusée par une règle de la marketplace.",
    "fraud.already_waiting_documents": "Des justificatifs ont déjà été demandés au client.",
    "order.partially_shipped": "Une partie de la commande est déjà expédiée.",
    "SHOP_NOT_FOUND": "Boutique introuvable.",
    "VALIDATION_ERROR": "Données invalides.",
    "NOT_FOUND": "Élément introuvable.",
    "CONFLICT": "Modification concurrente : rechargez la page et recommencez.",
    "FORBIDDEN": "Vous n'avez pas le droit de faire cela.",
}


def french_message(error: ComptoirError) -> str:
    """The message for a code; validation errors already carry a French, field-specific text."""
    if error.code == "VALIDATION_ERROR" and error.message:
        return error.message
    return MESSAGES.get(error.code, error.message or "L'action n'a pas pu être effectuée.")
