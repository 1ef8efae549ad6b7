"""Operator pages over payouts: the runs, launching one (after confirmation), each run's statement as a
page and as CSV (the operator API's columns), and the commission invoices the run issued to each shop.
Writes through ledger.services.run_payout."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from comptoir.documents import queries as document_queries
from comptoir.ledger import queries as ledger_queries
from comptoir.ledger import services as ledger_services
from comptoir.ledger.models import LedgerEntry, Payout
from comptoir.operator.views.common import BASE, operator_email, operator_view
from comptoir.web.files import file_download
from comptoir.web.templatetags.comptoir_web import euros
from comptoir.web.views import confirmation, is_confirmed

RUNS_SHOWN = 50


@operator_view
def payout_list(request: HttpRequest) -> HttpResponse:
    payable = ledger_queries.payable_by_shop()
    return render(request, "operator/payouts.html", {
        "nav": "payouts", "payouts": ledger_queries.payouts(limit=RUNS_SHOWN), "runs_shown": RUNS_SHOWN,
        "payable_shops": len(payable), "payable_total": sum(payable.values()),
    })


@require_POST
@operator_view
def payout_run(request: HttpRequest) -> HttpResponse:
    """Pay every shop its payable balance, once confirmed; with nothing payable nothing is created."""
    list_url = reverse("operator:payouts")
    payable = ledger_queries.payable_by_shop()
    if not payable:
        messages.error(request, "Aucune boutique n'a de solde payable : il n'y a rien à verser.")
        return redirect(list_url)
    if not is_confirmed(request):
        total = sum(payable.values())
        return confirmation(request, surface_base=BASE, title="Lancer un versement", summary=[
            f"{len(payable)} boutique{'s' if len(payable) > 1 else ''} à payer, {euros(total)} au total.",
            "Le solde payable de chaque boutique passe en « versé » ; un relevé par boutique est créé.",
        ], action=reverse("operator:payout_run"), cancel_url=list_url, confirm_label="Lancer le versement")
    payout = ledger_services.run_payout(by=operator_email(request))
    if payout.shops_count:
        messages.success(request, f"Versement n° {payout.id} effectué : {payout.shops_count} boutique"
                                  f"{'s' if payout.shops_count > 1 else ''}, {euros(payout.total_cents)}.")
    else:
        messages.warning(request, f"Versement n° {payout.id} : les soldes ont été versés entre-temps, il est vide.")
    return redirect("operator:payout", payout_id=payout.id)


def _statement(payout_id: int) -> tuple[Payout, list[LedgerEntry]]:
    payout = ledger_queries.payout(payout_id)
    if payout is None:
        raise Http404("Versement introuvable")
    return payout, list(ledger_queries.payout_statement(payout_id))


@operator_view
def payout_detail(request: HttpRequest, payout_id: int) -> HttpResponse:
    payout, entries = _statement(payout_id)
    invoices = document_queries.commission_invoices_of_payout(payout.id)
    return render(request, "operator/payout_detail.html", {
        "nav": "payouts", "payout": payout, "total": sum(entry.amount_cents for entry in entries),
        "entries": [(entry, invoices.get(entry.shop_id)) for entry in entries],
    })


@operator_view
def payout_invoice(request: HttpRequest, payout_id: int, document_id: int) -> HttpResponse:
    """A commission invoice the run issued (Factur-X PDF)."""
    document = document_queries.commission_invoice_of_payout(payout_id, document_id)
    if document is None:
        raise Http404("Facture introuvable")
    return file_download(document_queries.read_bytes(document), content_type=document.content_type,
                         file_name=document.file_name)


@operator_view
def payout_csv(request: HttpRequest, payout_id: int) -> HttpResponse:
    """The statement CSV, made by the ledger (the operator API serves the same file)."""
    payout, entries = _statement(payout_id)
    text = ledger_queries.payout_statement_csv(payout.id, entries)
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{ledger_queries.STATEMENT_FILENAME.format(payout_id=payout.id)}"'
    return response
