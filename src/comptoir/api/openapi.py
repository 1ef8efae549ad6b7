"""The OpenAPI document: every client error answers with Mirakl's error body (api/errors.py, api/middleware.py),
documented once as `Error` and referenced by `4XX`; the query parameters of the views that read the query
string themselves (`parameters(...)` in `openapi_extra`; a parameter listed there replaces ninja's own); and
amounts given as strings must spell a number."""

from __future__ import annotations

from typing import Any

from ninja import NinjaAPI

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


def _fix_operation(operation: dict[str, Any]) -> None:
    operation["responses"].setdefault("4XX", CLIENT_ERROR)
    if "parameters" in operation:  # the last declaration of a (name, in) wins: openapi_extra refines ninja's
        unique = {(p["name"], p["in"]): p for p in operation["parameters"]}
        operation["parameters"] = list(unique.values())


def document_client_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """Add the `Error` component and a `4XX` answer to every operation (explicit 4xx codes stay as they are)."""
    schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    _numeric_strings(schema)
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            if isinstance(operation, dict) and "responses" in operation:
                _fix_operation(operation)
    return schema


class ComptoirAPI(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: Any = None) -> Any:
        return document_client_errors(super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params))
