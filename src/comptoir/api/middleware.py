"""Under /api/, every error answers with Mirakl's JSON body — also the 404 of an unknown path and the 405
of a wrong method, which Django and ninja render as HTML by default."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from comptoir.api.errors import error_body
from comptoir.api.render import json_response

_MESSAGES = {
    404: ("Ressource introuvable.", "NOT_FOUND"),
    405: ("Méthode HTTP non autorisée pour cette ressource.", "METHOD_NOT_ALLOWED"),
}


class ApiErrorBodyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            request.path.startswith("/api/")
            and response.status_code in _MESSAGES
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            message, code = _MESSAGES[response.status_code]
            converted = json_response(error_body(response.status_code, message, code), response.status_code)
            if response.has_header("Allow"):
                converted["Allow"] = response["Allow"]
            return converted
        return response
