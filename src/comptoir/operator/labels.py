"""French labels of the outbox's event types and audiences, for the operator's notification pages."""

from __future__ import annotations

EVENT_LABELS: dict[str, str] = {
    "OrderAwaitingAcceptance": "Commande à accepter",
    "CustomerDocumentsRequested": "Justificatifs demandés au client",
    "OrderAccepted": "Commande acceptée",
    "LinesRefused": "Articles refusés",
    "OrderRefused": "Commande refusée",
    "AcceptanceDeadlineSoon": "Échéance d'acceptation proche",
    "OrderAutoRefused": "Refus automatique (délai dépassé)",
    "ShopSuspended": "Boutique suspendue",
    "OrderCanceled": "Commande annulée",
    "OrderDebited": "Client débité",
    "ShippingLate": "Expédition en retard",
    "OrderShipped": "Commande expédiée",
    "ShipmentShipped": "Colis expédié (envoi partiel)",
    "ShipmentTrackingUpdated": "Suivi de colis mis à jour",
    "ShipmentTrackingMissing": "Colis sans suivi (24 h ouvrées)",
    "LinesCanceled": "Articles annulés (client remboursé)",
    "OrderRefunded": "Remboursement",
    "RefundPaymentFailed": "Remboursement refusé par le prestataire de paiement",
    "RelayMailBlocked": "Mail bloqué par le relais",
    "InvoiceMissing": "Facture manquante après expédition",
    "CustomerMessageReceived": "Message du client au vendeur",
    "SellerMessageReceived": "Réponse du vendeur au client",
    "OrderReceived": "Commande reçue",
    "OrderClosed": "Commande clôturée",
    "IncidentOpened": "Incident ouvert",
    "IncidentResolutionSignaled": "Incident signalé résolu par le vendeur",
    "IncidentReopened": "Incident rouvert",
    "IncidentClosed": "Incident clos",
    "MediationStarted": "Médiation engagée",
    "FormalNoticeSent": "Mise en demeure",
    "SolutionImposeFailed": "Solution de médiation non imposée",
    "CustomerReplyOverdue": "Relance : message client sans réponse (48 h ouvrées)",
    "CustomerClaimEscalated": "Message client sans réponse (72 h ouvrées) : médiation",
    "ScorecardWarning": "Indicateur vendeur sous le seuil d'alerte",
    "ScorecardSuspension": "Boutique suspendue (indicateur vendeur)",
}

AUDIENCE_LABELS: dict[str, str] = {"SELLER": "Vendeur", "CUSTOMER": "Client", "OPERATOR": "Opérateur"}


def event_label(event_type: str) -> str:
    return EVENT_LABELS.get(event_type, event_type)
