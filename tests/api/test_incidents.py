"""Incidents through the seller API over HTTP: OR64 (the seller signals an incident resolved) with every kind of
bad input writing nothing, the OR11 line state (INCIDENT_OPEN, INCIDENT_CLOSED, the workflow state after a full
refund) and the `has_incident` filter on real incidents, and the schema listing the incident endpoints."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from comptoir.incidents import services
from comptoir.incidents.models import Incident
from comptoir.notifications.models import OutboxEvent
from comptoir.orders.models import Order, OrderHistory, OrderLine
from comptoir.orders.services import Who
from comptoir.orders.states import Actor, OrderState
from comptoir.refunds import services as refund_services
from comptoir.shops.models import Shop
from tests.api.helpers import assert_error, body_of, get, order_snapshot, put
from tests.factories import make_order

pytestmark = pytest.mark.django_db

CUSTOMER = Who(Actor.CUSTOMER, "Jeanne Martin")
OPERATOR = Who(Actor.OPERATOR, "Support")
SELLER = Who(Actor.SELLER, "Boutique")


@pytest.fixture(autouse=True)
def _reasons(db: None) -> None:
    refund_services.ensure_default_reasons()


@pytest.fixture
def shipped(shop: Shop) -> Order:
    return make_order(OrderState.SHIPPED, shop=shop, lines=2)


def _lines(order: Order) -> list[OrderLine]:
    return list(order.lines.order_by("index"))


def _open(order: Order, index: int = 0, reason: str = "2") -> Incident:
    (incident,) = services.open_incident(order_id=order.order_id, line_ids=[_lines(order)[index].line_id],
                                         reason_code=reason, who=CUSTOMER, description="Carton écrasé.")
    return incident


def _resolve_url(order_id: str, line_id: str) -> str:
    return f"/api/orders/{order_id}/lines/{line_id}/resolve_incident"


def _unchanged(order: Order) -> tuple[Any, ...]:
    """The order (history rows, outbox events, lines) and its incidents: what a refused call must not touch."""
    return (order_snapshot(order),
            tuple(Incident.objects.filter(order=order).order_by("id").values_list(
                "state", "updated_at", "shop_resolved_at", "shop_resolution_code", "closed_at")),
            tuple(OrderLine.objects.filter(order=order).order_by("index").values_list("incident_state", flat=True)))


def _or11_lines(client: Client, key: str, order: Order) -> dict[str, str]:
    body = body_of(get(client, "/api/orders", key, {"order_ids": order.order_id}))
    (found,) = body["orders"]
    return {line["order_line_id"]: line["order_line_state"] for line in found["order_lines"]}


# --- OR64 --------------------------------------------------------------------------------------------------------


def test_or64_signals_the_incident_resolved_with_a_204_and_one_history_row(
    client: Client, key: str, shipped: Order
) -> None:
    # given an incident the customer opened on the first line
    incident = _open(shipped)
    line = _lines(shipped)[0]

    # when the seller signals it resolved
    response = put(client, _resolve_url(shipped.order_id, line.line_id), key, {"reason_code": "11"})

    # then 204 without a body; the incident waits for the operator, the line still shows INCIDENT_OPEN
    assert response.status_code == 204 and response.content == b""
    incident.refresh_from_db()
    assert incident.state == "SHOP_RESOLVED" and incident.shop_resolution_code == "11"
    assert incident.shop_resolution_label == "Article livré au client"
    row = OrderHistory.objects.get(order=shipped, trigger="RESOLVE_INCIDENT")
    assert row.line_id == line.line_id and row.actor == "SELLER" and row.details["incident_id"] == incident.pk
    assert OutboxEvent.objects.filter(event_type="IncidentResolutionSignaled", audience="OPERATOR").count() == 1
    assert _or11_lines(client, key, shipped)[line.line_id] == "INCIDENT_OPEN"
    assert Order.objects.get(pk=shipped.pk).has_incident is True


def test_or64_again_after_success_is_a_clear_400_and_never_a_second_row(
    client: Client, key: str, shipped: Order
) -> None:
    # given an incident the seller already signaled resolved
    _open(shipped)
    url = _resolve_url(shipped.order_id, _lines(shipped)[0].line_id)
    assert put(client, url, key, {"reason_code": "11"}).status_code == 204
    before = _unchanged(shipped)

    # when the same call comes again, then again with an Idempotency-Key (first run, then its replay)
    again = put(client, url, key, {"reason_code": "11"})
    first = client.put(url, json.dumps({"reason_code": "12"}), content_type="application/json",
                       HTTP_AUTHORIZATION=key, HTTP_IDEMPOTENCY_KEY="or64-1")
    replay = client.put(url, json.dumps({"reason_code": "12"}), content_type="application/json",
                        HTTP_AUTHORIZATION=key, HTTP_IDEMPOTENCY_KEY="or64-1")

    # then a 400 saying why, replayed as such, and nothing written
    body = assert_error(again, 400, "INCIDENT_INVALID_STATE")
    assert "résolu selon le vendeur" in body["message"]
    assert_error(first, 400, "INCIDENT_INVALID_STATE")
    assert replay.status_code == 400 and replay["Idempotent-Replayed"] == "true"
    assert _unchanged(shipped) == before
    assert OrderHistory.objects.filter(order=shipped, trigger="RESOLVE_INCIDENT").count() == 1


@pytest.mark.parametrize(("target", "body", "status", "code"), [
    ("unknown_order", {"reason_code": "11"}, 404, "ORDER_NOT_FOUND"),
    ("unknown_line", {"reason_code": "11"}, 404, "ORDER_LINE_NOT_FOUND"),
    ("other_shop", {"reason_code": "11"}, 404, "ORDER_NOT_FOUND"),
    ("line", {}, 400, "VALIDATION_ERROR"),
    ("line", {"reason_code": ""}, 400, "INCIDENT_REASON_INVALID"),
    ("line", {"reason_code": "  "}, 400, "INCIDENT_REASON_INVALID"),
    ("line", {"reason_code": "99"}, 400, "INCIDENT_REASON_INVALID"),
    ("line", {"reason_code": "OPERATOR_MEDIATION"}, 400, "INCIDENT_REASON_INVALID"),  # the operator's only
    ("line", {"reason_code": "1"}, 400, "INCIDENT_REASON_INVALID"),  # an opening reason, not a closing one
    ("line", {"reason_code": 11}, 400, "VALIDATION_ERROR"),
    ("line", '{"reason_code": "11"', 400, "VALIDATION_ERROR"),
    ("line", "", 400, "VALIDATION_ERROR"),
    ("line", "[]", 400, "VALIDATION_ERROR"),
    ("quiet_line", {"reason_code": "11"}, 400, "INCIDENT_INVALID_STATE"),  # no incident on that line
])
def test_or64_bad_input_is_a_mirakl_error_and_changes_nothing(
    client: Client, key: str, shipped: Order, other_key: str, target: str, body: Any, status: int, code: str
) -> None:
    # given an open incident on the first line
    _open(shipped)
    first, second = _lines(shipped)
    order_id, line_id, caller = shipped.order_id, first.line_id, key
    if target == "unknown_order":
        order_id = "NOPE-A"
    elif target == "unknown_line":
        line_id = f"{shipped.order_id}-99"
    elif target == "other_shop":
        caller = other_key
    elif target == "quiet_line":
        line_id = second.line_id
    before = _unchanged(shipped)

    # when the seller calls OR64
    response = put(client, _resolve_url(order_id, line_id), caller, body)

    # then Mirakl's error body, and nothing changed
    assert_error(response, status, code)
    assert _unchanged(shipped) == before
    assert Incident.objects.get().state == "OPEN"


def test_or64_on_a_closed_incident_is_a_400(client: Client, key: str, shipped: Order) -> None:
    incident = _open(shipped)
    services.close(incident_id=incident.pk, who=OPERATOR, reason_code="10")
    before = _unchanged(shipped)

    response = put(client, _resolve_url(shipped.order_id, _lines(shipped)[0].line_id), key, {"reason_code": "11"})

    assert "clos" in assert_error(response, 400, "INCIDENT_INVALID_STATE")["message"]
    assert _unchanged(shipped) == before


def test_or64_needs_the_shops_key(client: Client, shipped: Order, op_key: str) -> None:
    _open(shipped)
    url = _resolve_url(shipped.order_id, _lines(shipped)[0].line_id)
    before = _unchanged(shipped)
    assert_error(put(client, url, None, {"reason_code": "11"}), 401, "UNAUTHORIZED")
    assert_error(put(client, url, op_key, {"reason_code": "11"}), 401, "UNAUTHORIZED")
    assert _unchanged(shipped) == before


# --- OR11 --------------------------------------------------------------------------------------------------------


def test_or11_line_state_follows_the_incident_and_the_order_keeps_its_state(
    client: Client, key: str, shipped: Order
) -> None:
    # given a shipped order of two lines
    first, second = (line.line_id for line in _lines(shipped))
    assert _or11_lines(client, key, shipped) == {first: "SHIPPED", second: "SHIPPED"}

    # when an incident opens on the first line, then the operator closes it
    incident = _open(shipped)
    opened = _or11_lines(client, key, shipped)
    services.close(incident_id=incident.pk, who=OPERATOR, reason_code="12")
    closed = _or11_lines(client, key, shipped)

    # then the line shows INCIDENT_OPEN then INCIDENT_CLOSED, the other line and the order stay SHIPPED
    assert opened == {first: "INCIDENT_OPEN", second: "SHIPPED"}
    assert closed == {first: "INCIDENT_CLOSED", second: "SHIPPED"}
    by_state = body_of(get(client, "/api/orders", key, {"order_state_codes": "SHIPPED"}))
    assert [o["order_id"] for o in by_state["orders"]] == [shipped.order_id]
    assert by_state["orders"][0]["order_state"] == "SHIPPED" and by_state["orders"][0]["has_incident"] is False
    assert body_of(get(client, "/api/orders", key, {"order_state_codes": "INCIDENT_OPEN"}))["orders"] == []


def test_or11_a_refund_closes_the_incident_a_full_one_shows_the_line_refunded(
    client: Client, key: str, shipped: Order
) -> None:
    # given incidents on both lines
    first, second = (line.line_id for line in _lines(shipped))
    _open(shipped, 0)
    _open(shipped, 1)

    # when the seller gives back 5 € on the first line and refunds the second one entirely (OR28)
    partial = {"order_line_id": first, "reason_code": "20", "amount": 5.00}
    full = {"order_line_id": second, "reason_code": "18", "amount": 20.00, "shipping_amount": 4.90}
    response = put(client, "/api/orders/refund", key, {"refunds": [partial, full]})

    # then both incidents are closed: the first line shows INCIDENT_CLOSED, the refunded one its workflow state
    assert response.status_code == 200, response.content
    assert set(Incident.objects.values_list("state", "close_reason_code")) == {("CLOSED", "REFUNDED")}
    assert _or11_lines(client, key, shipped) == {first: "INCIDENT_CLOSED", second: "REFUNDED"}
    assert body_of(get(client, "/api/orders", key, {"has_incident": "true"}))["orders"] == []


def test_or11_has_incident_filter_on_real_incidents(client: Client, shop: Shop, key: str) -> None:
    # given three shipped orders: one quiet, one with an open incident, one whose incident was signaled resolved
    quiet, troubled, resolving = (make_order(OrderState.SHIPPED, shop=shop, lines=1) for _ in range(3))
    _open(troubled)
    _open(resolving)
    services.resolve(order_id=resolving.order_id, line_id=_lines(resolving)[0].line_id, reason_code="10",
                     who=SELLER, shop_id=shop.id)

    def ids(value: str | None) -> list[str]:
        params = {} if value is None else {"has_incident": value}
        return sorted(o["order_id"] for o in body_of(get(client, "/api/orders", key, params))["orders"])

    # then true: the live ones (signaled resolved is still live); false: the quiet one; all and absent: every one
    assert ids("true") == sorted([troubled.order_id, resolving.order_id])
    assert ids("false") == [quiet.order_id]
    assert ids("all") == ids(None) == sorted([quiet.order_id, troubled.order_id, resolving.order_id])

    # when the operator confirms the resolution, the order leaves the "true" side
    services.close(incident_id=Incident.objects.get(order=resolving).pk, who=OPERATOR)
    assert ids("true") == [troubled.order_id]
    assert ids("false") == sorted([quiet.order_id, resolving.order_id])


def test_or11_with_incidents_costs_no_query_per_order(
    client: Client, shop: Shop, key: str, django_assert_max_num_queries: Any
) -> None:
    # given five shipped orders, three with an incident
    orders = [make_order(OrderState.SHIPPED, shop=shop, lines=2) for _ in range(5)]
    for order in orders[:3]:
        _open(order)

    # when listing them, then the page costs what a page without incidents costs (test_or11: six at most)
    with django_assert_max_num_queries(6):
        body = body_of(get(client, "/api/orders", key, {"max": "50"}))
    states = [line["order_line_state"] for o in body["orders"] for line in o["order_lines"]]
    assert states.count("INCIDENT_OPEN") == 3 and states.count("SHIPPED") == 7


# --- the schema --------------------------------------------------------------------------------------------------


def test_the_schema_lists_or64_and_the_operator_incident_endpoints(client: Client) -> None:
    schema = json.loads(client.get("/api/openapi.json").content)
    paths = schema["paths"]
    or64 = paths["/api/orders/{order_id}/lines/{order_line_id}/resolve_incident"]["put"]
    assert or64["operationId"] == "OR64" and "204" in or64["responses"]
    for path, method in {
        "/api/operator/incidents": "get",
        "/api/operator/incidents/{incident_id}": "get",
        "/api/operator/orders/{order_id}/lines/{order_line_id}/open_incident": "put",
        "/api/operator/orders/{order_id}/lines/{order_line_id}/close_incident": "put",
        "/api/operator/incidents/{incident_id}/start_mediation": "post",
        "/api/operator/incidents/{incident_id}/formal_notice": "post",
        "/api/operator/incidents/{incident_id}/impose": "post",
        "/api/operator/incidents/{incident_id}/reopen": "post",
    }.items():
        assert method in paths[path], path
