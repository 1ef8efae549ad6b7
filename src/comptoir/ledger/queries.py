"""Reads of the ledger: balances (sums of entries) and a shop's transaction lines, seek-paginated."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet, Sum

from comptoir.ledger.models import LedgerEntry, Payout
from comptoir.ledger.rules import Account, TransactionType

SHOP_ACCOUNTS = (Account.SHOP_PENDING, Account.SHOP_PAYABLE, Account.SHOP_PAID)
# What a seller's transaction list shows: its pending and payable lines (paid lines mirror PAYMENT).
STATEMENT_ACCOUNTS = (Account.SHOP_PENDING, Account.SHOP_PAYABLE)
PAYMENT_STATES = {Account.SHOP_PENDING: "PENDING", Account.SHOP_PAYABLE: "PAYABLE", Account.SHOP_PAID: "PAID"}


def balances(shop_id: int) -> dict[str, int]:
    sums = dict(
        LedgerEntry.objects.filter(shop_id=shop_id, account__in=SHOP_ACCOUNTS)
        .values("account")
        .annotate(total=Sum("amount_cents"))
        .values_list("account", "total")
    )
    return balances_of(sums)


def balances_of(sums: dict[str, int | None]) -> dict[str, int]:
    """The balances from each shop account's sum of entries (no entry: 0)."""
    return {
        "pending": int(sums.get(Account.SHOP_PENDING) or 0),
        "payable": int(sums.get(Account.SHOP_PAYABLE) or 0),
        "paid": int(sums.get(Account.SHOP_PAID) or 0),
    }


@dataclass(frozen=True, slots=True)
class TransactionFilter:
    shop_id: int
    created_from: datetime | None = None
    created_to: datetime | None = None
    types: tuple[str, ...] = ()
    payment_states: tuple[str, ...] = ()
    order_id: str = ""
    order_line_id: str = ""


def transactions(f: TransactionFilter) -> QuerySet[LedgerEntry]:
    accounts = [a for a, state in PAYMENT_STATES.items() if not f.payment_states or state in f.payment_states]
    query = LedgerEntry.objects.filter(shop_id=f.shop_id, account__in=accounts)
    if f.created_from:
        query = query.filter(created_date__gte=f.created_from)
    if f.created_to:
        query = query.filter(created_date__lte=f.created_to)
    if f.types:
        query = query.filter(transaction_type__in=list(f.types))
    if f.order_id:
        query = query.filter(order_id=f.order_id)
    if f.order_line_id:
        query = query.filter(order_line_id=f.order_line_id)
    return query


def payouts(limit: int = 50) -> list[Payout]:
    return list(Payout.objects.order_by("-created_date", "-id")[:limit])


def payout_statement(payout_id: int) -> QuerySet[LedgerEntry]:
    return LedgerEntry.objects.filter(payout_id=payout_id, account=Account.SHOP_PAID).select_related("shop").order_by(
        "shop_id"
    )


def payouts_exists(payout_id: int) -> bool:
    return Payout.objects.filter(id=payout_id).exists()


def balances_by_shop(shop_ids: list[int]) -> dict[int, dict[str, int]]:
    """balances() of several shops in one query (the operator's shop list)."""
    result = {shop_id: {"pending": 0, "payable": 0, "paid": 0} for shop_id in shop_ids}
    names = {Account.SHOP_PENDING: "pending", Account.SHOP_PAYABLE: "payable", Account.SHOP_PAID: "paid"}
    rows = (
        LedgerEntry.objects.filter(shop_id__in=shop_ids, account__in=SHOP_ACCOUNTS)
        .values("shop_id", "account")
        .annotate(total=Sum("amount_cents"))
        .values_list("shop_id", "account", "total")
    )
    for shop_id, account, total in rows:
        result[shop_id][names[Account(account)]] = int(total or 0)
    return result


def payout(payout_id: int) -> Payout | None:
    return Payout.objects.filter(id=payout_id).first()


def payable_by_shop() -> dict[int, int]:
    """Shop id → payable balance, for the shops the next payout would pay (balance above zero)."""
    rows = (
        LedgerEntry.objects.filter(account=Account.SHOP_PAYABLE)
        .values("shop_id")
        .annotate(total=Sum("amount_cents"))
        .values_list("shop_id", "total")
    )
    return {shop_id: int(total) for shop_id, total in rows if total and total > 0}


# The shop's commission legs are negative (deducted from what it is owed), those giving it back positive.
_COMMISSION_PARTS = {TransactionType.COMMISSION_FEE: "fee", TransactionType.COMMISSION_VAT: "vat",
                     TransactionType.REFUND_COMMISSION_FEE: "fee", TransactionType.REFUND_COMMISSION_VAT: "vat"}


def final_commission_by_order(shop_id: int) -> dict[str, tuple[int, int]]:
    """Order id → (fee, VAT) of the shop's commission that became final (reached its payable account), net of
    the commission given back on refunds; positive when the shop owes it. Cumulated over all time."""
    rows = (LedgerEntry.objects.filter(shop_id=shop_id, account=Account.SHOP_PAYABLE,
                                       transaction_type__in=list(_COMMISSION_PARTS))
            .values("order_id", "transaction_type").annotate(total=Sum("amount_cents"))
            .values_list("order_id", "transaction_type", "total"))
    result: dict[str, dict[str, int]] = {}
    for order_id, transaction_type, total in rows:
        amounts = result.setdefault(order_id, {"fee": 0, "vat": 0})
        amounts[_COMMISSION_PARTS[TransactionType(transaction_type)]] -= int(total or 0)
    return {order_id: (amounts["fee"], amounts["vat"]) for order_id, amounts in result.items()}


STATEMENT_FILENAME = "versement-{payout_id}.csv"


def payout_statement_csv(payout_id: int, entries: list[LedgerEntry]) -> str:
    """A payout's statement as the operator downloads it (API and back office alike): one row per shop,
    semicolons, decimal comma, UTF-8 with BOM so spreadsheets open it in French."""
    import csv
    import io
    from datetime import UTC

    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(["versement", "date", "boutique", "nom", "montant_verse", "devise"])
    for entry in entries:
        units, rest = divmod(abs(entry.amount_cents), 100)
        sign = "-" if entry.amount_cents < 0 else ""
        writer.writerow([payout_id, entry.created_date.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                         entry.shop_id, entry.shop.name, f"{sign}{units},{rest:02d}", entry.currency_iso_code])
    return "\ufeff" + buffer.getvalue()
