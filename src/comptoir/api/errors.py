"""Domain errors → HTTP status and Mirakl's error body: {"status": ..., "message": ..., "code": ...}."""

from __future__ import annotations

from typing import Any

from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from comptoir.api.render import json_response
from comptoir.core.errors import ComptoirError


def error_body(status: int, message: str, code: str, field: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"status": status, "message": message, "code": code}
    if field:
        body["field"] = field
    return body


def _describe(errors: list[dict[str, Any]]) -> tuple[str, str | None]:
    first = errors[0] if errors else {}
    location = ".".join(str(part) for part in first.get("loc", ()) if part not in ("body", "payload", "query"))
    message = first.get("msg", "requête invalide")
    if first.get("type") == "json_invalid" or "JSON" in str(message):
        return "Corps de requête JSON invalide.", None
    return (f"{location} : {message}" if location else str(message)), location or None


def install(api: NinjaAPI) -> None:
    @api.exception_handler(ComptoirError)
    def domain_error(request: Any, exc: ComptoirError) -> Any:
        return json_response(error_body(exc.status, exc.message, exc.code, exc.field), exc.status)

    @api.exception_handler(NinjaValidationError)
    def validation_error(request: Any, exc: NinjaValidationError) -> Any:
        message, field = _describe(list(exc.errors))
        return json_response(error_body(400, message, "VALIDATION_ERROR", field), 400)

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request: Any, exc: AuthenticationError) -> Any:
        return json_response(
            error_body(401, "Appel sans authentification valide : utilisez une clé d'API valide.", "UNAUTHORIZED"),
            401,
        )

    @api.exception_handler(HttpError)
    def http_error(request: Any, exc: HttpError) -> Any:
        code = "VALIDATION_ERROR" if exc.status_code == 400 else "HTTP_ERROR"
        message = str(exc)
        if "parse" in message.lower() or "json" in message.lower():
            message = "Corps de requête JSON invalide."
        return json_response(error_body(exc.status_code, message, code), exc.status_code)
