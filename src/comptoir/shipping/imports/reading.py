"""Bulk shipment import, the file side (pure: no database, no clock): `read_table` decodes CSV (UTF-8, UTF-8
with BOM, UTF-16 with BOM, Windows-1252; `;`, `,` or tab) or XLSX (openpyxl, read-only, formulas refused),
maps the French or English headers and gives `RawRow`s; `check_format` checks one row's own values;
`duplicates`, `group_parcels` and `errors_csv` are pure too. File-level problems raise `ImportFileError`.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, Final

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
