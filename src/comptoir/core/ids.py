"""Row ids spelled as text (a path segment, a query value), read the same way by every surface: ASCII digits
within the 64-bit range SQLite's INTEGER and PostgreSQL's bigint hold. Anything else matches no row."""

from __future__ import annotations

MAX_ID = 2**63 - 1


def parse_id(text: object) -> int | None:
    """The id `text` spells, or None. `str.isdigit()` alone lets through « ² » (int() then raises) and
    ids past 64 bits (the database driver then raises): both were 500s."""
    raw = str(text)
    if not raw or len(raw) > 19 or not (raw.isascii() and raw.isdigit()):
        return None
    value = int(raw)
    return value if value <= MAX_ID else None
