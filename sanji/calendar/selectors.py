"""Reads of the working-day calendar. The calendar is public: no actor, no scoping."""

from __future__ import annotations

import datetime as dt
import uuid

from django.db.models import Count, Prefetch, Q, QuerySet

from sanji.calendar.models import CalendarDay, CalendarYear, DayKind
from sanji.calendar.workdays import WorkCalendar, add_workdays, count_workdays
from sanji.core import prepared
from sanji.core.errors import NotFound

# Cache: one WorkCalendar per process, tagged with the revisions it was built from.
#
# Every write replaces the written year's ``revision`` UUID, so the tuple of (year, revision) pairs
# changes whenever the calendar does, in this process or any other. We read that tuple on every call
# (one query over a few dozen short rows, far cheaper than rebuilding) rather than trusting a
# time-to-live or an in-process "invalidate on write": a write rolled back after the cache was
# rebuilt (a failed request, every test) would otherwise leave a calendar the database never held.
# UUIDs rather than max(updated_at) or a max+1 counter, because a frozen test clock repeats timestamps
# and two concurrent writers could compute the same counter.
_Fingerprint = tuple[tuple[int, uuid.UUID | str], ...]
_cached: tuple[_Fingerprint, WorkCalendar] | None = None


def _fingerprint() -> _Fingerprint:
    # A plain query (every deadline computation asks): no ORM compilation for a few short rows.
    # The revisions are compared as the database gives them back (text on SQLite, UUID on PostgreSQL).
    table = CalendarYear._meta.db_table
    rows = prepared.query(f"SELECT year, revision FROM {table} ORDER BY year")  # noqa: S608
    return tuple((int(year), revision) for year, revision in rows)


def _build() -> WorkCalendar:
    years = frozenset(CalendarYear.objects.values_list("year", flat=True))
    holidays: set[dt.date] = set()
    makeup: set[dt.date] = set()
    for date, kind in CalendarDay.objects.values_list("date", "kind"):
        # A year written between the two queries is left out whole; the next call's fingerprint
        # differs and rebuilds, so the calendar never holds a year's days without the year.
        if date.year in years:
            (holidays if kind == DayKind.HOLIDAY else makeup).add(date)
    return WorkCalendar(years=years, holidays=frozenset(holidays), makeup_workdays=frozenset(makeup))


def work_calendar() -> WorkCalendar:
    """The calendar as the database holds it now, rebuilt only when a year changed."""
    global _cached
    fingerprint = _fingerprint()
    cached = _cached
    if cached is not None and cached[0] == fingerprint:
        return cached[1]
    # Built after the fingerprint was read, so never older than it: at worst one needless rebuild.
    # Two threads may both rebuild at once; the result is the same, so no lock.
    calendar = _build()
    _cached = (fingerprint, calendar)
    return calendar


def calendar_year_list() -> QuerySet[CalendarYear]:
    """Configured years, oldest first, with ``holiday_count`` and ``workday_count`` annotated."""
    return CalendarYear.objects.annotate(
        holiday_count=Count("days", filter=Q(days__kind=DayKind.HOLIDAY)),
        workday_count=Count("days", filter=Q(days__kind=DayKind.WORKDAY)),
    ).order_by("year")


def calendar_year_get(year: int) -> CalendarYear:
    """One configured year, counts annotated as in the list, its days prefetched by date.

    :class:`NotFound` ("calendar for 2027 not configured") when the year has not been entered.
    """
    row = (
        calendar_year_list()
        .filter(year=year)
        .prefetch_related(Prefetch("days", queryset=CalendarDay.objects.order_by("date")))
        .first()
    )
    if row is None:
        raise NotFound(f"calendar for {year} not configured")
    return row


def calendar_days_for(year: int) -> list[CalendarDay]:
    """The holidays and make-up working days of ``year`` by date; NotFound if not configured."""
    if not CalendarYear.objects.filter(year=year).exists():
        raise NotFound(f"calendar for {year} not configured")
    return list(CalendarDay.objects.filter(calendar_year__year=year).order_by("date"))


def workdays_add(*, start: dt.date, n: int) -> dt.date:
    """The last day of a period of ``n`` working days counted from the day after ``start``.

    Raises :class:`~sanji.calendar.workdays.CalendarNotConfigured` for a year not entered yet.
    """
    return add_workdays(work_calendar(), start, n)


def workdays_count(*, start: dt.date, end: dt.date) -> int:
    """Working days strictly after ``start`` up to and including ``end`` (0 when ``end <= start``)."""
    return count_workdays(work_calendar(), start, end)
