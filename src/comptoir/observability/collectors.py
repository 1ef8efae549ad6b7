"""Gauges read from the database at scrape time: outbox lag and size, dead letters, overdue timers. Three
indexed queries per scrape; an unreachable database shows as comptoir_database_up 0 instead of an error page."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta

from django.db import DatabaseError
from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from comptoir.core import clock
from comptoir.notifications import queries as outbox_queries
from comptoir.orders.states import FlagTimerKind, TimerKind
from comptoir.timers import queries as timer_queries

log = logging.getLogger("comptoir.metrics")

# A timer is overdue once it has waited this long past its due date: the worker sweeps every second or so.
OVERDUE_GRACE = timedelta(minutes=1)
TIMER_KINDS = tuple(k.value for k in (*TimerKind, *FlagTimerKind))


class DatabaseCollector(Collector):
    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = clock.now()  # the worker's clock (sandbox offset included): what it calls due is what is shown
        try:
            outbox = outbox_queries.outbox_health()
            overdue = timer_queries.overdue_counts(due_before=now - OVERDUE_GRACE)
        except DatabaseError:
            log.warning("metrics: the database could not be read", exc_info=True)
            yield GaugeMetricFamily("comptoir_database_up", "Whether the scrape could read the database.", value=0)
            return
        yield GaugeMetricFamily("comptoir_database_up", "Whether the scrape could read the database.", value=1)
        yield GaugeMetricFamily("comptoir_outbox_pending_events", "Outbox events not yet delivered.",
                                value=outbox["count"])
        yield GaugeMetricFamily("comptoir_outbox_dead_events", "Outbox events given up on (dead letters).",
                                value=outbox["dead"])
        oldest, due = outbox["oldest_created"], outbox["earliest_due"]
        yield GaugeMetricFamily("comptoir_outbox_oldest_pending_age_seconds",
                                "Age of the oldest undelivered outbox event (0 when none).",
                                value=max((now - oldest).total_seconds(), 0.0) if oldest else 0.0)
        yield GaugeMetricFamily("comptoir_outbox_lag_seconds",
                                "How long the most overdue outbox delivery has been due (0 when none is due).",
                                value=max((now - due).total_seconds(), 0.0) if due else 0.0)
        timers = GaugeMetricFamily("comptoir_timers_overdue",
                                   f"PENDING timers due more than {int(OVERDUE_GRACE.total_seconds())} s ago, "
                                   "per kind.", labels=["kind"])
        for kind in sorted({*TIMER_KINDS, *overdue}):
            timers.add_metric([kind], overdue.get(kind, 0))
        yield timers


# Kept apart from the recorded metrics: in multiprocess mode those are read from files, these from the database.
DATABASE_REGISTRY = CollectorRegistry(auto_describe=False)
DATABASE_REGISTRY.register(DatabaseCollector())
