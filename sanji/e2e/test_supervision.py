"""Browser tests of electronic supervision (电子监察) and satisfaction ratings (好差评).

The live board of a city supervisor and of a district supervisor, the lifecycle of a yellow card
(黄牌) from the sweep to a supervision order (督办), and a bad rating's follow-up (差评整改) by the
responsible unit. The world is the one of the case tests (the ``city`` fixture of
:mod:`sanji.e2e.conftest`: people at their units' terminals, the frozen clock); the supervision
sweep is run by the platform in the test, as the scheduler would. Cases are received and decided
through the case pages.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from playwright.sync_api import expect

from sanji.accounts import services as account_services
from sanji.cases.models import Case
from sanji.core import clock
from sanji.core.roles import Role
from sanji.e2e.conftest import PASSWORD, City, Station
from sanji.e2e.test_cases import (
    ID_A,
    ID_B,
    IMMEDIATE,
    PROMISED,
    SAIHAN_CA_OFFICE,
    SAIHAN_CA_WINDOW,
    XINCHENG_CA_WINDOW,
    receive,
    scan,
)
from sanji.evaluation.models import FollowUp, Rating
from sanji.supervision import services as supervision_services
from sanji.supervision.models import Mark, SupervisionOrder

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CITY_SUP = "150100-SUP"
XINCHENG_SUP = "150102-SUP"


def sweep(world: City) -> Any:
    """The periodic sweep (``sanji supervision sweep``), run by the platform at the frozen instant."""
    return supervision_services.supervision_sweep(actor=world.platform)


def accepted_promised_case(clerk: Station, *, id_number: str = ID_A, name: str = "张三") -> tuple[int, str]:
    """A 承诺件 received with all its materials and accepted at the window: on to the office's review."""
    case_id = receive(clerk, PROMISED, id_number=id_number, name=name, received=(0, 1, 2, 3, 4))
    number = clerk.case_number()
    clerk.act("accept")
    assert clerk.state() == "办理中"
    return case_id, number


def board_row(station: Station, table: str, label: str) -> list[str]:
    """The cells of the board row named ``label`` in the table of child places or of units here."""
    tables = station.page.locator("#board table.sup-table")
    where = tables.first if table == "places" else tables.last
    row = where.locator(f"tbody tr:has(a:text-is('{label}'))")
    expect(row).to_have_count(1)
    return [c.strip() for c in row.locator("td").all_inner_texts()]


def tiles(station: Station) -> list[str]:
    return [t.strip() for t in station.page.locator("#board .sup-tile .sup-num").all_inner_texts()]


def after(deadline: dt.datetime, days: int = 1) -> dt.datetime:
    """10:00 Beijing time ``days`` calendar days after the day of ``deadline``."""
    day = deadline.astimezone(clock.CITY_TZ).date() + dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(10, 0), tzinfo=clock.CITY_TZ).astimezone(dt.UTC)


# --- 1. the live board ----------------------------------------------------------------------------


def test_live_board_drills_down_and_a_district_supervisor_sees_only_their_district(city: City) -> None:
    saihan_p = city.person("saihan.clerk", "王芳", Role.WINDOW_CLERK, SAIHAN_CA_WINDOW)
    xincheng_p = city.person("xincheng.clerk", "马丽", Role.WINDOW_CLERK, XINCHENG_CA_WINDOW)
    city_sup_p = city.person("city.sup", "周敏", Role.SUPERVISOR, CITY_SUP)
    xincheng_sup_p = city.person("xincheng.sup", "吴军", Role.SUPERVISOR, XINCHENG_SUP)

    saihan = city.sign_in(saihan_p)
    saihan_id, saihan_number = accepted_promised_case(saihan)
    receive(saihan, IMMEDIATE, id_number=ID_B, name="李四", received=(0, 1, 2))  # received, not accepted
    saihan.assert_clean()
    xincheng = city.sign_in(xincheng_p)
    xincheng_id, xincheng_number = accepted_promised_case(xincheng, id_number=ID_B, name="李四")
    xincheng.assert_clean()
    saihan_case = Case.objects.select_related("current_unit").get(pk=saihan_id)
    assert saihan_case.current_unit.code == SAIHAN_CA_OFFICE, saihan_case.current_unit.code

    # Before any sweep the board says so; after it, it counts.
    city_sup = city.sign_in(city_sup_p, second_factor=True)
    city_sup.goto("/supervision/")
    expect(city_sup.page.locator("h1")).to_have_text("电子监察实时看板")
    expect(city_sup.page.locator("#board")).to_contain_text("尚未运行监察扫描")
    result = sweep(city)
    assert result.problems == [], result.problems
    city_sup.page.reload()
    expect(city_sup.page.locator("#board")).not_to_contain_text("尚未运行监察扫描")
    assert tiles(city_sup) == ["3", "0", "0", "0"], tiles(city_sup)
    expect(city_sup.page.locator("#board .sup-crumbs")).to_have_text("呼和浩特市")
    assert board_row(city_sup, "places", "赛罕区")[1:] == ["2", "0", "0", "0"]
    assert board_row(city_sup, "places", "新城区")[1:] == ["1", "0", "0", "0"]
    city_sup.assert_clean()

    # Drill down: city → district → the unit the case is at → the case and its history.
    city_sup.page.click("#board table.sup-table >> nth=0 >> a:text-is('赛罕区')")
    expect(city_sup.page.locator("#board .sup-crumbs")).to_have_text("呼和浩特市 › 赛罕区")
    assert tiles(city_sup)[0] == "2"
    office = saihan_case.current_unit.name
    assert board_row(city_sup, "units", office)[1:] == ["1", "0", "0", "0"]
    city_sup.page.click(f"#board a:text-is('{office}')")
    expect(city_sup.page.locator("h1")).to_contain_text(office)
    rows = city_sup.page.locator("table.sup-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text(saihan_number)
    expect(rows).to_contain_text("收养登记")
    city_sup.page.click(f"table.sup-table a:text-is('{saihan_number}')")
    expect(city_sup.page.locator("h1")).to_contain_text("办件")
    assert city_sup.case_number() == saihan_number
    assert [row["操作"] for row in city_sup.history()] == ["接件", "受理"]
    city_sup.page.go_back()
    city_sup.page.click("a:has-text('返回看板')")
    expect(city_sup.page.locator("#board .sup-crumbs")).to_have_text("呼和浩特市 › 赛罕区")
    city_sup.assert_clean()

    # A Saihan case made overdue gives a mark the Xincheng supervisor cannot see.
    promised_due = saihan_case.promised_due
    assert promised_due is not None
    with clock.frozen(after(promised_due)):
        sweep(city)
        mark = Mark.objects.get(case_id=saihan_id, rule="yellow_card")
        sup = city.sign_in(xincheng_sup_p, second_factor=True)
        sup.goto("/supervision/")
        expect(sup.page.locator("#board .sup-crumbs")).to_have_text("新城区")  # only the places within reach
        expect(sup.page.locator("#board")).not_to_contain_text("赛罕区")
        assert tiles(sup)[0] == "1"
        expect(sup.page.locator("#board")).not_to_contain_text(saihan_number)
        sup.goto("/supervision/marks/")
        expect(sup.page.locator("main")).not_to_contain_text(saihan_number)
        saihan_path = "150100/150105/"
        assert saihan_case.region_path.endswith(saihan_path), saihan_case.region_path
        for url in (
            f"/supervision/?path={saihan_case.region_path}",
            f"/supervision/marks/{mark.pk}/",
            f"/supervision/board/unit/{saihan_case.current_unit_id}/?path={saihan_case.region_path}",
            f"/cases/{saihan_id}/",
        ):
            with sup.expect_status(404):
                assert sup.goto(url).status == 404, url
            expect(sup.page.locator("body")).not_to_contain_text(saihan_number)
        # Their own district's case is on their board, down to the case.
        sup.goto("/supervision/")
        xincheng_office = Case.objects.select_related("current_unit").get(pk=xincheng_id).current_unit.name
        row = sup.page.locator(f"#board table.sup-table tbody tr:has(a:text-is('{xincheng_office}'))")
        # (open, due soon, overdue; "marks today" is left out: it counts marks by the instant their
        # condition arose — yesterday's deadline — not by when the sweep issued them.)
        expect(row.locator("td").nth(1)).to_have_text("1")
        expect(row.locator("td").nth(3)).to_have_text("1")
        row.locator("a").click()
        sup.page.click(f"table.sup-table a:text-is('{xincheng_number}')")
        assert sup.case_number() == xincheng_number
        sup.assert_clean()


# --- 2. a yellow card's lifecycle ------------------------------------------------------------------


def test_yellow_card_explained_appealed_upheld_and_escalated_to_a_supervision_order(city: City) -> None:
    clerk_p = city.person("saihan.clerk", "王芳", Role.WINDOW_CLERK, SAIHAN_CA_WINDOW)
    reviewer_p = city.person("saihan.reviewer", "李强", Role.REVIEWER, SAIHAN_CA_OFFICE)
    window_colleague_p = city.person("saihan.clerk2", "白雪", Role.WINDOW_CLERK, SAIHAN_CA_WINDOW)
    sup_p = city.person("city.sup", "周敏", Role.SUPERVISOR, CITY_SUP)

    clerk = city.sign_in(clerk_p)
    case_id, number = accepted_promised_case(clerk)
    clerk.assert_clean()
    case = Case.objects.get(pk=case_id)
    assert case.promised_due is not None
    sweep(city)
    assert not Mark.objects.filter(case_id=case_id, rule="yellow_card").exists()

    # The promised deadline passes while the case sits at the office: the sweep shows a yellow card.
    with clock.frozen(after(case.promised_due)):
        first = sweep(city)
        assert first.per_rule.get("yellow_card") == 1, first.per_rule
        assert sweep(city).created == 0  # the same inputs give the same marks
        mark = Mark.objects.get(case_id=case_id, rule="yellow_card")
        assert mark.state == "issued"

        # The responsible unit (the office reviewing the case) finds it under "my marks".
        reviewer = city.sign_in(reviewer_p)
        page = reviewer.page
        reviewer.goto("/supervision/marks/mine/")
        expect(page.locator("h1")).to_have_text("本单位监察标记")
        page.select_option("#severity", "yellow")
        page.click("form.toolbar button[type=submit]")
        row = page.locator("table.sup-table tbody tr", has_text=number)
        expect(row).to_have_count(1)
        expect(row).to_contain_text("黄牌")
        expect(row).to_contain_text("已发出")
        row.locator("td >> nth=0 >> a").click()
        expect(page.locator("h1")).to_contain_text("黄牌")
        expect(page.locator("form.sup-action h3")).to_have_text(["情况说明", "申诉"])
        explain = page.locator("form.sup-action:has(h3:text-is('情况说明'))")
        explain.locator("textarea[name=text]").fill("申请人补充公证材料耗时，已督促尽快办理")
        explain.locator("button[type=submit]").click()
        expect(page.locator("ul.messages")).to_contain_text("已处理")
        expect(page.locator("dl.sup-facts")).to_contain_text("已说明")
        expect(page.locator("dl.sup-facts")).to_contain_text("申请人补充公证材料耗时")
        expect(page.locator("form.sup-action h3")).to_have_text(["申诉"])
        appeal = page.locator("form.sup-action:has(h3:text-is('申诉'))")
        appeal.locator("textarea[name=text]").fill("超期系法定公告期所致，不应计入")
        appeal.locator("button[type=submit]").click()
        expect(page.locator("ul.messages")).to_contain_text("已处理")
        expect(page.locator("dl.sup-facts")).to_contain_text("申诉中")
        expect(page.locator("form.sup-action")).to_have_count(0)  # the rest is the supervisor's
        reviewer.assert_clean()

        # Another unit (even a window of the same department) does not see the mark at all.
        other = city.sign_in(window_colleague_p)
        other.goto("/supervision/marks/mine/")
        expect(other.page.locator("main")).not_to_contain_text(number)
        with other.expect_status(404):
            assert other.goto(f"/supervision/marks/{mark.pk}/").status == 404
        other.assert_clean()

        # The supervisor upholds the mark, then escalates it to a supervision order of 3 working days.
        sup = city.sign_in(sup_p, second_factor=True)
        sp = sup.page
        sup.goto("/supervision/marks/")
        sp.select_option("#rule", "yellow_card")
        sp.click("form.toolbar button[type=submit]")
        sp.locator("table.sup-table tbody tr", has_text=number).locator("td >> nth=0 >> a").click()
        expect(sp.locator("dl.sup-facts")).to_contain_text("超期系法定公告期所致")
        expect(sp.locator("form.sup-action h3")).to_have_text(["撤销", "维持", "转督办"])
        uphold = sp.locator("form.sup-action:has(h3:text-is('维持'))")
        uphold.locator("textarea[name=text]").fill("公告期已计入承诺时限，申诉不成立")
        uphold.locator("button[type=submit]").click()
        expect(sp.locator("ul.messages")).to_contain_text("已处理")
        expect(sp.locator("dl.sup-facts")).to_contain_text("维持")
        expect(sp.locator("dl.sup-facts")).to_contain_text("公告期已计入承诺时限")
        expect(sp.locator("form.sup-action h3")).to_have_text(["转督办"])
        escalate = sp.locator("form.sup-action:has(h3:text-is('转督办'))")
        escalate.locator("textarea[name=text]").fill("请于3个工作日内办结并报送情况")
        escalate.locator("input[name=days]").fill("3")
        escalate.locator("button[type=submit]").click()
        expect(sp.locator("ul.messages")).to_contain_text("已处理")
        expect(sp.locator("dl.sup-facts")).to_contain_text("已督办")
        expect(sp.locator("form.sup-action")).to_have_count(0)
        order = SupervisionOrder.objects.get(mark=mark)
        assert order.days == 3
        due = order.due.astimezone(clock.CITY_TZ).date().isoformat()
        assert order.due > clock.now()
        expect(sp.locator("dl.sup-facts")).to_contain_text(f"期限 {due}")

        # The order page shows its deadline; the unit answers it there, the supervisor closes it.
        sp.click(f"dl.sup-facts a:text-is('#{order.pk}')")
        expect(sp.locator("h1")).to_have_text(f"督办单 #{order.pk}")
        facts = sp.locator("dl.sup-facts")
        expect(facts).to_contain_text(number)
        expect(facts).to_contain_text("请于3个工作日内办结并报送情况")
        expect(facts).to_contain_text(f"{due} （3 个工作日）")
        expect(facts).to_contain_text("督办中")
        expect(sp.locator("form.sup-action h3")).to_have_text(["办结督办"])
        sup.assert_clean()

        reviewer.goto("/supervision/orders/")
        orow = reviewer.page.locator("table.sup-table tbody tr", has_text=number)
        expect(orow).to_contain_text(due)
        orow.locator("td >> nth=0 >> a").click()
        expect(reviewer.page.locator("form.sup-action h3")).to_have_text(["反馈办理情况"])
        answer = reviewer.page.locator("form.sup-action")
        answer.locator("textarea[name=text]").fill("已于当日完成审查，报审批")
        answer.locator("button[type=submit]").click()
        expect(reviewer.page.locator("ul.messages")).to_contain_text("已处理")
        expect(reviewer.page.locator("dl.sup-facts")).to_contain_text("已反馈")
        reviewer.assert_clean()

        sp.reload()
        expect(sp.locator("dl.sup-facts")).to_contain_text("已于当日完成审查，报审批")
        sp.locator("form.sup-action textarea[name=text]").fill("督办完成")
        sp.locator("form.sup-action button[type=submit]").click()
        expect(sp.locator("dl.sup-facts")).to_contain_text("已办结")
        sup.assert_clean()
    mark.refresh_from_db()
    assert mark.state == "escalated"
    assert mark.explanation == "申请人补充公证材料耗时，已督促尽快办理"
    assert mark.appeal_reason == "超期系法定公告期所致，不应计入"
    assert mark.decided_by == sup_p.username


# --- 3. a bad rating's follow-up --------------------------------------------------------------------


def test_very_dissatisfied_rating_opens_a_follow_up_the_unit_answers(city: City) -> None:
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
    case_id = receive(
        clerk,
        IMMEDIATE,
        id_number=ID_B,
        name="李四",
        registered=True,
        received=(0, 1, 2),
        scans={0: scan("双方身份证", "pdf")},
    )
    number = clerk.case_number()
    clerk.act("accept")

    citizen = city.sign_in_at_home("lisi")
    cp = citizen.page
    expect(cp.locator("header")).to_contain_text("李四")
    # Not completed yet: nothing to rate.
    citizen.goto(f"/evaluation/rate/{case_id}/")
    expect(cp.locator("main")).to_contain_text("办件办结后才能评价")
    expect(cp.locator("input[name=level]")).to_have_count(0)

    clerk.act("approve", opinion="双方自愿，符合结婚条件，准予登记")
    clerk.act("deliver", delivery_method="window", certificate_no="J150105-2026-000777")
    clerk.act("complete")
    assert clerk.state() == "已办结"
    clerk.assert_clean()

    # The applicant finds it among the cases to rate and rates it 非常不满意.
    citizen.goto("/evaluation/rate/")
    row = cp.locator("table tbody tr", has_text=number)
    expect(row).to_have_count(1)
    row.locator("a:text-is('评价')").click()
    expect(cp.locator("h1")).to_have_text("办件评价")
    # A second tab of the same applicant keeps the form open (the "second rating").
    stale = citizen.context.new_page()
    citizen.watch(stale)
    stale.goto(f"/evaluation/rate/{case_id}/")
    expect(cp.locator("fieldset.eval-levels label")).to_have_count(5)
    cp.locator("fieldset.eval-levels label:has-text('非常不满意') input").check()
    cp.fill("textarea[name=comment]", "窗口人员态度生硬，让我跑了两趟")
    cp.click("main form button[type=submit]")
    expect(cp.locator("ul.messages")).to_contain_text("感谢您的评价")
    expect(cp.locator("main")).to_contain_text("您已评价")
    expect(cp.locator("main strong")).to_have_text("非常不满意")
    expect(cp.locator("input[name=level]")).to_have_count(0)
    rating = Rating.objects.get(case_id=case_id)
    assert rating.level == 1
    assert rating.unit.code == SAIHAN_CA_WINDOW

    # The second rating, from the stale form, is refused and changes nothing.
    stale.locator("fieldset.eval-levels label:has-text('非常满意') input").last.check()
    stale.click("main form button[type=submit]")
    expect(stale.locator("ul.messages")).not_to_contain_text("感谢您的评价")
    # The refusal is shown as an error message in the reader's language, and the page shows the rating
    # already given.
    expect(stale.locator("ul.messages li.error")).to_contain_text("此办件已评价过；每件办件只能评价一次。")
    expect(stale.locator("main strong")).to_have_text("非常不满意")
    assert Rating.objects.filter(case_id=case_id).count() == 1
    citizen.goto("/evaluation/rate/")
    expect(cp.locator("main table")).not_to_contain_text(number)
    citizen.assert_clean()

    # The responsible unit (the window that handled it) sees the follow-up and replies.
    follow_up = FollowUp.objects.get(rating=rating)
    clerk.goto("/evaluation/follow-ups/")
    expect(clerk.page.locator("h1")).to_have_text("差评整改")
    frow = clerk.page.locator("table.sup-table tbody tr", has_text=number)
    expect(frow).to_contain_text("非常不满意")
    expect(frow).to_contain_text(follow_up.due.astimezone(clock.CITY_TZ).date().isoformat())
    frow.locator("a").first.click()
    facts = clerk.page.locator("dl.sup-facts")
    expect(facts).to_contain_text("窗口人员态度生硬，让我跑了两趟")
    expect(facts).to_contain_text(clerk_p.username)
    reply = clerk.page.locator("form.sup-action:has(h3:text-is('核实、整改并回复'))")
    reply.locator("select[name=finding]").select_option(index=0)
    reply.locator("textarea[name=action_taken]").fill("已对窗口人员进行服务规范培训")
    reply.locator("textarea[name=reply]").fill("李四您好，已核实并整改，感谢监督")
    reply.locator("button[type=submit]").click()
    expect(clerk.page.locator("ul.messages")).to_contain_text("已处理")
    expect(facts).to_contain_text("已对窗口人员进行服务规范培训")
    expect(facts).to_contain_text("李四您好，已核实并整改，感谢监督")
    expect(clerk.page.locator("form.sup-action:has(h3:text-is('核实、整改并回复'))")).to_have_count(0)
    clerk.assert_clean()
    follow_up.refresh_from_db()
    assert follow_up.replied_by == clerk_p.username
