"""Unit tests of the business calendar (comptoir.core.calendar): pure, no database, no Django."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from comptoir.core import calendar as calendar_module
from comptoir.core.calendar import BusinessCalendar, default_calendar

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
CAL = BusinessCalendar()  # FR, Europe/Paris
MOSELLE = BusinessCalendar(subdiv="57")

# No example database: nothing is replayed between runs, the properties stay pure and repeatable.
PROPERTY = settings(
    max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.filter_too_much]
)


def paris(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=PARIS)


def in_paris(value: datetime) -> datetime:
    return value.astimezone(PARIS)


# -- the two examples of the design doc ------------------------------------------------------------------


def test_48_business_hours_from_friday_15h_end_tuesday_15h() -> None:
    # given a Friday afternoon with no holiday around
    start = paris(2026, 6, 5, 15)
    # when 48 business hours are added
    end = CAL.add_business_hours(start, 48)
    # then the weekend is skipped and the deadline is Tuesday 15:00 Paris time
    assert end == paris(2026, 6, 9, 15)


def test_5_business_days_from_friday_10_july_2026_end_monday_20_july_skipping_14_july() -> None:
    start = paris(2026, 7, 10, 16)
    end = CAL.add_business_days(start, 5)
    # Mon 13, (Tue 14 is a holiday), Wed 15, Thu 16, Fri 17, Mon 20
    assert end == paris(2026, 7, 20, 16)


# -- output and input contract ----------------------------------------------------------------------------


def test_results_are_aware_utc_datetimes() -> None:
    end = CAL.add_business_hours(paris(2026, 6, 5, 15), 1)
    assert end.tzinfo is UTC
    assert CAL.add_business_days(paris(2026, 6, 5, 15), 1).tzinfo is UTC
    assert CAL.add_calendar_days(paris(2026, 6, 5, 15), 1).tzinfo is UTC
    assert end == datetime(2026, 6, 5, 14, tzinfo=UTC)


def test_start_in_any_time_zone_means_the_same_instant() -> None:
    # given the same instant expressed in Paris, UTC and New York time
    in_paris_time = paris(2026, 6, 5, 15)
    in_utc = in_paris_time.astimezone(UTC)
    in_new_york = in_paris_time.astimezone(NEW_YORK)
    fixed = in_paris_time.astimezone(timezone(timedelta(hours=-3)))
    # then every entry point gives the same answer
    results = {CAL.add_business_hours(start, 30) for start in (in_paris_time, in_utc, in_new_york, fixed)}
    assert results == {paris(2026, 6, 8, 21)}


def test_naive_datetimes_are_rejected() -> None:
    naive = datetime(2026, 6, 5, 15)
    aware = paris(2026, 6, 5, 15)
    with pytest.raises(ValueError, match="timezone-aware"):
        CAL.add_business_hours(naive, 1)
    with pytest.raises(ValueError, match="timezone-aware"):
        CAL.add_business_days(naive, 1)
    with pytest.raises(ValueError, match="timezone-aware"):
        CAL.add_calendar_days(naive, 1)
    with pytest.raises(ValueError, match="timezone-aware"):
        CAL.business_hours_between(naive, aware)
    with pytest.raises(ValueError, match="timezone-aware"):
        CAL.business_hours_between(aware, naive)


@pytest.mark.parametrize("hours", [-1, -0.5, timedelta(microseconds=-1)])
def test_negative_business_hours_are_rejected(hours: int | float | timedelta) -> None:
    with pytest.raises(ValueError, match="negative"):
        CAL.add_business_hours(paris(2026, 6, 5, 15), hours)


def test_negative_day_counts_are_rejected() -> None:
    with pytest.raises(ValueError, match="negative"):
        CAL.add_business_days(paris(2026, 6, 5, 15), -1)
    with pytest.raises(ValueError, match="negative"):
        CAL.add_calendar_days(paris(2026, 6, 5, 15), -1)


def test_non_finite_or_non_numeric_hours_are_rejected() -> None:
    with pytest.raises(ValueError):
        CAL.add_business_hours(paris(2026, 6, 5, 15), float("nan"))
    with pytest.raises(ValueError):
        CAL.add_business_hours(paris(2026, 6, 5, 15), float("inf"))
    with pytest.raises(TypeError):
        CAL.add_business_hours(paris(2026, 6, 5, 15), "2")  # type: ignore[arg-type]


def test_is_business_day_refuses_a_datetime_whose_day_depends_on_the_time_zone() -> None:
    with pytest.raises(TypeError):
        CAL.is_business_day(paris(2026, 6, 5, 15))


def test_hours_may_be_a_float_or_a_timedelta() -> None:
    start = paris(2026, 6, 5, 15)
    assert CAL.add_business_hours(start, 1.5) == paris(2026, 6, 5, 16, 30)
    assert CAL.add_business_hours(start, timedelta(minutes=90)) == paris(2026, 6, 5, 16, 30)
    assert CAL.add_business_hours(start, timedelta(hours=48)) == CAL.add_business_hours(start, 48)


def test_add_business_days_is_24_business_hours_per_day() -> None:
    start = paris(2026, 12, 23, 9, 30)
    for days in range(0, 15):
        assert CAL.add_business_days(start, days) == CAL.add_business_hours(start, 24 * days)


# -- zero hours, weekend and holiday starts, day boundaries ---------------------------------------------


def test_zero_hours_from_a_business_day_instant_returns_that_instant() -> None:
    start = paris(2026, 6, 5, 15, 42)
    assert CAL.add_business_hours(start, 0) == start
    assert CAL.add_business_days(start, 0) == start


def test_zero_hours_from_a_saturday_returns_monday_midnight_paris() -> None:
    assert CAL.add_business_hours(paris(2026, 6, 6, 10), 0) == paris(2026, 6, 8)


def test_zero_hours_from_a_holiday_returns_midnight_of_the_next_business_day() -> None:
    # 14 July 2026 is a Tuesday
    assert CAL.add_business_hours(paris(2026, 7, 14, 10), 0) == paris(2026, 7, 15)


def test_counting_from_a_saturday_starts_monday_at_midnight() -> None:
    # given Saturday 10:00; when 24 business hours are added; then Monday is consumed entirely
    assert CAL.add_business_hours(paris(2026, 6, 6, 10), 24) == paris(2026, 6, 9)
    assert CAL.add_business_hours(paris(2026, 6, 6, 10), 5) == paris(2026, 6, 8, 5)


def test_counting_from_a_holiday_starts_at_midnight_of_the_next_business_day() -> None:
    assert CAL.add_business_hours(paris(2026, 7, 14, 9), 5) == paris(2026, 7, 15, 5)


def test_saturday_and_sunday_starts_give_the_same_deadline() -> None:
    saturday = CAL.add_business_days(paris(2026, 6, 6, 8), 2)
    sunday = CAL.add_business_days(paris(2026, 6, 7, 23, 59), 2)
    assert saturday == sunday == paris(2026, 6, 10)


def test_a_sum_ending_exactly_at_the_end_of_a_friday_is_monday_midnight() -> None:
    # The end of Friday and 00:00 Monday are the same business position; the calendar returns the
    # canonical one, always on a business day.
    assert CAL.add_business_hours(paris(2026, 6, 5), 24) == paris(2026, 6, 8)
    assert CAL.add_business_hours(paris(2026, 6, 5, 12), 12) == paris(2026, 6, 8)
    assert CAL.business_hours_between(paris(2026, 6, 5), paris(2026, 6, 6)) == timedelta(hours=24)
    assert CAL.business_hours_between(paris(2026, 6, 5), paris(2026, 6, 8)) == timedelta(hours=24)


def test_hours_within_the_same_business_day_are_plain_hours() -> None:
    assert CAL.add_business_hours(paris(2026, 6, 3, 8), 10) == paris(2026, 6, 3, 18)


# -- holidays --------------------------------------------------------------------------------------------


def test_christmas_and_the_weekend_are_skipped() -> None:
    # Thu 24 Dec 2026; Fri 25 is Christmas; then the weekend
    assert not CAL.is_business_day(date(2026, 12, 25))
    assert CAL.add_business_days(paris(2026, 12, 24, 10), 1) == paris(2026, 12, 28, 10)


def test_new_years_day_is_skipped_across_the_year_boundary() -> None:
    assert not CAL.is_business_day(date(2026, 1, 1))
    assert CAL.add_business_days(paris(2025, 12, 31, 9), 1) == paris(2026, 1, 2, 9)
    assert CAL.add_business_days(paris(2026, 12, 31, 9), 1) == paris(2027, 1, 4, 9)  # 1 Jan 2027 is a Friday


def test_easter_monday_is_skipped_but_good_friday_is_a_business_day_nationally() -> None:
    assert not CAL.is_business_day(date(2026, 4, 6))
    assert CAL.is_business_day(date(2026, 4, 3))
    assert CAL.add_business_days(paris(2026, 4, 3, 12), 1) == paris(2026, 4, 7, 12)


def test_ascension_thursday_is_skipped_and_the_bridge_friday_is_a_business_day() -> None:
    # Ascension 2026 is Thursday 14 May; "faire le pont" on Friday 15 is not a public holiday
    assert not CAL.is_business_day(date(2026, 5, 14))
    assert CAL.is_business_day(date(2026, 5, 15))
    assert CAL.next_business_day(date(2026, 5, 13)) == date(2026, 5, 15)
    assert CAL.add_business_days(paris(2026, 5, 13, 11), 1) == paris(2026, 5, 15, 11)
    assert CAL.add_business_days(paris(2026, 5, 13, 11), 2) == paris(2026, 5, 18, 11)


def test_whit_monday_is_a_holiday_per_the_holidays_package() -> None:
    # Lundi de Pentecôte (journée de solidarité) stays a public holiday in the `holidays` package,
    # so it holds no business time: Fri 22 May 2026 + 1 business day = Tue 26 May.
    assert date(2026, 5, 25) in holidays.country_holidays("FR", years=2026)
    assert not CAL.is_business_day(date(2026, 5, 25))
    assert CAL.add_business_days(paris(2026, 5, 22, 10), 1) == paris(2026, 5, 26, 10)


def test_whit_monday_was_a_business_day_from_2005_to_2007_per_the_holidays_package() -> None:
    # The package models its removal from the list of public holidays (2005-2007).
    assert CAL.is_business_day(date(2006, 6, 5))
    assert not CAL.is_business_day(date(2008, 5, 12))


def test_may_1_and_may_8_2026_both_fridays_are_skipped() -> None:
    assert not CAL.is_business_day(date(2026, 5, 1))
    assert not CAL.is_business_day(date(2026, 5, 8))
    # Thu 30 Apr -> (Fri 1 May) -> Mon 4 -> Tue 5
    assert CAL.add_business_days(paris(2026, 4, 30, 14), 2) == paris(2026, 5, 5, 14)
    # Thu 7 May -> (Fri 8 May) -> Mon 11
    assert CAL.add_business_days(paris(2026, 5, 7, 14), 1) == paris(2026, 5, 11, 14)


def test_bridge_days_after_may_holidays_are_business_days() -> None:
    # 2025: 1 May and 8 May are Thursdays; the Fridays after them are ordinary business days
    assert not CAL.is_business_day(date(2025, 5, 1))
    assert CAL.is_business_day(date(2025, 5, 2))
    assert not CAL.is_business_day(date(2025, 5, 8))
    assert CAL.is_business_day(date(2025, 5, 9))
    assert CAL.add_business_days(paris(2025, 4, 30, 9), 1) == paris(2025, 5, 2, 9)


def test_bastille_day_is_skipped_and_the_monday_before_is_a_business_day() -> None:
    assert CAL.is_business_day(date(2026, 7, 13))
    assert CAL.add_business_days(paris(2026, 7, 13, 8), 1) == paris(2026, 7, 15, 8)


def test_assumption_day_is_skipped() -> None:
    # 15 August 2025 is a Friday; in 2024 it is a Thursday and Friday 16 is a normal business day
    assert CAL.add_business_days(paris(2025, 8, 14, 10), 1) == paris(2025, 8, 18, 10)
    assert not CAL.is_business_day(date(2024, 8, 15))
    assert CAL.is_business_day(date(2024, 8, 16))


def test_all_saints_and_armistice_days_are_skipped() -> None:
    # 2024: 1 Nov is a Friday, 11 Nov a Monday
    assert CAL.add_business_days(paris(2024, 10, 31, 10), 1) == paris(2024, 11, 4, 10)
    assert CAL.add_business_days(paris(2024, 11, 8, 10), 1) == paris(2024, 11, 12, 10)
    # 2025: 11 Nov is a Tuesday and the Monday before is a business day
    assert CAL.is_business_day(date(2025, 11, 10))
    assert not CAL.is_business_day(date(2025, 11, 11))


def test_a_holiday_on_a_weekend_is_not_moved_to_a_weekday() -> None:
    # 15 August 2026 is a Saturday, 1 November 2026 a Sunday: France has no "observed" substitute day
    assert CAL.is_business_day(date(2026, 8, 14))
    assert CAL.is_business_day(date(2026, 8, 17))
    assert CAL.is_business_day(date(2026, 11, 2))


def test_the_eleven_french_public_holidays_of_2024_hold_no_business_time() -> None:
    french_2024 = holidays.country_holidays("FR", years=2024)
    assert len(french_2024) == 11
    assert all(not CAL.is_business_day(day) for day in french_2024)
    # business days of 2024: 262 weekdays minus the 10 holidays not on a weekend (14 July is a Sunday)
    days_2024 = (date(2024, 1, 1) + timedelta(days=n) for n in range(366))
    assert sum(1 for day in days_2024 if CAL.is_business_day(day)) == 262 - 10


# -- next_business_day -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 6, 3), date(2026, 6, 4)),  # Wednesday -> Thursday
        (date(2026, 6, 5), date(2026, 6, 8)),  # Friday -> Monday
        (date(2026, 6, 6), date(2026, 6, 8)),  # Saturday -> Monday
        (date(2026, 6, 7), date(2026, 6, 8)),  # Sunday -> Monday
        (date(2026, 7, 13), date(2026, 7, 15)),  # Monday -> Wednesday over 14 July
        (date(2026, 12, 24), date(2026, 12, 28)),  # over Christmas and a weekend
        (date(2026, 12, 31), date(2027, 1, 4)),  # over New Year (Friday) and a weekend
        (date(2027, 1, 1), date(2027, 1, 4)),  # from a holiday
    ],
)
def test_next_business_day_is_strictly_after(day: date, expected: date) -> None:
    assert CAL.next_business_day(day) == expected


# -- daylight saving time --------------------------------------------------------------------------------


def test_48_business_hours_across_the_march_dst_change_keep_the_paris_wall_clock() -> None:
    # DST starts Sunday 29 March 2026: Friday 15:00 CET -> Tuesday 15:00 CEST
    start = paris(2026, 3, 27, 15)
    end = CAL.add_business_hours(start, 48)
    assert end == paris(2026, 3, 31, 15)
    assert start == datetime(2026, 3, 27, 14, tzinfo=UTC)
    assert end == datetime(2026, 3, 31, 13, tzinfo=UTC)  # only 95 real hours later
    assert CAL.business_hours_between(start, end) == timedelta(hours=48)


def test_24_business_hours_across_the_october_dst_change_keep_the_paris_wall_clock() -> None:
    # DST ends Sunday 25 October 2026: Friday 15:00 CEST -> Monday 15:00 CET
    start = paris(2026, 10, 23, 15)
    end = CAL.add_business_hours(start, 24)
    assert end == datetime(2026, 10, 26, 14, tzinfo=UTC)
    assert in_paris(end).hour == 15
    assert end - start == timedelta(hours=73)  # 72 + the repeated hour


def test_an_instant_on_a_dst_change_sunday_starts_counting_monday_midnight_paris() -> None:
    # Sunday 29 March 2026 10:00 CEST -> Monday 00:00 CEST, i.e. Sunday 22:00 UTC
    assert CAL.add_business_hours(paris(2026, 3, 29, 10), 0) == datetime(2026, 3, 29, 22, tzinfo=UTC)
    # Sunday 25 October 2026, the second 02:30 (CET) -> Monday 00:00 CET, i.e. Sunday 23:00 UTC
    second_half_past_two = datetime(2026, 10, 25, 2, 30, tzinfo=PARIS, fold=1)
    # (PEP 495: an ambiguous fold=1 time never compares equal across zones, hence the explicit conversion)
    assert second_half_past_two.astimezone(UTC) == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    assert CAL.add_business_hours(second_half_past_two, 0) == datetime(2026, 10, 25, 23, tzinfo=UTC)
    assert CAL.add_business_hours(second_half_past_two, 1) == datetime(2026, 10, 26, 0, tzinfo=UTC)


def test_business_days_crossing_both_dst_changes_keep_the_wall_clock() -> None:
    # From Friday 9:00 in winter to a day in summer and back to winter: always 09:00 in Paris
    for start in (paris(2026, 3, 20, 9), paris(2026, 10, 16, 9)):
        for days in (1, 5, 10, 40, 200):
            assert in_paris(CAL.add_business_days(start, days)).time().hour == 9


# -- calendar days ---------------------------------------------------------------------------------------


def test_15_calendar_days_after_shipment_ignore_weekends_and_holidays() -> None:
    # Shipped Friday 10 July 2026 16:00 -> Saturday 25 July 16:00 (14 July and weekends count)
    assert CAL.add_calendar_days(paris(2026, 7, 10, 16), 15) == paris(2026, 7, 25, 16)


def test_calendar_days_keep_the_paris_wall_clock_across_dst() -> None:
    # Saturday 28 March 2026 12:00 CET + 1 day = Sunday 12:00 CEST: 23 real hours
    start = paris(2026, 3, 28, 12)
    end = CAL.add_calendar_days(start, 1)
    assert end == paris(2026, 3, 29, 12)
    assert end - start == timedelta(hours=23)
    assert CAL.add_calendar_days(start, 0) == start


# -- business_hours_between ------------------------------------------------------------------------------


def test_business_hours_between_is_zero_when_end_is_not_after_start() -> None:
    start = paris(2026, 6, 3, 10)
    assert CAL.business_hours_between(start, start) == timedelta(0)
    assert CAL.business_hours_between(start, start - timedelta(hours=5)) == timedelta(0)


def test_business_hours_between_friday_15h_and_tuesday_15h_is_48_hours() -> None:
    assert CAL.business_hours_between(paris(2026, 6, 5, 15), paris(2026, 6, 9, 15)) == timedelta(hours=48)


def test_no_business_time_elapses_over_a_weekend_or_a_holiday() -> None:
    assert CAL.business_hours_between(paris(2026, 6, 6, 1), paris(2026, 6, 7, 23)) == timedelta(0)
    assert CAL.business_hours_between(paris(2026, 7, 14, 1), paris(2026, 7, 14, 23)) == timedelta(0)
    assert CAL.business_hours_between(paris(2026, 6, 5, 23), paris(2026, 6, 8, 1)) == timedelta(hours=2)


def test_business_hours_between_spans_several_years() -> None:
    # 2024-01-01 (holiday) to 2027-01-01 (holiday): every business day of 2024, 2025 and 2026
    expected_days = sum(
        1
        for year in (2024, 2025, 2026)
        for ordinal in range(date(year, 1, 1).toordinal(), date(year + 1, 1, 1).toordinal())
        if CAL.is_business_day(date.fromordinal(ordinal))
    )
    elapsed = CAL.business_hours_between(paris(2024, 1, 1), paris(2027, 1, 1))
    assert elapsed == timedelta(hours=24 * expected_days)
    assert 750 < expected_days < 770


# -- subdivisions ----------------------------------------------------------------------------------------


def test_moselle_has_good_friday_and_saint_stephens_day_as_holidays() -> None:
    # In 2025, Good Friday is 18 April and 26 December is a Friday
    assert not MOSELLE.is_business_day(date(2025, 4, 18))
    assert not MOSELLE.is_business_day(date(2025, 12, 26))
    assert CAL.is_business_day(date(2025, 4, 18))
    assert CAL.is_business_day(date(2025, 12, 26))
    # Thu 17 Apr -> (Good Fri 18, weekend, Easter Mon 21) -> Tue 22
    assert MOSELLE.add_business_days(paris(2025, 4, 17, 10), 1) == paris(2025, 4, 22, 10)
    assert CAL.add_business_days(paris(2025, 4, 17, 10), 1) == paris(2025, 4, 18, 10)


def test_moselle_also_keeps_the_national_holidays() -> None:
    assert not MOSELLE.is_business_day(date(2026, 7, 14))
    assert not MOSELLE.is_business_day(date(2026, 5, 25))


def test_alsace_subdivision_and_name_aliases_are_accepted() -> None:
    assert not BusinessCalendar(subdiv="6AE").is_business_day(date(2025, 12, 26))
    assert not BusinessCalendar(subdiv="Moselle").is_business_day(date(2025, 4, 18))


def test_unknown_subdivision_fails_at_construction() -> None:
    with pytest.raises(NotImplementedError):
        BusinessCalendar(subdiv="99")


# -- caching ---------------------------------------------------------------------------------------------


def test_default_calendar_is_one_shared_french_paris_calendar() -> None:
    first = default_calendar()
    assert first is default_calendar()
    assert (first.country, first.subdiv, first.tz.key) == ("FR", None, "Europe/Paris")


def test_holidays_are_looked_up_once_per_year(monkeypatch: pytest.MonkeyPatch) -> None:
    # given a spy on the holidays package
    real = holidays.country_holidays
    lookups: list[object] = []

    def spy(*args: object, **kwargs: object) -> holidays.HolidayBase:
        lookups.append(kwargs.get("years"))
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(calendar_module.holidays, "country_holidays", spy)
    cal = BusinessCalendar()
    # when thousands of computations hit 2026 and 2027
    for hour in range(0, 24 * 300, 7):
        cal.add_business_days(paris(2026, 6, 1) + timedelta(hours=hour), 5)
        cal.is_business_day(date(2026, 1, 1) + timedelta(days=hour % 365))
    # then each year was looked up once (plus the validation call at construction)
    assert sorted(year for year in lookups if year is not None) == [2026, 2027]


# -- properties ------------------------------------------------------------------------------------------

INSTANTS = st.datetimes(
    min_value=datetime(2024, 1, 1),
    max_value=datetime(2030, 12, 31, 23, 59, 59),
    timezones=st.sampled_from([PARIS, UTC, NEW_YORK]),
    allow_imaginary=False,
)


@PROPERTY
@given(start=INSTANTS, hours=st.integers(min_value=0, max_value=500))
def test_business_hours_between_undoes_add_business_hours_from_a_business_day(
    start: datetime, hours: int
) -> None:
    assume(CAL.is_business_day(in_paris(start).date()))
    end = CAL.add_business_hours(start, hours)
    assert CAL.business_hours_between(start, end) == timedelta(hours=hours)


@PROPERTY
@given(start=INSTANTS, minutes=st.integers(min_value=0, max_value=500 * 60))
def test_business_hours_between_undoes_add_business_hours_at_minute_precision(
    start: datetime, minutes: int
) -> None:
    assume(CAL.is_business_day(in_paris(start).date()))
    end = CAL.add_business_hours(start, timedelta(minutes=minutes))
    assert CAL.business_hours_between(start, end) == timedelta(minutes=minutes)


@PROPERTY
@given(
    start=INSTANTS,
    first=st.integers(min_value=0, max_value=300),
    second=st.integers(min_value=0, max_value=300),
)
def test_adding_hours_in_two_steps_equals_adding_them_at_once(
    start: datetime, first: int, second: int
) -> None:
    in_two_steps = CAL.add_business_hours(CAL.add_business_hours(start, first), second)
    assert in_two_steps == CAL.add_business_hours(start, first + second)


@PROPERTY
@given(
    start=INSTANTS,
    hours=st.integers(min_value=0, max_value=500),
    more=st.integers(min_value=1, max_value=100),
)
def test_more_business_hours_never_end_earlier(start: datetime, hours: int, more: int) -> None:
    shorter = CAL.add_business_hours(start, hours)
    longer = CAL.add_business_hours(start, hours + more)
    assert start.astimezone(UTC) <= shorter < longer
    assert CAL.is_business_day(in_paris(longer).date())


@PROPERTY
@given(start=INSTANTS, days=st.integers(min_value=0, max_value=60))
def test_add_business_days_lands_on_a_business_day_at_the_same_paris_wall_time(
    start: datetime, days: int
) -> None:
    assume(CAL.is_business_day(in_paris(start).date()))
    end = in_paris(CAL.add_business_days(start, days))
    assert CAL.is_business_day(end.date())
    assert end.time() == in_paris(start).time()
    business_days_strictly_between = sum(
        1
        for ordinal in range(in_paris(start).date().toordinal() + 1, end.date().toordinal())
        if CAL.is_business_day(date.fromordinal(ordinal))
    )
    assert business_days_strictly_between == max(days - 1, 0)
