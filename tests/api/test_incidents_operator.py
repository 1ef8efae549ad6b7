"""The operator API of incidents over HTTP: open and close on a line, list with filters, read one, start the
mediation, formal notice (24 business hours across a weekend), impose once expired, reopen; the JSON field by
field, and every kind of bad input answering Mirakl's error body and writing nothing."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from comptoir.incidents import services
from comptoir.incidents.models import Incident
from comptoir.incidents.rules import Solution, SolutionKind
from comptoir.notifications.models import OutboxEvent
from comptoir.orders.models import Order, OrderHistory, OrderLine
from comptoir.orders.services import Who
from comptoir.orders.states import Actor, OrderState
from comptoir.refunds import services as refund_services
from comptoir.refunds.models import Refund
from comptoir.shops.models import Shop
from tests.api.helpers import ISO_Z, assert_error, body_of, get, order_snapshot, post, put
from tests.factories import make_order

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
CUSTOMER = Who(Actor.CUSTOMER, "Jeanne Martin")
SELLER = Who(Actor.SELLER, "Boutique")
OPERATOR = Who(Actor.OPERATOR, "Support")
LIST = "/api/operator/incidents"
FIELDS = {
    "incident_id", "order_id", "order_line_id", "order_line_state", "shop_id", "state", "state_label",
    "reason_code", "reason_label", "description", "opened_by", "opened_by_name", "opened_date", "thread_id",
    "shop_resolution", "mediation", "mediation_started_date", "formal_notice_date", "formal_notice_due", "solution",
    "imposed", "imposed_date", "impose_error", "closed_date", "closed_by", "close_reason_code",
    "close_reason_label", "last_updated_date",
}


@pytest.fixture(autouse=True)
def _reasons(db: None) -> None:
    refund_services.ensure_default_reasons()


@pytest.fixture
def shipped(shop: Shop) -> Order:
    """Line 1: 10.00 € + 4.90 € shipping; line 2: 20.00 € + 4.90 €."""
    return make_order(OrderState.SHIPPED, shop=shop, lines=2)


def _line_id(order: Order, index: int = 0) -> str:
    return list(order.lines.order_by("index"))[index].line_id


def _url(order_id: str, line_id: str, action: str) -> str:
    return f"/api/operator/orders/{order_id}/lines/{line_id}/{action}"


def _open(order: Order, index: int = 0) -> Incident:
    (incident,) = services.open_incident(order_id=order.order_id, line_ids=[_line_id(order, index)],
                                         reason_code="1", who=CUSTOMER)
    return incident


def _unchanged(order: Order) -> tuple[Any, ...]:
    return (order_snapshot(order), Refund.objects.filter(order=order).count(),
            tuple(Incident.objects.filter(order=order).order_by("id").values_list(
                "state", "updated_at", "mediation_started_at", "formal_notice_due", "solution", "closed_at",
                "impose_error")),
            tuple(OrderLine.objects.filter(order=order).order_by("index").values_list("incident_state", flat=True)))


# --- open and close on a line --------------------------------------------------------------------------------------


def test_open_answers_201_with_the_incident_then_200_with_the_same_one(
    client: Client, op_key: str, shipped: Order
) -> None:
    # when the operator opens an incident on the first line, twice
    url = _url(shipped.order_id, _line_id(shipped), "open_incident")
    first = put(client, url, op_key, {"reason_code": "3", "description": "Taille différente de la commande."})
    second = put(client, url, op_key, {"reason_code": "2"})

    # then the new incident, field by field, and the second claim joins the first
    assert first.status_code == 201, first.content
    body = body_of(first)
    assert set(body) == FIELDS
    incident = Incident.objects.get()
    assert body["incident_id"] == incident.pk and body["order_id"] == shipped.order_id
    assert body["order_line_id"] == _line_id(shipped) and body["order_line_state"] == "INCIDENT_OPEN"
    assert (body["state"], body["state_label"], body["reason_code"], body["reason_label"]) == (
        "OPEN", "En cours", "3", "Article non conforme à la commande")
    assert body["description"] == "Taille différente de la commande." and body["opened_by"] == "OPERATOR"
    assert body["shop_id"] == shipped.shop_id and ISO_Z.match(body["opened_date"])
    assert body["mediation"] is False and body["imposed"] is False
    assert body["solution"] is None and body["formal_notice_due"] is None and body["closed_date"] is None
    assert second.status_code == 200 and body_of(second) == body
    assert OrderHistory.objects.filter(order=shipped, trigger="OPEN_INCIDENT").count() == 1
    assert {e.audience for e in OutboxEvent.objects.filter(event_type="IncidentOpened")} == {"CUSTOMER", "SELLER"}


@pytest.mark.parametrize(("target", "body", "status", "code"), [
    ("unknown_order", {"reason_code": "1"}, 404, "ORDER_NOT_FOUND"),
    ("unknown_line", {"reason_code": "1"}, 404, "ORDER_LINE_NOT_FOUND"),
    ("line", {}, 400, "VALIDATION_ERROR"),
    ("line", {"reason_code": ""}, 400, "INCIDENT_REASON_INVALID"),
    ("line", {"reason_code": "99"}, 400, "INCIDENT_REASON_INVALID"),
    ("line", {"reason_code": "10"}, 400, "INCIDENT_REASON_INVALID"),  # a closing reason
    ("line", {"reason_code": "1", "description": "x" * 5001}, 400, "VALIDATION_ERROR"),
    ("line", "{reason_code: 1}", 400, "VALIDATION_ERROR"),
    ("not_shipped", {"reason_code": "1"}, 400, "INCIDENT_NOT_ALLOWED"),
])
def test_open_bad_input_changes_nothing(
    client: Client, op_key: str, shop: Shop, shipped: Order, target: str, body: Any, status: int, code: str
) -> None:
    order = make_order(OrderState.WAITING_ACCEPTANCE, shop=shop) if target == "not_shipped" else shipped
    order_id = "NOPE-A" if target == "unknown_order" else order.order_id
    line_id = f"{order.order_id}-99" if target == "unknown_line" else _line_id(order)
    before = _unchanged(order)

    assert_error(put(client, _url(order_id, line_id, "open_incident"), op_key, body), status, code)

    assert _unchanged(order) == before and not Incident.objects.exists()


def test_the_operator_api_needs_the_operators_key(client: Client, key: str, shipped: Order) -> None:
    url = _url(shipped.order_id, _line_id(shipped), "open_incident")
    assert_error(put(client, url, key, {"reason_code": "1"}), 401, "UNAUTHORIZED")
    assert_error(get(client, LIST, key), 401, "UNAUTHORIZED")
    assert_error(get(client, LIST, None), 401, "UNAUTHORIZED")
    assert not Incident.objects.exists()


def test_close_confirms_the_sellers_resolution_or_closes_with_a_reason(
    client: Client, op_key: str, shipped: Order
) -> None:
    # given two incidents, the first one signaled resolved by the seller
    _open(shipped, 0)
    _open(shipped, 1)
    services.resolve(order_id=shipped.order_id, line_id=_line_id(shipped, 0), reason_code="12", who=SELLER,
                     shop_id=shipped.shop_id)

    # when the operator closes the first without a reason, the second with one
    first = put(client, _url(shipped.order_id, _line_id(shipped, 0), "close_incident"), op_key, {})
    second = put(client, _url(shipped.order_id, _line_id(shipped, 1), "close_incident"), op_key,
                 {"reason_code": "14", "note": "Photos sans rapport."})

    # then both closed, the first with the seller's reason; the order has no incident left
    assert first.status_code == 200, first.content
    one, two = body_of(first), body_of(second)
    assert (one["state"], one["close_reason_code"], one["closed_by"]) == ("CLOSED", "12", "OPERATOR")
    assert one["shop_resolution"]["reason_code"] == "12" and ISO_Z.match(one["shop_resolution"]["date"])
    assert one["order_line_state"] == "INCIDENT_CLOSED" and ISO_Z.match(one["closed_date"])
    assert (two["close_reason_code"], two["close_reason_label"]) == ("14", "Réclamation infondée")
    assert OrderHistory.objects.filter(order=shipped, trigger="CLOSE_INCIDENT").count() == 2
    assert Order.objects.get(pk=shipped.pk).has_incident is False


@pytest.mark.parametrize(("target", "body", "status", "code"), [
    ("unknown_order", {"reason_code": "10"}, 404, "ORDER_NOT_FOUND"),
    ("unknown_line", {"reason_code": "10"}, 404, "ORDER_LINE_NOT_FOUND"),
    ("quiet_line", {"reason_code": "10"}, 400, "INCIDENT_INVALID_STATE"),
    ("line", {}, 400, "INCIDENT_REASON_INVALID"),  # open, the seller gave no resolution: a reason is needed
    ("line", {"reason_code": "1"}, 400, "INCIDENT_REASON_INVALID"),
    ("line", {"reason_code": "nope"}, 400, "INCIDENT_REASON_INVALID"),
    ("line", '{"reason_code": ', 400, "VALIDATION_ERROR"),
])
def test_close_bad_input_changes_nothing(
    client: Client, op_key: str, shipped: Order, target: str, body: Any, status: int, code: str
) -> None:
    _open(shipped, 0)
    order_id = "NOPE-A" if target == "unknown_order" else shipped.order_id
    line_id = {"unknown_line": f"{shipped.order_id}-99", "quiet_line": _line_id(shipped, 1)}.get(
        target, _line_id(shipped, 0))
    before = _unchanged(shipped)

    assert_error(put(client, _url(order_id, line_id, "close_incident"), op_key, body), status, code)

    assert _unchanged(shipped) == before


# --- reading -----------------------------------------------------------------------------------------------------


def test_list_filters_and_pages(
    client: Client, op_key: str, shop: Shop, other_shop: Shop, test_clock: Any, django_assert_max_num_queries: Any
) -> None:
    # given on Friday 2026-12-04 at 15:00: an open incident, one in mediation with a formal notice, one closed,
    # and one at another shop
    test_clock.set(datetime(2026, 12, 4, 15, 0, tzinfo=PARIS))
    orders = [make_order(OrderState.SHIPPED, shop=shop, lines=1) for _ in range(3)]
    elsewhere = make_order(OrderState.SHIPPED, shop=other_shop, lines=1)
    plain, noticed, closed, other = (_open(order) for order in (*orders, elsewhere))
    services.send_formal_notice(incident_id=noticed.pk, who=OPERATOR,
                                solution=Solution(SolutionKind.REFUND))
    services.close(incident_id=closed.pk, who=OPERATOR, reason_code="10")

    def ids(**params: str) -> list[int]:
        body = body_of(get(client, LIST, op_key, params))
        assert body["total_count"] >= len(body["incidents"])
        return [i["incident_id"] for i in body["incidents"]]

    # then each filter keeps its incidents, newest first
    assert ids() == [other.pk, closed.pk, noticed.pk, plain.pk]
    assert ids(state="OPEN") == [other.pk, noticed.pk, plain.pk]
    assert ids(state="CLOSED,SHOP_RESOLVED") == [closed.pk]
    assert ids(shop_id=str(other_shop.id)) == [other.pk]
    assert ids(in_mediation="true") == [noticed.pk]
    assert ids(in_mediation="false", shop_id=str(shop.id)) == [closed.pk, plain.pk]
    assert ids(order_id=orders[0].order_id) == [plain.pk]
    assert ids(formal_notice="running") == [noticed.pk] and ids(formal_notice="expired") == []
    assert ids(formal_notice="none") == [other.pk, closed.pk, plain.pk]
    # Monday 15:01, the 24 business hours are over: the notice is due
    test_clock.set(datetime(2026, 12, 7, 15, 1, tzinfo=PARIS))
    assert ids(formal_notice="expired") == [noticed.pk] and ids(formal_notice="running") == []
    with django_assert_max_num_queries(4):
        page = body_of(get(client, LIST, op_key, {"max": "2", "offset": "1"}))
    assert page["total_count"] == 4 and [i["incident_id"] for i in page["incidents"]] == [closed.pk, noticed.pk]


@pytest.mark.parametrize(("params", "field"), [
    ({"state": "OUVERT"}, "state"), ({"in_mediation": "maybe"}, "in_mediation"),
    ({"formal_notice": "soon"}, "formal_notice"), ({"max": "0"}, "max"), ({"max": "101"}, "max"),
    ({"offset": "-1"}, "offset"), ({"shop_id": "abc"}, "shop_id"),
])
def test_list_bad_parameters_are_400(client: Client, op_key: str, params: dict[str, str], field: str) -> None:
    assert assert_error(get(client, LIST, op_key, params), 400, "VALIDATION_ERROR")["field"] == field


def test_get_one_and_unknown_ones(client: Client, op_key: str, shipped: Order) -> None:
    incident = _open(shipped)
    found = get(client, f"{LIST}/{incident.pk}", op_key)
    assert found.status_code == 200 and body_of(found)["incident_id"] == incident.pk
    assert set(body_of(found)) == FIELDS and body_of(found)["opened_by"] == "CUSTOMER"
    for unknown in (str(incident.pk + 1000), "abc", "-1"):
        assert_error(get(client, f"{LIST}/{unknown}", op_key), 404, "INCIDENT_NOT_FOUND")


# --- mediation ---------------------------------------------------------------------------------------------------


def test_start_mediation_once(client: Client, op_key: str, shipped: Order) -> None:
    incident = _open(shipped)
    url = f"{LIST}/{incident.pk}/start_mediation"

    started = post(client, url, op_key)
    before = _unchanged(shipped)
    again = post(client, url, op_key)

    assert started.status_code == 200 and body_of(started)["mediation"] is True
    assert ISO_Z.match(body_of(started)["mediation_started_date"])
    assert OrderHistory.objects.filter(order=shipped, trigger="START_MEDIATION").count() == 1
    assert_error(again, 400, "INCIDENT_INVALID_STATE")
    assert_error(post(client, f"{LIST}/999999/start_mediation", op_key), 404, "INCIDENT_NOT_FOUND")
    assert _unchanged(shipped) == before


def test_a_formal_notice_gives_24_business_hours_then_the_refund_is_imposed_for_good(
    client: Client, op_key: str, shipped: Order, test_clock: Any
) -> None:
    # given an incident on Friday 2026-12-04 at 15:00
    test_clock.set(datetime(2026, 12, 4, 15, 0, tzinfo=PARIS))
    incident = _open(shipped)

    # when the operator serves a formal notice of 7.50 €
    notice = post(client, f"{LIST}/{incident.pk}/formal_notice", op_key, {"amount": 7.5, "note": "Colis perdu"})

    # then due Monday 15:00 Paris (14:00 UTC), mediation started, the solution described
    assert notice.status_code == 200, notice.content
    body = body_of(notice)
    assert body["formal_notice_due"] == "2026-12-07T14:00:00Z" and body["mediation"] is True
    assert body["solution"] == {"kind": "REFUND", "amount": 7.5, "note": "Colis perdu",
                                "label": "remboursement de 7,50 € — Colis perdu"}
    assert OrderHistory.objects.filter(order=shipped, trigger="FORMAL_NOTICE").count() == 1
    assert_error(post(client, f"{LIST}/{incident.pk}/formal_notice", op_key, {}), 400, "INCIDENT_INVALID_STATE")

    # when imposing before the deadline, then refused and nothing refunded
    test_clock.set(datetime(2026, 12, 7, 14, 59, tzinfo=PARIS))
    before = _unchanged(shipped)
    assert "court encore" in assert_error(post(client, f"{LIST}/{incident.pk}/impose", op_key), 400,
                                          "INCIDENT_INVALID_STATE")["message"]
    assert _unchanged(shipped) == before

    # when imposing after it, then the refund is made and the incident closed for good
    test_clock.set(datetime(2026, 12, 7, 15, 1, tzinfo=PARIS))
    imposed = post(client, f"{LIST}/{incident.pk}/impose", op_key)
    assert imposed.status_code == 200, imposed.content
    done = body_of(imposed)
    assert (done["state"], done["imposed"], done["close_reason_code"]) == ("CLOSED", True, "OPERATOR_MEDIATION")
    assert done["order_line_state"] == "INCIDENT_CLOSED" and ISO_Z.match(done["imposed_date"])
    refund = Refund.objects.get()
    assert refund.reason_code == "OPERATOR_MEDIATION" and refund.amount_cents + refund.shipping_cents == 750
    assert_error(post(client, f"{LIST}/{incident.pk}/impose", op_key), 400, "INCIDENT_INVALID_STATE")
    assert Refund.objects.count() == 1


def test_a_formal_notice_without_amount_is_the_whole_line(client: Client, op_key: str, shipped: Order) -> None:
    incident = _open(shipped)
    body = body_of(post(client, f"{LIST}/{incident.pk}/formal_notice", op_key, {}))
    assert body["solution"]["amount"] is None and body["solution"]["label"] == "remboursement intégral de la ligne"


@pytest.mark.parametrize(("body", "code"), [
    ({"amount": 0}, "INCIDENT_SOLUTION_INVALID"),
    ({"amount": -5}, "INCIDENT_SOLUTION_INVALID"),
    ({"amount": 1.234}, "INCIDENT_SOLUTION_INVALID"),
    ({"amount": 1e40}, "INCIDENT_SOLUTION_INVALID"),  # beyond any amount
    ({"amount": "beaucoup"}, "VALIDATION_ERROR"),
    ({"amount": 5, "note": "x" * 501}, "VALIDATION_ERROR"),
    ('{"amount": 5', "VALIDATION_ERROR"),
])
def test_formal_notice_bad_amounts_change_nothing(
    client: Client, op_key: str, shipped: Order, body: Any, code: str
) -> None:
    incident = _open(shipped)
    before = _unchanged(shipped)

    assert_error(post(client, f"{LIST}/{incident.pk}/formal_notice", op_key, body), 400, code)

    assert _unchanged(shipped) == before


def test_formal_notice_impose_and_reopen_on_unknown_or_closed_incidents(
    client: Client, op_key: str, shipped: Order
) -> None:
    incident = _open(shipped)
    assert_error(post(client, f"{LIST}/{incident.pk}/impose", op_key), 400, "INCIDENT_INVALID_STATE")  # no notice
    services.close(incident_id=incident.pk, who=OPERATOR, reason_code="10")
    before = _unchanged(shipped)
    for action in ("formal_notice", "impose", "reopen", "start_mediation"):
        assert_error(post(client, f"{LIST}/{incident.pk}/{action}", op_key, {}), 400, "INCIDENT_INVALID_STATE")
        assert_error(post(client, f"{LIST}/424242/{action}", op_key, {}), 404, "INCIDENT_NOT_FOUND")
        assert_error(post(client, f"{LIST}/x/{action}", op_key, {}), 404, "INCIDENT_NOT_FOUND")
    assert _unchanged(shipped) == before


def test_reopen_after_the_sellers_resolution(client: Client, op_key: str, shipped: Order) -> None:
    # given an open incident: reopening it is refused
    incident = _open(shipped)
    assert_error(post(client, f"{LIST}/{incident.pk}/reopen", op_key), 400, "INCIDENT_INVALID_STATE")
    services.resolve(order_id=shipped.order_id, line_id=_line_id(shipped), reason_code="11", who=SELLER,
                     shop_id=shipped.shop_id)

    # when the operator reopens the one the seller signaled resolved, with a note
    response = post(client, f"{LIST}/{incident.pk}/reopen", op_key, {"note": "Le client n'a rien reçu."})

    # then open again, the note in the history
    assert response.status_code == 200 and body_of(response)["state"] == "OPEN"
    row = OrderHistory.objects.get(order=shipped, trigger="REOPEN_INCIDENT")
    assert row.reason_label == "Le client n'a rien reçu." and row.actor == "OPERATOR"
