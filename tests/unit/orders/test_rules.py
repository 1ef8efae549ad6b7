"""Unit tests of the pure order rules: line amounts, OR21 decisions, and what a seller sees of the customer."""

from __future__ import annotations

from decimal import Decimal

import pytest

from comptoir.orders.errors import (
    AcceptanceDecisionMissing,
    OrderLineDuplicateId,
    OrderLineNotFound,
    OrderLineNullElement,
)
from comptoir.orders.rules import Decision, LineAmounts, check_decisions, customer_view, line_amounts
from comptoir.orders.states import OrderState

S = OrderState

# -- line amounts ---------------------------------------------------------------------------------------------


def test_line_amounts_at_20_percent_computed_by_hand() -> None:
    # given 3 × 19.99 incl. 20 % VAT, 4.90 shipping incl. 20 %, 10 % commission with 20 % VAT on it
    amounts = line_amounts(
        unit_price_cents=1999, quantity=3, shipping_price_cents=490, tax_rate=Decimal("20"),
        shipping_tax_rate=Decimal("20"), commission_rate=Decimal("10"), commission_vat_rate=Decimal("20"),
    )
    # then: price 59.97; its VAT 59.97/6 = 9.995 -> 10.00 (half-up, once per line, not per unit: 3 × 3.33 = 9.99);
    # shipping VAT 4.90/6 = 0.8167 -> 0.82; commission 10 % of 64.87 = 6.487 -> 6.49; its VAT 1.298 -> 1.30
    assert amounts == LineAmounts(
        price_cents=5997, tax_cents=1000, shipping_tax_cents=82, commission_fee_cents=649, commission_vat_cents=130
    )


def test_line_amounts_at_5_5_percent_computed_by_hand() -> None:
    # given 2 books at 10.55 incl. 5.5 %, free shipping, 15 % commission
    amounts = line_amounts(
        unit_price_cents=1055, quantity=2, shipping_price_cents=0, tax_rate=Decimal("5.5"),
        shipping_tax_rate=Decimal("20"), commission_rate=Decimal("15"), commission_vat_rate=Decimal("20"),
    )
    # then: price 21.10, VAT 21.10 × 5.5/105.5 = 1.10 exactly; commission 3.165 -> 3.17; VAT 0.634 -> 0.63
    assert amounts == LineAmounts(
        price_cents=2110, tax_cents=110, shipping_tax_cents=0, commission_fee_cents=317, commission_vat_cents=63
    )


def test_line_amounts_with_no_vat_and_no_commission() -> None:
    amounts = line_amounts(
        unit_price_cents=700, quantity=4, shipping_price_cents=300, tax_rate=Decimal("0"),
        shipping_tax_rate=Decimal("0"), commission_rate=Decimal("0"), commission_vat_rate=Decimal("20"),
    )
    assert amounts == LineAmounts(
        price_cents=2800, tax_cents=0, shipping_tax_cents=0, commission_fee_cents=0, commission_vat_cents=0
    )


# -- OR21 decisions ----------------------------------------------------------------------------------------------

WAITING = ["X-A-1", "X-A-2", "X-A-3"]


def test_decisions_come_back_in_the_order_of_the_lines() -> None:
    decisions = [Decision("X-A-3", False), Decision("X-A-1", True), Decision("X-A-2", True)]
    assert check_decisions(WAITING, decisions) == [
        Decision("X-A-1", True), Decision("X-A-2", True), Decision("X-A-3", False),
    ]


def test_decisions_accept_any_iterable() -> None:
    decisions = (Decision(line_id, True) for line_id in WAITING)
    assert [d.line_id for d in check_decisions(WAITING, decisions)] == WAITING


def test_a_null_decision_is_refused() -> None:
    with pytest.raises(OrderLineNullElement) as error:
        check_decisions(WAITING, [Decision("X-A-1", True), None, Decision("X-A-2", True)])
    assert error.value.code == "ORDER_LINE_NULL_ELEMENT"


def test_a_line_decided_twice_is_refused() -> None:
    decisions = [Decision("X-A-1", True), Decision("X-A-2", True), Decision("X-A-3", True), Decision("X-A-1", False)]
    with pytest.raises(OrderLineDuplicateId) as error:
        check_decisions(WAITING, decisions)
    assert error.value.code == "ORDER_LINE_DUPLICATE_ID"
    assert "X-A-1" in error.value.message


def test_a_decision_on_an_unknown_line_is_refused() -> None:
    decisions = [*(Decision(line_id, True) for line_id in WAITING), Decision("X-B-1", True)]
    with pytest.raises(OrderLineNotFound) as error:
        check_decisions(WAITING, decisions)
    assert error.value.code == "ORDER_LINE_NOT_FOUND"
    assert "X-B-1" in error.value.message


def test_every_waiting_line_must_be_decided() -> None:
    with pytest.raises(AcceptanceDecisionMissing) as error:
        check_decisions(WAITING, [Decision("X-A-1", True), Decision("X-A-3", False)])
    assert error.value.code == "ORDER_LINE_ACCEPTANCE_DECISION_MISSING"
    assert "X-A-2" in error.value.message


def test_no_decision_at_all_is_refused() -> None:
    with pytest.raises(AcceptanceDecisionMissing):
        check_decisions(WAITING, [])


# -- what the seller sees of the customer (DESIGN §5) ----------------------------------------------------------

CUSTOMER_KEYS = {"customer_id", "civility", "firstname", "lastname", "locale", "billing_address",
                 "shipping_address"}
EMAIL = "jeanne.martin@example.com"
ADDRESS = {"firstname": "Jeanne", "lastname": "Martin", "street_1": "12 rue des Lilas", "zip_code": "69003",
           "city": "Lyon", "country_iso_code": "FRA", "phone": "0612345678", "email": EMAIL,
           "additional_info": "digicode 1234"}

# Written out by hand: no details before the debit (STAGING .. WAITING_DEBIT_PAYMENT, REFUSED); details from
# SHIPPING on, including the line-only states, which all come after the debit.
HIDDEN = [(S.STAGING, False), (S.WAITING_ACCEPTANCE, False), (S.WAITING_DEBIT, False),
          (S.WAITING_DEBIT_PAYMENT, False), (S.REFUSED, False), (S.CANCELED, False)]
SHOWN = [(S.SHIPPING, True), (S.SHIPPED, True), (S.TO_COLLECT, True), (S.RECEIVED, True), (S.CLOSED, True),
         (S.CANCELED, True), (S.INCIDENT_OPEN, True), (S.INCIDENT_CLOSED, True), (S.REFUNDED, True)]


def _view(state: OrderState, *, debited: bool) -> dict:
    return customer_view(
        state=state, debited=debited, customer_id="cust-1", civility="Mme", firstname="Jeanne",
        lastname="Martin", locale="fr_FR", billing_address=dict(ADDRESS), shipping_address=dict(ADDRESS),
    )


def _all_keys(value: object) -> set[str]:
    if isinstance(value, dict):
        return set(value) | set().union(*(_all_keys(v) for v in value.values()))
    return set()


def test_every_state_is_covered_by_the_visibility_cases() -> None:
    assert {state for state, _ in HIDDEN + SHOWN} == set(OrderState)


@pytest.mark.parametrize(("state", "debited"), HIDDEN, ids=lambda v: str(v))
def test_before_shipping_the_seller_sees_only_id_civility_and_name(state: OrderState, debited: bool) -> None:
    view = _view(state, debited=debited)
    assert set(view) == CUSTOMER_KEYS  # every key, null where hidden
    assert view["customer_id"] == "cust-1"
    assert (view["civility"], view["firstname"], view["lastname"]) == ("Mme", "Jeanne", "Martin")
    assert view["billing_address"] is None
    assert view["shipping_address"] is None
    assert "0612345678" not in repr(view)
    assert "Lilas" not in repr(view)


@pytest.mark.parametrize(("state", "debited"), SHOWN, ids=lambda v: str(v))
def test_from_shipping_on_the_seller_sees_addresses_and_phone(state: OrderState, debited: bool) -> None:
    view = _view(state, debited=debited)
    assert set(view) == CUSTOMER_KEYS
    for key in ("billing_address", "shipping_address"):
        assert view[key]["phone"] == "0612345678"
        assert view[key]["street_1"] == "12 rue des Lilas"
        assert view[key]["city"] == "Lyon"
        assert view[key]["company"] is None  # absent fields are present as null
    assert view["shipping_address"]["additional_info"] == "digicode 1234"
    assert "additional_info" not in view["billing_address"]


def test_an_order_canceled_after_the_debit_keeps_the_details_and_before_hides_them() -> None:
    assert _view(S.CANCELED, debited=True)["shipping_address"] is not None
    assert _view(S.CANCELED, debited=False)["shipping_address"] is None


@pytest.mark.parametrize(("state", "debited"), HIDDEN + SHOWN, ids=lambda v: str(v))
def test_the_customer_email_is_never_shown(state: OrderState, debited: bool) -> None:
    view = _view(state, debited=debited)
    assert not any("email" in key for key in _all_keys(view))
    assert EMAIL not in repr(view)


def test_empty_civility_and_locale_are_null_and_an_empty_address_is_null() -> None:
    view = customer_view(
        state=S.SHIPPING, debited=True, customer_id="c", civility="", firstname="A", lastname="B", locale="",
        billing_address={}, shipping_address=None,
    )
    assert view == {"customer_id": "c", "civility": None, "firstname": "A", "lastname": "B", "locale": None,
                    "billing_address": None, "shipping_address": None}
