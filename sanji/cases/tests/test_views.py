"""Case pages through the Django test client: each kind of case walked through the pages, refusals,
the print views' legally required text, the portal and the anonymous progress query."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from sanji.accounts import services as accounts
from sanji.accounts.models import User
from sanji.accounts.testing import sign_in
from sanji.audit.models import Entry
from sanji.cases import views
from sanji.cases.models import Attachment, Case, CaseStep
from sanji.cases.tests.conftest import (
    CITY_CA_OFFICE,
    COMMUNITY,
    ID_A,
    ID_B,
    SAIHAN_CA_OFFICE,
    SAIHAN_CA_WINDOW,
    SAIHAN_HOUSING_OFFICE,
    SAIHAN_SUP,
    SYSTEM,
    T0,
    XINCHENG_CA_WINDOW,
    upload_required,
)
from sanji.core import clock
from sanji.core.actors import Actor
from sanji.core.roles import Role
from sanji.orgs.models import Unit

pytestmark = pytest.mark.usefixtures("org", "frozen_now")

PASSWORD = "Qingcheng#2024x"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _fast_hasher_and_cache(settings: Any) -> Any:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()
    yield
    cache.clear()


Login = Callable[..., Client]


@pytest.fixture
def login() -> Login:
    """A signed-in client for a new person holding ``role`` in the unit ``unit_code``."""
    made: dict[str, User] = {}

    def make(role: str | None, unit_code: str = "", *, username: str | None = None) -> Client:
        name = username or f"{role or 'citizen'}-{unit_code or 'portal'}".replace("_", "-").lower()
        user = made.get(name)
        if user is None:
            user, _ = accounts.user_create(
                actor=SYSTEM, username=name, full_name=name, password=PASSWORD, must_change_password=False
            )
            if role is not None:
                accounts.role_grant(actor=SYSTEM, user=user, role=role, unit=Unit.objects.get(code=unit_code))
            made[name] = user
        client = Client()
        sign_in(client, user)
        return client

    return make


def clerk(login: Login) -> Client:
    return login(Role.WINDOW_CLERK, SAIHAN_CA_WINDOW)


def receive(client: Client, matter: str = "T-PRO", *, id_number: str = ID_A, **extra: Any) -> Case:
    data: dict[str, Any] = {
        "matter_code": matter,
        "id_number": id_number,
        "applicant_name": "张三",
        "applicant_phone": "13800000000",
        "title": "",
        "fee_charged": "",
        "received_0": "on",
        "received_1": "on",
        **extra,
    }
    response = client.post(reverse("cases:receive"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    case = Case.objects.order_by("-id").first()
    assert case is not None
    assert response["Location"] == reverse("cases:detail", args=[case.pk])
    return case


def act(client: Client, case: Case, action: str, *, expect: int = 302, **fields: Any) -> Any:
    case.refresh_from_db()
    data: dict[str, Any] = {f"{action}-expected_version": case.version}
    for key, value in fields.items():
        data[f"{action}-{key}"] = value
    response = client.post(reverse("cases:act", args=[case.pk, action]), data)
    assert response.status_code == expect, response.content.decode()[:3000]
    case.refresh_from_db()
    return response


def page(client: Client, name: str, *args: Any, status: int = 200) -> str:
    response = client.get(reverse(name, args=args))
    assert response.status_code == status
    return response.content.decode()


# --- pages render for the right roles ------------------------------------------------------------


def test_worklist_tabs_render_for_staff(login: Login) -> None:
    client = clerk(login)
    case = receive(client)
    for tab in ("to_receive", "to_handle", "due_soon", "overdue", "reported_up", "returned", "all"):
        response = client.get(reverse("cases:worklist"), {"tab": tab})
        assert response.status_code == 200
    html = client.get(reverse("cases:worklist"), {"tab": "to_receive"}).content.decode()
    assert case.number in html
    assert "剩 5 个工作日" in html  # acceptance deadline, green badge
    assert 'class="badge ok days"' in html
    assert client.get(reverse("cases:worklist"), {"tab": "nope"}).status_code == 404
    for role, unit in (
        (Role.REVIEWER, SAIHAN_CA_OFFICE),
        (Role.SUPERVISOR, SAIHAN_SUP),
        (Role.COMMUNITY_WORKER, COMMUNITY),
    ):
        assert login(role, unit).get(reverse("cases:worklist")).status_code == 200


def test_a_supervisor_is_offered_the_city_wide_tabs_only(login: Login) -> None:
    """Supervisors handle no cases at a place: 待收件, 待办理 and 已退回 would always be empty."""
    receive(clerk(login))
    supervisor = login(Role.SUPERVISOR, SAIHAN_SUP)
    html = supervisor.get(reverse("cases:worklist")).content.decode()
    tabs = re.findall(r'href="\?tab=(\w+)"', html.split('class="tabs"', 1)[1].split("</nav>", 1)[0])
    assert tabs == ["due_soon", "overdue", "reported_up", "all"]
    for tab in ("to_receive", "to_handle", "returned"):
        assert supervisor.get(reverse("cases:worklist"), {"tab": tab}).status_code == 404
    reviewer = login(Role.REVIEWER, SAIHAN_CA_OFFICE).get(reverse("cases:worklist")).content.decode()
    assert 'href="?tab=to_handle"' in reviewer
    # The home page's tile says what each finds there.
    home = supervisor.get(reverse("web:home")).content.decode()
    assert home.count("办件工作台") == 1
    assert "即将到期、已超期和已上报的办件" in home
    assert "待接件" not in home
    clerk_home = clerk(login).get(reverse("web:home")).content.decode()
    assert "待接件、待办、即将到期" in clerk_home
    assert "即将到期、已超期和已上报的办件" not in clerk_home


def test_case_page_numbers_the_steps_the_case_has(login: Login) -> None:
    """A 上报件 received at the district window skips the flow's community step (收件): its page
    numbers its own steps from 1, not from the flow's 2."""
    client = clerk(login)
    case = receive(client, "T-REP")
    html = page(client, "cases:detail", case.pk)
    names = re.findall(r'<div class="step-name">(\d+)\. ([^<]+?) <span', html)
    assert names == [("1", "受理"), ("2", "审查"), ("3", "决定"), ("4", "送达")]


def worklist_row(client: Client, tab: str, case: Case) -> str:
    html = client.get(reverse("cases:worklist"), {"tab": tab}).content.decode()
    assert case.number in html, tab
    return html.split(case.number, 1)[1].split("</tr>", 1)[0]


def test_worklist_row_shows_the_deadline_its_remaining_days_count_to(login: Login) -> None:
    """After the decision the days count to the delivery deadline, and the row names that deadline; a
    deadline that passed on Friday reads overdue on Saturday, not "0 working days left"."""
    from sanji.cases import services
    from sanji.core.actors import system_actor

    def on(day: int) -> dt.datetime:
        return dt.datetime(2026, 3, day, 2, tzinfo=dt.UTC)

    with clock.frozen(on(6)):  # Friday: promised the same day, delivery due Friday 03-20
        client = clerk(login)
        case = receive(client, "T-IMM")
        act(client, case, "accept")
        act(login(Role.APPROVER, SAIHAN_CA_OFFICE), case, "approve", opinion="符合条件，准予")
    with clock.frozen(on(18)):
        services.case_deadlines_refresh(actor=system_actor("test-sweep"))
        supervisor = login(Role.SUPERVISOR, SAIHAN_SUP)
        row = worklist_row(supervisor, "due_soon", case)
        assert "送达期限" in row
        assert "2026-03-20" in row
        assert "2026-03-06" not in row
        assert "剩 2 个工作日" in row
        overdue = supervisor.get(reverse("cases:worklist"), {"tab": "overdue"}).content.decode()
        assert case.number not in overdue
    with clock.frozen(on(21)):  # Saturday
        services.case_deadlines_refresh(actor=system_actor("test-sweep"))
        supervisor = login(Role.SUPERVISOR, SAIHAN_SUP)
        row = worklist_row(supervisor, "overdue", case)
        assert "已超期" in row
        assert "剩 0 个工作日" not in row
        due_soon = supervisor.get(reverse("cases:worklist"), {"tab": "due_soon"}).content.decode()
        assert case.number not in due_soon
        # The case page's deadline table reads the same way.
        detail = page(clerk(login), "cases:detail", case.pk)
        assert '<span class="badge bad days">已超期</span>' in detail
        assert "剩 0 个工作日" not in detail


def test_worklist_pages_with_next_and_previous_without_total(
    login: Login, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    client = clerk(login)
    for _ in range(3):
        receive(client)
    first = client.get(reverse("cases:worklist"), {"tab": "all"}).content.decode()
    assert 'rel="next"' in first
    assert 'rel="prev"' not in first
    second = client.get(reverse("cases:worklist"), {"tab": "all", "page": "2"}).content.decode()
    assert 'rel="prev"' in second
    assert 'rel="next"' not in second
    assert "共" not in second  # no total count


def test_refusals_for_wrong_role_and_anonymous(login: Login) -> None:
    anonymous = Client()
    response = anonymous.get(reverse("cases:worklist"))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]
    citizen = login(None)
    assert citizen.get(reverse("cases:worklist")).status_code == 403
    assert citizen.get(reverse("cases:receive")).status_code == 403
    reviewer = login(Role.REVIEWER, SAIHAN_CA_OFFICE)
    assert reviewer.get(reverse("cases:receive")).status_code == 403
    supervisor = login(Role.SUPERVISOR, SAIHAN_SUP)
    assert supervisor.get(reverse("cases:receive")).status_code == 403


def test_out_of_scope_is_not_found(login: Login) -> None:
    client = clerk(login)
    case = receive(client, "T-PRO", scan_0=SimpleUploadedFile("apply.png", PNG))
    attachment = Attachment.objects.get(case=case)
    act(client, case, "accept")
    for outsider in (
        login(Role.WINDOW_CLERK, XINCHENG_CA_WINDOW),
        login(Role.REVIEWER, SAIHAN_HOUSING_OFFICE),  # other line
    ):
        assert outsider.get(reverse("cases:detail", args=[case.pk])).status_code == 404
        assert outsider.get(reverse("cases:print", args=[case.pk, "acceptance"])).status_code == 404
        assert outsider.get(reverse("cases:attachment", args=[attachment.pk])).status_code == 404
        response = outsider.post(
            reverse("cases:act", args=[case.pk, "complete_step"]),
            {"complete_step-expected_version": case.version, "complete_step-opinion": "x"},
        )
        assert response.status_code == 404
        response = outsider.post(
            reverse("cases:upload", args=[case.pk]),
            {"material_name": "申请书", "file": SimpleUploadedFile("a.png", PNG)},
        )
        assert response.status_code == 404
    assert clerk(login).get(reverse("cases:detail", args=[999999])).status_code == 404
    case.refresh_from_db()
    assert case.current_step_order == 2


def test_visible_but_not_allowed_shows_message(login: Login) -> None:
    case = receive(clerk(login))
    reviewer = login(Role.REVIEWER, SAIHAN_CA_OFFICE)
    html = page(reviewer, "cases:detail", case.pk)
    assert "action-accept" not in html  # no button for what the reviewer may not do
    response = act(reviewer, case, "accept", expect=403)
    assert "action-error" in response.content.decode()
    assert case.state == "received"


# --- receiving ---------------------------------------------------------------------------------------


def test_receive_page_lists_matters_and_prefills_registered_applicant(login: Login) -> None:
    citizen = accounts.applicant_register(
        username="lisi",
        full_name="李四",
        id_number=ID_B,
        phone="13900000000",
        password=PASSWORD,
        ip="1.2.3.4",
    )
    client = clerk(login)
    html = client.get(reverse("cases:receive")).content.decode()
    for code in ("T-IMM", "T-PRO", "T-JNT", "T-REP"):
        assert code in html
    html = client.get(reverse("cases:receive"), {"id_number": ID_B, "matter_code": "T-PRO"}).content.decode()
    assert "已注册申请人" in html
    assert 'value="李四"' in html
    assert 'value="13900000000"' in html
    assert "申请书" in html
    assert "居民身份证复印件" in html
    html = client.get(reverse("cases:receive"), {"id_number": "150102199003071238"}).content.decode()
    assert 'class="error"' in html  # a wrong check digit
    case = receive(client, "T-PRO", id_number=ID_B, scan_0=SimpleUploadedFile("申请书.pdf", PDF))
    assert case.applicant_id == citizen.pk
    assert case.channel == "window"
    assert Attachment.objects.get(case=case).material_name == "申请书"


def test_receive_refuses_disguised_scan_and_creates_nothing(login: Login) -> None:
    client = clerk(login)
    response = client.post(
        reverse("cases:receive"),
        {
            "matter_code": "T-PRO",
            "id_number": ID_A,
            "applicant_name": "张三",
            "scan_0": SimpleUploadedFile("virus.pdf", b"MZ\x90\x00not a pdf"),
        },
    )
    assert response.status_code == 200
    assert "PDF" in response.content.decode()
    assert not Case.objects.exists()


def test_community_station_receives_and_scans_for_the_district(login: Login) -> None:
    worker = login(Role.COMMUNITY_WORKER, COMMUNITY)
    html = worker.get(reverse("cases:receive")).content.decode()
    assert "T-REP" in html
    assert "T-PRO" not in html
    case = receive(worker, "T-REP", scan_0=SimpleUploadedFile("scan.png", PNG))
    assert case.channel == "community"
    response = worker.post(
        reverse("cases:upload", args=[case.pk]),
        {
            "material_name": "居民身份证复印件",
            "file": SimpleUploadedFile("id.jpg", b"\xff\xd8\xff\xe0" + b"0" * 40),
        },
    )
    assert response.status_code == 302
    assert Attachment.objects.filter(case=case).count() == 2
    html = page(worker, "cases:detail", case.pk)
    assert "action-report_up" in html
    receipt = page(worker, "cases:print", case.pk, "receipt")
    assert "收件回执" in receipt
    assert "5个工作日" in receipt


# --- the four kinds walked through the pages ----------------------------------------------------------


def test_immediate_case_through_the_pages(login: Login) -> None:
    client = clerk(login)
    case = receive(client, "T-IMM")
    html = page(client, "cases:detail", case.pk)
    for action in ("accept", "request_correction", "refuse"):
        assert f"action-{action}" in html
    assert "查询码只显示一次" in html
    act(client, case, "accept")
    notice = page(client, "cases:print", case.pk, "acceptance")
    code = notice.split('class="mono query-code">')[1].split("<")[0]
    assert len(code) == 8
    assert "data-print" in notice
    assert "<script>" not in notice
    assert "style=" not in notice
    again = page(client, "cases:print", case.pk, "acceptance")
    assert code not in again
    assert "查询码已于收件时告知申请人" in again
    approver = login(Role.APPROVER, SAIHAN_CA_OFFICE)
    act(approver, case, "approve", opinion="符合条件，准予")
    act(client, case, "deliver", delivery_method="window", certificate_no="ZS-0001")
    act(client, case, "complete")
    assert case.state == "completed"
    decision = page(client, "cases:print", case.pk, "decision")
    assert "准予行政许可决定书" in decision
    assert "ZS-0001" in decision
    assert case.number in decision


def test_promised_case_with_correction_through_the_pages(login: Login) -> None:
    client = clerk(login)
    case = receive(client, "T-PRO", received_1="")  # the ID copy is missing
    html = page(client, "cases:detail", case.pk)
    # The correction form starts from the required materials not ticked at receipt.
    assert 'value="居民身份证复印件" id="id_request_correction-missing_items_1" checked' in html
    assert 'value="申请书" id="id_request_correction-missing_items_0">' in html
    assert 'value="证明材料" id="id_request_correction-missing_items_2">' in html  # optional
    # Nothing listed: refused by the form, the case unchanged.
    act(client, case, "request_correction", expect=422)
    assert case.state == "received"
    act(
        client,
        case,
        "request_correction",
        missing_items=["居民身份证复印件"],
        other_items="户口簿复印件\n房产证明",
    )
    assert case.state == "correction_requested"
    notice = page(client, "cases:print", case.pk, "correction")
    for text in ("一次性告知书", "居民身份证复印件", "户口簿复印件", "房产证明", "5个工作日", case.number):
        assert text in notice
    act(client, case, "supplement")
    act(client, case, "accept")
    assert case.state == "handling"
    html = page(client, "cases:detail", case.pk)
    assert "承诺期限" in html
    assert "法定期限" in html
    reviewer = login(Role.REVIEWER, SAIHAN_CA_OFFICE)
    html = page(reviewer, "cases:detail", case.pk)
    assert "action-complete_step" in html
    act(reviewer, case, "complete_step", expect=422)  # opinion required
    act(reviewer, case, "complete_step", opinion="材料齐全")
    approver = login(Role.APPROVER, SAIHAN_CA_OFFICE)
    act(approver, case, "deny", reason="不符合法定条件")
    decision = page(client, "cases:print", case.pk, "decision")
    for text in ("不予行政许可决定书", "不符合法定条件", "60日", "行政复议", "6个月", "行政诉讼"):
        assert text in decision
    act(client, case, "deliver", delivery_method="mail")
    act(client, case, "complete")
    assert case.state == "completed"
    history = page(client, "cases:detail", case.pk)
    for label in ("接件", "一次性告知补正", "补正材料", "受理", "办结本环节", "不予", "送达", "办结"):
        assert label in history


def test_joint_case_shows_parallel_steps_side_by_side(login: Login) -> None:
    client = clerk(login)
    case = receive(client, "T-JNT")
    act(client, case, "accept")
    housing = login(Role.REVIEWER, SAIHAN_HOUSING_OFFICE)
    html = page(housing, "cases:detail", case.pk)
    assert "stage parallel" in html
    assert "并行会签" in html
    assert html.count('class="step step-active current"') == 2
    # Only those with a step of their own to answer get the button; the window has none here.
    window_html = page(client, "cases:detail", case.pk)
    assert "action-complete_step" not in window_html
    assert "action-report_up" not in window_html
    assert "action-approve" not in page(login(Role.APPROVER, SAIHAN_CA_OFFICE), "cases:detail", case.pk)
    act(housing, case, "complete_step", opinion="住建意见：同意")
    assert case.current_step_order == 2
    assert "action-complete_step" not in page(housing, "cases:detail", case.pk)  # answered already
    act(login(Role.REVIEWER, SAIHAN_CA_OFFICE), case, "complete_step", opinion="民政意见：同意")
    assert case.current_step_order == 3
    act(login(Role.APPROVER, SAIHAN_CA_OFFICE), case, "approve", opinion="准予")
    act(client, case, "deliver", delivery_method="electronic", certificate_no="ZS-2")
    assert case.state == "delivered"
    html = page(client, "cases:detail", case.pk)
    assert "住建意见：同意" in html
    assert "民政意见：同意" in html


def test_reported_case_community_to_city_and_back_through_the_pages(login: Login) -> None:
    worker = login(Role.COMMUNITY_WORKER, COMMUNITY)
    case = receive(worker, "T-REP")
    html = page(worker, "cases:detail", case.pk)
    assert "action-report_up" in html
    assert "action-accept" not in html  # acceptance is at the district
    act(worker, case, "report_up", opinion="材料已扫描，报区民政窗口")
    assert case.state == "reported_up"
    district = clerk(login)
    html = district.get(reverse("cases:worklist"), {"tab": "to_receive"}).content.decode()
    assert case.number in html
    html = district.get(reverse("cases:worklist"), {"tab": "reported_up"}).content.decode()
    assert case.number in html
    act(district, case, "take_over")
    act(district, case, "accept")
    reviewer = login(Role.REVIEWER, SAIHAN_CA_OFFICE)
    act(reviewer, case, "report_up", opinion="初审通过，报市局")
    city = login(Role.APPROVER, CITY_CA_OFFICE)
    html = city.get(reverse("cases:worklist"), {"tab": "to_receive"}).content.decode()
    assert case.number in html
    act(city, case, "take_over")
    act(city, case, "approve", opinion="准予")
    act(city, case, "return_down")
    assert case.current_unit.code == SAIHAN_CA_WINDOW
    act(district, case, "deliver", delivery_method="window", certificate_no="Z-1")
    act(district, case, "complete")
    assert case.state == "completed"
    # Every level sees the whole history.
    for who in (worker, district, reviewer, city):
        html = page(who, "cases:detail", case.pk)
        assert "初审通过，报市局" in html
        assert "材料已扫描，报区民政窗口" in html
    assert "准予行政许可决定书" in page(district, "cases:print", case.pk, "decision")


# --- refusal, conflict, supervisor, calendar problem --------------------------------------------------


def test_refusal_needs_reason_and_legal_basis_and_prints_the_remedies(login: Login) -> None:
    client = clerk(login)
    case = receive(client, "T-PRO")
    response = act(client, case, "refuse", expect=422, reason="不属于本机关职权范围")
    assert "errorlist" in response.content.decode()
    assert case.state == "received"
    act(
        client,
        case,
        "refuse",
        reason="不属于本机关职权范围",
        legal_basis="《行政许可法》第三十二条第一款第（二）项",
    )
    assert case.state == "refused"
    notice = page(client, "cases:print", case.pk, "refusal")
    for text in (
        "不予受理通知书",
        "不属于本机关职权范围",
        "第三十二条第一款第（二）项",
        "60日",
        "行政复议",
        "6个月",
        "行政诉讼",
        case.number,
        "赛罕区",
    ):
        assert text in notice
    assert page(client, "cases:print", case.pk, "decision", status=404)
    assert page(client, "cases:print", case.pk, "bogus", status=404)


def test_stale_version_shows_someone_acted_first(login: Login) -> None:
    client = clerk(login)
    case = receive(client, "T-PRO")
    stale = case.version
    act(client, case, "accept")
    response = client.post(reverse("cases:act", args=[case.pk, "accept"]), {"accept-expected_version": stale})
    assert response.status_code == 409
    html = response.content.decode()
    assert "其他人已先处理了此办件" in html
    assert "重新加载" in html
    case.refresh_from_db()
    assert case.state == "handling"


def test_an_illegal_action_is_explained_in_chinese_naming_the_state_and_the_allowed_actions(
    login: Login,
) -> None:
    client = clerk(login)
    case = receive(client, "T-PRO")
    response = act(client, case, "approve", expect=409, opinion="同意")
    html = response.content.decode()
    assert (
        "此办件当前不能准予（办件状态：已接件；可执行的操作：一次性告知补正、准予再次补正、受理、"
        "不予受理、逾期视为受理、上报、撤回、作废）。" in html
    )
    assert "request_correction" not in html.split("此办件当前不能")[1].split("。")[0]  # labels, not codes
    assert case.state == "received"


def test_supervisor_sees_and_allows_second_correction(login: Login) -> None:
    client = clerk(login)
    case = receive(client, "T-PRO")
    act(client, case, "request_correction", missing_items=["申请书"])
    act(client, case, "supplement")
    html = page(client, "cases:detail", case.pk)
    assert "action-request_correction" in html  # the table allows it; the service enforces 一次性告知
    response = act(client, case, "request_correction", expect=409, missing_items=["居民身份证复印件"])
    assert "一次性告知" in response.content.decode()
    supervisor = login(Role.SUPERVISOR, SAIHAN_SUP)
    html = page(supervisor, "cases:detail", case.pk)
    assert "action-allow_second_correction" in html
    assert "action-void" in html
    act(supervisor, case, "allow_second_correction", reason="材料原件遗失，需重新出具")
    act(client, case, "request_correction", missing_items=["居民身份证复印件"])
    assert case.corrections_count == 2


def test_unconfigured_year_is_shown_on_worklist_and_case(login: Login) -> None:
    with clock.frozen(dt.datetime(2026, 12, 28, 2, 0, tzinfo=dt.UTC)):
        client = clerk(login)  # signed in at that time (an idle session would end)
        case = receive(client, "T-PRO")
        assert "2027" in case.calendar_problem
        html = client.get(reverse("cases:worklist"), {"tab": "all"}).content.decode()
        assert "工作日历未配置" in html
        html = page(client, "cases:detail", case.pk)
        assert "calendar-problem-banner" in html
        assert "2027 年的工作日历" in html  # in the reader's language, not the stored condition
        assert "calendar for 2027" not in html


def test_an_unconfigured_year_is_flagged_only_where_a_running_deadline_needs_it(login: Login) -> None:
    """Accepted on 12-15: the promised deadline (10 working days, 12-29) and its remaining days are
    known, only the legal one (20 days) reaches into 2027. The worklist counts the days without a
    'calendar not configured' badge; the case page still says what is missing. Once completed,
    nothing runs and no page warns."""
    from sanji.cases import services
    from sanji.cases.tests.conftest import actor_at

    with clock.frozen(dt.datetime(2026, 12, 15, 2, 0, tzinfo=dt.UTC)):
        client = clerk(login)
        case = receive(client, "T-PRO")
        act(client, case, "accept")
        case.refresh_from_db()
        assert "2027" in case.calendar_problem
        assert case.remaining_days == 10
        html = client.get(reverse("cases:worklist"), {"tab": "all"}).content.decode()
        assert "剩 10 个工作日" in html
        assert "工作日历未配置" not in html
        assert "calendar-problem-banner" in page(client, "cases:detail", case.pk)
        for who, action, fields in (
            (actor_at(Role.REVIEWER, SAIHAN_CA_OFFICE), "complete_step", {"opinion": "同意"}),
            (actor_at(Role.APPROVER, SAIHAN_CA_OFFICE), "approve", {"opinion": "准予"}),
            (
                actor_at(Role.WINDOW_CLERK, SAIHAN_CA_WINDOW),
                "deliver",
                {"delivery_method": "window", "certificate_no": "ZS-9"},
            ),
            (actor_at(Role.WINDOW_CLERK, SAIHAN_CA_WINDOW), "complete", {}),
        ):
            case.refresh_from_db()
            services.case_act(
                actor=who, case_id=case.pk, action=action, expected_version=case.version, **fields
            )
        case.refresh_from_db()
        assert (case.state, case.calendar_problem) == ("completed", "")
        assert "calendar-problem-banner" not in page(client, "cases:detail", case.pk)


def test_download_is_audited_and_served_as_attachment(login: Login) -> None:
    client = clerk(login)
    case = receive(client, "T-PRO", scan_0=SimpleUploadedFile("申请书.png", PNG))
    attachment = Attachment.objects.get(case=case)
    response = client.get(reverse("cases:attachment", args=[attachment.pk]))
    assert response.status_code == 200
    assert response.content == PNG
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("attachment")
    assert Entry.objects.filter(action="cases.attachment_downloaded").count() == 1


def test_sweep_command_deems_and_refreshes(capsys: pytest.CaptureFixture[str]) -> None:
    from sanji.cases import services
    from sanji.cases.tests.conftest import actor_at

    case, _ = services.case_receive(
        actor=actor_at(Role.WINDOW_CLERK, SAIHAN_CA_WINDOW),
        matter_code="T-PRO",
        applicant_name="张三",
        applicant_id_number=ID_A,
    )
    with clock.frozen(T0 + dt.timedelta(days=10)):
        call_command("cases", "sweep")
    out = capsys.readouterr().out
    assert "deemed accepted: 1" in out
    assert case.number in out
    assert "deadlines refreshed: 1" in out
    case.refresh_from_db()
    assert case.state == "handling"
    assert case.deemed_accepted


# --- the portal --------------------------------------------------------------------------------------


def _register(client: Client, username: str = "wangwu", id_number: str = ID_B) -> Any:
    return client.post(
        reverse("portal:register"),
        {
            "username": username,
            "full_name": "王五",
            "id_number": id_number,
            "phone": "13700000000",
            "password": PASSWORD,
            "password_again": PASSWORD,
        },
    )


def _portal_client(username: str = "wangwu", id_number: str = ID_B) -> tuple[Client, User]:
    client = Client()
    response = _register(client, username, id_number)
    assert response.status_code == 302
    user = User.objects.get(username=username)
    sign_in(client, user)
    return client, user


def test_portal_pages_render_anonymously() -> None:
    client = Client()
    for name in ("portal:home", "portal:register", "portal:matters", "portal:query"):
        assert client.get(reverse(name)).status_code == 200
    html = client.get(reverse("portal:matters")).content.decode()
    assert "T-PRO" in html
    assert "T-IMM" not in html
    assert reverse("catalog:detail", args=["T-PRO"]) in html
    home = client.get(reverse("portal:home")).content.decode()
    assert reverse("accounts:login") in home
    assert reverse("catalog:list") in home
    response = client.get(reverse("portal:my_cases"))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_portal_apply_offers_the_places_of_the_accepting_level_and_preselects_the_own_county() -> None:
    """T-PRO is accepted at the district windows: districts and their townships are offered, the
    applicant's own district (ID 150102…: 新城区) preselected, and the page says which level accepts."""
    import re

    client, _user = _portal_client()  # ID_B: 150102…
    html = client.get(reverse("portal:apply", args=["T-PRO"])).content.decode()
    select = re.search(r'<select name="region_code".*?</select>', html, re.S)
    assert select is not None
    options = re.findall(r'<option value="(\d+)"( selected)?>', select.group(0))
    assert [code for code, _sel in options] == ["150102", "150102001", "150105", "150105001"]
    assert [code for code, sel in options if sel] == ["150102"]
    assert "本事项由旗县区一级的窗口受理" in html
    # A matter accepted at the township centres is applied for at a township only.
    from sanji.cases.selectors import apply_regions

    assert [r.code for r in apply_regions("township")] == ["150102001", "150105001"]
    assert [r.code for r in apply_regions("community")] == ["150102001001", "150105001001"]


def test_portal_register_then_login_without_terminal() -> None:
    client = Client()
    response = _register(client)
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]
    user = User.objects.get(username="wangwu")
    assert user.id_number_index
    assert not user.must_change_password
    assert not user.role_assignments.exists()
    again = _register(Client(), "other", ID_B)
    assert again.status_code == 200
    assert "已注册" in again.content.decode()
    response = client.post(reverse("accounts:login"), {"username": "wangwu", "password": PASSWORD})
    assert response.status_code == 302


def test_portal_apply_upload_submit_correct_supplement(login: Login, settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path
    client, user = _portal_client()
    response = client.get(reverse("portal:apply", args=["T-PRO"]))
    assert response.status_code == 200
    html = response.content.decode()
    # Applying for oneself: the account's name and ID number, shown, not asked for.
    assert "王五" in html
    assert "150102********1237" in html
    assert 'value="" id="id_on_behalf_0" checked' in html  # 本人申请 unless 代办 is chosen
    assert client.get(reverse("portal:apply", args=["T-IMM"])).status_code == 404  # not online
    response = client.post(
        reverse("portal:apply", args=["T-PRO"]),
        {
            "on_behalf": "",
            # Someone else's number typed in without choosing 代办 does not make them the applicant.
            "applicant_name": "张三",
            "id_number": ID_A,
            "applicant_phone": "13700000000",
            "region_code": "150105001",
            "title": "",
        },
    )
    assert response.status_code == 302
    case = Case.objects.get(applicant=user)
    assert case.state == "draft"
    assert (case.applicant_name, case.applicant_id_masked, case.agent_id) == (
        "王五",
        "150102********1237",
        None,
    )
    assert case.applicant_id_index == user.id_number_index
    html = page(client, "portal:case", case.pk)
    code = html.split('class="mono query-code">')[1].split("<")[0]
    assert len(code) == 8
    assert code not in page(client, "portal:case", case.pk)  # shown once
    response = client.post(
        reverse("portal:upload", args=[case.pk]),
        {"material_name": "申请书", "file": SimpleUploadedFile("申请书.pdf", PDF)},
    )
    assert response.status_code == 302
    response = client.post(
        reverse("portal:upload", args=[case.pk]),
        {"material_name": "申请书", "file": SimpleUploadedFile("fake.pdf", PNG)},
    )
    assert Attachment.objects.filter(case=case).count() == 1
    # Not submitted while a required material has no file: the page says which.
    assert "提交前还须上传以下必交材料：居民身份证复印件" in page(client, "portal:case", case.pk)
    submit = reverse("portal:act", args=[case.pk, "submit"])
    response = client.post(submit, {"submit-expected_version": case.version})
    assert response.status_code == 422
    assert "提交前须为每一项必交材料上传文件，尚缺：居民身份证复印件。" in response.content.decode()
    case.refresh_from_db()
    assert case.state == "draft"
    client.post(
        reverse("portal:upload", args=[case.pk]),
        {"material_name": "居民身份证复印件", "file": SimpleUploadedFile("id.png", PNG)},
    )
    assert "提交前还须上传" not in page(client, "portal:case", case.pk)
    client.post(submit, {"submit-expected_version": case.version})
    case.refresh_from_db()
    assert case.state == "submitted"
    # The district window pre-checks, then asks for a correction: the form names what was uploaded
    # as received (nothing required is missing, so nothing is pre-ticked).
    window = clerk(login)
    act(window, case, "precheck_pass")
    staff_html = page(window, "cases:detail", case.pk)
    assert 'value="居民身份证复印件" id="id_request_correction-missing_items_1">' in staff_html
    assert 'value="申请书" id="id_request_correction-missing_items_0">' in staff_html
    assert "申请书（已收到）" in staff_html
    assert "居民身份证复印件（已收到）" in staff_html
    act(window, case, "request_correction", missing_items=["居民身份证复印件"], other_items="户口簿复印件")
    html = page(client, "portal:case", case.pk)
    assert "请一次性补正以下内容" in html
    assert "居民身份证复印件" in html
    assert "action-supplement" in html
    assert 'name="supplement-item_0"' in html
    assert 'name="supplement-item_1"' in html
    assert reverse("portal:upload", args=[case.pk]) not in html  # materials come with the supplement
    # A supplement without a file for every item is refused, whole: no state change, no file kept.
    supplement = reverse("portal:supplement", args=[case.pk])
    for files in ({}, {"supplement-item_0": SimpleUploadedFile("id.png", PNG)}):
        response = client.post(supplement, {"supplement-expected_version": case.version, **files})
        assert response.status_code == 422, response.content.decode()[:2000]
        assert "户口簿复印件" in response.content.decode()
        case.refresh_from_db()
        assert case.state == "correction_requested"
        assert Attachment.objects.filter(case=case).count() == 2
        assert len([p for p in tmp_path.rglob("*") if p.is_file()]) == 2
    # The generic supplement action without files is no way around it either.
    response = client.post(
        reverse("portal:act", args=[case.pk, "supplement"]), {"supplement-expected_version": case.version}
    )
    assert response.status_code == 404
    response = client.post(
        supplement,
        {
            "supplement-expected_version": case.version,
            "supplement-item_0": [
                SimpleUploadedFile("id-front.png", PNG),
                SimpleUploadedFile("id-back.png", PNG),
            ],
            "supplement-item_1": SimpleUploadedFile("户口簿.pdf", PDF),
            "supplement-opinion": "已补齐",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    case.refresh_from_db()
    assert case.state == "received"
    carried = Attachment.objects.filter(case=case, event__action="supplement").order_by("id")
    assert [a.material_name for a in carried] == ["居民身份证复印件", "居民身份证复印件", "户口簿复印件"]
    assert "补正材料" in page(window, "cases:detail", case.pk)
    # The applicant reads the printed correction notice too.
    assert "居民身份证复印件" in page(client, "cases:print", case.pk, "correction")
    # Tracking: my cases.
    assert case.number in page(client, "portal:my_cases")
    # Staff do not apply online; staff case page sends applicants to the portal.
    assert window.get(reverse("portal:apply", args=["T-PRO"])).status_code == 403
    response = client.get(reverse("cases:detail", args=[case.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:case", args=[case.pk])


def _matter_with_authorisation_letter() -> None:
    """An online matter whose materials list an authorisation letter (授权委托书) for agents."""
    from sanji.cases.tests.conftest import MATERIALS, MATTERS
    from sanji.catalog import services as catalog
    from sanji.catalog.flows import MaterialSpec
    from sanji.catalog.models import MatterType

    terms, steps, _online = MATTERS["T-PRO"]
    matter = catalog.matter_create(
        actor=SYSTEM,
        code="T-AGT",
        details=catalog.MatterDetails(
            name="测试事项 T-AGT", matter_type=MatterType.LICENSING, legal_basis="测试依据", online=True
        ),
        terms=terms,
    )
    catalog.flow_version_publish(
        actor=SYSTEM,
        matter=matter,
        steps=steps,
        materials=[*MATERIALS, MaterialSpec(name="授权委托书", required=False)],
    )


def test_portal_agent_application_records_the_agent_and_both_see_the_case(
    login: Login, settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path
    _matter_with_authorisation_letter()
    client, agent = _portal_client()
    apply = reverse("portal:apply", args=["T-AGT"])
    html = client.get(apply).content.decode()
    assert "为他人代办" in html
    assert 'name="authorisation"' in html
    assert 'name="authorisation"' not in client.get(reverse("portal:apply", args=["T-PRO"])).content.decode()
    form = {
        "on_behalf": "1",
        "applicant_name": "张三",
        "id_number": ID_A,
        "agent_relation": "",
        "applicant_phone": "13900000000",
        "region_code": "150105001",
        "title": "",
    }
    # 代办 without the relation or authorisation: refused, nothing written.
    response = client.post(apply, form)
    assert response.status_code == 200
    # The refusal stands beside the field it is about, inside the agent's fieldset.
    agent_part = response.content.decode().split('<fieldset class="agent">')[1].split("</fieldset>")[0]
    assert "代办须注明您与申请人的关系或所受委托。" in agent_part
    assert 'value="1" id="id_on_behalf_1" checked' in response.content.decode()  # 代办 stays chosen
    assert not Case.objects.exists()
    response = client.post(
        apply,
        {
            **form,
            "agent_relation": "张三之子，受其委托",
            "authorisation": SimpleUploadedFile("委托书.pdf", PDF),
        },
    )
    assert response.status_code == 302
    case = Case.objects.get()
    assert (case.applicant_name, case.applicant_id_masked, case.applicant_id, case.agent_id) == (
        "张三",
        "110105********002X",
        None,
        agent.pk,
    )
    assert case.agent_relation == "张三之子，受其委托"
    assert [a.material_name for a in Attachment.objects.filter(case=case)] == ["授权委托书"]
    mine = page(client, "portal:my_cases")
    assert case.number in mine
    assert '<td class="applicant">张三 <span class="badge">我代办</span></td>' in mine  # for whom
    assert "代办人" in page(client, "portal:case", case.pk)
    # Staff see the agent apart from the applicant, on the case and in its history.
    window = clerk(login)
    staff_html = page(window, "cases:detail", case.pk)
    assert staff_html.count("张三之子，受其委托") == 2
    assert "150102********1237" in staff_html  # the agent's own registered ID, masked
    # The applicant registers later: the case is theirs too (by ID number), and they may act on it.
    applicant_client, _applicant = _portal_client("zhangsan", ID_A)
    theirs = page(applicant_client, "portal:my_cases")
    assert case.number in theirs
    assert "（王五 代办）" in theirs  # by whom
    assert "action-submit" in page(applicant_client, "portal:case", case.pk)
    # Nobody else sees it.
    stranger, _user = _portal_client("lisi", "150105198506153212")
    assert case.number not in page(stranger, "portal:my_cases")
    assert stranger.get(reverse("portal:case", args=[case.pk])).status_code == 404


def test_portal_refuses_a_self_application_from_an_account_without_an_id_number(login: Login) -> None:
    client = login(None)  # an account created by an administrator: no ID number registered
    html = client.get(reverse("portal:apply", args=["T-PRO"])).content.decode()
    assert "没有登记身份证号码" in html
    response = client.post(
        reverse("portal:apply", args=["T-PRO"]),
        {"on_behalf": "", "applicant_name": "张三", "id_number": ID_A, "region_code": "150105001"},
    )
    assert response.status_code == 200
    assert "没有登记身份证号码" in response.content.decode()
    assert not Case.objects.exists()


def test_portal_case_shows_the_delivery_deadline_after_the_decision(login: Login) -> None:
    """The applicant's page counts the days to the deadline it names: after the decision, delivery."""
    from sanji.cases import services
    from sanji.cases.tests.conftest import actor_at
    from sanji.core.actors import system_actor

    _client, user = _portal_client()
    window = actor_at(Role.WINDOW_CLERK, SAIHAN_CA_WINDOW)
    case, _code = services.case_receive(
        actor=window,
        matter_code="T-IMM",
        applicant_name="王五",
        applicant_id_number=ID_B,
        applicant_user_id=user.pk,
    )
    services.case_act(actor=window, case_id=case.pk, action="accept", expected_version=case.version)
    case.refresh_from_db()
    services.case_act(
        actor=actor_at(Role.APPROVER, SAIHAN_CA_OFFICE),
        case_id=case.pk,
        action="approve",
        expected_version=case.version,
        opinion="准予",
    )
    with clock.frozen(dt.datetime(2026, 3, 13, 2, tzinfo=dt.UTC)):  # promised 03-03, delivery 03-17
        services.case_deadlines_refresh(actor=system_actor("test-sweep"))
        client = Client()
        sign_in(client, user)
        html = page(client, "portal:case", case.pk)
    promised = html.split("承诺办结日期", 1)[1].split("</tr>", 1)[0]
    assert "2026-03-03" in promised
    assert "个工作日" not in promised  # no longer running: the days count to delivery
    delivery = html.split('class="delivery-due"', 1)[1].split("</tr>", 1)[0]
    assert "送达期限" in delivery
    assert "2026-03-17" in delivery
    assert "剩 2 个工作日" in delivery


def test_portal_withdraw_and_other_applicants_get_not_found(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path
    client, user = _portal_client()
    client.post(
        reverse("portal:apply", args=["T-PRO"]),
        {"applicant_name": "王五", "id_number": ID_B, "region_code": "150105", "title": ""},
    )
    case = Case.objects.get(applicant=user)
    upload_required(Actor(user_id=user.pk, username=user.username), case)
    client.post(reverse("portal:act", args=[case.pk, "submit"]), {"submit-expected_version": case.version})
    case.refresh_from_db()
    assert case.state == "submitted"
    other, _ = _portal_client("zhaoliu", ID_A)
    assert other.get(reverse("portal:case", args=[case.pk])).status_code == 404
    assert other.get(reverse("cases:print", args=[case.pk, "receipt"])).status_code == 404
    response = other.post(
        reverse("portal:act", args=[case.pk, "withdraw"]), {"withdraw-expected_version": case.version}
    )
    assert response.status_code == 404
    assert other.post(reverse("portal:act", args=[case.pk, "accept"]), {}).status_code == 404
    response = client.post(
        reverse("portal:act", args=[case.pk, "withdraw"]), {"withdraw-expected_version": case.version}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == "withdrawn"
    # A second withdraw on the stale page: refused with a message, nothing changes.
    response = client.post(
        reverse("portal:act", args=[case.pk, "withdraw"]), {"withdraw-expected_version": case.version - 1}
    )
    assert response.status_code == 409
    assert "刷新" in response.content.decode()


def test_anonymous_progress_query(login: Login) -> None:
    client = clerk(login)
    client.post(
        reverse("cases:receive"),
        {"matter_code": "T-PRO", "id_number": ID_A, "applicant_name": "张三丰"},
    )
    case = Case.objects.get()
    notice = page(client, "cases:print", case.pk, "receipt")
    code = notice.split('class="mono query-code">')[1].split("<")[0]
    anonymous = Client()
    response = anonymous.post(reverse("portal:query"), {"number": case.number, "code": code.lower()})
    assert response.status_code == 200
    html = response.content.decode()
    assert "已接件" in html
    assert "张**" in html
    assert "张三丰" not in html
    assert ID_A not in html
    wrong_code = anonymous.post(reverse("portal:query"), {"number": case.number, "code": "AAAAAAAA"})
    wrong_number = anonymous.post(reverse("portal:query"), {"number": "150105-20260303-9999", "code": code})
    assert wrong_code.status_code == wrong_number.status_code == 404
    assert "办件编号或查询码不正确" in wrong_code.content.decode()
    assert "办件编号或查询码不正确" in wrong_number.content.decode()
    for _ in range(10):
        anonymous.post(reverse("portal:query"), {"number": case.number, "code": "AAAAAAAA"})
    throttled = anonymous.post(reverse("portal:query"), {"number": case.number, "code": code})
    assert throttled.status_code == 429


def test_case_step_units_are_shown(login: Login) -> None:
    client = clerk(login)
    case = receive(client, "T-PRO")
    act(client, case, "accept")
    html = page(client, "cases:detail", case.pk)
    step = CaseStep.objects.get(case=case, order=2)
    assert step.unit is not None
    assert step.unit.name in html


# --- notices of matters that are not licences ------------------------------------------------------


def publish_immediate(code: str, matter_type: str) -> None:
    """An immediate matter like T-IMM, of another legal category (权力类型)."""
    from sanji.cases.tests.conftest import MATERIALS, MATTERS
    from sanji.catalog import services as catalog

    terms, steps, _online = MATTERS["T-IMM"]
    matter = catalog.matter_create(
        actor=SYSTEM,
        code=code,
        details=catalog.MatterDetails(
            name=f"测试事项 {code}", matter_type=matter_type, legal_basis="测试依据"
        ),
        terms=terms,
    )
    catalog.flow_version_publish(actor=SYSTEM, matter=matter, steps=steps, materials=MATERIALS)


def test_benefit_notices_do_not_cite_the_licensing_law(login: Login) -> None:
    """最低生活保障审批 is 行政给付: its acceptance notice and decision are no licence documents."""
    from sanji.catalog.models import MatterType

    publish_immediate("T-BEN", MatterType.BENEFIT)
    client = clerk(login)
    case = receive(client, "T-BEN")
    act(client, case, "accept")
    acceptance = page(client, "cases:print", case.pk, "acceptance")
    assert "行政许可" not in acceptance
    assert "本机关决定予以受理" in acceptance
    act(login(Role.APPROVER, SAIHAN_CA_OFFICE), case, "approve", opinion="符合条件，准予")
    decision = page(client, "cases:print", case.pk, "decision")
    assert "行政许可" not in decision
    assert "<title>准予给付决定书" in decision
    assert '<h1 class="notice-title">准予给付决定书' in decision
    assert "你（单位）申请的“测试事项 T-BEN”事项符合规定条件，本机关决定准予办理。" in decision
    detail = page(client, "cases:detail", case.pk)
    assert "给付决定书</a>" in detail
    assert "行政许可决定书" not in detail


def test_public_service_correction_and_denial_state_the_facts_and_the_remedies(login: Login) -> None:
    from sanji.catalog.models import MatterType

    publish_immediate("T-SVC", MatterType.PUBLIC_SERVICE)
    client = clerk(login)
    case = receive(client, "T-SVC", received_1="")
    act(client, case, "request_correction", missing_items=["居民身份证复印件"])
    correction = page(client, "cases:print", case.pk, "correction")
    assert "行政许可" not in correction
    assert "依照法律规定" not in correction
    assert "申请材料不齐全或者不符合规定形式，现一次性告知你（单位）需要补正的全部内容如下" in correction
    assert "居民身份证复印件" in correction
    act(client, case, "supplement")
    act(client, case, "accept")
    act(login(Role.APPROVER, SAIHAN_CA_OFFICE), case, "deny", reason="不符合条件")
    decision = page(client, "cases:print", case.pk, "decision")
    assert "行政许可" not in decision
    assert '<h1 class="notice-title">不予办理决定书' in decision
    assert "事项不符合规定条件，本机关决定不予办理。" in decision
    for text in ("不符合条件", "60日", "行政复议", "6个月", "行政诉讼"):
        assert text in decision
    assert "办理决定书</a>" in page(client, "cases:detail", case.pk)


def test_licence_notices_keep_citing_the_licensing_law(login: Login) -> None:
    client = clerk(login)
    case = receive(client, "T-IMM", received_1="")
    act(client, case, "request_correction", missing_items=["居民身份证复印件"])
    assert "第三十二条第一款第（四）项" in page(client, "cases:print", case.pk, "correction")
    act(client, case, "supplement")
    act(client, case, "accept")
    assert "第三十二条第一款第（五）项" in page(client, "cases:print", case.pk, "acceptance")
    act(login(Role.APPROVER, SAIHAN_CA_OFFICE), case, "approve", opinion="准予")
    decision = page(client, "cases:print", case.pk, "decision")
    assert '<h1 class="notice-title">准予行政许可决定书' in decision
    assert "第三十八条第一款" in decision
    assert "行政许可决定书</a>" in page(client, "cases:detail", case.pk)
