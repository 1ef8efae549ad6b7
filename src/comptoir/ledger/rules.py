"""Pure ledger rules: the accounts, and the balanced postings each money event makes.

Double entry: every posting's amounts sum to zero. Amounts are cents, positive when the account's holder
is owed more (the shop's pending and payable balances, the operator's commission), negative for the
money the operator collected from customers. Balances are sums; nothing is ever updated or deleted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Account(StrEnum):
    CUSTOMER_FUNDS = "CUSTOMER_FUNDS"  # money captured from customers, held by the operator
    SHOP_PENDING = "SHOP_PENDING"  # owed to the shop once the order is received
    SHOP_PAYABLE = "SHOP_PAYABLE"  # owed to the shop now: the next payout pays it
    SHOP_PAID = "SHOP_PAID"  # paid out to the shop's bank account
    OPERATOR_COMMISSION_PENDING = "OPERATOR_COMMISSION_PENDING"
    OPERATOR_COMMISSION = "OPERATOR_COMMISSION"


class TransactionType(StrEnum):
    """Mirakl's transaction types (TL02)."""

    ORDER_AMOUNT = "ORDER_AMOUNT"
    ORDER_SHIPPING_AMOUNT = "ORDER_SHIPPING_AMOUNT"
    COMMISSION_FEE = "COMMISSION_FEE"
    COMMISSION_VAT = "COMMISSION_VAT"
    REFUND_ORDER_AMOUNT = "REFUND_ORDER_AMOUNT"
    REFUND_ORDER_SHIPPING_AMOUNT = "REFUND_ORDER_SHIPPING_AMOUNT"
    REFUND_COMMISSION_FEE = "REFUND_COMMISSION_FEE"
    REFUND_COMMISSION_VAT = "REFUND_COMMISSION_VAT"
    PAYMENT = "PAYMENT"


@dataclass(frozen=True, slots=True)
class Leg:
    account: Account
    amount_cents: int
    transaction_type: TransactionType
    order_line_id: str = ""


@dataclass(frozen=True, slots=True)
class LineMoney:
    line_id: str
    price_cents: int
    shipping_cents: int
    commission_fee_cents: int
    commission_vat_cents: int


def debit_postings(lines: Iterable[LineMoney]) -> list[Leg]:
    """Customer paid: the lines' value is pending for the shop, the commission pending for the operator."""
    legs: list[Leg] = []
    for line in lines:
        paid = line.price_cents + line.shipping_cents
        commission = line.commission_fee_cents + line.commission_vat_cents
        legs += [
            Leg(Account.CUSTOMER_FUNDS, -paid, TransactionType.ORDER_AMOUNT, line.line_id),
            Leg(Account.SHOP_PENDING, line.price_cents, TransactionType.ORDER_AMOUNT, line.line_id),
            Leg(Account.SHOP_PENDING, line.shipping_cents, TransactionType.ORDER_SHIPPING_AMOUNT, line.line_id),
            Leg(Account.SHOP_PENDING, -line.commission_fee_cents, TransactionType.COMMISSION_FEE, line.line_id),
            Leg(Account.SHOP_PENDING, -line.commission_vat_cents, TransactionType.COMMISSION_VAT, line.line_id),
            Leg(Account.OPERATOR_COMMISSION_PENDING, commission, TransactionType.COMMISSION_FEE, line.line_id),
        ]
    return [leg for leg in legs if leg.amount_cents]


def reception_postings(pending_by_type: dict[tuple[TransactionType, str], int], commission_pending: int) -> list[Leg]:
    """Order received: what was pending becomes payable, type by type (so statements keep the detail)."""
    legs: list[Leg] = []
    for (transaction_type, line_id), cents in sorted(pending_by_type.items()):
        if cents:
            legs.append(Leg(Account.SHOP_PENDING, -cents, transaction_type, line_id))
            legs.append(Leg(Account.SHOP_PAYABLE, cents, transaction_type, line_id))
    if commission_pending:
        legs.append(Leg(Account.OPERATOR_COMMISSION_PENDING, -commission_pending, TransactionType.COMMISSION_FEE))
        legs.append(Leg(Account.OPERATOR_COMMISSION, commission_pending, TransactionType.COMMISSION_FEE))
    return legs


@dataclass(frozen=True, slots=True)
class RefundMoney:
    line_id: str
    amount_cents: int  # product, incl. tax
    shipping_cents: int
    commission_fee_cents: int  # commission given back to the shop
    commission_vat_cents: int


def refund_postings(refunds: Iterable[RefundMoney], *, from_payable: bool) -> list[Leg]:
    """Money back to the customer, out of the shop's pending balance (before reception) or payable balance
    (after), with the commission given back pro rata from the operator's matching account."""
    shop = Account.SHOP_PAYABLE if from_payable else Account.SHOP_PENDING
    operator = Account.OPERATOR_COMMISSION if from_payable else Account.OPERATOR_COMMISSION_PENDING
    legs: list[Leg] = []
    for r in refunds:
        commission = r.commission_fee_cents + r.commission_vat_cents
        legs += [
            Leg(Account.CUSTOMER_FUNDS, r.amount_cents, TransactionType.REFUND_ORDER_AMOUNT, r.line_id),
            Leg(Account.CUSTOMER_FUNDS, r.shipping_cents, TransactionType.REFUND_ORDER_SHIPPING_AMOUNT, r.line_id),
            Leg(shop, -r.amount_cents, TransactionType.REFUND_ORDER_AMOUNT, r.line_id),
            Leg(shop, -r.shipping_cents, TransactionType.REFUND_ORDER_SHIPPING_AMOUNT, r.line_id),
            Leg(shop, r.commission_fee_cents, TransactionType.REFUND_COMMISSION_FEE, r.line_id),
            Leg(shop, r.commission_vat_cents, TransactionType.REFUND_COMMISSION_VAT, r.line_id),
            Leg(operator, -commission, TransactionType.REFUND_COMMISSION_FEE, r.line_id),
        ]
    return [leg for leg in legs if leg.amount_cents]


def payout_postings(payable_cents: int) -> list[Leg]:
    if payable_cents <= 0:
        return []
    return [
        Leg(Account.SHOP_PAYABLE, -payable_cents, TransactionType.PAYMENT),
        Leg(Account.SHOP_PAID, payable_cents, TransactionType.PAYMENT),
    ]


def is_balanced(legs: Iterable[Leg]) -> bool:
    return sum(leg.amount_cents for leg in legs) == 0
