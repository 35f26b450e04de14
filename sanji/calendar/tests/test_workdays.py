"""Working-day arithmetic, table-driven, on the calendar the ``chinesecalendar`` package publishes.

Expected dates were read off the package's own ``is_workday`` (and are cross-checked against it
below), not written from memory.
"""

from __future__ import annotations

import datetime as dt

import chinese_calendar
import pytest

from sanji.calendar.workdays import (
    CalendarNotConfigured,
    WorkCalendar,
    add_workdays,
    count_workdays,
    deadline,
    is_workday,
    remaining_workdays,
)
from sanji.core.clock import CITY_TZ
from sanji.core.errors import SanjiError

D = dt.date.fromisoformat
PACKAGE_YEARS = frozenset(range(2004, 2027))

# TEST FIXTURE, NOT OFFICIAL: chinesecalendar 1.11.0 stops at 2026 and the State Council's notice for
# 2027 was not available to check against. Plausible dates only, to exercise a year boundary.
FIXTURE_2027_HOLIDAYS = frozenset(
    {D("2027-01-01"), D("2027-01-02"), D("2027-01-03")}  # 元旦 Fri–Sun
    | {D("2027-02-05") + dt.timedelta(days=i) for i in range(9)}  # 春节 Fri 02-05 … Sat 02-13
)
FIXTURE_2027_WORKDAYS = frozenset({D("2027-02-14")})  # Sunday worked after the Spring Festival


def package_calendar(*, with_2027_fixture: bool = False) -> WorkCalendar:
    holidays = frozenset(chinese_calendar.holidays)
    workdays = frozenset(chinese_calendar.workdays)
    years = PACKAGE_YEARS
    if with_2027_fixture:
        holidays |= FIXTURE_2027_HOLIDAYS
        workdays |= FIXTURE_2027_WORKDAYS
        years |= {2027}
    return WorkCalendar(years=years, holidays=holidays, makeup_workdays=workdays)


CAL = package_calendar()
CAL_2027 = package_calendar(with_2027_fixture=True)


def test_package_covers_the_years_assumed_here() -> None:
    covered = {d.year for d in (*chinese_calendar.holidays, *chinese_calendar.workdays)}
    assert covered == PACKAGE_YEARS


@pytest.mark.parametrize(
    ("day", "works"),
    [
        ("2026-02-13", True),  # Friday before the Spring Festival
        ("2026-02-14", True),  # Saturday, make-up working day
        ("2026-02-15", False),  # Sunday, first day of the Spring Festival block
        ("2026-02-16", False),  # Monday, holiday
        ("2026-02-20", False),
        ("2026-02-23", False),  # Monday, last day of the block
        ("2026-02-24", True),
        ("2026-02-28", True),  # Saturday, make-up working day
        ("2026-03-01", False),  # ordinary Sunday
        ("2025-09-28", True),  # Sunday, make-up working day before National Day
        ("2025-10-01", False),
        ("2025-10-06", False),  # Mid-autumn, inside the National Day block
        ("2025-10-08", False),
        ("2025-10-09", True),
        ("2025-10-11", True),  # Saturday, make-up working day
        ("2025-10-12", False),
    ],
)
def test_is_workday(day: str, works: bool) -> None:
    assert is_workday(CAL, D(day)) is works


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        # Spring Festival 2026: holiday 02-15 … 02-23, Saturdays 02-14 and 02-28 worked.
        ("2026-02-13", 0, "2026-02-13"),  # n = 0 is the start itself
        ("2026-02-13", 1, "2026-02-14"),  # the make-up Saturday counts
        ("2026-02-13", 2, "2026-02-24"),  # the whole block is skipped
        ("2026-02-13", 5, "2026-02-27"),
        ("2026-02-13", 6, "2026-02-28"),
        ("2026-02-13", 20, "2026-03-19"),
        ("2026-02-14", 0, "2026-02-14"),  # start on a make-up Saturday
        ("2026-02-14", 1, "2026-02-24"),
        ("2026-02-16", 1, "2026-02-24"),  # start on a holiday
        ("2026-02-16", 20, "2026-03-20"),
        ("2026-02-28", 1, "2026-03-02"),
        ("2026-02-01", 30, "2026-03-19"),
        # National Day 2025: holiday 10-01 … 10-08, 09-28 (Sun) and 10-11 (Sat) worked.
        ("2025-09-26", 1, "2025-09-28"),
        ("2025-09-28", 1, "2025-09-29"),  # start on a make-up Sunday
        ("2025-09-30", 1, "2025-10-09"),
        ("2025-09-30", 3, "2025-10-11"),
        ("2025-10-03", 5, "2025-10-14"),  # start on a holiday
        ("2025-10-01", 20, "2025-11-04"),
        ("2024-12-31", 1, "2025-01-02"),  # across a configured year boundary and New Year's Day
    ],
)
def test_add_workdays(start: str, n: int, expected: str) -> None:
    assert add_workdays(CAL, D(start), n) == D(expected)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("2026-02-13", "2026-02-13", 0),
        ("2026-02-13", "2026-02-12", 0),
        ("2026-02-13", "2026-02-14", 1),
        ("2026-02-13", "2026-02-23", 1),
        ("2026-02-13", "2026-02-27", 5),
        ("2026-02-16", "2026-03-20", 20),
        ("2025-09-30", "2025-10-11", 3),
    ],
)
def test_count_workdays(start: str, end: str, expected: int) -> None:
    assert count_workdays(CAL, D(start), D(end)) == expected


@pytest.mark.parametrize(
    ("today", "due", "expected"),
    [
        ("2026-02-27", "2026-02-27", 0),  # due today
        ("2026-02-26", "2026-02-27", 1),
        ("2026-02-13", "2026-02-27", 5),
        ("2026-02-16", "2026-02-24", 1),  # today a holiday
        ("2026-03-02", "2026-02-28", -1),  # overdue by one working day (Sunday between)
        ("2026-03-03", "2026-02-27", -3),
        ("2026-03-01", "2026-02-28", 0),  # passed, but no working day yet: see the docstring
    ],
)
def test_remaining_workdays(today: str, due: str, expected: int) -> None:
    assert remaining_workdays(CAL, D(today), D(due)) == expected


def test_deadline_is_end_of_the_city_day() -> None:
    # 17:30 UTC on Thursday 02-12 is already Friday 02-13 in the city: that is the acceptance day.
    accepted = dt.datetime(2026, 2, 12, 17, 30, tzinfo=dt.UTC)
    assert deadline(CAL, accepted, 5) == dt.datetime(2026, 2, 27, 23, 59, 59, 999999, tzinfo=CITY_TZ)
    # Two working days of pauses push it two working days on (02-28 Sat worked, then Mon 03-02).
    assert deadline(CAL, accepted, 5, pauses=2) == dt.datetime(2026, 3, 2, 23, 59, 59, 999999, tzinfo=CITY_TZ)


def test_deadline_n_zero_is_end_of_acceptance_day() -> None:
    accepted = dt.datetime(2026, 2, 16, 9, 0, tzinfo=CITY_TZ)  # a holiday, still the acceptance day
    assert deadline(CAL, accepted, 0) == dt.datetime(2026, 2, 16, 23, 59, 59, 999999, tzinfo=CITY_TZ)


def test_deadline_refuses_naive_datetime() -> None:
    with pytest.raises(ValueError, match="aware"):
        deadline(CAL, dt.datetime(2026, 2, 13, 9, 0), 5)


def test_negative_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        add_workdays(CAL, D("2026-02-13"), -1)
    with pytest.raises(ValueError, match="negative"):
        deadline(CAL, dt.datetime(2026, 2, 13, tzinfo=CITY_TZ), 5, pauses=-1)


# --- unconfigured years -------------------------------------------------------------------------


def test_deadline_into_unconfigured_2027_says_so() -> None:
    accepted = dt.datetime(2026, 12, 25, 10, 0, tzinfo=CITY_TZ)
    with pytest.raises(CalendarNotConfigured) as caught:
        deadline(CAL, accepted, 5)
    error = caught.value
    assert isinstance(error, SanjiError)
    assert error.code == "calendar_not_configured"
    assert error.message == "2027 年的工作日历尚未配置。"  # the active language (zh-hans by default)
    assert error.details == {"year": 2027}
    assert error.condition == "calendar for 2027 not configured"  # one form, stored and printed
    assert error.year == 2027


def test_deadline_across_2026_2027_once_2027_is_configured() -> None:
    # Mon 12-28 … Thu 12-31 are working days 1–4; 01-01 … 01-03 (fixture 元旦) off; Mon 01-04 is the 5th.
    accepted = dt.datetime(2026, 12, 25, 10, 0, tzinfo=CITY_TZ)
    assert deadline(CAL_2027, accepted, 5) == dt.datetime(2027, 1, 4, 23, 59, 59, 999999, tzinfo=CITY_TZ)
    assert count_workdays(CAL_2027, D("2026-12-25"), D("2027-01-04")) == 5


def test_end_of_last_configured_year_still_answers_inside_it() -> None:
    assert add_workdays(CAL, D("2026-12-28"), 3) == D("2026-12-31")
    with pytest.raises(CalendarNotConfigured, match="2027"):
        add_workdays(CAL, D("2026-12-28"), 4)


@pytest.mark.parametrize(
    "call",
    [
        lambda: is_workday(CAL, D("2027-01-04")),
        lambda: is_workday(CAL, D("2003-12-31")),
        lambda: add_workdays(CAL, D("2027-01-04"), 0),  # even n = 0: the start day is in the period
        lambda: count_workdays(CAL, D("2026-12-01"), D("2027-01-05")),
        lambda: remaining_workdays(CAL, D("2027-01-05"), D("2026-12-31")),
    ],
)
def test_unconfigured_years_are_never_guessed(call: object) -> None:
    with pytest.raises(CalendarNotConfigured):
        call()  # type: ignore[operator]


def test_gap_year_in_the_middle_is_refused() -> None:
    # 2026 missing between two configured years: the search would jump over it without the check.
    cal = WorkCalendar(years=frozenset({2025, 2027}))
    with pytest.raises(CalendarNotConfigured) as caught:
        add_workdays(cal, D("2025-12-31"), 1)
    assert caught.value.year == 2026


def test_empty_calendar() -> None:
    with pytest.raises(CalendarNotConfigured, match="2026 年的工作日历尚未配置"):
        add_workdays(WorkCalendar(years=frozenset()), D("2026-02-13"), 5)


# --- construction -------------------------------------------------------------------------------


def test_calendar_refuses_a_date_both_holiday_and_workday() -> None:
    with pytest.raises(ValueError, match="both"):
        WorkCalendar(
            years=frozenset({2026}),
            holidays=frozenset({D("2026-02-14")}),
            makeup_workdays=frozenset({D("2026-02-14")}),
        )


def test_calendar_refuses_dates_outside_its_years() -> None:
    with pytest.raises(ValueError, match="outside"):
        WorkCalendar(years=frozenset({2026}), holidays=frozenset({D("2027-01-01")}))


# --- agreement with the package, and speed -------------------------------------------------------


def _reference_add(start: dt.date, n: int) -> dt.date:
    day = start
    while n:
        day += dt.timedelta(days=1)
        if chinese_calendar.is_workday(day):
            n -= 1
    return day


def test_is_workday_agrees_with_package_on_every_day() -> None:
    day = dt.date(2004, 1, 1)
    while day.year <= 2026:
        assert is_workday(CAL, day) is chinese_calendar.is_workday(day), day
        day += dt.timedelta(days=1)


@pytest.mark.parametrize("n", [1, 5, 10, 20, 45, 60])
def test_add_workdays_agrees_with_package_walk(n: int) -> None:
    day = dt.date(2024, 1, 1)
    while day <= dt.date(2026, 8, 31):
        assert add_workdays(CAL, day, n) == _reference_add(day, n), (day, n)
        assert count_workdays(CAL, day, add_workdays(CAL, day, n)) == n
        day += dt.timedelta(days=1)


def test_add_workdays_is_fast() -> None:
    import time

    start = time.perf_counter()
    for offset in range(10_000):
        add_workdays(CAL, dt.date(2025, 1, 1) + dt.timedelta(days=offset % 300), 60)
    # A bisect per call: 10 000 calls take a few milliseconds; a day-by-day walk would take ~100×.
    assert time.perf_counter() - start < 1.0
