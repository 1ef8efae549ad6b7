"""Deliver the outbox: claim due events with a lease, send, mark sent; retry with backoff; dead-letter.

Delivery is at least once: a process killed after sending and before marking sends again on restart.
Each mail carries the event id in its Message-ID and X-Comptoir-Event headers, so receivers can dedupe.
A batch of claimed events is read, rendered and sent together (see `deliver_many`).
"""

from __future__ import annotations

import base64
import functools
import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.message import sanitize_address
from django.db import connection, transaction
from django.db.models import F, Q

from comptoir.core import clock
from comptoir.notifications.models import OutboxEvent, OutboxState
from comptoir.notifications.rendering import Loaded, Mail, load, render
from comptoir.observability.context import request_id_var

log = logging.getLogger("comptoir.outbox")


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, ... capped at one hour."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


def encode_header(value: str) -> str:
    """A header value as ASCII: itself when it is, else RFC 2047 base64 encoded words of at most 39 UTF-8 bytes
    each (64 characters: "Subject: " and a word fit a 76-character line), whole characters only, separated by
    spaces (which decoders drop between words). What `email.header.Header` would produce in substance, without
    its per-character line-length search (≈0.5 ms a subject, most of a mail's building time)."""
    if value.isascii() or "\n" in value or "\r" in value:
        return value  # as it is: Django still refuses a header with a line break (header injection)
    words: list[str] = []
    chunk = bytearray()
    for char in value:
        encoded = char.encode()
        if len(chunk) + len(encoded) > 39:
            words.append(base64.b64encode(chunk).decode("ascii"))
            chunk = bytearray()
        chunk += encoded
    if chunk:
        words.append(base64.b64encode(chunk).decode("ascii"))
    return " ".join(f"=?utf-8?b?{word}?=" for word in words)


@functools.lru_cache(maxsize=32)
def _sender(from_email: str) -> str:
    return sanitize_address(from_email, settings.DEFAULT_CHARSET)  # the same for every mail: encoded once


class OutboxMail(EmailMessage):
    """An EmailMessage whose Subject and From are handed to the MIME layer already encoded (ASCII), so building
    each mail skips Python's slow header folding; the message's `subject` stays the plain text."""

    def message(self):  # noqa: ANN201 - Django's SafeMIMEText
        subject, from_email = self.subject, self.from_email
        self.subject, self.from_email = encode_header(subject), _sender(from_email)
        try:
            return super().message()
        finally:
            self.subject, self.from_email = subject, from_email


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
    return deliver_many([event_id], worker_id) == 1


def _fail(event: OutboxEvent, worker_id: str, exc: Exception) -> None:
    dead = event.attempts >= settings.COMPTOIR["OUTBOX_MAX_ATTEMPTS"]
    OutboxEvent.objects.filter(id=event.id, claimed_by=worker_id).update(
        state=OutboxState.DEAD if dead else OutboxState.PENDING,
        next_attempt_at=clock.now() + backoff(event.attempts), claimed_until=None,
        last_error=f"{type(exc).__name__}: {exc}"[:2000],
    )
    log.warning("outbox %s (%s) failed, attempt %s: %s", event.id, event.event_type, event.attempts, exc)


def deliver_many(event_ids: list[int], worker_id: str) -> int:
    """Send the claimed events: what their mails need is read for all of them at once, the mails go through one
    mail connection, and the sent ones are marked by one statement at the end (delivery stays at least once).
    A failing event is retried later on its own; the others go on. Returns how many were sent."""
    events = list(OutboxEvent.objects.filter(id__in=event_ids, claimed_by=worker_id, state=OutboxState.PENDING)
                  .order_by("id"))
    if not events:
        return 0
    loaded: Loaded | None = None
    try:
        loaded = load(events)
    except Exception:  # noqa: BLE001 - each event then reads its own data (and fails on its own)
        log.warning("outbox: loading a batch of %s events failed", len(events), exc_info=True)
    mailer = get_connection(fail_silently=False)
    sent: list[tuple[OutboxEvent, Mail | None]] = []
    previous = request_id_var.get()
    try:
        for event in events:
            # Whatever is logged about this event carries the id of the request that wrote it.
            request_id_var.set(event.request_id or None)
            try:
                mail = render(event, loaded)
                if mail is not None:
                    mailer.open()  # once for the batch: an SMTP backend keeps the session for the next mails
                    mailer.send_messages([OutboxMail(
                        subject=mail.subject, body=mail.body, to=mail.to,
                        headers={"Message-ID": f"<outbox-{event.id}@{settings.COMPTOIR['RELAY_DOMAIN']}>",
                                 "X-Comptoir-Event": f"{event.id}:{event.event_type}"},
                    )])
            except Exception as exc:  # SMTP down, template error: retry later, then dead-letter
                _fail(event, worker_id, exc)
                _close(mailer)  # a broken session is not reused
                continue
            sent.append((event, mail))
            log.info("outbox %s (%s) delivered", event.id, event.event_type,
                     extra={"event_id": event.id, "event_type": event.event_type})
    finally:
        request_id_var.set(previous)
        _close(mailer)
        _mark_sent(sent, worker_id)
    return len(sent)


def _close(mailer: Any) -> None:
    try:
        mailer.close()
    except Exception:  # noqa: BLE001 - closing a dead SMTP session
        log.debug("outbox: closing the mail connection failed", exc_info=True)


def _mark_sent(sent: list[tuple[OutboxEvent, Mail | None]], worker_id: str) -> None:
    if not sent:
        return
    fields = {f.name: f for f in OutboxEvent._meta.concrete_fields}
    q = connection.ops.quote_name
    now = fields["sent_date"].get_db_prep_save(clock.now(), connection)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {q(OutboxEvent._meta.db_table)} SET {q('state')} = %s, {q('sent_date')} = %s, "
            f"{q('claimed_until')} = NULL, {q('last_error')} = '', {q('recipients')} = %s, {q('subject')} = %s "
            f"WHERE {q('id')} = %s AND {q('claimed_by')} = %s",
            [[OutboxState.SENT.value, now, ", ".join(mail.to) if mail else "",
              fields["subject"].get_db_prep_save(mail.subject if mail else "", connection), event.id, worker_id]
             for event, mail in sent],
        )


def sweep_outbox(worker_id: str, *, limit: int | None = None) -> int:
    ids = claim(worker_id, limit or settings.COMPTOIR["WORKER_BATCH_SIZE"])
    if ids:
        deliver_many(ids, worker_id)
    return len(ids)
