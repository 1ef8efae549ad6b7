"""/healthz (the process answers), /readyz (database and migrations), /metrics (Prometheus text format,
behind a bearer token when COMPTOIR_METRICS_TOKEN is set)."""

from __future__ import annotations

import hmac
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from comptoir.observability import health, metrics
from comptoir.observability.collectors import DATABASE_REGISTRY


def database_connection() -> Any:
    return connections[DEFAULT_DB_ALIAS]


@never_cache
@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def readyz(request: HttpRequest) -> HttpResponse:
    checks = health.ready_report(database_connection())
    ready = all(value == "ok" for value in checks.values())
    return JsonResponse({"status": "ready" if ready else "unavailable", "checks": checks},
                        status=200 if ready else 503)


def _authorized(request: HttpRequest) -> bool:
    token = settings.COMPTOIR.get("METRICS_TOKEN") or ""
    if not token:
        return True
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, given = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


@never_cache
@require_safe
def metrics_view(request: HttpRequest) -> HttpResponse:
    if not _authorized(request):
        response = JsonResponse({"status": 401, "message": "Jeton des métriques manquant ou invalide.",
                                 "code": "UNAUTHORIZED"}, status=401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    body = metrics.exposition() + generate_latest(DATABASE_REGISTRY)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
