"""Send webhooks: claim due deliveries with a lease, POST the signed JSON (stdlib urllib, short timeout, redirects
never followed), log every attempt, retry with backoff, give up (DEAD) after WEBHOOK_MAX_ATTEMPTS.

Delivery is at least once: a worker killed after the POST and before recording it sends again once the lease
expires. Receivers drop duplicates by `X-Comptoir-Event-Id` (README, « Webhooks »)."""

from __future__ import annotations

import http.client
import json
import logging
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q

from comptoir import __version__
from comptoir.core import clock
from comptoir.webhooks import rules
from comptoir.webhooks.models import Attempt, Delivery, DeliveryState

log = logging.getLogger("comptoir.webhooks")
EXCERPT = 500
USER_AGENT = f"Comptoir-Webhooks/{__version__}"


@dataclass(frozen=True, slots=True)
class Outcome:
    status: int | None  # None: no HTTP answer
    duration_ms: int
    error: str = ""
    excerpt: str = ""
    reached: bool = True  # False: connection refused, timeout, name or TLS error: the endpoint's others wait


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> None:
        return None  # a 3xx is the answer: the endpoint's URL must be the final one (never another host)


_opener = urllib.request.build_opener(_NoRedirect())


def _text(raw: bytes) -> str:
    return raw[:EXCERPT].decode("utf-8", errors="replace")


def post(url: str, body: bytes, headers: dict[str, str], *, timeout: float) -> Outcome:
    """One POST; never raises for what the network or the receiver does."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        with _opener.open(request, timeout=timeout) as response:
            excerpt = _text(response.read(EXCERPT))
            return Outcome(response.status, elapsed(), excerpt=excerpt)
    except urllib.error.HTTPError as exc:  # an answer other than 2xx
        try:
            excerpt = _text(exc.read(EXCERPT))
        except (OSError, http.client.HTTPException):
            excerpt = ""
        finally:
            exc.close()
        error = f"HTTP {exc.code}"
        if 300 <= exc.code < 400:
            error += f" : redirection vers {exc.headers.get('Location', '?')} non suivie"
        return Outcome(exc.code, elapsed(), error=error[:EXCERPT], excerpt=excerpt)
    except urllib.error.URLError as exc:
        return Outcome(None, elapsed(), error=f"{type(exc.reason).__name__}: {exc.reason}"[:EXCERPT], reached=False)
    except (OSError, http.client.HTTPException, ValueError) as exc:  # timeout while reading, connection reset
        return Outcome(None, elapsed(), error=f"{type(exc).__name__}: {exc}"[:EXCERPT], reached=False)


def request_of(delivery: Delivery, now: datetime) -> tuple[bytes, dict[str, str]]:
    """The body and headers of an attempt: the body is the same at every attempt; the timestamp is real time."""
    event = delivery.event
    body = json.dumps(rules.envelope(event_id=event.event_id, event_type=event.event_type, shop_id=event.shop_id,
                                     occurred_at=event.occurred_at, data=event.data),
                      ensure_ascii=False, separators=(",", ":")).encode()
    timestamp = int(now.timestamp())
    return body, {
        "Content-Type": "application/json", "User-Agent": USER_AGENT,
        "X-Comptoir-Event-Id": event.event_id, "X-Comptoir-Event": event.event_type,
        "X-Comptoir-Timestamp": str(timestamp),
        "X-Comptoir-Signature": rules.signature_header(delivery.endpoint.secret, timestamp, body),
    }


def claim(worker_id: str, limit: int) -> list[int]:
    """Due deliveries to enabled endpoints, leased to this worker (SKIP LOCKED on PostgreSQL: workers share)."""
    now = clock.now()
    lease = now + timedelta(seconds=settings.COMPTOIR["WORKER_LEASE_SECONDS"])
    with transaction.atomic():
        query = (
            Delivery.objects.filter(state=DeliveryState.PENDING, next_attempt_at__lte=now, endpoint__enabled=True)
            .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
            .order_by("next_attempt_at", "id")
        )
        if connection.vendor == "postgresql":
            query = query.select_for_update(skip_locked=True, of=("self",))
        ids = list(query.values_list("id", flat=True)[:limit])
        if ids:
            Delivery.objects.filter(id__in=ids).update(claimed_by=worker_id, claimed_until=lease,
                                                       attempts=F("attempts") + 1)
    return ids


def _record(delivery: Delivery, outcome: Outcome, started_at: datetime, worker_id: str) -> datetime:
    """Log the attempt and move the delivery: DELIVERED on a 2xx, else retried later or DEAD. Returns when the
    next attempt is due. A delivery no longer ours (lease expired, « Renvoyer » meanwhile) only gets the log row."""
    now = clock.now()
    delivered = rules.is_success(outcome.status)
    dead = not delivered and delivery.attempts >= settings.COMPTOIR["WEBHOOK_MAX_ATTEMPTS"]
    next_at = now if delivered or dead else now + rules.retry_delay(delivery.attempts)
    with transaction.atomic():
        Attempt.objects.create(delivery_id=delivery.id, started_at=started_at, duration_ms=outcome.duration_ms,
                               status_code=outcome.status, error=outcome.error[:EXCERPT],
                               response_excerpt=outcome.excerpt[:EXCERPT])
        Delivery.objects.filter(id=delivery.id, claimed_by=worker_id, state=DeliveryState.PENDING).update(
            state=DeliveryState.DELIVERED if delivered else DeliveryState.DEAD if dead else DeliveryState.PENDING,
            next_attempt_at=next_at, claimed_until=None, last_status_code=outcome.status,
            last_error=outcome.error[:EXCERPT], delivered_date=now if delivered else None,
        )
    if not delivered:
        log.warning("webhook delivery %s (%s, endpoint %s) failed, attempt %s%s: %s", delivery.id,
                    delivery.event.event_type, delivery.endpoint_id, delivery.attempts, " (dead)" if dead else "",
                    outcome.error)
    return next_at


def send(delivery_ids: list[int], worker_id: str) -> int:
    """POST the claimed deliveries, one after the other. Once an endpoint is unreachable (no HTTP answer), its other
    deliveries of the batch wait as long as the failed one, without counting an attempt: a dead receiver costs a
    batch one timeout, not one per event. Returns how many were delivered."""
    deliveries = list(Delivery.objects.filter(id__in=delivery_ids, claimed_by=worker_id, state=DeliveryState.PENDING)
                      .select_related("event", "endpoint").order_by("id"))
    timeout = settings.COMPTOIR["WEBHOOK_TIMEOUT_SECONDS"]
    waiting: dict[int, datetime] = {}  # unreachable endpoint → when its deliveries are due again
    delivered = 0
    for delivery in deliveries:
        if delivery.endpoint_id in waiting:
            Delivery.objects.filter(id=delivery.id, claimed_by=worker_id).update(
                claimed_until=None, attempts=F("attempts") - 1, next_attempt_at=waiting[delivery.endpoint_id])
            continue
        started_at = clock.now()
        body, headers = request_of(delivery, clock.real_now())
        outcome = post(delivery.endpoint.url, body, headers, timeout=timeout)
        next_at = _record(delivery, outcome, started_at, worker_id)
        if rules.is_success(outcome.status):
            delivered += 1
        elif not outcome.reached:
            waiting[delivery.endpoint_id] = next_at
    return delivered
