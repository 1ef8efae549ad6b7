"""The payment provider interface. Plug a real provider in by naming a class in COMPTOIR_PAYMENT_ADAPTER.

Contract (every method):
- takes an `idempotency_key`; a call repeated with the same key must return the first call's result and
  move no money again (network retries, a worker killed between the call and our commit);
- returns a `ProviderResult`, never raises for a business refusal (a declined card is `succeeded=False`);
  raising means "unknown outcome, retry later with the same key".
Amounts are integer cents.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class ProviderResult:
    succeeded: bool
    reference: str = ""  # the provider's id of the authorization or operation
    failure_reason: str = ""
    expires_at: datetime | None = None  # authorizations only


class PaymentProvider(Protocol):
    name: str

    def authorize(
        self, *, order_id: str, amount_cents: int, currency: str, idempotency_key: str
    ) -> ProviderResult:
        """Hold `amount_cents` on the customer's card (done at checkout; at import when not provided)."""

    def reauthorize(
        self, *, order_id: str, authorization_ref: str, amount_cents: int, currency: str, idempotency_key: str
    ) -> ProviderResult:
        """Renew an authorization that is about to expire; returns the new reference and expiry."""

    def capture(
        self, *, order_id: str, authorization_ref: str, amount_cents: int, currency: str, idempotency_key: str
    ) -> ProviderResult:
        """Final capture of `amount_cents` (≤ authorized); the provider releases the remainder."""

    def release(
        self, *, order_id: str, authorization_ref: str, amount_cents: int, currency: str, idempotency_key: str
    ) -> ProviderResult:
        """Cancel the hold (order refused or cancelled before capture)."""

    def refund(
        self, *, order_id: str, capture_ref: str, amount_cents: int, currency: str, idempotency_key: str
    ) -> ProviderResult:
        """Pay `amount_cents` of a capture back to the customer's card; `reference` is the refund's number."""


def load_provider() -> PaymentProvider:
    from django.conf import settings
    from django.utils.module_loading import import_string

    return import_string(settings.COMPTOIR["PAYMENT_ADAPTER"])()
