"""Browser tests of data sharing: a department's shared read, the resident's access log, unmasking.

A small city (two districts, a few communities) with its organisation and synthetic places, three
residents loaded by the real import, a grant issued by the platform through the sharing service;
people sign in at their units' terminals as in :mod:`sanji.e2e.test_cases` (its ``City`` helpers),
the resident on the portal without a terminal. Pages must be free of console errors and CSP
violations.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from sanji.accounts import services as account_services
from sanji.audit.models import Entry
from sanji.core import clock
from sanji.core.actors import system_actor
from sanji.core.roles import Role
from sanji.e2e.conftest import PASSWORD, T0, City
from sanji.orgs import services as org_services
from sanji.orgs.models import Unit
from sanji.population import services as population_services
from sanji.population.models import Building
from sanji.population.tests.conftest import HEADER, SMALL_CSV, person_row
from sanji.sharing import services as sharing_services
from sanji.sharing.models import AccessKind, AccessRecord

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ID_HEAD = "150102199003071237"
CITY_CA = "150100-DEPT-civil_affairs"
XINCHENG_HEALTH = "150102-DEPT-health"


@pytest.fixture
def world(browser: Any, live_server: Any, settings: Any, fresh_site: None, tmp_path: Path) -> Iterator[City]:
    settings.DATA_DIR = tmp_path / "data"
    with clock.frozen(T0):
        actor = system_actor("browser-test", channel="system")
        org_services.region_import_csv(actor=actor, text=SMALL_CSV)
        org_services.org_structure_seed(actor=actor, city_code="150100")
        population_services.population_seed_places(actor=actor, city_code="150100")
        building = Building.objects.filter(code__startswith="150102001001").order_by("code").first()
        assert building is not None
        path = tmp_path / "people.csv"
        with path.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(HEADER)
            for row in (
                person_row(building, number=ID_HEAD, name="王建国", household="H-1", relation="02"),
                person_row(building, seq=77, name="王丽", household="H-1", relation="10"),
            ):
                writer.writerow([row.get(c, "") for c in HEADER])
        assert population_services.population_import(actor=actor, path=path, workers=0).imported == 2
        department = Unit.objects.get(code=CITY_CA).department_id
        assert department is not None
        sharing_services.grant_create(
            actor=actor,
            department_id=department,
            fields=["sex", "birth_date", "residence"],
            purpose="最低生活保障资格复核",
            legal_basis="《社会救助暂行办法》第十一条",
            valid_from=clock.today(),
            valid_until=clock.today() + dt.timedelta(days=365),
        )
        account_services.applicant_register(
            username="wangjianguo",
            full_name="王建国",
            id_number=ID_HEAD,
            phone="",
            password=PASSWORD,
            ip="127.0.0.1",
        )
        with City(browser, live_server.url) as city:
            yield city


def test_a_shared_read_is_seen_by_the_resident_and_unmasking_is_audited(world: City) -> None:
    # A department data officer of the city civil-affairs bureau reads a person for a purpose.
    officer_p = world.person("city.dataofficer", "郑伟", Role.DEPARTMENT_DATA_OFFICER, CITY_CA)
    officer = world.sign_in(officer_p)
    page = officer.page
    page.goto("/sharing/read/")
    page.fill("input[name=id_number]", ID_HEAD)
    page.fill("input[name=purpose]", "低保申请入户核查")
    page.select_option("select[name=grant]", index=1)
    page.click("#shared-read button[type=submit]")
    result = page.locator("#shared-result")
    expect(result).to_contain_text("王建国")
    expect(result).to_contain_text("1单元101室")
    expect(page.locator("#masked-id")).to_have_text("150102********1237")
    expect(page.locator("#full-id")).not_to_be_visible()
    page.click("#shared-result summary")
    expect(page.locator("#full-id")).to_have_text(ID_HEAD)
    officer.assert_clean()

    # A population officer of 新城区 finds the person by name and unmasks the ID for a purpose.
    pop_p = world.person("xincheng.population", "巴特尔", Role.POPULATION_OFFICER, XINCHENG_HEALTH)
    pop = world.sign_in(pop_p)
    page = pop.page
    page.goto("/sharing/people/")
    page.fill("input[name=q]", "王")
    page.click("#person-search button[type=submit]")
    expect(page.locator("#people tbody tr")).to_have_count(2)
    expect(page.locator("#people")).to_contain_text("150102********1237")
    page.click("#people a:text-is('王建国')")
    expect(page.locator("#person-id")).to_have_text("150102********1237")
    expect(page.locator("#reads")).to_contain_text("低保申请入户核查")
    expect(page.locator("#members tbody tr")).to_have_count(2)
    page.fill("#unmask-form input[name=purpose]", "户籍信息核对")
    page.click("#unmask-form button[type=submit]")
    expect(page.locator("#person-id")).to_have_text(ID_HEAD)
    expect(page.locator("#reads")).to_contain_text("户籍信息核对")
    pop.assert_clean()
    assert Entry.objects.filter(action="population.id_unmasked", purpose="户籍信息核对").count() == 1
    assert sorted(AccessRecord.objects.values_list("kind", flat=True)) == [
        AccessKind.ID_UNMASKED,
        AccessKind.SHARED_READ,
    ]

    # The resident signs in on the portal and sees both reads: which organ, when, why.
    resident = world.sign_in_at_home("wangjianguo")
    page = resident.page
    page.goto("/portal/")
    page.click("header a:text-is('谁查询了我的信息')")
    table = page.locator("#my-reads")
    expect(table.locator("tbody tr")).to_have_count(2)
    expect(table).to_contain_text("低保申请入户核查")
    expect(table).to_contain_text("户籍信息核对")
    expect(table).to_contain_text("民政局")
    expect(table).not_to_contain_text("city.dataofficer")
    resident.assert_clean()
