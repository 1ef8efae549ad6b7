"""Pure part of the shipment import: decoding, delimiters, headers, XLSX formulas, row formats, duplicates,
parcels and the errors CSV. No database."""

from __future__ import annotations

import io
from datetime import date, datetime

import pytest
from openpyxl import Workbook

from comptoir.shipping import imports
from comptoir.shipping.imports import ImportFileError, RawRow

HEADER = "commande;ligne;quantité;transporteur;numéro de suivi;lien de suivi;date d'expédition\r\n"


def _xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_utf8_bom_and_cp1252_decode_the_same_accented_text() -> None:
    text = HEADER + "C-1;C-1-1;1;Colissimo;6A1;;12/01/2025\r\n"
    for data in (text.encode("utf-8"), b"\xef\xbb\xbf" + text.encode("utf-8"), text.encode("cp1252"),
                 text.encode("utf-16")):
        rows = imports.read_table(data)
        assert len(rows) == 1 and rows[0].values["order_id"] == "C-1" and rows[0].number == 2


def test_comma_delimiter_and_english_headers() -> None:
    data = b"Order_ID,order_line_id,QUANTITY,carrier,tracking_number\nC-1,C-1-1,2,colissimo,6A1\n"
    (row,) = imports.read_table(data)
    assert row.values["quantity"] == "2" and row.values["tracking_url"] == "" and row.values["carrier"] == "colissimo"


def test_undecodable_bytes_are_refused_in_french() -> None:
    with pytest.raises(ImportFileError, match="Encodage"):
        imports.decode(b"commande\x81\x8d")


@pytest.mark.parametrize(("data", "message"), [
    (b"", "vide"),
    (b"   \n\n", "vide"),
    (HEADER.encode(), "aucune ligne de données"),
    (b"commande;ligne;quantite\nC;L;1\n", "colonnes manquantes : « transporteur », « numéro de suivi »"),
    (b"commande;ligne;quantite;transporteur;suivi;couleur\nC;L;1;x;y;z\n", "colonnes inconnues : « couleur »"),
    (b"commande;order_id;ligne;quantite;transporteur;suivi\n", "en double"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", "XLS"),
    (b"\x00\x01\x02binary", "ni un CSV ni un XLSX"),
])
def test_file_level_errors(data: bytes, message: str) -> None:
    with pytest.raises(ImportFileError, match=message):
        imports.read_table(data)


def test_size_limit_is_checked_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(imports.reading, "MAX_FILE_BYTES", 10)
    with pytest.raises(ImportFileError, match="trop volumineux"):
        imports.read_table(HEADER.encode())


def test_too_many_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(imports.reading, "MAX_ROWS", 2)
    data = (HEADER + "C;L;1;x;y;;\r\n" * 3).encode()
    with pytest.raises(ImportFileError, match="Trop de lignes"):
        imports.read_table(data)


def test_xlsx_values_dates_and_numbers() -> None:
    data = _xlsx([["Commande", "Ligne", "Quantité", "Transporteur", "Numéro de suivi", "Date d'expédition"],
                  [12345, "C-1-1", 2.0, "Colissimo", "6A1", datetime(2025, 1, 12)], [None, None, None]])
    (row,) = imports.read_table(data, "f.xlsx")
    assert row.values["order_id"] == "12345" and row.values["quantity"] == "2"
    assert row.values["ship_date"] == "2025-01-12"


def test_xlsx_formula_is_refused_naming_the_cell() -> None:
    data = _xlsx([["commande", "ligne", "quantite", "transporteur", "suivi"], ["C", "L", "=1+1", "x", "y"]])
    with pytest.raises(ImportFileError, match="Cellule C2 : les formules ne sont pas acceptées"):
        imports.read_table(data)


def test_broken_xlsx_is_refused() -> None:
    with pytest.raises(ImportFileError, match="XLSX illisible"):
        imports.read_table(b"PK\x03\x04garbage")


def test_headers_are_case_accent_and_punctuation_insensitive() -> None:
    mapping = imports.map_headers(["N° Commande", "LIGNE DE COMMANDE", "Quantité", "Transporteur",
                                   "Numéro de suivi", "URL de suivi", "Date d’expédition", ""])
    assert mapping == ["order_id", "order_line_id", "quantity", "carrier", "tracking_number", "tracking_url",
                       "ship_date", None]


@pytest.mark.parametrize(("text", "expected"), [
    ("2025-01-12", date(2025, 1, 12)), ("12/01/2025", date(2025, 1, 12)),
    ("12/01/2025 14:30", datetime(2025, 1, 12, 14, 30)), ("", None),
])
def test_ship_dates(text: str, expected: object) -> None:
    assert imports.parse_ship_date(text) == expected


@pytest.mark.parametrize(("values", "message"), [
    ({"quantity": "0"}, "Quantité invalide : « 0 »"),
    ({"quantity": "1,5"}, "Quantité invalide"),
    ({"quantity": "abc"}, "Quantité invalide"),
    ({"carrier": ""}, "Colonne « transporteur » vide"),
    ({"order_id": ""}, "Colonne « commande » vide"),
    ({"ship_date": "32/01/2025"}, "Date d'expédition invalide : « 32/01/2025 »"),
    ({"_extra": "1"}, "Plus de cellules"),
])
def test_row_format_errors(values: dict[str, str], message: str) -> None:
    base = {"order_id": "C", "order_line_id": "L", "quantity": "1", "carrier": "x", "tracking_number": "y",
            "tracking_url": "", "ship_date": ""}
    with pytest.raises(ValueError, match=message):
        imports.check_format(RawRow(2, {**base, **values}))


def test_row_format_ok() -> None:
    values = {"order_id": "C", "order_line_id": "L", "quantity": "3", "carrier": "x", "tracking_number": "y",
              "ship_date": "01/02/2025"}
    assert imports.check_format(RawRow(2, values)) == (3, date(2025, 2, 1))


def test_duplicates_and_parcels() -> None:
    def row(line: str, number: str, carrier: str = "Colissimo") -> dict[str, str]:
        return {"order_id": "C", "order_line_id": line, "carrier": carrier, "tracking_number": number}

    raw = [RawRow(i + 2, v) for i, v in enumerate([row("L1", "A"), row("L2", "A", "COLISSIMO"), row("L1", "A"),
                                                    row("L1", "B")])]
    assert imports.duplicates(raw) == {2: 0}
    dicts = [dict(r.values, duplicate_of=None) for r in raw]
    dicts[2]["duplicate_of"] = 2
    assert imports.group_parcels(dicts) == [[0, 1], [3]]


def test_errors_csv_is_excel_friendly_and_formula_safe() -> None:
    rows = [{"row": 2, "order_id": "C", "order_line_id": "L", "quantity": "1", "carrier": "=cmd()",
             "tracking_number": "x", "tracking_url": "", "ship_date": "", "error": "Commande C introuvable."},
            {"row": 3, "error": ""}]
    data = imports.errors_csv(rows)
    assert data.startswith(b"\xef\xbb\xbf")
    lines = data.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("ligne;commande;") and len(lines) == 2
    assert lines[1] == "2;C;L;1;'=cmd();x;;;Commande C introuvable."
