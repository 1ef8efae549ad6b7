"""What a client gets when the server fails under it (issue 10, « Faults »): a database that is down or
restarting is a 503 with Retry-After (Mirakl's JSON body on the API, a French page in the back offices), any
other crash a 500 in JSON on the API; and a keyed write that crashed after writing keeps neither its writes nor
its key, so the client's retry runs exactly once. reliability/run.py checks the same on real processes
(`kill`, `pgrestart`)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import OperationalError
from django.test import Client

from comptoir.api.mirakl import orders as orders_api
from comptoir.api.mirakl import refunds as refunds_api
from comptoir.api.models import IdempotencyKey
from comptoir.customer import views as customer_views
from comptoir.ledger.models import LedgerEntry
from comptoir.orders.links import customer_path
from comptoir.orders.models import Order
from comptoir.orders.states import OrderState
from comptoir.refunds.models import Refund
from comptoir.refunds.services import ensure_default_reasons
from tests.factories import ShopFactory, make_order, shop_key


@pytest.fixture
def crash_client() -> Client:
    return Client(raise_request_exception=False)  # as gunicorn: the exception becomes the handler500 answer


def _down(*args: Any, **kwargs: Any) -> Any:
    raise OperationalError("connection failed: the database system is shutting down")


def _accept(client: Client, order: Order, key: str) -> Any:
    body = {"order_lines": [{"id": line.line_id, "accepted": True} for line in order.lines.all()]}
    return client.put(f"/api/orders/{order.order_id}/accept", json.dumps(body), content_type="application/json",
                      HTTP_AUTHORIZATION=key)


@pytest.mark.django_db
def test_a_database_restarting_under_an_api_call_is_a_503_with_retry_after(
        crash_client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    # given an order waiting for acceptance, and a database that drops the connection
    shop = ShopFactory()
    key = shop_key(shop)
    order = make_order(OrderState.WAITING_ACCEPTANCE, shop=shop, lines=1)
    monkeypatch.setattr(orders_api.services, "decide_lines", _down)

    # when the seller accepts
    response = _accept(crash_client, order, key)

    # then a 503 the client knows to retry, in Mirakl's error body
    assert response.status_code == 503
    assert response["Retry-After"] == "2"
    assert response["Content-Type"].startswith("application/json")
    body = json.loads(response.content)
    assert set(body) == {"status", "message", "code"}
    assert (body["status"], body["code"]) == (503, "SERVICE_UNAVAILABLE")
    assert "réessayez" in body["message"]
    assert Order.objects.get(pk=order.pk).state == OrderState.WAITING_ACCEPTANCE


@pytest.mark.django_db
def test_a_database_restarting_under_a_back_office_page_is_a_french_503_page(
        crash_client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    order = make_order(OrderState.SHIPPING, lines=1)
    monkeypatch.setattr(customer_views.queries, "order_detail", _down)

    response = crash_client.get(customer_path(order))

    assert response.status_code == 503 and response["Retry-After"] == "2"
    assert response["Content-Type"].startswith("text/html")
    assert "Service momentanément indisponible" in response.content.decode()


@pytest.mark.django_db
def test_any_other_crash_under_the_api_is_a_500_in_mirakls_error_body(
        crash_client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    shop = ShopFactory()
    order = make_order(OrderState.WAITING_ACCEPTANCE, shop=shop, lines=1)

    def bug(**kwargs: Any) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(orders_api.services, "decide_lines", bug)
    response = _accept(crash_client, order, shop_key(shop))

    assert response.status_code == 500 and not response.has_header("Retry-After")
    assert json.loads(response.content) == {"status": 500, "message": "Erreur interne du serveur.",
                                            "code": "INTERNAL_ERROR"}


@pytest.mark.django_db
def test_a_keyed_write_that_crashes_after_writing_keeps_nothing_and_its_retry_runs_once(
        crash_client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    # given a shipped order, and a server that crashes after the refund is written, before answering
    ensure_default_reasons()
    shop = ShopFactory()
    key = shop_key(shop)
    order = make_order(OrderState.SHIPPED, shop=shop, lines=1)
    line = order.lines.get()
    entries = LedgerEntry.objects.count()
    real = refunds_api._rows_json
    calls: list[int] = []

    def crash_once(*args: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("crashed while answering")
        return real(*args)

    monkeypatch.setattr(refunds_api, "_rows_json", crash_once)
    body = json.dumps({"refunds": [{"order_line_id": line.line_id, "reason_code": "22", "amount": 2.00}]})

    def send() -> Any:
        return crash_client.put("/api/orders/refund", body, content_type="application/json",
                                HTTP_AUTHORIZATION=key, HTTP_IDEMPOTENCY_KEY="after-write")

    # when the refund is sent, crashes, and is retried with the same key
    failed = send()
    assert failed.status_code == 500
    # then the crashed run left nothing: no refund, no ledger entry, no key
    assert not Refund.objects.exists() and LedgerEntry.objects.count() == entries
    assert not IdempotencyKey.objects.exists()
    retried = send()

    # and the retry refunded once, and is what a third try replays
    assert retried.status_code == 200, retried.content
    assert Refund.objects.count() == 1
    again = send()
    assert again["Idempotent-Replayed"] == "true" and again.content == retried.content
    assert Refund.objects.count() == 1
