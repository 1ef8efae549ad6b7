"""Bulk shipment import (issue 5): a CSV or XLSX file of (order, line, quantity, carrier, tracking number,
tracking URL, ship date) rows becomes parcels declared through `services.create_shipment`.

Three layers, each usable alone:

* pure file parsing (no database, no clock): `read_table` decodes CSV (UTF-8, UTF-8 with BOM, UTF-16 with
  BOM, Windows-1252; `;`, `,` or tab) or XLSX (openpyxl, read-only, formulas refused), maps the French or
  English headers, and gives `RawRow`s; `check_format` checks one row's own values; `duplicates`,
  `group_parcels` and `errors_csv` are pure too. File-level problems raise `ImportFileError`.
* `preview`: every row checked against the shop's orders, lines, shipments and carriers in a few bulk
  queries (same rules as the services: `shipping.rules`), nothing written but the `ShipmentImport` holding
  the rows.
* `apply_next`: the next parcels, each atomic (a savepoint) through `create_shipment`, which checks
  everything again under the order's lock; the chunk and the import's cursor commit together.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, Final

from comptoir.core.errors import ComptoirError
from comptoir.shipping import rules
from comptoir.shipping.errors import QuantityExceeded

MAX_FILE_BYTES: Final = 50 * 1024 * 1024
MAX_ROWS: Final = 20_000
FIELDS: Final = ("order_id", "order_line_id", "quantity", "carrier", "tracking_number", "tracking_url",
                 "ship_date")
REQUIRED: Final = ("order_id", "order_line_id", "quantity", "carrier", "tracking_number")
FRENCH_NAMES: Final = {
    "order_id": "commande", "order_line_id": "ligne de commande", "quantity": "quantité",
    "carrier": "transporteur", "tracking_number": "numéro de suivi", "tracking_url": "lien de suivi",
    "ship_date": "date d'expédition",
}
_ALIASES: Final = {
    "order_id": ("order id", "order", "commande", "n commande", "no commande", "numero de commande",
                 "numero commande", "id commande", "reference commande"),
    "order_line_id": ("order line id", "order line", "line id", "line", "ligne", "ligne de commande",
                      "id ligne", "n ligne", "numero de ligne", "ligne commande"),
    "quantity": ("quantity", "qty", "quantite", "qte", "quantite expediee"),
    "carrier": ("carrier", "carrier code", "carrier name", "transporteur", "code transporteur",
                "nom transporteur", "nom du transporteur"),
    "tracking_number": ("tracking number", "tracking", "numero de suivi", "n de suivi", "no de suivi", "suivi",
                        "numero suivi"),
    "tracking_url": ("tracking url", "url", "lien", "lien de suivi", "url de suivi", "carrier url"),
    "ship_date": ("ship date", "shipped date", "shipping date", "date", "date d expedition", "date expedition",
                  "expedie le", "date d envoi"),
}


def normalize(text: str) -> str:
    """Case-, accent- and punctuation-insensitive form of a header or carrier name."""
    decomposed = unicodedata.normalize("NFKD", text.replace("°", " ").replace("º", " "))
    ascii_text = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", ascii_text).split())


HEADERS: Final = {normalize(alias): name for name, aliases in _ALIASES.items() for alias in aliases}


class ImportFileError(Exception):
    """The file as a whole is refused (nothing is read further, nothing is written)."""

    code = "IMPORT_FILE_INVALID"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class RawRow:
    number: int  # the row's number in the file (the header is row 1), as the seller's spreadsheet shows it
    values: dict[str, str]


# --- reading the file (pure) -------------------------------------------------------------------------------


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else Windows-1252 (Excel's « CSV » on a French Windows)."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise ImportFileError("Encodage du fichier illisible (UTF-16 invalide).") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        raise ImportFileError("Encodage du fichier non reconnu : enregistrez-le en CSV UTF-8 "
                              "(ou Windows-1252), ou en XLSX.") from None


def _delimiter(header_line: str) -> str:
    counts = {sep: header_line.count(sep) for sep in (";", ",", "\t")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] else ";"


def _csv_cells(text: str) -> Iterator[list[str]]:
    text = text.lstrip("\ufeff")
    first = next((line for line in text.splitlines() if line.strip()), "")
    try:
        yield from csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first))
    except csv.Error as exc:
        raise ImportFileError(f"Fichier CSV mal formé : {exc}.") from None


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time.min else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _xlsx_cells(data: bytes) -> Iterator[list[str]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ImportFileError(f"Fichier XLSX illisible ({exc.__class__.__name__}).") from None
    try:
        sheet = book.worksheets[0]
        for row in sheet.iter_rows():
            cells: list[str] = []
            for cell in row:
                value = getattr(cell, "value", None)
                if getattr(cell, "data_type", None) == "f" or (isinstance(value, str) and value.startswith("=")):
                    where = getattr(cell, "coordinate", "?")
                    raise ImportFileError(f"Cellule {where} : les formules ne sont pas acceptées ({value}). "
                                          "Remplacez-les par leurs valeurs (copier, collage spécial « valeurs »).")
                cells.append(_cell_text(value))
            yield cells
    finally:
        book.close()


def map_headers(header: Sequence[str]) -> list[str | None]:
    """Each column's field; unknown, duplicated or missing required columns are refused with their names."""
    mapped: list[str | None] = []
    unknown: list[str] = []
    seen: dict[str, str] = {}
    for raw in header:
        label = raw.strip()
        if not label:
            mapped.append(None)
            continue
        name = HEADERS.get(normalize(label))
        if name is None:
            unknown.append(f"« {label} »")
        elif name in seen:
            raise ImportFileError(f"Colonnes « {seen[name]} » et « {label} » en double : "
                                  f"une seule colonne « {FRENCH_NAMES[name]} » est permise.")
        else:
            seen[name] = label
        mapped.append(name)
    missing = [FRENCH_NAMES[name] for name in REQUIRED if name not in seen]
    problems = []
    if missing:
        problems.append("colonnes manquantes : " + ", ".join(f"« {m} »" for m in missing))
    if unknown:
        problems.append("colonnes inconnues : " + ", ".join(unknown))
    if problems:
        expected = ", ".join(FRENCH_NAMES[f] for f in FIELDS)
        raise ImportFileError(f"En-tête du fichier invalide ({' ; '.join(problems)}). Colonnes attendues : "
                              f"{expected} (ou en anglais : {', '.join(FIELDS)}).")
    return mapped


def rows_from_cells(cells: Iterable[list[str]]) -> list[RawRow]:
    """The header (first non-empty row) mapped, then one RawRow per non-empty row."""
    rows: list[RawRow] = []
    mapping: list[str | None] | None = None
    for number, line in enumerate(cells, start=1):
        if not any(cell.strip() for cell in line):
            continue
        if mapping is None:
            mapping = map_headers(line)
            continue
        extra = [cell for cell in line[len(mapping):] if cell.strip()]
        values = {name: "" for name in FIELDS}
        for name, cell in zip(mapping, line, strict=False):
            if name is not None:
                values[name] = cell.strip()
        if extra:
            values["_extra"] = "1"
        rows.append(RawRow(number, values))
        if len(rows) > MAX_ROWS:
            raise ImportFileError(f"Trop de lignes : {MAX_ROWS:,} au plus par fichier.".replace(",", " "))
    if mapping is None:
        raise ImportFileError("Le fichier est vide : ni en-tête ni ligne.")
    if not rows:
        raise ImportFileError("Le fichier ne contient aucune ligne de données (seulement l'en-tête).")
    return rows


def read_table(data: bytes, filename: str = "") -> list[RawRow]:
    """The rows of a CSV or XLSX file (detected from its content, not its name)."""
    if len(data) > MAX_FILE_BYTES:
        raise ImportFileError(file_too_large_message(len(data)))
    if not data.strip():
        raise ImportFileError("Le fichier est vide.")
    if data.startswith(b"PK\x03\x04"):
        return rows_from_cells(_xlsx_cells(data))
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError("Format XLS (Excel 97-2003) non pris en charge : enregistrez le fichier en XLSX "
                              "ou en CSV.")
    if b"\x00" in data[:4096] and not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ImportFileError("Ce fichier n'est ni un CSV ni un XLSX.")
    return rows_from_cells(_csv_cells(decode(data)))


def file_too_large_message(size: int) -> str:
    return (f"Fichier trop volumineux ({size / 1024 / 1024:.1f} Mo) : "
            f"{MAX_FILE_BYTES // 1024 // 1024} Mo au plus. Découpez-le en plusieurs fichiers.")


# --- one row's own values (pure) ---------------------------------------------------------------------------

_DATE_FORMATS: Final = ("%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y", "%d-%m-%Y", "%d.%m.%Y")
_DATETIME_FORMATS: Final = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M",
                            "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M")


def parse_ship_date(text: str) -> date | datetime | None:
    """A day (JJ/MM/AAAA or AAAA-MM-JJ) or a moment (with HH:MM, or ISO with offset); None when empty."""
    text = text.strip()
    if not text:
        return None
    for fmt in _DATETIME_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            pass
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            pass
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"Date d'expédition invalide : « {text} » (JJ/MM/AAAA ou AAAA-MM-JJ attendu).") from None


def parse_quantity(text: str) -> int:
    raw = text.strip().replace("\u00a0", "").replace(" ", "")
    if re.fullmatch(r"\d+([.,]0+)?", raw):
        value = int(re.split(r"[.,]", raw)[0])
        if 0 < value <= 100_000:
            return value
    raise ValueError(f"Quantité invalide : « {text} » (nombre entier positif attendu).")


def check_format(row: RawRow) -> tuple[int, date | datetime | None]:
    """The row's quantity and ship date; ValueError with the French message of the first problem."""
    if row.values.get("_extra"):
        raise ValueError("Plus de cellules que de colonnes dans l'en-tête.")
    for name in REQUIRED:
        if not row.values.get(name):
            raise ValueError(f"Colonne « {FRENCH_NAMES[name]} » vide.")
    return parse_quantity(row.values["quantity"]), parse_ship_date(row.values.get("ship_date", ""))


def row_key(values: dict[str, str]) -> tuple[str, ...]:
    """What makes two rows « the same row »: the same order line in the same parcel."""
    return (values.get("order_id", "").strip(), values.get("order_line_id", "").strip(),
            normalize(values.get("carrier", "")), values.get("tracking_number", "").strip())


def duplicates(rows: Sequence[RawRow]) -> dict[int, int]:
    """Row index → index of the earlier identical row (the first one stays valid)."""
    first: dict[tuple[str, ...], int] = {}
    out: dict[int, int] = {}
    for index, row in enumerate(rows):
        key = row_key(row.values)
        if key in first:
            out[index] = first[key]
        else:
            first[key] = index
    return out


def parcel_key(values: dict[str, str]) -> tuple[str, str, str]:
    """Rows for the same order with the same carrier and tracking number are one parcel."""
    return (values.get("order_id", "").strip(), normalize(values.get("carrier", "")),
            values.get("tracking_number", "").strip())


def group_parcels(rows: Sequence[dict[str, Any]]) -> list[list[int]]:
    """Indexes of the rows of each parcel, parcels in the order of their first row; duplicates left out."""
    groups: dict[tuple[str, str, str], list[int]] = {}
    for index, row in enumerate(rows):
        if row.get("duplicate_of") is not None:
            continue
        groups.setdefault(parcel_key(row), []).append(index)
    return list(groups.values())


CSV_HEADER: Final = ("ligne", "commande", "ligne de commande", "quantité", "transporteur", "numéro de suivi",
                     "lien de suivi", "date d'expédition", "erreur")


def _safe_cell(value: Any) -> str:
    """No spreadsheet formula can come out of our CSV (CSV injection): a leading = + - @ is quoted."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def errors_csv(rows: Iterable[dict[str, Any]]) -> bytes:
    """The rows in error, with their message: UTF-8 with BOM and `;`, as Excel opens it in France."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for row in rows:
        if row.get("error"):
            writer.writerow([_safe_cell(row.get(k)) for k in ("row", *FIELDS)] + [_safe_cell(row["error"])])
    return codecs.BOM_UTF8 + out.getvalue().encode("utf-8")


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
                                         created_by=created_by[:150], rows=rows, parcels=parcels,
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


def apply_next(*, job_id: int, shop_id: int, who: Any, parcels: int = 100) -> Any:
    """Apply the next `parcels` parcels of a started import. The import row is locked for the chunk (two
    tabs cannot apply it twice); each parcel is its own savepoint through `create_shipment`, which checks it
    again under the order's lock; results and cursor are saved with the chunk."""
    from django.db import transaction

    from comptoir.core import clock
    from comptoir.core.errors import NotFound
    from comptoir.shipping import services
    from comptoir.shipping.models import ShipmentImport, ShipmentImportStatus

    with transaction.atomic():
        job = ShipmentImport.objects.select_for_update().filter(pk=job_id, shop_id=shop_id).first()
        if job is None:
            raise NotFound("Import introuvable.")
        if job.status != ShipmentImportStatus.APPLYING:
            return job
        rows = job.rows
        end = min(len(job.parcels), job.cursor + parcels)
        for group in job.parcels[job.cursor:end]:
            parcel_rows = [rows[i] for i in group]
            try:
                shipment = services.create_shipment(shop_id=shop_id, request=_parcel_request(parcel_rows), who=who)
            except ComptoirError as exc:
                for row in parcel_rows:
                    _fail(row, f"Refusé à l'application : {exc.message}", exc.code)
                continue
            for row in parcel_rows:
                row.update(status=DONE, shipment_id=shipment.shipment_id)
        job.cursor = end
        if end >= len(job.parcels):
            job.status = ShipmentImportStatus.DONE
        job.last_updated_date = clock.now()
        job.save(update_fields=["rows", "cursor", "status", "last_updated_date"])
    return job


def apply_all(*, job_id: int, shop_id: int, who: Any, parcels: int = 500) -> Any:
    from comptoir.shipping.models import ShipmentImport, ShipmentImportStatus

    job = ShipmentImport.objects.get(pk=job_id, shop_id=shop_id)
    start(job)
    while job.status == ShipmentImportStatus.APPLYING:
        job = apply_next(job_id=job_id, shop_id=shop_id, who=who, parcels=parcels)
    return job
