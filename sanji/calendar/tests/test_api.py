"""``/api/v1/calendar``: staff tokens with ``calendar:read``; 409 for an unconfigured year."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from sanji.calendar import services
from sanji.calendar.models import CalendarDay, CalendarYear
from sanji.core.actors import Actor
from sanji.core.roles import STAFF_ROLES, Role

API_PREFIX = "/api/v1/calendar"

pytestmark = [pytest.mark.django_db]
TokenFor = Callable[..., dict[str, str]]
READ = ["calendar:read"]


@pytest.fixture
def seeded(cli: Actor) -> None:
    services.calendar_seed_from_chinesecalendar(actor=cli, years=[2025, 2026])


@pytest.fixture
def clerk_headers(token_for: TokenFor) -> dict[str, str]:
    return token_for(Role.WINDOW_CLERK, READ)


def get(client: Client, path: str, headers: dict[str, str], **params: str) -> tuple[int, object]:
    response = client.get(f"{API_PREFIX}{path}", params, headers=headers)
    return response.status_code, response.json()


def test_years(client: Client, seeded: None, clerk_headers: dict[str, str]) -> None:
    status, body = get(client, "/years", clerk_headers)

    assert status == 200
    assert isinstance(body, list)
    row = CalendarYear.objects.get(year=2026)
    assert [y["year"] for y in body] == [2025, 2026]
    assert body[1] == {
        "year": 2026,
        "source": "chinesecalendar",
        "notice": row.notice,
        "revision": str(row.revision),
        "holiday_count": CalendarDay.objects.filter(calendar_year=row, kind="holiday").count(),
        "workday_count": 6,
        "created_at": body[1]["created_at"],
        "updated_at": body[1]["updated_at"],
    }


def test_one_year_lists_its_days(client: Client, seeded: None, clerk_headers: dict[str, str]) -> None:
    status, body = get(client, "/years/2026", clerk_headers)

    assert status == 200
    assert isinstance(body, dict)
    assert body["year"] == 2026
    assert {"date": "2026-02-14", "kind": "workday", "name": "春节"} in body["days"]
    assert {"date": "2026-02-16", "kind": "holiday", "name": "春节"} in body["days"]
    assert len(body["days"]) == body["holiday_count"] + body["workday_count"]
    assert [d["date"] for d in body["days"]] == sorted(d["date"] for d in body["days"])


def test_unconfigured_year_is_404(client: Client, seeded: None, clerk_headers: dict[str, str]) -> None:
    status, body = get(client, "/years/2027", clerk_headers)
    assert (status, body) == (
        404,
        {"error": "not_found", "message": "2027 年的工作日历尚未配置。", "details": {"year": 2027}},
    )


@pytest.mark.parametrize(
    ("start", "n", "due"),
    [("2026-02-13", 5, "2026-02-27"), ("2026-02-13", 0, "2026-02-13"), ("2025-09-30", 3, "2025-10-11")],
)
def test_workdays_add(
    client: Client, seeded: None, clerk_headers: dict[str, str], start: str, n: int, due: str
) -> None:
    status, body = get(client, "/workdays/add", clerk_headers, start=start, n=str(n))
    assert (status, body) == (200, {"start": start, "n": n, "due": due})


def test_workdays_add_into_an_unconfigured_year_is_409(
    client: Client, seeded: None, clerk_headers: dict[str, str]
) -> None:
    status, body = get(client, "/workdays/add", clerk_headers, start="2026-12-28", n="5")
    assert status == 409
    assert body == {
        "error": "calendar_not_configured",
        "message": "2027 年的工作日历尚未配置。",
        "details": {"year": 2027},
    }


def test_workdays_count(client: Client, seeded: None, clerk_headers: dict[str, str]) -> None:
    status, body = get(client, "/workdays/count", clerk_headers, start="2026-02-13", end="2026-02-27")
    assert (status, body) == (200, {"start": "2026-02-13", "end": "2026-02-27", "count": 5})
    status, body = get(client, "/workdays/count", clerk_headers, start="2026-12-01", end="2027-01-05")
    assert status == 409
    assert isinstance(body, dict)
    assert body["error"] == "calendar_not_configured"


@pytest.mark.parametrize(
    "params",
    [
        {"start": "2026-02-30", "n": "5"},
        {"start": "2026-02-13", "n": "-1"},
        {"start": "2026-02-13", "n": "100000"},
        {"start": "2026-02-13"},
    ],
)
def test_malformed_input_is_422(
    client: Client, seeded: None, clerk_headers: dict[str, str], params: dict[str, str]
) -> None:
    status, _ = get(client, "/workdays/add", clerk_headers, **params)
    assert status == 422


# --- refusal -------------------------------------------------------------------------------------


def test_no_token_is_401(client: Client, seeded: None) -> None:
    for path in ("/years", "/years/2026", "/workdays/add?start=2026-02-13&n=5"):
        assert client.get(f"{API_PREFIX}{path}").status_code == 401


def test_token_without_the_scope_is_403(client: Client, seeded: None, token_for: TokenFor) -> None:
    headers = token_for(Role.WINDOW_CLERK, ["orgs:read", "calendar:write"])
    for path in (
        "/years",
        "/years/2026",
        "/workdays/add?start=2026-02-13&n=5",
        "/workdays/count?start=2026-02-13&end=2026-02-27",
    ):
        status, body = get(client, path, headers)
        assert status == 403, path
        assert isinstance(body, dict)
        assert body["error"] == "forbidden"


def test_a_person_without_a_staff_role_is_403(client: Client, seeded: None, token_for: TokenFor) -> None:
    headers = token_for(None, READ)
    status, body = get(client, "/workdays/add", headers, start="2026-02-13", n="5")
    assert status == 403
    assert isinstance(body, dict)
    assert body["error"] == "forbidden"


@pytest.mark.parametrize("role", sorted(STAFF_ROLES))
def test_every_staff_role_reads(client: Client, seeded: None, token_for: TokenFor, role: str) -> None:
    status, body = get(client, "/workdays/add", token_for(role, READ), start="2026-02-13", n="5")
    assert (status, body) == (200, {"start": "2026-02-13", "n": 5, "due": "2026-02-27"})


def test_year_list_and_detail_take_a_fixed_number_of_queries(
    client: Client, seeded: None, clerk_headers: dict[str, str], django_assert_max_num_queries: object
) -> None:
    get(client, "/years", clerk_headers)  # warm up the token's last-used write
    with django_assert_max_num_queries(6):  # type: ignore[operator]
        assert get(client, "/years", clerk_headers)[0] == 200
    with django_assert_max_num_queries(7):  # type: ignore[operator]
        assert get(client, "/years/2026", clerk_headers)[0] == 200
