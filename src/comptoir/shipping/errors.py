"""Shipping errors with stable codes (Mirakl's naming style: SHIPMENT_*, CARRIER_*, ORDER_LINE_*)."""

from __future__ import annotations

from comptoir.core.errors import ComptoirError, Conflict, NotFound, ValidationError


class ShipmentNotFound(NotFound):
    """Expédition introuvable."""

    code = "SHIPMENT_NOT_FOUND"


class ShipmentInvalidState(ComptoirError):
    """L'expédition n'est pas dans un état qui permet cette action."""

    code = "SHIPMENT_INVALID_STATE"


class ShipmentLineNotFound(ComptoirError):
    """Ligne de commande inconnue ou non expédiable."""

    code = "ORDER_LINE_NOT_FOUND"


class ShipmentLineInvalid(ValidationError):
    """Ligne d'expédition invalide."""

    code = "SHIPMENT_LINE_INVALID"


class QuantityExceeded(ComptoirError):
    """La quantité expédiée dépasse la quantité acceptée restant à expédier."""

    code = "SHIPMENT_QUANTITY_EXCEEDED"


class ShipDateInFuture(ComptoirError):
    """Une date d'expédition ne peut pas être dans le futur."""

    code = "SHIPMENT_DATE_IN_FUTURE"


class ShipDateBeforeDebit(ComptoirError):
    """Une date d'expédition ne peut pas précéder le paiement de la commande."""

    code = "SHIPMENT_DATE_BEFORE_DEBIT"


class TrackingInvalid(ValidationError):
    """Informations de suivi incomplètes ou invalides."""

    code = "SHIPMENT_TRACKING_INVALID"


class CarrierUnknown(ComptoirError):
    """Transporteur inconnu ou désactivé."""

    code = "CARRIER_NOT_FOUND"


class CarrierNotFound(NotFound):
    """Transporteur introuvable."""

    code = "CARRIER_NOT_FOUND"


class CarrierAlreadyExists(Conflict):
    """Un transporteur porte déjà ce code."""

    code = "CARRIER_ALREADY_EXISTS"


class TrackingUrlTemplateInvalid(ValidationError):
    """Le modèle de lien de suivi est invalide."""

    code = "CARRIER_TRACKING_URL_INVALID"
