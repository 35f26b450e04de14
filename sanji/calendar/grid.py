"""A year laid out as twelve month grids (Monday first), each day marked as the calendar treats it.

Pure: it takes the year's exceptions (holidays and make-up working days) as a mapping and knows
nothing of the database, so the year page stays a plain loop over weeks and cells.
"""

from __future__ import annotations

import calendar as stdlib_calendar
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

_SATURDAY = 5

#: How a day is marked: a statutory holiday, a make-up working day (调休上班日), an ordinary
#: weekend day, or an ordinary working day.
HOLIDAY = "holiday"
MAKEUP = "workday"
WEEKEND = "weekend"
WEEKDAY = "weekday"


@dataclass(frozen=True, slots=True)
class Cell:
    date: dt.date
    mark: str
    name: str = ""

    @property
    def works(self) -> bool:
        return self.mark in (WEEKDAY, MAKEUP)


@dataclass(frozen=True, slots=True)
class Month:
    first: dt.date
    # Each week has seven slots, Monday to Sunday; ``None`` pads days of the neighbouring months.
    weeks: tuple[tuple[Cell | None, ...], ...]
    working_days: int


def year_grid(year: int, exceptions: Mapping[dt.date, tuple[str, str]]) -> list[Month]:
    """The twelve months of ``year``. ``exceptions`` maps a date to ``(kind, name)``.

    ``kind`` is ``"holiday"`` or ``"workday"`` (a make-up working day), as stored in ``CalendarDay``.
    """
    layout = stdlib_calendar.Calendar(firstweekday=0)
    months: list[Month] = []
    for month in range(1, 13):
        weeks: list[tuple[Cell | None, ...]] = []
        working = 0
        for week in layout.monthdatescalendar(year, month):
            cells: list[Cell | None] = []
            for day in week:
                if day.month != month:
                    cells.append(None)
                    continue
                kind, name = exceptions.get(day, ("", ""))
                if kind in (HOLIDAY, MAKEUP):
                    cell = Cell(day, kind, name)
                else:
                    cell = Cell(day, WEEKEND if day.weekday() >= _SATURDAY else WEEKDAY)
                working += cell.works
                cells.append(cell)
            weeks.append(tuple(cells))
        months.append(Month(first=dt.date(year, month, 1), weeks=tuple(weeks), working_days=working))
    return months
