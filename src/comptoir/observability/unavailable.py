"""Django's handler500: a database that is down or restarting (a PostgreSQL restart, a lost connection, a locked
SQLite file) answers 503 with Retry-After instead of a bare 500 — Mirakl's JSON error body under /api/, a short
French page in the back offices — so clients retry and load balancers hold off. Any other crash stays a 500
(in Mirakl's JSON body under /api/). Django has logged the exception before calling this."""

from __future__ import annotations

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.defaults import server_error as django_server_error

RETRY_AFTER_SECONDS = 2
UNAVAILABLE = "Service momentanément indisponible (base de données) : réessayez dans quelques secondes."
PAGE = ("<!doctype html><html lang=fr><meta charset=utf-8><title>Service indisponible</title>"
        "<h1>Service momentanément indisponible</h1><p>Réessayez dans quelques secondes.</p></html>")


def database_unavailable(exc: BaseException | None) -> bool:
    return isinstance(exc, OperationalError | InterfaceError)


def server_error(request: HttpRequest) -> HttpResponse:
    exc = sys.exc_info()[1]  # Django calls the handler inside its `except` block
    api = request.path.startswith("/api/")
    if database_unavailable(exc):
        response: HttpResponse
        if api:
            response = JsonResponse({"status": 503, "message": UNAVAILABLE, "code": "SERVICE_UNAVAILABLE"},
                                    status=503)
        else:
            response = HttpResponse(PAGE, status=503, content_type="text/html; charset=utf-8")
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    if api:
        return JsonResponse({"status": 500, "message": "Erreur interne du serveur.", "code": "INTERNAL_ERROR"},
                            status=500)
    return django_server_error(request)
