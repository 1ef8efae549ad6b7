"""`Idempotency-Key` on the API's writes, over HTTP: a replay answers the first response and refunds once, a
reused key with another request is a 409, a 5xx is forgotten, and racing duplicates run once (both databases)."""

from __future__ import annotations

import http.client
import json
import threading
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.http import HttpResponse
from django.test import Client, RequestFactory

from comptoir.api.idempotency import IdempotencyMiddleware
from comptoir.api.mirakl import refunds as refunds_api
from comptoir.api.models import IdempotencyKey
from comptoir.ledger.models import LedgerEntry
from comptoir.orders.models import Order, OrderLine
from comptoir.orders.states import OrderState
from comptoir.refunds.models import Refund
from comptoir.refunds.services import ensure_default_reasons
from comptoir.shops.models import Shop
from tests.api.helpers import assert_error
from tests.factories import ShopFactory, make_order, shop_key

REFUND = "/api/orders/refund"


@pytest.fixture(autouse=True)
def _reasons(db: None) -> None:
    ensure_default_reasons()


def _line(order: Order) -> OrderLine:
    return order.lines.order_by("index").first()  # type: ignore[return-value]


def _body(line: OrderLine, amount: float = 2.00) -> dict[str, Any]:
    return {"refunds": [{"order_line_id": line.line_id, "reason_code": "22", "amount": amount}]}


def _send(client: Client, key: str, idem: str | None, body: Any, path: str = REFUND, method: str = "put") -> Any:
    headers = {"HTTP_AUTHORIZATION": key}
    if idem is not None:
        headers["HTTP_IDEMPOTENCY_KEY"] = idem
    return getattr(client, method)(path, json.dumps(body), content_type="application/json", **headers)


@pytest.fixture
def shipped(shop: Shop) -> Order:
    return make_order(OrderState.SHIPPED, shop=shop, lines=1)


@pytest.mark.django_db
def test_a_replay_answers_the_first_response_and_refunds_once(client: Client, key: str, shipped: Order) -> None:
    # given a refund sent with an idempotency key
    body = _body(_line(shipped))
    first = _send(client, key, "retry-1", body)
    assert first.status_code == 200, first.content
    entries = LedgerEntry.objects.count()

    # when the connector retries it (its connection dropped before the answer)
    again = _send(client, key, "retry-1", body)

    # then the same answer, marked as replayed, and a single refund in the books
    assert again.status_code == 200
    assert again.content == first.content
    assert again["Content-Type"] == "application/json"
    assert again["Idempotent-Replayed"] == "true" and not first.has_header("Idempotent-Replayed")
    assert Refund.objects.count() == 1
    assert LedgerEntry.objects.count() == entries
    row = IdempotencyKey.objects.get()
    assert (row.method, row.path, row.status, row.key) == ("PUT", REFUND, 200, "retry-1")
    assert len(row.scope) == 64 and key not in row.scope


@pytest.mark.django_db
def test_a_refused_request_is_replayed_too(client: Client, key: str, shipped: Order) -> None:
    # given a refund refused for its amount
    body = _body(_line(shipped), amount=99.00)
    first = _send(client, key, "too-much", body)
    assert_error(first, 400, "REFUND_AMOUNT_EXCEEDED")

    # when it is retried with the same key
    again = _send(client, key, "too-much", body)

    # then the same 400, from the stored answer
    assert again.status_code == 400 and again.content == first.content
    assert again["Idempotent-Replayed"] == "true"


@pytest.mark.django_db
def test_the_same_key_with_another_body_or_path_is_a_409(client: Client, key: str, shipped: Order) -> None:
    # given a refund done with a key
    line = _line(shipped)
    assert _send(client, key, "k-1", _body(line)).status_code == 200

    # when the key comes back with another amount, another path, another method
    other_body = _send(client, key, "k-1", _body(line, amount=3.00))
    other_path = _send(client, key, "k-1", _body(line), path="/api/orders/refund/preview", method="post")
    other_query = _send(client, key, "k-1", _body(line), path=f"{REFUND}?shop_id={shipped.shop_id}")

    # then 409, and nothing more was refunded
    for response in (other_body, other_path, other_query):
        assert "autre requête" in assert_error(response, 409, "IDEMPOTENCY_KEY_REUSED")["message"]
    assert Refund.objects.count() == 1


@pytest.mark.django_db
def test_keys_belong_to_one_api_key(client: Client, key: str, shipped: Order, other_shop: Shop) -> None:
    # given a key used by this shop, and another shop's order
    assert _send(client, key, "shared", _body(_line(shipped))).status_code == 200
    theirs = make_order(OrderState.SHIPPED, shop=other_shop, lines=1)

    # when the other shop uses the same key for its own refund
    response = _send(client, shop_key(other_shop), "shared", _body(_line(theirs)))

    # then it runs: keys of different callers never meet
    assert response.status_code == 200 and not response.has_header("Idempotent-Replayed")
    assert Refund.objects.count() == 2


@pytest.mark.django_db
def test_a_key_longer_than_255_characters_or_blank_is_a_400(client: Client, key: str, shipped: Order) -> None:
    for idem in ("x" * 256, "   "):
        assert_error(_send(client, key, idem, _body(_line(shipped))), 400, "IDEMPOTENCY_KEY_INVALID")
    assert _send(client, key, "y" * 255, _body(_line(shipped))).status_code == 200
    assert Refund.objects.count() == 1


@pytest.mark.django_db
def test_without_a_key_or_on_a_read_nothing_is_stored(client: Client, key: str, shipped: Order) -> None:
    assert _send(client, key, None, _body(_line(shipped))).status_code == 200
    read = client.get("/api/orders", HTTP_AUTHORIZATION=key, HTTP_IDEMPOTENCY_KEY="read-1")
    assert read.status_code == 200
    assert not IdempotencyKey.objects.exists()


@pytest.mark.django_db
def test_a_5xx_is_not_kept_and_the_retry_runs_again(
    key: str, shipped: Order, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a refund whose first run crashes inside the server
    client = Client(raise_request_exception=False)
    real = refunds_api.services.refund_lines
    calls = []

    def crash_once(**kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("payment provider unreachable")
        return real(**kwargs)

    monkeypatch.setattr(refunds_api.services, "refund_lines", crash_once)
    body = _body(_line(shipped))

    # when it is sent, then retried with the same key
    failed = _send(client, key, "crash-1", body)
    assert failed.status_code == 500
    assert not IdempotencyKey.objects.exists()
    retried = _send(client, key, "crash-1", body)

    # then the retry ran (no replay of the 500) and refunded once
    assert retried.status_code == 200, retried.content
    assert not retried.has_header("Idempotent-Replayed")
    assert len(calls) == 2 and Refund.objects.count() == 1
    assert IdempotencyKey.objects.get().status == 200


@pytest.mark.django_db
def test_a_key_in_flight_is_a_409(client: Client, key: str, shipped: Order) -> None:
    # given a first request with this key still running (its row has no answer yet)
    seen: list[Any] = []

    def inner(request: Any) -> HttpResponse:
        seen.append(_send(client, key, "busy", _body(_line(shipped))))  # the retry arrives meanwhile
        return HttpResponse(b"{}", content_type="application/json")

    request = RequestFactory().put(REFUND, json.dumps(_body(_line(shipped))), content_type="application/json",
                                   HTTP_AUTHORIZATION=key, HTTP_IDEMPOTENCY_KEY="busy")

    # when the first request runs
    IdempotencyMiddleware(inner)(request)

    # then the retry that came meanwhile got a 409 and ran nothing
    (retry,) = seen
    assert "en cours" in assert_error(retry, 409, "IDEMPOTENCY_KEY_IN_USE")["message"]
    assert not Refund.objects.exists()


@pytest.mark.django_db
def test_a_key_is_free_again_after_24_hours(client: Client, key: str, shipped: Order, test_clock: Any) -> None:
    from datetime import timedelta

    # given a key used for a refund, and another request whose process died (its row never got an answer)
    assert _send(client, key, "daily", _body(_line(shipped))).status_code == 200
    IdempotencyKey.objects.create(scope=IdempotencyKey.objects.get(key="daily").scope, key="dead", method="PUT",
                                  path=REFUND, body_sha256="x", created_date=test_clock.now())
    assert _send(client, key, "dead", _body(_line(shipped), 1.00)).status_code == 409
    assert _send(client, key, "forgotten", _body(_line(shipped), 0.50)).status_code == 200  # never reused

    # when a day has passed
    test_clock.advance(timedelta(hours=24, seconds=1))

    # then both keys run anew: the old answers are not replayed
    again = _send(client, key, "daily", _body(_line(shipped), 1.00))
    assert again.status_code == 200 and again.get("Idempotent-Replayed") is None
    assert _send(client, key, "dead", _body(_line(shipped), 1.00)).status_code == 200
    assert Refund.objects.count() == 4
    # and the expired rows of this caller are gone, not kept forever
    assert IdempotencyKey.objects.filter(created_date__lt=test_clock.now() - timedelta(hours=24)).count() == 0


# --- real concurrency ----------------------------------------------------------------------------------------

RACERS = 8


def _race(base_url: str, key: str, idem: str, body: dict[str, Any]) -> list[tuple[int, bytes, str | None]]:
    parts = urlsplit(base_url)
    payload = json.dumps(body).encode()
    barrier = threading.Barrier(RACERS)
    results: list[tuple[int, bytes, str | None]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def racer() -> None:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        try:
            connection.connect()
            barrier.wait(timeout=30)
            connection.request("PUT", REFUND, body=payload, headers={
                "Authorization": key, "Content-Type": "application/json", "Idempotency-Key": idem})
            response = connection.getresponse()
            raw = response.read()
            with lock:
                results.append((response.status, raw, response.getheader("Idempotent-Replayed")))
        except BaseException as exc:  # reported by the main thread
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=racer) for _ in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert not errors, errors
    assert len(results) == RACERS
    return results


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_run_once(live_server: Any) -> None:
    # given a shipped order, and eight connections sending the same refund with the same key at once
    ensure_default_reasons()
    shop = ShopFactory()
    key = shop_key(shop)
    order = make_order(OrderState.SHIPPED, shop=shop, lines=1)

    # when they race
    results = _race(live_server.url, key, "race-1", _body(_line(order)))

    # then one refund was made; each answer is that refund (run or replayed) or a 409 "in use"
    assert Refund.objects.count() == 1
    ran = [r for r in results if r[0] == 200 and r[2] is None]
    assert len(ran) == 1, [(s, h) for s, _, h in results]
    for status, raw, replayed in results:
        if status == 200:
            assert raw == ran[0][1]
        else:
            assert status == 409 and json.loads(raw)["code"] == "IDEMPOTENCY_KEY_IN_USE", (status, raw)
            assert replayed is None
    assert IdempotencyKey.objects.get().status == 200
