"""Reading a request's mode from its amounts (OR28 and OR30 name none), pure: `compute` with `mode=None` gives
what the explicit mode gives, and FULL when the amounts take the rest of the line, tax included or excluded."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from comptoir.core.errors import ComptoirError
from comptoir.orders.rules import line_amounts
from comptoir.refunds.errors import RefundAmountExceeded, RefundInvalid
from comptoir.refunds.rules import Ask, LineAccount, RefundKind, RefundMode, apply, compute, infer, typed_mode

R, C = RefundKind.REFUND, RefundKind.CANCELATION


def account(unit: int = 1000, quantity: int = 1, shipping: int = 490, shipped: bool = True) -> LineAccount:
    """One line at 20 % VAT, 15 % commission."""
    amounts = line_amounts(unit_price_cents=unit, quantity=quantity, shipping_price_cents=shipping,
                           tax_rate=Decimal("20"), shipping_tax_rate=Decimal("20"),
                           commission_rate=Decimal("15"), commission_vat_rate=Decimal("20"))
    return LineAccount(
        line_id="L1", quantity=quantity, unit_price_cents=unit, price_cents=amounts.price_cents,
        tax_cents=amounts.tax_cents, tax_rate=Decimal("20"), shipping_cents=shipping,
        shipping_tax_cents=amounts.shipping_tax_cents, shipping_tax_rate=Decimal("20"),
        commission_fee_cents=amounts.commission_fee_cents, commission_vat_cents=amounts.commission_vat_cents,
        in_shipments_quantity=quantity if shipped else 0, shipped_quantity=quantity if shipped else 0,
    )


@pytest.mark.parametrize(("quantity", "amount", "shipping", "mode"), [
    (0, 500, None, RefundMode.AMOUNT),
    (0, 500, 100, RefundMode.AMOUNT),
    (2, None, None, RefundMode.QUANTITY),
    (2, 500, None, RefundMode.QUANTITY),
    (0, None, 100, RefundMode.SHIPPING),
    (0, 0, 100, RefundMode.SHIPPING),
    (0, None, None, None),
    (0, 0, 0, None),
])
def test_the_typed_mode_comes_from_what_was_typed(quantity: int, amount: int | None, shipping: int | None,
                                                 mode: RefundMode | None) -> None:
    assert typed_mode(quantity=quantity, amount_cents=amount, shipping_cents=shipping) == mode


def test_the_remaining_amount_and_shipping_tax_included_are_a_full_refund() -> None:
    # given a line of 3 units, one unit already given back as a gesture
    line = account(unit=1999, quantity=3, shipping=590)
    line = apply(line, compute(line, Ask("L1", R, RefundMode.AMOUNT, amount_cents=1000)))
    # when the rest is asked tax included, without a mode
    done = compute(line, Ask("L1", R, None, amount_cents=line.remaining_amount, shipping_cents=line.remaining_shipping,
                             tax_included=True))
    # then it is FULL: the rest to the cent, with the line's remaining units
    assert done.mode == RefundMode.FULL and done.settles_line
    assert (done.amount_cents, done.amount_tax_cents) == (line.remaining_amount, line.remaining_amount_tax)
    assert (done.shipping_cents, done.quantity) == (line.remaining_shipping, 3)
    assert done == compute(line, Ask("L1", R, RefundMode.FULL))


def test_the_remaining_amounts_typed_excluding_tax_are_a_full_refund() -> None:
    line = account(unit=1999, quantity=2, shipping=590)
    ask = Ask("L1", R, None, amount_cents=line.remaining_amount_excl_tax(),
              shipping_cents=line.remaining_shipping_excl_tax())
    assert infer(line, ask) == RefundMode.FULL
    assert compute(line, ask) == compute(line, Ask("L1", R, RefundMode.FULL))


def test_the_remaining_amount_without_the_remaining_shipping_is_a_gesture() -> None:
    line = account()
    done = compute(line, Ask("L1", R, None, amount_cents=line.remaining_amount, tax_included=True))
    assert done.mode == RefundMode.AMOUNT and not done.settles_line and done.shipping_cents == 0


def test_every_remaining_unit_of_a_line_without_shipping_is_a_full_refund() -> None:
    line = account(unit=1000, quantity=2, shipping=0)
    done = compute(line, Ask("L1", R, None, quantity=2))
    assert done.mode == RefundMode.FULL and done.quantity == 2 and done.amount_cents == line.price_cents


def test_some_units_are_a_refund_by_quantity() -> None:
    line = account(unit=1000, quantity=3)
    done = compute(line, Ask("L1", R, None, quantity=1))
    assert done.mode == RefundMode.QUANTITY and done == compute(line, Ask("L1", R, RefundMode.QUANTITY, quantity=1))


def test_shipping_alone_is_a_shipping_refund_and_its_rest_does_not_settle_the_line() -> None:
    line = account()
    done = compute(line, Ask("L1", R, None, amount_cents=0, shipping_cents=line.remaining_shipping_excl_tax()))
    assert done.mode == RefundMode.SHIPPING and done.amount_cents == 0
    assert (done.shipping_cents, done.shipping_tax_cents) == (line.remaining_shipping, line.remaining_shipping_tax)


def test_a_request_with_nothing_to_refund_is_refused() -> None:
    with pytest.raises(RefundInvalid):
        compute(account(), Ask("L1", R, None))


def test_more_than_what_remains_is_refused_whatever_the_mode() -> None:
    line = account()
    with pytest.raises(RefundAmountExceeded):
        compute(line, Ask("L1", R, None, amount_cents=line.remaining_amount + 1, tax_included=True))


def test_a_cancelation_naming_every_cancelable_unit_is_full_and_fewer_is_by_quantity() -> None:
    line = account(unit=1000, quantity=3, shipped=False)
    assert infer(line, Ask("L1", C, None, quantity=3)) == RefundMode.FULL
    every = compute(line, Ask("L1", C, None, quantity=3, tax_included=True))
    assert every == compute(line, Ask("L1", C, RefundMode.FULL)) and every.settles_line
    some = compute(line, Ask("L1", C, None, quantity=1, tax_included=True))
    assert some.mode == RefundMode.QUANTITY and some.quantity == 1 and not some.settles_line


def test_cancelation_amounts_typed_excluding_tax_get_the_lines_vat() -> None:
    line = account(unit=1000, quantity=3, shipped=False)
    done = compute(line, Ask("L1", C, None, quantity=1, amount_cents=500, shipping_cents=100))
    assert (done.amount_cents, done.shipping_cents) == (600, 120)
    included = compute(line, Ask("L1", C, None, quantity=1, amount_cents=600, shipping_cents=120, tax_included=True))
    assert done == included


@settings(max_examples=300, deadline=None)
@given(unit=st.integers(1, 50_000), quantity=st.integers(1, 5), shipping=st.integers(0, 2_000),
       asked_units=st.integers(0, 5), amount=st.none() | st.integers(0, 300_000),
       ship=st.none() | st.integers(0, 3_000), tax_included=st.booleans())
def test_without_a_mode_the_result_is_the_typed_modes_or_the_full_refund(
        unit: int, quantity: int, shipping: int, asked_units: int, amount: int | None, ship: int | None,
        tax_included: bool) -> None:
    line = account(unit=unit, quantity=quantity, shipping=shipping)
    mode = typed_mode(quantity=asked_units, amount_cents=amount, shipping_cents=ship)
    ask = Ask("L1", R, None, quantity=asked_units, amount_cents=amount, shipping_cents=ship, tax_included=tax_included)
    if mode is None:
        with pytest.raises(RefundInvalid):
            compute(line, ask)
        return
    explicit = Ask("L1", R, mode, quantity=asked_units, amount_cents=None if mode == RefundMode.SHIPPING else amount,
                   shipping_cents=ship, tax_included=tax_included)
    try:
        typed = compute(line, explicit)
    except ComptoirError as refused:  # what the typed mode refuses is refused, for the same reason
        with pytest.raises(type(refused)):
            compute(line, ask)
        return
    done = compute(line, ask)
    if typed.settles_line:
        assert done == compute(line, Ask("L1", R, RefundMode.FULL)) and done.mode == RefundMode.FULL
    else:
        assert done == typed
