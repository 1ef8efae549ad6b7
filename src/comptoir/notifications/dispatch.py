"""Deliver the outbox: claim due events with a lease, send, mark sent; retry with backoff; dead-letter.

Delivery is at least once: a process killed after sending and before marking sends again on restart.
Each mail carries the event id in its Message-ID and X-Comptoir-Event headers, so receivers can dedupe.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import connection, transaction
from django.db.models import F, Q

from comptoir.core import clock
from comptoir.notifications.models import OutboxEvent, OutboxState
from comptoir.notifications.rendering import render

log = logging.getLogger("comptoir.outbox")


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, ... capped at one hour."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


def claim(worker_id: str, limit: int) -> list[int]:
    now = clock.now()
    lease = now + timedelta(seconds=settings.COMPTOIR["WORKER_LEASE_SECONDS"])
    with transaction.atomic():
        query = (
            OutboxEvent.objects.filter(state=OutboxState.PENDING, next_attempt_at__lte=now)
            .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
            .order_by("next_attempt_at", "id")
        )
        if connection.vendor == "postgresql":
            query = query.select_for_update(skip_locked=True)
        ids = list(query.values_list("id", flat=True)[:limit])
        if ids:
            OutboxEvent.objects.filter(id__in=ids).update(claimed_by=worker_id, claimed_until=lease,
                                                          attempts=F("attempts") + 1)
    return ids


def deliver(event_id: int, worker_id: str) -> bool:
    event = OutboxEvent.objects.filter(id=event_id, claimed_by=worker_id, state=OutboxState.PENDING).first()
    if event is None:
        return False
    try:
        mail = render(event)
        if mail is not None:
            message = EmailMessage(
                subject=mail.subject, body=mail.body, to=mail.to,
                headers={"Message-ID": f"<outbox-{event.id}@{settings.COMPTOIR['RELAY_DOMAIN']}>",
                         "X-Comptoir-Event": f"{event.id}:{event.event_type}"},
            )
            get_connection(fail_silently=False).send_messages([message])
    except Exception as exc:  # SMTP down, template error: retry later, then dead-letter
        dead = event.attempts >= settings.COMPTOIR["OUTBOX_MAX_ATTEMPTS"]
        OutboxEvent.objects.filter(id=event.id, claimed_by=worker_id).update(
            state=OutboxState.DEAD if dead else OutboxState.PENDING,
            next_attempt_at=clock.now() + backoff(event.attempts), claimed_until=None,
            last_error=f"{type(exc).__name__}: {exc}"[:2000],
        )
        log.warning("outbox %s (%s) failed, attempt %s: %s", event.id, event.event_type, event.attempts, exc)
        return False
    OutboxEvent.objects.filter(id=event.id, claimed_by=worker_id).update(
        state=OutboxState.SENT, sent_date=clock.now(), claimed_until=None, last_error="",
        recipients=", ".join(mail.to) if mail else "", subject=mail.subject if mail else "",
    )
    return True


def sweep_outbox(worker_id: str, *, limit: int | None = None) -> int:
    ids = claim(worker_id, limit or settings.COMPTOIR["WORKER_BATCH_SIZE"])
    for event_id in ids:
        deliver(event_id, worker_id)
    return len(ids)
