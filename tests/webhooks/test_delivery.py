"""Delivery to a real HTTP receiver on 127.0.0.1 that verifies each signature as the README describes: retries with
backoff on the sandbox clock, exactly once after dedup by event id, every attempt logged, DEAD, « Renvoyer »."""

from __future__ import annotations

import socket
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from comptoir.core import clock
from comptoir.orders.states import OrderState
from comptoir.shops.models import Shop
from comptoir.timers.sandbox import advance_clock
from comptoir.timers.worker import run_until_idle
from comptoir.webhooks import dispatch, services
from comptoir.webhooks.models import Attempt, Delivery, DeliveryState, Endpoint, WebhookEvent
from comptoir.webhooks.timers import fan_out, sweep_webhooks
from tests.factories import ShopFactory, make_order
from tests.webhooks.receiver import Receiver, running_receiver, verify

pytestmark = pytest.mark.django_db


@pytest.fixture
def sandbox(comptoir_settings: Any) -> None:
    comptoir_settings(SANDBOX=True)


def _register(shop: Shop, receiver: Receiver, types: list[str] | None = None) -> Endpoint:
    endpoint = services.create_endpoint(shop_id=shop.id, url=receiver.url, event_types=types)
    receiver.secret = endpoint.secret
    return endpoint


def _run_worker() -> None:
    run_until_idle("test-worker")


def test_every_call_is_signed_as_the_readme_says(receiver: Receiver) -> None:
    # given an endpoint and an order that reaches WAITING_ACCEPTANCE then WAITING_DEBIT
    shop = ShopFactory()
    _register(shop, receiver)
    order = make_order(OrderState.WAITING_DEBIT, shop=shop)

    # when the worker runs
    _run_worker()

    # then three events, each POSTed once, signed, with its id and type in the headers and the body
    assert len(receiver.calls) == 3 and all(call.signature_ok for call in receiver.calls)
    for call in receiver.calls:
        body = call.json
        assert call.headers["Content-Type"] == "application/json"
        assert call.headers["X-Comptoir-Event-Id"] == body["id"]
        assert call.headers["X-Comptoir-Event"] == body["type"]
        assert call.headers["X-Comptoir-Signature"].startswith(f"t={call.headers['X-Comptoir-Timestamp']},v1=")
        assert body["shop_id"] == shop.id and body["data"]["order_id"] == order.order_id
    assert sorted(c.json["type"] for c in receiver.calls) == ["OrderAwaitingAcceptance", "OrderStateChanged",
                                                              "OrderStateChanged"]
    assert set(Delivery.objects.values_list("state", flat=True)) == {DeliveryState.DELIVERED}


def test_a_wrong_secret_fails_the_receivers_check(receiver: Receiver) -> None:
    shop = ShopFactory()
    _register(shop, receiver)
    receiver.secret = "whsec_not_the_one"
    make_order(OrderState.WAITING_ACCEPTANCE, shop=shop)
    _run_worker()
    assert receiver.calls and not any(call.signature_ok for call in receiver.calls)
    assert set(Delivery.objects.values_list("last_status_code", flat=True)) == {400}


def test_a_receiver_failing_three_times_gets_each_event_exactly_once(receiver: Receiver, sandbox: None) -> None:
    # given a receiver that answers 500 to the first three calls of every event
    shop = ShopFactory()
    _register(shop, receiver)
    receiver.fail_per_event = 3
    make_order(OrderState.WAITING_ACCEPTANCE, shop=shop)  # a new order to accept, and its state change

    # when the worker runs, then again each time the sandbox clock passes a backoff (30 s, 2 min, 10 min)
    _run_worker()
    for step in (timedelta(seconds=31), timedelta(minutes=2, seconds=1), timedelta(minutes=10, seconds=1)):
        assert not receiver.processed
        advance_clock(by=step)
        _run_worker()

    # then every event was processed once, after four calls with the same id and the same body
    events = set(WebhookEvent.objects.values_list("event_id", flat=True))
    assert set(receiver.processed) == events and len(events) == 2
    assert receiver.seen == dict.fromkeys(events, 4)
    for event_id in events:
        bodies = {call.body for call in receiver.calls if call.headers["X-Comptoir-Event-Id"] == event_id}
        assert len(bodies) == 1
    for delivery in Delivery.objects.all():
        assert delivery.state == DeliveryState.DELIVERED and delivery.attempts == 4
        log = list(Attempt.objects.filter(delivery=delivery).order_by("started_at", "id"))
        assert [a.status_code for a in log] == [500, 500, 500, 200] and log[0].error == "HTTP 500"
    # and a delivery sent again (at least once: a crash before recording it) is dropped by the receiver
    delivery = Delivery.objects.first()
    assert delivery is not None
    services.redeliver(shop_id=shop.id, delivery_id=delivery.id)
    _run_worker()
    assert receiver.seen[delivery.event.event_id] == 5 and len(receiver.processed) == 2


def test_retries_wait_for_their_backoff(receiver: Receiver, sandbox: None) -> None:
    shop = ShopFactory()
    _register(shop, receiver, ["OrderAwaitingAcceptance"])
    receiver.default_status = 503
    make_order(OrderState.WAITING_ACCEPTANCE, shop=shop)
    _run_worker()
    _run_worker()  # nothing due yet
    assert len(receiver.calls) == 1
    delivery = Delivery.objects.get()
    assert delivery.state == DeliveryState.PENDING and delivery.last_status_code == 503
    assert timedelta(seconds=29) < delivery.next_attempt_at - clock.now() <= timedelta(seconds=30)


def test_after_the_last_attempt_the_delivery_is_dead_and_can_be_sent_again(receiver: Receiver, sandbox: None,
                                                                          comptoir_settings: Any) -> None:
    comptoir_settings(WEBHOOK_MAX_ATTEMPTS=2)
    shop = ShopFactory()
    _register(shop, receiver, ["OrderAwaitingAcceptance"])
    receiver.default_status = 500
    make_order(OrderState.WAITING_ACCEPTANCE, shop=shop)
    _run_worker()
    advance_clock(by=timedelta(minutes=1))
    _run_worker()
    delivery = Delivery.objects.get()
    assert delivery.state == DeliveryState.DEAD and delivery.attempts == 2
    advance_clock(by=timedelta(days=3))
    _run_worker()
    assert len(receiver.calls) == 2  # a dead delivery is not retried

    # « Renvoyer »: the same event again, accepted this time
    receiver.default_status = 200
    services.redeliver(shop_id=shop.id, delivery_id=delivery.id)
    _run_worker()
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.DELIVERED and Attempt.objects.filter(delivery=delivery).count() == 3
    assert {c.headers["X-Comptoir-Event-Id"] for c in receiver.calls} == {delivery.event.event_id}


def test_a_redirect_is_never_followed(receiver: Receiver) -> None:
    shop = ShopFactory()
    _register(shop, receiver, ["OrderAwaitingAcceptance"])
    receiver.default_status = 302
    make_order(OrderState.WAITING_ACCEPTANCE, shop=shop)
    _run_worker()
    delivery = Delivery.objects.get()
    assert delivery.state == DeliveryState.PENDING and delivery.last_status_code == 302
    assert "elsewhere.example.com" in delivery.last_error and "non suivie" in delivery.last_error
    assert len(receiver.calls) == 1


def test_a_slow_receiver_times_out(receiver: Receiver, comptoir_settings: Any) -> None:
    comptoir_settings(WEBHOOK_TIMEOUT_SECONDS=0.3)
    shop = ShopFactory()
    _register(shop, receiver, ["OrderAwaitingAcceptance"])
    receiver.delay_seconds = 1.0
    make_order(OrderState.WAITING_ACCEPTANCE, shop=shop)
    _run_worker()
    attempt = Attempt.objects.get()
    assert attempt.status_code is None and "timed out" in attempt.error
    assert attempt.duration_ms < 1000


def test_an_unreachable_endpoint_costs_a_batch_one_attempt(sandbox: None) -> None:
    # given an endpoint on a closed port and three events for it
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    shop = ShopFactory()
    services.create_endpoint(shop_id=shop.id, url=f"http://127.0.0.1:{port}/hooks")
    make_order(OrderState.WAITING_DEBIT, shop=shop)

    sweep_webhooks("test-worker")

    # then one attempt, refused; the other deliveries wait as long, without an attempt counted
    log = list(Attempt.objects.all())
    assert len(log) == 1 and log[0].status_code is None and "Connection refused" in log[0].error
    deliveries = list(Delivery.objects.order_by("id"))
    assert [d.attempts for d in deliveries] == [1, 0, 0]
    assert len({d.next_attempt_at for d in deliveries}) == 1 and deliveries[0].next_attempt_at > clock.now()
    assert all(d.claimed_until is None for d in deliveries)


def test_a_disabled_endpoint_keeps_its_deliveries_until_enabled_again(receiver: Receiver) -> None:
    shop = ShopFactory()
    endpoint = _register(shop, receiver, ["OrderAwaitingAcceptance"])
    make_order(OrderState.WAITING_ACCEPTANCE, shop=shop)
    fan_out(10)  # the delivery exists, then the endpoint is disabled
    services.update_endpoint(shop_id=shop.id, endpoint_id=endpoint.id, enabled=False)
    _run_worker()
    assert not receiver.calls and Delivery.objects.get().state == DeliveryState.PENDING
    services.update_endpoint(shop_id=shop.id, endpoint_id=endpoint.id, enabled=True)
    _run_worker()
    assert len(receiver.processed) == 1


def test_an_endpoint_gets_only_events_after_it_was_registered(receiver: Receiver) -> None:
    shop = ShopFactory()
    _register(shop, receiver, ["OrderAwaitingAcceptance"])
    make_order(OrderState.WAITING_ACCEPTANCE, shop=shop)
    late = Receiver()
    with running_receiver(late):
        _register(shop, late)
        _run_worker()
    assert len(receiver.processed) == 1 and not late.calls


def test_a_rotated_secret_signs_the_next_attempts(receiver: Receiver, sandbox: None) -> None:
    shop = ShopFactory()
    endpoint = _register(shop, receiver, ["OrderAwaitingAcceptance"])
    receiver.default_status = 500
    make_order(OrderState.WAITING_ACCEPTANCE, shop=shop)
    _run_worker()
    rotated = services.rotate_secret(shop_id=shop.id, endpoint_id=endpoint.id)
    assert rotated.secret != endpoint.secret
    receiver.secret, receiver.default_status = rotated.secret, 200
    advance_clock(by=timedelta(minutes=1))
    _run_worker()
    assert len(receiver.calls) == 2 and receiver.calls[1].signature_ok and len(receiver.processed) == 1
    second = receiver.calls[1]
    assert not verify(endpoint.secret, second.headers["X-Comptoir-Signature"], second.body, clock.real_now().timestamp())


def test_a_leased_delivery_is_not_claimed_twice_until_its_lease_expires(receiver: Receiver, sandbox: None) -> None:
    shop = ShopFactory()
    _register(shop, receiver, ["OrderAwaitingAcceptance"])
    make_order(OrderState.WAITING_ACCEPTANCE, shop=shop)
    sweep_webhooks("first")  # fans out and sends
    Delivery.objects.update(state=DeliveryState.PENDING, next_attempt_at=clock.now())  # as if due again

    claimed = dispatch.claim("first", 10)
    assert claimed and dispatch.claim("second", 10) == []
    advance_clock(by=timedelta(minutes=3))  # past the lease (a worker killed mid-batch)
    assert dispatch.claim("second", 10) == claimed


def test_the_readmes_python_receiver_verifies_a_real_delivery(receiver: Receiver) -> None:
    # given a real delivery caught by the test receiver
    shop = ShopFactory()
    endpoint = _register(shop, receiver, ["OrderAwaitingAcceptance"])
    make_order(OrderState.WAITING_ACCEPTANCE, shop=shop)
    _run_worker()
    call = receiver.calls[0]

    # and the Python receiver of the README's « Webhooks » section, run as written with the endpoint's secret
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Webhooks\n", 1)[1].split("\n## ", 1)[0]
    snippet = section.split("```python\n", 1)[1].split("```", 1)[0]
    assert 'SECRET = "whsec_..."' in snippet
    namespace: dict[str, Any] = {}
    exec(compile(snippet.replace('"whsec_..."', repr(endpoint.secret)), "README.md", "exec"), namespace)  # noqa: S102
    receive, verify_as_documented = namespace["receive"], namespace["verify"]

    # then it accepts it once (a second time it is a duplicate), and refuses a changed body or another secret
    assert receive(call.headers, call.body) == 200 and receive(call.headers, call.body) == 200
    assert namespace["processed"] == {call.headers["X-Comptoir-Event-Id"]}
    assert receive(call.headers, call.body.replace(b'"shop_id":', b'"shop_id": ')) == 400
    assert not verify_as_documented(call.body, call.headers["X-Comptoir-Signature"], "whsec_other")
    assert receive({**call.headers, "X-Comptoir-Signature": "t=1,v1=00"}, call.body) == 400
