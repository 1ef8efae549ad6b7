"""Mirakl seller API: TL02 (the shop's transaction lines from the ledger), seek-paginated."""

from __future__ import annotations

import base64
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema

from comptoir.api.openapi import DATE_TIME, integer, omitted, one_of, parameters, values
from comptoir.api.render import amount, iso, json_response, parse_instant, parse_int, parse_list
from comptoir.core.errors import ValidationError
from comptoir.ledger import queries as ledger_queries
from comptoir.ledger.rules import TransactionType

router = Router(tags=["Accounting"])


class EntityRef(Schema):
    id: str


class TransactionEntities(Schema):
    order: EntityRef | None
    order_line: EntityRef | None


class TransactionLine(Schema):
    id: str
    type: str
    amount: float
    amount_credited: float
    amount_debited: float
    balance: None
    currency_iso_code: str
    date_created: str
    last_updated: str
    transaction_date: str
    payment_state: str | None
    accounting_document_number: str | None
    entities: TransactionEntities


class TransactionLines(Schema):
    data: list[TransactionLine]
    next_page_token: str = omitted("Absent on the last page.")


def _token(entry_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{entry_id}".encode()).decode()


def _after(token: str | None) -> int:
    if not token:
        return 0
    try:
        prefix, value = base64.urlsafe_b64decode(token.encode()).decode().split(":", 1)
        if prefix != "id":
            raise ValueError
        return int(value)
    except (ValueError, UnicodeDecodeError):
        raise ValidationError("Paramètre page_token invalide.", field="page_token") from None


def _line(entry: Any) -> dict[str, Any]:
    cents = entry.amount_cents
    return {
        "id": str(entry.id),
        "type": entry.transaction_type,
        "amount": amount(cents),
        "amount_credited": amount(cents if cents > 0 else 0),
        "amount_debited": amount(-cents if cents < 0 else 0),
        "balance": None,
        "currency_iso_code": entry.currency_iso_code,
        "date_created": iso(entry.created_date),
        "last_updated": iso(entry.created_date),
        "transaction_date": iso(entry.created_date),
        "payment_state": ledger_queries.PAYMENT_STATES.get(entry.account),
        "accounting_document_number": str(entry.payout_id) if entry.payout_id else None,
        "entities": {
            "order": {"id": entry.order_id} if entry.order_id else None,
            "order_line": {"id": entry.order_line_id} if entry.order_line_id else None,
        },
    }


@router.get("/sellerpayment/transactions_logs", summary="TL02 - List transaction lines", operation_id="TL02",
            response=TransactionLines,
            openapi_extra=parameters(
                date_created_from=DATE_TIME, date_created_to=DATE_TIME,
                transaction_type=values(one_of(*TransactionType.__members__)),
                payment_state=values(one_of("PENDING", "PAYABLE", "PAID")), order_id={"type": "string"},
                order_line_id={"type": "string"}, limit=integer(1, 2000), page_token={"type": "string"}))
def transaction_logs(request: HttpRequest) -> HttpResponse:
    q = request.GET
    types = tuple(parse_list(request, "transaction_type"))
    unknown = [t for t in types if t not in TransactionType.__members__]
    if unknown:
        raise ValidationError(f"Paramètre transaction_type : type inconnu {unknown[0]!r}.", field="transaction_type")
    states = tuple(parse_list(request, "payment_state"))
    if any(s not in ("PENDING", "PAYABLE", "PAID") for s in states):
        raise ValidationError("Paramètre payment_state : PENDING, PAYABLE ou PAID.", field="payment_state")
    limit = parse_int(q.get("limit"), "limit", default=100, minimum=1, maximum=2000)
    query = ledger_queries.transactions(ledger_queries.TransactionFilter(
        shop_id=request.shop.id,  # type: ignore[attr-defined]
        created_from=parse_instant(q.get("date_created_from"), "date_created_from"),
        created_to=parse_instant(q.get("date_created_to"), "date_created_to", end_of_day=True),
        types=types, payment_states=states, order_id=q.get("order_id") or "",
        order_line_id=q.get("order_line_id") or "",
    ))
    rows = list(query.filter(id__gt=_after(q.get("page_token"))).order_by("id")[: limit + 1])
    body: dict[str, Any] = {"data": [_line(e) for e in rows[:limit]]}
    if len(rows) > limit:
        body["next_page_token"] = _token(rows[limit - 1].id)
    return json_response(body)
