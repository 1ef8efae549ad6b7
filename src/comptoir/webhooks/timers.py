"""The worker's webhook sweep: fan captured events out to their endpoints, then send the due deliveries."""

from __future__ import annotations

from collections import defaultdict

from django.conf import settings
from django.db import connection, transaction

from comptoir.core import clock
from comptoir.webhooks import dispatch, rules
from comptoir.webhooks.models import Delivery, Endpoint, WebhookEvent


def fan_out(limit: int) -> int:
    """One delivery per (event, enabled endpoint of its shop that wants its type and existed when it occurred),
    created and the events marked in one transaction: a killed worker leaves the batch to the next one."""
    with transaction.atomic():
        query = WebhookEvent.objects.filter(fanned_out=False).order_by("id")
        if connection.vendor == "postgresql":
            query = query.select_for_update(skip_locked=True)
        events = list(query.only("id", "shop_id", "event_type", "created_date")[:limit])
        if not events:
            return 0
        by_shop: dict[int, list[Endpoint]] = defaultdict(list)
        for endpoint in Endpoint.objects.filter(shop_id__in={e.shop_id for e in events}, enabled=True).only(
                "id", "shop_id", "event_types", "created_date"):
            by_shop[endpoint.shop_id].append(endpoint)
        now = clock.now()
        Delivery.objects.bulk_create([
            Delivery(event_id=event.id, endpoint_id=endpoint.id, next_attempt_at=now, created_date=now)
            for event in events for endpoint in by_shop.get(event.shop_id, ())
            if rules.selected(event.event_type, endpoint.event_types) and endpoint.created_date <= event.created_date
        ], ignore_conflicts=True)
        WebhookEvent.objects.filter(id__in=[e.id for e in events]).update(fanned_out=True)
    return len(events)


def sweep_webhooks(worker_id: str, *, limit: int | None = None) -> int:
    """One round (a SWEEPS entry): returns how many events were fanned out plus how many deliveries were tried."""
    batch = limit or settings.COMPTOIR["WEBHOOK_BATCH_SIZE"]
    fanned = fan_out(settings.COMPTOIR["WORKER_BATCH_SIZE"])
    ids = dispatch.claim(worker_id, batch)
    if ids:
        dispatch.send(ids, worker_id)
    return fanned + len(ids)
