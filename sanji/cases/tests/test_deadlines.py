"""Case deadlines, table-driven, on the calendar the ``chinesecalendar`` package publishes (2004–2026).

Spring Festival 2026: holidays 02-15 … 02-23; Saturdays 02-14 and 02-28 are make-up working days.
2027 is not configured, so a period that runs into it must say so instead of guessing.
"""

from __future__ import annotations

import datetime as dt

import chinese_calendar
import pytest

from sanji.calendar.workdays import WorkCalendar
from sanji.cases.deadlines import CaseClock, Pause, StepClock, compute
from sanji.core.clock import CITY_TZ

CAL = WorkCalendar(
    years=frozenset(range(2004, 2027)),
    holidays=frozenset(chinese_calendar.holidays),
    makeup_workdays=frozenset(chinese_calendar.workdays),
)


def at(day: str, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), tzinfo=CITY_TZ)


def day_of(instant: dt.datetime | None) -> str | None:
    if instant is None:
        return None
    local = instant.astimezone(CITY_TZ)
    assert local.time() == dt.time.max  # a deadline is the end of its last working day
    return local.date().isoformat()


@pytest.mark.parametrize(
    ("label", "clock", "today", "expected"),
    [
        (
            "acceptance across the Spring Festival (make-up Saturday counts, the block is skipped)",
            CaseClock(received_at=at("2026-02-10")),
            "2026-02-10",
            {"acceptance": "2026-02-24", "promised": None, "legal": None, "remaining": 5},
        ),
        (
            "20 legal / 10 promised from an acceptance just before the festival",
            CaseClock(
                received_at=at("2026-02-13"),
                accepted_at=at("2026-02-13"),
                promised_limit_days=10,
                legal_limit_days=20,
            ),
            "2026-03-02",
            {"acceptance": "2026-02-27", "promised": "2026-03-05", "legal": "2026-03-19", "remaining": 3},
        ),
        (
            "the day of acceptance is not counted even when accepted late in the day",
            CaseClock(
                received_at=at("2026-03-02", 17), accepted_at=at("2026-03-02", 17), promised_limit_days=1
            ),
            "2026-03-02",
            {"acceptance": "2026-03-09", "promised": "2026-03-03", "legal": "2026-03-30", "remaining": 1},
        ),
        (
            "statutory default 20 when the catalogue gives no legal limit",
            CaseClock(received_at=at("2026-02-13"), accepted_at=at("2026-02-13")),
            "2026-02-13",
            {"legal": "2026-03-19", "promised": "2026-03-19"},
        ),
        (
            "joint default 45",
            CaseClock(received_at=at("2026-03-02"), accepted_at=at("2026-03-02"), joint=True),
            "2026-03-02",
            {"legal": "2026-05-08"},  # 21 in March, 21 in April (Qingming off), 3 after May Day,
        ),
        (
            "extension +10 moves legal and promised",
            CaseClock(
                received_at=at("2026-02-13"),
                accepted_at=at("2026-02-13"),
                promised_limit_days=10,
                legal_limit_days=20,
                extension_days=10,
            ),
            "2026-02-13",
            {"legal": "2026-04-02", "promised": "2026-03-19"},
        ),
        (
            "a closed special procedure adds its working days (03-03, 03-04)",
            CaseClock(
                received_at=at("2026-02-13"),
                accepted_at=at("2026-02-13"),
                legal_limit_days=20,
                promised_limit_days=10,
                pauses=(Pause(at("2026-03-02"), at("2026-03-04"), "special"),),
            ),
            "2026-03-05",
            {"legal": "2026-03-23", "promised": "2026-03-09", "remaining": 2},
        ),
        (
            "an open pause counts up to today: the remaining days stand still",
            CaseClock(
                received_at=at("2026-02-13"),
                accepted_at=at("2026-02-13"),
                promised_limit_days=10,
                pauses=(Pause(at("2026-03-02"), None, "special"),),
            ),
            "2026-03-04",
            {"promised": "2026-03-09", "remaining": 3},
        ),
        (
            "a correction before acceptance moves the acceptance deadline, not the decision deadline",
            CaseClock(
                received_at=at("2026-03-02"),
                accepted_at=at("2026-03-10"),
                promised_limit_days=5,
                pauses=(Pause(at("2026-03-03"), at("2026-03-09"), "correction"),),
            ),
            "2026-03-10",
            {"acceptance": "2026-03-13", "promised": "2026-03-17", "remaining": 5},
        ),
        (
            "an immediate matter is due the same day",
            CaseClock(
                received_at=at("2026-03-02"),
                accepted_at=at("2026-03-02"),
                promised_limit_days=0,
                legal_limit_days=0,
            ),
            "2026-03-02",
            {"promised": "2026-03-02", "remaining": 0},
        ),
        (
            "overdue: negative remaining days",
            CaseClock(received_at=at("2026-02-13"), accepted_at=at("2026-02-13"), promised_limit_days=10),
            "2026-03-09",
            {"promised": "2026-03-05", "remaining": -2},
        ),
        (
            "the step deadline from the stage's start",
            CaseClock(
                received_at=at("2026-02-13"),
                accepted_at=at("2026-02-13"),
                step=StepClock(started_at=at("2026-02-13", 15), limit_days=3),
            ),
            "2026-02-13",
            {"step": "2026-02-25"},
        ),
        (
            "after the decision: delivery within 10 working days, counted down",
            CaseClock(
                received_at=at("2026-03-02"),
                accepted_at=at("2026-03-02"),
                decided_at=at("2026-03-06"),
                promised_limit_days=5,
            ),
            "2026-03-06",
            {"delivery": "2026-03-20", "remaining": 10},
        ),
        (
            "a closed case has no remaining days",
            CaseClock(received_at=at("2026-03-02"), accepted_at=at("2026-03-02"), closed=True),
            "2026-03-02",
            {"remaining": None},
        ),
    ],
)
def test_deadlines(label: str, clock: CaseClock, today: str, expected: dict[str, object]) -> None:
    result = compute(CAL, clock, today=dt.date.fromisoformat(today))
    got = {
        "acceptance": day_of(result.acceptance_due),
        "promised": day_of(result.promised_due),
        "legal": day_of(result.legal_due),
        "step": day_of(result.step_due),
        "delivery": day_of(result.delivery_due),
        "remaining": result.remaining_days,
    }
    assert {k: got[k] for k in expected} == expected, label
    assert result.calendar_problem == ""


def test_into_an_unconfigured_year_says_so_and_keeps_what_it_can() -> None:
    clock = CaseClock(
        received_at=at("2026-12-15"), accepted_at=at("2026-12-15"), promised_limit_days=5, legal_limit_days=20
    )
    result = compute(CAL, clock, today=dt.date(2026, 12, 15))
    assert day_of(result.acceptance_due) == "2026-12-22"
    assert day_of(result.promised_due) == "2026-12-22"
    assert result.legal_due is None  # 12 working days left in 2026, then 2027 is unknown
    assert result.calendar_problem == "calendar for 2027 not configured"
    assert result.remaining_days == 5


def test_a_closed_case_warns_of_no_unconfigured_year() -> None:
    """Completed (or refused, withdrawn, voided): its deadlines no longer run, so its pages carry no
    'calendar not configured' banner, though the legal deadline it could not reach stays unknown."""
    clock = CaseClock(
        received_at=at("2026-12-15"),
        accepted_at=at("2026-12-15"),
        decided_at=at("2026-12-16"),
        closed=True,
        promised_limit_days=5,
        legal_limit_days=20,
    )
    result = compute(CAL, clock, today=dt.date(2026, 12, 17))
    assert result.legal_due is None
    assert result.problems == ("calendar for 2027 not configured",)
    assert (result.calendar_problem, result.remaining_days) == ("", None)


def test_today_in_an_unconfigured_year() -> None:
    clock = CaseClock(received_at=at("2026-12-28"), accepted_at=at("2026-12-28"), promised_limit_days=2)
    result = compute(CAL, clock, today=dt.date(2027, 1, 4))
    assert day_of(result.promised_due) == "2026-12-30"
    assert result.remaining_days is None
    assert "2027" in result.calendar_problem


def test_entirely_unconfigured() -> None:
    result = compute(
        CAL, CaseClock(received_at=at("2026-03-02").replace(year=2030)), today=dt.date(2030, 3, 2)
    )
    assert result.acceptance_due is None
    assert result.calendar_problem == "calendar for 2030 not configured"
