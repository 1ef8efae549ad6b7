"""The request id: taken from a sane X-Request-ID or generated, returned in the response, carried by the log
records of the request, written on the outbox rows of the request, and logged again by the worker that
delivers them."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Callable, Iterator

import pytest
from django.test import Client

from comptoir.notifications.dispatch import sweep_outbox
from comptoir.notifications.models import OutboxEvent
from comptoir.observability.logs import JsonFormatter, RequestIdFilter
from comptoir.orders.states import OrderState
from comptoir.shops.models import Shop
from tests.factories import make_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def json_log() -> Iterator[Callable[[str, int], list[dict]]]:
    """json_log("comptoir.outbox") → the JSON lines that logger writes from now on (formatted as in production)."""
    attached: list[tuple[logging.Logger, logging.Handler, int]] = []
    streams: dict[str, io.StringIO] = {}

    def capture(name: str, level: int = logging.INFO) -> list[dict]:
        if name not in streams:
            streams[name] = io.StringIO()
            handler = logging.StreamHandler(streams[name])
            handler.setFormatter(JsonFormatter())
            handler.addFilter(RequestIdFilter())
            logger = logging.getLogger(name)
            attached.append((logger, handler, logger.level))
            logger.addHandler(handler)
            logger.setLevel(level)
        return [json.loads(line) for line in streams[name].getvalue().splitlines()]

    yield capture
    for logger, handler, level in attached:
        logger.removeHandler(handler)
        logger.setLevel(level)


def test_a_sane_incoming_request_id_is_returned_and_logged(client: Client, key: str, json_log) -> None:
    # given the per-request log on
    json_log("comptoir.access")

    # when a connector sends its own request id
    response = client.get("/api/orders", HTTP_AUTHORIZATION=key, HTTP_X_REQUEST_ID="conn-42.a:b")

    # then it comes back, and the request's log line carries it with the route and status
    assert response.status_code == 200
    assert response["X-Request-ID"] == "conn-42.a:b"
    (line,) = json_log("comptoir.access")
    assert line["request_id"] == "conn-42.a:b"
    assert (line["method"], line["route"], line["status"]) == ("GET", "api/orders", 200)
    assert line["logger"] == "comptoir.access" and line["level"] == "INFO"


@pytest.mark.parametrize("incoming", [None, "", "two words", "x" * 65, "inject\nfake line", 'quote"d'])
def test_a_missing_or_unsafe_request_id_is_replaced_by_a_generated_one(client: Client, incoming: str | None) -> None:
    headers = {} if incoming is None else {"HTTP_X_REQUEST_ID": incoming}

    response = client.get("/healthz", **headers)

    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


def test_two_requests_get_two_ids(client: Client) -> None:
    assert client.get("/healthz")["X-Request-ID"] != client.get("/healthz")["X-Request-ID"]


def test_djangos_own_warning_of_a_refused_call_carries_the_request_id(client: Client, json_log) -> None:
    json_log("django.request", logging.WARNING)

    response = client.get("/api/orders", HTTP_X_REQUEST_ID="no-key-call")  # no API key: 401

    assert response.status_code == 401
    lines = json_log("django.request")
    assert [line["request_id"] for line in lines] == ["no-key-call"]
    assert lines[0]["status_code"] == 401


def test_the_request_id_goes_into_the_outbox_and_into_the_workers_delivery_log(
    client: Client, shop: Shop, key: str, json_log
) -> None:
    # given an order waiting for acceptance (its own events written outside any request)
    order = make_order(OrderState.WAITING_ACCEPTANCE, shop=shop)
    assert set(OutboxEvent.objects.filter(order_id=order.order_id).values_list("request_id", flat=True)) == {""}
    lines = list(order.lines.values_list("line_id", flat=True))

    # when the seller accepts it over the API with a request id
    response = client.put(f"/api/orders/{order.order_id}/accept",
                          json.dumps({"order_lines": [{"id": line, "accepted": True} for line in lines]}),
                          content_type="application/json", HTTP_AUTHORIZATION=key, HTTP_X_REQUEST_ID="accept-7")

    # then the events of that call carry the id
    assert response.status_code == 204
    accepted = OutboxEvent.objects.get(order_id=order.order_id, event_type="OrderAccepted")
    assert accepted.request_id == "accept-7"

    # and the worker that delivers them logs it
    json_log("comptoir.outbox")
    sweep_outbox("w-request-id")
    delivered = {line["event_id"]: line for line in json_log("comptoir.outbox") if "delivered" in line["message"]}
    assert delivered[accepted.id]["request_id"] == "accept-7"
    assert delivered[accepted.id]["event_type"] == "OrderAccepted"
    earlier = OutboxEvent.objects.get(order_id=order.order_id, event_type="OrderAwaitingAcceptance")
    assert delivered[earlier.id]["request_id"] is None  # written outside a request: no id borrowed
