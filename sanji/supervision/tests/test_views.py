"""Supervision pages: board (with drill-down and htmx refresh), marks, lifecycle forms, orders, rules."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from sanji.accounts import services as accounts
from sanji.accounts.models import User
from sanji.accounts.testing import sign_in
from sanji.cases.tests.conftest import SAIHAN_CA_OFFICE, SAIHAN_SUP, SYSTEM, XINCHENG_CA_OFFICE, XINCHENG_SUP
from sanji.core import clock
from sanji.core.actors import system_actor
from sanji.core.roles import Role
from sanji.orgs.models import Unit
from sanji.supervision import services
from sanji.supervision.models import Mark, SupervisionOrder
from sanji.supervision.tests.conftest import CITY_SUP, accepted, receive

pytestmark = pytest.mark.usefixtures("org", "frozen_now")
PASSWORD = "Qingcheng#2024x"
Login = Callable[..., Client]


@pytest.fixture(autouse=True)
def _fast(settings: Any) -> Any:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def login() -> Login:
    def make(role: str, unit_code: str) -> Client:
        name = f"{role}-{unit_code}".replace("_", "-").lower()
        user = User.objects.filter(username=name).first()
        if user is None:
            user, _ = accounts.user_create(
                actor=SYSTEM, username=name, full_name=name, password=PASSWORD, must_change_password=False
            )
            accounts.role_grant(actor=SYSTEM, user=user, role=role, unit=Unit.objects.get(code=unit_code))
        client = Client()
        sign_in(client, user)
        return client

    return make


def overdue_case() -> Mark:
    case = accepted()
    with clock.frozen(dt.datetime(2026, 3, 18, 2, tzinfo=dt.UTC)):
        services.supervision_sweep(actor=system_actor("t"))
    return Mark.objects.get(case=case, rule="yellow_card")


def test_board_drills_down_from_city_to_case(login: Login) -> None:
    mark = overdue_case()
    city = login(Role.SUPERVISOR, CITY_SUP)
    html = city.get(reverse("supervision:board")).content.decode()
    assert "赛罕区" in html
    assert 'hx-trigger="every 30s"' in html
    assert "<script>" not in html
    assert "style=" not in html
    district = city.get(reverse("supervision:board"), {"path": "150100/150105/"}).content.decode()
    office = Unit.objects.get(code=SAIHAN_CA_OFFICE)
    assert reverse("supervision:board_unit", args=[office.pk]) in district
    fragment = city.get(reverse("supervision:board"), {"path": "150100/150105/"}, HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200
    assert b"<html" not in fragment.content
    cases = city.get(
        reverse("supervision:board_unit", args=[office.pk]), {"path": "150100/150105/"}
    ).content.decode()
    assert mark.case.number in cases
    assert f"/cases/{mark.case_id}/" in cases


def test_district_supervisor_cannot_open_another_district(login: Login) -> None:
    overdue_case()
    xincheng = login(Role.SUPERVISOR, XINCHENG_SUP)
    assert xincheng.get(reverse("supervision:board"), {"path": "150100/150105/"}).status_code == 404
    assert xincheng.get(reverse("supervision:board"), {"path": "150100/"}).status_code == 404
    assert xincheng.get(reverse("supervision:board")).status_code == 200
    mark = Mark.objects.get(rule="yellow_card")
    assert xincheng.get(reverse("supervision:mark_detail", args=[mark.pk])).status_code == 404


def test_non_supervisor_has_no_board(login: Login) -> None:
    office = login(Role.REVIEWER, SAIHAN_CA_OFFICE)
    assert office.get(reverse("supervision:board")).status_code == 404


def test_mark_lifecycle_through_the_pages(login: Login) -> None:
    mark = overdue_case()
    unit = login(Role.REVIEWER, SAIHAN_CA_OFFICE)
    sup = login(Role.SUPERVISOR, SAIHAN_SUP)
    mine = unit.get(reverse("supervision:my_marks")).content.decode()
    assert reverse("supervision:mark_detail", args=[mark.pk]) in mine
    detail = unit.get(reverse("supervision:mark_detail", args=[mark.pk])).content.decode()
    assert reverse("supervision:mark_act", args=[mark.pk, "appeal"]) in detail
    assert reverse("supervision:mark_act", args=[mark.pk, "cancel"]) not in detail
    response = unit.post(
        reverse("supervision:mark_act", args=[mark.pk, "appeal"]),
        {"version": mark.version, "text": "已按时办结"},
    )
    assert response.status_code == 302
    mark.refresh_from_db()
    assert mark.state == "appealed"
    response = sup.post(
        reverse("supervision:mark_act", args=[mark.pk, "escalate"]),
        {"version": mark.version, "text": "限期办结", "days": "3"},
    )
    assert response.status_code == 302
    order = SupervisionOrder.objects.get()
    assert unit.get(reverse("supervision:order_detail", args=[order.pk])).status_code == 200
    unit.post(reverse("supervision:order_act", args=[order.pk, "answer"]), {"text": "已办结"})
    order.refresh_from_db()
    assert order.state == "answered"
    assert sup.get(reverse("supervision:orders")).status_code == 200
    other = login(Role.REVIEWER, XINCHENG_CA_OFFICE)
    assert (
        other.post(
            reverse("supervision:mark_act", args=[mark.pk, "appeal"]), {"version": 1, "text": "x"}
        ).status_code
        == 404
    )
    assert other.get(reverse("supervision:order_detail", args=[order.pk])).status_code == 404


def test_double_confirmation_shows_a_clear_message(login: Login) -> None:
    case = receive(fee_charged="10")
    mark = Mark.objects.get(case=case, rule="fee_mismatch")
    sup = login(Role.SUPERVISOR, SAIHAN_SUP)
    sup.post(reverse("supervision:mark_act", args=[mark.pk, "confirm"]), {"version": mark.version})
    response = sup.post(
        reverse("supervision:mark_act", args=[mark.pk, "confirm"]), {"version": mark.version + 1}, follow=True
    )
    assert "此监察标记已确认发出。" in response.content.decode()


def test_marks_list_filters(login: Login) -> None:
    overdue_case()
    sup = login(Role.SUPERVISOR, SAIHAN_SUP)
    html = sup.get(reverse("supervision:marks"), {"rule": "yellow_card"}).content.decode()
    assert "黄牌" in html


def test_rules_page_edit_only_by_the_supervisor_in_charge(login: Login) -> None:
    district = login(Role.SUPERVISOR, SAIHAN_SUP)
    assert district.get(reverse("supervision:rules")).status_code == 200
    district.post(
        reverse("supervision:rules"), {"code": "warning", "enabled": "1", "threshold": "5", "points": "0"}
    )
    assert services.rule_settings()["warning"].threshold == 2
    city = login(Role.SUPERVISOR, CITY_SUP)
    city.post(
        reverse("supervision:rules"),
        {"code": "warning", "enabled": "1", "threshold": "3", "auto_issue": "1", "points": "0"},
    )
    assert services.rule_settings()["warning"].threshold == 3
    assert login(Role.REVIEWER, SAIHAN_CA_OFFICE).get(reverse("supervision:rules")).status_code == 404


def test_anonymous_is_sent_to_login() -> None:
    response = Client().get(reverse("supervision:board"))
    assert response.status_code == 302


def test_mark_list_by_rule_state_and_unit_within_scope(login: Login) -> None:
    mark = overdue_case()
    unit = Unit.objects.get(pk=mark.unit_id)
    sup = login(Role.SUPERVISOR, SAIHAN_SUP)
    url = reverse("supervision:marks")
    detail = reverse("supervision:mark_detail", args=[mark.pk])
    assert (
        detail in sup.get(url, {"unit": unit.code, "rule": "yellow_card", "state": "issued"}).content.decode()
    )
    assert detail in sup.get(url, {"unit": unit.name[:3]}).content.decode()
    assert detail not in sup.get(url, {"unit": "150102-no-such-unit"}).content.decode()
    assert detail not in sup.get(url, {"rule": "red_card"}).content.decode()
    assert detail not in sup.get(url, {"state": "cancelled"}).content.decode()
    # Another district's supervisor: the same filters show nothing of this district.
    other = login(Role.SUPERVISOR, XINCHENG_SUP)
    assert detail not in other.get(url, {"unit": unit.code}).content.decode()
    assert other.get(detail).status_code == 404


def test_sweep_history_page(login: Login) -> None:
    overdue_case()
    with clock.frozen(dt.datetime(2026, 4, 2, 2, tzinfo=dt.UTC)):
        services.supervision_sweep(actor=system_actor("t"))
    sup = login(Role.SUPERVISOR, SAIHAN_SUP)
    html = sup.get(reverse("supervision:sweeps")).content.decode()
    assert html.count("<tr>") == 3  # header and two runs
    assert "黄牌 1" in html  # the first run's yellow card
    assert "红牌 1" in html  # the second run's red card
    assert login(Role.SUPERVISOR, CITY_SUP).get(reverse("supervision:sweeps")).status_code == 200
    assert login(Role.REVIEWER, SAIHAN_CA_OFFICE).get(reverse("supervision:sweeps")).status_code == 404


def test_mark_evidence_reads_as_labelled_city_time():
    from sanji.supervision.templatetags.supervision_tags import evidence

    rows = evidence(
        {
            "started": "2026-11-24T02:39:11+00:00",
            "due": "2026-11-27T23:59:59.999999+08:00",
            "accepted": False,
            "missing_steps": [2, 3],
            "days": None,
        }
    )
    assert rows == [
        ("开始时间", "2026-11-24 10:39"),
        ("期限", "2026-11-27 23:59"),
        ("已受理", "否"),
        ("未在平台办理的环节", "2、3"),
        ("批准天数", "—"),
    ]
    assert evidence("not a dict") == []


def test_a_sweep_that_skipped_warnings_says_why_in_the_readers_language(login: Login) -> None:
    """The sweep records the missing calendar year in one fixed form; the pages word it."""
    from sanji.calendar.models import CalendarDay
    from sanji.supervision.models import SweepRun

    CalendarDay.objects.filter(date__year=2027).delete()
    with clock.frozen(dt.datetime(2026, 12, 30, 2, tzinfo=dt.UTC)):
        services.supervision_sweep(actor=system_actor("t"))
    [run] = SweepRun.objects.all()
    assert run.problems == ["warnings skipped: calendar for 2027 not configured"]
    html = login(Role.SUPERVISOR, SAIHAN_SUP).get(reverse("supervision:sweeps")).content.decode()
    assert "本次未生成预警：2027 年的工作日历（法定节假日和调休）尚未配置" in html
    assert "warnings skipped" not in html


def test_time_contradictions_read_in_the_readers_language() -> None:
    """Every contradiction the backstop records (in one fixed form) is worded on the mark page."""
    from sanji.supervision.rules import TimeFacts, time_contradictions
    from sanji.supervision.templatetags.supervision_tags import evidence

    t = dt.datetime(2026, 3, 3, 2, tzinfo=dt.UTC)
    hour = dt.timedelta(hours=1)
    problems = time_contradictions(
        TimeFacts(
            event_times=[t, t - hour],
            received_at=t,
            accepted_at=t - hour,
            decided_at=None,
            completed_at=None,
            reported={
                "applied_at": t + hour,
                "received_at": t,
                "accepted_at": t - hour,
                "decided_at": t + 9 * hour,
            },
            now=t + 2 * hour,
        )
    )
    assert len(problems) == 6
    [(label, text)] = evidence({"problems": problems})
    assert label == "问题"
    assert text == "、".join(
        [
            "办件事件的时间顺序颠倒",
            "受理时间早于收件时间",
            "报送的决定时间晚于当前时间",
            "报送的收件时间早于报送的申请时间",
            "报送的受理时间早于报送的收件时间",
            "报送的申请时间晚于平台收件时间",
        ]
    )
