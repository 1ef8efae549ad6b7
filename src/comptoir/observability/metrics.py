"""Prometheus metrics recorded in-process: HTTP requests and latency per route, 429s per endpoint group, worker
sweep times. With PROMETHEUS_MULTIPROC_DIR set (several `comptoir serve` processes, workers beside them), every
process writes its values there and a scrape of any one of them adds them all up (prometheus_client's
multiprocess mode). The database gauges are read at scrape time (collectors.py)."""

from __future__ import annotations

import os
from collections.abc import Callable
from time import perf_counter

from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector, generate_latest
from prometheus_client import multiprocess as prometheus_multiprocess

MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))

# This process's metrics. In multiprocess mode the values live in PROMETHEUS_MULTIPROC_DIR and a scrape reads
# them back from there, so the registry only serves single-process mode.
REGISTRY = CollectorRegistry(auto_describe=True)
if not MULTIPROCESS:
    ProcessCollector(registry=REGISTRY)  # CPU, memory, open files: meaningless summed over processes

REQUESTS = Counter("comptoir_http_requests", "HTTP requests answered, by method, route pattern and status.",
                   ["method", "route", "status"], registry=REGISTRY)
LATENCY = Histogram("comptoir_http_request_duration_seconds",
                    "Time to produce a response (streamed bodies excluded), by method and route pattern.",
                    ["method", "route"], registry=REGISTRY,
                    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))
RATE_LIMITED = Counter("comptoir_api_rate_limited", "API calls answered 429, by endpoint group.", ["group"],
                       registry=REGISTRY)
SWEEP_SECONDS = Histogram("comptoir_worker_sweep_duration_seconds", "Duration of one worker sweep (one batch).",
                          ["sweep"], registry=REGISTRY,
                          buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0))
SWEEP_ITEMS = Counter("comptoir_worker_sweep_items", "Rows handled by worker sweeps (timers, outbox events...).",
                      ["sweep"], registry=REGISTRY)
SWEEP_ERRORS = Counter("comptoir_worker_sweep_errors", "Worker sweeps that raised.", ["sweep"], registry=REGISTRY)

# Methods outside this set share one label: a client inventing methods cannot grow the series.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# (method, route, status) → its counter and histogram children: labels() takes a lock and builds tuples on every
# call, a dict lookup does not (this runs on every request).
_children: dict[tuple[str, str, int], tuple[object, object]] = {}


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    key = (method, route, status)
    children = _children.get(key)
    if children is None:
        label = method if method in _METHODS else "OTHER"
        children = _children[key] = (REQUESTS.labels(label, route, str(status)), LATENCY.labels(label, route))
    children[0].inc()  # type: ignore[attr-defined]
    children[1].observe(seconds)  # type: ignore[attr-defined]


def timed_sweep(sweep: Callable[[str], int], worker_id: str) -> int:
    """Run one sweep of the worker loop and record its duration and how many rows it handled."""
    name = getattr(sweep, "__name__", "sweep")
    start = perf_counter()
    try:
        done = sweep(worker_id)
    except Exception:
        SWEEP_ERRORS.labels(name).inc()
        raise
    finally:
        SWEEP_SECONDS.labels(name).observe(perf_counter() - start)
    if done:
        SWEEP_ITEMS.labels(name).inc(done)
    return done


def exposition() -> bytes:
    """The recorded metrics in Prometheus' text format: this process's, or every process's in multiprocess mode."""
    if MULTIPROCESS:
        registry = CollectorRegistry()
        prometheus_multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)
