"""Operator API: payout runs (every payable balance moves to paid) and their statements as CSV."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema

from comptoir.api.render import Identifier, amount, iso, json_response
from comptoir.core.errors import NotFound
from comptoir.ledger import queries as ledger_queries
from comptoir.ledger import services as ledger_services

router = Router(tags=["Operator"])


class PayoutOut(Schema):
    id: int
    created_date: str
    shops_count: int
    total: float


class PayoutList(Schema):
    payouts: list[PayoutOut]


STATEMENT_RESPONSES = {"responses": {200: {"description": "The statement, one row per shop (CSV).",
                                           "content": {"text/csv": {"schema": {"type": "string"}}}}}}


@router.post("/payouts", response={201: PayoutOut}, summary="Run a payout: pay every shop its payable balance")
def run_payout(request: HttpRequest) -> HttpResponse:
    key = request.auth  # type: ignore[attr-defined]
    payout = ledger_services.run_payout(by=key.label or "API opérateur")
    return json_response({"id": payout.id, "created_date": iso(payout.created_date),
                          "shops_count": payout.shops_count, "total": amount(payout.total_cents)}, status=201)


@router.get("/payouts", response=PayoutList, summary="Payout runs")
def list_payouts(request: HttpRequest) -> HttpResponse:
    return json_response({"payouts": [
        {"id": p.id, "created_date": iso(p.created_date), "shops_count": p.shops_count, "total": amount(p.total_cents)}
        for p in ledger_queries.payouts()
    ]})


@router.get("/payouts/{payout_id}/statement.csv", summary="Statement of a payout, one row per shop",
            openapi_extra=STATEMENT_RESPONSES)
def statement(request: HttpRequest, payout_id: Identifier) -> HttpResponse:
    entries = list(ledger_queries.payout_statement(payout_id))
    if not entries and not ledger_queries.payouts_exists(payout_id):
        raise NotFound("Versement introuvable.", code="PAYOUT_NOT_FOUND")
    text = ledger_queries.payout_statement_csv(payout_id, entries)
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{ledger_queries.STATEMENT_FILENAME.format(payout_id=payout_id)}"'
    return response
