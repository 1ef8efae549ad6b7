"""The embedded simulated payment provider: a stand-in for a card acquirer outside Comptoir.

It keeps its own books (SimulatedCharge) keyed by idempotency key, so replays never move money twice, and
obeys SimulatedDirective rows (sandbox) to refuse chosen orders' captures or re-authorizations.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import timedelta

from django.conf import settings

from comptoir.core import clock
from comptoir.payments.adapter import ProviderResult, Release
from comptoir.payments.models import SimulatedCharge, SimulatedDirective


class SimulatedProvider:
    name = "simulated"

    def _once(self, *, key: str, kind: str, reference: str, amount_cents: int, refused: str) -> ProviderResult:
        # INSERT … ON CONFLICT DO NOTHING then read: a replay (or a concurrent twin) answers the first result.
        SimulatedCharge.objects.bulk_create([SimulatedCharge(
            idempotency_key=key, kind=kind, reference=reference, amount_cents=amount_cents,
            succeeded=not refused, failure_reason=refused, created_date=clock.now(),
        )], ignore_conflicts=True)
        existing = SimulatedCharge.objects.get(idempotency_key=key)
        expires = existing.created_date + timedelta(days=settings.COMPTOIR["AUTHORIZATION_VALIDITY_DAYS"])
        return ProviderResult(
            succeeded=existing.succeeded,
            reference=existing.reference,
            failure_reason=existing.failure_reason,
            expires_at=expires if kind in ("AUTHORIZE", "REAUTHORIZE") else None,
        )

    @staticmethod
    def _directive(order_id: str) -> SimulatedDirective | None:
        return SimulatedDirective.objects.filter(order_id=order_id).first()

    def authorize(self, *, order_id: str, amount_cents: int, currency: str, idempotency_key: str) -> ProviderResult:
        reference = "sim_auth_" + secrets.token_hex(8)
        return self._once(key=idempotency_key, kind="AUTHORIZE", reference=reference, amount_cents=amount_cents,
                          refused="")

    def reauthorize(self, *, order_id: str, authorization_ref: str, amount_cents: int, currency: str,
                    idempotency_key: str) -> ProviderResult:
        directive = self._directive(order_id)
        refused = "Autorisation refusée par la banque (simulation)" if directive and directive.refuse_reauthorization else ""
        reference = "sim_auth_" + secrets.token_hex(8)
        return self._once(key=idempotency_key, kind="REAUTHORIZE", reference=reference, amount_cents=amount_cents,
                          refused=refused)

    def capture(self, *, order_id: str, authorization_ref: str, amount_cents: int, currency: str,
                idempotency_key: str) -> ProviderResult:
        directive = self._directive(order_id)
        refused = "Débit refusé par la banque (simulation)" if directive and directive.refuse_capture else ""
        return self._once(key=idempotency_key, kind="CAPTURE", reference=authorization_ref,
                          amount_cents=amount_cents, refused=refused)

    def release(self, *, order_id: str, authorization_ref: str, amount_cents: int, currency: str,
                idempotency_key: str) -> ProviderResult:
        return self._once(key=idempotency_key, kind="RELEASE", reference=authorization_ref,
                          amount_cents=amount_cents, refused="")

    def release_many(self, releases: Sequence[Release]) -> list[ProviderResult]:
        """`release` for many holds: one INSERT … ON CONFLICT DO NOTHING and one read for all of them (a replayed
        key answers its first result, as `release` does)."""
        if not releases:
            return []
        now = clock.now()
        SimulatedCharge.objects.bulk_create([SimulatedCharge(
            idempotency_key=r.idempotency_key, kind="RELEASE", reference=r.authorization_ref,
            amount_cents=r.amount_cents, succeeded=True, failure_reason="", created_date=now,
        ) for r in releases], ignore_conflicts=True)
        keys = [r.idempotency_key for r in releases]
        found = {key: (ok, ref, why) for key, ok, ref, why in SimulatedCharge.objects.filter(idempotency_key__in=keys)
                 .values_list("idempotency_key", "succeeded", "reference", "failure_reason")}
        return [ProviderResult(succeeded=found[key][0], reference=found[key][1], failure_reason=found[key][2])
                for key in keys]

    def refund(self, *, order_id: str, capture_ref: str, amount_cents: int, currency: str,
               idempotency_key: str) -> ProviderResult:
        directive = self._directive(order_id)
        refused = "Remboursement refusé par la banque (simulation)" if directive and directive.refuse_refund else ""
        reference = "sim_refund_" + secrets.token_hex(8)
        return self._once(key=idempotency_key, kind="REFUND", reference=reference, amount_cents=amount_cents,
                          refused=refused)
