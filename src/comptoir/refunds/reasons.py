"""The default reason lists (RE01), in French; the operator may change them. Codes follow a stock Mirakl
platform where one is known (REFUND 14–19, CANCELATION 34). Pure data, shared by the migration that seeds
them and `services.ensure_default_reasons()` (a flushed test or demo database)."""

from __future__ import annotations

from typing import Final

DEFAULT_REASONS: Final[list[tuple[str, str, str, bool]]] = [
    # (type, code, label, is_shop_right)
    ("REFUND", "15", "Produit en rupture de stock", True),
    ("REFUND", "16", "Annulation à la demande du client avant expédition", True),
    ("REFUND", "17", "Produit retourné par le client", True),
    ("REFUND", "18", "Produit non reçu par le client", True),
    ("REFUND", "19", "Accord avec le client", True),
    ("REFUND", "20", "Produit endommagé ou défectueux", True),
    ("REFUND", "21", "Produit non conforme à la description", True),
    ("REFUND", "22", "Geste commercial", True),
    ("REFUND", "23", "Frais de port trop perçus", True),
    ("REFUND", "14", "Absence de réponse de la boutique", False),
    ("REFUND", "OPERATOR_MEDIATION", "Solution imposée par l'opérateur (médiation)", False),
    ("CANCELATION", "34", "Annulation à la demande du client", True),
    ("CANCELATION", "35", "Produit en rupture de stock", True),
    ("CANCELATION", "36", "Erreur de prix sur l'offre", True),
    ("CANCELATION", "37", "Livraison impossible à l'adresse indiquée", True),
    ("CANCELATION", "SYSTEM_LATE_SHIPMENT_CANCELATION", "Annulation pour retard d'expédition", False),
    ("CANCELATION", "OPERATOR_FRAUD", "Annulation par l'opérateur (suspicion de fraude)", False),
    # Incidents: the customer's or the operator's claim on a line (INCIDENT_OPEN), and how it ended (INCIDENT_CLOSE:
    # the seller's OR64 reasons, then the operator's own).
    ("INCIDENT_OPEN", "1", "Article non reçu", False),
    ("INCIDENT_OPEN", "2", "Article endommagé", False),
    ("INCIDENT_OPEN", "3", "Article non conforme à la commande", False),
    ("INCIDENT_OPEN", "4", "Article défectueux", False),
    ("INCIDENT_OPEN", "5", "Article incomplet ou pièce manquante", False),
    ("INCIDENT_OPEN", "6", "Retard de livraison", False),
    ("INCIDENT_OPEN", "NO_SHOP_ANSWER", "Absence de réponse de la boutique sous 72 h ouvrées", False),
    ("INCIDENT_CLOSE", "10", "Problème résolu avec le client", True),
    ("INCIDENT_CLOSE", "11", "Article livré au client", True),
    ("INCIDENT_CLOSE", "12", "Article remplacé", True),
    ("INCIDENT_CLOSE", "13", "Article réparé", True),
    ("INCIDENT_CLOSE", "14", "Réclamation infondée", True),
    ("INCIDENT_CLOSE", "REFUNDED", "Ligne remboursée", False),
    ("INCIDENT_CLOSE", "OPERATOR_MEDIATION", "Solution imposée par l'opérateur (médiation)", False),
]
