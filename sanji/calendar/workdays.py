"""Working-day arithmetic for administrative time limits (pure; no database).

《行政许可法》 Art. 82 counts every period in working days, statutory holidays excluded. A working day
is a Monday–Friday that is not a statutory holiday (法定节假日), or a Saturday/Sunday that the State
Council's annual notice turns into a make-up working day (调休上班日). The day of acceptance is not
counted (《民法典》 Art. 201): a period of N working days ends at the end of the Nth working day after it.

Only years that have been configured from a notice are known. Anything that needs another year raises
:class:`CalendarNotConfigured`; nothing here ever falls back to "Monday–Friday", because a guessed
deadline is worse than a missing one.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from sanji.core.clock import CITY_TZ
from sanji.core.errors import SanjiError

_SATURDAY = 5


class CalendarNotConfigured(SanjiError):
    """A computation needs a year whose holiday arrangement has not been entered yet."""

    # The request is sound; the platform's own configuration is what is missing (as with a conflict).
    status = 409
    code = "calendar_not_configured"

    def __init__(self, year: int) -> None:
        super().__init__(_("%(year)s 年的工作日历尚未配置。") % {"year": year}, details={"year": year})
        self.year = year

    @property
    def condition(self) -> str:
        """The condition in one stable form, whatever the language: what a case stores as its
        ``calendar_problem`` (and the API answers), worded for each reader by the template filter
        ``calendar_problem_text``, and what ``sanji workdays`` prints."""
        return f"calendar for {self.year} not configured"


@dataclass(frozen=True, slots=True)
class WorkCalendar:
    """The known years, their statutory holidays and their make-up working days (调休).

    ``holidays`` may include the weekend days of a holiday period (the notice lists them as one
    block); they are non-working either way. ``makeup_workdays`` are the Saturdays/Sundays worked.
    """

    years: frozenset[int]
    holidays: frozenset[dt.date] = frozenset()
    makeup_workdays: frozenset[dt.date] = frozenset()
    # Ordinals of every working day of every configured year, ascending: counting N working days is
    # two binary searches instead of a day-by-day walk.
    _ordinals: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        both = self.holidays & self.makeup_workdays
        if both:
            raise ValueError(f"dates both holiday and make-up working day: {sorted(both)}")
        stray = {d for d in self.holidays | self.makeup_workdays if d.year not in self.years}
        if stray:
            raise ValueError(f"dates outside the configured years: {sorted(stray)}")
        ordinals: list[int] = []
        for year in sorted(self.years):
            first = dt.date(year, 1, 1).toordinal()
            last = dt.date(year, 12, 31).toordinal()
            ordinals.extend(o for o in range(first, last + 1) if self._works(dt.date.fromordinal(o)))
        object.__setattr__(self, "_ordinals", tuple(ordinals))

    def _works(self, day: dt.date) -> bool:
        if day in self.makeup_workdays:
            return True
        return day.weekday() < _SATURDAY and day not in self.holidays

    def require_years(self, first: int, last: int) -> None:
        """Raise :class:`CalendarNotConfigured` for the earliest year in ``first..last`` not known."""
        for year in range(first, last + 1):
            if year not in self.years:
                raise CalendarNotConfigured(year)


def is_workday(cal: WorkCalendar, day: dt.date) -> bool:
    """Is ``day`` a working day? Raises :class:`CalendarNotConfigured` for an unknown year."""
    cal.require_years(day.year, day.year)
    return cal._works(day)


def add_workdays(cal: WorkCalendar, start: dt.date, n: int) -> dt.date:
    """The Nth working day after ``start`` (``start`` itself not counted); ``n == 0`` gives ``start``.

    Every year from ``start``'s to the result's must be configured, else
    :class:`CalendarNotConfigured` names the first missing one.
    """
    if n < 0:
        raise ValueError("n must not be negative")
    cal.require_years(start.year, start.year)
    if n == 0:
        return start
    # Index of the first working day strictly after start, then step n - 1 further.
    index = bisect_right(cal._ordinals, start.toordinal()) + n - 1
    if index >= len(cal._ordinals):
        # Ran past the last configured working day: the first gap at or after start is to blame.
        missing = start.year
        while missing in cal.years:
            missing += 1
        raise CalendarNotConfigured(missing)
    result = dt.date.fromordinal(cal._ordinals[index])
    # A gap year between start and result has no ordinals, so the search skipped it; refuse that too.
    cal.require_years(start.year, result.year)
    return result


def count_workdays(cal: WorkCalendar, start: dt.date, end: dt.date) -> int:
    """Working days strictly after ``start`` up to and including ``end``; 0 when ``end <= start``.

    Every year from the earlier date's to the later one's must be configured.
    """
    cal.require_years(min(start, end).year, max(start, end).year)
    if end <= start:
        return 0
    return bisect_right(cal._ordinals, end.toordinal()) - bisect_right(cal._ordinals, start.toordinal())


def deadline(cal: WorkCalendar, start_instant: dt.datetime, n: int, *, pauses: int = 0) -> dt.datetime:
    """The last instant of a period of ``n`` working days that began at ``start_instant``.

    ``pauses`` is the number of working days the clock stood still (correction requests 补正,
    special procedures 特别程序); they extend the period one for one. The period counts from the
    city-local date of ``start_instant`` and ends at 23:59:59.999999 city time.
    """
    if start_instant.tzinfo is None:
        raise ValueError("deadline() needs an aware datetime")
    if pauses < 0:
        raise ValueError("pauses must not be negative")
    start = start_instant.astimezone(CITY_TZ).date()
    last_day = add_workdays(cal, start, n + pauses)
    return dt.datetime.combine(last_day, dt.time.max, tzinfo=CITY_TZ)


def remaining_workdays(cal: WorkCalendar, today: dt.date, due: dt.date) -> int:
    """Working days left until ``due`` (0 when due today); negative when overdue.

    Overdue by one working day gives -1. On a non-working day just after ``due`` (a Saturday after a
    Friday deadline) the answer is 0 although the deadline has passed: whether a deadline has passed
    is a comparison of instants (see :func:`deadline`), not of this count.
    """
    if today <= due:
        return count_workdays(cal, today, due)
    return -count_workdays(cal, due, today)
