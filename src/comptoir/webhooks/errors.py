"""Webhook errors with stable codes (the API answers them in Mirakl's error body, the back office in French)."""

from __future__ import annotations

from comptoir.core.errors import ComptoirError, NotFound, ValidationError


class EndpointNotFound(NotFound):
    """Point de terminaison webhook introuvable."""

    code = "WEBHOOK_NOT_FOUND"


class DeliveryNotFound(NotFound):
    """Envoi de webhook introuvable."""

    code = "WEBHOOK_DELIVERY_NOT_FOUND"


class InvalidUrl(ValidationError):
    """L'adresse du webhook est invalide."""

    code = "WEBHOOK_URL_INVALID"


class UnknownEventType(ValidationError):
    """Type d'événement de webhook inconnu."""

    code = "WEBHOOK_EVENT_TYPE_UNKNOWN"


class TooManyEndpoints(ComptoirError):
    """Nombre maximal de points de terminaison webhook atteint pour cette boutique."""

    code = "WEBHOOK_LIMIT_REACHED"
