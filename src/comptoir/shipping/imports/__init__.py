"""Bulk shipment import (issue 5): `reading` turns a CSV or XLSX file into rows and checks each row's own
values (pure, no database); `applying` checks the rows against the orders and applies them parcel by parcel.
Callers use this package's names."""

from comptoir.shipping.imports.applying import (
    DONE,
    ERROR,
    OK,
    apply_all,
    apply_next,
    check_rows,
    counts,
    preview,
    start,
)
from comptoir.shipping.imports.reading import (
    CSV_HEADER,
    FIELDS,
    FRENCH_NAMES,
    HEADERS,
    MAX_FILE_BYTES,
    MAX_ROWS,
    REQUIRED,
    ImportFileError,
    RawRow,
    check_format,
    decode,
    duplicates,
    errors_csv,
    file_too_large_message,
    group_parcels,
    map_headers,
    normalize,
    parcel_key,
    parse_quantity,
    parse_ship_date,
    read_table,
    row_key,
    rows_from_cells,
)

__all__ = [
    "CSV_HEADER", "DONE", "ERROR", "FIELDS", "FRENCH_NAMES", "HEADERS", "MAX_FILE_BYTES", "MAX_ROWS", "OK",
    "REQUIRED", "ImportFileError", "RawRow", "apply_all", "apply_next", "check_format", "check_rows", "counts",
    "decode", "duplicates", "errors_csv", "file_too_large_message", "group_parcels", "map_headers", "normalize",
    "parcel_key", "parse_quantity", "parse_ship_date", "preview", "read_table", "row_key", "rows_from_cells",
    "start",
]
