"""The shop's ledger lines as the back offices show them: French labels, exact amounts, CSV export.

Read-only; the lines come from `ledger.queries.transactions`.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from datetime import datetime

from django.http import StreamingHttpResponse
from django.utils import timezone

from comptoir.ledger.queries import PAYMENT_STATES
from comptoir.ledger.rules import TransactionType

TRANSACTION_TYPE_LABELS: dict[str, str] = {
    TransactionType.ORDER_AMOUNT: "Montant des produits",
    TransactionType.ORDER_SHIPPING_AMOUNT: "Frais de port",
    TransactionType.COMMISSION_FEE: "Commission",
    TransactionType.COMMISSION_VAT: "TVA sur la commission",
    TransactionType.REFUND_ORDER_AMOUNT: "Remboursement des produits",
    TransactionType.REFUND_ORDER_SHIPPING_AMOUNT: "Remboursement des frais de port",
    TransactionType.REFUND_COMMISSION_FEE: "Commission remboursée",
    TransactionType.REFUND_COMMISSION_VAT: "TVA sur la commission remboursée",
    TransactionType.PAYMENT: "Versement",
}
# ledger.queries.PAYMENT_STATES maps the shop's accounts to Mirakl's payment states.
PAYMENT_STATE_LABELS: dict[str, str] = {"PENDING": "En attente", "PAYABLE": "Payable", "PAID": "Versé"}
_STATE_OF_ACCOUNT: dict[str, str] = {str(account): state for account, state in PAYMENT_STATES.items()}


def payment_state(account: str) -> str:
    return _STATE_OF_ACCOUNT.get(account, "")


def decimal_comma(cents: int) -> str:
    """-123456 → « -1234,56 »: exact (no float), French decimal comma, no thousands separator for spreadsheets."""
    sign = "-" if cents < 0 else ""
    units, rest = divmod(abs(int(cents)), 100)
    return f"{sign}{units},{rest:02d}"


def _local(value: datetime) -> str:
    return timezone.localtime(value).strftime("%d/%m/%Y %H:%M")


class _Echo:
    def write(self, value: str) -> str:
        return value


HEADER = ["Date", "Type d'opération", "État du paiement", "N° de commande", "Ligne de commande",
          "Montant", "Devise", "N° de versement"]


def transactions_csv(entries: Iterable, filename: str) -> StreamingHttpResponse:  # type: ignore[type-arg]
    """Semicolon-separated, UTF-8 with a BOM so spreadsheets read the accents, like the orders export."""

    def rows() -> Iterator[str]:
        writer = csv.writer(_Echo(), delimiter=";")
        yield "\ufeff" + writer.writerow(HEADER)
        for entry in entries:
            state = payment_state(entry.account)
            yield writer.writerow([
                _local(entry.created_date),
                TRANSACTION_TYPE_LABELS.get(entry.transaction_type, entry.transaction_type),
                PAYMENT_STATE_LABELS.get(state, state), entry.order_id, entry.order_line_id,
                decimal_comma(entry.amount_cents), entry.currency_iso_code, entry.payout_id or "",
            ])

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
