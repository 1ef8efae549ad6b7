"""The payment provider interface. Plug a real provider in by naming a class in COMPTOIR_PAYMENT_ADAPTER.

Contract (every method):
- takes an `idempotency_key`; a call repeated with the same key must return the first call's result and
  move no money again (network retries, a worker killed between the call and our commit);
- returns a `ProviderResult`, never raises for a business refusal (a declined card is `succeeded=False`);
  raising means "unknown outcome, retry later with the same key".
Amounts are integer cents.

Optional batch method: a provider may also define `release_many(releases: Sequence[Release]) ->
list[ProviderResult]` (one result per release, in order, same contract as `release` for each). Comptoir calls it
through `release_many(provider, releases)` below, which falls back to one `release` call per hold for providers
that do not define it, so existing adapters keep working unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
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


@dataclass(frozen=True, slots=True)
class Release:
    """The arguments of one `release` call."""

    order_id: str
    authorization_ref: str
    amount_cents: int
    currency: str
    idempotency_key: str


def release_many(provider: PaymentProvider, releases: Sequence[Release]) -> list[ProviderResult]:
    """Release many holds: the provider's own `release_many` when it has one, else one `release` per hold."""
    batch = getattr(provider, "release_many", None)
    if batch is not None:
        results = list(batch(releases))
        if len(results) != len(releases):
            raise RuntimeError(f"{provider.name}.release_many answered {len(results)} results for "
                               f"{len(releases)} releases")
        return results
    return [provider.release(order_id=r.order_id, authorization_ref=r.authorization_ref,
                             amount_cents=r.amount_cents, currency=r.currency, idempotency_key=r.idempotency_key)
            for r in releases]


def load_provider() -> PaymentProvider:
    from django.conf import settings
    from django.utils.module_loading import import_string

    return import_string(settings.COMPTOIR["PAYMENT_ADAPTER"])()
