"""Offer changes made by the order lifecycle (auto-refusal deactivates the offers concerned)."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction

from comptoir.catalog.models import Offer
from comptoir.core import clock


def deactivate_offers(*, offer_ids: list[int], reason: str) -> int:
    if not offer_ids:
        return 0
    return Offer.objects.filter(id__in=offer_ids, active=True).update(
        active=False, deactivation_reason=reason, last_updated_date=clock.now()
    )


# Offers per UPDATE (each brings two parameters to the CASE and one to the IN list).
_OFFERS_PER_STATEMENT = 100


def deactivate_offers_of_orders(*, offers: Sequence[tuple[list[int], str]]) -> int:
    """`deactivate_offers` for many orders (offer ids, reason): an offer named by several orders keeps the first
    one's reason, as successive calls would leave it. Plain SQL, one UPDATE per 100 offers (the reason by a CASE
    on the id): an auto-refusal sweep deactivates the offers of every order it refuses, each with its own reason,
    and the ORM's compilation of that CASE cost more than running it."""
    reasons: dict[int, str] = {}
    for offer_ids, reason in offers:
        for offer_id in offer_ids:
            reasons.setdefault(offer_id, reason)
    if not reasons:
        return 0
    connection = transaction.get_connection()
    q = connection.ops.quote_name
    column = {f.name: q(f.column) for f in Offer._meta.concrete_fields}
    now = Offer._meta.get_field("last_updated_date").get_db_prep_save(clock.now(), connection)
    ids = sorted(reasons)
    total = 0
    with connection.cursor() as cursor:
        for start in range(0, len(ids), _OFFERS_PER_STATEMENT):
            chunk = ids[start:start + _OFFERS_PER_STATEMENT]
            cursor.execute(
                f"UPDATE {q(Offer._meta.db_table)} SET {column['active']} = %s, {column['deactivation_reason']} = "
                f"CASE {column['id']}{' WHEN %s THEN %s' * len(chunk)} END, {column['last_updated_date']} = %s "
                f"WHERE {column['id']} IN ({', '.join(['%s'] * len(chunk))}) AND {column['active']} = %s",
                [False, *(v for offer_id in chunk for v in (offer_id, reasons[offer_id])), now, *chunk, True])
            total += cursor.rowcount
    return total
