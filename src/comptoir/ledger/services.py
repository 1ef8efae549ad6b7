"""Ledger use cases, always inside the caller's transaction: post an order's debit, its reception, payouts."""

from __future__ import annotations

import contextlib
import contextvars
import uuid
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.db.transaction import TransactionManagementError

from comptoir.core import clock
from comptoir.ledger.models import LedgerEntry, Payout
from comptoir.ledger.queries import SHOP_ACCOUNTS, balances, balances_of
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
from comptoir.notifications import services as notification_services
from comptoir.notifications.services import prepare_rows, value_kinds
from comptoir.shops.models import Shop


@dataclass(slots=True)
class _Batch:
    """Postings of a batch of orders (a sweep) gathered for one INSERT, and their pending entries read at once."""

    rows: list[list] = field(default_factory=list)
    pending: dict[str, list[tuple]] = field(default_factory=dict)  # order id → its pending entries (preloaded)


_batch: contextvars.ContextVar[_Batch | None] = contextvars.ContextVar("ledger_batch", default=None)


# Entries per multi-row INSERT on SQLite (a reception sweep's batch of 200 orders posts some 1,800 of them);
# PostgreSQL gets a whole batch as one statement of one array per column (`insert_prepared`).
_ROWS_PER_INSERT = 100


def _insert(rows: list[list]) -> None:
    """Rows prepared in the order of LedgerEntry's fields (its id aside), as multi-row INSERTs."""
    notification_services.insert_prepared(LedgerEntry, rows, max_rows=_ROWS_PER_INSERT)


# LedgerEntry's fields that each leg sets → the Leg's attribute.
_PER_LEG = {"account": "account", "transaction_type": "transaction_type", "amount_cents": "amount_cents",
            "order_line_id": "order_line_id"}


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
    fields = [f for f in LedgerEntry._meta.concrete_fields if not f.primary_key]
    common = {"posting": posting, "shop": shop_id, "order_id": order_id, "payout": payout.pk if payout else None,
              "created_date": now}
    # The values every leg shares, prepared for the database once per posting; the legs' own (strings and ints)
    # by prepare_rows, which passes them as get_db_prep_save would return them without its call chain.
    fixed = {f.name: f.get_db_prep_save(common[f.name] if f.name in common else f.get_default(), connection)
             for f in fields if f.name not in _PER_LEG}
    leg_fields = [f for f in fields if f.name in _PER_LEG]
    prepared = prepare_rows(leg_fields, value_kinds(leg_fields), [
        [getattr(leg, _PER_LEG[f.name]) for f in leg_fields] for leg in legs], connection)
    rows = []
    for values in prepared:
        own = dict(zip((f.name for f in leg_fields), values, strict=True))
        rows.append([fixed[f.name] if f.name in fixed else own[f.name] for f in fields])
    batch = _batch.get()
    if batch is not None:
        batch.rows.extend(rows)  # written by `batched` at its end, in this same transaction
        return
    _insert(rows)


def post_order_debit(*, shop_id: int, order_id: str, lines: list[LineMoney]) -> None:
    _post(shop_id=shop_id, order_id=order_id, legs=debit_postings(lines))


def post_order_received(*, shop_id: int, order_id: str) -> None:
    """Move everything still pending for this order to payable (idempotent: nothing pending, nothing moves)."""
    pending: dict[tuple[TransactionType, str], int] = defaultdict(int)
    commission = 0
    batch = _batch.get()
    rows = batch.pending.get(order_id) if batch is not None else None  # read by `batched` under the order locks
    if rows is None:
        rows = _pending_rows([order_id])
    if batch is not None:
        batch.pending[order_id] = []  # moved (once its rows are written): a second reception in the block moves none
    for _order_id, account, transaction_type, line_id, cents in rows:
        if account == Account.SHOP_PENDING:
            pending[(TransactionType(transaction_type), line_id)] += cents
        else:
            commission += cents
    _post(shop_id=shop_id, order_id=order_id, legs=reception_postings(dict(pending), commission))


def _pending_rows(order_ids: Sequence[str]) -> list[tuple]:
    """(order id, account, transaction type, line id, cents) of the orders' pending entries: plain SQL, as a
    reception sweep reads them for every order."""
    connection = transaction.get_connection()
    q = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {q('order_id')}, {q('account')}, {q('transaction_type')}, {q('order_line_id')}, "
            f"{q('amount_cents')} FROM {q(LedgerEntry._meta.db_table)} "
            f"WHERE {q('order_id')} IN ({', '.join(['%s'] * len(order_ids))}) AND {q('account')} IN (%s, %s) "
            f"ORDER BY {q('id')}",
            [*order_ids, Account.SHOP_PENDING.value, Account.OPERATOR_COMMISSION_PENDING.value],
        )
        return cursor.fetchall()


@contextlib.contextmanager
def batched(*, received_order_ids: Sequence[str] = ()) -> Iterator[None]:
    """Inside the caller's transaction: the postings made in the block are written by one statement at its end,
    and `post_order_received` of the orders named here reads their pending entries from one SELECT made now.
    The caller holds those orders' locks (their entries only move under them) and reads no ledger in the block."""
    if _batch.get() is not None:  # nested: the outer block writes
        yield
        return
    batch = _Batch()
    if received_order_ids:
        batch.pending = {order_id: [] for order_id in received_order_ids}
        for row in _pending_rows(list(received_order_ids)):
            batch.pending[row[0]].append(row)
    token = _batch.set(batch)
    try:
        yield
    finally:
        _batch.reset(token)
    if batch.rows:  # not on error: the transaction rolls back anyway
        _insert(batch.rows)


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
    or a refund racing a payout, are serialized here. Plain SQL (every refund runs it: building it through the
    ORM cost more than running it), in the caller's transaction, on its connection."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        raise TransactionManagementError("lock_shop_balances needs the caller's transaction")
    q = connection.ops.quote_name
    entry = LedgerEntry._meta
    column = {name: q(entry.get_field(name).column) for name in ("shop", "account", "amount_cents")}
    with connection.cursor() as cursor:
        if connection.features.has_select_for_update:  # SQLite: the writer lock already serializes
            cursor.execute(f"SELECT {q(Shop._meta.pk.column)} FROM {q(Shop._meta.db_table)} "
                           f"WHERE {q(Shop._meta.pk.column)} = %s FOR UPDATE", [shop_id])
        cursor.execute(
            f"SELECT {column['account']}, SUM({column['amount_cents']}) FROM {q(entry.db_table)} "
            f"WHERE {column['shop']} = %s AND {column['account']} IN (%s, %s, %s) GROUP BY {column['account']}",
            [shop_id, *(str(a) for a in SHOP_ACCOUNTS)])
        return balances_of(dict(cursor.fetchall()))
