"""The API's request stack (api/middleware.py, api/auth.py): what every API answer carries — language, Vary,
Content-Language, Content-Length, X-Frame-Options, the security headers, the request id — pinned field by field,
so that trimming the stack's per-request work changes none of it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from comptoir.orders.models import Order
from comptoir.orders.states import OrderState
from comptoir.shops.models import Shop
from tests.factories import make_order

pytestmark = pytest.mark.django_db

# Headers whose value is the same on every API answer (X-Request-ID is checked apart: it changes).
COMMON = {
    "X-Frame-Options": "DENY",
    "Vary": "Accept-Language",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def _headers(response) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {name: value for name, value in response.headers.items() if name != "X-Request-ID"}


def _accept_body(order: Order) -> str:
    lines = order.lines.order_by("index").values_list("line_id", flat=True)
    return json.dumps({"order_lines": [{"id": line_id, "accepted": True} for line_id in lines]})


@pytest.fixture
def waiting(shop: Shop) -> Order:
    return make_order(OrderState.WAITING_ACCEPTANCE, shop=shop, lines=2)


def test_or21_204_carries_the_stack_headers_and_french_by_default(client: Client, key: str, waiting: Order) -> None:
    response = client.put(f"/api/orders/{waiting.order_id}/accept", _accept_body(waiting),
                          content_type="application/json", HTTP_AUTHORIZATION=key)

    assert response.status_code == 204
    assert _headers(response) == {**COMMON, "Content-Type": "text/html; charset=utf-8", "Content-Length": "0",
                                  "Content-Language": "fr"}
    assert len(response["X-Request-ID"]) == 32


def test_or21_bearer_key_and_english_accept_language(client: Client, key: str, waiting: Order) -> None:
    # given a key sent as `Bearer …` and a client asking for English first
    response = client.put(f"/api/orders/{waiting.order_id}/accept", _accept_body(waiting),
                          content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}",
                          HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9,fr;q=0.5")

    assert response.status_code == 204
    assert response["Content-Language"] == "en"
    assert response["Vary"] == "Accept-Language"


@pytest.mark.parametrize(("accept_language", "expected"), [
    ("", "fr"), ("de-DE,de;q=0.9", "fr"), ("fr-CA", "fr"), ("en-US", "en"), ("de;q=1,en;q=0.8", "en"), ("*", "fr"),
])
def test_language_follows_accept_language_among_french_and_english(
        client: Client, key: str, accept_language: str, expected: str) -> None:
    response = client.get("/api/orders", HTTP_AUTHORIZATION=key, HTTP_ACCEPT_LANGUAGE=accept_language)

    assert response.status_code == 200
    assert response["Content-Language"] == expected


def test_language_cookie_wins_over_accept_language(client: Client, key: str) -> None:
    client.cookies["django_language"] = "en"

    response = client.get("/api/orders", HTTP_AUTHORIZATION=key, HTTP_ACCEPT_LANGUAGE="fr")

    assert response["Content-Language"] == "en"


def test_or21_400_body_and_headers(client: Client, key: str, waiting: Order) -> None:
    response = client.put(f"/api/orders/{waiting.order_id}/accept", json.dumps({"order_lines": []}),
                          content_type="application/json", HTTP_AUTHORIZATION=key)

    assert response.status_code == 400
    assert _headers(response) == {**COMMON, "Content-Type": "application/json",
                                  "Content-Length": str(len(response.content)), "Content-Language": "fr"}
    assert json.loads(response.content)["status"] == 400


def test_or11_200_headers(client: Client, key: str) -> None:
    response = client.get("/api/orders", HTTP_AUTHORIZATION=key)

    assert response.status_code == 200
    assert _headers(response) == {**COMMON, "Content-Type": "application/json",
                                  "Content-Length": str(len(response.content)), "Content-Language": "fr"}


def test_missing_or_unknown_key_is_401_with_mirakl_body(client: Client) -> None:
    for headers in ({}, {"HTTP_AUTHORIZATION": "no-such-key"}):
        response = client.get("/api/orders", **headers)

        assert response.status_code == 401
        assert response["Content-Type"] == "application/json"
        assert response["Content-Language"] == "fr"
        assert json.loads(response.content)["status"] == 401


def test_unknown_path_404_and_wrong_method_405_keep_their_json_bodies(client: Client, key: str) -> None:
    missing = client.get("/api/no-such-thing", HTTP_AUTHORIZATION=key)
    wrong = client.delete("/api/orders", HTTP_AUTHORIZATION=key)

    assert missing.status_code == 404
    assert json.loads(missing.content) == {"status": 404, "message": "Ressource introuvable.", "code": "NOT_FOUND"}
    assert wrong.status_code == 405
    assert json.loads(wrong.content)["code"] == "METHOD_NOT_ALLOWED"
    assert wrong["Allow"] == "GET"


def test_host_outside_allowed_hosts_is_a_400(client: Client, key: str) -> None:
    response = client.get("/api/orders", HTTP_AUTHORIZATION=key, HTTP_HOST="evil.example")

    assert response.status_code == 400
    assert json.loads(response.content)["code"] == "BAD_REQUEST"


def test_api_requests_look_up_no_language_prefix_in_the_path(
        client: Client, key: str, waiting: Order, monkeypatch: pytest.MonkeyPatch) -> None:
    # given path lookups that fail the test if anything on the API's path asks for them
    from django.utils import translation

    def path_lookup(*args: object) -> None:
        raise AssertionError("language looked up in the path")

    monkeypatch.setattr(translation, "get_language_from_path", path_lookup)

    # when OR21 and OR11 answer, then with their language headers
    accepted = client.put(f"/api/orders/{waiting.order_id}/accept", _accept_body(waiting),
                          content_type="application/json", HTTP_AUTHORIZATION=key, HTTP_ACCEPT_LANGUAGE="en")
    listed = client.get("/api/orders", HTTP_AUTHORIZATION=key)

    assert (accepted.status_code, accepted["Content-Language"]) == (204, "en")
    assert (listed.status_code, listed["Content-Language"]) == (200, "fr")


def test_authorization_is_read_without_building_the_headers_mapping(
        client: Client, key: str, waiting: Order, monkeypatch: pytest.MonkeyPatch) -> None:
    from django.http import HttpRequest

    def headers(request: HttpRequest) -> None:
        raise AssertionError("request.headers built")

    monkeypatch.setattr(HttpRequest, "headers", property(headers))

    accepted = client.put(f"/api/orders/{waiting.order_id}/accept", _accept_body(waiting),
                          content_type="application/json", HTTP_AUTHORIZATION=key, HTTP_IDEMPOTENCY_KEY="k-1")
    refused = client.get("/api/orders", HTTP_AUTHORIZATION="no-such-key")

    assert accepted.status_code == 204
    assert refused.status_code == 401


def test_the_language_memo_stays_bounded(client: Client, key: str) -> None:
    from comptoir.api import middleware

    for i in range(middleware._LANGUAGES_KEPT + 10):
        client.get("/api/orders", HTTP_AUTHORIZATION=key, HTTP_ACCEPT_LANGUAGE=f"en;q=0.{i % 10}, x-{i}")

    assert len(middleware._LANGUAGES) <= middleware._LANGUAGES_KEPT


def test_settings_changed_at_run_time_still_apply(client: Client, key: str, settings: Any) -> None:
    # given X-Frame-Options relaxed, then PREPEND_WWW on (Django's own middleware take over: a redirect to www.)
    settings.X_FRAME_OPTIONS = "SAMEORIGIN"
    relaxed = client.get("/api/orders", HTTP_AUTHORIZATION=key)
    settings.PREPEND_WWW = True
    settings.ALLOWED_HOSTS = ["testserver", "www.testserver"]
    redirected = client.get("/api/orders", HTTP_AUTHORIZATION=key)

    assert relaxed["X-Frame-Options"] == "SAMEORIGIN"
    assert redirected.status_code == 301
    assert redirected["Location"] == "http://www.testserver/api/orders"
