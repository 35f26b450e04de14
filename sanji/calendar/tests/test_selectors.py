"""Calendar reads: the cached WorkCalendar follows every write, the lists are complete."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from django.db import transaction

from sanji.calendar import selectors, services
from sanji.calendar.models import CalendarDay, CalendarYear
from sanji.calendar.workdays import CalendarNotConfigured
from sanji.core.actors import Actor
from sanji.core.errors import NotFound

D = dt.date.fromisoformat
pytestmark = pytest.mark.django_db


def test_empty_database_gives_an_empty_calendar() -> None:
    assert selectors.work_calendar().years == frozenset()


def test_work_calendar_is_cached_until_a_year_changes(admin: Actor, django_assert_num_queries) -> None:
    services.calendar_year_set(
        actor=admin, year=2027, holidays=[(D("2027-01-01"), "元旦")], workdays=[], notice=""
    )
    first = selectors.work_calendar()
    with django_assert_num_queries(1):  # only the revision check
        assert selectors.work_calendar() is first

    services.calendar_year_set(
        actor=admin, year=2027, holidays=[(D("2027-01-04"), "x")], workdays=[], notice=""
    )

    second = selectors.work_calendar()
    assert second is not first
    assert second.holidays == frozenset({D("2027-01-04")})


def test_write_by_another_process_is_noticed(admin: Actor) -> None:
    # Another process's write reaches this one only through the database: simulate it with raw rows.
    # (The test settings check the database on every use: SANJI_CONFIG_RECHECK_SECONDS = 0.)
    year = services.calendar_year_set(actor=admin, year=2027, holidays=[], workdays=[], notice="")
    assert selectors.work_calendar().holidays == frozenset()

    CalendarDay.objects.create(calendar_year=year, date=D("2027-01-01"), kind="holiday", name="元旦")
    CalendarYear.objects.filter(pk=year.pk).update(revision=uuid.uuid4())
    assert selectors.work_calendar().holidays == frozenset({D("2027-01-01")})

    CalendarYear.objects.filter(pk=year.pk).delete()
    assert selectors.work_calendar().years == frozenset()


def test_calendar_year_list_counts_days(cli: Actor) -> None:
    services.calendar_seed_from_chinesecalendar(actor=cli, years=[2025, 2026])
    rows = list(selectors.calendar_year_list())
    assert [r.year for r in rows] == [2025, 2026]
    by_year = {r.year: (r.holiday_count, r.workday_count) for r in rows}  # type: ignore[attr-defined]
    assert by_year[2026] == (
        CalendarDay.objects.filter(calendar_year__year=2026, kind="holiday").count(),
        CalendarDay.objects.filter(calendar_year__year=2026, kind="workday").count(),
    )
    assert by_year[2026][1] == 6


def test_calendar_days_for(cli: Actor) -> None:
    services.calendar_seed_from_chinesecalendar(actor=cli, years=[2026])
    days = selectors.calendar_days_for(2026)
    assert days[0].date == D("2026-01-01")
    assert [d.date for d in days] == sorted(d.date for d in days)
    with pytest.raises(NotFound, match="2027 年的工作日历尚未配置") as caught:
        selectors.calendar_days_for(2027)
    assert caught.value.details == {"year": 2027}


def test_calendar_year_get(cli: Actor, django_assert_num_queries) -> None:
    services.calendar_seed_from_chinesecalendar(actor=cli, years=[2026])
    with django_assert_num_queries(2):  # the year with its counts, then its days
        row = selectors.calendar_year_get(2026)
        days = list(row.days.all())
    assert (row.holiday_count, row.workday_count) == (len(days) - 6, 6)  # type: ignore[attr-defined]
    assert [d.date for d in days] == sorted(d.date for d in days)
    with pytest.raises(NotFound, match="2027 年的工作日历尚未配置") as caught:
        selectors.calendar_year_get(2027)
    assert caught.value.details == {"year": 2027}


def test_workdays_add_and_count_use_the_stored_calendar(cli: Actor) -> None:
    services.calendar_seed_from_chinesecalendar(actor=cli, years=[2026])
    assert selectors.workdays_add(start=D("2026-02-13"), n=5) == D("2026-02-27")
    assert selectors.workdays_count(start=D("2026-02-13"), end=D("2026-02-27")) == 5
    with pytest.raises(CalendarNotConfigured, match="2027"):
        selectors.workdays_add(start=D("2026-12-28"), n=5)


def test_another_process_s_write_counts_within_the_recheck_interval(
    admin: Actor, settings: Any, django_assert_num_queries: Any
) -> None:
    """In production a worker checks the revisions at most once per interval, unless it wrote the
    calendar itself (then at every use for a while)."""
    settings.SANJI_CONFIG_RECHECK_SECONDS = 3600
    year = services.calendar_year_set(actor=admin, year=2027, holidays=[], workdays=[], notice="")
    assert selectors.work_calendar().holidays == frozenset()  # its own write: seen at once
    selectors._calendar._eager_until = 0.0  # the minute after its own write has passed
    with django_assert_num_queries(0):
        first = selectors.work_calendar()

    # Another process's write (raw rows): not seen within the interval ...
    CalendarDay.objects.create(calendar_year=year, date=D("2027-01-01"), kind="holiday", name="元旦")
    CalendarYear.objects.filter(pk=year.pk).update(revision=uuid.uuid4())
    with django_assert_num_queries(0):
        assert selectors.work_calendar() is first
    # ... and seen at the first use after it.
    settings.SANJI_CONFIG_RECHECK_SECONDS = 0
    assert selectors.work_calendar().holidays == frozenset({D("2027-01-01")})


def test_a_rolled_back_write_is_not_kept(admin: Actor, settings: Any) -> None:
    settings.SANJI_CONFIG_RECHECK_SECONDS = 3600
    services.calendar_year_set(actor=admin, year=2027, holidays=[], workdays=[], notice="")
    assert selectors.work_calendar().holidays == frozenset()

    seen_inside: list[frozenset[dt.date]] = []

    class Failed(Exception):
        pass

    def failing_request() -> None:
        with transaction.atomic():
            services.calendar_year_set(
                actor=admin, year=2027, holidays=[(D("2027-01-01"), "元旦")], workdays=[], notice=""
            )
            seen_inside.append(selectors.work_calendar().holidays)
            raise Failed

    with pytest.raises(Failed):
        failing_request()
    assert seen_inside == [frozenset({D("2027-01-01")})]
    # The copy built inside the failed transaction is dropped at the next use.
    assert selectors.work_calendar().holidays == frozenset()
