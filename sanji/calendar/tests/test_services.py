"""Calendar writes against the real database: validation, all-or-nothing, idempotence, refusal."""

from __future__ import annotations

import datetime as dt

import chinese_calendar
import pytest

from sanji.audit.models import Entry
from sanji.calendar import selectors, services
from sanji.calendar.models import CalendarDay, CalendarSource, CalendarYear
from sanji.calendar.workdays import CalendarNotConfigured, add_workdays, deadline
from sanji.core.actors import Actor
from sanji.core.clock import CITY_TZ
from sanji.core.errors import Forbidden, ValidationFailed

D = dt.date.fromisoformat
pytestmark = pytest.mark.django_db

# TEST FIXTURE, NOT OFFICIAL: chinesecalendar 1.11.0 stops at 2026 and the State Council's notice for
# 2027 was not available to check against. Plausible dates only, to exercise a year boundary.
FIXTURE_2027_HOLIDAYS = [(D("2027-01-01"), "元旦"), (D("2027-01-02"), "元旦"), (D("2027-01-03"), "元旦")] + [
    (D("2027-02-05") + dt.timedelta(days=i), "春节") for i in range(9)
]
FIXTURE_2027_WORKDAYS = [(D("2027-02-14"), "春节")]
FIXTURE_NOTICE = "TEST FIXTURE — not the State Council's 2027 notice"


def calendar_rows() -> list[tuple[int, str, str]]:
    """Everything the calendar tables hold, to compare before and after a refused write."""
    years = list(CalendarYear.objects.values_list("year", "source", "notice"))
    days = list(CalendarDay.objects.values_list("date", "kind", "name"))
    return [*years, *((d.toordinal(), k, n) for d, k, n in days)]


def audit_actions() -> list[str]:
    return list(Entry.objects.filter(action__startswith="calendar.").values_list("action", flat=True))


# --- seeding ------------------------------------------------------------------------------------


def test_seed_copies_every_package_year(cli: Actor) -> None:
    result = services.calendar_seed_from_chinesecalendar(actor=cli)

    assert result.created == tuple(range(2004, 2027))
    assert CalendarDay.objects.count() == len(chinese_calendar.holidays) + len(chinese_calendar.workdays)
    spring = CalendarDay.objects.get(date=D("2026-02-16"))
    assert (spring.kind, spring.name) == ("holiday", "春节")
    assert CalendarDay.objects.get(date=D("2026-02-14")).kind == "workday"
    assert CalendarYear.objects.get(year=2026).source == CalendarSource.CHINESECALENDAR
    assert len(audit_actions()) == 23


def test_seed_is_idempotent(cli: Actor) -> None:
    services.calendar_seed_from_chinesecalendar(actor=cli)
    before = calendar_rows()
    revisions = list(CalendarYear.objects.values_list("revision", flat=True))
    audit_count = len(audit_actions())

    again = services.calendar_seed_from_chinesecalendar(actor=cli)

    assert again.created == again.updated == ()
    assert again.unchanged == tuple(range(2004, 2027))
    assert calendar_rows() == before
    assert list(CalendarYear.objects.values_list("revision", flat=True)) == revisions
    assert len(audit_actions()) == audit_count


def test_seed_repairs_a_tampered_package_year(cli: Actor) -> None:
    services.calendar_seed_from_chinesecalendar(actor=cli, years=[2026])
    CalendarDay.objects.filter(date=D("2026-02-16")).delete()

    result = services.calendar_seed_from_chinesecalendar(actor=cli, years=[2026])

    assert result.updated == (2026,)
    assert CalendarDay.objects.filter(date=D("2026-02-16")).exists()


def test_seed_keeps_years_an_administrator_entered(cli: Actor, admin: Actor) -> None:
    services.calendar_year_set(
        actor=admin, year=2026, holidays=[(D("2026-01-01"), "元旦")], workdays=[], notice="local"
    )

    result = services.calendar_seed_from_chinesecalendar(actor=cli, years=[2025, 2026])

    assert result.created == (2025,)
    assert result.kept == (2026,)
    assert CalendarYear.objects.get(year=2026).source == CalendarSource.ADMIN
    assert CalendarDay.objects.filter(calendar_year__year=2026).count() == 1


def test_seed_refuses_years_the_package_does_not_cover(cli: Actor) -> None:
    with pytest.raises(ValidationFailed) as caught:
        services.calendar_seed_from_chinesecalendar(actor=cli, years=[2026, 2027])
    assert caught.value.details == [{"field": "years", "reason": "2027 is not covered"}]
    assert not CalendarYear.objects.exists()


# --- one year from a notice ---------------------------------------------------------------------


def test_year_set_makes_2027_usable_for_deadlines(cli: Actor, admin: Actor) -> None:
    services.calendar_seed_from_chinesecalendar(actor=cli)
    accepted = dt.datetime(2026, 12, 25, 10, 0, tzinfo=CITY_TZ)
    with pytest.raises(CalendarNotConfigured, match="2027 年的工作日历尚未配置"):
        deadline(selectors.work_calendar(), accepted, 5)

    row = services.calendar_year_set(
        actor=admin,
        year=2027,
        holidays=FIXTURE_2027_HOLIDAYS,
        workdays=FIXTURE_2027_WORKDAYS,
        notice=FIXTURE_NOTICE,
    )

    assert (row.year, row.source, row.notice) == (2027, CalendarSource.ADMIN, FIXTURE_NOTICE)
    # Mon 12-28 … Thu 12-31 are working days 1–4; 01-01 … 01-03 off; Mon 2027-01-04 is the 5th.
    expected = dt.datetime(2027, 1, 4, 23, 59, 59, 999999, tzinfo=CITY_TZ)
    assert deadline(selectors.work_calendar(), accepted, 5) == expected
    # The fixture's Spring Festival: Thu 02-04 + 1 skips 02-05 … 02-13 and lands on the worked Sunday.
    assert add_workdays(selectors.work_calendar(), D("2027-02-04"), 1) == D("2027-02-14")
    entry = Entry.objects.get(action="calendar.year_set", target_id=str(row.pk))
    assert entry.data["year"] == 2027
    assert entry.data["holidays"] == 12
    assert entry.data["workdays"] == 1


def test_year_set_replaces_the_year_whole(admin: Actor) -> None:
    services.calendar_year_set(
        actor=admin, year=2027, holidays=FIXTURE_2027_HOLIDAYS, workdays=FIXTURE_2027_WORKDAYS, notice="v1"
    )
    first = CalendarYear.objects.get(year=2027)

    services.calendar_year_set(
        actor=admin, year=2027, holidays=[(D("2027-01-01"), "元旦")], workdays=[], notice="v2"
    )

    again = CalendarYear.objects.get(year=2027)
    assert (again.pk, again.created_at) == (first.pk, first.created_at)
    assert again.revision != first.revision
    assert list(CalendarDay.objects.values_list("date", flat=True)) == [D("2027-01-01")]


@pytest.mark.parametrize(
    ("holidays", "workdays", "expected"),
    [
        (
            [(D("2027-01-01"), "元旦"), (D("2026-12-31"), "元旦")],
            [],
            [{"item": "holidays[1]", "field": "date", "reason": "2026-12-31 is not in 2027"}],
        ),
        (
            [(D("2027-02-05"), "春节")],
            [(D("2027-02-05"), "春节")],
            [
                {
                    "item": "workdays[0]",
                    "field": "date",
                    "reason": "2027-02-05 is a weekday; a make-up working day is a weekend day",
                },
                {
                    "item": "workdays[0]",
                    "field": "date",
                    "reason": "2027-02-05 is both a holiday and a make-up working day",
                },
            ],
        ),
        (
            [(D("2027-01-01"), "元旦"), (D("2027-01-01"), "元旦")],
            [],
            [{"item": "holidays[1]", "field": "date", "reason": "2027-01-01 is listed twice"}],
        ),
        (
            [(D("2027-01-01"), "元" * 51)],
            [],
            [{"item": "holidays[0]", "field": "name", "reason": "longer than 50 characters"}],
        ),
    ],
)
def test_year_set_is_all_or_nothing(
    admin: Actor,
    holidays: list[tuple[dt.date, str]],
    workdays: list[tuple[dt.date, str]],
    expected: list[dict[str, str]],
) -> None:
    services.calendar_year_set(
        actor=admin, year=2027, holidays=[(D("2027-01-01"), "元旦")], workdays=[], notice=""
    )
    before = calendar_rows()
    audit_count = len(audit_actions())

    with pytest.raises(ValidationFailed) as caught:
        services.calendar_year_set(actor=admin, year=2027, holidays=holidays, workdays=workdays, notice="bad")

    assert caught.value.details == expected
    assert calendar_rows() == before
    assert len(audit_actions()) == audit_count


def test_year_set_refuses_an_absurd_year(admin: Actor) -> None:
    with pytest.raises(ValidationFailed, match="年份 27 超出范围") as caught:
        services.calendar_year_set(actor=admin, year=27, holidays=[], workdays=[], notice="")
    assert caught.value.details == [{"field": "year", "reason": "must be between 2000 and 2100"}]


# --- CSV import ---------------------------------------------------------------------------------

GOOD_CSV = """\ufeffdate,kind,name
2027-01-01,holiday,元旦
2027-02-14,workday,春节

2028-01-01,holiday,元旦
"""


def test_import_replaces_each_year_in_the_file(admin: Actor) -> None:
    services.calendar_year_set(
        actor=admin, year=2027, holidays=FIXTURE_2027_HOLIDAYS, workdays=FIXTURE_2027_WORKDAYS, notice="old"
    )

    rows = services.calendar_import(actor=admin, text=GOOD_CSV)

    assert [(r.year, r.source) for r in rows] == [(2027, "import"), (2028, "import")]
    assert list(CalendarDay.objects.values_list("date", "kind", "name")) == [
        (D("2027-01-01"), "holiday", "元旦"),
        (D("2027-02-14"), "workday", "春节"),
        (D("2028-01-01"), "holiday", "元旦"),
    ]
    assert selectors.work_calendar().years == frozenset({2027, 2028})


def test_import_reports_every_bad_line_and_writes_nothing(cli: Actor, admin: Actor) -> None:
    services.calendar_seed_from_chinesecalendar(actor=cli, years=[2026])
    before = calendar_rows()
    audit_count = len(audit_actions())
    text = "\n".join(
        [
            "date,kind,name",
            "2026-01-01,holiday,元旦",  # 2: fine, but 2026 must not be replaced
            "2027-13-01,holiday,元旦",  # 3
            "2027-01-02,day-off,元旦",  # 4
            "2027-01-04,workday,元旦",  # 5: a Monday
            "2027-01-01",  # 6
            "2027-01-03,holiday,元旦",  # 7: fine
            "2027-01-03,workday,元旦",  # 8: a Sunday, but already a holiday
        ]
    )

    with pytest.raises(ValidationFailed) as caught:
        services.calendar_import(actor=admin, text=text)

    assert caught.value.details == [
        {"line": 3, "field": "date", "reason": "not a date (YYYY-MM-DD): '2027-13-01'"},
        {"line": 4, "field": "kind", "reason": "must be holiday or workday: 'day-off'"},
        {
            "line": 5,
            "field": "date",
            "reason": "2027-01-04 is a weekday; a make-up working day is a weekend day",
        },
        {"line": 6, "field": "row", "reason": "expected columns date,kind,name"},
        {"line": 8, "field": "date", "reason": "2027-01-03 is both a holiday and a make-up working day"},
    ]
    assert calendar_rows() == before
    assert len(audit_actions()) == audit_count


def test_import_of_an_empty_file_is_an_error(admin: Actor) -> None:
    with pytest.raises(ValidationFailed) as caught:
        services.calendar_import(actor=admin, text="date,kind,name\n")
    assert caught.value.details == [{"line": 1, "field": "row", "reason": "the file holds no rows"}]


# --- refusal ------------------------------------------------------------------------------------


def test_non_admin_is_refused_everywhere(clerk: Actor) -> None:
    with pytest.raises(Forbidden):
        services.calendar_year_set(actor=clerk, year=2027, holidays=[], workdays=[], notice="")
    with pytest.raises(Forbidden):
        services.calendar_import(actor=clerk, text=GOOD_CSV)
    with pytest.raises(Forbidden):
        services.calendar_seed_from_chinesecalendar(actor=clerk)
    assert not CalendarYear.objects.exists()
    assert audit_actions() == []


def test_the_platform_may_seed_but_not_edit(cli: Actor) -> None:
    with pytest.raises(Forbidden):
        services.calendar_year_set(actor=cli, year=2027, holidays=[], workdays=[], notice="")
    assert services.calendar_seed_from_chinesecalendar(actor=cli, years=[2026]).created == (2026,)


# --- one year from the notice's lines (the page's form) -------------------------------------------


def test_year_set_from_text(admin: Actor) -> None:
    text = "date,kind,name\n2027-01-01,holiday,元旦\n\n2027-02-14,workday,春节\n"

    row = services.calendar_year_set_from_text(
        actor=admin, year=2027, text=text, notice=f"  {FIXTURE_NOTICE} "
    )

    assert (row.source, row.notice) == (CalendarSource.ADMIN, FIXTURE_NOTICE)
    assert list(CalendarDay.objects.values_list("date", "kind", "name")) == [
        (D("2027-01-01"), "holiday", "元旦"),
        (D("2027-02-14"), "workday", "春节"),
    ]
    assert audit_actions() == ["calendar.year_set"]


def test_year_set_from_text_reports_lines_and_writes_nothing(cli: Actor, admin: Actor) -> None:
    services.calendar_seed_from_chinesecalendar(actor=cli, years=[2026])
    before = calendar_rows()
    text = "\n".join(["2026-01-01,holiday,元旦", "2027-01-01,holiday,元旦", "2026-01-05,workday,x", "junk"])

    with pytest.raises(ValidationFailed) as caught:
        services.calendar_year_set_from_text(actor=admin, year=2026, text=text, notice="")

    assert caught.value.details == [
        {"line": 0, "field": "notice", "reason": "name the notice the dates come from"},
        {"line": 2, "field": "date", "reason": "2027-01-01 is not in 2026"},
        {
            "line": 3,
            "field": "date",
            "reason": "2026-01-05 is a weekday; a make-up working day is a weekend day",
        },
        {"line": 4, "field": "row", "reason": "expected columns date,kind,name"},
    ]
    assert calendar_rows() == before


def test_year_set_from_text_needs_some_lines(admin: Actor) -> None:
    with pytest.raises(ValidationFailed) as caught:
        services.calendar_year_set_from_text(actor=admin, year=2027, text="date,kind,name\n", notice="n")
    assert caught.value.details == [
        {"line": 1, "field": "row", "reason": "no holidays or make-up working days given"}
    ]
    with pytest.raises(ValidationFailed, match="年份 1999 超出范围") as caught:
        services.calendar_year_set_from_text(actor=admin, year=1999, text="", notice="n")
    assert caught.value.details[0]["field"] == "year"
    assert not CalendarYear.objects.exists()


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_import_bytes_reads_utf8_and_gb18030(admin: Actor, encoding: str) -> None:
    rows = services.calendar_import_bytes(actor=admin, data=GOOD_CSV.encode(encoding), notice="n")
    assert [(r.year, r.notice) for r in rows] == [(2027, "n"), (2028, "n")]
    assert CalendarDay.objects.get(date=D("2027-02-14")).name == "春节"


def test_import_bytes_refuses_binary(admin: Actor) -> None:
    with pytest.raises(ValidationFailed) as caught:
        services.calendar_import_bytes(actor=admin, data=b"\xff\xfe\x00\x80\xff")
    assert caught.value.details == [{"line": 1, "field": "file", "reason": "not UTF-8 or GB18030 text"}]


def test_non_admin_is_refused_the_page_services(clerk: Actor) -> None:
    with pytest.raises(Forbidden):
        services.calendar_year_set_from_text(
            actor=clerk, year=2027, text="2027-01-01,holiday,元旦", notice="n"
        )
    with pytest.raises(Forbidden):
        services.calendar_import_bytes(actor=clerk, data=GOOD_CSV.encode())
    assert not CalendarYear.objects.exists()
