"""Rate limits of the seller API per key: a fixed window per (key, endpoint group) counted in Django's cache
(one atomic `incr`, `add` when the window opens); over the limit, a 429 with `Retry-After` and Mirakl's error
body. The operator API (/api/operator/) is not limited. Runs first in settings.API_MIDDLEWARE, before the
Idempotency-Key middleware, so that a 429 is never kept as the answer to an idempotency key.

Defaults follow Mirakl's published call frequencies (README « Exploitation »): OR11 is to be polled at most
once a minute, the account (A01) and referentials about once a day; the per-order calls (OR21, OR23, OR24,
ST01...) are made "at each event" and only get a ceiling against runaway loops."""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Callable, Mapping
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse

from comptoir.api.auth import raw_key
from comptoir.api.errors import error_body
from comptoir.api.render import json_response
from comptoir.observability import metrics

log = logging.getLogger("comptoir.ratelimit")

# group → (calls, seconds) per key.
DEFAULT_LIMITS: dict[str, tuple[int, int]] = {
    # OR11: Mirakl recommends polling every 5 minutes, at most once a minute, plus a call per order page shown;
    # 60 a minute lets a connector page through 6,000 orders (100 per page) in its minute.
    "OR11": (60, 60),
    # A01: once a day per Mirakl; an hourly allowance covers restarts and retries.
    "A01": (60, 3600),
    # Referentials (reasons, carriers, document types): once a day per Mirakl.
    "referentials": (60, 3600),
    # Every other call of the seller API, made at each event: a ceiling of 20 a second on average.
    "default": (1200, 60),
}
ROUTE_GROUPS: dict[tuple[str, str], str] = {
    ("GET", "/api/orders"): "OR11",
    ("GET", "/api/account"): "A01",
    ("GET", "/api/reasons"): "referentials",
    ("GET", "/api/shipping/carriers"): "referentials",
    ("GET", "/api/documents"): "referentials",
}
PREFIX_GROUPS: tuple[tuple[str, str, str], ...] = (("GET", "/api/reasons/", "referentials"),)
NOT_LIMITED = ("/api/operator/", "/api/docs", "/api/openapi.json")

# The wall clock (every process counts in the same windows); tests move it.
wall_clock: Callable[[], float] = time.time


def parse_limits(raw: str | Mapping[str, Any] | None) -> dict[str, tuple[int, int] | None]:
    """DEFAULT_LIMITS with overrides: "OR11=120/60,default=3000/60,A01=off" (or a dict of the same values).
    `*` sets every group before the named ones apply; `off` lifts a group's limit."""
    limits: dict[str, tuple[int, int] | None] = dict(DEFAULT_LIMITS)
    if not raw:
        return limits
    items = raw.items() if isinstance(raw, Mapping) else (
        part.split("=", 1) for part in raw.split(",") if part.strip())
    overrides: dict[str, tuple[int, int] | None] = {}
    for name, value in items:
        name = str(name).strip()
        if name != "*" and name not in DEFAULT_LIMITS:
            raise ValueError(f"COMPTOIR_RATE_LIMITS: unknown group {name!r} ({', '.join(DEFAULT_LIMITS)}, *)")
        overrides[name] = _parse_limit(name, value)
    if "*" in overrides:
        limits = dict.fromkeys(limits, overrides.pop("*"))
    limits.update(overrides)
    return limits


def _parse_limit(name: str, value: Any) -> tuple[int, int] | None:
    if isinstance(value, tuple | list):
        calls, seconds = (int(v) for v in value)
    else:
        text = str(value).strip().lower()
        if text == "off":
            return None
        try:
            calls, seconds = (int(v) for v in text.split("/", 1))
        except ValueError:
            raise ValueError(f"COMPTOIR_RATE_LIMITS: {name}={value!r} is not calls/seconds (e.g. 60/60) or off"
                             ) from None
    if calls < 1 or seconds < 1:
        raise ValueError(f"COMPTOIR_RATE_LIMITS: {name}={value!r}: calls and seconds must be at least 1")
    return calls, seconds


def group_of(method: str, path: str) -> str:
    group = ROUTE_GROUPS.get((method, path.rstrip("/")))
    if group is not None:
        return group
    for prefix_method, prefix, prefix_group in PREFIX_GROUPS:
        if method == prefix_method and path.startswith(prefix):
            return prefix_group
    return "default"


def hit(cache: Any, group: str, caller: str, calls: int, seconds: int) -> int:
    """Count one call; 0 when it may go, else how many seconds until its window ends (Retry-After)."""
    now = wall_clock()
    window = int(now // seconds)
    # A digest, not the key: the cache (maybe shared, maybe a database table) never holds a usable key.
    key = f"rl:{group}:{hashlib.blake2b(caller.encode(), digest_size=12).hexdigest()}:{window}"
    try:
        count = cache.incr(key)  # the usual case: the window is open, one atomic operation
    except ValueError:
        if cache.add(key, 1, timeout=seconds + 1):
            count = 1
        else:
            count = cache.incr(key)  # another request opened the window meanwhile
    if count <= calls:
        return 0
    return max(1, math.ceil((window + 1) * seconds - now))


def too_many_requests(group: str, calls: int, seconds: int, retry_after: int) -> HttpResponse:
    response = json_response(error_body(
        429, f"Trop d'appels pour cette clé d'API ({calls} par {seconds} s sur ce groupe d'appels : {group}). "
        f"Réessayez dans {retry_after} s.", "TOO_MANY_REQUESTS"), 429)
    response["Retry-After"] = str(retry_after)
    return response


class RateLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self._raw: Any = object()
        self._limits: dict[str, tuple[int, int] | None] = {}

    def limits(self) -> dict[str, tuple[int, int] | None]:
        """The configured limits, parsed again only when the setting changed (tests change it)."""
        raw = settings.COMPTOIR.get("RATE_LIMITS")
        if raw is not self._raw:
            self._limits, self._raw = parse_limits(raw), raw
        return self._limits

    def __call__(self, request: HttpRequest) -> HttpResponse:
        conf = settings.COMPTOIR
        path = request.path
        header = request.META.get("HTTP_AUTHORIZATION")
        if not header or not conf.get("RATE_LIMITS_ENABLED", True) or path.startswith(NOT_LIMITED):
            return self.get_response(request)  # without a key the call is a 401 anyway
        group = group_of(request.method or "", path)
        limit = self.limits().get(group)
        if limit is None:
            return self.get_response(request)
        try:
            retry_after = hit(caches[conf.get("RATE_LIMIT_CACHE", "default")], group, raw_key(header), *limit)
        except Exception:  # noqa: BLE001 - a cache server down must not take the API down: let the call through
            log.warning("rate limit: the cache could not be reached; call let through", exc_info=True)
            return self.get_response(request)
        if retry_after:
            metrics.RATE_LIMITED.labels(group).inc()
            return too_many_requests(group, *limit, retry_after)
        return self.get_response(request)
