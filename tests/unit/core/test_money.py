"""Unit tests of exact money (comptoir.core.money): integer cents, exact conversions, VAT rounded half-up."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from comptoir.core.money import (
    Money,
    cents_to_decimal,
    decimal_to_cents,
    percentage_of,
    round_cents,
    tax_included_part,
    tax_on_net,
)

PROPERTY = settings(max_examples=300, deadline=None, database=None)
RATES = [Decimal("0"), Decimal("5.5"), Decimal("10"), Decimal("20")]

# -- Money ----------------------------------------------------------------------------------------------------


def test_money_adds_subtracts_multiplies_and_negates_in_cents() -> None:
    price = Money(1999)
    assert price + Money(1) == Money(2000)
    assert price - Money(2000) == Money(-1)
    assert price * 3 == Money(5997)
    assert -price == Money(-1999)
    assert Money.zero() == Money(0, "EUR")
    assert str(Money(123456)) == "1234.56 EUR"
    assert Money(5).amount == Decimal("0.05")


def test_money_keeps_its_currency() -> None:
    assert (Money(100, "CHF") + Money(50, "CHF")).currency == "CHF"
    assert (Money(100, "CHF") * 2).currency == "CHF"


@pytest.mark.parametrize("operation", [lambda a, b: a + b, lambda a, b: a - b])
def test_money_of_two_currencies_cannot_be_mixed(operation) -> None:
    with pytest.raises(ValueError, match="currency mismatch"):
        operation(Money(100, "EUR"), Money(100, "USD"))


@pytest.mark.parametrize("cents", [1.5, Decimal("1"), "100", True])
def test_money_refuses_anything_but_integer_cents(cents: object) -> None:
    with pytest.raises(TypeError):
        Money(cents)  # type: ignore[arg-type]


@pytest.mark.parametrize("factor", [1.5, Decimal("2")])
def test_money_is_only_multiplied_by_whole_quantities(factor: object) -> None:
    with pytest.raises(TypeError):
        Money(100) * factor  # type: ignore[operator]


def test_money_orders_by_amount() -> None:
    assert Money(99) < Money(100)
    assert max(Money(5), Money(500), Money(50)) == Money(500)


# -- conversions -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "cents"), [
    ("12.34", 1234),
    (Decimal("0.1"), 10),
    ("0.10", 10),
    (Decimal("0.01"), 1),
    (5, 500),
    ("-3.07", -307),
    ("1E+2", 10000),
    ("19.90", 1990),
    ("12345678901234.56", 1234567890123456),
])
def test_decimal_to_cents_is_exact(value: object, cents: int) -> None:
    assert decimal_to_cents(value) == cents  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["12.345", Decimal("0.001"), "0.999", "1.005"])
def test_decimal_to_cents_refuses_more_than_two_decimal_places(value: object) -> None:
    with pytest.raises(ValueError, match="two decimal places"):
        decimal_to_cents(value)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["NaN", Decimal("NaN"), "sNaN", "inf", "-Infinity", Decimal("Infinity"),
                                   "douze", "", "1,50"])
def test_decimal_to_cents_refuses_what_is_not_an_amount(value: object) -> None:
    with pytest.raises(ValueError):
        decimal_to_cents(value)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["1E+40", "123456789012345678901234567.891"])
def test_decimal_to_cents_refuses_absurd_amounts_with_a_value_error(value: str) -> None:
    # an amount too large for exact decimal arithmetic is a bad input (400), not a crash (500)
    with pytest.raises(ValueError):
        decimal_to_cents(value)


def test_cents_to_decimal_has_two_places() -> None:
    assert cents_to_decimal(1990) == Decimal("19.90")
    assert str(cents_to_decimal(5)) == "0.05"
    assert str(cents_to_decimal(-1)) == "-0.01"


@PROPERTY
@given(st.integers(min_value=-(10**18), max_value=10**18))
def test_cents_survive_a_round_trip_through_decimals(cents: int) -> None:
    assert decimal_to_cents(cents_to_decimal(cents)) == cents
    assert decimal_to_cents(str(cents_to_decimal(cents))) == cents


# -- rounding and VAT ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "cents"), [
    ("0.5", 1), ("1.5", 2), ("2.5", 3), ("2.4999", 2), ("-0.5", -1), ("-2.5", -3),
])
def test_cents_are_rounded_half_up_not_to_even(value: str, cents: int) -> None:
    assert round_cents(Decimal(value)) == cents


@pytest.mark.parametrize(("gross", "tax"), [
    (1200, 200),  # 12.00 incl. 20 %: 2.00 exactly
    (1000, 167),  # 1000 / 6 = 166.67
    (999, 167),   # 999 / 6 = 166.5 exactly: half-up gives 167 (half-even would give 166)
    (3, 1),       # 3 / 6 = 0.5: half-up
    (2, 0),       # 0.33
    (5997, 1000),  # 5997 / 6 = 999.5
    (1, 0),
    (0, 0),
])
def test_vat_included_at_20_percent_is_one_sixth_rounded_half_up(gross: int, tax: int) -> None:
    assert tax_included_part(gross, Decimal("20")) == tax


@pytest.mark.parametrize(("gross", "tax"), [
    (1055, 55),    # 10.55 incl. 5.5 %: 0.55 exactly
    (2110, 110),
    (100, 5),      # 100 × 5.5 / 105.5 = 5.21
    (1000, 52),    # 52.13
    (2000, 104),   # 104.27
    (10, 1),       # 0.521: rounds up
    (9, 0),        # 0.469: rounds down
    (3030, 158),   # 157.96
])
def test_vat_included_at_5_5_percent(gross: int, tax: int) -> None:
    assert tax_included_part(gross, Decimal("5.5")) == tax


def test_vat_of_a_refund_mirrors_the_vat_of_the_sale() -> None:
    assert tax_included_part(-999, Decimal("20")) == -167
    assert tax_included_part(-1055, Decimal("5.5")) == -55


def test_no_vat_at_a_zero_rate() -> None:
    assert tax_included_part(123456, Decimal("0")) == 0


def test_vat_on_a_net_amount_and_percentages() -> None:
    assert tax_on_net(1000, Decimal("20")) == 200
    assert tax_on_net(1005, Decimal("5.5")) == 55  # 55.275
    assert tax_on_net(1010, Decimal("5.5")) == 56  # 55.55
    assert percentage_of(6487, Decimal("10")) == 649  # 648.7
    assert percentage_of(2110, Decimal("15")) == 317  # 316.5: half-up
    assert percentage_of(0, Decimal("15")) == 0


@PROPERTY
@given(gross=st.integers(min_value=0, max_value=10**12), rate=st.sampled_from(RATES))
def test_the_vat_part_splits_any_gross_amount_exactly(gross: int, rate: Decimal) -> None:
    tax = tax_included_part(gross, rate)
    net = gross - tax
    # the tax is a part of the gross amount, and tax plus net give back the gross amount to the cent
    assert 0 <= tax <= gross
    assert 0 <= net <= gross
    assert net + tax == gross
    # and it is the exact VAT rounded to the nearest cent (half-up)
    exact = Fraction(gross) * Fraction(rate) / (100 + Fraction(rate))
    assert abs(tax - exact) <= Fraction(1, 2)
    if exact - int(exact) == Fraction(1, 2):
        assert tax == int(exact) + 1
    # charging VAT on the net part gives the tax back (within a cent of rounding)
    assert abs(tax_on_net(net, rate) - tax) <= 1
