"""Calendar pages: every staff member reads, only the system administrator writes; errors by line."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from sanji.audit.models import Entry
from sanji.calendar import services
from sanji.calendar.models import CalendarDay, CalendarSource, CalendarYear
from sanji.core.actors import Actor
from sanji.core.roles import STAFF_ROLES, Role

pytestmark = [pytest.mark.django_db]
D = dt.date.fromisoformat
Page = Callable[..., Client]

# TEST FIXTURE, NOT OFFICIAL: plausible 2027 dates (the State Council's notice was not available).
LINES_2027 = "\n".join(
    [
        "date,kind,name",
        "2027-01-01,holiday,元旦",
        "2027-01-02,holiday,元旦",
        "2027-01-03,holiday,元旦",
        *(f"{D('2027-02-05') + dt.timedelta(days=i)},holiday,春节" for i in range(9)),
        "2027-02-14,workday,春节",
    ]
)
NOTICE = "TEST FIXTURE — not the State Council's 2027 notice"

EDIT_GETS = ["calendar:year_edit", "calendar:import"]
EDIT_POSTS = ["calendar:year_edit", "calendar:import", "calendar:seed"]


def calendar_rows() -> list[tuple[object, ...]]:
    years = list(CalendarYear.objects.values_list("year", "source", "notice", "revision"))
    days = list(CalendarDay.objects.values_list("date", "kind", "name"))
    return [*years, *days]


@pytest.fixture
def seeded_2026(cli: Actor) -> None:
    services.calendar_seed_from_chinesecalendar(actor=cli, years=[2026])


# --- who may look ---------------------------------------------------------------------------


def test_anonymous_is_sent_to_log_in(client: Client) -> None:
    response = client.get(reverse("calendar:year_list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


# Department systems (system accounts) read through the API; see test_api.py.
@pytest.mark.parametrize("role", sorted(STAFF_ROLES - {Role.SYSTEM_ADMIN, Role.DEPARTMENT_SYSTEM}))
def test_every_staff_role_reads_but_sees_no_edit_buttons(page: Page, seeded_2026: None, role: str) -> None:
    client = page(role)

    listing = client.get(reverse("calendar:year_list"))
    detail = client.get(reverse("calendar:year_detail", args=[2026]))

    assert listing.status_code == detail.status_code == 200
    assert "2026" in listing.text
    for name in [*EDIT_GETS, "calendar:seed"]:
        assert reverse(name) not in listing.text
    assert reverse("calendar:year_edit") not in detail.text


def test_a_person_without_a_staff_role_is_refused(page: Page, seeded_2026: None) -> None:
    client = page(None)
    assert client.get(reverse("calendar:year_list")).status_code == 403
    assert client.get(reverse("calendar:year_detail", args=[2026])).status_code == 403


# --- refusal of the edit endpoints ----------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.WINDOW_CLERK, Role.SUPERVISOR, Role.SECURITY_ADMIN, Role.ANALYST])
def test_non_admins_are_refused_every_edit_endpoint(page: Page, seeded_2026: None, role: str) -> None:
    client = page(role)
    before = calendar_rows()
    audit_count = Entry.objects.filter(action__startswith="calendar.").count()

    for name in EDIT_GETS:
        assert client.get(reverse(name)).status_code == 403, name
    posts = {
        "calendar:year_edit": {"year": "2027", "notice": NOTICE, "lines": LINES_2027},
        "calendar:import": {"file": SimpleUploadedFile("c.csv", LINES_2027.encode()), "notice": ""},
        "calendar:seed": {},
    }
    for name in EDIT_POSTS:
        assert client.post(reverse(name), posts[name]).status_code == 403, name

    assert calendar_rows() == before
    assert Entry.objects.filter(action__startswith="calendar.").count() == audit_count


# --- the list and the calculator ------------------------------------------------------------------


def test_list_shows_source_notice_counts_and_revision(page: Page, seeded_2026: None) -> None:
    row = CalendarYear.objects.get(year=2026)

    response = page(Role.WINDOW_CLERK).get(reverse("calendar:year_list"))

    years = list(response.context["years"])
    assert [(y.year, y.holiday_count, y.workday_count) for y in years] == [
        (2026, CalendarDay.objects.filter(kind="holiday").count(), 6)
    ]
    assert str(row.revision)[:8] in response.text
    assert row.notice in response.text
    assert reverse("calendar:year_detail", args=[2026]) in response.text


@pytest.mark.parametrize(
    ("start", "n", "due"),
    [("2026-02-13", "5", "2026-02-27"), ("2026-02-13", "1", "2026-02-14"), ("2026-02-13", "0", "2026-02-13")],
)
def test_calculator_gives_the_last_day(page: Page, seeded_2026: None, start: str, n: str, due: str) -> None:
    response = page(Role.WINDOW_CLERK).get(reverse("calendar:year_list"), {"start": start, "n": n})
    assert response.context["due"] == D(due)
    assert due in response.text


def test_calculator_says_when_a_year_is_not_configured(page: Page, seeded_2026: None) -> None:
    response = page(Role.WINDOW_CLERK).get(reverse("calendar:year_list"), {"start": "2026-12-28", "n": "5"})
    assert response.status_code == 200
    assert response.context["due"] is None
    assert "2027 年的工作日历尚未配置" in response.context["problem"]
    assert "2027 年的工作日历尚未配置" in response.text


def test_calculator_rejects_bad_input_without_computing(page: Page, seeded_2026: None) -> None:
    response = page(Role.WINDOW_CLERK).get(reverse("calendar:year_list"), {"start": "2026-02-30", "n": "-1"})
    assert response.status_code == 200
    assert response.context["due"] is None
    assert set(response.context["form"].errors) == {"start", "n"}


# --- the year page ------------------------------------------------------------------------------


def test_year_page_shows_the_month_grid_and_the_days(page: Page, seeded_2026: None) -> None:
    response = page(Role.WINDOW_CLERK).get(reverse("calendar:year_detail", args=[2026]))

    months = response.context["months"]
    assert len(months) == 12
    february = {cell.date: cell for week in months[1].weeks for cell in week if cell}
    assert february[D("2026-02-16")].mark == "holiday"
    assert february[D("2026-02-16")].name == "春节"
    assert february[D("2026-02-14")].mark == "workday"
    assert february[D("2026-02-28")].mark == "workday"
    assert february[D("2026-02-07")].mark == "weekend"
    assert february[D("2026-02-13")].mark == "weekday"
    assert [d.date for d in response.context["days"]] == sorted(d.date for d in response.context["days"])
    assert "春节" in response.text


def test_unconfigured_year_page_is_404(page: Page, seeded_2026: None) -> None:
    assert page(Role.WINDOW_CLERK).get(reverse("calendar:year_detail", args=[2027])).status_code == 404


# --- the system administrator -------------------------------------------------------------------


def test_admin_sees_the_edit_buttons(page: Page, seeded_2026: None) -> None:
    client = page(Role.SYSTEM_ADMIN)
    listing = client.get(reverse("calendar:year_list")).text
    for name in EDIT_POSTS:
        assert reverse(name) in listing
    assert (
        f"{reverse('calendar:year_edit')}?year=2026"
        in client.get(reverse("calendar:year_detail", args=[2026])).text
    )


def test_admin_adds_a_year_from_the_notice(page: Page, seeded_2026: None) -> None:
    client = page(Role.SYSTEM_ADMIN)

    response = client.post(
        reverse("calendar:year_edit"), {"year": "2027", "notice": NOTICE, "lines": LINES_2027}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("calendar:year_detail", args=[2027])
    row = CalendarYear.objects.get(year=2027)
    assert (row.source, row.notice) == (CalendarSource.ADMIN, NOTICE)
    assert row.days.count() == 13
    assert CalendarDay.objects.get(date=D("2027-02-14")).kind == "workday"
    entry = Entry.objects.get(action="calendar.year_set", target_id=str(row.pk))
    assert entry.actor_username == "system_admin-user"
    # The deadline that was refused before now answers.
    calc = client.get(reverse("calendar:year_list"), {"start": "2026-12-25", "n": "5"})
    assert calc.context["due"] == D("2027-01-04")


def test_edit_form_is_filled_with_the_year_it_replaces(page: Page, seeded_2026: None) -> None:
    client = page(Role.SYSTEM_ADMIN)
    form = client.get(reverse("calendar:year_edit"), {"year": "2026"}).context["form"]
    assert form.initial["year"] == 2026
    assert "2026-02-14,workday,春节" in form.initial["lines"]
    assert form.initial["notice"] == CalendarYear.objects.get(year=2026).notice


def test_edit_errors_name_their_lines_and_nothing_is_written(page: Page, seeded_2026: None) -> None:
    client = page(Role.SYSTEM_ADMIN)
    before = calendar_rows()
    lines = "\n".join(
        [
            "2027-01-01,holiday,元旦",  # 1: fine
            "2027-01-04,workday,元旦",  # 2: a Monday
            "2026-10-01,holiday,国庆节",  # 3: another year
            "2027-02-30,holiday,春节",  # 4: no such date
            "2027-01-01,holiday,元旦",  # 5: twice
        ]
    )

    response = client.post(reverse("calendar:year_edit"), {"year": "2027", "notice": NOTICE, "lines": lines})

    assert response.status_code == 200
    assert [(e["line"], e["field"]) for e in response.context["errors"]] == [
        (2, "date"),
        (3, "date"),
        (4, "date"),
        (5, "date"),
    ]
    assert "2027-01-04 is a weekday" in response.text
    assert "2026-10-01 is not in 2027" in response.text
    assert calendar_rows() == before
    assert response.context["form"].data["lines"] == lines  # the input is kept for correcting


def test_edit_needs_the_notice_and_some_lines(page: Page) -> None:
    client = page(Role.SYSTEM_ADMIN)
    response = client.post(reverse("calendar:year_edit"), {"year": "2027", "notice": "", "lines": ""})
    assert set(response.context["form"].errors) == {"notice", "lines"}
    assert not CalendarYear.objects.exists()


def test_admin_imports_a_gb18030_csv(page: Page, seeded_2026: None) -> None:
    client = page(Role.SYSTEM_ADMIN)
    upload = SimpleUploadedFile("2027.csv", LINES_2027.encode("gb18030"), content_type="text/csv")

    response = client.post(reverse("calendar:import"), {"file": upload, "notice": NOTICE})

    assert response.status_code == 302
    row = CalendarYear.objects.get(year=2027)
    assert (row.source, row.notice) == (CalendarSource.IMPORT, NOTICE)
    assert CalendarDay.objects.get(date=D("2027-02-10")).name == "春节"


def test_import_errors_name_their_lines_and_nothing_is_written(page: Page, seeded_2026: None) -> None:
    client = page(Role.SYSTEM_ADMIN)
    before = calendar_rows()
    text = "date,kind,name\n2027-01-01,holiday,元旦\n2027-01-02,day-off,元旦\n2027/01/03,holiday,元旦\n"
    upload = SimpleUploadedFile("bad.csv", ("\ufeff" + text).encode())

    response = client.post(reverse("calendar:import"), {"file": upload})

    assert response.status_code == 200
    assert [(e["line"], e["field"]) for e in response.context["errors"]] == [(3, "kind"), (4, "date")]
    assert "day-off" in response.text
    assert calendar_rows() == before


def test_admin_seeds_and_the_seed_keeps_entered_years(page: Page, admin: Actor) -> None:
    services.calendar_year_set(
        actor=admin, year=2026, holidays=[(D("2026-01-01"), "元旦")], workdays=[], notice="local"
    )
    client = page(Role.SYSTEM_ADMIN)

    response = client.post(reverse("calendar:seed"), follow=True)

    assert response.status_code == 200
    assert CalendarYear.objects.filter(source=CalendarSource.CHINESECALENDAR).count() == 22  # 2004–2025
    assert CalendarYear.objects.get(year=2026).source == CalendarSource.ADMIN
    message = next(str(m) for m in response.context["messages"])
    assert "保留管理员录入：2026" in message


def test_seed_is_post_only(page: Page) -> None:
    assert page(Role.SYSTEM_ADMIN).get(reverse("calendar:seed")).status_code == 405
    assert not CalendarYear.objects.exists()
