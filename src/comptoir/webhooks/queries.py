"""Reads of webhooks for the surfaces, and the per-process map the capture consults on the hot path: which shops
have an enabled endpoint, and for which event types."""

from __future__ import annotations

import threading
import time
from collections import defaultdict

from django.conf import settings
from django.db.models import Count, Prefetch, Q, QuerySet

from comptoir.webhooks import rules
from comptoir.webhooks.errors import DeliveryNotFound, EndpointNotFound
from comptoir.webhooks.models import Attempt, Delivery, DeliveryState, Endpoint

_lock = threading.Lock()
_cached: tuple[float, dict[int, frozenset[str]]] | None = None


def subscriptions() -> dict[int, frozenset[str]]:
    """shop id → the event types its enabled endpoints want together (shops without one are absent).

    The capture (services.record_events, record_state_changes) runs on every lifecycle transition: it reads this
    map from memory, so a shop without endpoints costs no query. The map is re-read (one query over the small
    endpoint table, partial index) at most every WEBHOOK_SUBSCRIPTIONS_CACHE_SECONDS per process; a change made
    in this process is seen at once (services forget the map), one made in another process within that delay.
    """
    global _cached
    cached = _cached
    started = time.monotonic()  # before the read: a change committed during it is re-read next time
    if cached is not None and started - cached[0] < settings.COMPTOIR["WEBHOOK_SUBSCRIPTIONS_CACHE_SECONDS"]:
        return cached[1]
    types_by_shop: dict[int, list[list[str]]] = defaultdict(list)
    for shop_id, event_types in Endpoint.objects.filter(enabled=True).values_list("shop_id", "event_types"):
        types_by_shop[shop_id].append(event_types or [])
    value = {shop_id: rules.wanted_types(types) for shop_id, types in types_by_shop.items()}
    with _lock:
        _cached = (started, value)
    return value


def reset_subscriptions(value: dict[int, frozenset[str]] | None = None) -> None:
    """Forget the map (after a change of endpoints), or set it (tests: the map of an empty database)."""
    global _cached
    with _lock:
        _cached = None if value is None else (time.monotonic(), value)


def endpoints(shop_id: int) -> list[Endpoint]:
    """A shop's endpoints with their pending and dead deliveries counted (one query)."""
    return list(Endpoint.objects.filter(shop_id=shop_id).annotate(
        pending_count=Count("deliveries", filter=Q(deliveries__state=DeliveryState.PENDING)),
        dead_count=Count("deliveries", filter=Q(deliveries__state=DeliveryState.DEAD)),
    ).order_by("id"))


def endpoint(*, shop_id: int, endpoint_id: int) -> Endpoint:
    """One endpoint of the shop; another shop's is not found, like an unknown one."""
    found = Endpoint.objects.filter(shop_id=shop_id, id=endpoint_id).first()
    if found is None:
        raise EndpointNotFound(f"Point de terminaison webhook {endpoint_id} introuvable.")
    return found


def delivery_log(endpoint_id: int) -> QuerySet[Delivery]:
    """The endpoint's deliveries, latest first, each with its event and its attempts (latest first): a page of
    it costs three queries (count, page, attempts)."""
    return Delivery.objects.filter(endpoint_id=endpoint_id).select_related("event").prefetch_related(
        Prefetch("attempt_log", queryset=Attempt.objects.order_by("-started_at", "-id"))).order_by("-id")


def deliveries(*, endpoint_id: int, offset: int = 0, limit: int = 20) -> tuple[list[Delivery], int]:
    total = Delivery.objects.filter(endpoint_id=endpoint_id).count()
    return list(delivery_log(endpoint_id)[offset:offset + limit]), total


def delivery(*, shop_id: int, delivery_id: int, endpoint_id: int | None = None) -> Delivery:
    """One delivery of the shop (of that endpoint, when given); any other is not found."""
    query = Delivery.objects.filter(id=delivery_id, endpoint__shop_id=shop_id)
    if endpoint_id is not None:
        query = query.filter(endpoint_id=endpoint_id)
    found = query.select_related("event").first()
    if found is None:
        raise DeliveryNotFound(f"Envoi de webhook {delivery_id} introuvable.")
    return found


def all_endpoints() -> list[Endpoint]:
    """Every shop's endpoints for the operator, with their delivery counts (one query)."""
    return list(Endpoint.objects.select_related("shop").annotate(
        pending_count=Count("deliveries", filter=Q(deliveries__state=DeliveryState.PENDING)),
        dead_count=Count("deliveries", filter=Q(deliveries__state=DeliveryState.DEAD)),
        delivered_count=Count("deliveries", filter=Q(deliveries__state=DeliveryState.DELIVERED)),
    ).order_by("shop_id", "id"))


def recent_deliveries(*, state: str = "", limit: int = 50) -> list[Delivery]:
    """The latest deliveries of every shop for the operator (optionally of one state)."""
    query = Delivery.objects.select_related("event", "endpoint")
    if state:
        query = query.filter(state=state)
    return list(query.order_by("-id")[:limit])
