"""What the fuzzer (reliability/fuzz.py) found: inputs that crashed the API with a 500 or got an HTML answer.
Each now gets a 4xx with Mirakl's error body, on SQLite and PostgreSQL, and changes nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client

from comptoir.orders.models import Order
from comptoir.orders.states import OrderState
from comptoir.payments.models import SimulatedDirective
from comptoir.shops.models import Shop
from comptoir.webhooks.models import Endpoint
from tests.api.helpers import assert_error, auth, body_of, get, post, put
from tests.factories import ADDRESS, OfferFactory, make_order

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999999"  # past 64 bits: SQLite raised OverflowError
SUPERSCRIPT_TWO = "%C2%B2"  # « ² »: str.isdigit() says yes, int() raises


@pytest.mark.parametrize(("method", "path"), [
    ("get", f"/api/webhooks/{HUGE}"),
    ("post", f"/api/webhooks/1/deliveries/{HUGE}/redeliver"),
    ("delete", f"/api/webhooks/{HUGE}"),
])
def test_a_seller_id_past_64_bits_in_the_path_is_a_400(client: Client, key: str, method: str, path: str) -> None:
    response = getattr(client, method)(path, **auth(key))

    assert assert_error(response, 400, "VALIDATION_ERROR")["field"] in ("endpoint_id", "delivery_id")


def test_an_operator_id_past_64_bits_in_the_path_is_a_400(client: Client, op_key: str) -> None:
    assert_error(get(client, f"/api/operator/payouts/{HUGE}/statement.csv", op_key), 400, "VALIDATION_ERROR")
    assert_error(post(client, f"/api/operator/outbox/{HUGE}/replay", op_key), 400, "VALIDATION_ERROR")
    assert_error(put(client, f"/api/operator/shops/{HUGE}/suspend", op_key, {"reason": "x"}), 400,
                 "VALIDATION_ERROR")


@pytest.mark.parametrize(("path", "field"), [
    (f"/api/orders?offset={HUGE}", "offset"),
    (f"/api/orders/documents/download?document_ids={HUGE}", "document_ids"),
])
def test_a_seller_query_integer_past_64_bits_is_a_400(client: Client, key: str, path: str, field: str) -> None:
    assert assert_error(client.get(path, **auth(key)), 400, "VALIDATION_ERROR")["field"] == field


@pytest.mark.parametrize("path", [f"/api/operator/orders?shop_id={HUGE}", f"/api/operator/orders?offset={HUGE}",
                                  f"/api/operator/incidents?offset={HUGE}"])
def test_an_operator_query_integer_past_64_bits_is_a_400(client: Client, op_key: str, path: str) -> None:
    assert_error(client.get(path, **auth(op_key)), 400, "VALIDATION_ERROR")


@pytest.mark.parametrize(("method", "path", "code"), [
    ("delete", f"/api/orders/documents/{SUPERSCRIPT_TWO}", "DOCUMENT_NOT_FOUND"),
    ("get", f"/api/inbox/threads/{SUPERSCRIPT_TWO}", "THREAD_NOT_FOUND"),
    ("get", f"/api/inbox/threads/{SUPERSCRIPT_TWO}/download", "ATTACHMENT_NOT_FOUND"),
])
def test_an_id_of_non_ascii_digits_is_not_found(client: Client, key: str, method: str, path: str,
                                                code: str) -> None:
    assert_error(getattr(client, method)(path, **auth(key)), 404, code)


def test_an_incident_id_of_non_ascii_digits_is_not_found(client: Client, op_key: str) -> None:
    assert_error(get(client, f"/api/operator/incidents/{SUPERSCRIPT_TWO}", op_key), 404, "INCIDENT_NOT_FOUND")
    assert_error(post(client, f"/api/operator/incidents/{SUPERSCRIPT_TWO}/impose", op_key), 404,
                 "INCIDENT_NOT_FOUND")


def test_a_scorecard_window_of_non_ascii_digits_is_a_400(client: Client, key: str) -> None:
    response = client.get(f"/api/shops/scorecard?window={SUPERSCRIPT_TWO}", **auth(key))

    assert assert_error(response, 400, "VALIDATION_ERROR")["field"] == "window"


@pytest.mark.parametrize(("text", "what"), [("a\u0000b", "caractère nul"), ("a\ud800b", "UTF-16")])
def test_a_json_string_no_database_stores_is_a_400_and_writes_nothing(client: Client, key: str, text: str,
                                                                       what: str) -> None:
    # given a body holding a NUL (PostgreSQL refused it: 500) or a lone surrogate (UTF-8 refuses it: 500)
    body = json.dumps({"url": "https://hooks.example.com/comptoir", "description": text})

    # when the seller registers a webhook with it
    response = post(client, "/api/webhooks", key, body)

    # then 400 with the reason, and no endpoint
    assert what in assert_error(response, 400, "VALIDATION_ERROR")["message"]
    assert not Endpoint.objects.exists()


def test_a_nul_in_a_shipment_body_is_a_400(client: Client, key: str, shop: Shop) -> None:
    order = make_order(OrderState.SHIPPING, shop=shop, lines=1)

    response = put(client, "/api/shipments/ship", key, json.dumps({"shipments": [{"id": "a\u0000"}]}))

    assert_error(response, 400, "VALIDATION_ERROR")
    assert Order.objects.get(pk=order.pk).state == OrderState.SHIPPING


@pytest.mark.parametrize("body", ["3.8e-162", "[]", '"x"'])
def test_a_json_body_that_is_not_an_object_is_a_400_and_stores_nothing(client: Client, op_key: str,
                                                                       comptoir_settings: Any, body: str) -> None:
    # given sandbox mode on (ninja read a number or a list as « {} »: the directive was stored, 204)
    comptoir_settings(SANDBOX=True)

    response = put(client, "/api/operator/sandbox/payments/CMD-1-A", op_key, body)

    assert "objet JSON attendu" in assert_error(response, 400, "VALIDATION_ERROR")["message"]
    assert not SimulatedDirective.objects.exists()


@pytest.mark.parametrize("order_id", ["C" * 119 + "-A", "CMD%C3%A9-A", "CMD%20X-A"])
def test_a_payment_directive_for_an_impossible_order_id_is_a_400(client: Client, op_key: str,
                                                                  comptoir_settings: Any, order_id: str) -> None:
    # given sandbox mode on (PostgreSQL refused a 121-character id, varchar(120), with a 500)
    comptoir_settings(SANDBOX=True)

    response = put(client, f"/api/operator/sandbox/payments/{order_id}", op_key, {"refuse_capture": True})

    assert "Identifiant de commande invalide" in assert_error(response, 400, "VALIDATION_ERROR")["message"]
    assert not SimulatedDirective.objects.exists()
    # and an order id of the imports' form, not imported yet, still takes its directive
    assert put(client, "/api/operator/sandbox/payments/CMD_1.2-B", op_key, {"refuse_capture": True}).status_code == 204


@pytest.mark.parametrize("path", ["/api/shipments?last_updated_to=", "/api/orders?start_update_date=",
                                  "/api/sellerpayment/transactions_logs?date_created_from="])
def test_a_date_with_an_offset_past_sixteen_hours_is_read_as_its_instant(client: Client, key: str,
                                                                         path: str) -> None:
    # PostgreSQL refuses « +19:22 » (time zone displacement out of range: 500); it is the same instant in UTC
    assert client.get(path + "2026-01-09T12%3A17%3A23%2B19%3A22", **auth(key)).status_code == 200
    # and an instant before year 1 in UTC is no date
    response = client.get(path + "0001-01-01T00%3A00%3A00%2B05%3A00", **auth(key))
    assert assert_error(response, 400, "VALIDATION_ERROR")["message"].endswith("date invalide "
                                                                                "('0001-01-01T00:00:00+05:00').")


def test_an_imported_date_with_an_offset_past_sixteen_hours_is_stored_as_its_instant(client: Client,
                                                                                     op_key: str) -> None:
    # given an import whose created_date has the offset +19:22 (PostgreSQL refused it: 500)
    offer = OfferFactory()
    body = {"commercial_id": "TZ1", "created_date": "2026-01-01T19:22:00+19:22",
            "customer": {"customer_id": "c", "firstname": "A", "lastname": "B",
                         "billing_address": ADDRESS, "shipping_address": ADDRESS},
            "offers": [{"offer_id": offer.pk, "offer_price": offer.price_cents / 100, "quantity": 1}]}

    # when the operator imports it, and the same with a date before year 1 in UTC
    created = post(client, "/api/operator/orders", op_key, body)
    too_early = post(client, "/api/operator/orders", op_key,
                     {**body, "commercial_id": "TZ2", "created_date": "0001-01-01T00:00:00+05:00"})

    # then the first is stored at 2026-01-01 00:00 UTC, the second is a 400
    assert created.status_code == 201, created.content
    assert Order.objects.get(order_id="TZ1-A").created_date == datetime(2026, 1, 1, tzinfo=UTC)
    assert assert_error(too_early, 400, "VALIDATION_ERROR")["message"] == "created_date : date hors du calendrier"


def test_a_link_with_an_unbalanced_bracket_in_its_host_is_a_400(client: Client, key: str, op_key: str,
                                                                  shop: Shop) -> None:
    # « https://[x » made urlsplit raise « Invalid IPv6 URL »: a 500 on the carriers and on OR23
    order = make_order(OrderState.SHIPPING, shop=shop, lines=1)
    preview = post(client, "/api/operator/carriers/preview", op_key,
                   {"tracking_url": "https://t[{tracking_number}", "tracking_number": "1"})
    tracking = put(client, f"/api/orders/{order.order_id}/tracking", key,
                   {"carrier_name": "Coursier", "tracking_number": "1", "tracking_url": "https://[x/1"})

    assert_error(preview, 400, "CARRIER_TRACKING_URL_INVALID")
    assert assert_error(tracking, 400, "SHIPMENT_TRACKING_INVALID")["field"] == "tracking_url"


@pytest.mark.parametrize("path", ["/api/orders?order_ids=%00", "/api/orders/CMD%00-1/accept"])
def test_a_nul_in_the_address_is_a_400(client: Client, key: str, path: str) -> None:
    assert_error(client.get(path, **auth(key)), 400, "VALIDATION_ERROR")


@pytest.mark.parametrize("payload", ['{"body": "a\\u0000b"}', '{"body": "a\\ud800b"}'])
def test_a_message_part_no_database_stores_is_a_400(client: Client, key: str, shop: Shop, payload: str) -> None:
    order = make_order(OrderState.SHIPPING, shop=shop, lines=1)

    response = client.post(f"/api/orders/{order.order_id}/threads", {"thread_input": payload}, **auth(key))

    assert assert_error(response, 400, "VALIDATION_ERROR")["message"].startswith("Partie thread_input invalide")
    assert not order.threads.exists()


def test_an_idempotency_key_with_a_control_character_is_a_400(client: Client, key: str) -> None:
    response = client.put("/api/orders/refund", "{}", content_type="application/json",
                          HTTP_IDEMPOTENCY_KEY="k\x00y", **auth(key))

    assert_error(response, 400, "IDEMPOTENCY_KEY_INVALID")


@pytest.mark.parametrize("duration", ["9999999999d", "999999999d999999999d", "3661d"])
def test_the_sandbox_clock_refuses_a_duration_past_ten_years(client: Client, op_key: str, comptoir_settings: Any,
                                                              fresh_clock: None, duration: str) -> None:
    # given sandbox mode on
    comptoir_settings(SANDBOX=True)

    # when the operator advances the clock by more than 3660 days (timedelta overflowed: 500)
    response = post(client, "/api/operator/clock/advance", op_key, {"duration": duration})

    # then 400 and the clock did not move
    assert assert_error(response, 400, "VALIDATION_ERROR")["field"] == "duration"
    assert body_of(get(client, "/api/operator/clock", op_key))["offset_seconds"] == 0


def test_a_body_past_the_upload_limit_is_a_413_with_the_error_body(client: Client, key: str, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000

    response = put(client, "/api/orders/refund", key, {"refunds": [{"order_line_id": "x" * 2000}]})

    assert_error(response, 413, "REQUEST_TOO_LARGE")


def test_too_many_query_fields_is_a_400_with_the_error_body(client: Client, key: str) -> None:
    query = "&".join(f"f{i}=1" for i in range(1200))  # past DATA_UPLOAD_MAX_NUMBER_FIELDS (Django: HTML 400)

    assert_error(client.get(f"/api/orders?{query}", **auth(key)), 400, "BAD_REQUEST")


def test_a_broken_multipart_body_is_a_400_with_the_error_body(client: Client, key: str, shop: Shop) -> None:
    order = make_order(OrderState.SHIPPING, shop=shop, lines=1)

    response = client.post(f"/api/orders/{order.order_id}/threads", b"garbage",
                           content_type="multipart/form-data", **auth(key))

    assert_error(response, 400, "BAD_REQUEST")


def test_every_operation_documents_its_client_errors_with_the_error_body(client: Client) -> None:
    schema = body_of(client.get("/api/openapi.json"))

    assert schema["components"]["schemas"]["Error"]["required"] == ["status", "message", "code"]
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            error = operation["responses"]["4XX"]["content"]["application/json"]["schema"]
            assert error == {"$ref": "#/components/schemas/Error"}, (method, path)
    assert "201" in schema["paths"]["/api/operator/payouts"]["post"]["responses"]
    assert {"200", "201"} <= set(schema["paths"]["/api/operator/orders"]["post"]["responses"])
