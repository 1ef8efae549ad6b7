"""The operator API over HTTP: idempotent import, fraud gate, orders of every shop, sandbox clock and bank."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.http import HttpResponse
from django.test import Client

from comptoir.catalog.models import Offer
from comptoir.core import clock
from comptoir.orders.models import CommercialOrder, Order, OrderHistory, OrderLine
from comptoir.orders.states import OrderState
from comptoir.payments.models import Payment, PaymentOperation, SimulatedCharge
from comptoir.shops.models import Shop
from comptoir.timers.models import Timer
from comptoir.timers.worker import run_until_idle
from tests.api.helpers import assert_error, body_of, get, order_snapshot, post, put
from tests.factories import ADDRESS, OfferFactory, make_order

pytestmark = pytest.mark.django_db

ORDERS = "/api/operator/orders"


def _import_body(commercial_id: str, lines: list[tuple[Offer, int]]) -> dict:
    return {
        "commercial_id": commercial_id,
        "customer": {
            "customer_id": "cust-42",
            "civility": "M",
            "firstname": "Paul",
            "lastname": "Durand",
            "email": "paul.durand@example.com",
            "billing_address": {**ADDRESS, "firstname": "Paul", "lastname": "Durand"},
            "shipping_address": {**ADDRESS, "firstname": "Paul", "lastname": "Durand"},
        },
        "offers": [
            {
                "offer_id": offer.id,
                "quantity": quantity,
                "offer_price": offer.price_cents / 100,
                "shipping_price": 4.9,
            }
            for offer, quantity in lines
        ],
    }


def _counts() -> tuple[int, ...]:
    return (
        CommercialOrder.objects.count(),
        Order.objects.count(),
        OrderLine.objects.count(),
        OrderHistory.objects.count(),
        Payment.objects.count(),
        SimulatedCharge.objects.count(),
        Timer.objects.count(),
    )


@pytest.fixture
def cart(shop: Shop, other_shop: Shop) -> dict:
    """A cart with two offers of one shop and one of another."""
    return _import_body(
        "CART1001",
        [
            (OfferFactory(shop=shop, price_cents=1250), 2),
            (OfferFactory(shop=other_shop, price_cents=990), 1),
            (OfferFactory(shop=shop, price_cents=500), 1),
        ],
    )


# --- import ------------------------------------------------------------------------------------------


def test_import_creates_one_staging_order_per_shop(
    client: Client, op_key: str, shop: Shop, other_shop: Shop, cart: dict
) -> None:
    # given a cart spanning two shops; when the storefront imports it
    response = post(client, ORDERS, op_key, cart)

    # then 201, one order per shop suffixed -A / -B (by shop id), each in STAGING with its own lines
    assert response.status_code == 201, response.content
    body = body_of(response)
    assert body["commercial_id"] == "CART1001"
    orders = {o["order_id"]: o for o in body["orders"]}
    assert set(orders) == {"CART1001-A", "CART1001-B"}
    first, second = sorted([shop, other_shop], key=lambda s: s.id)
    assert orders["CART1001-A"]["shop_id"] == first.id
    assert orders["CART1001-B"]["shop_id"] == second.id
    assert {o["order_state"] for o in body["orders"]} == {"STAGING"}
    mine = Order.objects.get(shop=shop)
    assert mine.lines.count() == 2
    assert mine.total_price_cents == 2 * 1250 + 500 + 2 * 490
    assert orders[mine.order_id]["total_price"] == 39.8
    assert Order.objects.get(shop=other_shop).lines.count() == 1


def test_replaying_the_same_import_answers_200_with_the_same_orders(
    client: Client, op_key: str, cart: dict
) -> None:
    # given an imported cart
    first = post(client, ORDERS, op_key, cart)
    counts = _counts()

    # when the storefront sends the very same body again (a retry)
    replay = post(client, ORDERS, op_key, cart)

    # then 200, the same order ids, and nothing new written
    assert first.status_code == 201 and replay.status_code == 200
    assert [o["order_id"] for o in body_of(replay)["orders"]] == [
        o["order_id"] for o in body_of(first)["orders"]
    ]
    assert _counts() == counts


def test_a_replay_serialized_differently_is_still_the_same_import(
    client: Client, op_key: str, cart: dict
) -> None:
    # given an imported cart
    first = post(client, ORDERS, op_key, cart)
    counts = _counts()

    # when a retry sends the same document with other key order and spacing (another JSON library, say)
    reordered = json.dumps(dict(reversed(list(cart.items()))), indent=2, sort_keys=True)
    replay = post(client, ORDERS, op_key, reordered)

    # then it is recognised as the same import, not a conflict
    assert first.status_code == 201
    assert replay.status_code == 200, replay.content
    assert body_of(replay)["orders"] == body_of(first)["orders"]
    assert _counts() == counts


def test_another_cart_under_the_same_commercial_id_is_409(client: Client, op_key: str, cart: dict) -> None:
    # given an imported cart
    assert post(client, ORDERS, op_key, cart).status_code == 201
    counts = _counts()

    # when a different cart reuses its commercial id
    changed = copy.deepcopy(cart)
    changed["offers"][0]["quantity"] = 3
    response = post(client, ORDERS, op_key, changed)

    # then 409 and nothing changes
    assert_error(response, 409, "ORDER_ALREADY_IMPORTED")
    assert _counts() == counts
    assert Order.objects.get(order_id="CART1001-A").lines.order_by("index").first().quantity == 2


def _break(cart: dict, how: str) -> object:
    broken = copy.deepcopy(cart)
    if how == "unknown-offer":
        broken["offers"][1]["offer_id"] = 999999
    elif how == "quantity-0":
        broken["offers"][0]["quantity"] = 0
    elif how == "price-3-decimals":
        broken["offers"][0]["offer_price"] = 12.505
    elif how == "shipping-3-decimals":
        broken["offers"][0]["shipping_price"] = "4.999"
    elif how == "negative-price":
        broken["offers"][0]["offer_price"] = -1
    elif how == "price-mismatch":
        broken["offers"][0]["price"] = 99.99
    elif how == "missing-customer":
        del broken["customer"]
    elif how == "customer-without-address":
        del broken["customer"]["shipping_address"]
    elif how == "no-offers":
        broken["offers"] = []
    elif how == "bad-commercial-id":
        broken["commercial_id"] = "CART 1001/x"
    elif how == "locale-too-long":  # found by the fuzzer: a 500 on PostgreSQL (varchar(10)) before
        broken["customer"]["locale"] = "Type d'opération"
    elif how == "customer-id-too-long":
        broken["customer"]["customer_id"] = "C" * 101
    elif how == "currency-not-iso":
        broken["currency_iso_code"] = "EURO"
    elif how == "shipping-label-too-long":
        broken["shipping_type_label"] = "L" * 101
    elif how == "street-too-long":
        broken["customer"]["shipping_address"]["street_1"] = "rue " * 64
    elif how == "empty-city":
        broken["customer"]["billing_address"]["city"] = ""
    elif how == "tax-code-too-long":  # a 500 on PostgreSQL before (order line tax_code is varchar(20))
        broken["offers"][0]["taxes"] = [{"code": "T" * 21, "rate": 20}]
    elif how == "malformed-json":
        return json.dumps(broken)[:-5]
    elif how == "empty-body":
        return ""
    return broken


@pytest.mark.parametrize(
    "how",
    [
        "unknown-offer",
        "quantity-0",
        "price-3-decimals",
        "shipping-3-decimals",
        "negative-price",
        "price-mismatch",
        "missing-customer",
        "customer-without-address",
        "no-offers",
        "bad-commercial-id",
        "locale-too-long",
        "customer-id-too-long",
        "currency-not-iso",
        "shipping-label-too-long",
        "tax-code-too-long",
        "street-too-long",
        "empty-city",
        "malformed-json",
        "empty-body",
    ],
)
def test_a_bad_import_is_400_and_writes_nothing(client: Client, op_key: str, cart: dict, how: str) -> None:
    # given a cart with one defect
    counts = _counts()

    # when the storefront imports it
    response = post(client, ORDERS, op_key, _break(cart, how))

    # then 400 and not a single row written, not even for the shop whose lines were fine
    assert_error(response, 400, "VALIDATION_ERROR")
    assert _counts() == counts


def test_a_corrected_import_after_a_refused_one_is_created(client: Client, op_key: str, cart: dict) -> None:
    # given an import refused for a 3-decimal price
    assert post(client, ORDERS, op_key, _break(cart, "price-3-decimals")).status_code == 400

    # when the storefront fixes it and retries under the same commercial id
    response = post(client, ORDERS, op_key, cart)

    # then it is created (the refused attempt left no trace to conflict with)
    assert response.status_code == 201


# --- fraud gate ----------------------------------------------------------------------------------------


def test_approve_moves_a_staging_order_to_waiting_acceptance(
    client: Client, shop: Shop, op_key: str, key: str
) -> None:
    # given an order in the fraud queue
    order = make_order(OrderState.STAGING, shop=shop)

    # when the operator approves it
    response = put(client, f"{ORDERS}/{order.order_id}/approve", op_key)

    # then 204, the seller now sees it waiting for acceptance with a deadline
    assert response.status_code == 204 and response.content == b""
    (seen,) = body_of(get(client, "/api/orders", key))["orders"]
    assert seen["order_state"] == "WAITING_ACCEPTANCE"
    assert seen["acceptance_deadline"] is not None


def test_approving_twice_or_an_unknown_order_is_refused(client: Client, shop: Shop, op_key: str) -> None:
    order = make_order(OrderState.WAITING_ACCEPTANCE, shop=shop)
    before = order_snapshot(order)
    assert_error(put(client, f"{ORDERS}/{order.order_id}/approve", op_key), 400, "ORDER_INVALID_STATE")
    assert order_snapshot(order) == before
    assert_error(put(client, f"{ORDERS}/NOPE-A/approve", op_key), 404, "ORDER_NOT_FOUND")


def test_reject_needs_a_reason(client: Client, shop: Shop, op_key: str) -> None:
    # given an order in the fraud queue
    order = make_order(OrderState.STAGING, shop=shop)
    before = order_snapshot(order)

    # when the operator rejects it without a reason (absent, empty, blank)
    responses = [
        put(client, f"{ORDERS}/{order.order_id}/reject", op_key, body)
        for body in (None, {}, {"reason": ""}, {"reason": "   "})
    ]

    # then every attempt is 400 and the order is still waiting
    for response in responses:
        assert_error(response, 400, "VALIDATION_ERROR")
    assert order_snapshot(order) == before


@pytest.mark.parametrize(("action", "field", "trigger"),
                         [("reject", "reason", "REJECT"), ("request_documents", "note", "REQUEST_DOCUMENTS")])
def test_a_fraud_reason_longer_than_its_column_is_400(
    client: Client, shop: Shop, op_key: str, action: str, field: str, trigger: str
) -> None:
    # given an order in the fraud queue (the reason is kept in its history row's reason_label, 300 characters)
    order = make_order(OrderState.STAGING, shop=shop)
    before = order_snapshot(order)

    # when the operator gives 301 characters (a 500 on PostgreSQL before), then exactly 300
    too_long = put(client, f"{ORDERS}/{order.order_id}/{action}", op_key, {field: "m" * 301})
    assert_error(too_long, 400, "VALIDATION_ERROR")
    assert order_snapshot(order) == before
    fits = put(client, f"{ORDERS}/{order.order_id}/{action}", op_key, {field: "m" * 300})

    # then the first changes nothing and the second is taken whole
    assert fits.status_code == 204
    labels = set(order.history.filter(trigger=trigger).values_list("reason_label", flat=True))
    assert labels == {"m" * 300}


def test_reject_with_a_reason_cancels_the_order_and_releases_the_payment(
    client: Client, shop: Shop, op_key: str
) -> None:
    # given an order in the fraud queue
    order = make_order(OrderState.STAGING, shop=shop)

    # when the operator rejects it with a reason
    response = put(client, f"{ORDERS}/{order.order_id}/reject", op_key, {"reason": "Carte volée"})

    # then 204, CANCELED with the reason, and the card hold released
    assert response.status_code == 204
    fresh = Order.objects.get(pk=order.pk)
    assert fresh.state == OrderState.CANCELED
    assert fresh.state_reason_label == "Carte volée"
    assert Payment.objects.get(order=fresh).status == "RELEASED"


def test_request_documents_keeps_the_order_in_staging_until_approved(
    client: Client, shop: Shop, op_key: str
) -> None:
    # given an order in the fraud queue
    order = make_order(OrderState.STAGING, shop=shop)

    # when the operator asks the customer for documents
    response = put(
        client, f"{ORDERS}/{order.order_id}/request_documents", op_key, {"note": "Pièce d'identité"}
    )

    # then the order waits in STAGING, flagged, with a history row
    assert response.status_code == 204
    fresh = Order.objects.get(pk=order.pk)
    assert (fresh.state, fresh.waiting_customer_documents) == (OrderState.STAGING, True)
    assert fresh.history.filter(trigger="REQUEST_DOCUMENTS").count() == 1

    # and approving it later clears the flag
    assert put(client, f"{ORDERS}/{order.order_id}/approve", op_key).status_code == 204
    fresh = Order.objects.get(pk=order.pk)
    assert (fresh.state, fresh.waiting_customer_documents) == (OrderState.WAITING_ACCEPTANCE, False)


# --- authentication ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", ORDERS, {"commercial_id": "X"}),
        ("GET", ORDERS, None),
        ("PUT", f"{ORDERS}/<order>/approve", None),
        ("PUT", f"{ORDERS}/<order>/reject", {"reason": "x"}),
        ("PUT", f"{ORDERS}/<order>/request_documents", {"note": "x"}),
        ("GET", "/api/operator/clock", None),
        ("POST", "/api/operator/clock/advance", {"duration": "1d"}),
        ("PUT", "/api/operator/sandbox/payments/<order>", {"refuse_capture": True}),
    ],
)
def test_a_seller_key_or_no_key_is_401_on_operator_endpoints(
    client: Client, shop: Shop, key: str, method: str, path: str, body: object
) -> None:
    # given an order in the fraud queue and the seller's own key
    order = make_order(OrderState.STAGING, shop=shop)
    path = path.replace("<order>", order.order_id)
    before = order_snapshot(order)

    for credential in (key, None, f"Bearer {key}"):
        # when the seller (or nobody) calls an operator endpoint
        if method == "GET":
            response = get(client, path, credential)
        else:
            response = (post if method == "POST" else put)(client, path, credential, body)

        # then 401 and nothing changed
        assert_error(response, 401, "UNAUTHORIZED")
    assert order_snapshot(order) == before


# --- orders across shops -------------------------------------------------------------------------------


def test_the_operator_lists_orders_of_every_shop_with_shop_and_state_filters(
    client: Client, shop: Shop, other_shop: Shop, op_key: str
) -> None:
    # given orders of two shops in different states
    mine_staging = make_order(OrderState.STAGING, shop=shop, lines=1)
    mine_waiting = make_order(OrderState.WAITING_ACCEPTANCE, shop=shop, lines=1)
    theirs = make_order(OrderState.STAGING, shop=other_shop, lines=1)

    # when the operator lists
    every = body_of(get(client, ORDERS, op_key))
    by_shop = body_of(get(client, ORDERS, op_key, {"shop_id": str(shop.id)}))
    by_state = body_of(get(client, ORDERS, op_key, {"order_state_codes": "STAGING"}))
    both = body_of(get(client, ORDERS, op_key, {"shop_id": str(shop.id), "order_state_codes": "STAGING"}))

    # then
    def ids(body: dict) -> set[str]:
        return {o["order_id"] for o in body["orders"]}

    assert ids(every) == {mine_staging.order_id, mine_waiting.order_id, theirs.order_id}
    assert every["total_count"] == 3
    assert ids(by_shop) == {mine_staging.order_id, mine_waiting.order_id}
    assert ids(by_state) == {mine_staging.order_id, theirs.order_id}
    assert ids(both) == {mine_staging.order_id}
    assert both["total_count"] == 1
    # and the operator (unlike the seller) sees the customer's real e-mail
    assert every["orders"][0]["customer"]["email"] == "jeanne.martin@example.com"


def test_the_operator_list_is_newest_first_unless_asked_otherwise(
    client: Client, shop: Shop, op_key: str
) -> None:
    # given three orders created one after the other
    made = [make_order(OrderState.STAGING, shop=shop, lines=1).order_id for _ in range(3)]

    # when the operator lists them with each sort order
    def ids(params: dict) -> list[str]:
        return [o["order_id"] for o in body_of(get(client, ORDERS, op_key, params))["orders"]]

    # then newest first by default and for desc (whatever its case), oldest first for asc
    assert ids({}) == made[::-1]
    assert ids({"order": "desc"}) == made[::-1]
    assert ids({"order": "DESC"}) == made[::-1]
    assert ids({"order": "asc"}) == made
    assert ids({"order": "ASC"}) == made


def test_the_operator_list_rejects_bad_filters(client: Client, op_key: str) -> None:
    assert_error(get(client, ORDERS, op_key, {"order_state_codes": "LOST"}), 400, "VALIDATION_ERROR")
    assert_error(get(client, ORDERS, op_key, {"shop_id": "abc"}), 400, "VALIDATION_ERROR")
    assert_error(get(client, ORDERS, op_key, {"max": "1000"}), 400, "VALIDATION_ERROR")
    assert_error(get(client, ORDERS, op_key, {"order": "sideways"}), 400, "VALIDATION_ERROR")


# --- sandbox clock and payments ------------------------------------------------------------------------


def _now_of(response: HttpResponse) -> datetime:
    return datetime.fromisoformat(body_of(response)["now"].replace("Z", "+00:00"))


def test_the_clock_cannot_move_outside_sandbox_mode(
    client: Client, op_key: str, comptoir_settings: Any, fresh_clock: None
) -> None:
    # given sandbox mode off
    comptoir_settings(SANDBOX=False)
    before = clock.now()

    # when the operator tries to advance the clock
    response = post(client, "/api/operator/clock/advance", op_key, {"duration": "6d"})

    # then 403 SANDBOX_ONLY and time did not move
    assert_error(response, 403, "SANDBOX_ONLY")
    clock.forget_offset()
    assert clock.now() - before < timedelta(minutes=1)
    assert body_of(get(client, "/api/operator/clock", op_key))["offset_seconds"] == 0


def test_in_sandbox_mode_advancing_six_days_moves_now_by_six_days(
    client: Client, op_key: str, comptoir_settings: Any, fresh_clock: None
) -> None:
    # given sandbox mode on
    comptoir_settings(SANDBOX=True)
    before = _now_of(get(client, "/api/operator/clock", op_key))

    # when the operator advances the clock by 6 days
    response = post(client, "/api/operator/clock/advance", op_key, {"duration": "6d"})

    # then `now` is 6 days later, for the API and for the services
    assert response.status_code == 200, response.content
    body = body_of(response)
    assert body["offset_seconds"] == 6 * 86400
    assert body["sandbox"] is True
    moved = _now_of(response) - before
    assert timedelta(days=6) <= moved < timedelta(days=6, minutes=1)
    assert clock.now() - clock.real_now() >= timedelta(days=6) - timedelta(seconds=1)

    # and reset brings it back
    reset = post(client, "/api/operator/clock/reset", op_key)
    assert body_of(reset)["offset_seconds"] == 0


@pytest.mark.parametrize("duration", ["six days", "6", "6w", "-1d", "0d", "", "1d 2x"])
def test_in_sandbox_mode_a_bad_duration_is_400(
    client: Client, op_key: str, comptoir_settings: Any, fresh_clock: None, duration: str
) -> None:
    comptoir_settings(SANDBOX=True)
    response = post(client, "/api/operator/clock/advance", op_key, {"duration": duration})
    assert_error(response, 400, "VALIDATION_ERROR")
    assert body_of(get(client, "/api/operator/clock", op_key))["offset_seconds"] == 0


def test_a_payment_directive_outside_sandbox_mode_is_403(
    client: Client, shop: Shop, op_key: str, comptoir_settings: Any
) -> None:
    comptoir_settings(SANDBOX=False)
    order = make_order(OrderState.WAITING_ACCEPTANCE, shop=shop)
    response = put(
        client, f"/api/operator/sandbox/payments/{order.order_id}", op_key, {"refuse_capture": True}
    )
    assert_error(response, 403, "SANDBOX_ONLY")


def test_a_sandbox_refused_capture_cancels_the_accepted_order(
    client: Client, shop: Shop, key: str, op_key: str, comptoir_settings: Any, fresh_clock: None
) -> None:
    # given sandbox mode, immediate debit, and an order whose capture the simulated bank will refuse
    comptoir_settings(SANDBOX=True, DEBIT_DELAY_SECONDS=0)
    order = make_order(OrderState.WAITING_ACCEPTANCE, shop=shop)
    directive = put(
        client, f"/api/operator/sandbox/payments/{order.order_id}", op_key, {"refuse_capture": True}
    )
    assert directive.status_code == 204

    # when the seller accepts every line and the worker runs the debit
    lines = [{"id": line_id, "accepted": True} for line_id in order.lines.values_list("line_id", flat=True)]
    assert put(client, f"/api/orders/{order.order_id}/accept", key, {"order_lines": lines}).status_code == 204
    run_until_idle()

    # then the capture was refused once, the order is CANCELED, and the seller sees why
    fresh = Order.objects.get(pk=order.pk)
    assert fresh.state == OrderState.CANCELED
    assert fresh.customer_debited_date is None
    assert SimulatedCharge.objects.filter(kind="CAPTURE", succeeded=False).count() == 1
    assert PaymentOperation.objects.filter(payment__order=fresh, kind="CAPTURE", succeeded=False).count() == 1
    (seen,) = body_of(get(client, "/api/orders", key, {"order_ids": order.order_id}))["orders"]
    assert seen["order_state"] == "CANCELED"
    assert seen["order_state_reason_code"] == "DEBIT_REFUSED"
    assert {line["order_line_state"] for line in seen["order_lines"]} == {"CANCELED"}


def test_without_a_directive_the_same_flow_is_debited(
    client: Client, shop: Shop, key: str, comptoir_settings: Any
) -> None:
    # given immediate debit and no directive
    comptoir_settings(SANDBOX=True, DEBIT_DELAY_SECONDS=0)
    order = make_order(OrderState.WAITING_ACCEPTANCE, shop=shop)

    # when the seller accepts every line and the worker runs the debit
    lines = [{"id": line_id, "accepted": True} for line_id in order.lines.values_list("line_id", flat=True)]
    assert put(client, f"/api/orders/{order.order_id}/accept", key, {"order_lines": lines}).status_code == 204
    run_until_idle()

    # then the customer is charged and the order waits for shipping
    assert Order.objects.get(pk=order.pk).state == OrderState.SHIPPING
    assert SimulatedCharge.objects.filter(kind="CAPTURE", succeeded=True).count() == 1
