"""First in settings.MIDDLEWARE, so it wraps every request, the API's slim stack included: gives the request an
id (a sane incoming X-Request-ID, else a new one) that log records and outbox rows carry and the response
returns; counts the request and its latency under its route pattern (never the raw path: ids would make a series
each); with COMPTOIR_LOG_REQUESTS on, logs one line per request."""

from __future__ import annotations

import logging
from collections.abc import Callable
from time import perf_counter

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from comptoir.observability.context import HEADER, new_request_id, request_id_var, sane_request_id
from comptoir.observability.metrics import observe_request

access_log = logging.getLogger("comptoir.access")


class ObservabilityMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.static_prefix = settings.STATIC_URL or "/static/"

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = sane_request_id(request.META.get("HTTP_X_REQUEST_ID")) or new_request_id()
        request.request_id = request_id  # type: ignore[attr-defined]
        token = request_id_var.set(request_id)
        try:
            start = perf_counter()
            response = self.get_response(request)
            elapsed = perf_counter() - start
            response[HEADER] = request_id
            match = request.resolver_match
            if match is not None:
                route = match.route
            else:  # whitenoise answered before URL resolution, or nothing matched (a 404)
                route = "static" if request.path.startswith(self.static_prefix) else "unmatched"
            observe_request(request.method or "", route, response.status_code, elapsed)
            if access_log.isEnabledFor(logging.INFO):
                access_log.info("%s %s %s %.1f ms", request.method, request.path, response.status_code,
                                elapsed * 1000, extra={"method": request.method, "path": request.path,
                                                       "route": route, "status": response.status_code,
                                                       "duration_ms": round(elapsed * 1000, 2)})
            return response
        finally:
            request_id_var.reset(token)
