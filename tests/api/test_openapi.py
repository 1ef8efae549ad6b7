"""The API describes itself: /api/openapi.json and the docs page, without a key."""

from __future__ import annotations

import json

from django.test import Client

SELLER_PATHS = {
    "/api/orders": "get",
    "/api/orders/{order_id}/accept": "put",
    "/api/account": "get",
    "/api/version": "get",
}
OPERATOR_PATHS = {
    "/api/operator/orders": "post",
    "/api/operator/orders/{order_id}/approve": "put",
    "/api/operator/orders/{order_id}/reject": "put",
    "/api/operator/orders/{order_id}/request_documents": "put",
    "/api/operator/clock/advance": "post",
    "/api/operator/sandbox/payments/{order_id}": "put",
}


def test_openapi_json_is_valid_json_listing_the_seller_and_operator_paths(client: Client) -> None:
    # given no key; when a client fetches the schema
    response = client.get("/api/openapi.json")

    # then valid OpenAPI JSON with every path and method
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    schema = json.loads(response.content)
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"]
    for path, method in {**SELLER_PATHS, **OPERATOR_PATHS}.items():
        assert path in schema["paths"], path
        assert method in schema["paths"][path], (path, method)
    assert schema["paths"]["/api/orders"]["get"]["operationId"] == "OR11"
    assert schema["paths"]["/api/orders/{order_id}/accept"]["put"]["operationId"] == "OR21"
    assert "204" in schema["paths"]["/api/orders/{order_id}/accept"]["put"]["responses"]


def test_openapi_declares_the_authorization_header_scheme(client: Client) -> None:
    schema = json.loads(client.get("/api/openapi.json").content)
    schemes = schema["components"]["securitySchemes"].values()
    assert any(
        s.get("type") == "apiKey" and s.get("in") == "header" and s.get("name") == "Authorization"
        for s in schemes
    )
    # the health check needs no key, OR11 does
    assert not schema["paths"]["/api/version"]["get"].get("security")
    assert schema["paths"]["/api/orders"]["get"].get("security")


def test_the_docs_page_is_served(client: Client) -> None:
    response = client.get("/api/docs")
    assert response.status_code == 200
    assert b"openapi.json" in response.content


def test_unknown_api_paths_and_wrong_methods_answer_with_the_json_error_body(client) -> None:
    missing = client.get("/api/nowhere")
    wrong_method = client.delete("/api/version")

    assert missing.status_code == 404 and missing["Content-Type"].startswith("application/json")
    assert missing.json() == {"status": 404, "message": "Ressource introuvable.", "code": "NOT_FOUND"}
    assert wrong_method.status_code == 405 and wrong_method.json()["code"] == "METHOD_NOT_ALLOWED"
    assert "GET" in wrong_method["Allow"]
