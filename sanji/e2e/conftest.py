"""What every browser test shares: the sign-in, workstations, and the seeded city of the case tests.

Playwright drives Debian's Chromium (the ``browser`` fixture of the root conftest.py) against a live
server. :func:`sign_in` is the one way a test signs in through the login page; :class:`City` gives
each person a workstation (a browser context) enrolled at their unit's terminal (终端), as the
security administrator registers it; :func:`city` seeds the real divisions, organisation, calendar
and matter catalogue through the services, with the clock frozen on a working day.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pyotp
import pytest
from django.core.cache import cache
from playwright.sync_api import expect

from sanji.accounts import selectors as account_selectors
from sanji.accounts import services as account_services
from sanji.accounts.models import User
from sanji.accounts.testing import enrol_totp
from sanji.calendar import services as calendar_services
from sanji.catalog import services as catalog_services
from sanji.core import clock, crypto
from sanji.core.actors import Actor, system_actor
from sanji.core.roles import Role
from sanji.orgs import services as org_services
from sanji.orgs.models import Unit

#: A working Tuesday, 10:00 Beijing time, in a year the calendar covers (no deadline runs past 2026).
T0 = dt.datetime(2026, 3, 3, 2, 0, tzinfo=dt.UTC)
PASSWORD = "Qingcheng#2026ok"
CITY_CODE = "150100"


# --- signing in -----------------------------------------------------------------------------------


def sign_in(
    page: Any, username: str, password: str, *, terminal_code: str = "", totp_secret: str = ""
) -> bool:
    """Sign in through the login page; returns whether it asked for (and was given) the dynamic password.

    The terminal's enrolment code is given where the browser is not enrolled yet (the login page then
    asks for it). The second factor's code is the clock's next step: the one the password was bound
    with may have been used already, and the next is within the ±1 window, never a replay.
    """
    page.goto("/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    if terminal_code and page.locator("input[name=enrolment_code]").count():
        page.fill("input[name=enrolment_code]", terminal_code)
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    if not (totp_secret and "/totp/verify/" in page.url):
        return False
    page.fill("input[name=code]", pyotp.TOTP(totp_secret).at(clock.now().timestamp() + 30))
    page.click("main button[type=submit]")
    return True


# --- the world: organisation, people, workstations ------------------------------------------------


@dataclass
class Person:
    username: str
    full_name: str
    unit_code: str
    terminal_code: str  # the enrolment code "<code>:<secret>" of the terminal at the person's unit

    @property
    def terminal(self) -> str:
        return self.terminal_code.partition(":")[0]


@dataclass
class Station:
    """One workstation: a browser context (enrolled at its unit's terminal), a page, its problems."""

    context: Any
    page: Any
    errors: list[str] = field(default_factory=list)

    def watch(self, page: Any) -> None:
        page.on("console", lambda m: self.errors.append(f"console: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        page.on("response", lambda r: self.errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
        page.on("dialog", lambda d: d.accept())  # data-confirm buttons (deny, refuse, withdraw …)

    @contextmanager
    def expect_status(self, status: int) -> Iterator[None]:
        """A deliberate error answer: drop what it logs (the response, the console's load failure)."""
        before = len(self.errors)
        yield
        # Chromium logs the failed load on the console a moment after the response arrives
        # (sometimes twice), so wait for it and a little longer.
        for _ in range(40):
            if any(f"status of {status}" in e for e in self.errors[before:]):
                break
            self.page.wait_for_timeout(25)
        self.page.wait_for_timeout(200)
        fresh = self.errors[before:]
        del self.errors[before:]
        assert any(e.startswith(f"{status} ") for e in fresh), fresh
        unexpected = [e for e in fresh if not (e.startswith(f"{status} ") or f"status of {status}" in e)]
        assert unexpected == [], unexpected

    def assert_clean(self) -> None:
        assert self.errors == [], self.errors

    # --- navigation and actions ---------------------------------------------------------------

    def goto(self, url: str) -> Any:
        return self.page.goto(url)

    def case_number(self) -> str:
        return str(self.page.locator("h1 .mono").inner_text()).strip()

    def case_id(self) -> int:
        match = re.search(r"/(?:cases|portal/cases)/(\d+)/", self.page.url)
        assert match, self.page.url
        return int(match.group(1))

    def open_case(self, case_id: int) -> None:
        self.goto(f"/cases/{case_id}/")
        expect(self.page.locator("h1")).to_contain_text("办件")

    def fill_action(self, action: str, **fields: Any) -> Any:
        form = self.page.locator(f"form.action-{action}")
        for name, value in fields.items():
            control = form.locator(f"[name='{action}-{name}']")
            if isinstance(value, list):
                for box in control.all():
                    if box.get_attribute("value") in value:
                        box.check()
                    else:
                        box.uncheck()
            elif control.first.evaluate("e => e.tagName") == "SELECT":
                control.select_option(value)
            else:
                control.fill(str(value))
        return form

    def act(self, action: str, **fields: Any) -> None:
        """Perform an action from the case page and check that it was done."""
        form = self.fill_action(action, **fields)
        form.locator("button[type=submit]").click()
        expect(self.page.locator("ul.messages")).to_contain_text("已完成")
        if action in NOT_TWICE:
            expect(self.page.locator(f"form.action-{action}")).to_have_count(0)

    def actions(self) -> list[str]:
        classes = self.page.locator("form.action").evaluate_all("fs => fs.map(f => f.className)")
        return [re.search(r"action-(\w+)", c).group(1) for c in classes]  # type: ignore[union-attr]

    def state(self) -> str:
        return str(self.page.locator("table.facts .badge[class*='state-']").first.inner_text()).strip()

    def worklist(self, tab: str) -> str:
        self.goto(f"/cases/?tab={tab}")
        return str(self.page.locator("table.worklist").inner_text())

    def history(self) -> list[dict[str, str]]:
        """The case page's history table, one dict per event (column headings as keys)."""
        table = self.page.locator("table.history")
        heads = [h.strip() for h in table.locator("thead th").all_inner_texts()]
        rows = []
        for row in table.locator("tbody tr").all():
            cells = [c.strip() for c in row.locator("td").all_inner_texts()]
            rows.append(dict(zip(heads, cells, strict=True)))
        return rows

    def upload(self, material: str, file: dict[str, Any]) -> None:
        form = self.page.locator("form[enctype='multipart/form-data']")
        form.locator("select[name=material_name]").select_option(material)
        form.locator("input[name=file]").set_input_files(file)
        form.locator("button[type=submit]").click()
        expect(self.page.locator("ul.messages")).to_contain_text("材料已上传")


#: Actions after which the same button must not be offered again at once.
NOT_TWICE = frozenset({"accept", "take_over", "report_up", "approve", "deny", "deliver", "complete"})


class City:
    """The seeded city and the people of the tests, each at a terminal of their unit."""

    def __init__(self, browser: Any, base_url: str) -> None:
        self.browser = browser
        self.base_url = base_url
        self.platform = system_actor("browser-test", channel="system")
        self.terminals: dict[str, str] = {}
        self.stations: list[Station] = []
        admin, _ = account_services.user_create(
            actor=self.platform,
            username="secadmin",
            full_name="安全管理员 李娜",
            password=PASSWORD,
            must_change_password=False,
        )
        account_services.role_grant(
            actor=self.platform,
            user=admin,
            role=Role.SECURITY_ADMIN,
            unit=Unit.objects.get(code="150100-OPS"),
        )
        self.security_admin: Actor = account_selectors.actor_for(admin, channel="cli")

    def person(self, username: str, full_name: str, role: str, unit_code: str) -> Person:
        unit = Unit.objects.get(code=unit_code)
        user, _ = account_services.user_create(
            actor=self.platform,
            username=username,
            full_name=full_name,
            password=PASSWORD,
            must_change_password=False,
        )
        account_services.role_grant(actor=self.platform, user=user, role=role, unit=unit)
        if unit_code not in self.terminals:
            _terminal, code = org_services.terminal_register(
                actor=self.security_admin, unit=unit, name=f"{unit.name} 工作站"
            )
            self.terminals[unit_code] = code
        return Person(username, full_name, unit_code, self.terminals[unit_code])

    def station(self) -> Station:
        context = self.browser.new_context(
            base_url=self.base_url, locale="zh-CN", timezone_id="Asia/Shanghai"
        )
        context.set_default_timeout(10_000)
        station = Station(context=context, page=context.new_page())
        station.watch(station.page)
        self.stations.append(station)
        return station

    def sign_in(self, person: Person, *, second_factor: bool = False) -> Station:
        """A new workstation at the person's unit, enrolled with its terminal code, signed in.

        With ``second_factor`` the person binds the dynamic password (动态口令) first, as at their first
        sign-in, and the login page must then ask for the next code after password and terminal.
        """
        secret = self.bind_second_factor(person) if second_factor else ""
        station = self.station()
        asked = sign_in(
            station.page, person.username, PASSWORD, terminal_code=person.terminal_code, totp_secret=secret
        )
        assert asked == second_factor
        expect(station.page.locator("header .terminal")).to_have_text(person.terminal)
        return station

    def bind_second_factor(self, person: Person) -> str:
        """Bind the person's dynamic password through the real services; its secret."""
        user = User.objects.get(username=person.username)
        enrol_totp(user)
        user.refresh_from_db()
        return crypto.decrypt(user.totp_secret)

    def sign_in_at_home(self, username: str) -> Station:
        """A resident signs in on the portal from a home computer: no terminal."""
        station = self.station()
        sign_in(station.page, username, PASSWORD)
        expect(station.page.locator("header .terminal")).to_have_count(0)
        return station

    def __enter__(self) -> City:
        return self

    def __exit__(self, *exc: object) -> None:
        for station in self.stations:
            station.context.close()


@pytest.fixture
def fresh_site(settings: Any) -> Iterator[None]:
    """Quick password hashing, and an empty cache (login throttles) before and after the test."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def city(browser: Any, live_server: Any, fresh_site: None) -> Iterator[City]:
    """The Hohhot divisions and organisation, the working-day calendar and the matter catalogue."""
    with clock.frozen(T0):
        platform = system_actor("browser-test", channel="system")
        org_services.region_import_path(actor=platform)
        org_services.org_structure_seed(actor=platform, city_code=CITY_CODE)
        calendar_services.calendar_seed_from_chinesecalendar(actor=platform, years=[2025, 2026])
        catalog_services.catalog_seed(actor=platform)
        with City(browser, live_server.url) as world:
            yield world
