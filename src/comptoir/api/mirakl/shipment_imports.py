"""Bulk shipment import over the API (issue 5; a Comptoir extension, not in Mirakl's API): the same CSV or
XLSX file as the seller back office's « Import d'expéditions », answered with a per-row report."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import File, Router, Schema
from ninja.files import UploadedFile
from pydantic import Field

from comptoir.api.errors import error_body
from comptoir.api.openapi import Error
from comptoir.api.render import json_response
from comptoir.orders.services import Who
from comptoir.orders.states import Actor
from comptoir.shipping import imports

router = Router(tags=["Shipping"])


class ImportRowReport(Schema):
    row: int
    order_id: str | None
    order_line_id: str | None
    status: str = Field(description="VALID (dry run), SHIPPED or ERROR")
    message: str | None
    code: str | None
    shipment_id: str | None


class ImportReport(Schema):
    import_id: int
    dry_run: bool
    rows_total: int
    rows_valid: int
    rows_shipped: int
    rows_in_error: int
    shipments_created: int
    rows: list[ImportRowReport]


def _shop_id(request: HttpRequest) -> int:
    return request.shop.id  # type: ignore[attr-defined, no-any-return]


def _row_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "row": row["row"], "order_id": row["order_id"] or None, "order_line_id": row["order_line_id"] or None,
        "status": {"OK": "VALID", "ERROR": "ERROR", "DONE": "SHIPPED"}[row["status"]],
        "message": row["error"] or None, "code": row["code"] or None,
        "shipment_id": row["shipment_id"] or None,
    }


def _file_error(message: str, code: str = imports.ImportFileError.code) -> HttpResponse:
    return json_response(error_body(400, message, code, "file"), 400)


@router.post(
    "/shipments/imports", response={200: ImportReport, 400: Error},
    summary="Import shipments from a CSV or XLSX file (Comptoir extension)", operation_id="ShipmentImport",
    description=(
        "**Comptoir extension, not part of Mirakl's API.** Multipart field `file`: CSV (`;` or `,`; UTF-8, "
        "UTF-8 with BOM or Windows-1252) or XLSX (no formulas), ≤50 MB, ≤20,000 rows. Columns (French or "
        "English headers, case and accents ignored): order_id, order_line_id, quantity, carrier (code or "
        "name; a carrier outside the list needs tracking_url in https), tracking_number, tracking_url, "
        "ship_date (optional; JJ/MM/AAAA or AAAA-MM-JJ, never in the future). Rows of the same order with the "
        "same carrier and tracking number are one parcel, created atomically (ST01 rules). `dry_run=true` "
        "checks only. A file refused as a whole answers 400 IMPORT_FILE_INVALID and changes nothing; "
        "otherwise 200 with one report per row: status VALID (dry run), SHIPPED or ERROR with its French "
        "message and code."
    ),
)
def import_shipments(request: HttpRequest, file: UploadedFile = File(...),  # noqa: B008 (ninja's idiom)
                     dry_run: bool = False) -> HttpResponse:
    shop_id = _shop_id(request)
    if file.size is not None and file.size > imports.MAX_FILE_BYTES:
        return _file_error(imports.file_too_large_message(file.size))  # refused before reading a byte
    try:
        job = imports.preview(shop_id=shop_id, data=file.read(), filename=file.name or "",
                              created_by=f"API boutique {shop_id}", source="api")
    except imports.ImportFileError as exc:
        return _file_error(exc.message, exc.code)
    if not dry_run:
        job = imports.apply_all(job_id=job.pk, shop_id=shop_id, who=Who(Actor.SELLER, f"API boutique {shop_id}"))
    tally = imports.counts(job.rows)
    return json_response({
        "import_id": job.pk, "dry_run": dry_run, "rows_total": tally["total"],
        "rows_valid": tally["ok"], "rows_shipped": tally["done"], "rows_in_error": tally["error"],
        "shipments_created": len({row["shipment_id"] for row in job.rows if row["shipment_id"]}),
        "rows": [_row_json(row) for row in job.rows],
    })
