"""Exact money: integer cents plus a currency. Decimals appear only at the edges (API, forms) and for rates."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True, order=True)
class Money:
    cents: int
    currency: str = "EUR"

    def __post_init__(self) -> None:
        if not isinstance(self.cents, int) or isinstance(self.cents, bool):
            raise TypeError("Money.cents must be an int")

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.cents + other.cents, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.cents - other.cents, self.currency)

    def __mul__(self, quantity: int) -> Money:
        if not isinstance(quantity, int):
            raise TypeError("Money can only be multiplied by an integer quantity")
        return Money(self.cents * quantity, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.cents, self.currency)

    def _same_currency(self, other: Money) -> None:
        if self.currency != other.currency:
            raise ValueError(f"currency mismatch: {self.currency} vs {other.currency}")

    @property
    def amount(self) -> Decimal:
        return cents_to_decimal(self.cents)

    @classmethod
    def zero(cls, currency: str = "EUR") -> Money:
        return cls(0, currency)

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


def cents_to_decimal(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(CENT)


def decimal_to_cents(value: Decimal | int | str) -> int:
    """Exact conversion; refuses more than two decimal places instead of silently rounding."""
    try:
        amount = Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {value!r}") from exc
    if not amount.is_finite():
        raise ValueError(f"not an amount: {value!r}")
    try:
        exact = amount == amount.quantize(CENT)
    except InvalidOperation as exc:  # more digits than the decimal context holds: not a real amount
        raise ValueError(f"amount too large: {value!r}") from exc
    if not exact:
        raise ValueError(f"more than two decimal places: {value!r}")
    return int(amount * 100)


def round_cents(value: Decimal) -> int:
    """Round a fractional number of cents half-up (commercial rounding, as French invoices do)."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def tax_included_part(gross_cents: int, rate_percent: Decimal) -> int:
    """VAT contained in an amount that includes it, rounded once for the whole amount (per line)."""
    if gross_cents == 0 or rate_percent == 0:
        return 0
    rate = rate_percent / 100
    return round_cents(Decimal(gross_cents) * rate / (1 + rate))


def tax_on_net(net_cents: int, rate_percent: Decimal) -> int:
    """VAT due on an amount excluding tax."""
    return round_cents(Decimal(net_cents) * rate_percent / 100)


def percentage_of(cents: int, rate_percent: Decimal) -> int:
    return round_cents(Decimal(cents) * rate_percent / 100)
