"""Browser tests of population changes: the officer submits, the police verifier decides side by side.

The population data officer (人口计生信息员) of 赛罕区 finds a resident by ID number (shown masked),
submits a change; the police verifier (公安核查员) of 赛罕区 opens it from the queue, sees the facts
before and after side by side and verifies it, after which the registry shows the new value; a
second change is rejected with its reason, which the officer then reads. Everything is seeded
through the real services (a small region tree with its organisation, synthetic places, residents
imported from a CSV file); each person works at a browser enrolled at their unit's terminal, and
every page must be free of console errors and CSP violations.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from sanji.core import crypto
from sanji.core.actors import system_actor
from sanji.core.roles import Role
from sanji.e2e.conftest import City
from sanji.orgs import services as org_services
from sanji.population import services as population
from sanji.population.models import Building, Person, PersonChange
from sanji.population.tests.conftest import SMALL_CSV, person_row

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OFFICER_UNIT = "150105-DEPT-health"
POLICE_UNIT = "150105-DEPT-public_security"


@pytest.fixture
def town(browser: Any, live_server: Any, settings: Any, fresh_site: None, tmp_path: Path) -> Iterator[City]:
    settings.DATA_DIR = tmp_path
    platform = system_actor("browser-test", channel="system")
    org_services.region_import_csv(actor=platform, text=SMALL_CSV)
    org_services.org_structure_seed(actor=platform, city_code="150100")
    population.population_seed_places(actor=platform, city_code="150100")
    buildings = list(Building.objects.filter(code__startswith="150105001001").order_by("code")[:2])
    rows = [
        person_row(buildings[0], seq=11, name="张伟", household="H-1", marital_status="10"),
        person_row(buildings[1], seq=13, name="阿拉坦·其其格", household="H-2"),
    ]
    header = list(rows[0])
    path = tmp_path / "people.csv"
    path.write_text(
        ",".join(header) + "\n" + "\n".join(",".join(r[h] for h in header) for r in rows) + "\n",
        encoding="utf-8",
    )
    population.population_import(actor=platform, path=path, workers=0)
    with City(browser, live_server.url) as world:
        yield world


def test_submit_verify_visible_and_reject(town: City) -> None:
    officer = town.sign_in(town.person("pop.officer", "巴特尔", Role.POPULATION_OFFICER, OFFICER_UNIT))
    police = town.sign_in(town.person("pop.police", "高峰", Role.POLICE_VERIFIER, POLICE_UNIT))
    zhang = Person.objects.get(name="张伟")
    number = crypto.decrypt(zhang.id_number_encrypted)

    # The officer: from the workbench to the form, find the resident by ID number, submit a name change.
    page = officer.page
    page.goto("/")
    page.click("main a.card:has(h3:text-is('人口变动申报'))")
    expect(page.locator("h1")).to_have_text("申报人口变动")
    page.select_option("#kind", "name")
    page.click("form.change-kind button[type=submit]")
    page.fill("#lookup", number.lower())
    page.click("form.change-find button[type=submit]")
    expect(page.locator(".person-found")).to_contain_text(zhang.id_masked)
    assert number not in page.content()  # masked only, and never in the address bar
    assert number not in page.url
    page.fill("#f-name", "张 卫")  # a stray space: refused beside the input
    with officer.expect_status(422):
        page.click("form.change-form button[type=submit]")
        expect(page.locator(".field-error")).to_contain_text("姓名含有汉字和“·”以外的字符")
    page.fill("#f-name", "张卫")
    page.fill("#f-reason", "本人申请更名")
    page.click("form.change-form button[type=submit]")
    expect(page.locator("ul.messages")).to_contain_text("等待公安核查")
    expect(page.locator("h1 .badge")).to_have_text("待核查")
    change = PersonChange.objects.get(kind="name")

    # The police verifier: the queue, the change side by side, verify.
    page = police.page
    page.goto("/")
    page.click("main a.card:has(h3:text-is('人口变动核查'))")
    expect(page.locator("h1")).to_have_text("公安核查队列")
    page.click(f"table.changes a:text-is('{change.pk}')")
    row = page.locator("table.side-by-side tr.field-name")
    expect(row.locator("td.before")).to_have_text("张伟")
    expect(row.locator("td.after")).to_have_text("张卫")
    page.click("form.decision-verify button[type=submit]")
    expect(page.locator("ul.messages")).to_contain_text("已核准")
    expect(page.locator("table.side-by-side tr.field-name td.current")).to_have_text("张卫")
    expect(page.locator("form.decision-verify")).to_have_count(0)

    # The registry shows the new value: the officer finds the resident again.
    page = officer.page
    page.goto("/population/changes/new/?kind=marriage_status")
    page.fill("#lookup", number)
    page.click("form.change-find button[type=submit]")
    expect(page.locator(".person-found .person-name")).to_have_text("张卫")

    # A second change is rejected with its reason, which the officer reads in "my changes".
    page.select_option("#f-marital_status", "20")
    page.click("form.change-form button[type=submit]")
    expect(page.locator("ul.messages")).to_contain_text("等待公安核查")
    second = PersonChange.objects.get(kind="marriage_status")
    police.page.goto(f"/population/changes/{second.pk}/")
    police.page.fill("#reject-reason", "未见结婚证")
    police.page.click("form.decision-reject button[type=submit]")
    expect(police.page.locator("h1 .badge")).to_have_text("已退回")
    page.goto("/population/changes/?tab=mine&state=rejected")
    page.click(f"table.changes a:text-is('{second.pk}')")
    expect(page.locator(".decision-reason")).to_have_text("未见结婚证")
    assert Person.objects.get(pk=zhang.pk).marital_status == "10"

    # Outside the area: another district's verifier gets a 404 for this change.
    xincheng = town.sign_in(
        town.person("xc.police", "马强", Role.POLICE_VERIFIER, "150102-DEPT-public_security")
    )
    with xincheng.expect_status(404):
        xincheng.page.goto(f"/population/changes/{change.pk}/")
    for station in (officer, police, xincheng):
        station.assert_clean()
