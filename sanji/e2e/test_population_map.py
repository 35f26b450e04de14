"""Browser tests of the population map (人口分布图) and the grid worker's page (我的网格).

The world is the one of the case tests (the ``city`` fixture of :mod:`sanji.e2e.conftest`: the
real divisions and organisation, people at their units' terminals) plus the demo's places and a few
thousand synthetic residents, seeded by :func:`sanji.ops.demo_population.seed_demo_population` as
``sanji demo`` does. The map is drawn by ECharts on a canvas from the platform's own vector layers
(no tile server, nothing from the internet); clicks go through the page's own lists, which carry the
same links as the map.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from sanji.core.roles import Role
from sanji.e2e.conftest import City, Station
from sanji.e2e.test_cases import JIANKANG_STATION
from sanji.ops import demo_population
from sanji.population.models import Building, Grid

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MASKED = re.compile(r"^\d{6}\*{8}\d{3}[\dX]$")
SAIHAN_HEALTH = "150105-DEPT-health"


@pytest.fixture
def peopled(city: City) -> City:
    """The demo grid worker exists first, so the seeding assigns them their community's first grids."""
    city.grid_worker = city.person(  # type: ignore[attr-defined]
        "jiankang.worker", "其其格", Role.COMMUNITY_WORKER, JIANKANG_STATION
    )
    summary = demo_population.seed_demo_population(residents=6000)
    assert summary.residents == 6000
    assert summary.grids_assigned >= 1
    return city


def expect_map_drawn(station: Station) -> None:
    page = station.page
    expect(page.locator("#pop-map.pop-ready canvas").first).to_be_visible()
    box = page.locator("#pop-map canvas").first.bounding_box()
    assert box is not None
    assert box["width"] > 300
    assert box["height"] > 300


def masked_ids(station: Station) -> list[str]:
    cells = station.page.locator(".pop-residents tbody td.mono").all_inner_texts()
    return [c.strip() for c in cells]


def test_officer_drills_down_the_map_to_a_buildings_residents(peopled: City) -> None:
    officer = peopled.sign_in(
        peopled.person("saihan.population", "巴特尔", Role.POPULATION_OFFICER, SAIHAN_HEALTH)
    )
    page = officer.page
    officer.goto("/population/map/")
    expect(page.locator("h1")).to_contain_text("赛罕区")
    expect_map_drawn(officer)
    # district → township → community through the list beside the map; the breadcrumb follows
    page.locator(".pop-children a", has_text="人民路街道").click()
    expect(page.locator(".pop-crumbs")).to_contain_text("赛罕区")
    expect(page.locator("h1")).to_contain_text("人民路街道")
    expect_map_drawn(officer)
    page.locator(".pop-children a", has_text="健康社区").click()
    expect(page.locator("h1")).to_contain_text("健康社区")
    expect_map_drawn(officer)
    # a grid's buildings, then a building's residents (masked ID numbers)
    grid = Grid.objects.filter(community__code="150105001001").order_by("code").first()
    assert grid is not None
    page.locator(f".pop-children tr[data-code='{grid.code}'] a").click()
    expect(page.locator("#pop-panel .pop-grid h2")).to_contain_text(grid.name)
    building = grid.buildings.filter(resident_count__gt=0).order_by("number").first()
    assert building is not None
    page.locator(f"#pop-panel tr[data-building='{building.code}'] a").click()
    expect(page.locator(".pop-residents .pop-count")).to_have_text(str(building.resident_count))
    expect(page.locator(".pop-residents tbody tr")).to_have_count(building.resident_count)
    assert all(MASKED.match(m) for m in masked_ids(officer))
    # the breadcrumb leads back up
    page.locator(".pop-crumbs a", has_text="赛罕区").click()
    expect(page.locator("h1")).to_contain_text("赛罕区")
    expect_map_drawn(officer)
    officer.assert_clean()  # no console errors, no CSP violations, no failed requests


def test_a_click_on_the_map_opens_a_grid(peopled: City) -> None:
    officer = peopled.sign_in(
        peopled.person("saihan.police", "高峰", Role.POLICE_VERIFIER, "150105-DEPT-public_security")
    )
    page = officer.page
    officer.goto("/population/map/?region=150105001001")
    expect_map_drawn(officer)
    canvas = page.locator("#pop-map canvas").first
    box = canvas.bounding_box()
    assert box is not None
    # The grids are vertical strips filling the community's square, drawn centred: the centre of
    # the canvas lies inside one of them.
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect(page.locator("#pop-panel .pop-grid")).to_have_count(1)
    officer.assert_clean()


def test_grid_worker_lists_their_grids_buildings_and_residents(peopled: City) -> None:
    worker = peopled.sign_in(peopled.grid_worker)  # type: ignore[attr-defined]
    page = worker.page
    worker.goto("/")
    page.locator("a", has_text="我的网格").first.click()
    expect(page).to_have_url(re.compile(r"/population/grid/$"))
    mine = list(Grid.objects.filter(worker__username="jiankang.worker").order_by("code"))
    assert 1 <= len(mine) <= demo_population.GRID_WORKER_GRIDS
    expect(page.locator(".pop-my-grids tbody tr")).to_have_count(len(mine))
    grid = mine[0]
    page.locator(f".pop-my-grids tr[data-grid='{grid.code}'] a", has_text=grid.name).click()
    expect(page.locator("h1")).to_contain_text(grid.name)
    building: Any = grid.buildings.filter(resident_count__gt=0).order_by("number").first()
    assert isinstance(building, Building)
    page.locator(f"tr[data-building='{building.code}'] a").click()
    expect(page.locator(".pop-residents tbody tr")).to_have_count(building.resident_count)
    assert all(MASKED.match(m) for m in masked_ids(worker))
    first_link = page.locator(".pop-residents tbody a").first.get_attribute("href")
    assert first_link is not None
    assert re.fullmatch(r"/sharing/people/\d+/", first_link)
    # and to the map centred on the grid, its buildings listed
    page.locator("a", has_text="在地图上查看").click()
    expect(page).to_have_url(re.compile(rf"/population/map/\?grid={grid.pk}$"))
    expect(page.locator("#pop-panel .pop-grid h2")).to_contain_text(grid.name)
    expect_map_drawn(worker)
    worker.assert_clean()
