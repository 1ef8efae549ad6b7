"""Reads of the relay's log for the operator: the list (filtered by verdict and shop), one mail, the counts
per verdict, and the number of blocked mails on a shop's record."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from comptoir.relay.models import RelayMessage
from comptoir.relay.rules import Verdict

LIST_FIELDS = ("id", "order__order_id", "shop__id", "shop__name", "direction", "mail_from", "subject",
               "received_date", "size", "verdict", "rule_id", "rule_label", "excerpt", "forwarded_date")


def relay_messages(*, verdict: str | None = None, shop_id: int | None = None) -> QuerySet[RelayMessage]:
    """Newest first, without the stored message (the list shows none of it)."""
    query = RelayMessage.objects.select_related("order", "shop").only(*LIST_FIELDS)
    if verdict:
        query = query.filter(verdict=verdict)
    if shop_id is not None:
        query = query.filter(shop_id=shop_id)
    return query.order_by("-received_date", "-id")


def relay_message(message_id: int) -> RelayMessage | None:
    return RelayMessage.objects.select_related("order", "shop").filter(id=message_id).first()


def verdict_counts(*, shop_id: int | None = None) -> dict[str, int]:
    """Mails per verdict, zeros included."""
    counts = dict.fromkeys([v.value for v in Verdict], 0)
    query = RelayMessage.objects.all() if shop_id is None else RelayMessage.objects.filter(shop_id=shop_id)
    for verdict, total in query.values("verdict").annotate(total=Count("id")).values_list("verdict", "total"):
        counts[verdict] = total
    return counts


def blocked_count(shop_id: int) -> int:
    """Blocked mails on a shop's record (the seller guide: « Tout abus sera immédiatement sanctionné »)."""
    return RelayMessage.objects.filter(shop_id=shop_id, verdict=Verdict.BLOCKED).count()
