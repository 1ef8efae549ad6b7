"""Bulk shipment import, the database side: check the rows against the orders, then apply them in chunks
through the shipping services (each parcel all or nothing, re-checked under its order's lock)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import date, datetime, time
from typing import Any, Final

from comptoir.core.errors import ComptoirError
from comptoir.shipping import rules
from comptoir.shipping.errors import QuantityExceeded
from comptoir.shipping.imports.reading import (
    FIELDS,
    RawRow,
    check_format,
    duplicates,
    group_parcels,
    normalize,
    parcel_key,
    read_table,
)

# --- checking against the database, and applying -----------------------------------------------------------

OK, ERROR, DONE = "OK", "ERROR", "DONE"
_CHUNK_IN: Final = 500  # ids per IN (...) query


def _chunks(items: Sequence[Any], size: int = _CHUNK_IN) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _shipped_at(value: date | datetime | None, now: datetime) -> datetime | None:
    """Like the back office's date field: today means now, an earlier day that day's evening."""
    from django.utils import timezone

    if value is None:
        return None
    if isinstance(value, datetime):
        return value if timezone.is_aware(value) else timezone.make_aware(value)
    if value == timezone.localdate(now):
        return now
    moment = time(23, 59) if value < timezone.localdate(now) else time.min
    return timezone.make_aware(datetime.combine(value, moment))


class _Carriers:
    """Active carriers by code and by label (normalized): « colissimo », « Colissimo », « COLISSIMO »."""

    def __init__(self) -> None:
        from comptoir.shipping.models import Carrier

        self.by_name: dict[str, rules.CarrierSpec] = {}
        for carrier in Carrier.objects.filter(active=True).order_by("id"):
            spec = carrier.spec()
            self.by_name.setdefault(normalize(spec.code), spec)
            self.by_name.setdefault(normalize(spec.label), spec)

    def resolve(self, value: str, values: dict[str, str], postcode: str) -> rules.Tracking:
        name = value.strip()
        spec = self.by_name.get(normalize(name))
        if spec is not None:
            return rules.resolve_tracking(carrier=spec, carrier_code=spec.code, carrier_name=None,
                                          tracking_number=values["tracking_number"], tracking_url=None,
                                          postcode=postcode)
        if rules.is_other_carrier(name):
            raise ValueError("Transporteur « autre » : indiquez le nom du transporteur dans la colonne "
                             "« transporteur », et un lien de suivi https://.")
        if not values.get("tracking_url"):
            raise ValueError(f"Transporteur inconnu ou désactivé : « {name} ». Pour un transporteur hors liste, "
                             "indiquez aussi un lien de suivi https://.")
        return rules.resolve_tracking(carrier=None, carrier_code="autre", carrier_name=name,
                                      tracking_number=values["tracking_number"],
                                      tracking_url=values["tracking_url"], postcode=postcode)


def _row_dict(raw: RawRow) -> dict[str, Any]:
    row: dict[str, Any] = {"row": raw.number}
    row.update({name: raw.values.get(name, "") for name in FIELDS})
    row.update(status=OK, error="", code="", duplicate_of=None, shipment_id="")
    return row


def _fail(row: dict[str, Any], message: str, code: str = "IMPORT_ROW_INVALID") -> None:
    row.update(status=ERROR, error=message, code=code)


def check_rows(shop_id: int, raw_rows: Sequence[RawRow], *, now: datetime) -> list[dict[str, Any]]:
    """Every row OK or with its precise French error; reads only (a few bulk queries, whatever the size)."""
    from django.db.models import Sum

    from comptoir.orders.models import Order, OrderLine
    from comptoir.orders.states import DROPPED_LINE_STATES, STATE_LABELS, OrderState
    from comptoir.shipping.models import ShipmentLine

    rows = [_row_dict(raw) for raw in raw_rows]
    parsed: dict[int, tuple[int, date | datetime | None]] = {}
    for index, raw in enumerate(raw_rows):
        try:
            parsed[index] = check_format(raw)
        except ValueError as exc:
            _fail(rows[index], str(exc))
    for index, first in duplicates(raw_rows).items():
        if rows[index]["status"] == OK:
            rows[index]["duplicate_of"] = rows[first]["row"]
            _fail(rows[index], f"Ligne en double : identique à la ligne {rows[first]['row']} "
                               "(même commande, ligne, transporteur et numéro de suivi).", "IMPORT_ROW_DUPLICATE")

    order_ids = sorted({row["order_id"] for row in rows if row["order_id"]})
    orders: dict[str, Order] = {}
    for ids in _chunks(order_ids):
        for order in Order.objects.filter(shop_id=shop_id, order_id__in=ids).only(
                "id", "order_id", "state", "customer_debited_date", "shipping_address"):
            orders[order.order_id] = order
    lines: dict[tuple[str, str], dict[str, Any]] = {}
    order_by_pk = {order.pk: order for order in orders.values()}
    for pks in _chunks(list(order_by_pk)):
        for line in OrderLine.objects.filter(order_id__in=pks).values("id", "order_id", "line_id", "quantity",
                                                                      "state"):
            lines[(order_by_pk[line["order_id"]].order_id, line["line_id"])] = line
    in_shipments: dict[int, int] = defaultdict(int)
    line_pks = [line["id"] for line in lines.values()]
    for pks in _chunks(line_pks):
        for item in (ShipmentLine.objects.filter(order_line_id__in=pks).values("order_line_id")
                     .annotate(units=Sum("quantity"))):
            in_shipments[item["order_line_id"]] = item["units"]
    carriers = _Carriers()

    consumed: dict[int, int] = defaultdict(int)
    parcels_seen: dict[tuple[str, str, str], dict[str, Any]] = {}
    for index, row in enumerate(rows):
        if row["status"] != OK:
            continue
        quantity, ship_value = parsed[index]
        order = orders.get(row["order_id"])
        if order is None:
            _fail(row, f"Commande {row['order_id']} introuvable.", "ORDER_NOT_FOUND")
            continue
        if order.state != OrderState.SHIPPING:
            label = STATE_LABELS.get(OrderState(order.state), order.state)
            _fail(row, f"Commande {order.order_id} à l'état « {label} » : seules les commandes en attente "
                       "d'expédition reçoivent un colis.", "ORDER_INVALID_STATE")
            continue
        line = lines.get((order.order_id, row["order_line_id"]))
        if line is None:
            _fail(row, f"Ligne {row['order_line_id']} introuvable dans la commande {order.order_id}.",
                  "ORDER_LINE_NOT_FOUND")
            continue
        if line["state"] in DROPPED_LINE_STATES:
            _fail(row, f"Ligne {line['line_id']} refusée ou annulée : rien à expédier.", "ORDER_LINE_NOT_FOUND")
            continue
        shipped_at = _shipped_at(ship_value, now)
        postcode = str((order.shipping_address or {}).get("zip_code") or "")
        try:
            if shipped_at is not None:
                rules.check_ship_date(shipped_at, now=now, debited_at=order.customer_debited_date)
            tracking = carriers.resolve(row["carrier"], row, postcode)
            already = in_shipments.get(line["id"], 0)
            rules.check_quantities({line["line_id"]: quantity}, accepted={line["line_id"]: line["quantity"]},
                                   in_shipments={line["line_id"]: already + consumed[line["id"]]})
        except QuantityExceeded as exc:
            note = " (en comptant les lignes précédentes du fichier)" if consumed[line["id"]] else ""
            _fail(row, exc.message.rstrip(".") + note + ".", exc.code)
            continue
        except ComptoirError as exc:
            _fail(row, exc.message, exc.code)
            continue
        except ValueError as exc:
            _fail(row, str(exc), "CARRIER_NOT_FOUND")
            continue
        row.update(quantity=str(quantity), carrier_code=tracking.carrier_code, carrier_name=tracking.carrier_name,
                   resolved_url=tracking.tracking_url,
                   shipped_at=shipped_at.isoformat() if shipped_at else "")
        key = parcel_key(row)
        first = parcels_seen.setdefault(key, row)
        if first is not row and (first["shipped_at"] != row["shipped_at"]
                                 or first["resolved_url"] != row["resolved_url"]):
            _fail(row, f"Même colis que la ligne {first['row']} (commande, transporteur et numéro de suivi) mais "
                       "avec une autre date d'expédition ou un autre lien de suivi.", "IMPORT_PARCEL_MISMATCH")
            continue
        consumed[line["id"]] += quantity

    # A parcel is declared whole or not at all: a row in error holds back the rows of its parcel.
    for group in group_parcels(rows):
        bad = next((rows[i] for i in group if rows[i]["status"] != OK), None)
        if bad is None:
            continue
        for i in group:
            if rows[i]["status"] == OK:
                _fail(rows[i], f"Colis non déclaré : la ligne {bad['row']} du même colis est en erreur.",
                      "IMPORT_PARCEL_BLOCKED")
    return rows


def counts(rows: Sequence[dict[str, Any]]) -> dict[str, int]:
    out = {"total": len(rows), "ok": 0, "error": 0, "done": 0}
    for row in rows:
        out[{OK: "ok", ERROR: "error", DONE: "done"}[row["status"]]] += 1
    return out


def preview(*, shop_id: int, data: bytes, filename: str, created_by: str, source: str = "web") -> Any:
    """Parse and check the file; store the rows (and the parcels of the valid ones) for `apply_next`.
    ImportFileError when the file as a whole is refused (then nothing at all is stored)."""
    from comptoir.core import clock
    from comptoir.shipping.models import ShipmentImport

    raw_rows = read_table(data, filename)
    now = clock.now()
    rows = check_rows(shop_id, raw_rows, now=now)
    parcels = [group for group in group_parcels(rows) if all(rows[i]["status"] == OK for i in group)]
    return ShipmentImport.objects.create(shop_id=shop_id, source=source, filename=filename[:255],
                                         created_by=created_by[:150], checked_rows=rows, parcels=parcels,
                                         created_date=now, last_updated_date=now)


def start(job: Any) -> None:
    """The seller confirmed: the import may now be applied (once)."""
    from comptoir.core import clock
    from comptoir.shipping.models import ShipmentImport, ShipmentImportStatus

    ShipmentImport.objects.filter(pk=job.pk, status=ShipmentImportStatus.PREVIEW).update(
        status=ShipmentImportStatus.APPLYING, last_updated_date=clock.now())
    job.refresh_from_db()


def _parcel_request(rows: Sequence[dict[str, Any]]) -> Any:
    from comptoir.shipping import services

    first = rows[0]
    other = not first["carrier_code"]
    tracking = services.TrackingRequest(
        carrier_code="autre" if other else first["carrier_code"],
        carrier_name=first["carrier_name"] if other else None,
        tracking_number=first["tracking_number"],
        tracking_url=first["tracking_url"] if other else None,
    )
    return services.ShipmentRequest(
        order_id=first["order_id"],
        lines=[services.LineRequest(quantity=int(row["quantity"]), order_line_id=row["order_line_id"])
               for row in rows],
        tracking=tracking, shipped=True,
        shipped_date=datetime.fromisoformat(first["shipped_at"]) if first["shipped_at"] else None,
    )


def _apply_chunk(job: Any, *, shop_id: int, who: Any, parcels: int) -> None:
    """The next `parcels` parcels of `job` (locked by the caller) through `ship_parcels`, which checks each
    again under its order's lock and refuses it on its own; results and cursor saved with them."""
    from comptoir.core import clock
    from comptoir.shipping import services
    from comptoir.shipping.models import ShipmentImport, ShipmentImportOutcome, ShipmentImportStatus

    rows = job.checked_rows
    end = min(len(job.parcels), job.cursor + parcels)
    groups = job.parcels[job.cursor:end]
    outcomes = services.ship_parcels(shop_id=shop_id, requests=[_parcel_request([rows[i] for i in group])
                                                                for group in groups], who=who)
    # Only this chunk's rows are written (the file's rows, megabytes, are never rewritten).
    written = []
    for group, outcome in zip(groups, outcomes, strict=True):
        for i in group:
            if isinstance(outcome, ComptoirError):
                written.append(ShipmentImportOutcome(job_id=job.pk, row_index=i, status=ERROR, code=outcome.code,
                                                     error=f"Refusé à l'application : {outcome.message}"))
            else:
                written.append(ShipmentImportOutcome(job_id=job.pk, row_index=i, status=DONE,
                                                     shipment_id=outcome.shipment_id))
    ShipmentImportOutcome.objects.bulk_create(written)
    job.cursor = end
    if end >= len(job.parcels):
        job.status = ShipmentImportStatus.DONE
    job.last_updated_date = clock.now()
    ShipmentImport.objects.filter(pk=job.pk).update(cursor=job.cursor, status=job.status,
                                                    last_updated_date=job.last_updated_date)


def apply_next(*, job_id: int, shop_id: int, who: Any, parcels: int = 100) -> Any:
    """Apply the next `parcels` parcels of a started import, in one transaction. The import row is locked
    for the chunk (two tabs cannot apply it twice)."""
    from django.db import transaction

    from comptoir.core.errors import NotFound
    from comptoir.shipping.models import ShipmentImport, ShipmentImportStatus

    with transaction.atomic():
        job = ShipmentImport.objects.select_for_update().filter(pk=job_id, shop_id=shop_id).first()
        if job is None:
            raise NotFound("Import introuvable.")
        if job.status == ShipmentImportStatus.APPLYING:
            _apply_chunk(job, shop_id=shop_id, who=who, parcels=parcels)
    return job


def apply_all(*, job_id: int, shop_id: int, who: Any, parcels: int = 500) -> Any:
    """Start and apply the whole import, `parcels` per transaction. The rows are read once: each chunk locks
    the import row alone and reads it again in full only when another writer moved it meanwhile."""
    from django.db import transaction

    from comptoir.core.errors import NotFound
    from comptoir.shipping.models import ShipmentImport, ShipmentImportStatus

    job = ShipmentImport.objects.get(pk=job_id, shop_id=shop_id)
    start(job)
    while job.status == ShipmentImportStatus.APPLYING:
        with transaction.atomic():
            head = (ShipmentImport.objects.select_for_update().filter(pk=job_id, shop_id=shop_id)
                    .values_list("status", "cursor").first())
            if head is None:
                raise NotFound("Import introuvable.")
            if head != (job.status, job.cursor):
                job = ShipmentImport.objects.get(pk=job_id)
            if job.status == ShipmentImportStatus.APPLYING:
                _apply_chunk(job, shop_id=shop_id, who=who, parcels=parcels)
    return job
