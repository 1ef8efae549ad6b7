"""« Import d'expéditions » (/vendeur/expeditions/import/): upload a CSV or XLSX file, preview every row (OK or
its French error, nothing written), confirm, then the valid parcels are applied in chunks, each request
(htmx, or the « Continuer » button without JS) applying the next ones and redrawing the progress bar; the
rows in error download as CSV. Thin: shipping.imports parses, checks and applies."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from comptoir.seller.views import BASE, _who, seller_view
from comptoir.shipping import imports
from comptoir.shipping.models import ShipmentImport, ShipmentImportStatus
from comptoir.web.views import confirmation, is_confirmed

CHUNK_PARCELS = 100  # parcels applied per request: one progress step
SHOWN_ROWS = 500  # rows listed on the page (the CSV of errors has them all)


def _job(request: HttpRequest, job_id: int) -> ShipmentImport:
    """The shop's import, or 404 (another shop's included)."""
    job = ShipmentImport.objects.filter(pk=job_id, shop_id=request.shop.id).first()  # type: ignore[attr-defined]
    if job is None:
        raise Http404("Import introuvable")
    return job


def _progress(job: ShipmentImport) -> dict[str, Any]:
    total = len(job.parcels)
    percent = 100 if not total else round(100 * job.cursor / total)
    return {"done": job.cursor, "total": total, "percent": percent}


@seller_view
def upload(request: HttpRequest) -> HttpResponse:
    shop = request.shop  # type: ignore[attr-defined]
    context: dict[str, Any] = {
        "shop": shop, "nav": "imports", "fields": [(f, imports.FRENCH_NAMES[f], f in imports.REQUIRED)
                                                   for f in imports.FIELDS],
        "recent": ShipmentImport.objects.filter(shop_id=shop.id).only(
            "id", "filename", "status", "created_date", "created_by")[:10],
        "max_mb": imports.MAX_FILE_BYTES // 1024 // 1024,
    }
    if request.method != "POST":
        return render(request, "seller/imports.html", context)
    upload_file = request.FILES.get("fichier")
    error = ""
    if upload_file is None:
        error = "Choisissez un fichier CSV ou XLSX."
    elif upload_file.size and upload_file.size > imports.MAX_FILE_BYTES:
        error = imports.file_too_large_message(upload_file.size)  # refused before reading a byte
    else:
        try:
            job = imports.preview(shop_id=shop.id, data=upload_file.read(), filename=upload_file.name or "",
                                  created_by=request.user.get_username())
        except imports.ImportFileError as exc:
            error = exc.message
        else:
            return redirect("seller:import_detail", job_id=job.pk)
    context["form_error"] = f"Fichier refusé, rien n'a été importé : {error}"
    return render(request, "seller/imports.html", context, status=400)


@require_GET
@seller_view
def detail(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _job(request, job_id)
    rows = job.rows
    errors = [row for row in rows if row["status"] == imports.ERROR]
    others = [row for row in rows if row["status"] != imports.ERROR]
    return render(request, "seller/import_detail.html", {
        "shop": request.shop, "nav": "imports", "job": job,  # type: ignore[attr-defined]
        "tally": imports.counts(rows), "parcels": len(job.parcels), "progress": _progress(job),
        "error_rows": errors[:SHOWN_ROWS], "other_rows": others[:SHOWN_ROWS],
        "hidden_errors": max(0, len(errors) - SHOWN_ROWS), "hidden_others": max(0, len(others) - SHOWN_ROWS),
    })


@require_POST
@seller_view
def apply(request: HttpRequest, job_id: int) -> HttpResponse:
    """Confirm (the reusable step), then start: the detail page shows the progress bar and drives it."""
    job = _job(request, job_id)
    detail_url = reverse("seller:import_detail", args=[job.pk])
    if job.status != ShipmentImportStatus.PREVIEW:
        return redirect(detail_url)
    tally = imports.counts(job.rows)
    if not job.parcels:
        messages.error(request, "Aucune ligne valide : rien à appliquer. Corrigez le fichier et importez-le de nouveau.")
        return redirect(detail_url)
    if not is_confirmed(request):
        summary = [f"{tally['ok']} ligne{'s' if tally['ok'] > 1 else ''} valide{'s' if tally['ok'] > 1 else ''} "
                   f"en {len(job.parcels)} colis seront déclarées expédiées."]
        if tally["error"]:
            summary.append(f"{tally['error']} ligne{'s' if tally['error'] > 1 else ''} en erreur "
                           "ne ser{} pas importée{}.".format("ont" if tally["error"] > 1 else "a",
                                                            "s" if tally["error"] > 1 else ""))
        return confirmation(
            request, surface_base=BASE, cancel_url=detail_url, title=f"Appliquer l'import « {job.filename} »",
            summary=summary, action=reverse("seller:import_apply", args=[job.pk]),
            confirm_label="Déclarer les colis",
            warning="Les clients seront prévenus avec les liens de suivi. N'importez que des colis réellement partis.",
        )
    imports.start(job)
    return redirect(detail_url)


@require_POST
@seller_view
def progress(request: HttpRequest, job_id: int) -> HttpResponse:
    """The next chunk of parcels; htmx gets the redrawn bar (which asks for the next chunk), else a redirect."""
    job = _job(request, job_id)
    if job.status == ShipmentImportStatus.APPLYING:
        job = imports.apply_next(job_id=job.pk, shop_id=job.shop_id, who=_who(request), parcels=CHUNK_PARCELS)
    detail_url = reverse("seller:import_detail", args=[job.pk])
    if not request.htmx:  # type: ignore[attr-defined]
        return redirect(detail_url)
    if job.status == ShipmentImportStatus.DONE:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = detail_url
        return response
    return render(request, "seller/_import_progress.html", {"job": job, "progress": _progress(job)})


@require_GET
@seller_view
def errors_csv(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _job(request, job_id)
    response = HttpResponse(imports.errors_csv(job.rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-erreurs.csv"'
    return response
