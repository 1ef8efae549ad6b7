"""Order events (past tense) and who hears of each; the outbox turns them into notifications."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final


@dataclass(frozen=True, slots=True)
class OrderEvent:
    name: str  # e.g. "OrderAccepted"
    order_id: str
    shop_id: int
    occurred_at: datetime
    data: dict[str, Any] = field(default_factory=dict)


# Which audiences are told of each event (DESIGN §6): the operator notifies customers of every status change.
AUDIENCES: Final[dict[str, tuple[str, ...]]] = {
    "OrderAwaitingAcceptance": ("SELLER",),
    "CustomerDocumentsRequested": ("CUSTOMER",),
    "OrderAccepted": ("CUSTOMER",),
    "LinesRefused": ("CUSTOMER",),
    "OrderRefused": ("CUSTOMER",),
    "AcceptanceDeadlineSoon": ("SELLER",),
    "OrderAutoRefused": ("SELLER", "CUSTOMER"),
    "ShopSuspended": ("SELLER", "OPERATOR"),
    "OrderCanceled": ("CUSTOMER", "SELLER"),
    "OrderDebited": ("SELLER",),
    "ShippingLate": ("SELLER",),
    "OrderShipped": ("CUSTOMER",),
    "ShipmentShipped": ("CUSTOMER",),  # one parcel of a split order left (the last one sends OrderShipped)
    "ShipmentTrackingUpdated": ("CUSTOMER",),
    "ShipmentTrackingMissing": ("SELLER",),  # a parcel still has no tracking 24 business hours after shipping
    "LinesCanceled": ("CUSTOMER",),  # some lines or units canceled before shipping, the customer paid back
    "OrderRefunded": ("CUSTOMER",),
    "RefundPaymentFailed": ("OPERATOR",),  # the payment provider refused to pay a refund back: retried, then a person acts
    # A seller's mail through the relay address broke the guide's rules: kept, not forwarded (relay app).
    "RelayMailBlocked": ("OPERATOR", "SELLER"),
    "InvoiceMissing": ("SELLER",),  # still no invoice N business days after shipment (documents sweep)
    # Messages (messaging app): the seller hears of a customer's message, the customer of the seller's answer.
    "CustomerMessageReceived": ("SELLER",),
    "SellerMessageReceived": ("CUSTOMER",),
    # Incidents and mediation (incidents app): the seller hears of each new incident and each mediation step; the
    # customer of its incident's opening and settlement; the operator of what waits for it.
    "IncidentOpened": ("SELLER", "CUSTOMER"),
    "IncidentResolutionSignaled": ("OPERATOR",),  # the seller says it is resolved: the operator confirms
    "IncidentReopened": ("SELLER",),
    "IncidentClosed": ("SELLER", "CUSTOMER"),
    "MediationStarted": ("SELLER",),
    "FormalNoticeSent": ("SELLER",),
    "SolutionImposeFailed": ("OPERATOR",),
    "CustomerReplyOverdue": ("SELLER",),  # 48 business hours without an answer to the customer
    "CustomerClaimEscalated": ("OPERATOR", "SELLER"),  # 72 business hours, no line to open an incident on
    "OrderReceived": ("SELLER",),
    "OrderClosed": (),
    # Seller scorecards (scorecards app): a measure past the operator's threshold, shop-level (no order).
    "ScorecardWarning": ("SELLER", "OPERATOR"),
    "ScorecardSuspension": ("SELLER", "OPERATOR"),
}
