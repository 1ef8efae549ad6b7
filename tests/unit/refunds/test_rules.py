"""The refund rules, pure: worked examples from the guide, then properties over any sequence of requests."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from comptoir.core.errors import ComptoirError
from comptoir.orders.rules import line_amounts
from comptoir.refunds.errors import (
    CancelationQuantityExceeded,
    RefundAmountExceeded,
    RefundLineNotShipped,
    RefundQuantityExceeded,
)
from comptoir.refunds.rules import (
    Ask,
    LineAccount,
    RefundKind,
    RefundMode,
    apply,
    compute,
    euros,
    preview,
    proposed_excl_tax,
)

R, C = RefundKind.REFUND, RefundKind.CANCELATION


def account(unit: int = 1000, quantity: int = 1, shipping: int = 490, rate: str = "20", ship_rate: str = "20",
            commission: str = "15", shipped: bool = True) -> LineAccount:
    amounts = line_amounts(unit_price_cents=unit, quantity=quantity, shipping_price_cents=shipping,
                           tax_rate=Decimal(rate), shipping_tax_rate=Decimal(ship_rate),
                           commission_rate=Decimal(commission), commission_vat_rate=Decimal("20"))
    return LineAccount(
        line_id="L1", quantity=quantity, unit_price_cents=unit, price_cents=amounts.price_cents,
        tax_cents=amounts.tax_cents, tax_rate=Decimal(rate), shipping_cents=shipping,
        shipping_tax_cents=amounts.shipping_tax_cents, shipping_tax_rate=Decimal(ship_rate),
        commission_fee_cents=amounts.commission_fee_cents, commission_vat_cents=amounts.commission_vat_cents,
        in_shipments_quantity=quantity if shipped else 0, shipped_quantity=quantity if shipped else 0,
    )


def test_a_full_refund_gives_back_the_line_to_the_cent() -> None:
    line = account(unit=1999, quantity=3, shipping=590)
    done = compute(line, Ask("L1", R, RefundMode.FULL))
    assert (done.amount_cents, done.shipping_cents, done.quantity) == (5997, 590, 3)
    assert (done.amount_tax_cents, done.shipping_tax_cents) == (line.tax_cents, line.shipping_tax_cents)
    assert done.commission_total_cents == line.commission_fee_cents + line.commission_vat_cents
    assert done.settles_line


def test_partial_amounts_are_typed_excluding_tax() -> None:
    # 5,00 € HT at 20 % is 6,00 € TTC: the guide warns the seller the amount typed is excluding tax
    done = compute(account(), Ask("L1", R, RefundMode.AMOUNT, amount_cents=500))
    assert (done.amount_cents, done.amount_tax_cents, done.excl_tax_cents) == (600, 100, 500)
    assert not done.settles_line


def test_the_exact_rest_typed_excluding_tax_gives_back_the_exact_rest() -> None:
    # 9,99 € TTC at 20 %: 8,33 € HT would make 10,00 € TTC; typing the HT rest gives back exactly 9,99 €
    line = account(unit=999, shipping=0)
    rest_excl = line.remaining_amount_excl_tax()
    done = compute(line, Ask("L1", R, RefundMode.AMOUNT, amount_cents=rest_excl))
    assert done.amount_cents == 999 and done.amount_tax_cents == line.tax_cents and done.settles_line


def test_quantity_refund_proposes_the_units_price() -> None:
    line = account(unit=1200, quantity=3, shipping=0)
    assert proposed_excl_tax(line, 1) == 1000
    done = compute(line, Ask("L1", R, RefundMode.QUANTITY, quantity=1))
    assert (done.amount_cents, done.quantity) == (1200, 1)
    edited = compute(line, Ask("L1", R, RefundMode.QUANTITY, quantity=1, amount_cents=800))
    assert edited.amount_cents == 960
    with pytest.raises(RefundQuantityExceeded):
        compute(line, Ask("L1", R, RefundMode.QUANTITY, quantity=4))


def test_shipping_only() -> None:
    line = account(shipping=600)
    done = compute(line, Ask("L1", R, RefundMode.SHIPPING))
    assert (done.amount_cents, done.shipping_cents, done.shipping_tax_cents) == (0, 600, 100)
    with pytest.raises(ComptoirError):
        compute(line, Ask("L1", R, RefundMode.SHIPPING, amount_cents=100))


def test_more_than_what_remains_is_refused_with_the_figures() -> None:
    line = apply(account(), compute(account(), Ask("L1", R, RefundMode.AMOUNT, amount_cents=500)))
    with pytest.raises(RefundAmountExceeded) as error:
        compute(line, Ask("L1", R, RefundMode.AMOUNT, amount_cents=400))
    assert "4,00 € TTC" in error.value.message and "3,33 € HT" in error.value.message


def test_a_line_not_shipped_is_canceled_not_refunded_in_full() -> None:
    line = account(quantity=2, shipped=False)
    with pytest.raises(RefundLineNotShipped):
        compute(line, Ask("L1", R, RefundMode.FULL))
    # a gesture on it is fine, and excluding the units from the shipment makes the full refund possible
    assert compute(line, Ask("L1", R, RefundMode.AMOUNT, amount_cents=100)).amount_cents == 120
    done = compute(line, Ask("L1", R, RefundMode.FULL, excluded_from_shipment=True))
    assert done.excluded_quantity == 2 and done.settles_line


def test_cancelation_of_some_units_gives_back_their_price_and_a_share_of_shipping() -> None:
    line = account(unit=1000, quantity=4, shipping=800, shipped=False)
    done = compute(line, Ask("L1", C, RefundMode.QUANTITY, quantity=1))
    assert (done.amount_cents, done.shipping_cents, done.excluded_quantity) == (1000, 200, 1)
    assert not done.settles_line
    rest = compute(apply(line, done), Ask("L1", C, RefundMode.FULL))
    assert rest.quantity == 3 and rest.amount_cents == 3000 and rest.shipping_cents == 600 and rest.settles_line


def test_units_in_a_parcel_cannot_be_canceled() -> None:
    line = replace(account(quantity=3, shipped=False), in_shipments_quantity=2)
    with pytest.raises(CancelationQuantityExceeded):
        compute(line, Ask("L1", C, RefundMode.QUANTITY, quantity=2))
    assert compute(line, Ask("L1", C, RefundMode.FULL)).quantity == 1


def test_preview_sums_and_the_balance_after() -> None:
    done = compute(account(), Ask("L1", R, RefundMode.FULL))
    shown = preview([done], balance_label="payable", balance_before_cents=1000)
    assert shown.total_cents == 1490 and shown.seller_cost_cents == 1490 - done.commission_total_cents
    assert shown.balance_after_cents == 1000 - shown.seller_cost_cents and not shown.sufficient
    assert euros(123450) == "1 234,50 €"


# -- properties ---------------------------------------------------------------------------------------------

lines = st.builds(
    account,
    unit=st.integers(1, 200_000), quantity=st.integers(1, 6), shipping=st.integers(0, 3_000),
    rate=st.sampled_from(["0", "2.1", "5.5", "10", "20"]), ship_rate=st.sampled_from(["0", "5.5", "20"]),
    commission=st.sampled_from(["0", "7.5", "12", "15", "30"]), shipped=st.booleans(),
)
asks = st.builds(
    lambda kind, mode, quantity, amount, shipping, incl, excluded: Ask(
        "L1", kind, mode, quantity, amount, shipping, incl, excluded),
    st.sampled_from([R, R, R, C]), st.sampled_from(list(RefundMode)), st.integers(0, 7),
    st.one_of(st.none(), st.integers(0, 250_000)), st.one_of(st.none(), st.integers(0, 4_000)), st.booleans(),
    st.booleans(),
)


@settings(max_examples=400, deadline=None)
@given(line=lines, requests=st.lists(asks, max_size=12))
def test_no_sequence_of_refunds_and_cancelations_gives_back_more_than_was_paid(line: LineAccount,
                                                                                 requests: list[Ask]) -> None:
    state = line
    for ask in requests:
        try:
            done = compute(state, ask)
        except ComptoirError:
            continue
        for part in (done.amount_cents, done.amount_tax_cents, done.shipping_cents, done.shipping_tax_cents,
                     done.commission_fee_cents, done.commission_vat_cents):
            assert part >= 0
        # a refund gives money back; a cancelation keeps units from shipping (a free unit gives back nothing)
        assert done.total_cents > 0 if done.kind == R else done.quantity > 0
        assert done.amount_tax_cents <= done.amount_cents and done.shipping_tax_cents <= done.shipping_cents
        state = apply(state, done)
        assert 0 <= state.back_amount_cents <= line.price_cents
        assert 0 <= state.back_amount_tax_cents <= line.tax_cents
        assert 0 <= state.back_shipping_cents <= line.shipping_cents
        assert 0 <= state.back_shipping_tax_cents <= line.shipping_tax_cents
        assert state.back_commission_fee_cents <= line.commission_fee_cents
        assert state.back_commission_vat_cents <= line.commission_vat_cents
        assert state.refunded_quantity + state.canceled_quantity <= line.quantity + state.canceled_quantity
        assert state.canceled_quantity + state.in_shipments_quantity <= line.quantity
        if done.settles_line and done.kind == R:
            # given back in full: to the cent, taxes and commission included
            assert state.remaining_amount == state.remaining_shipping == 0
            assert state.back_amount_tax_cents == line.tax_cents
            assert state.back_shipping_tax_cents == line.shipping_tax_cents
            assert state.back_commission_fee_cents == line.commission_fee_cents
            assert state.back_commission_vat_cents == line.commission_vat_cents
        if state.fully_given_back:
            assert state.back_commission_fee_cents == line.commission_fee_cents
            break
