"""OR28 (refund), OR30 and OR29 (cancel) and the refund preview over HTTP: every rule of the refunds app seen
through the API, Mirakl's shapes field by field, and a refused request that writes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from comptoir.ledger import queries as ledger_queries
from comptoir.ledger.models import LedgerEntry
from comptoir.ledger.services import run_payout
from comptoir.orders.models import Order, OrderLine
from comptoir.orders.states import OrderState
from comptoir.refunds.models import Refund
from comptoir.refunds.services import ensure_default_reasons
from comptoir.shipping.models import ShipmentLine
from comptoir.shops.models import Shop
from comptoir.timers.models import Timer
from tests.api.helpers import assert_error, body_of, get, order_snapshot, post, put
from tests.factories import make_order

pytestmark = pytest.mark.django_db

REFUND = "/api/orders/refund"
PREVIEW = "/api/orders/refund/preview"
CANCEL = "/api/orders/cancel"


@pytest.fixture(autouse=True)
def _reasons(db: None) -> None:
    ensure_default_reasons()


def _lines(order: Order) -> list[OrderLine]:
    return list(order.lines.order_by("index"))


def _refund(line: OrderLine, reason: str = "17", **fields: Any) -> dict[str, Any]:
    return {"order_line_id": line.line_id, "reason_code": reason, **fields}


def _unchanged(order: Order) -> tuple[Any, ...]:
    """The order, its refunds, its ledger entries and its timers, for 'nothing written'."""
    return (order_snapshot(order), Refund.objects.filter(order=order).count(),
            LedgerEntry.objects.filter(order_id=order.order_id).count(),
            OrderLine.objects.filter(order=order).order_by("index").values_list("canceled_quantity", "state")[::1])


@pytest.fixture
def shipped(shop: Shop) -> Order:
    """Line 1: 10.00 € incl. 20 % VAT (1.67) + 4.90 shipping (0.82); line 2: 20.00 € + 4.90."""
    return make_order(OrderState.SHIPPED, shop=shop, lines=2)


# --- OR28: the four ways to refund -------------------------------------------------------------------------


def test_a_full_refund_gives_back_the_line_and_its_shipping_and_answers_mirakls_shape(
    client: Client, key: str, shipped: Order
) -> None:
    # given a shipped order
    line = _lines(shipped)[0]

    # when the seller refunds the first line's remaining amount and shipping, with their taxes
    response = put(client, REFUND, key, {"refunds": [_refund(
        line, amount=10.00, shipping_amount=4.90, quantity=1, currency_iso_code="EUR",
        taxes=[{"code": "TVA20", "amount": 1.67}], shipping_taxes=[{"code": "TVA20", "amount": 0.82}])]})

    # then 200 with the refund as Mirakl describes it
    assert response.status_code == 200, response.content
    body = body_of(response)
    assert body["order_tax_mode"] == "TAX_INCLUDED"
    (item,) = body["refunds"]
    row = Refund.objects.get()
    assert item == {
        "refund_id": str(row.pk), "order_line_id": line.line_id, "order_refund_id": row.group_id,
        "amount": 10.0, "shipping_amount": 4.9, "quantity": 1, "reason_code": "17", "currency_iso_code": "EUR",
        "excluded_from_shipment": False,
        "taxes": [{"code": line.tax_code, "amount": 1.67, "rate": 20.0}],
        "shipping_taxes": [{"code": line.shipping_tax_code, "amount": 0.82, "rate": 20.0}],
        "fees": [], "eco_contributions": [],
    }
    # and the line is refunded in full (mode FULL), the order stays shipped, the payment back is scheduled
    assert (row.mode, row.kind, row.amount_cents, row.shipping_cents) == ("FULL", "REFUND", 1000, 490)
    assert row.commission_fee_cents == line.commission_fee_cents
    assert OrderLine.objects.get(pk=line.pk).state == OrderState.REFUNDED
    assert Order.objects.get(pk=shipped.pk).state == OrderState.SHIPPED
    assert Timer.objects.filter(order=shipped, kind="REFUND_PAYMENT", state="PENDING").exists()


def test_a_quantity_with_an_amount_refunds_those_units(client: Client, key: str, shop: Shop) -> None:
    # given a shipped line of 3 units at 10.00 €
    order = make_order(OrderState.SHIPPED, shop=shop, lines=1, quantity=3)
    line = _lines(order)[0]

    # when one unit is refunded for 10.00 € incl. tax
    response = put(client, REFUND, key, {"refunds": [_refund(line, amount=10.00, quantity=1)]})

    # then one unit and 10.00 € go back, the line is still shipped
    assert response.status_code == 200, response.content
    (item,) = body_of(response)["refunds"]
    assert (item["amount"], item["shipping_amount"], item["quantity"]) == (10.0, 0.0, 1)
    assert item["taxes"][0]["amount"] == 1.67
    row = Refund.objects.get()
    assert (row.mode, row.quantity, row.amount_cents, row.amount_tax_cents) == ("QUANTITY", 1, 1000, 167)
    assert OrderLine.objects.get(pk=line.pk).state == OrderState.SHIPPED


def test_a_quantity_without_an_amount_refunds_the_units_price(client: Client, key: str, shop: Shop) -> None:
    order = make_order(OrderState.SHIPPED, shop=shop, lines=1, quantity=3)
    line = _lines(order)[0]

    response = put(client, REFUND, key, {"refunds": [_refund(line, quantity=2)]})

    assert response.status_code == 200, response.content
    assert body_of(response)["refunds"][0]["amount"] == 20.0
    assert Refund.objects.get().amount_cents == 2000


def test_an_amount_alone_is_a_commercial_gesture_typed_excluding_tax_in_tax_excluded_mode(
    client: Client, key: str, shipped: Order
) -> None:
    # given a shipped line of 10.00 € incl. 20 % VAT
    line = _lines(shipped)[0]

    # when the seller gives 5.00 € excl. tax back
    response = put(client, REFUND, key, {"order_tax_mode": "TAX_EXCLUDED",
                                         "refunds": [_refund(line, "22", amount=5.00)]})

    # then 6.00 € incl. tax go back; the answer speaks excluding tax, as asked
    assert response.status_code == 200, response.content
    body = body_of(response)
    assert body["order_tax_mode"] == "TAX_EXCLUDED"
    (item,) = body["refunds"]
    assert (item["amount"], item["taxes"][0]["amount"], item["quantity"]) == (5.0, 1.0, 0)
    row = Refund.objects.get()
    assert (row.mode, row.amount_cents, row.amount_tax_cents, row.shipping_cents) == ("AMOUNT", 600, 100, 0)
    assert OrderLine.objects.get(pk=line.pk).state == OrderState.SHIPPED


def test_an_amount_in_tax_included_mode_includes_the_tax(client: Client, key: str, shipped: Order) -> None:
    line = _lines(shipped)[0]

    response = put(client, REFUND, key, {"refunds": [_refund(line, "22", amount=6.00)]})

    assert response.status_code == 200, response.content
    assert (Refund.objects.get().amount_cents, Refund.objects.get().amount_tax_cents) == (600, 100)


def test_shipping_alone_refunds_only_the_shipping(client: Client, key: str, shipped: Order) -> None:
    # given a shipped line with 4.90 € shipping
    line = _lines(shipped)[1]

    # when only the shipping is refunded
    response = put(client, REFUND, key, {"refunds": [_refund(line, "23", amount=0, shipping_amount=4.90)]})

    # then the shipping goes back and the product stays
    assert response.status_code == 200, response.content
    (item,) = body_of(response)["refunds"]
    assert (item["amount"], item["shipping_amount"], item["quantity"]) == (0.0, 4.9, 0)
    assert item["shipping_taxes"][0]["amount"] == 0.82
    row = Refund.objects.get()
    assert (row.mode, row.amount_cents, row.shipping_cents) == ("SHIPPING", 0, 490)
    assert OrderLine.objects.get(pk=line.pk).state == OrderState.SHIPPED


def test_partial_refunds_that_reach_the_whole_line_settle_it(client: Client, key: str, shipped: Order) -> None:
    # given a line whose shipping was refunded
    line = _lines(shipped)[0]
    assert put(client, REFUND, key, {"refunds": [_refund(line, "23", shipping_amount=4.90)]}).status_code == 200

    # when the rest of the product is refunded
    response = put(client, REFUND, key, {"refunds": [_refund(line, amount=10.00)]})

    # then it is the full rest (FULL), and the line is REFUNDED
    assert response.status_code == 200, response.content
    assert list(Refund.objects.order_by("id").values_list("mode", flat=True)) == ["SHIPPING", "FULL"]
    assert OrderLine.objects.get(pk=line.pk).state == OrderState.REFUNDED


def test_a_batch_over_two_orders_refunds_both_under_one_order_refund_id(
    client: Client, key: str, shop: Shop, shipped: Order
) -> None:
    other = make_order(OrderState.SHIPPED, shop=shop, lines=1)

    response = put(client, REFUND, key, {"refunds": [_refund(_lines(shipped)[0], "22", amount=1.00),
                                                     _refund(_lines(other)[0], "22", amount=2.00)]})

    assert response.status_code == 200, response.content
    items = body_of(response)["refunds"]
    assert [i["amount"] for i in items] == [1.0, 2.0]
    assert len({i["order_refund_id"] for i in items}) == 1
    assert Refund.objects.count() == 2


# --- OR28: refusals write nothing ----------------------------------------------------------------------------


def test_more_than_what_is_left_is_refused(client: Client, key: str, shipped: Order) -> None:
    line = _lines(shipped)[0]
    before = _unchanged(shipped)

    response = put(client, REFUND, key, {"refunds": [_refund(line, "22", amount=10.01)]})

    body = assert_error(response, 400, "REFUND_AMOUNT_EXCEEDED")
    assert "10,00 €" in body["message"]
    assert _unchanged(shipped) == before


def test_a_second_refund_cannot_exceed_what_the_first_left(client: Client, key: str, shipped: Order) -> None:
    line = _lines(shipped)[0]
    assert put(client, REFUND, key, {"refunds": [_refund(line, "22", amount=7.00)]}).status_code == 200

    response = put(client, REFUND, key, {"refunds": [_refund(line, "22", amount=3.01)]})

    assert_error(response, 400, "REFUND_AMOUNT_EXCEEDED")
    assert Refund.objects.count() == 1


def test_a_refunded_line_cannot_be_refunded_again(client: Client, key: str, shipped: Order) -> None:
    line = _lines(shipped)[0]
    assert put(client, REFUND, key, {"refunds": [_refund(line, amount=10.00, shipping_amount=4.90)]}).status_code == 200

    response = put(client, REFUND, key, {"refunds": [_refund(line, "22", amount=1.00)]})

    assert_error(response, 400, "REFUND_LINE_INVALID_STATE")


@pytest.mark.parametrize("reason", ["nope", "34", "14", "OPERATOR_MEDIATION", ""])
def test_an_unknown_cancelation_or_operator_only_reason_is_refused(
    client: Client, key: str, shipped: Order, reason: str
) -> None:
    # given a reason that is unknown, of another type, or the operator's only
    before = _unchanged(shipped)

    response = put(client, REFUND, key, {"refunds": [_refund(_lines(shipped)[0], reason, amount=1.00)]})

    assert_error(response, 400, "REFUND_REASON_INVALID")
    assert _unchanged(shipped) == before


def test_another_shops_line_is_refused_exactly_like_an_unknown_line(
    client: Client, key: str, other_shop: Shop
) -> None:
    # given a shipped order of another shop
    theirs = make_order(OrderState.SHIPPED, shop=other_shop, lines=1)
    line = _lines(theirs)[0]
    before = _unchanged(theirs)

    # when this shop refunds that line, then a line that does not exist
    response = put(client, REFUND, key, {"refunds": [_refund(line, amount=1.00)]})
    unknown = put(client, REFUND, key, {"refunds": [{"order_line_id": "NOPE-1", "reason_code": "17", "amount": 1}]})

    # then the same error, and nothing changed
    body = assert_error(response, 400, "ORDER_LINE_NOT_FOUND")
    unknown_body = assert_error(unknown, 400, "ORDER_LINE_NOT_FOUND")
    assert body["message"].replace(line.line_id, "X") == unknown_body["message"].replace("NOPE-1", "X")
    assert _unchanged(theirs) == before


def test_an_order_waiting_for_acceptance_cannot_be_refunded(client: Client, key: str, shop: Shop) -> None:
    order = make_order(OrderState.WAITING_ACCEPTANCE, shop=shop, lines=1)
    before = _unchanged(order)

    response = put(client, REFUND, key, {"refunds": [_refund(_lines(order)[0], "22", amount=1.00)]})

    assert_error(response, 400, "ORDER_INVALID_STATE")
    assert _unchanged(order) == before


def test_a_full_refund_of_an_unshipped_line_must_be_a_cancelation(client: Client, key: str, shop: Shop) -> None:
    # given an order waiting to be shipped
    order = make_order(OrderState.SHIPPING, shop=shop, lines=1)
    line = _lines(order)[0]

    # when the whole line is refunded, then a gesture
    full = put(client, REFUND, key, {"refunds": [_refund(line, amount=10.00, shipping_amount=4.90)]})
    gesture = put(client, REFUND, key, {"refunds": [_refund(line, "22", amount=1.00)]})

    # then the full refund is refused (cancel instead), the gesture goes through
    assert_error(full, 400, "REFUND_LINE_NOT_SHIPPED")
    assert gesture.status_code == 200, gesture.content


def test_after_a_payout_a_refund_the_payable_balance_cannot_cover_is_refused_with_the_reason(
    client: Client, key: str, shop: Shop
) -> None:
    # given a received order whose money was paid out to the seller
    order = make_order(OrderState.RECEIVED, shop=shop, lines=1)
    run_payout(by="test")
    assert ledger_queries.balances(shop.id)["payable"] == 0
    before = _unchanged(order)

    # when the seller refunds the line
    response = put(client, REFUND, key, {"refunds": [_refund(_lines(order)[0], amount=10.00, shipping_amount=4.90)]})

    # then 400 with the guide's message, and nothing written
    body = assert_error(response, 400, "REFUND_BALANCE_INSUFFICIENT")
    assert "solde payable" in body["message"] and "service client" in body["message"]
    assert _unchanged(order) == before


def test_a_batch_is_all_or_nothing(client: Client, key: str, shop: Shop, shipped: Order) -> None:
    # given two orders; the second request of the batch is too much
    other = make_order(OrderState.SHIPPED, shop=shop, lines=1)
    before = (_unchanged(shipped), _unchanged(other))

    response = put(client, REFUND, key, {"refunds": [_refund(_lines(shipped)[0], "22", amount=1.00),
                                                     _refund(_lines(other)[0], "22", amount=99.00)]})

    assert_error(response, 400, "REFUND_AMOUNT_EXCEEDED")
    assert (_unchanged(shipped), _unchanged(other)) == before


@pytest.mark.parametrize(("fields", "field"), [
    ({"amount": 5.005}, "refunds[0].amount"),
    ({"amount": "1.999"}, "refunds[0].amount"),
    ({"shipping_amount": 0.001}, "refunds[0].shipping_amount"),
    ({"amount": 1.00, "taxes": [{"code": "TVA20", "amount": 0.165}]}, "refunds[0].taxes.amount"),
])
def test_more_than_two_decimals_is_refused(
    client: Client, key: str, shipped: Order, fields: dict[str, Any], field: str
) -> None:
    before = _unchanged(shipped)

    response = put(client, REFUND, key, {"refunds": [_refund(_lines(shipped)[0], "22", **fields)]})

    body = assert_error(response, 400, "VALIDATION_ERROR")
    assert body["field"] == field and "deux décimales" in body["message"]
    assert _unchanged(shipped) == before


def test_taxes_that_do_not_match_the_computed_vat_are_refused_naming_it(
    client: Client, key: str, shipped: Order
) -> None:
    # given a full refund of line 1 (VAT 1.67 on the product, 0.82 on shipping)
    line = _lines(shipped)[0]
    before = _unchanged(shipped)

    # when the client sends 1.50 of VAT on the product
    response = put(client, REFUND, key, {"refunds": [_refund(
        line, amount=10.00, shipping_amount=4.90, taxes=[{"code": "TVA20", "amount": 1.50}])]})
    shipping = put(client, REFUND, key, {"refunds": [_refund(
        line, amount=10.00, shipping_amount=4.90, shipping_taxes=[{"code": "TVA20", "amount": 0.80}])]})

    # then 400 naming the computed value, and nothing written
    body = assert_error(response, 400, "REFUND_TAXES_MISMATCH")
    assert "1,50 €" in body["message"] and "1,67 €" in body["message"] and body["field"] == "refunds[0].taxes"
    assert "0,82 €" in assert_error(shipping, 400, "REFUND_TAXES_MISMATCH")["message"]
    assert _unchanged(shipped) == before


def test_taxes_within_one_cent_are_accepted(client: Client, key: str, shipped: Order) -> None:
    line = _lines(shipped)[0]

    response = put(client, REFUND, key, {"refunds": [_refund(
        line, amount=10.00, shipping_amount=4.90, taxes=[{"code": "TVA20", "amount": 1.66}],
        shipping_taxes=[{"code": "TVA20", "amount": 0.83}])]})

    assert response.status_code == 200, response.content
    assert body_of(response)["refunds"][0]["taxes"][0]["amount"] == 1.67  # Comptoir's figure is the one kept


def test_a_refund_reads_the_line_once_under_its_lock(
    client: Client, key: str, shipped: Order, django_assert_max_num_queries: Any
) -> None:
    # given a line already partly refunded
    line = _lines(shipped)[1]
    assert put(client, REFUND, key, {"refunds": [_refund(line, "22", amount=0.50)]}).status_code == 200

    # when the rest is refunded with its taxes, the mode read from the amounts
    with django_assert_max_num_queries(20):
        response = put(client, REFUND, key, {"refunds": [_refund(
            line, amount=19.50, shipping_amount=4.90, taxes=[{"code": "TVA20", "amount": 3.25}])]})

    # then one pass: no dry run before the refund, and the line is refunded in full
    assert response.status_code == 200, response.content
    assert body_of(response)["refunds"][0]["quantity"] == line.quantity
    assert OrderLine.objects.get(pk=line.pk).state == OrderState.REFUNDED


@pytest.mark.parametrize(("body", "code"), [
    ({"refunds": []}, "VALIDATION_ERROR"),
    ({}, "VALIDATION_ERROR"),
    ({"refunds": [{"order_line_id": "X", "amount": 1}]}, "VALIDATION_ERROR"),  # no reason_code
    ({"order_tax_mode": "HT", "refunds": [{"order_line_id": "X", "reason_code": "17", "amount": 1}]},
     "VALIDATION_ERROR"),
    ({"refunds": [{"order_line_id": "X", "reason_code": "17", "quantity": -1}]}, "VALIDATION_ERROR"),
    ({"refunds": [{"order_line_id": "X", "reason_code": "17", "excluded_from_shipment": "yes"}]},
     "VALIDATION_ERROR"),
    ({"refunds": [None]}, "VALIDATION_ERROR"),
])
def test_malformed_bodies_are_a_400_in_mirakls_body(client: Client, key: str, body: Any, code: str) -> None:
    assert_error(put(client, REFUND, key, body), 400, code)


def test_a_request_with_nothing_to_refund_and_a_duplicated_line_are_refused(
    client: Client, key: str, shipped: Order
) -> None:
    line = _lines(shipped)[0]

    nothing = put(client, REFUND, key, {"refunds": [_refund(line)]})
    twice = put(client, REFUND, key, {"refunds": [_refund(line, "22", amount=1), _refund(line, "22", amount=1)]})
    other_currency = put(client, REFUND, key, {"refunds": [_refund(line, "22", amount=1, currency_iso_code="USD")]})

    assert "amount" in assert_error(nothing, 400, "VALIDATION_ERROR")["message"]
    assert_error(twice, 400, "ORDER_LINE_DUPLICATE_ID")
    assert "EUR" in assert_error(other_currency, 400, "VALIDATION_ERROR")["message"]
    assert not Refund.objects.exists()


def test_without_a_key_it_is_a_401(client: Client, shipped: Order) -> None:
    assert_error(put(client, REFUND, None, {"refunds": [_refund(_lines(shipped)[0], amount=1)]}), 401,
                 "UNAUTHORIZED")


# --- refund preview --------------------------------------------------------------------------------------------


def test_the_preview_shows_the_amounts_and_the_balance_and_writes_nothing(
    client: Client, key: str, shipped: Order
) -> None:
    # given a shipped order (its money sits in the pending balance)
    line = _lines(shipped)[0]
    before = _unchanged(shipped)
    pending = ledger_queries.balances(shipped.shop_id)["pending"]

    # when the seller previews a full refund of line 1
    response = post(client, PREVIEW, key, {"refunds": [_refund(line, amount=10.00, shipping_amount=4.90)]})

    # then the totals, the commission given back and the balance before and after; nothing written
    assert response.status_code == 200, response.content
    body = body_of(response)
    commission = line.commission_fee_cents + line.commission_vat_cents
    assert (body["total"], body["total_tax"], body["total_excl_tax"]) == (14.9, 2.49, 12.41)
    assert body["commission_refunded"] == commission / 100
    assert body["seller_cost"] == (1490 - commission) / 100
    assert body["balance"] == {"kind": "PENDING", "before": pending / 100,
                               "after": (pending - 1490 + commission) / 100, "sufficient": True, "message": None}
    (item,) = body["refunds"]
    assert (item["order_line_id"], item["mode"], item["quantity"], item["amount"], item["shipping_amount"]) == (
        line.line_id, "FULL", 1, 10.0, 4.9)
    assert _unchanged(shipped) == before


def test_the_preview_of_a_refund_the_balance_cannot_cover_is_a_200_with_the_message(
    client: Client, key: str, shop: Shop
) -> None:
    # given a received order paid out to the seller
    order = make_order(OrderState.RECEIVED, shop=shop, lines=1)
    run_payout(by="test")
    body = {"refunds": [_refund(_lines(order)[0], amount=10.00, shipping_amount=4.90)]}

    # when previewing the refund
    response = post(client, PREVIEW, key, body)

    # then 200, not sufficient, with the very message the refund answers
    assert response.status_code == 200, response.content
    balance = body_of(response)["balance"]
    assert balance["kind"] == "PAYABLE" and balance["sufficient"] is False and balance["before"] == 0.0
    assert balance["after"] < 0
    refused = assert_error(put(client, REFUND, key, body), 400, "REFUND_BALANCE_INSUFFICIENT")
    assert balance["message"] == refused["message"]
    assert not Refund.objects.exists()


def test_the_preview_refuses_what_the_refund_refuses(client: Client, key: str, shipped: Order) -> None:
    response = post(client, PREVIEW, key, {"refunds": [_refund(_lines(shipped)[0], "22", amount=10.01)]})

    assert_error(response, 400, "REFUND_AMOUNT_EXCEEDED")


# --- OR30 and OR29: cancelations ------------------------------------------------------------------------------


def test_canceling_some_units_keeps_the_line_and_pays_those_back(client: Client, key: str, shop: Shop) -> None:
    # given a line of 3 units waiting to be shipped
    order = make_order(OrderState.SHIPPING, shop=shop, lines=1, quantity=3)
    line = _lines(order)[0]

    # when one unit is canceled
    response = put(client, CANCEL, key, {"cancelations": [{"order_line_id": line.line_id, "reason_code": "35",
                                                           "quantity": 1}]})

    # then that unit goes back, with its share of the shipping, and two units remain to ship
    assert response.status_code == 200, response.content
    body = body_of(response)
    (item,) = body["cancelations"]
    row = Refund.objects.get()
    assert item == {
        "cancelation_id": str(row.pk), "order_line_id": line.line_id, "amount": 10.0, "shipping_amount": 1.63,
        "quantity": 1, "reason_code": "35", "currency_iso_code": "EUR",
        "taxes": [{"code": line.tax_code, "amount": 1.67, "rate": 20.0}],
        "shipping_taxes": [{"code": line.shipping_tax_code, "amount": row.shipping_tax_cents / 100, "rate": 20.0}],
        "fees": [], "eco_contributions": [],
    }
    assert body["order_tax_mode"] == "TAX_INCLUDED"
    assert (row.kind, row.mode) == ("CANCELATION", "QUANTITY")
    fresh = OrderLine.objects.get(pk=line.pk)
    assert (fresh.state, fresh.canceled_quantity) == (OrderState.SHIPPING, 1)


def test_cancelation_amounts_typed_excluding_tax_get_the_lines_vat(client: Client, key: str, shop: Shop) -> None:
    # given a line of 3 units at 10.00 € incl. 20 % VAT
    order = make_order(OrderState.SHIPPING, shop=shop, lines=1, quantity=3)
    line = _lines(order)[0]

    # when one unit is canceled for 8.33 € excl. tax and no shipping
    response = put(client, CANCEL, key, {"order_tax_mode": "TAX_EXCLUDED", "cancelations": [{
        "order_line_id": line.line_id, "reason_code": "35", "quantity": 1, "amount": 8.33, "shipping_amount": 0}]})

    # then 10.00 € incl. tax go back, and the answer speaks excluding tax
    assert response.status_code == 200, response.content
    (item,) = body_of(response)["cancelations"]
    assert (item["amount"], item["taxes"][0]["amount"], item["shipping_amount"]) == (8.33, 1.67, 0.0)
    row = Refund.objects.get()
    assert (row.amount_cents, row.amount_tax_cents, row.shipping_cents, row.mode) == (1000, 167, 0, "QUANTITY")


def test_canceling_a_whole_line_cancels_it_and_the_last_one_cancels_the_order(
    client: Client, key: str, shop: Shop
) -> None:
    # given an order of two lines waiting to be shipped
    order = make_order(OrderState.SHIPPING, shop=shop, lines=2)
    first, second = _lines(order)

    # when the first line is canceled without a quantity, then the second with all its units
    one = put(client, CANCEL, key, {"cancelations": [{"order_line_id": first.line_id, "reason_code": "34"}]})
    state_between = Order.objects.get(pk=order.pk).state
    two = put(client, CANCEL, key, {"cancelations": [{"order_line_id": second.line_id, "reason_code": "34",
                                                      "quantity": 1}]})

    # then each line is canceled in full (FULL), and the order with the last one
    assert one.status_code == 200 and two.status_code == 200, (one.content, two.content)
    assert state_between == OrderState.SHIPPING
    assert body_of(one)["cancelations"][0]["amount"] == 10.0
    assert body_of(one)["cancelations"][0]["shipping_amount"] == 4.9
    assert list(Refund.objects.order_by("id").values_list("mode", flat=True)) == ["FULL", "FULL"]
    assert set(OrderLine.objects.filter(order=order).values_list("state", flat=True)) == {OrderState.CANCELED}
    assert Order.objects.get(pk=order.pk).state == OrderState.CANCELED


def test_canceling_units_already_in_a_parcel_is_refused(client: Client, key: str, shop: Shop) -> None:
    # given a line of 2 units, one of them in a prepared parcel
    order = make_order(OrderState.SHIPPING, shop=shop, lines=1, quantity=2)
    line = _lines(order)[0]
    created = post(client, "/api/shipments", key, {"shipments": [{
        "order_id": order.order_id, "shipment_lines": [{"order_line_id": line.line_id, "quantity": 1}]}]})
    assert created.status_code == 201 and body_of(created)["shipment_success"], created.content
    before = _unchanged(order)

    # when both units are canceled
    response = put(client, CANCEL, key, {"cancelations": [{"order_line_id": line.line_id, "reason_code": "34",
                                                           "quantity": 2}]})

    # then 400, nothing written; canceling the unit left (quantity absent) works
    assert_error(response, 400, "CANCELATION_QUANTITY_EXCEEDED")
    assert _unchanged(order) == before
    rest = put(client, CANCEL, key, {"cancelations": [{"order_line_id": line.line_id, "reason_code": "34"}]})
    assert rest.status_code == 200, rest.content
    assert body_of(rest)["cancelations"][0]["quantity"] == 1
    assert Refund.objects.get().mode == "FULL"


def test_a_refund_reason_is_not_a_cancelation_reason(client: Client, key: str, shop: Shop) -> None:
    order = make_order(OrderState.SHIPPING, shop=shop, lines=1)

    response = put(client, CANCEL, key, {"cancelations": [{"order_line_id": _lines(order)[0].line_id,
                                                           "reason_code": "17"}]})

    assert_error(response, 400, "REFUND_REASON_INVALID")


def test_a_shipped_order_cannot_be_canceled_line_by_line(client: Client, key: str, shipped: Order) -> None:
    response = put(client, CANCEL, key, {"cancelations": [{"order_line_id": _lines(shipped)[0].line_id,
                                                           "reason_code": "34"}]})

    assert_error(response, 400, "ORDER_INVALID_STATE")


def test_or29_cancels_an_order_waiting_for_shipment_and_pays_everything_back(
    client: Client, key: str, shop: Shop
) -> None:
    # given an order waiting to be shipped
    order = make_order(OrderState.SHIPPING, shop=shop, lines=2)

    # when the seller cancels it with a reason
    response = put(client, f"/api/orders/{order.order_id}/cancel?reason_code=35", key)

    # then 204, the order is canceled and every cent goes back
    assert response.status_code == 204 and response.content == b""
    fresh = Order.objects.get(pk=order.pk)
    assert fresh.state == OrderState.CANCELED
    rows = list(Refund.objects.filter(order=order))
    assert {r.kind for r in rows} == {"CANCELATION"} and {r.reason_code for r in rows} == {"35"}
    assert sum(r.total_cents for r in rows) == fresh.total_price_cents


def test_or29_without_a_reason_uses_the_first_cancelation_reason(client: Client, key: str, shop: Shop) -> None:
    order = make_order(OrderState.SHIPPING, shop=shop, lines=1)

    response = put(client, f"/api/orders/{order.order_id}/cancel", key)

    assert response.status_code == 204
    assert Refund.objects.get().reason_code == "34"


@pytest.mark.parametrize(("lines", "quantity", "in_parcel"), [(2, 1, 1), (1, 2, 1)])
def test_or29_after_a_parcel_was_created_is_refused(
    client: Client, key: str, shop: Shop, lines: int, quantity: int, in_parcel: int
) -> None:
    # given an order waiting to be shipped, with a prepared parcel holding one unit of line 1
    order = make_order(OrderState.SHIPPING, shop=shop, lines=lines, quantity=quantity)
    line = _lines(order)[0]
    created = post(client, "/api/shipments", key, {"shipments": [{
        "order_id": order.order_id, "shipment_lines": [{"order_line_id": line.line_id, "quantity": in_parcel}]}]})
    assert body_of(created)["shipment_success"], created.content
    before = _unchanged(order)

    # when the seller cancels the whole order
    response = put(client, f"/api/orders/{order.order_id}/cancel", key)

    # then 400 and nothing changed (OR11 said can_cancel: false)
    assert_error(response, 400, "CANCELATION_QUANTITY_EXCEEDED")
    assert _unchanged(order) == before
    (listed,) = body_of(get(client, "/api/orders", key, {"order_ids": order.order_id}))["orders"]
    assert listed["can_cancel"] is False


@pytest.mark.parametrize("state", [OrderState.SHIPPED, OrderState.WAITING_ACCEPTANCE])
def test_or29_in_another_state_is_refused(client: Client, key: str, shop: Shop, state: OrderState) -> None:
    order = make_order(state, shop=shop, lines=1)
    before = _unchanged(order)

    response = put(client, f"/api/orders/{order.order_id}/cancel", key)

    assert_error(response, 400, "ORDER_INVALID_STATE")
    assert _unchanged(order) == before


def test_or29_on_another_shops_order_is_a_404(client: Client, key: str, other_shop: Shop) -> None:
    order = make_order(OrderState.SHIPPING, shop=other_shop, lines=1)

    assert_error(put(client, f"/api/orders/{order.order_id}/cancel", key), 404, "ORDER_NOT_FOUND")
    assert_error(put(client, "/api/orders/NOPE-A/cancel", key), 404, "ORDER_NOT_FOUND")
    assert Order.objects.get(pk=order.pk).state == OrderState.SHIPPING


# --- OR11 shows them ---------------------------------------------------------------------------------------------


def test_or11_lists_refunds_cancelations_and_refunded_lines(client: Client, key: str, shop: Shop) -> None:
    # given a shipped order with a gesture on line 1 and line 2 refunded in full
    order = make_order(OrderState.SHIPPED, shop=shop, lines=2)
    first, second = _lines(order)
    assert put(client, REFUND, key, {"refunds": [_refund(first, "22", amount=2.00)]}).status_code == 200
    assert put(client, REFUND, key, {"refunds": [_refund(second, amount=20.00, shipping_amount=4.90)]}).status_code == 200
    # and an order waiting for shipment with one unit of three canceled
    waiting = make_order(OrderState.SHIPPING, shop=shop, lines=1, quantity=3)
    assert put(client, CANCEL, key, {"cancelations": [{"order_line_id": _lines(waiting)[0].line_id,
                                                       "reason_code": "35", "quantity": 1}]}).status_code == 200

    # when the seller lists them
    response = get(client, "/api/orders", key, {"order_ids": f"{order.order_id},{waiting.order_id}"})

    # then the refunds and cancelations are on their lines, in Mirakl's shape
    orders = {o["order_id"]: o for o in body_of(response)["orders"]}
    listed = orders[order.order_id]
    one, two = listed["order_lines"]
    (gesture,) = one["refunds"]
    row = Refund.objects.get(line=first)
    assert gesture == {
        "id": str(row.pk), "amount": 2.0, "shipping_amount": 0.0, "quantity": 0, "reason_code": "22",
        "state": "WAITING_REFUND", "refund_state": "WAITING_REFUND", "created_date": gesture["created_date"],
        "transaction_date": None, "transaction_number": None,
        "taxes": [{"code": first.tax_code, "amount": 0.33, "rate": 20.0}],
        "shipping_taxes": [{"code": first.shipping_tax_code, "amount": 0.0, "rate": 20.0}], "fees": [],
        "commission_amount": row.commission_fee_cents / 100,
        "commission_taxes": [{"code": "TVA20", "amount": row.commission_vat_cents / 100, "rate": 20.0}],
        "commission_tax_amount": row.commission_vat_cents / 100,
        "commission_total_amount": (row.commission_fee_cents + row.commission_vat_cents) / 100,
        "order_refund_id": row.group_id, "tax_legal_notice": gesture["tax_legal_notice"], "eco_contributions": [],
    }
    assert gesture["created_date"].endswith("Z")
    assert (one["order_line_state"], one["can_refund"], one["cancelations"]) == ("SHIPPED", True, [])
    assert (two["order_line_state"], two["can_refund"]) == ("REFUNDED", False)
    assert [r["amount"] for r in two["refunds"]] == [20.0]
    assert listed["order_state"] == "SHIPPED" and listed["fully_refunded"] is False
    assert {r["order_refund_id"] for r in listed["order_refunds"]} == set(
        Refund.objects.filter(order=order).values_list("group_id", flat=True))
    assert all(r["taxes"] and r["shipping_taxes"] for r in listed["order_refunds"])
    (canceled,) = orders[waiting.order_id]["order_lines"][0]["cancelations"]
    assert (canceled["quantity"], canceled["amount"], canceled["reason_code"]) == (1, 10.0, "35")
    assert "state" not in canceled and orders[waiting.order_id]["order_lines"][0]["refunds"] == []
    assert orders[waiting.order_id]["can_cancel"] is True


def test_or11_says_fully_refunded_when_every_line_is(client: Client, key: str, shop: Shop) -> None:
    order = make_order(OrderState.SHIPPED, shop=shop, lines=1)
    line = _lines(order)[0]
    assert put(client, REFUND, key, {"refunds": [_refund(line, amount=10.00, shipping_amount=4.90)]}).status_code == 200

    (listed,) = body_of(get(client, "/api/orders", key, {"order_ids": order.order_id}))["orders"]

    assert listed["fully_refunded"] is True
    assert listed["order_lines"][0]["order_line_state"] == "REFUNDED"
    assert listed["order_lines"][0]["can_refund"] is False


def test_or11_with_refunds_costs_the_same_queries_for_two_or_eight_orders(
    client: Client, key: str, shop: Shop, django_assert_max_num_queries: Any
) -> None:
    # given orders with refunds and cancelations, some with a parcel
    made = []
    for _ in range(4):
        shipped = make_order(OrderState.SHIPPED, shop=shop, lines=2)
        assert put(client, REFUND, key, {"refunds": [_refund(_lines(shipped)[0], "22", amount=1)]}).status_code == 200
        waiting = make_order(OrderState.SHIPPING, shop=shop, lines=1, quantity=2)
        assert put(client, CANCEL, key, {"cancelations": [{"order_line_id": _lines(waiting)[0].line_id,
                                                           "reason_code": "35", "quantity": 1}]}).status_code == 200
        made += [shipped, waiting]
    assert ShipmentLine.objects.count() == 0

    # when listing two of them (one of each), then all of them
    with django_assert_max_num_queries(10) as few:
        one = get(client, "/api/orders", key, {"order_ids": f"{made[0].order_id},{made[1].order_id}"})
    with django_assert_max_num_queries(10) as many:
        everything = get(client, "/api/orders", key, {"max": "50"})

    # then the same number of queries
    assert len(body_of(one)["orders"]) == 2 and len(body_of(everything)["orders"]) == 8
    assert len(few.captured_queries) == len(many.captured_queries)
