"""Domain errors → HTTP status and Mirakl's error body: {"status": ..., "message": ..., "code": ...}."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import BadRequest, RequestDataTooBig, SuspiciousOperation
from django.http.multipartparser import MultiPartParserError
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


# French wording for pydantic's most common error types; others keep pydantic's English text.
_FRENCH = {
    "missing": "champ obligatoire manquant",
    "bool_type": "booléen attendu (true ou false)",
    "bool_parsing": "booléen attendu (true ou false)",
    "int_type": "entier attendu",
    "int_parsing": "entier attendu",
    "string_type": "chaîne de caractères attendue",
    "list_type": "liste attendue",
    "too_short": "liste ou texte trop court",
    "too_long": "liste ou texte trop long",
    "greater_than_equal": "valeur trop petite",
    "less_than_equal": "valeur trop grande",
    "less_than": "valeur trop grande",
    "decimal_parsing": "nombre attendu",
    "decimal_type": "nombre attendu",
    "string_pattern_mismatch": "format invalide",
    "datetime_parsing": "date invalide",
    "datetime_from_date_parsing": "date invalide",
    "model_attributes_type": "objet JSON attendu",
    "dict_type": "objet JSON attendu",
    "literal_error": "valeur non autorisée",
    "decimal_max_digits": "nombre trop long",
}


def _describe(errors: list[dict[str, Any]]) -> tuple[str, str | None]:
    first = errors[0] if errors else {}
    location = ".".join(str(part) for part in first.get("loc", ()) if part not in ("body", "payload", "query", "path"))
    kind = first.get("type", "")
    message = _FRENCH.get(kind, first.get("msg", "requête invalide"))
    if kind == "value_error" and first.get("ctx", {}).get("error"):  # our validators' own words (render.Instant)
        message = str(first["ctx"]["error"])
    if kind == "json_invalid" or "JSON" in str(first.get("msg", "")):
        return "Corps de requête JSON invalide.", None
    if not location and kind == "missing":
        return "Corps de requête manquant ou vide.", None
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

    @api.exception_handler(RequestDataTooBig)
    def too_big(request: Any, exc: RequestDataTooBig) -> Any:
        return json_response(error_body(413, "Corps de requête trop volumineux.", "REQUEST_TOO_LARGE"), 413)

    # What Django refuses while reading the request (too many fields or files, a broken multipart body): Django
    # answers an HTML 400; here Mirakl's body.
    @api.exception_handler(SuspiciousOperation)
    @api.exception_handler(BadRequest)
    @api.exception_handler(MultiPartParserError)
    def unreadable(request: Any, exc: Exception) -> Any:
        return json_response(error_body(400, "Requête illisible (corps multipart invalide, trop de champs ou de "
                                             "fichiers).", "BAD_REQUEST"), 400)

    @api.exception_handler(HttpError)
    def http_error(request: Any, exc: HttpError) -> Any:
        if isinstance(exc.__cause__, ComptoirError):  # ninja wraps what the body parser raised (render.JSONParser)
            return domain_error(request, exc.__cause__)
        code = "VALIDATION_ERROR" if exc.status_code == 400 else "HTTP_ERROR"
        message = str(exc)
        if "parse" in message.lower() or "json" in message.lower():
            message = "Corps de requête JSON invalide."
        return json_response(error_body(exc.status_code, message, code), exc.status_code)
