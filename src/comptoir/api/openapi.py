"""The OpenAPI document: every client error answers with Mirakl's error body (api/errors.py, api/middleware.py),
documented once as `Error` and referenced by each 4xx status an operation can answer (error_statuses) and by
`4XX`; the success answers are the views' `response=` schemas (documentation: the views render their JSON
themselves, and reliability/fuzz.py checks every answer against them); the query parameters of the views that read the query
string themselves (`parameters(...)` in `openapi_extra`; a parameter listed there replaces ninja's own); and
amounts given as strings must spell a number."""

from __future__ import annotations

from typing import Any

from ninja import NinjaAPI, Schema
from pydantic import Field

from comptoir.core.ids import MAX_ID

ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "description": "Mirakl's error body, on every 4xx answer.",
    "properties": {
        "status": {"type": "integer", "description": "The HTTP status, repeated."},
        "message": {"type": "string", "description": "What is wrong, in French."},
        "code": {"type": "string", "description": "A stable code: VALIDATION_ERROR, NOT_FOUND, ..."},
        "field": {"type": "string", "description": "The input field at fault, when there is one."},
    },
    "required": ["status", "message", "code"],
}


def omitted(description: str) -> Any:
    """A response key the answer leaves out rather than sending null (a page token on the last page): in the
    response schema, its type alone and not required."""
    return Field(default=None, description=description)


class Error(Schema):
    """Mirakl's error body, for a view that answers an error itself (its component is ERROR_SCHEMA)."""

    status: int
    message: str
    code: str
    field: str = omitted("The input field at fault, when there is one.")


CLIENT_ERROR: dict[str, Any] = {
    "description": "Client error (bad input, unknown key, unknown resource, conflicting state, rate limit).",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}


DATE_TIME: dict[str, Any] = {"type": "string", "format": "date-time"}


def integer(minimum: int = 0, maximum: int = MAX_ID) -> dict[str, Any]:
    return {"type": "integer", "minimum": minimum, "maximum": maximum}


def values(items: dict[str, Any] | None = None, *, min_items: int = 0, max_items: int | None = None) -> dict[str, Any]:
    """A list: `x=a&x=b` (what the schema shows) or `x=a,b` (also read, api/render.parse_list)."""
    schema: dict[str, Any] = {"type": "array", "items": items or {"type": "string", "minLength": 1}}
    if min_items:
        schema["minItems"] = min_items
    if max_items is not None:
        schema["maxItems"] = max_items
    return schema


def one_of(*choices: str) -> dict[str, Any]:
    return {"type": "string", "enum": list(choices)}


def parameters(where: str = "query", *, required: tuple[str, ...] = (), **schemas: dict[str, Any]) -> dict[str, Any]:
    """`openapi_extra` listing parameters by name → JSON schema."""
    return {"parameters": [{"name": name, "in": where, "required": name in required or where == "path",
                            "schema": schema} for name, schema in schemas.items()]}


# pydantic documents a Decimal as « a number or any string »; the string must spell a number.
NUMERIC_STRING = r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$"


def _numeric_strings(node: Any) -> None:
    if isinstance(node, dict):
        alternatives = node.get("anyOf")
        if isinstance(alternatives, list) and any(a.get("type") == "number" for a in alternatives):
            for alternative in alternatives:
                if alternative == {"type": "string"}:
                    alternative["pattern"] = NUMERIC_STRING
        for value in node.values():
            _numeric_strings(value)
    elif isinstance(node, list):
        for value in node:
            _numeric_strings(value)


# The client errors an operation may answer, each with Mirakl's error body (the `4XX` answer covers the rest: 405,
# 413, ...).
ERROR_STATUSES: dict[int, str] = {
    400: "Bad input (VALIDATION_ERROR and the domain's own codes).",
    401: "No valid API key.",
    403: "Not allowed (a recipient the shop may not write to; a sandbox-only call outside the sandbox).",
    404: "Unknown resource, or another shop's (also a `shop_id` that is not the key's).",
    409: "Conflict: an Idempotency-Key reused for another request or still running, or a conflicting state.",
    429: "Too many calls for this key (seller API); `Retry-After` says when to call again.",
}
_FORBIDDEN_PATHS = ("/threads", "/message", "/clock/", "/sandbox/")


def error_statuses(path: str, method: str, operation: dict[str, Any]) -> list[int]:
    """The 4xx statuses `operation` can answer: 400 always (even a NUL in the address), 401 with a key, 404 on
    the seller API (its `shop_id`) and with an id in the path, 409 on a write (Idempotency-Key), 429 on the
    seller API (rate limits), 403 where a rule forbids."""
    seller = not path.startswith("/api/operator/") and bool(operation.get("security"))
    statuses = [400]
    if operation.get("security"):
        statuses.append(401)
    if method != "get" and any(part in path for part in _FORBIDDEN_PATHS):
        statuses.append(403)
    if seller or "{" in path:
        statuses.append(404)
    if method != "get":
        statuses.append(409)
    if seller:
        statuses.append(429)
    return statuses


def _fix_operation(path: str, method: str, operation: dict[str, Any]) -> None:
    responses = operation["responses"] = {str(status): answer for status, answer in operation["responses"].items()}
    for status in error_statuses(path, method, operation):
        responses[str(status)] = {**CLIENT_ERROR, "description": ERROR_STATUSES[status]}
    responses.setdefault("4XX", CLIENT_ERROR)
    if "parameters" in operation:  # the last declaration of a (name, in) wins: openapi_extra refines ninja's
        unique = {(p["name"], p["in"]): p for p in operation["parameters"]}
        operation["parameters"] = list(unique.values())


def document_client_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """Add the `Error` component, the client errors each operation may answer (error_statuses) and a `4XX` answer
    to every operation."""
    schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    _numeric_strings(schema)
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            if isinstance(operation, dict) and "responses" in operation:
                _fix_operation(path, method, operation)
    return schema


class ComptoirAPI(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: Any = None) -> Any:
        return document_client_errors(super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params))
