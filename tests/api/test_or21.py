"""OR21 PUT /api/orders/{order_id}/accept over HTTP: a decision per line; a refused call changes nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from comptoir.orders.models import Order
from comptoir.orders.states import OrderState
from comptoir.shops.models import Shop
from comptoir.timers.models import Timer
from tests.api.helpers import assert_error, order_snapshot, put, shared_rows
from tests.factories import ShopFactory, make_order, shop_key

pytestmark = pytest.mark.django_db


def _url(order_id: str) -> str:
    return f"/api/orders/{order_id}/accept"


def _line_ids(order: Order) -> list[str]:
    return list(order.lines.order_by("index").values_list("line_id", flat=True))


def _decide(*pairs: tuple[str, object]) -> dict:
    return {"order_lines": [{"id": line_id, "accepted": accepted} for line_id, accepted in pairs]}


def _states(order: Order) -> tuple[str, list[str]]:
    fresh = Order.objects.get(pk=order.pk)
    return fresh.state, list(fresh.lines.order_by("index").values_list("state", flat=True))


@pytest.fixture
def waiting(shop: Shop) -> Order:
    return make_order(OrderState.WAITING_ACCEPTANCE, shop=shop, lines=2)


@pytest.fixture(scope="module")
def untouchable(django_db_setup: None, django_db_blocker: Any) -> Iterator[tuple[str, Order]]:
    """A key and an order waiting for acceptance, shared by the bad-body cases: none of them may change it."""
    with shared_rows(django_db_blocker):
        shop = ShopFactory()
        yield shop_key(shop), make_order(OrderState.WAITING_ACCEPTANCE, shop=shop, lines=2)


# --- decisions ---------------------------------------------------------------------------------------


def test_accepting_every_line_answers_204_and_moves_to_waiting_debit(
    client: Client, key: str, waiting: Order
) -> None:
    # given an order waiting for acceptance
    first, second = _line_ids(waiting)

    # when the seller accepts both lines
    response = put(client, _url(waiting.order_id), key, _decide((first, True), (second, True)))

    # then 204 with an empty body, the order and its lines wait for the debit, a debit is scheduled
    assert response.status_code == 204
    assert response.content == b""
    assert _states(waiting) == (
        OrderState.WAITING_DEBIT,
        [OrderState.WAITING_DEBIT, OrderState.WAITING_DEBIT],
    )
    fresh = Order.objects.get(pk=waiting.pk)
    assert fresh.acceptance_decision_date is not None
    assert Timer.objects.filter(order=fresh, kind="DEBIT", state="PENDING").count() == 1
    assert not Timer.objects.filter(order=fresh, kind="AUTO_REFUSE", state="PENDING").exists()


def test_refusing_one_line_refuses_it_and_debits_the_other(client: Client, key: str, waiting: Order) -> None:
    # given an order of two lines
    first, second = _line_ids(waiting)

    # when the seller accepts the first and refuses the second (in reverse order in the body)
    response = put(client, _url(waiting.order_id), key, _decide((second, False), (first, True)))

    # then the order waits for the debit of the first line; the second is refused
    assert response.status_code == 204
    assert _states(waiting) == (OrderState.WAITING_DEBIT, [OrderState.WAITING_DEBIT, OrderState.REFUSED])
    refused = Order.objects.get(pk=waiting.pk).lines.get(line_id=second)
    assert refused.state_reason_code


def test_refusing_every_line_refuses_the_order(client: Client, key: str, waiting: Order) -> None:
    # given an order of two lines
    first, second = _line_ids(waiting)

    # when the seller refuses both
    response = put(client, _url(waiting.order_id), key, _decide((first, False), (second, False)))

    # then the order is refused and nothing is to be debited
    assert response.status_code == 204
    assert _states(waiting) == (OrderState.REFUSED, [OrderState.REFUSED, OrderState.REFUSED])
    assert not Timer.objects.filter(order=waiting, kind="DEBIT", state="PENDING").exists()


def test_the_accept_works_with_a_bearer_key_and_the_shops_own_shop_id(
    client: Client, shop: Shop, key: str, waiting: Order
) -> None:
    first, second = _line_ids(waiting)
    response = client.put(
        f"{_url(waiting.order_id)}?shop_id={shop.id}",
        json.dumps(_decide((first, True), (second, True))),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert response.status_code == 204
    assert _states(waiting)[0] == OrderState.WAITING_DEBIT


# --- refusals that change nothing ---------------------------------------------------------------------

FIRST, SECOND = "<first>", "<second>"


def _fill(template: object, ids: dict[str, str]) -> object:
    """Replace the line placeholders by the order's line ids in a body template."""
    text = json.dumps(template)
    for placeholder, line_id in ids.items():
        text = text.replace(placeholder, line_id)
    return json.loads(text)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        pytest.param('{"order_lines": [', "VALIDATION_ERROR", id="malformed-json"),
        pytest.param("", "VALIDATION_ERROR", id="empty-body"),
        pytest.param("null", "VALIDATION_ERROR", id="json-null"),
        pytest.param("[]", "VALIDATION_ERROR", id="json-array"),
        pytest.param({}, "VALIDATION_ERROR", id="order-lines-missing"),
        pytest.param({"order_lines": None}, "VALIDATION_ERROR", id="order-lines-null"),
        pytest.param(
            {"order_lines": {"id": FIRST, "accepted": True}}, "VALIDATION_ERROR", id="order-lines-object"
        ),
        pytest.param({"order_lines": []}, "VALIDATION_ERROR", id="empty-list"),
        pytest.param(
            {"order_lines": [{"id": FIRST, "accepted": True}, None]},
            "ORDER_LINE_NULL_ELEMENT",
            id="null-element",
        ),
        pytest.param(
            _decide((FIRST, True), (SECOND, True), ("NOPE-1", True)),
            "ORDER_LINE_NOT_FOUND",
            id="unknown-line",
        ),
        pytest.param(
            _decide((FIRST, True)), "ORDER_LINE_ACCEPTANCE_DECISION_MISSING", id="line-without-decision"
        ),
        pytest.param(
            _decide((FIRST, True), (SECOND, True), (FIRST, False)),
            "ORDER_LINE_DUPLICATE_ID",
            id="duplicate-id",
        ),
        pytest.param(_decide((FIRST, "yes"), (SECOND, True)), "VALIDATION_ERROR", id="accepted-a-string"),
        pytest.param(_decide((FIRST, "true"), (SECOND, True)), "VALIDATION_ERROR", id="accepted-string-true"),
        pytest.param(_decide((FIRST, 1), (SECOND, True)), "VALIDATION_ERROR", id="accepted-a-number"),
        pytest.param(_decide((FIRST, None), (SECOND, True)), "VALIDATION_ERROR", id="accepted-null"),
        pytest.param(
            {"order_lines": [{"id": FIRST}, {"id": SECOND, "accepted": True}]},
            {"VALIDATION_ERROR", "ORDER_LINE_ACCEPTANCE_DECISION_MISSING"},
            id="accepted-missing",
        ),
        pytest.param(
            {"order_lines": [{"accepted": True}, {"id": SECOND, "accepted": True}]},
            "VALIDATION_ERROR",
            id="id-missing",
        ),
        pytest.param(
            {"order_lines": [{"id": 12, "accepted": True}, {"id": SECOND, "accepted": True}]},
            {"VALIDATION_ERROR", "ORDER_LINE_NOT_FOUND"},
            id="id-a-number",
        ),
    ],
)
def test_a_bad_body_is_400_with_its_code_and_changes_nothing(
    client: Client, untouchable: tuple[str, Order], body: object, code: str | set[str]
) -> None:
    # given an order waiting for acceptance
    key, waiting = untouchable
    first, second = _line_ids(waiting)
    payload = body if isinstance(body, str) else _fill(body, {FIRST: first, SECOND: second})
    before = order_snapshot(waiting)

    # when the seller sends a bad decision
    response = put(client, _url(waiting.order_id), key, payload)

    # then 400 with Mirakl's body and the named code, and the order exactly as it was
    assert_error(response, 400, code)
    assert order_snapshot(waiting) == before


def test_a_line_of_another_order_is_not_found_and_changes_neither_order(
    client: Client, shop: Shop, key: str, waiting: Order
) -> None:
    # given two orders of the same shop waiting for acceptance
    other = make_order(OrderState.WAITING_ACCEPTANCE, shop=shop, lines=1)
    first, second = _line_ids(waiting)
    (stranger,) = _line_ids(other)
    before, other_before = order_snapshot(waiting), order_snapshot(other)

    # when the seller slips the other order's line into the decision
    body = _decide((first, True), (second, True), (stranger, True))
    response = put(client, _url(waiting.order_id), key, body)

    # then the line is unknown to this order, and neither order moved
    assert_error(response, 400, "ORDER_LINE_NOT_FOUND")
    assert order_snapshot(waiting) == before
    assert order_snapshot(other) == other_before


@pytest.mark.parametrize(
    "state",
    [
        OrderState.STAGING,
        OrderState.WAITING_DEBIT,
        OrderState.SHIPPING,
        OrderState.REFUSED,
        OrderState.CANCELED,
    ],
)
def test_an_order_not_waiting_for_acceptance_is_400_invalid_state(
    client: Client, shop: Shop, key: str, state: OrderState
) -> None:
    # given an order that is not (or no longer) waiting for acceptance
    order = make_order(state, shop=shop, lines=2)
    first, second = _line_ids(order)
    before = order_snapshot(order)

    # when the seller sends a decision
    response = put(client, _url(order.order_id), key, _decide((first, True), (second, True)))

    # then 400 ORDER_INVALID_STATE and nothing moved
    assert_error(response, 400, "ORDER_INVALID_STATE")
    assert order_snapshot(order) == before


def test_a_decision_sent_twice_is_refused_the_second_time(client: Client, key: str, waiting: Order) -> None:
    # given an order the seller just accepted
    first, second = _line_ids(waiting)
    body = _decide((first, True), (second, False))
    assert put(client, _url(waiting.order_id), key, body).status_code == 204
    after_first = order_snapshot(waiting)

    # when the same call (or the opposite one) is replayed
    replay = put(client, _url(waiting.order_id), key, body)
    flip = put(client, _url(waiting.order_id), key, _decide((first, False), (second, True)))

    # then both are refused and the first decision stands
    assert_error(replay, 400, "ORDER_INVALID_STATE")
    assert_error(flip, 400, "ORDER_INVALID_STATE")
    assert order_snapshot(waiting) == after_first
    assert _states(waiting) == (OrderState.WAITING_DEBIT, [OrderState.WAITING_DEBIT, OrderState.REFUSED])


def test_an_unknown_order_is_404_order_not_found(client: Client, key: str) -> None:
    response = put(client, _url("NOPE-A"), key, _decide(("NOPE-A-1", True)))
    assert_error(response, 404, "ORDER_NOT_FOUND")


def test_another_shops_order_is_404_and_says_nothing_about_it(
    client: Client, other_shop: Shop, key: str
) -> None:
    # given an order of another shop waiting for acceptance
    theirs = make_order(OrderState.WAITING_ACCEPTANCE, shop=other_shop, lines=2)
    first, second = _line_ids(theirs)
    before = order_snapshot(theirs)

    # when this shop tries to accept it, with the right line ids
    response = put(client, _url(theirs.order_id), key, _decide((first, True), (second, True)))
    unknown = put(client, _url("NOPE-A"), key, _decide((first, True), (second, True)))

    # then the same 404 as for an order that does not exist, nothing about it, and it did not move
    body = assert_error(response, 404, "ORDER_NOT_FOUND")
    unknown_body = assert_error(unknown, 404, "ORDER_NOT_FOUND")
    assert body["message"].replace(theirs.order_id, "X") == unknown_body["message"].replace("NOPE-A", "X")
    for leak in (OrderState.WAITING_ACCEPTANCE, str(other_shop.id), other_shop.name, first, "Jeanne"):
        assert leak not in response.content.decode(), leak
    assert order_snapshot(theirs) == before


def test_a_bad_body_on_another_shops_order_still_reveals_nothing(
    client: Client, other_shop: Shop, key: str
) -> None:
    # given another shop's order; when this shop sends a decision naming an unknown line
    theirs = make_order(OrderState.WAITING_ACCEPTANCE, shop=other_shop, lines=1)
    response = put(client, _url(theirs.order_id), key, _decide(("NOPE-1", True)))

    # then 404, not a line-level error that would confirm the order exists
    assert_error(response, 404, "ORDER_NOT_FOUND")


def test_accept_without_a_key_is_401_and_changes_nothing(client: Client, waiting: Order) -> None:
    first, second = _line_ids(waiting)
    before = order_snapshot(waiting)
    response = put(client, _url(waiting.order_id), None, _decide((first, True), (second, True)))
    assert_error(response, 401, "UNAUTHORIZED")
    assert order_snapshot(waiting) == before


def test_the_operator_key_cannot_accept_for_the_seller(client: Client, op_key: str, waiting: Order) -> None:
    first, second = _line_ids(waiting)
    before = order_snapshot(waiting)
    response = put(client, _url(waiting.order_id), op_key, _decide((first, True), (second, True)))
    assert_error(response, 401, "UNAUTHORIZED")
    assert order_snapshot(waiting) == before
