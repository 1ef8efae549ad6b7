"""The worker: claims due timers in batches (a lease per row), fires each through its domain handler,
and loops. Several workers share the work; a worker killed mid-batch loses and duplicates nothing, because
a timer is marked done in the same transaction as its effect and an expired lease frees the row."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import F, Q

from comptoir.core import clock
from comptoir.documents import orphans as document_orphans
from comptoir.documents import timers as document_timers
from comptoir.incidents import timers as incident_timers
from comptoir.notifications import services as notification_services
from comptoir.observability.metrics import timed_sweep
from comptoir.orders import timers as order_timers
from comptoir.orders.services import redaction
from comptoir.orders.states import FlagTimerKind, TimerKind
from comptoir.refunds import services as refund_services
from comptoir.scorecards import timers as scorecard_timers
from comptoir.shipping import timers as shipping_timers
from comptoir.timers.models import Timer, TimerState
from comptoir.webhooks import timers as webhook_timers

log = logging.getLogger("comptoir.worker")


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def claim_due(worker_id: str, limit: int) -> list[tuple[int, str, int]]:
    now = clock.now()
    lease = now + timedelta(seconds=settings.COMPTOIR["WORKER_LEASE_SECONDS"])
    with transaction.atomic():
        query = (
            Timer.objects.filter(state=TimerState.PENDING, due_at__lte=now)
            .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
            .order_by("due_at")
        )
        if connection.vendor == "postgresql":
            query = query.select_for_update(skip_locked=True)
        rows = list(query.values_list("id", "kind", "order_id")[:limit])
        if rows:
            Timer.objects.filter(id__in=[row[0] for row in rows]).update(
                claimed_by=worker_id, claimed_until=lease, attempts=F("attempts") + 1
            )
    return rows


def _finisher(timer_pk: int, worker_id: str) -> Callable[[], bool]:
    def still_pending() -> bool:
        """Inside the handler's transaction: take the row if it is still ours and pending, and mark it done."""
        return bool(
            Timer.objects.filter(id=timer_pk, state=TimerState.PENDING, claimed_by=worker_id).update(
                state=TimerState.DONE, done_date=clock.now()
            )
        )

    return still_pending


# Timers that flag without changing the order's state, each handled by its own domain.
FLAG_HANDLERS: dict[str, Callable[[int, Callable[[], bool]], bool]] = {
    FlagTimerKind.TRACKING_MISSING: shipping_timers.handle_tracking_missing,
    FlagTimerKind.REFUND_PAYMENT: refund_services.handle_refund_payment,
    FlagTimerKind.CUSTOMER_REPLY: incident_timers.handle_customer_reply,
    FlagTimerKind.FORMAL_NOTICE: incident_timers.handle_formal_notice,
}


def run_timer(timer_pk: int, kind: str, order_pk: int, worker_id: str) -> bool:
    try:
        if kind in FLAG_HANDLERS:
            return FLAG_HANDLERS[kind](order_pk, _finisher(timer_pk, worker_id))
        return order_timers.handle(TimerKind(kind), order_pk, _finisher(timer_pk, worker_id))
    except Exception as exc:  # a handler bug or an unreachable provider must not stop the worker
        log.exception("timer %s (%s, order %s) failed", timer_pk, kind, order_pk)
        attempts = Timer.objects.filter(id=timer_pk).values_list("attempts", flat=True).first() or 1
        backoff = timedelta(seconds=min(2**attempts, 3600))
        Timer.objects.filter(id=timer_pk, claimed_by=worker_id, state=TimerState.PENDING).update(
            claimed_until=clock.now() + backoff, last_error=f"{type(exc).__name__}: {exc}"[:2000]
        )
        return False


def _taker(worker_id: str) -> Callable[[list[int]], set[int]]:
    def take(timer_pks: list[int]) -> set[int]:
        """`still_pending` for a batch: inside the handler's transaction, mark done those of the rows still ours
        and pending (one UPDATE ... RETURNING) and say which."""
        if not timer_pks:
            return set()
        q = connection.ops.quote_name
        done = Timer._meta.get_field("done_date").get_db_prep_save(clock.now(), connection)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {q(Timer._meta.db_table)} SET {q('state')} = %s, {q('done_date')} = %s "
                f"WHERE {q('id')} IN ({', '.join(['%s'] * len(timer_pks))}) AND {q('state')} = %s "
                f"AND {q('claimed_by')} = %s RETURNING {q('id')}",
                [TimerState.DONE.value, done, *timer_pks, TimerState.PENDING.value, worker_id],
            )
            return {row[0] for row in cursor.fetchall()}

    return take


def run_batch(kind: str, timers: list[tuple[int, int]], worker_id: str) -> None:
    """Timers of one FIRING kind (timer pk, order pk) in one transaction; if the batch fails, one by one, so
    that one bad order delays nobody else and gets its own error and backoff."""
    try:
        order_timers.handle_batch(TimerKind(kind), timers, _taker(worker_id))
    except Exception:  # noqa: BLE001 - rolled back as a whole: each timer gets its own run below
        log.warning("batch of %s %s timers failed; running them one by one", len(timers), kind, exc_info=True)
        for timer_pk, order_pk in timers:
            run_timer(timer_pk, kind, order_pk, worker_id)


def sweep_timers(worker_id: str, *, limit: int | None = None) -> int:
    """One batch; returns how many timers were claimed. Consecutive timers (by due date) of a kind that only
    fires a trigger run as one batch (`orders.timers.handle_batch`); the others one by one, in due order."""
    rows = claim_due(worker_id, limit or settings.COMPTOIR["WORKER_BATCH_SIZE"])
    run: list[tuple[int, int]] = []
    run_kind = ""
    for timer_pk, kind, order_pk in rows:
        if run and kind != run_kind:
            run_batch(run_kind, run, worker_id)
            run = []
        if kind in order_timers.FIRING:
            run.append((timer_pk, order_pk))
            run_kind = kind
        else:
            run_timer(timer_pk, kind, order_pk, worker_id)
    if run:
        run_batch(run_kind, run, worker_id)
    return len(rows)


# Every sweep returns how much it did; later issues add theirs here (webhooks, ...).
SWEEPS: list[Callable[[str], int]] = [sweep_timers, notification_services.sweep_outbox,
                                      document_timers.sweep_invoice_missing, webhook_timers.sweep_webhooks,
                                      scorecard_timers.sweep_scorecards, redaction.sweep_redaction,
                                      document_orphans.sweep_orphans]


# The parts `comptoir worker --once --only PART` runs alone (bench/sweeps.py times a sweep apart from the delivery
# of the events it wrote).
PARTS: dict[str, list[Callable[[str], int]]] = {
    "timers": [sweep_timers],
    "outbox": [notification_services.sweep_outbox],
}


def run_until_idle(worker_id: str | None = None, *, max_rounds: int = 100_000, only: str | None = None) -> int:
    """Run every sweep (or those of the part `only` names) until none has work left (tests, `comptoir worker
    --once`). `max_rounds` only guards against a livelock: a sweep of 100,000 orders takes over 1,000 rounds
    (200 timers or events each)."""
    worker_id = worker_id or new_worker_id()
    sweeps = SWEEPS if only is None else PARTS[only]
    total = 0
    for _ in range(max_rounds):
        done = sum(sweep(worker_id) for sweep in sweeps)
        total += done
        if not done:
            break
    return total


def run_forever(stop: threading.Event, worker_id: str | None = None) -> None:
    worker_id = worker_id or new_worker_id()
    idle = settings.COMPTOIR["WORKER_IDLE_SECONDS"]
    log.info("worker %s started", worker_id)
    while not stop.is_set():
        close_old_connections()
        try:
            done = sum(timed_sweep(sweep, worker_id) for sweep in SWEEPS)  # each sweep's time: /metrics
        except Exception:  # database restarting: wait and retry
            log.exception("worker sweep failed; retrying")
            done = 0
            time.sleep(idle)
        if not done:
            stop.wait(idle)
    log.info("worker %s stopped", worker_id)


def start_in_thread() -> tuple[threading.Thread, threading.Event]:
    stop = threading.Event()
    thread = threading.Thread(target=run_forever, args=(stop,), name="comptoir-worker", daemon=True)
    thread.start()
    return thread, stop
