"""Order errors, with Mirakl's error names as stable codes (OR21's list, and the same style elsewhere)."""

from __future__ import annotations

from comptoir.core.errors import ComptoirError, Conflict, NotFound, ValidationError


class OrderNotFound(NotFound):
    """Commande introuvable."""

    code = "ORDER_NOT_FOUND"


class OrderInvalidState(ComptoirError):
    """La commande n'est pas dans un état qui permet cette action."""

    code = "ORDER_INVALID_STATE"


class OrderLineNotFound(ComptoirError):
    """Ligne de commande inconnue."""

    code = "ORDER_LINE_NOT_FOUND"


class OrderLineDuplicateId(ComptoirError):
    """La même ligne apparaît deux fois."""

    code = "ORDER_LINE_DUPLICATE_ID"


class OrderLineNullElement(ComptoirError):
    """Un élément de la liste des lignes est vide."""

    code = "ORDER_LINE_NULL_ELEMENT"


class AcceptanceDecisionMissing(ComptoirError):
    """Chaque ligne en attente d'acceptation doit recevoir une décision."""

    code = "ORDER_LINE_ACCEPTANCE_DECISION_MISSING"


class OrderConflict(Conflict):
    """La commande a été modifiée en même temps ; relisez-la et recommencez."""

    code = "ORDER_CONFLICT"


class OrderAlreadyImported(Conflict):
    """Cette commande client a déjà été importée avec un contenu différent."""

    code = "ORDER_ALREADY_IMPORTED"


class InvalidOrderImport(ValidationError):
    """La commande importée est invalide."""

    code = "VALIDATION_ERROR"


class GuardRefused(ComptoirError):
    """Action refusée par une règle métier."""

    code = "ORDER_ACTION_REFUSED"
