"""The business calendar: "heures ouvrées" / "jours ouvrés" arithmetic (Mon-Fri minus public holidays).

Pure: imports no Django (stdlib + `holidays` only). Inputs are aware datetimes; outputs are aware UTC datetimes.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays

__all__ = ["BUSINESS_DAY", "BusinessCalendar", "default_calendar"]

# A business day holds 24 business hours, counted on the local wall clock (so a 23 h or 25 h DST-change
# day still holds exactly 24 of them: the whole calendar day).
BUSINESS_DAY = timedelta(hours=24)
_ZERO = timedelta(0)
_US_PER_SECOND = 1_000_000
_US_PER_MINUTE = 60 * _US_PER_SECOND
_US_PER_HOUR = 60 * _US_PER_MINUTE
_US_PER_DAY = 24 * _US_PER_HOUR
_FIRST_YEAR = 1
_LAST_YEAR = 9999


@dataclass(frozen=True, slots=True)
class _Year:
    """Everything one calendar year needs, computed once per (calendar, year): O(1) day lookups."""

    year: int
    first_ordinal: int  # proleptic ordinal of 1 January
    holidays: frozenset[date]
    business_ordinals: tuple[int, ...]  # ordinals of the year's business days, ascending
    # Per day of the year (index = ordinal - first_ordinal):
    is_business: bytes  # 1 on a business day, 0 otherwise
    rank_from: tuple[int, ...]  # index into business_ordinals of the first business day on/after that day


def _require_aware(name: str, value: datetime) -> None:
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got naive {value!r}")


def _require_count(days: int) -> None:
    if isinstance(days, bool) or not isinstance(days, int):
        raise TypeError(f"days must be an int, got {type(days).__name__}")
    if days < 0:
        raise ValueError(f"durations cannot be negative, got {days!r}")


def _timedelta_us(value: timedelta) -> int:
    return (value.days * 86_400 + value.seconds) * _US_PER_SECOND + value.microseconds


def _wall_us(local: datetime) -> int:
    """Wall-clock time of day, in microseconds since local midnight."""
    return (
        local.hour * _US_PER_HOUR
        + local.minute * _US_PER_MINUTE
        + local.second * _US_PER_SECOND
        + local.microsecond
    )


def _duration_us(hours: int | float | timedelta) -> int:
    """A non-negative business duration, in whole microseconds."""
    if isinstance(hours, timedelta):
        duration = _timedelta_us(hours)
    elif isinstance(hours, int):
        duration = hours * _US_PER_HOUR
    elif isinstance(hours, float):
        if not math.isfinite(hours):
            raise ValueError(f"hours must be finite, got {hours!r}")
        duration = _timedelta_us(timedelta(hours=hours))  # rounds to the microsecond like timedelta does
    else:
        raise TypeError(f"hours must be an int, a float or a timedelta, got {type(hours).__name__}")
    if duration < 0:
        raise ValueError(f"business durations cannot be negative, got {hours!r}")
    return duration


class BusinessCalendar:
    """Business time for one country/subdivision in one time zone.

    Model: business time only flows on business days (Monday-Friday that are not public holidays of
    `country`/`subdiv` per the `holidays` package). Each business day holds 24 business hours, measured
    on the local wall clock from 00:00 to 24:00; weekends and holidays hold none.

    Positions: an instant on a business day sits at its wall-clock offset into that day; an instant on a
    non-business day sits at 00:00 of the next business day (business time is frozen until then).
    Results of `add_business_hours` are always on a business day: a sum landing exactly on the end of a
    business day is returned as 00:00 of the *next business day* (e.g. Friday 00:00 + 24 h -> Monday
    00:00, not Saturday 00:00; both are the same business position, the later one is the canonical one).
    Hence zero hours from an instant on a business day returns that instant, and zero hours from a
    non-business day returns 00:00 of the next business day.

    DST note: a computed local time inside a spring-forward gap resolves per PEP 495 (fold=0), and an
    ambiguous fall-back time resolves to its first occurrence. In Europe/Paris, DST changes always happen
    on a Sunday, so they never fall inside business time.

    Thread-safe for reads; per-year tables are built lazily (a racing thread just builds the same table).
    """

    def __init__(self, country: str = "FR", subdiv: str | None = None, tz: str = "Europe/Paris") -> None:
        self.country = country
        self.subdiv = subdiv
        self.tz = ZoneInfo(tz)
        # Fail now, not in a hot loop, on an unknown country or subdivision (raises NotImplementedError).
        holidays.country_holidays(country, subdiv=subdiv)
        self._years: dict[int, _Year] = {}

    def __repr__(self) -> str:
        return f"BusinessCalendar(country={self.country!r}, subdiv={self.subdiv!r}, tz={self.tz.key!r})"

    # -- per-year tables -------------------------------------------------------------------------------

    def _year(self, year: int) -> _Year:
        cached = self._years.get(year)
        if cached is None:
            cached = self._years[year] = self._build_year(year)
        return cached

    def _build_year(self, year: int) -> _Year:
        if not _FIRST_YEAR <= year <= _LAST_YEAR:
            raise OverflowError(f"year {year} is outside the supported date range")
        found = holidays.country_holidays(self.country, subdiv=self.subdiv, years=year)
        holiday_dates = frozenset(day for day in found if day.year == year)
        first = date(year, 1, 1).toordinal()
        stop = date(year, 12, 31).toordinal() + 1
        flags = bytes(
            # ordinal % 7: 0 = Sunday, 6 = Saturday (ordinal 1 is Monday 0001-01-01).
            1 if ordinal % 7 not in (0, 6) and date.fromordinal(ordinal) not in holiday_dates else 0
            for ordinal in range(first, stop)
        )
        business = tuple(ordinal for ordinal, flag in zip(range(first, stop), flags, strict=True) if flag)
        ranks: list[int] = []
        rank = 0
        for flag in flags:
            ranks.append(rank)
            rank += flag
        return _Year(year, first, holiday_dates, business, flags, tuple(ranks))

    def _locate(self, day_ordinal: int, year: int) -> tuple[_Year, int, bool]:
        """(year table, rank of the first business day on/after the day, whether the day is a business day).

        The rank may equal len(business_ordinals) (no business day left in the year): callers roll over.
        """
        table = self._years.get(year) or self._year(year)
        index = day_ordinal - table.first_ordinal
        return table, table.rank_from[index], bool(table.is_business[index])

    def _roll(self, table: _Year, rank: int) -> date:
        """The business day at `rank` counted from the start of `table`'s year, skipping whole years."""
        year = table.year
        while rank >= len(table.business_ordinals):
            rank -= len(table.business_ordinals)
            year += 1
            table = self._year(year)
        return date.fromordinal(table.business_ordinals[rank])

    # -- days ------------------------------------------------------------------------------------------

    def is_business_day(self, day: date) -> bool:
        if isinstance(day, datetime):
            raise TypeError("is_business_day takes a date; convert the datetime to a local date first")
        return self._locate(day.toordinal(), day.year)[2]

    def next_business_day(self, day: date) -> date:
        """The first business day strictly after `day`."""
        if isinstance(day, datetime):
            raise TypeError("next_business_day takes a date; convert the datetime to a local date first")
        table, rank, business = self._locate(day.toordinal(), day.year)
        return self._roll(table, rank + 1 if business else rank)

    # -- instants --------------------------------------------------------------------------------------

    def _position(self, local: datetime) -> tuple[_Year, int, int]:
        """Business position of a local instant: (year table, business-day rank, wall-clock µs into it)."""
        table, rank, business = self._locate(local.toordinal(), local.year)
        # Off business days, business time is frozen at 00:00 of the next business day.
        return table, rank, _wall_us(local) if business else 0

    def add_business_hours(self, start: datetime, hours: int | float | timedelta) -> datetime:
        """The instant when `hours` business hours have elapsed since `start` (see the class docstring).

        Constant work per call (plus one step per calendar year crossed): whole business days are skipped
        through per-year tables, never looped over.
        """
        _require_aware("start", start)
        duration = _duration_us(hours)
        local = start.astimezone(self.tz)
        table, rank, business = self._locate(local.toordinal(), local.year)
        if not business:
            offset = 0  # counting starts at 00:00 of the next business day (also for zero hours)
        elif duration == 0:
            return start.astimezone(UTC)  # that very instant (even a second DST-fold occurrence)
        else:
            offset = _wall_us(local)
        whole_days, rest = divmod(offset + duration, _US_PER_DAY)
        day = self._roll(table, rank + whole_days)
        hour, rest = divmod(rest, _US_PER_HOUR)
        minute, rest = divmod(rest, _US_PER_MINUTE)
        second, microsecond = divmod(rest, _US_PER_SECOND)
        wall = datetime(day.year, day.month, day.day, hour, minute, second, microsecond, tzinfo=self.tz)
        return wall.astimezone(UTC)

    def add_business_days(self, start: datetime, days: int) -> datetime:
        """`days` jours ouvrés = `days` x 24 business hours after `start`."""
        _require_count(days)
        return self.add_business_hours(start, 24 * days)

    def business_hours_between(self, start: datetime, end: datetime) -> timedelta:
        """Business time elapsed in [start, end); zero when end <= start."""
        _require_aware("start", start)
        _require_aware("end", end)
        if end <= start:
            return _ZERO
        first_table, first_rank, first_offset = self._position(start.astimezone(self.tz))
        last_table, last_rank, last_offset = self._position(end.astimezone(self.tz))
        days = last_rank - first_rank
        year = first_table.year
        while year < last_table.year:  # whole years in between: one step each
            days += len(self._year(year).business_ordinals)
            year += 1
        elapsed = days * _US_PER_DAY - first_offset + last_offset
        # Only a DST fold inside a business day could make the wall-clock difference dip below zero.
        return timedelta(microseconds=max(elapsed, 0))

    def add_calendar_days(self, start: datetime, days: int) -> datetime:
        """Plain calendar days on the local wall clock (same local time `days` later), e.g. "J+15 after shipment"."""
        _require_aware("start", start)
        _require_count(days)
        if days == 0:
            return start.astimezone(UTC)
        local = start.astimezone(self.tz)
        # Same wall-clock time `days` later; an ambiguous (DST fall-back) result takes its first occurrence.
        return (local + timedelta(days=days)).replace(fold=0).astimezone(UTC)


@functools.cache
def default_calendar() -> BusinessCalendar:
    """The shared FR / Europe/Paris calendar (its per-year holiday tables are cached on the instance)."""
    return BusinessCalendar()
