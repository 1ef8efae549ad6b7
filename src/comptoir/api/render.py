"""JSON at the edge: orjson rendering, strict JSON parsing, Mirakl's date and amount formats, and query-string
parsing."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Annotated, Any

import orjson
from django.db.models import CharField, Func
from django.http import HttpRequest, HttpResponse
from django.utils.dateparse import parse_date, parse_datetime
from ninja.parser import Parser
from ninja.renderers import BaseRenderer
from pydantic import AfterValidator, Field

from comptoir.core.errors import ValidationError
from comptoir.core.ids import MAX_ID

# A row id in a path or a body: 0 to MAX_ID (a bigger one crashed the database driver; one that does not exist
# is a 404). Integers given to the database (offsets) stay within MAX_ID too: see parse_int.
Identifier = Annotated[int, Field(ge=0, le=MAX_ID)]


def _in_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value
    try:
        return value.astimezone(UTC)
    except OverflowError:  # year 1 or 9999 moved past the calendar's end
        raise ValueError("date hors du calendrier") from None


# A date-time in a body, kept as the same instant in UTC: PostgreSQL refuses an offset past ±15:59 (a 500), which
# pydantic accepts (up to ±23:59). Query-string dates go through parse_instant, which does the same.
Instant = Annotated[datetime, AfterValidator(_in_utc)]


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError


class ORJSONRenderer(BaseRenderer):
    media_type = "application/json"

    def render(self, request: Any, data: Any, *, response_status: int) -> bytes:
        return orjson.dumps(data, default=_default)


def check_text(value: Any, where: str = "Corps de requête") -> None:
    """Refuse decoded JSON holding a string no database stores (see JSONParser)."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValidationError(f"{where} invalide : caractère nul (\\u0000) interdit.")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValidationError(f"{where} invalide : demi-caractère UTF-16 isolé (\\ud800 à \\udfff) "
                                  "interdit.") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            check_text(key, where)
            check_text(item, where)
    elif isinstance(value, list):
        for item in value:
            check_text(item, where)


class JSONParser(Parser):
    """ninja's JSON parsing, refusing a body that is not an object and the strings no database stores: a NUL
    character (PostgreSQL refuses it) or a lone UTF-16 surrogate (not encodable in UTF-8, on either database).
    JSON can only carry them as \\u escapes, so bodies without one skip that check."""

    def parse_body(self, request: HttpRequest) -> Any:
        data = json.loads(request.body)
        if data is not None and not isinstance(data, dict):  # ninja read a number or a list as « {} »
            raise ValidationError("Corps de requête invalide : objet JSON attendu.")
        if b"\\u" in request.body:
            check_text(data)
        return data


def json_response(data: Any, status: int = 200) -> HttpResponse:
    return HttpResponse(orjson.dumps(data, default=_default), status=status, content_type="application/json")


def amount(cents: int | None) -> float | None:
    """Cents → a JSON number with two decimals (the shortest float repr of n/100 prints exactly n/100)."""
    return None if cents is None else cents / 100


def rate(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is not UTC:  # the database hands back UTC already: skip the conversion then
        value = value.astimezone(UTC)
    return f"{value.isoformat(timespec='seconds')[:19]}Z"  # isoformat is several times faster than strftime


class IsoDate(Func):
    """A datetime column formatted by the database exactly as iso() does (UTC, truncated to the second, Z), for
    list pages: parsing each date into a datetime only to print it again was a large share of their time."""

    output_field = CharField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        # Django stores 'YYYY-MM-DD HH:MM:SS[.ffffff]' in UTC: cut the text (strftime would round 59.9995 s up).
        sql, params = compiler.compile(self.source_expressions[0])
        return f"(replace(substr({sql}, 1, 19), ' ', 'T') || 'Z')", list(params)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        # JSON's ISO 8601 text of the UTC timestamp ("YYYY-MM-DDTHH:MI:SS[.ffffff]", whatever the DateStyle), cut
        # to the second: the same text as to_char(…, 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), at a third of its cost (an
        # OR11 page formats ~1,500 dates).
        sql, params = compiler.compile(self.source_expressions[0])
        return f"(substr(to_json(({sql}) AT TIME ZONE 'UTC')::text, 2, 19) || 'Z')", list(params)


def parse_instant(raw: str | None, name: str, *, end_of_day: bool = False) -> datetime | None:
    """Accept ISO date-times with Z or an offset, and bare dates (as Mirakl clients send them)."""
    if raw is None or raw == "":
        return None
    text = raw.strip().replace(" ", "+")  # a '+' in a query string that was not escaped arrives as a space
    # A bare date first: parse_datetime (datetime.fromisoformat) would read "2025-03-11" as its midnight,
    # and an end date must cover the whole day.
    try:
        day: date | None = parse_date(text)
    except ValueError:
        day = None
    value: datetime | None
    if day is not None:
        value = datetime.combine(day, time.max if end_of_day else time.min)
    else:
        try:
            value = parse_datetime(text)
        except ValueError:
            value = None
        if value is None:
            raise ValidationError(f"Paramètre {name} : date invalide ({raw!r}).", field=name)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        # The same instant in UTC: PostgreSQL refuses an offset past ±15:59 (a 500), Python accepts ±23:59.
        return value.astimezone(UTC)
    except OverflowError:  # year 1 or 9999 moved past the calendar's end
        raise ValidationError(f"Paramètre {name} : date invalide ({raw!r}).", field=name) from None


def parse_list(request: Any, name: str) -> list[str]:
    """Both `x=a,b` and `x=a&x=b`."""
    values: list[str] = []
    for raw in request.GET.getlist(name):
        values.extend(part.strip() for part in raw.split(",") if part.strip())
    return values


def parse_bool(raw: str | None, name: str, *, allow_all: bool = False) -> bool | None:
    if raw is None or raw == "":
        return None
    lowered = raw.strip().lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    if allow_all and lowered == "all":
        return None
    raise ValidationError(f"Paramètre {name} : booléen attendu (true ou false), reçu {raw!r}.", field=name)


def parse_int(raw: str | None, name: str, *, default: int, minimum: int = 0, maximum: int | None = None) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValidationError(f"Paramètre {name} : entier attendu, reçu {raw!r}.", field=name) from None
    upper = MAX_ID if maximum is None else maximum
    if value < minimum or value > upper:
        bound = f"entre {minimum} et {upper}" if maximum is not None or value > upper else f"au moins {minimum}"
        raise ValidationError(f"Paramètre {name} : doit être {bound}.", field=name)
    return value
