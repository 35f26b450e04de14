"""Reads of the working-day calendar. The calendar is public: no actor, no scoping."""

from __future__ import annotations

import datetime as dt
import uuid

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from sanji.calendar.models import CalendarDay, CalendarYear, DayKind
from sanji.calendar.workdays import WorkCalendar, add_workdays, count_workdays
from sanji.core import prepared
from sanji.core.configcache import Fingerprinted
from sanji.core.errors import NotFound

# One WorkCalendar per process, tagged with the revisions it was built from (sanji.core.configcache).
#
# Every write replaces the written year's ``revision`` UUID, so the tuple of (year, revision) pairs
# changes whenever the calendar does, in this process or any other. UUIDs rather than
# max(updated_at) or a max+1 counter, because a frozen test clock repeats timestamps and two
# concurrent writers could compute the same counter.
_Fingerprint = tuple[tuple[int, uuid.UUID | str], ...]


def _fingerprint() -> _Fingerprint:
    # A plain query: no ORM compilation for a few short rows. The revisions are compared as the
    # database gives them back (text on SQLite, UUID on PostgreSQL).
    table = CalendarYear._meta.db_table
    rows = prepared.query(f"SELECT year, revision FROM {table} ORDER BY year")  # noqa: S608
    return tuple((int(year), revision) for year, revision in rows)


def _build(_revisions: object) -> WorkCalendar:
    years = frozenset(CalendarYear.objects.values_list("year", flat=True))
    holidays: set[dt.date] = set()
    makeup: set[dt.date] = set()
    for date, kind in CalendarDay.objects.values_list("date", "kind"):
        # A year written between the two queries is left out whole; the next check's fingerprint
        # differs and rebuilds, so the calendar never holds a year's days without the year.
        if date.year in years:
            (holidays if kind == DayKind.HOLIDAY else makeup).add(date)
    return WorkCalendar(years=years, holidays=frozenset(holidays), makeup_workdays=frozenset(makeup))


_calendar: Fingerprinted[WorkCalendar] = Fingerprinted(_fingerprint, _build)


def work_calendar() -> WorkCalendar:
    """The calendar as the database holds it (rebuilt only when a year changed; a change another
    process commits counts here within ``SANJI_CONFIG_RECHECK_SECONDS``)."""
    return _calendar.get()


def calendar_written() -> None:
    """The calendar services changed a year in this process: see it at once."""
    _calendar.written()


def calendar_year_list() -> QuerySet[CalendarYear]:
    """Configured years, oldest first, with ``holiday_count`` and ``workday_count`` annotated."""
    return CalendarYear.objects.annotate(
        holiday_count=Count("days", filter=Q(days__kind=DayKind.HOLIDAY)),
        workday_count=Count("days", filter=Q(days__kind=DayKind.WORKDAY)),
    ).order_by("year")


def calendar_year_get(year: int) -> CalendarYear:
    """One configured year, counts annotated as in the list, its days prefetched by date.

    :class:`NotFound` (``details={"year": 2027}``) when the year has not been entered.
    """
    row = (
        calendar_year_list()
        .filter(year=year)
        .prefetch_related(Prefetch("days", queryset=CalendarDay.objects.order_by("date")))
        .first()
    )
    if row is None:
        raise _not_configured(year)
    return row


def calendar_days_for(year: int) -> list[CalendarDay]:
    """The holidays and make-up working days of ``year`` by date; NotFound if not configured."""
    if not CalendarYear.objects.filter(year=year).exists():
        raise _not_configured(year)
    return list(CalendarDay.objects.filter(calendar_year__year=year).order_by("date"))


def _not_configured(year: int) -> NotFound:
    return NotFound(_("%(year)s 年的工作日历尚未配置。") % {"year": year}, details={"year": year})


def workdays_add(*, start: dt.date, n: int) -> dt.date:
    """The last day of a period of ``n`` working days counted from the day after ``start``.

    Raises :class:`~sanji.calendar.workdays.CalendarNotConfigured` for a year not entered yet.
    """
    return add_workdays(work_calendar(), start, n)


def workdays_count(*, start: dt.date, end: dt.date) -> int:
    """Working days strictly after ``start`` up to and including ``end`` (0 when ``end <= start``)."""
    return count_workdays(work_calendar(), start, end)
