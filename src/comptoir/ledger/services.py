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
    # One plain INSERT (every field prepared by the model's own field): sweeps post for every order they receive,
    # and bulk_create's compilation cost several times the insert itself.
    connection = transaction.get_connection()
    q = connection.ops.quote_name
    fields = [f for f in LedgerEntry._meta.concrete_fields if not f.primary_key]
    common = {"posting": posting, "shop": shop_id, "order_id": order_id, "payout": payout.pk if payout else None,
              "created_date": now}
    per_leg = ("account", "transaction_type", "amount_cents", "order_line_id")
    # The values every leg shares, prepared for the database once per posting.
    fixed = {f.name: f.get_db_prep_save(common[f.name] if f.name in common else f.get_default(), connection)
             for f in fields if f.name not in per_leg}
    rows = []
    for leg in legs:
        values = {"account": leg.account, "transaction_type": leg.transaction_type,
                  "amount_cents": leg.amount_cents, "order_line_id": leg.order_line_id}
        rows.append([fixed[f.name] if f.name in fixed else f.get_db_prep_save(values[f.name], connection)
                     for f in fields])
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {q(LedgerEntry._meta.db_table)} ({', '.join(q(f.column) for f in fields)}) "
                           f"VALUES ({', '.join(['%s'] * len(fields))})", rows)


def post_order_debit(*, shop_id: int, order_id: str, lines: list[LineMoney]) -> None:
    _post(shop_id=shop_id, order_id=order_id, legs=debit_postings(lines))


def post_order_received(*, shop_id: int, order_id: str) -> None:
    """Move everything still pending for this order to payable (idempotent: nothing pending, nothing moves)."""
    pending: dict[tuple[TransactionType, str], int] = defaultdict(int)
    commission = 0
    connection = transaction.get_connection()
    q = connection.ops.quote_name
    with connection.cursor() as cursor:  # plain SQL: a reception sweep runs this for every order
        cursor.execute(
            f"SELECT {q('account')}, {q('transaction_type')}, {q('order_line_id')}, {q('amount_cents')} "
            f"FROM {q(LedgerEntry._meta.db_table)} WHERE {q('order_id')} = %s AND {q('account')} IN (%s, %s)",
            [order_id, Account.SHOP_PENDING.value, Account.OPERATOR_COMMISSION_PENDING.value],
        )
        rows = cursor.fetchall()
    for account, transaction_type, line_id, cents in rows:
        if account == Account.SHOP_PENDING:
            pending[(TransactionType(transaction_type), line_id)] += cents
        else:
            commission += cents
    _post(shop_id=shop_id, order_id=order_id, legs=reception_postings(dict(pending), commission))


def run_payout(*, by: str) -> Payout:
    """Pay every shop its payable balance. Shops are locked in id order, so two runs cannot pay twice. Each
    paid shop gets the operator's commission invoice in the same transaction (numbered without gaps)."""
    # Imported here: documents sits above orders, which posts to this ledger at import time.
    from comptoir.documents.services.commissions import issue_commission_invoice

    with transaction.atomic():
        payout = Payout.objects.create(created_date=clock.now(), created_by=by)
        total = count = 0
        for shop in Shop.objects.select_for_update().order_by("id"):
            payable = balances(shop.id)["payable"]
            legs = payout_postings(payable)
            if legs:
                _post(shop_id=shop.id, order_id="", legs=legs, payout=payout)
                issue_commission_invoice(shop_id=shop.id, payout_id=payout.pk)
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
