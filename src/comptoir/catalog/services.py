"""Offer changes made by the order lifecycle (auto-refusal deactivates the offers concerned)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import Case, CharField, Value, When

from comptoir.catalog.models import Offer
from comptoir.core import clock


def deactivate_offers(*, offer_ids: list[int], reason: str) -> int:
    if not offer_ids:
        return 0
    return Offer.objects.filter(id__in=offer_ids, active=True).update(
        active=False, deactivation_reason=reason, last_updated_date=clock.now()
    )


def deactivate_offers_of_orders(*, offers: Sequence[tuple[list[int], str]]) -> int:
    """`deactivate_offers` for many orders (offer ids, reason) in one UPDATE; an offer named by several orders
    keeps the first one's reason, as successive calls would leave it."""
    reasons: dict[int, str] = {}
    for offer_ids, reason in offers:
        for offer_id in offer_ids:
            reasons.setdefault(offer_id, reason)
    if not reasons:
        return 0
    by_reason: dict[str, list[int]] = {}
    for offer_id, reason in reasons.items():
        by_reason.setdefault(reason, []).append(offer_id)
    if len(by_reason) == 1:
        reason_value: Any = next(iter(by_reason))
    else:
        reason_value = Case(*(When(id__in=ids, then=Value(reason)) for reason, ids in by_reason.items()),
                            output_field=CharField())
    return Offer.objects.filter(id__in=sorted(reasons), active=True).update(
        active=False, deactivation_reason=reason_value, last_updated_date=clock.now()
    )
