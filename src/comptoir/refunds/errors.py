"""Refund and cancelation errors, with stable codes (the API answers 400 with them, the back office in French)."""

from __future__ import annotations

from comptoir.core.errors import ComptoirError, ValidationError


class RefundInvalid(ValidationError):
    """La demande de remboursement est incomplète ou incohérente."""

    code = "REFUND_INVALID"


class RefundReasonInvalid(ValidationError):
    """Motif inconnu ou réservé à l'opérateur."""

    code = "REFUND_REASON_INVALID"


class RefundAmountExceeded(ComptoirError):
    """On ne rembourse jamais plus que ce qui a été payé."""

    code = "REFUND_AMOUNT_EXCEEDED"


class RefundQuantityExceeded(ComptoirError):
    """Quantité supérieure à ce qui reste sur la ligne."""

    code = "REFUND_QUANTITY_EXCEEDED"


class RefundLineInvalidState(ComptoirError):
    """La ligne ne peut pas être remboursée ou annulée dans son état actuel."""

    code = "REFUND_LINE_INVALID_STATE"


class RefundLineNotShipped(ComptoirError):
    """Une ligne non expédiée s'annule plutôt qu'elle ne se rembourse intégralement."""

    code = "REFUND_LINE_NOT_SHIPPED"


class BalanceInsufficient(ComptoirError):
    """Solde insuffisant pour ce remboursement."""

    code = "REFUND_BALANCE_INSUFFICIENT"


class CancelationQuantityExceeded(ComptoirError):
    """Quantité supérieure aux unités qui ne sont pas encore dans un colis."""

    code = "CANCELATION_QUANTITY_EXCEEDED"
