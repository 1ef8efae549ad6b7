"""Ledger use cases, always inside the caller's transaction: post an order's debit, its reception, payouts."""

from __future__ import annotations

import uuid
from collections import defaultdict

from django.db import transaction

from comptoir.core import clock
from comptoir.ledger.models import LedgerEntry, Payout
from comptoir.ledger.queries import balances
from comptoir.ledger.rules import (
    Account,
    Leg,
    LineMoney,
    RefundMoney,
    TransactionType,
    debit_postings,
    is_balanced,
    payout_postings,
    reception_postings,
    refund_postings,
)
from comptoir.shops.models import Shop


def _post(*, shop_id: int, order_id: str, legs: list[Leg], payout: Payout | None = None) -> None:
    if not legs:
        return
    if not is_balanced(legs):
        raise AssertionError(f"unbalanced posting for {order_id}: {legs}")
    posting = uuid.uuid4()
    now = clock.now()
    LedgerEntry.objects.bulk_create([
        LedgerEntry(posting=posting, shop_id=shop_id, account=leg.account, transaction_type=leg.transaction_type,
                    amount_cents=leg.amount_cents, order_id=order_id, order_line_id=leg.order_line_id,
                    payout=payout, created_date=now)
        for leg in legs
    ])


def post_order_debit(*, shop_id: int, order_id: str, lines: list[LineMoney]) -> None:
    _post(shop_id=shop_id, order_id=order_id, legs=debit_postings(lines))


def post_order_received(*, shop_id: int, order_id: str) -> None:
    """Move everything still pending for this order to payable (idempotent: nothing pending, nothing moves)."""
    pending: dict[tuple[TransactionType, str], int] = defaultdict(int)
    commission = 0
    rows = LedgerEntry.objects.filter(
        order_id=order_id, account__in=[Account.SHOP_PENDING, Account.OPERATOR_COMMISSION_PENDING]
    ).values_list("account", "transaction_type", "order_line_id", "amount_cents")
    for account, transaction_type, line_id, cents in rows:
        if account == Account.SHOP_PENDING:
            pending[(TransactionType(transaction_type), line_id)] += cents
        else:
            commission += cents
    _post(shop_id=shop_id, order_id=order_id, legs=reception_postings(dict(pending), commission))


def run_payout(*, by: str) -> Payout:
    """Pay every shop its payable balance. Shops are locked in id order, so two runs cannot pay twice."""
    with transaction.atomic():
        payout = Payout.objects.create(created_date=clock.now(), created_by=by)
        total = count = 0
        for shop in Shop.objects.select_for_update().order_by("id"):
            payable = balances(shop.id)["payable"]
            legs = payout_postings(payable)
            if legs:
                _post(shop_id=shop.id, order_id="", legs=legs, payout=payout)
                total += payable
                count += 1
        payout.total_cents, payout.shops_count = total, count
        payout.save(update_fields=["total_cents", "shops_count"])
    return payout


def post_refunds(*, shop_id: int, order_id: str, refunds: list[RefundMoney], from_payable: bool) -> None:
    """Refunds and cancelations of one order, in the caller's transaction (the caller checked the balance)."""
    _post(shop_id=shop_id, order_id=order_id, legs=refund_postings(refunds, from_payable=from_payable))


def lock_shop_balances(shop_id: int) -> dict[str, int]:
    """Lock the shop's row (STYLE §5: shop first) and read its balances: two refunds racing for one balance,
    or a refund racing a payout, are serialized here."""
    Shop.objects.select_for_update().filter(pk=shop_id).values_list("pk", flat=True).first()
    return balances(shop_id)
