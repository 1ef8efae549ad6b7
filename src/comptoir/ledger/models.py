"""Append-only ledger entries (double entry, grouped in balanced postings) and payout runs."""

from __future__ import annotations

from django.db import models

from comptoir.ledger.rules import Account, TransactionType
from comptoir.shops.models import Shop


class Payout(models.Model):
    """One payout run: every shop's payable balance moved to paid, with a statement per shop."""

    created_date = models.DateTimeField()
    created_by = models.CharField(max_length=200, blank=True)
    shops_count = models.PositiveIntegerField(default=0)
    total_cents = models.BigIntegerField(default=0)


class LedgerEntry(models.Model):
    posting = models.UUIDField(db_index=True)  # entries of one posting sum to zero
    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="ledger_entries")
    account = models.CharField(max_length=32, choices=[(a.value, a.value) for a in Account])
    transaction_type = models.CharField(max_length=40, choices=[(t.value, t.value) for t in TransactionType])
    amount_cents = models.BigIntegerField()
    currency_iso_code = models.CharField(max_length=3, default="EUR")
    order_id = models.CharField(max_length=120, blank=True)
    order_line_id = models.CharField(max_length=140, blank=True)
    payout = models.ForeignKey(Payout, null=True, blank=True, on_delete=models.PROTECT, related_name="entries")
    created_date = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["shop", "account", "created_date"], name="ledger_shop_account"),
            models.Index(fields=["order_id"], name="ledger_order"),
        ]
