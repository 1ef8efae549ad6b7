"""The one source of `now()`: real UTC time plus the sandbox offset (stored in the database by `timers`).

This module imports no Django; the offset source is plugged in at start-up.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

_OffsetSource = Callable[[], timedelta]
_lock = threading.Lock()
_source: _OffsetSource | None = None
_cached: tuple[float, timedelta] | None = None
# Another process may move the sandbox clock; we re-read the offset at most this often.
CACHE_SECONDS = 0.5


def set_offset_source(source: _OffsetSource | None) -> None:
    global _source, _cached
    with _lock:
        _source = source
        _cached = None


def forget_offset() -> None:
    """Drop the cached offset (after this process moved the clock)."""
    global _cached
    with _lock:
        _cached = None


def offset() -> timedelta:
    global _cached
    if _source is None:
        return timedelta(0)
    cached = _cached
    monotonic = time.monotonic()
    if cached is not None and monotonic - cached[0] < CACHE_SECONDS:
        return cached[1]
    value = _source()
    _cached = (monotonic, value)
    return value


def real_now() -> datetime:
    return datetime.now(UTC)


def now() -> datetime:
    return real_now() + offset()
