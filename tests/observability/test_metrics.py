"""/metrics: requests and latency per route pattern, outbox and timer gauges read from the database, worker
sweep times, the optional bearer token, and the sum over processes in multiprocess mode."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client

from comptoir.notifications.models import OutboxEvent, OutboxState
from comptoir.observability import metrics
from comptoir.orders.states import OrderState
from comptoir.timers import worker
from tests.factories import make_order
from tests.observability.conftest import samples, value

pytestmark = pytest.mark.django_db

ACCEPT = "api/orders/<order_id>/accept"


def test_requests_are_counted_per_route_pattern_never_per_raw_path(client: Client, key: str, scrape) -> None:
    # given the counters as they stand
    before = scrape()

    # when a seller calls OR21 on two unknown orders and OR11 once
    for order_id in ("NOPE-111", "NOPE-222"):
        client.put(f"/api/orders/{order_id}/accept", "{}", content_type="application/json",
                   HTTP_AUTHORIZATION=key)
    client.get("/api/orders", HTTP_AUTHORIZATION=key)
    response = client.get("/metrics")

    # then both OR21 calls count under the one route pattern, with their status; no order id appears
    after = samples(response.content.decode())
    text = response.content.decode()
    assert "NOPE-111" not in text and "NOPE-222" not in text
    statuses = {labels for (name, labels) in after if name == "comptoir_http_requests_total"
                and ("route", ACCEPT) in labels}
    assert len(statuses) >= 1
    calls = sum(after[("comptoir_http_requests_total", labels)] - before.get(("comptoir_http_requests_total", labels), 0)
                for labels in statuses)
    assert calls == 2
    assert value(after, "comptoir_http_requests_total", method="GET", route="api/orders", status="200") - value(
        before, "comptoir_http_requests_total", method="GET", route="api/orders", status="200") == 1
    latency_count = "comptoir_http_request_duration_seconds_count"
    assert value(after, latency_count, method="PUT", route=ACCEPT) - value(
        before, latency_count, method="PUT", route=ACCEPT) == 2


def test_an_unknown_path_counts_as_unmatched_and_an_invented_method_as_other(client: Client, scrape) -> None:
    before = scrape()

    client.get("/no/such/page/123")
    client.generic("BREW", "/healthz")

    after = scrape()
    assert value(after, "comptoir_http_requests_total", method="GET", route="unmatched", status="404") - value(
        before, "comptoir_http_requests_total", method="GET", route="unmatched", status="404") == 1
    assert value(after, "comptoir_http_requests_total", method="OTHER", route="healthz", status="405") - value(
        before, "comptoir_http_requests_total", method="OTHER", route="healthz", status="405") == 1


def test_outbox_and_timer_gauges_are_read_from_the_database(test_clock, scrape) -> None:
    # given an order waiting for acceptance (its outbox event pending, its deadline timers pending), one dead
    # letter, and ten days gone by: the acceptance deadline (5 business days) and its warning are overdue
    order = make_order(OrderState.WAITING_ACCEPTANCE)
    OutboxEvent.objects.create(event_type="OrderRefused", order_id=order.order_id, audience="CUSTOMER",
                               state=OutboxState.DEAD, next_attempt_at=test_clock.now(),
                               created_date=test_clock.now())
    test_clock.advance(timedelta(days=10))
    pending = OutboxEvent.objects.filter(state=OutboxState.PENDING).count()
    assert pending >= 1

    # when Prometheus scrapes
    found = scrape()

    # then the gauges say so
    assert value(found, "comptoir_database_up") == 1
    assert value(found, "comptoir_outbox_pending_events") == pending
    assert value(found, "comptoir_outbox_dead_events") == 1
    ten_days = timedelta(days=10).total_seconds()
    assert ten_days <= value(found, "comptoir_outbox_oldest_pending_age_seconds") < ten_days + 120
    assert ten_days <= value(found, "comptoir_outbox_lag_seconds") < ten_days + 120
    assert value(found, "comptoir_timers_overdue", kind="AUTO_REFUSE") == 1
    assert value(found, "comptoir_timers_overdue", kind="ACCEPTANCE_WARNING") == 1
    assert ("comptoir_timers_overdue", frozenset({("kind", "DEBIT")})) in found  # zeros are shown too
    assert value(found, "comptoir_timers_overdue", kind="DEBIT") == 0


def test_a_timer_due_less_than_a_minute_ago_is_not_yet_overdue(test_clock, scrape) -> None:
    make_order(OrderState.WAITING_ACCEPTANCE)
    from comptoir.timers.models import Timer

    due = Timer.objects.get(kind="AUTO_REFUSE", state="PENDING").due_at
    test_clock.set(due + timedelta(seconds=30))

    found = scrape()

    assert value(found, "comptoir_timers_overdue", kind="AUTO_REFUSE") == 0


def test_metrics_require_the_bearer_token_when_one_is_set(client: Client, comptoir_settings) -> None:
    comptoir_settings(METRICS_TOKEN="s3cret-token")

    missing = client.get("/metrics")
    wrong = client.get("/metrics", HTTP_AUTHORIZATION="Bearer nope")
    right = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-token")

    assert missing.status_code == 401 and missing["WWW-Authenticate"].startswith("Bearer")
    assert wrong.status_code == 401
    assert right.status_code == 200
    assert b"comptoir_http_requests_total" in right.content


def test_the_worker_loop_records_each_sweeps_duration_and_rows(monkeypatch: pytest.MonkeyPatch, comptoir_settings,
                                                               scrape) -> None:
    # given a worker whose only sweep handles 3 rows, then asks the loop to stop
    stop = threading.Event()

    def sweep_for_the_test(worker_id: str) -> int:
        stop.set()
        return 3

    monkeypatch.setattr(worker, "SWEEPS", [sweep_for_the_test])
    comptoir_settings(WORKER_IDLE_SECONDS=0.01)
    before = scrape()

    # when the worker loop runs
    worker.run_forever(stop, "w-metrics")

    # then one sweep time is recorded, with its rows
    after = scrape()
    name = "sweep_for_the_test"
    assert value(after, "comptoir_worker_sweep_duration_seconds_count", sweep=name) - value(
        before, "comptoir_worker_sweep_duration_seconds_count", sweep=name) == 1
    assert value(after, "comptoir_worker_sweep_items_total", sweep=name) - value(
        before, "comptoir_worker_sweep_items_total", sweep=name) == 3


def test_a_failing_sweep_is_counted_and_still_raises(scrape) -> None:
    def broken_sweep(worker_id: str) -> int:
        raise RuntimeError("database restarting")

    before = scrape()
    with pytest.raises(RuntimeError):
        metrics.timed_sweep(broken_sweep, "w")

    after = scrape()
    assert value(after, "comptoir_worker_sweep_errors_total", sweep="broken_sweep") - value(
        before, "comptoir_worker_sweep_errors_total", sweep="broken_sweep") == 1


_RECORD = """
from comptoir.observability import metrics
metrics.observe_request("PUT", "api/orders/<order_id>/accept", 204, 0.004)
metrics.timed_sweep(lambda worker_id: 2, "w")
"""
_EXPOSE = """
import sys
from comptoir.observability import metrics
assert metrics.MULTIPROCESS
sys.stdout.write(metrics.exposition().decode())
"""


def test_several_processes_add_up_in_multiprocess_mode(tmp_path: Path) -> None:
    # given two server processes that each answered one OR21 call, sharing PROMETHEUS_MULTIPROC_DIR
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for _ in range(2):
        subprocess.run([sys.executable, "-c", _RECORD], env=env, check=True, timeout=60)

    # when a third process (the one Prometheus reached) renders the metrics
    out = subprocess.run([sys.executable, "-c", _EXPOSE], env=env, check=True, timeout=60, capture_output=True,
                         text=True).stdout

    # then it shows the sum of both
    found = samples(out)
    assert value(found, "comptoir_http_requests_total", method="PUT", route=ACCEPT, status="204") == 2
    assert value(found, "comptoir_http_request_duration_seconds_count", method="PUT", route=ACCEPT) == 2
    assert value(found, "comptoir_worker_sweep_items_total", sweep="<lambda>") == 4
