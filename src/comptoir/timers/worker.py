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
from comptoir.notifications import services as notification_services
from comptoir.orders import timers as order_timers
from comptoir.orders.states import FlagTimerKind, TimerKind
from comptoir.refunds import services as refund_services
from comptoir.shipping import timers as shipping_timers
from comptoir.timers.models import Timer, TimerState

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


def sweep_timers(worker_id: str, *, limit: int | None = None) -> int:
    """One batch; returns how many timers were claimed."""
    rows = claim_due(worker_id, limit or settings.COMPTOIR["WORKER_BATCH_SIZE"])
    for timer_pk, kind, order_pk in rows:
        run_timer(timer_pk, kind, order_pk, worker_id)
    return len(rows)


# Every sweep returns how much it did; later issues add theirs here (webhooks, ...).
SWEEPS: list[Callable[[str], int]] = [sweep_timers, notification_services.sweep_outbox]


def run_until_idle(worker_id: str | None = None, *, max_rounds: int = 1000) -> int:
    """Run every sweep until none has work left (tests, `comptoir worker --once`)."""
    worker_id = worker_id or new_worker_id()
    total = 0
    for _ in range(max_rounds):
        done = sum(sweep(worker_id) for sweep in SWEEPS)
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
            done = sum(sweep(worker_id) for sweep in SWEEPS)
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
