"""Every operation of /api/openapi.json documents its answers: a schema for its success status (a JSON body, a file,
or no body for a 204) and Mirakl's error body for the client errors it can answer. The fuzzer
(reliability/fuzz.py) checks every answer against them; here, real answers of the demo marketplace too."""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema_rs
import pytest
from django.test import Client

from comptoir.ops.demo import load_demo

ERROR_REF = {"$ref": "#/components/schemas/Error"}
SELLER, OPERATOR = "demo-shop-2001", "demo-operator"  # ops/demo.py


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    from comptoir.api.urls import api

    return json.loads(json.dumps(api.get_openapi_schema()))  # as served: keys are strings


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, operation) for path, methods in document["paths"].items()
            for method, operation in methods.items()]


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _template(document: dict[str, Any], path: str) -> str:
    """The documented path `path` is an instance of (a literal path before a templated one)."""
    for template in sorted(document["paths"], key=lambda t: t.count("{")):
        if re.fullmatch(re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(template)), path):
            return template
    raise AssertionError(f"{path} is not documented")


def _validator(document: dict[str, Any], schema: dict[str, Any]) -> Any:
    # "#/components/schemas/..." resolves inside the schema itself (jsonschema_rs: schemathesis' validator)
    return jsonschema_rs.Draft202012Validator({**schema, "components": document["components"]})


def test_every_operation_documents_its_success_answer_with_a_schema(document: dict[str, Any]) -> None:
    operations = _operations(document)
    assert len(operations) >= 70
    undocumented = []
    for path, method, operation in operations:
        successes = {status: answer for status, answer in operation["responses"].items() if status.startswith("2")}
        if not successes:
            undocumented.append((method, path, "no 2xx"))
        for status, answer in successes.items():
            content = answer.get("content")
            if status == "204":
                if content:
                    undocumented.append((method, path, "204 with a body"))
                continue
            if not content:
                undocumented.append((method, path, status, "no content"))
                continue
            for media, body in content.items():
                schema = _resolve(document, body.get("schema") or {})
                if media == "application/json":
                    # a real shape: its keys (not « any object »), each typed
                    if not schema.get("properties") or schema.get("additionalProperties") is True:
                        undocumented.append((method, path, status, "free-form JSON"))
                    elif set(schema.get("required", [])) - set(schema["properties"]):
                        undocumented.append((method, path, status, "required key without a schema"))
                elif schema.get("type") != "string":
                    undocumented.append((method, path, status, media, "file without a schema"))
    assert undocumented == []


def test_every_operation_documents_the_client_errors_it_can_answer_with_the_error_body(
        document: dict[str, Any]) -> None:
    missing = []
    for path, method, operation in _operations(document):
        responses = operation["responses"]
        expected = {"400", "4XX"}
        if operation.get("security"):
            expected.add("401")
            if not path.startswith("/api/operator/"):
                expected |= {"404", "429"}  # the key's shop_id; the seller API's rate limits
        if "{" in path:
            expected.add("404")
        if method != "get":
            expected.add("409")  # an Idempotency-Key reused or still running
        for status in sorted(expected):
            schema = responses.get(status, {}).get("content", {}).get("application/json", {}).get("schema")
            if schema != ERROR_REF:
                missing.append((method, path, status))
    assert missing == []
    error = document["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"status", "message", "code"}


def test_a_body_that_breaks_its_schema_is_caught(document: dict[str, Any]) -> None:
    # given RE01's documented answer
    schema = document["paths"]["/api/reasons"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    validator = _validator(document, schema)

    # then a right body passes, a missing key or a wrong type does not
    validator.validate({"reasons": [{"code": "R1", "label": "x", "type": "REFUND", "is_shop_right": True}]})
    with pytest.raises(jsonschema_rs.ValidationError):
        validator.validate({"reasons": [{"code": "R1", "label": "x", "type": "REFUND"}]})
    with pytest.raises(jsonschema_rs.ValidationError):
        validator.validate({"reasons": [{"code": 1, "label": "x", "type": "REFUND", "is_shop_right": True}]})


# Reads answered with data by the demo marketplace: (path, key).
READS = [
    ("/api/account", SELLER), ("/api/version", SELLER), ("/api/sellerpayment/transactions_logs", SELLER),
    ("/api/shipments", SELLER), ("/api/shipments/items_to_ship", SELLER), ("/api/shipping/carriers", SELLER),
    ("/api/reasons", SELLER), ("/api/reasons/INCIDENT_OPEN", SELLER), ("/api/documents", SELLER),
    ("/api/inbox/threads?with_messages=true", SELLER), ("/api/webhooks", SELLER), ("/api/shops/scorecard", SELLER),
    ("/api/orders?max=100", SELLER), ("/api/operator/orders?max=20", OPERATOR), ("/api/operator/clock", OPERATOR),
    ("/api/operator/payouts", OPERATOR), ("/api/operator/outbox", OPERATOR), ("/api/operator/carriers", OPERATOR),
    ("/api/operator/incidents?max=100", OPERATOR), ("/api/orders/documents?order_ids=none", SELLER),
    ("/api/operator/incidents/0", OPERATOR), ("/api/orders?max=1000", SELLER),
]


@pytest.mark.django_db
def test_real_answers_of_the_demo_marketplace_match_their_documented_schema(document: dict[str, Any]) -> None:
    # given the demo marketplace (orders in every state, threads, incidents, shipments, a payout)
    load_demo()
    client = Client()
    checked: set[str] = set()

    # when every read is called, then each answer matches the schema of its status
    for url, key in READS:
        response = client.get(url, HTTP_AUTHORIZATION=key)
        path = url.split("?", 1)[0]
        template = _template(document, path)
        answers = document["paths"][template]["get"]["responses"]
        status = str(response.status_code)
        documented = answers.get(status) or answers["4XX"]
        schema = documented["content"]["application/json"]["schema"]
        body = response.json()
        errors = list(_validator(document, schema).iter_errors(body))
        assert not errors, (url, status, [f"{list(e.instance_path)}: {e.message}" for e in errors[:5]])
        checked.add(status)
    assert {"200", "400", "404"} <= checked

    # and OR11's orders (its schema, api/mirakl/orders.py, lists them as free objects) have the shape of the
    # operator API's documented order, MiraklOrder, the customer's e-mail aside
    orders = client.get("/api/orders?max=100&paginate=false", HTTP_AUTHORIZATION=SELLER).json()["orders"]
    assert len(orders) > 10
    validator = _validator(document, {"$ref": "#/components/schemas/MiraklOrder"})
    for order in orders:
        assert "email" not in order["customer"]
        errors = list(validator.iter_errors(order))
        assert not errors, [f"{list(e.instance_path)}: {e.message}" for e in errors[:5]]

    # and the nested shapes were reached (not only empty lists)
    threads = client.get("/api/inbox/threads?with_messages=true", HTTP_AUTHORIZATION=SELLER).json()["data"]
    assert threads and threads[0]["messages"], "the demo has threads with messages"
    incidents = client.get("/api/operator/incidents", HTTP_AUTHORIZATION=OPERATOR).json()["incidents"]
    assert incidents, "the demo has incidents"
