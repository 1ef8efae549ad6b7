"""The seller API's webhooks (/api/webhooks): CRUD with the shop's key, every bad input a Mirakl error body that
changes nothing, another shop's endpoint a 404, the delivery log and « redeliver »."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from comptoir.orders.states import OrderState
from comptoir.shops.models import Shop
from comptoir.timers.worker import run_until_idle
from comptoir.webhooks.models import Endpoint
from tests.api.helpers import assert_error, auth, body_of, get, post, put
from tests.factories import ShopFactory, make_order, shop_key
from tests.webhooks.receiver import Receiver

pytestmark = pytest.mark.django_db
HOOKS = "/api/webhooks"
URL = "https://erp.example.com/comptoir/hooks"


@pytest.fixture
def shop() -> Shop:
    return ShopFactory()


@pytest.fixture
def key(shop: Shop) -> str:
    return shop_key(shop)


@pytest.fixture
def other_key() -> str:
    return shop_key(ShopFactory())


def _snapshot() -> list[tuple[Any, ...]]:
    return list(Endpoint.objects.order_by("id").values_list("id", "url", "enabled", "event_types", "secret",
                                                            "description"))


def test_create_list_update_rotate_and_delete(client: Client, key: str, shop: Shop) -> None:
    # create: the secret is in this answer only
    created = post(client, HOOKS, key, {"url": URL, "event_types": ["IncidentOpened", "OrderAwaitingAcceptance"],
                                        "description": "ERP"})
    assert created.status_code == 201, created.content
    assert created["Cache-Control"] == "no-store"
    body = body_of(created)
    secret = body["secret"]
    assert secret.startswith("whsec_") and len(secret) > 40
    assert body["url"] == URL and body["enabled"] is True and body["description"] == "ERP"
    assert body["event_types"] == ["OrderAwaitingAcceptance", "IncidentOpened"]
    assert body["secret_hint"] == secret[:10] + "…" and body["secret_rotated_date"] is None
    endpoint_id = body["id"]

    # list and read: never the secret
    listed = body_of(get(client, HOOKS, key))
    assert listed["total_count"] == 1 and "secret" not in listed["webhooks"][0]
    assert listed["webhooks"][0]["id"] == endpoint_id
    assert "secret" not in body_of(get(client, f"{HOOKS}/{endpoint_id}", key))

    # update what is given; the rest stays
    updated = body_of(put(client, f"{HOOKS}/{endpoint_id}", key, {"enabled": False, "event_types": []}))
    assert updated["enabled"] is False and updated["event_types"] == [] and updated["url"] == URL
    assert "secret" not in updated

    # rotate: a new secret, shown once
    rotated = body_of(put(client, f"{HOOKS}/{endpoint_id}", key, {"rotate_secret": True}))
    assert rotated["secret"] != secret and rotated["secret_rotated_date"]
    assert Endpoint.objects.get(id=endpoint_id).secret == rotated["secret"]

    # delete
    assert client.delete(f"{HOOKS}/{endpoint_id}", **auth(key)).status_code == 204
    assert_error(get(client, f"{HOOKS}/{endpoint_id}", key), 404, "WEBHOOK_NOT_FOUND")
    assert body_of(get(client, HOOKS, key)) == {"webhooks": [], "total_count": 0}


@pytest.mark.parametrize("body, code, field", [
    ({"url": "http://erp.example.com/hooks"}, "WEBHOOK_URL_INVALID", "url"),
    ({"url": "not a url"}, "WEBHOOK_URL_INVALID", "url"),
    ({"url": "https://"}, "WEBHOOK_URL_INVALID", "url"),
    ({"url": "https://10.1.2.3/hooks"}, "WEBHOOK_URL_INVALID", "url"),
    ({"url": URL, "event_types": ["OrderShipped"]}, "WEBHOOK_EVENT_TYPE_UNKNOWN", "event_types"),
    ({"url": URL, "event_types": "IncidentOpened"}, "VALIDATION_ERROR", "event_types"),
    ({"url": URL, "enabled": "yes"}, "VALIDATION_ERROR", "enabled"),
    ({"url": URL, "secret": "mine"}, "VALIDATION_ERROR", "secret"),
    ({"url": URL, "description": "x" * 201}, "VALIDATION_ERROR", "description"),
    ({}, "VALIDATION_ERROR", "url"),
])
def test_bad_input_is_refused_and_creates_nothing(client: Client, key: str, body: dict[str, Any], code: str,
                                                  field: str) -> None:
    error = assert_error(post(client, HOOKS, key, body), 400, code)
    assert error.get("field") == field
    assert Endpoint.objects.count() == 0


def test_malformed_json_and_missing_key_are_refused(client: Client, key: str) -> None:
    assert_error(post(client, HOOKS, key, "{not json"), 400, "VALIDATION_ERROR")
    assert_error(post(client, HOOKS, None, {"url": URL}), 401, "UNAUTHORIZED")
    assert_error(get(client, HOOKS, "wrong-key"), 401, "UNAUTHORIZED")
    assert Endpoint.objects.count() == 0


def test_a_bad_update_changes_nothing(client: Client, key: str) -> None:
    endpoint_id = body_of(post(client, HOOKS, key, {"url": URL}))["id"]
    before = _snapshot()
    assert_error(put(client, f"{HOOKS}/{endpoint_id}", key, {"url": "http://erp.example.com/", "enabled": False}),
                 400, "WEBHOOK_URL_INVALID")
    assert_error(put(client, f"{HOOKS}/{endpoint_id}", key, {"event_types": ["Nope"], "rotate_secret": True}),
                 400, "WEBHOOK_EVENT_TYPE_UNKNOWN")
    assert_error(put(client, f"{HOOKS}/abc", key, {"enabled": False}), 400, "VALIDATION_ERROR")
    assert _snapshot() == before


def test_another_shops_endpoint_is_not_found_and_left_alone(client: Client, key: str, other_key: str) -> None:
    endpoint_id = body_of(post(client, HOOKS, key, {"url": URL}))["id"]
    before = _snapshot()
    path = f"{HOOKS}/{endpoint_id}"
    assert_error(get(client, path, other_key), 404, "WEBHOOK_NOT_FOUND")
    assert_error(put(client, path, other_key, {"enabled": False, "rotate_secret": True}), 404, "WEBHOOK_NOT_FOUND")
    assert_error(client.delete(path, **auth(other_key)), 404, "WEBHOOK_NOT_FOUND")
    assert_error(get(client, f"{path}/deliveries", other_key), 404, "WEBHOOK_NOT_FOUND")
    assert_error(post(client, f"{path}/deliveries/1/redeliver", other_key), 404, "WEBHOOK_DELIVERY_NOT_FOUND")
    assert body_of(get(client, HOOKS, other_key))["total_count"] == 0
    assert _snapshot() == before


def test_a_shop_has_at_most_the_configured_number_of_endpoints(client: Client, key: str,
                                                               comptoir_settings: Any) -> None:
    comptoir_settings(WEBHOOK_MAX_ENDPOINTS=2)
    for _ in range(2):
        assert post(client, HOOKS, key, {"url": URL}).status_code == 201
    assert_error(post(client, HOOKS, key, {"url": URL}), 400, "WEBHOOK_LIMIT_REACHED")
    assert Endpoint.objects.count() == 2


def test_the_delivery_log_and_redeliver(client: Client, key: str, shop: Shop, receiver: Receiver) -> None:
    # given an endpoint (the test receiver) that got a new order to accept
    created = body_of(post(client, HOOKS, key, {"url": receiver.url, "event_types": ["OrderAwaitingAcceptance"]}))
    receiver.secret = created["secret"]
    order = make_order(OrderState.WAITING_ACCEPTANCE, shop=shop)
    run_until_idle("test-worker")

    # the log: latest first, with every attempt
    log = body_of(get(client, f"{HOOKS}/{created['id']}/deliveries", key))
    assert log["total_count"] == 1
    delivery = log["deliveries"][0]
    assert delivery["event_type"] == "OrderAwaitingAcceptance" and delivery["order_id"] == order.order_id
    assert delivery["state"] == "DELIVERED" and delivery["attempts"] == 1 and delivery["last_status_code"] == 200
    assert delivery["event_id"] == receiver.calls[0].headers["X-Comptoir-Event-Id"]
    assert [a["status_code"] for a in delivery["attempt_log"]] == [200]
    assert_error(get(client, f"{HOOKS}/{created['id']}/deliveries", key, {"max": "0"}), 400, "VALIDATION_ERROR")

    # redeliver: the same event id again
    answer = post(client, f"{HOOKS}/{created['id']}/deliveries/{delivery['id']}/redeliver", key)
    assert answer.status_code == 202 and body_of(answer)["state"] == "PENDING"
    run_until_idle("test-worker")
    assert [c.headers["X-Comptoir-Event-Id"] for c in receiver.calls] == [delivery["event_id"]] * 2
    assert_error(post(client, f"{HOOKS}/{created['id']}/deliveries/999999/redeliver", key), 404,
                 "WEBHOOK_DELIVERY_NOT_FOUND")


def test_the_endpoints_are_in_the_openapi_document(client: Client) -> None:
    paths = body_of(client.get("/api/openapi.json"))["paths"]
    assert {"get", "post"} <= set(paths["/api/webhooks"]) and {"put", "delete"} <= set(paths["/api/webhooks/{endpoint_id}"])
