"""The month grids of the year page (pure)."""

from __future__ import annotations

import datetime as dt

from sanji.calendar.grid import year_grid

D = dt.date.fromisoformat


def test_twelve_monday_first_months_with_marks() -> None:
    months = year_grid(2026, {D("2026-02-16"): ("holiday", "春节"), D("2026-02-14"): ("workday", "春节")})

    assert [m.first for m in months] == [dt.date(2026, m, 1) for m in range(1, 13)]
    february = months[1]
    assert all(len(week) == 7 for week in february.weeks)
    # 2026-02-01 is a Sunday: the first week is six padding slots and the Sunday.
    assert february.weeks[0][:6] == (None,) * 6
    assert february.weeks[0][6] is not None
    assert february.weeks[0][6].date == D("2026-02-01")
    cells = {c.date: c for week in february.weeks for c in week if c}
    assert len(cells) == 28
    assert (cells[D("2026-02-16")].mark, cells[D("2026-02-16")].name) == ("holiday", "春节")
    assert cells[D("2026-02-14")].mark == "workday"
    assert cells[D("2026-02-15")].mark == "weekend"
    assert cells[D("2026-02-17")].mark == "weekday"
    # 20 weekdays, one holiday on a Monday, one worked Saturday.
    assert february.working_days == 20 - 1 + 1


def test_a_holiday_on_a_weekend_stays_a_holiday() -> None:
    months = year_grid(2027, {D("2027-01-02"): ("holiday", "元旦")})
    cells = {c.date: c for week in months[0].weeks for c in week if c}
    assert cells[D("2027-01-02")].mark == "holiday"
    assert not cells[D("2027-01-02")].works
