"""The OpenAPI document says what every client error looks like: any 4xx of any operation answers with
Mirakl's error body (api/errors.py, api/middleware.py), documented once as `Error` and referenced by `4XX`."""

from __future__ import annotations

from typing import Any

from ninja import NinjaAPI

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


def document_client_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """Add the `Error` component and a `4XX` answer to every operation (explicit 4xx codes stay as they are)."""
    schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            if isinstance(operation, dict) and "responses" in operation:
                operation["responses"].setdefault("4XX", CLIENT_ERROR)
    return schema


class ComptoirAPI(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: Any = None) -> Any:
        return document_client_errors(super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params))
