"""Browser tests of the case pages: Playwright driving Debian's Chromium against a live server.

Each kind of case (即办件, 承诺件, 联办件, 上报件) is walked end to end through the pages the way the
people at their workstations do it, plus the citizen portal and the refusals. Everything is seeded
through the real services: the Hohhot divisions and organisation, the working-day calendar, the
seeded matter catalogue, and people each with a terminal (终端) registered at their unit by the
security administrator, as :mod:`sanji.ops.demo` does (the ``city`` fixture of :mod:`sanji.e2e.conftest`).
Every workstation is its own browser context enrolled at its unit's terminal (a browser enrolled at one
unit cannot sign in a person of another).

The clock is frozen on a working Tuesday of a configured calendar year (the frozen clock is global,
so the live server's thread sees it too); every page visited must be free of console errors and
CSP violations and answer below 400, except the deliberate 404s and 409s.
"""

from __future__ import annotations

import datetime as dt
import re
import struct
import zlib
from typing import Any

import pytest
from playwright.sync_api import expect

from sanji.accounts import services as account_services
from sanji.catalog.seed_matters import THREE_LEVEL_MATTER_CODE
from sanji.core import clock
from sanji.core.roles import Role
from sanji.e2e.conftest import PASSWORD, City, Person, Station, sign_in

#: The last of the 5 working days of ZJ-0001's publicity started on T0 (Tuesday 2026-03-03).
PUBLICITY_LAST_DAY = dt.datetime(2026, 3, 10, 2, 0, tzinfo=dt.UTC)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

#: Valid citizen ID numbers (GB 11643 check digits).
ID_A = "11010519491231002X"
ID_B = "150102199003071237"
#: A valid unified social credit code (GB 32100) of an enterprise applicant.
USCC = "91150100MA0N000000"

# Matters of the seeded catalogue (sanji.catalog.seed_matters), one of each kind.
IMMEDIATE = "MZ-0003"  # 结婚登记: accepted, decided and delivered at the district window
PROMISED = "MZ-0007"  # 收养登记: district window → reviewer → approver → window
JOINT = "ZJ-0002"  # 建设项目竣工联合验收: city housing and natural resources give opinions in parallel
REPORTED = THREE_LEVEL_MATTER_CODE  # 公共租赁住房保障资格审核: community → district → city → community
ONLINE = "WJ-0003"  # 公共场所卫生许可: applied for online at the district

# Units of the seeded organisation.
SAIHAN_CA_WINDOW = "150105-CSC-W-civil_affairs"
SAIHAN_CA_OFFICE = "150105-DEPT-civil_affairs"
SAIHAN_HOUSING_WINDOW = "150105-CSC-W-housing"
SAIHAN_HOUSING_OFFICE = "150105-DEPT-housing"
SAIHAN_HEALTH_WINDOW = "150105-CSC-W-health"
XINCHENG_CA_WINDOW = "150102-CSC-W-civil_affairs"
CITY_HOUSING_WINDOW = "150100-GSC-W-housing"
CITY_HOUSING_OFFICE = "150100-DEPT-housing"
CITY_NR_OFFICE = "150100-DEPT-natural_resources"
JIANKANG_STATION = "150105001001-CS"  # 健康社区公共服务站


def png_bytes(size: int = 16) -> bytes:
    """A real (tiny, grey) PNG image, as a scanner would produce it."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes((x * 16 + y) % 256 for x in range(size)) for y in range(size))
    header = struct.pack(">IIBBBBB", size, size, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def pdf_bytes(text: str) -> bytes:
    """A real one-page PDF with correct cross-reference offsets."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text.encode().hex()}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def scan(name: str, kind: str = "png") -> dict[str, Any]:
    if kind == "pdf":
        return {"name": f"{name}.pdf", "mimeType": "application/pdf", "buffer": pdf_bytes(name)}
    return {"name": f"{name}.png", "mimeType": "image/png", "buffer": png_bytes()}


def receive(
    station: Station,
    matter: str,
    *,
    id_number: str,
    name: str = "",
    received: tuple[int, ...] = (),
    scans: dict[int, dict[str, Any]] | None = None,
    registered: bool = False,
) -> int:
    """接件 at a window: look the applicant up, choose the matter, tick and scan the materials."""
    page = station.page
    if page.locator("header nav a:text-is('接件')").count():
        page.click("header nav a:text-is('接件')")
    else:  # from the workbench (工作台) just after signing in
        page.click("main a.card:has(h3:text-is('窗口接件'))")
    expect(page.locator("h1")).to_have_text("接件")
    page.fill("#id_number_lookup", id_number)
    page.select_option("#matter_code", matter)
    page.click("form[method=get] button[type=submit]")
    if registered:
        expect(page.locator(".lookup-result")).to_contain_text("已注册申请人")
        expect(page.locator("input[name=applicant_name]")).to_have_value(name)
    else:
        page.fill("input[name=applicant_name]", name)
    form = page.locator("form[enctype='multipart/form-data']")
    rows = form.locator("table.checklist tbody tr")
    assert rows.count() >= 2
    for i in received:
        form.locator(f"input[name=received_{i}]").check()
    for i, file in (scans or {}).items():
        form.locator(f"input[name=scan_{i}]").set_input_files(file)
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    problems = page.locator("ul.problems, .errorlist, p.error")
    assert problems.count() == 0, problems.all_inner_texts()
    expect(page.locator("ul.messages")).to_contain_text("已接件")
    return station.case_id()


def assert_events(station: Station, expected: list[tuple[str, Person]]) -> None:
    """The history lists each step, in order, with who did it and at which terminal."""
    history = station.history()
    seen = [(row["操作"], row["办理人"], row["终端"]) for row in history]
    assert seen == [(label, p.username, p.terminal) for label, p in expected], seen


# --- 1. 即办件 --------------------------------------------------------------------------------------


def test_immediate_case_at_the_district_window(city: City) -> None:
    account_services.applicant_register(
        username="lisi",
        full_name="李四",
        id_number=ID_B,
        phone="13900000000",
        password=PASSWORD,
        ip="1.2.3.4",
    )
    clerk_p = city.person("saihan.clerk", "王芳", Role.WINDOW_CLERK, SAIHAN_CA_WINDOW)
    clerk = city.sign_in(clerk_p)
    id_scan = scan("双方身份证", "pdf")
    receive(
        clerk,
        IMMEDIATE,
        id_number=ID_B,
        name="李四",
        registered=True,
        received=(0, 1, 2),
        scans={0: id_scan, 1: scan("合影照片")},
    )
    number = clerk.case_number()
    assert re.fullmatch(r"150105-\d{8}-\d{4,}", number), number
    expect(clerk.page.locator("p.code-pending")).to_contain_text("查询码只显示一次")
    materials = clerk.page.locator("ul.materials")
    expect(materials).to_contain_text("双方身份证.pdf")
    expect(materials).to_contain_text("合影照片.png")
    # The scan is stored as received and served back to those who may see the case.
    with clerk.page.expect_download() as download:
        materials.locator("a:text-is('男女双方居民身份证')").click()
    assert download.value.suggested_filename == "双方身份证.pdf"
    with open(download.value.path(), "rb") as fh:
        assert fh.read() == id_scan["buffer"]
    assert {"accept", "request_correction", "refuse"} <= set(clerk.actions())
    clerk.act("accept")
    assert clerk.state() == "办理中"
    # The acceptance notice: printed first, it carries the one-time query code.
    clerk.page.click("ul.notices a:has-text('受理通知书')")
    notice = clerk.page.locator("article.notice")
    expect(notice).to_contain_text("受理通知书")
    expect(notice).to_contain_text(number)
    expect(notice.locator(".query-code")).to_have_text(re.compile(r"^[A-Z0-9]{8}$"))
    clerk.page.click("a:has-text('返回')")
    # 即办件: decided on the spot by the window clerk, as the catalogue's flow names.
    assert "approve" in clerk.actions(), clerk.actions()
    clerk.act("approve", opinion="双方自愿，符合结婚条件，准予登记")
    assert "deliver" in clerk.actions(), clerk.actions()
    clerk.act("deliver", delivery_method="window", certificate_no="J150105-2026-000123")
    clerk.act("complete")
    assert clerk.state() == "已办结"
    expect(clerk.page.locator("table.facts")).to_contain_text("J150105-2026-000123")
    assert_events(
        clerk,
        [
            ("接件", clerk_p),
            ("受理", clerk_p),
            ("准予", clerk_p),
            ("送达", clerk_p),
            ("办结", clerk_p),
        ],
    )
    clerk.page.click("ul.notices a:has-text('办理决定书')")
    expect(clerk.page.locator("article.notice")).to_contain_text(number)
    expect(clerk.page.locator("article.notice")).to_contain_text("J150105-2026-000123")
    clerk.assert_clean()


# --- 2. 承诺件 with a one-time correction notice --------------------------------------------------


def test_promised_case_with_one_time_correction_notice(city: City) -> None:
    clerk_p = city.person("saihan.clerk", "王芳", Role.WINDOW_CLERK, SAIHAN_CA_WINDOW)
    reviewer_p = city.person("saihan.reviewer", "李强", Role.REVIEWER, SAIHAN_CA_OFFICE)
    approver_p = city.person("saihan.approver", "赵刚", Role.APPROVER, SAIHAN_CA_OFFICE)
    clerk = city.sign_in(clerk_p)
    # Materials 0 and 2 brought (one scanned); 1, 3 and 4 missing.
    case_id = receive(
        clerk,
        PROMISED,
        id_number=ID_A,
        name="张三",
        received=(0, 2),
        scans={0: scan("收养登记申请书", "pdf")},
    )
    number = clerk.case_number()
    form = clerk.page.locator("form.action-request_correction")
    # The checklist's unticked materials are the notice's default content.
    checked = form.locator("input[type=checkbox]:checked").evaluate_all("bs => bs.map(b => b.value)")
    assert checked == [
        "收养人居民户口簿和居民身份证",
        "被收养人出生证明或其他身份证明",
        "送养人同意送养的书面意见",
    ]
    # Nothing listed at all is refused, and the case is unchanged.
    with clerk.expect_status(422):
        clerk.fill_action("request_correction", missing_items=[])
        form.locator("button[type=submit]").click()
        expect(clerk.page.locator("form.action-request_correction")).to_contain_text("一次性列明")
    assert clerk.state() == "已接件"
    clerk.act(
        "request_correction",
        missing_items=["收养人居民户口簿和居民身份证", "被收养人出生证明或其他身份证明"],
        other_items="送养人同意送养的书面意见（须本人签字）\n收养能力评估报告",
        reason="请于5个工作日内一次性补齐",
    )
    assert clerk.state() == "待补正"
    # The one-time notice lists every item.
    clerk.page.click("ul.notices a:has-text('一次性告知书')")
    notice = clerk.page.locator("article.notice")
    expect(notice).to_contain_text("一次性告知书")
    expect(notice).to_contain_text(number)
    for item in (
        "收养人居民户口簿和居民身份证",
        "被收养人出生证明或其他身份证明",
        "送养人同意送养的书面意见（须本人签字）",
        "收养能力评估报告",
    ):
        expect(notice).to_contain_text(item)
    expect(notice.locator(".query-code")).to_have_count(1)  # first printed notice carries the code
    clerk.page.click("a:has-text('返回')")
    # The applicant comes back with everything: scanned, then supplemented and accepted.
    clerk.upload("收养人居民户口簿和居民身份证", scan("户口簿"))
    clerk.upload("被收养人出生证明或其他身份证明", scan("出生证明", "pdf"))
    clerk.act("supplement", opinion="材料已补齐")
    assert clerk.state() == "已接件"
    clerk.act("accept")
    assert clerk.state() == "办理中"
    expect(clerk.page.locator("table.deadlines")).to_contain_text("承诺期限")
    expect(clerk.page.locator("table.deadlines")).to_contain_text("剩 20 个工作日")
    assert "complete_step" not in clerk.actions()  # the review is the reviewer's
    clerk.assert_clean()

    reviewer = city.sign_in(reviewer_p)
    assert number in reviewer.worklist("to_handle")
    reviewer.page.click(f"table.worklist a:has-text('{number}')")
    # An opinion is required: the browser does not even send the empty form.
    reviewer.page.locator("form.action-complete_step button[type=submit]").click()
    opinion = reviewer.page.locator("textarea[name='complete_step-opinion']")
    assert opinion.evaluate("e => e.validity.valueMissing")
    assert "complete_step" in reviewer.actions()
    reviewer.act("complete_step", opinion="收养关系成立条件具备，材料齐全")
    expect(reviewer.page.locator(".step.current")).to_contain_text("审批决定")
    reviewer.assert_clean()

    approver = city.sign_in(approver_p)
    approver.open_case(case_id)
    approver.act("approve", opinion="准予收养登记")
    approver.assert_clean()

    clerk.page.reload()
    assert clerk.state() == "准予"
    clerk.act("deliver", delivery_method="window", certificate_no="SY150105-2026-0042")
    clerk.act("complete")
    assert clerk.state() == "已办结"
    assert_events(
        clerk,
        [
            ("接件", clerk_p),
            ("一次性告知补正", clerk_p),
            ("补正材料", clerk_p),
            ("受理", clerk_p),
            ("办结本环节", reviewer_p),
            ("准予", approver_p),
            ("送达", clerk_p),
            ("办结", clerk_p),
        ],
    )
    expect(clerk.page.locator("table.history")).to_contain_text("收养能力评估报告")
    expect(clerk.page.locator("ul.materials li")).to_have_count(3)
    clerk.assert_clean()


# --- 3. 联办件: parallel opinions, joined when all have answered ----------------------------------


def test_joint_case_through_each_departments_reviewer(city: City) -> None:
    clerk_p = city.person("city.housing.clerk", "刘洋", Role.WINDOW_CLERK, CITY_HOUSING_WINDOW)
    housing_p = city.person("city.housing.reviewer", "高明", Role.REVIEWER, CITY_HOUSING_OFFICE)
    resources_p = city.person("city.nr.reviewer", "韩雪", Role.REVIEWER, CITY_NR_OFFICE)
    head_p = city.person("city.housing.head", "孙涛", Role.DEPARTMENT_HEAD, CITY_HOUSING_OFFICE)
    clerk = city.sign_in(clerk_p)
    case_id = receive(
        clerk,
        JOINT,
        id_number=USCC,
        name="呼和浩特市某建设有限公司",
        received=(0, 1, 2, 3, 4),
        scans={1: scan("竣工验收报告", "pdf")},
    )
    number = clerk.case_number()
    clerk.act("accept")
    # Two departments at once: the stage is shown side by side.
    stage = clerk.page.locator("ol.stages li.stage.parallel")
    expect(stage.locator(".step.current")).to_have_count(2)
    expect(stage).to_contain_text("并行会签")
    assert "complete_step" not in clerk.actions()
    clerk.assert_clean()

    housing = city.sign_in(housing_p)
    resources = city.sign_in(resources_p)
    for station in (housing, resources):
        assert number in station.worklist("to_handle")
        station.page.click(f"table.worklist a:has-text('{number}')")
        assert "complete_step" in station.actions()
        assert "approve" not in station.actions()
    housing.act("complete_step", opinion="住建意见：工程质量验收合格")
    # Housing has answered; the stage waits for natural resources.
    assert "complete_step" not in housing.actions()
    expect(housing.page.locator("ol.stages li.stage.parallel .step.current")).to_have_count(2)
    resources.page.reload()
    resources.act("complete_step", opinion="自然资源意见：规划核实合格")
    expect(resources.page.locator(".step.current")).to_contain_text("3.")  # joined: on to the decision
    expect(resources.page.locator("ol.stages")).to_contain_text("住建意见：工程质量验收合格")
    housing.assert_clean()
    resources.assert_clean()

    head = city.sign_in(head_p)
    head.open_case(case_id)
    head.act("approve", opinion="联合验收通过")
    head.assert_clean()

    clerk.page.reload()
    clerk.act("deliver", delivery_method="electronic", certificate_no="LY150100-2026-0007")
    clerk.act("complete")
    assert clerk.state() == "已办结"
    assert_events(
        clerk,
        [
            ("接件", clerk_p),
            ("受理", clerk_p),
            ("办结本环节", housing_p),
            ("办结本环节", resources_p),
            ("准予", head_p),
            ("送达", clerk_p),
            ("办结", clerk_p),
        ],
    )
    clerk.assert_clean()


# --- 4. 上报件: community → district → city → back down ---------------------------------------------


def test_reported_case_community_district_city_and_back_down(city: City) -> None:
    worker_p = city.person("jiankang.worker", "其其格", Role.COMMUNITY_WORKER, JIANKANG_STATION)
    district_clerk_p = city.person("saihan.housing.clerk", "王芳", Role.WINDOW_CLERK, SAIHAN_HOUSING_WINDOW)
    district_reviewer_p = city.person("saihan.housing.reviewer", "李强", Role.REVIEWER, SAIHAN_HOUSING_OFFICE)
    city_reviewer_p = city.person("city.housing.reviewer", "高明", Role.REVIEWER, CITY_HOUSING_OFFICE)
    city_approver_p = city.person("city.housing.approver", "陈静", Role.APPROVER, CITY_HOUSING_OFFICE)

    # The community station takes the application and scans the certificates for the district.
    worker = city.sign_in(worker_p)
    case_id = receive(
        worker,
        REPORTED,
        id_number=ID_A,
        name="张三",
        received=(0, 1, 2, 3, 4, 5, 6),
        scans={0: scan("公共租赁住房申请表", "pdf")},
    )
    number = worker.case_number()
    assert number == "150105001001-20260303-0001", number  # numbered by the receiving community
    worker.upload("申请人及共同申请人居民身份证", scan("身份证"))
    worker.upload("家庭收入证明", scan("收入证明", "pdf"))
    expect(worker.page.locator("ul.materials li")).to_have_count(3)
    assert "accept" not in worker.actions()  # acceptance is at the district
    worker.act("report_up", opinion="材料已扫描，报赛罕区住建窗口")
    assert worker.state() == "已上报"
    assert number in worker.worklist("reported_up")
    worker.assert_clean()

    # The district window takes it over and accepts; its reviewer reviews and reports to the city.
    district_clerk = city.sign_in(district_clerk_p)
    assert number in district_clerk.worklist("to_receive")
    district_clerk.page.click(f"table.worklist a:has-text('{number}')")
    expect(district_clerk.page.locator("ul.materials li")).to_have_count(3)  # the community's scans
    district_clerk.act("take_over")
    assert district_clerk.state() == "已接件"
    district_clerk.act("accept")
    assert district_clerk.state() == "办理中"
    district_clerk.assert_clean()

    district_reviewer = city.sign_in(district_reviewer_p)
    assert number in district_reviewer.worklist("to_handle")
    district_reviewer.page.click(f"table.worklist a:has-text('{number}')")
    assert "complete_step" not in district_reviewer.actions()  # this step ends by reporting up
    district_reviewer.act("report_up", opinion="区级初审通过，报市住建局")
    assert district_reviewer.state() == "已上报"
    district_reviewer.assert_clean()

    # The city takes over, reviews, publicises and decides.
    city_reviewer = city.sign_in(city_reviewer_p)
    assert number in city_reviewer.worklist("to_receive")
    city_reviewer.page.click(f"table.worklist a:has-text('{number}')")
    city_reviewer.act("take_over")
    assert city_reviewer.state() == "办理中"
    city_reviewer.act("complete_step", opinion="市级复核通过")
    # The publicity (审核结果公示) runs its 5 working days: no button to close it before the last one.
    expect(city_reviewer.page.locator("form.action-complete_step")).to_have_count(0)
    city_reviewer.assert_clean()

    with clock.frozen(PUBLICITY_LAST_DAY):  # a week on: everybody signs in again
        city_reviewer = city.sign_in(city_reviewer_p)
        city_reviewer.open_case(case_id)
        city_reviewer.act("complete_step", opinion="公示期满无异议")
        city_reviewer.assert_clean()

        city_approver = city.sign_in(city_approver_p)
        assert number in city_approver.worklist("to_handle")
        city_approver.page.click(f"table.worklist a:has-text('{number}')")
        city_approver.act("approve", opinion="准予公共租赁住房保障资格")
        assert "deliver" not in city_approver.actions()
        city_approver.act("return_down")
        city_approver.assert_clean()

        # The result returns down to the station that took the application, which delivers it.
        worker = city.sign_in(worker_p)
        assert number in worker.worklist("returned")
        worker.page.click(f"table.worklist a:has-text('{number}')")
        worker.act("deliver", delivery_method="window", certificate_no="GZ150100-2026-0101")
        worker.act("complete")
        assert worker.state() == "已办结"
        assert_events(
            worker,
            [
                ("接件", worker_p),
                ("上报", worker_p),
                ("接收上报件", district_clerk_p),
                ("受理", district_clerk_p),
                ("上报", district_reviewer_p),
                ("接收上报件", city_reviewer_p),
                ("办结本环节", city_reviewer_p),
                ("办结本环节", city_reviewer_p),
                ("准予", city_approver_p),
                ("结果下发", city_approver_p),
                ("送达", worker_p),
                ("办结", worker_p),
            ],
        )
        # Every level sees the whole history.
        district_clerk = city.sign_in(district_clerk_p)
        district_reviewer = city.sign_in(district_reviewer_p)
        for station in (district_clerk, district_reviewer, city_reviewer, city_approver):
            station.open_case(case_id)
            history = station.page.locator("table.history")
            expect(history).to_contain_text("材料已扫描，报赛罕区住建窗口")
            expect(history).to_contain_text("区级初审通过，报市住建局")
            expect(history).to_contain_text("GZ150100-2026-0101")
            station.assert_clean()
        worker.assert_clean()


# --- 5. the citizen portal -------------------------------------------------------------------------


def test_citizen_applies_online_supplements_and_anyone_queries_progress(city: City) -> None:
    clerk_p = city.person("saihan.health.clerk", "乌云", Role.WINDOW_CLERK, SAIHAN_HEALTH_WINDOW)
    citizen = city.station()  # a home computer: no terminal
    page = citizen.page
    page.goto("/portal/")
    page.click("main a:text-is('注册')")
    page.fill("input[name=username]", "wangwu")
    page.fill("input[name=full_name]", "王五")
    page.fill("input[name=id_number]", ID_B)
    page.fill("input[name=phone]", "13700000000")
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=password_again]", PASSWORD)
    page.click("main button[type=submit]")
    expect(page.locator("ul.messages")).to_contain_text("注册成功")
    page.fill("input[name=username]", "wangwu")
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    expect(page.locator("h1")).to_have_text("我的办件")
    expect(page.locator("header .terminal")).to_have_count(0)

    # Apply online: the draft, its materials, then submit.
    page.click("main a:text-is('网上申报')")
    page.click(f"tr:has-text('{ONLINE}') a:text-is('在线申请')")
    # For oneself by default: the account's name and ID number, shown, not typed; the agent's
    # fields (代办) appear only when applying for somebody else.
    self_row = page.locator("table.applicant-self")
    expect(self_row).to_contain_text("王五")
    expect(self_row).to_contain_text("150102********1237")
    expect(page.locator("fieldset.agent")).to_be_hidden()
    page.check("input[name=on_behalf][value='1']")
    expect(page.locator("fieldset.agent input[name=agent_relation]")).to_be_visible()
    expect(self_row).to_be_hidden()
    page.check("input[name=on_behalf][value='']")
    expect(page.locator("fieldset.agent")).to_be_hidden()
    page.select_option("select[name=region_code]", "150105")
    page.fill("input[name=title]", "某某宾馆公共场所卫生许可")
    page.click("main form button[type=submit]")
    expect(page.locator("ul.messages")).to_contain_text("草稿")
    code = str(page.locator(".query-code").inner_text()).strip()
    assert re.fullmatch(r"[A-Z0-9]{8}", code), code
    number = citizen.case_number()
    portal_case_url = page.url
    assert page.locator("table.facts").inner_text().count("草稿") == 1
    citizen.upload("公共场所卫生许可申请表", scan("卫生许可申请表", "pdf"))
    citizen.upload("营业执照", scan("营业执照"))
    expect(page.locator(".query-code")).to_have_count(0)  # shown once only
    # Not submitted while required materials have no file: the page names them.
    expect(page.locator(".still-missing")).to_contain_text("公共场所卫生管理制度")
    with citizen.expect_status(422):
        page.click("form.action-submit button[type=submit]")
        expect(page.locator(".action-error").first).to_contain_text("尚缺：公共场所地址方位示意图")
    expect(page.locator("table.facts")).to_contain_text("草稿")
    citizen.upload("公共场所地址方位示意图、平面图和卫生设施平面布局图", scan("平面图", "pdf"))
    citizen.upload("公共场所卫生检测或者评价报告", scan("检测报告", "pdf"))
    citizen.upload("公共场所卫生管理制度", scan("管理制度", "pdf"))
    expect(page.locator(".still-missing")).to_have_count(0)
    page.click("form.action-submit button[type=submit]")
    expect(page.locator("ul.messages")).to_contain_text("已完成")
    expect(page.locator("table.facts")).to_contain_text("已网上申报")
    citizen.assert_clean()

    # The district's health window pre-checks it and asks, once, for what is not right.
    clerk = city.sign_in(clerk_p)
    assert number in clerk.worklist("to_receive")
    clerk.page.click(f"table.worklist a:has-text('{number}')")
    expect(clerk.page.locator("ul.materials li")).to_have_count(5)
    clerk.act("precheck_pass", opinion="格式审查通过")
    # Everything required was uploaded: the notice form names it all as received, ticks nothing.
    correction = clerk.page.locator("form.action-request_correction")
    expect(correction.locator("input[value='公共场所卫生检测或者评价报告']")).not_to_be_checked()
    expect(correction.locator("input[value='公共场所卫生许可申请表']")).not_to_be_checked()
    expect(correction).to_contain_text("公共场所卫生许可申请表（已收到）")
    expect(correction).to_contain_text("公共场所卫生管理制度（已收到）")
    clerk.act(
        "request_correction",
        missing_items=["公共场所卫生检测或者评价报告", "公共场所卫生管理制度"],
        other_items="",
    )
    assert clerk.state() == "待补正"
    clerk.assert_clean()

    # The citizen sees the notice and supplements with a file for each item: one missing, refused whole.
    page.goto(portal_case_url)
    notice = page.locator("section.correction-notice")
    expect(notice.locator("ol.missing-items li")).to_have_text(
        ["公共场所卫生检测或者评价报告", "公共场所卫生管理制度"]
    )
    supplement = notice.locator("form.action-supplement")
    with citizen.expect_status(422):
        supplement.get_by_label("公共场所卫生检测或者评价报告").set_input_files(scan("检测报告", "pdf"))
        supplement.locator("button[type=submit]").click()
        expect(page.locator(".action-error")).to_contain_text("公共场所卫生管理制度")
    expect(page.locator("table.facts")).to_contain_text("待补正")
    supplement.get_by_label("公共场所卫生检测或者评价报告").set_input_files(scan("检测报告", "pdf"))
    supplement.get_by_label("公共场所卫生管理制度").set_input_files(scan("管理制度", "pdf"))
    supplement.locator("button[type=submit]").click()
    expect(page.locator("ul.messages")).to_contain_text("补正材料已提交")
    expect(page.locator("table.facts")).to_contain_text("已接件")
    expect(page.locator("section.correction-notice")).to_have_count(0)
    page.click("ul.notices a:has-text('一次性告知书')")
    expect(page.locator("article.notice")).to_contain_text("公共场所卫生管理制度")
    page.click("a:has-text('返回')")
    page.click("header nav a:text-is('我的办件')")
    expect(page.locator("main table")).to_contain_text(number)
    citizen.assert_clean()

    clerk.page.reload()
    expect(clerk.page.locator("ul.materials li")).to_have_count(7)
    assert "accept" in clerk.actions()
    clerk.assert_clean()

    # Anybody may query the progress with the number and the query code, without logging in.
    visitor = city.station()
    query = visitor.page
    query.goto("/portal/query/")
    query.fill("input[name=number]", number)
    query.fill("input[name=code]", code)
    query.click("main form button[type=submit]")
    result = query.locator("section.progress-result")
    expect(result).to_contain_text(number)
    expect(result).to_contain_text("已接件")
    expect(result).to_contain_text("王*")
    expect(result).not_to_contain_text("王五")
    expect(result).not_to_contain_text(ID_B)
    answers = []
    for wrong_number, wrong_code in ((number, "AAAAAAAA"), (number[:-1] + "9", code)):
        with visitor.expect_status(404):
            query.fill("input[name=number]", wrong_number)
            query.fill("input[name=code]", wrong_code)
            query.click("main form button[type=submit]")
            expect(query.locator("p.action-error")).to_be_visible()
        expect(query.locator("section.progress-result")).to_have_count(0)
        answers.append(query.locator("p.action-error").inner_text())
    assert answers == ["办件编号或查询码不正确。"] * 2, answers
    visitor.assert_clean()


# --- 6. refusals in the browser ---------------------------------------------------------------------


def test_out_of_reach_is_not_found_and_a_stale_form_is_a_conflict(city: City) -> None:
    clerk_p = city.person("saihan.clerk", "王芳", Role.WINDOW_CLERK, SAIHAN_CA_WINDOW)
    colleague_p = city.person("saihan.clerk2", "白雪", Role.WINDOW_CLERK, SAIHAN_CA_WINDOW)
    xincheng_p = city.person("xincheng.clerk", "马丽", Role.WINDOW_CLERK, XINCHENG_CA_WINDOW)
    clerk = city.sign_in(clerk_p)
    case_id = receive(clerk, PROMISED, id_number=ID_A, name="张三", received=(0, 1, 2, 3, 4))
    number = clerk.case_number()

    # A Xincheng clerk, at the Xincheng window: a Saihan case does not exist for them.
    xincheng = city.sign_in(xincheng_p)
    for url in (f"/cases/{case_id}/", f"/cases/{case_id}/print/receipt/"):
        with xincheng.expect_status(404):
            assert xincheng.goto(url).status == 404
        expect(xincheng.page.locator("body")).not_to_contain_text(number)
    assert number not in xincheng.worklist("all")
    xincheng.assert_clean()
    # Nor may the Xincheng clerk sign in at a Saihan workstation.
    station = city.station()
    sign_in(station.page, xincheng_p.username, PASSWORD, terminal_code=clerk_p.terminal_code)  # Saihan's
    expect(station.page.locator("main [role=alert]")).to_contain_text("终端")
    expect(station.page.locator("header .who")).to_have_count(0)
    station.assert_clean()

    # Two clerks of the same window have the case open; the colleague accepts it first.
    colleague = city.sign_in(colleague_p)
    colleague.open_case(case_id)
    clerk.page.reload()
    assert "accept" in clerk.actions()
    colleague.act("accept")
    colleague.assert_clean()
    # The clerk's page is now stale: accepting again is refused with the conflict message.
    with clerk.expect_status(409):
        clerk.page.locator("form.action-accept button[type=submit]").click()
        expect(clerk.page.locator(".conflict[role=alert]")).to_contain_text("其他人已先处理了此办件")
    assert clerk.state() == "办理中"
    clerk.page.click(".conflict a:text-is('重新加载')")
    assert "accept" not in clerk.actions()
    history = clerk.history()
    assert [(row["操作"], row["办理人"]) for row in history] == [
        ("接件", clerk_p.username),
        ("受理", colleague_p.username),
    ]
    clerk.assert_clean()
