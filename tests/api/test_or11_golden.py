"""OR11's exact bytes: a shop with orders in every state (multi-line, partial refusal, parcels with and without
tracking, refunds, cancelations, open and closed incidents, customer data before and after SHIPPING, the
operator's SHOP-collected VAT, a channel, references, 5.5 % VAT and an eco-contribution) listed by the seller
(OR11) and by the operator, compared byte for byte with the answers captured in `or11_golden.json`.

Only what differs between two runs is replaced before comparing (database ids, the random relay token and
payment references, the factories' order numbers); everything else — key order, number formats, dates, nulls — must be identical.
After a deliberate change of the shape, rewrite the file: `COMPTOIR_WRITE_GOLDEN=1 pytest <this file>` (the run
then fails on purpose, to be run again).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest
from django.test import Client

from comptoir.catalog.models import Offer
from comptoir.core import clock
from comptoir.incidents import services as incident_services
from comptoir.orders import queries, services
from comptoir.orders.models import Order
from comptoir.orders.rules import Decision
from comptoir.orders.states import OrderState
from comptoir.refunds.services import ensure_default_reasons
from comptoir.shops.models import Shop
from tests.api.helpers import body_of, get, post, put, shared_rows
from tests.factories import (
    CUSTOMER,
    OPERATOR,
    SELLER,
    OfferFactory,
    ShopFactory,
    _run_debit,
    ensure_carriers,
    import_request,
    operator_key,
    shop_key,
)
from tests.factories import make_order as factory_make_order

pytestmark = pytest.mark.django_db

GOLDEN = Path(__file__).with_name("or11_golden.json")
# Microseconds on purpose: the API truncates them (…:30Z), it never rounds.
START = datetime(2025, 3, 10, 9, 15, 30, 987654, tzinfo=UTC)
STEP = timedelta(hours=1, minutes=7, seconds=13, microseconds=500001)
COLISSIMO = {"carrier_code": "colissimo", "tracking_number": "6A0001"}


class FrozenClock:
    """`clock.now()` stands still at `at`, and moves only when told (dates to the second, reproducible)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.at = START
        monkeypatch.setattr(clock, "real_now", lambda: self.at)
        clock.set_offset_source(lambda: timedelta(0))

    def tick(self) -> None:
        self.at += STEP


def _lines(order: Order) -> list[str]:
    return list(order.lines.order_by("index").values_list("line_id", flat=True))


def _ok(response: Any) -> None:
    assert response.status_code in (200, 201, 204), response.content


def _build(client: Client, shop: Shop, key: str, frozen: FrozenClock) -> list[Order]:
    """The orders, oldest first, each step a little later than the one before."""
    made: list[Order] = []
    skus = iter(range(1, 100))

    def offer(price_cents: int) -> Offer:  # named here: the factories' sequences depend on the tests run before
        n = next(skus)
        return OfferFactory(shop=shop, sku=f"SKU-G{n}", product_sku=f"PRD-G{n}", title=f"Produit G{n}",
                            price_cents=price_cents)

    def make(state: OrderState, *, lines: int = 2, quantity: int = 1) -> Order:
        frozen.tick()
        offers = [(offer(1000 * (i + 1)), quantity) for i in range(lines)]
        order = factory_make_order(state, shop=shop, offers=offers)
        made.append(order)
        return order

    make(OrderState.STAGING, lines=1)
    make(OrderState.WAITING_ACCEPTANCE, lines=2, quantity=2)
    make(OrderState.CANCELED)  # rejected by the fraud gate: never debited, no address
    make(OrderState.REFUSED)
    make(OrderState.WAITING_DEBIT_PAYMENT)
    # Partial refusal: line 1 accepted, line 2 refused, then debited.
    partial = make(OrderState.WAITING_ACCEPTANCE, lines=2)
    first, second = _lines(partial)
    frozen.tick()
    services.decide_lines(order_id=partial.order_id, shop_id=shop.id, who=SELLER,
                          decisions=[Decision(first, True), Decision(second, False)])
    frozen.tick()
    _run_debit(partial)
    make(OrderState.WAITING_DEBIT)
    make(OrderState.SHIPPING, lines=1)
    # A prepared parcel without tracking: OR29 is refused (can_cancel false), no shipping_* fields.
    parcel = make(OrderState.SHIPPING, lines=2)
    frozen.tick()
    _ok(post(client, "/api/shipments", key, {"shipments": [
        {"order_id": parcel.order_id, "shipment_lines": [{"order_line_id": _lines(parcel)[0], "quantity": 1}]}]}))
    # The rich one: channel, reference, VAT collected by the shop, 5.5 % VAT, an eco-contribution, 3 units;
    # one unit canceled (OR30), a tracked parcel for the second line.
    frozen.tick()
    offers = [offer(1299), offer(2450)]
    base = import_request([(offers[0], 3), (offers[1], 1)])
    request = dataclasses.replace(
        base, channel_code="WEB-FR", order_reference_for_customer="CMD-778", vat_collected_by="SHOP",
        lines=(dataclasses.replace(base.lines[0], tax_rate=Decimal("5.5"), eco_contribution_cents=12),
               dataclasses.replace(base.lines[1], shipping_price_cents=0)),
    )
    (rich,), _ = services.import_customer_order(request, who=OPERATOR)
    made.append(rich)
    frozen.tick()
    services.approve_order(order_id=rich.order_id, who=OPERATOR)
    rich_first, rich_second = _lines(rich)
    services.decide_lines(order_id=rich.order_id, shop_id=shop.id, who=SELLER,
                          decisions=[Decision(rich_first, True), Decision(rich_second, True)])
    frozen.tick()
    _run_debit(rich)
    frozen.tick()
    _ok(put(client, "/api/orders/cancel", key, {"cancelations": [
        {"order_line_id": rich_first, "reason_code": "35", "quantity": 1}]}))
    frozen.tick()
    _ok(post(client, "/api/shipments", key, {"shipments": [
        {"order_id": rich.order_id, "tracking": COLISSIMO,
         "shipment_lines": [{"order_line_id": rich_second, "quantity": 1}]}]}))
    # Shipped: a gesture on line 1 and an open incident on line 2.
    gesture = make(OrderState.SHIPPED, lines=2)
    frozen.tick()
    _ok(put(client, "/api/orders/refund", key, {"refunds": [
        {"order_line_id": _lines(gesture)[0], "reason_code": "22", "amount": 1.5}]}))
    frozen.tick()
    incident_services.open_incident(order_id=gesture.order_id, line_ids=[_lines(gesture)[1]], reason_code="2",
                                    who=CUSTOMER, description="Carton écrasé.")
    # Shipped: line 1 refunded in full with its shipping (REFUNDED), then a second request on line 2.
    refunded = make(OrderState.SHIPPED, lines=2)
    frozen.tick()
    _ok(put(client, "/api/orders/refund", key, {"refunds": [
        {"order_line_id": _lines(refunded)[0], "reason_code": "17", "amount": 10.0, "shipping_amount": 4.9}]}))
    frozen.tick()
    _ok(put(client, "/api/orders/refund", key, {"refunds": [
        {"order_line_id": _lines(refunded)[1], "reason_code": "22", "amount": 2.0}]}))
    # Shipped with an incident opened then closed (INCIDENT_CLOSED while the goods are with the customer).
    closed_incident = make(OrderState.SHIPPED, lines=1)
    frozen.tick()
    (incident,) = incident_services.open_incident(order_id=closed_incident.order_id,
                                                  line_ids=_lines(closed_incident), reason_code="2", who=CUSTOMER)
    frozen.tick()
    incident_services.close(incident_id=incident.pk, who=OPERATOR, reason_code="10")
    make(OrderState.RECEIVED, lines=1, quantity=2)
    make(OrderState.CLOSED, lines=1)
    # Canceled after the debit (OR29): the addresses stay visible, the cancelations are listed.
    late_cancel = make(OrderState.SHIPPING, lines=2)
    frozen.tick()
    _ok(put(client, f"/api/orders/{late_cancel.order_id}/cancel", key, {}))
    frozen.tick()
    return made


def _normalized(raw: bytes, made: list[Order]) -> Any:
    """The answer with what differs between runs replaced by stable names; raw must be orjson's own bytes
    for its value (so comparing the value re-dumped by orjson compares the bytes: key order, 20.0 vs 20)."""
    value = orjson.loads(raw)
    assert orjson.dumps(value) == raw
    numbers = {order.order_id.rsplit("-", 1)[0]: f"G{n:02d}" for n, order in enumerate(made, 1)}
    seen: dict[tuple[str, Any], str] = {}

    def stable(kind: str, found: Any) -> str:
        return seen.setdefault((kind, found), f"<{kind} {sum(1 for k, _ in seen if k == kind) + 1}>")

    def walk(node: Any, key: str = "") -> Any:
        if isinstance(node, dict):
            if "refund_state" in node or "commission_total_amount" in node:  # a refund or a cancelation row
                node["id"] = stable("refund", node["id"])
            return {k: walk(v, k) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(item, key) for item in node]
        if key in ("shop_id", "offer_id"):
            return stable(key, node)
        if key == "order_refund_id":
            return stable("refund request", node)
        if key == "transaction_number" and node is not None:  # the payment provider's random reference
            return stable("transaction", node)
        if key == "customer_notification_email":
            return "<relay token>@" + node.split("@", 1)[1]
        if isinstance(node, str):
            for number, name in numbers.items():
                node = node.replace(number, name)
        return node

    return walk(value)


@dataclass
class Golden:
    shop: Shop
    key: str
    op_key: str
    made: list[Order]

    def listed(self, client: Client) -> dict[str, Any]:
        answers = {
            "seller OR11, every order": get(client, "/api/orders", self.key, {"paginate": "false"}),
            "seller OR11, SHIPPING newest first (the bench's page)": get(
                client, "/api/orders", self.key, {"order_state_codes": "SHIPPING", "max": "100",
                                                  "sort": "dateCreated", "order": "desc"}),
            "operator, the shop's orders": get(client, "/api/operator/orders", self.op_key,
                                               {"shop_id": str(self.shop.id), "max": "100", "order": "asc"}),
        }
        for response in answers.values():
            assert response.status_code == 200, response.content
        return {name: _normalized(response.content, self.made) for name, response in answers.items()}


@pytest.fixture(scope="module")
def golden(django_db_setup: None, django_db_blocker: Any) -> Iterator[Golden]:
    """The shop and its orders, made once for the module (the tests only read them)."""
    from comptoir.timers.sandbox import stored_offset

    with pytest.MonkeyPatch.context() as monkeypatch, shared_rows(django_db_blocker):
        try:
            ensure_carriers()
            ensure_default_reasons()
            shop = ShopFactory()
            key = shop_key(shop)
            made = _build(Client(), shop, key, FrozenClock(monkeypatch))
            assert len(made) == 16
            yield Golden(shop, key, operator_key(), made)
        finally:
            clock.set_offset_source(stored_offset)


def _bytes(listed: dict[str, Any]) -> bytes:
    return orjson.dumps(listed, option=orjson.OPT_INDENT_2) + b"\n"


def test_or11_answers_the_captured_bytes_for_every_kind_of_order(client: Client, golden: Golden) -> None:
    # given the shop's orders in every state (fixture), when listed by the seller and the operator
    got = _bytes(golden.listed(client))

    # then the bytes are the captured ones
    if os.environ.get("COMPTOIR_WRITE_GOLDEN"):
        GOLDEN.write_bytes(got)
        pytest.fail(f"{GOLDEN.name} rewritten: check its diff, then run again without COMPTOIR_WRITE_GOLDEN")
    assert got == GOLDEN.read_bytes(), "OR11's bytes changed: diff the answer with or11_golden.json"


def test_the_same_bytes_when_the_statements_are_compiled_by_the_orm_each_time(
    client: Client, golden: Golden, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given no page size small enough for its statements to be kept (as for paginate=false past 100 orders)
    monkeypatch.setattr(queries, "_KEPT_UP_TO", 0)

    # when listed, then the same bytes: the kept statements read and convert the rows as the ORM does
    assert _bytes(golden.listed(client)) == GOLDEN.read_bytes()


def test_a_page_costs_four_statements_and_one_more_for_refunds_and_for_parcels(
    client: Client, golden: Golden, django_assert_num_queries: Any
) -> None:
    # given orders without a refund or a parcel (STAGING ...) and SHIPPING ones with both (fixture)
    # when each is listed, then: the key, the page with its count, its rows, its lines (+ refunds, + parcels);
    # on PostgreSQL the rows and the lines go in one round trip (pipeline mode: test_order_rows_page.py)
    with django_assert_num_queries(4):
        plain = get(client, "/api/orders", golden.key, {"order_state_codes": "STAGING,WAITING_ACCEPTANCE,REFUSED"})
    with django_assert_num_queries(6):
        rich = get(client, "/api/orders", golden.key, {"order_state_codes": "SHIPPING,SHIPPED"})
    assert len(body_of(plain)["orders"]) == 3
    assert len(body_of(rich)["orders"]) == 7


def test_a_page_past_the_end_is_empty_and_still_counts_every_order(client: Client, golden: Golden) -> None:
    # given the shop's 16 orders (fixture), when asking for the page after the last one
    response = get(client, "/api/orders", golden.key, {"offset": "16", "max": "10"})

    # then no order, and the count of all of them
    assert body_of(response) == {"orders": [], "total_count": 16}


def test_the_golden_pages_cover_what_they_claim(client: Client, golden: Golden) -> None:
    # given the seller's full list (fixture)
    orders = golden.listed(client)["seller OR11, every order"]["orders"]

    # then every order state, the line states that matter and each rich field are exercised
    assert {o["order_state"] for o in orders} == {
        "STAGING", "WAITING_ACCEPTANCE", "CANCELED", "REFUSED", "WAITING_DEBIT_PAYMENT", "WAITING_DEBIT",
        "SHIPPING", "SHIPPED", "RECEIVED", "CLOSED"}
    line_states = {line["order_line_state"] for o in orders for line in o["order_lines"]}
    assert {"REFUSED", "REFUNDED", "INCIDENT_OPEN", "INCIDENT_CLOSED", "CANCELED"} <= line_states
    lines = [line for o in orders for line in o["order_lines"]]
    assert any(line["refunds"] for line in lines) and any(line["cancelations"] for line in lines)
    assert any(line["eco_contributions"] for line in lines)
    assert any(o["order_refunds"] for o in orders)
    assert any(o["shipping_tracking"] for o in orders)
    assert any(o["channel"] for o in orders) and any(o["vat_collected_by"] == "SHOP" for o in orders)
    assert {o["can_cancel"] for o in orders if o["order_state"] == "SHIPPING"} == {True, False}
    hidden = [o for o in orders if o["order_state"] in ("STAGING", "WAITING_ACCEPTANCE", "REFUSED")]
    shown = [o for o in orders if o["order_state"] in ("SHIPPING", "SHIPPED", "RECEIVED", "CLOSED")]
    assert hidden and all(o["customer"]["shipping_address"] is None for o in hidden)
    assert shown and all(o["customer"]["shipping_address"] for o in shown)
    canceled = [o["customer"]["billing_address"] is not None for o in orders if o["order_state"] == "CANCELED"]
    assert sorted(canceled) == [False, True]
