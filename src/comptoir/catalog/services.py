"""Offer changes made by the order lifecycle (auto-refusal deactivates the offers concerned)."""

from __future__ import annotations

from comptoir.catalog.models import Offer
from comptoir.core import clock


def deactivate_offers(*, offer_ids: list[int], reason: str) -> int:
    if not offer_ids:
        return 0
    return Offer.objects.filter(id__in=offer_ids, active=True).update(
        active=False, deactivation_reason=reason, last_updated_date=clock.now()
    )
