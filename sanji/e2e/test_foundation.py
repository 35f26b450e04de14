"""Browser tests of the foundation pages: Playwright driving Debian's Chromium against a live server.

The organisation and the people are the demo's own (:mod:`sanji.ops.demo`), created through the
real services, so these tests also prove that the demo seeder works.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from sanji.e2e.conftest import sign_in
from sanji.ops import demo

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def people(live_server: Any) -> dict[str, demo.DemoLogin]:
    demo.seed_reference_data()
    return {login.username: login for login in demo.seed_people()}


def sign_in_as(page: Any, login: demo.DemoLogin, *, password: str | None = None) -> None:
    """A demo person signs in (with their terminal's code where this browser is not enrolled yet)."""
    sign_in(
        page,
        login.username,
        password or login.password,
        terminal_code=login.terminal_code,
        totp_secret=login.totp_secret,
    )


def console_errors(page: Any) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    return errors


def test_security_admin_creates_a_clerk_who_must_change_the_password(page, people, browser, live_server):
    errors = console_errors(page)
    sign_in_as(page, people["secadmin"])
    assert page.locator("h1").inner_text() == "工作台"
    page.click("text=用户与角色")
    page.click("text=新建用户")
    page.fill("input[name=username]", "saihan.newclerk")
    page.fill("input[name=full_name]", "乌云")
    page.click("main button[type=submit]")
    # The initial password is shown once, on the new person's page.
    initial = page.locator(".acc-secret, .secret").first.inner_text().strip()
    assert len(initial) >= 12
    # The unit chooser: typing words of a name and a district lists the matching units (htmx).
    page.fill("input[name=unit_code]", "赛罕 民政窗口")
    chosen = page.locator("datalist#grant-unit-choices option[value='150105-CSC-W-civil_affairs']")
    chosen.wait_for(state="attached")
    assert chosen.inner_text() == "赛罕区市民服务中心 民政窗口 · 赛罕区 · 150105-CSC-W-civil_affairs"
    page.fill("input[name=unit_code]", "150105-CSC-W-civil_affairs")
    page.select_option("select[name=role]", "window_clerk")
    page.click("form[action*='/roles/'] button[type=submit]")
    assert page.locator("text=窗口受理员").first.is_visible()
    page.click("header button:has-text('退出')")

    # This workstation is the operator unit's terminal: out of a Saihan clerk's reach.
    clerk_password_page = page
    sign_in_as(page, demo.DemoLogin("saihan.newclerk", "", "", "", initial))
    assert "终端" in page.locator("main").inner_text()

    # At the Saihan window's workstation the clerk gets in, and must choose a new password.
    context = browser.new_context(base_url=live_server.url, locale="zh-CN")
    page = context.new_page()
    clerk = demo.DemoLogin(
        username="saihan.newclerk",
        full_name="乌云",
        role="",
        unit="",
        password=initial,
        terminal_code=people["saihan.clerk"].terminal_code,
    )
    sign_in_as(page, clerk)
    assert "/accounts/password/" in page.url
    page.fill("input[name=old_password]", initial)
    page.fill("input[name=new_password]", "Qingcheng#2026ok")
    page.fill("input[name=new_password2]", "Qingcheng#2026ok")
    page.click("main button[type=submit]")
    page.goto("/")
    assert page.locator("h1").inner_text() == "工作台"
    assert page.locator(".badge", has_text="窗口受理员").count() == 1
    context.close()
    assert clerk_password_page.url.endswith("/accounts/login/")
    assert errors == []


def test_system_admin_browses_the_organisation_and_calendar_but_not_users(page, people):
    errors = console_errors(page)
    sign_in_as(page, people["sysadmin"])
    page.click("text=组织机构")
    page.click("button.org-expand")  # htmx loads the districts in place
    page.click("a:has-text('赛罕区')")
    assert page.locator("text=赛罕区民政局").first.is_visible()
    page.goto("/calendar/")
    assert page.locator("a", has_text="2026").first.is_visible()
    assert errors == []
    # 三员分立: no users, no audit trail for the system administrator.
    assert page.goto("/accounts/users/").status == 403
    assert page.goto("/audit/").status == 403


def test_auditor_searches_the_trail_and_exports_it(page, people):
    errors = console_errors(page)
    sign_in_as(page, people["auditor"])
    page.click("text=审计日志")
    page.fill("input[name=action]", "accounts.role_granted")
    page.click("form.audit-search button[type=submit]")
    page.wait_for_url(re.compile(r"action=accounts\.role_granted"))  # htmx pushes it after the swap
    rows = page.locator("table tbody tr")
    assert rows.count() >= len([p for p in demo.DEMO_PEOPLE if p.role])
    # Labelled and named, not raw codes and ids.
    expect(rows.first).to_contain_text("账号：授予角色")
    expect(rows.first).to_contain_text("呼和浩特市")  # the region of the unit granted in, by name
    expect(rows.first).not_to_contain_text("150100/")
    with page.expect_download() as download_info:
        page.click("button:has-text('导出 CSV')")
    download = download_info.value
    with open(download.path(), encoding="utf-8-sig") as fh:
        content = fh.read()
    assert "accounts.role_granted" in content
    # The export itself is recorded.
    page.fill("input[name=action]", "audit.exported")
    page.click("form.audit-search button[type=submit]")
    assert page.locator("table tbody tr").count() >= 1
    assert errors == []
    assert page.goto("/accounts/users/").status == 403


def test_clerk_home_language_switch_and_lockout(page, people):
    errors = console_errors(page)
    sign_in_as(page, people["saihan.clerk"])
    assert page.locator(".terminal").inner_text().startswith("T150105-")
    page.click("header button:has-text('English')")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == "Workbench"
    page.click("header button:has-text('中文')")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    page.click("header button:has-text('退出')")
    for _ in range(5):
        sign_in_as(page, people["xincheng.clerk"], password="Wrong-password-123")
    assert re.search("锁定", page.locator("main").inner_text())
    assert errors == []
