"""The map page, its fragments, the grid worker's page and the map layers API: access and refusals."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from ninja.testing import TestClient

from sanji.accounts import selectors as account_selectors
from sanji.accounts import services as account_services
from sanji.accounts.models import User
from sanji.accounts.testing import sign_in
from sanji.core.actors import Actor
from sanji.core.errors import SanjiError
from sanji.core.roles import Role
from sanji.orgs import services as org_services
from sanji.orgs.models import Region, Unit
from sanji.population import services
from sanji.population.api_places import router
from sanji.population.models import Building, Grid, Person
from sanji.population.tests.conftest import SYSTEM, WriteCsv, many_rows

pytestmark = pytest.mark.django_db
PASSWORD = "Qingcheng#2026ok"
JIANKANG = "150105001001"
MASKED = re.compile(r"\d{6}\*{8}\d{3}[\dX]")
Login = Callable[[str, str], tuple[Client, User]]


@pytest.fixture
def loaded(
    places: dict[str, Region], buildings: list[Building], write_csv: WriteCsv, settings: Any
) -> list[dict[str, str]]:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()
    org_services.org_structure_seed(actor=SYSTEM, city_code="150100")
    rows = many_rows(buildings[::2], 160)
    services.population_import(actor=SYSTEM, path=write_csv(rows), workers=0)
    return rows


@pytest.fixture
def login(loaded: list[dict[str, str]]) -> Login:
    def make(role: str, unit_code: str) -> tuple[Client, User]:
        user, _ = account_services.user_create(
            actor=SYSTEM,
            username=f"{role}-{unit_code}".replace("_", "-").lower(),
            full_name="测试",
            password=PASSWORD,
            must_change_password=False,
        )
        account_services.role_grant(actor=SYSTEM, user=user, role=role, unit=Unit.objects.get(code=unit_code))
        client = Client()
        sign_in(client, user)
        return client, user

    return make


def a_building(community: str = JIANKANG) -> Building:
    building = Building.objects.filter(region_path__endswith=f"{community}/", resident_count__gt=0).first()
    assert building is not None
    return building


HX = {"HTTP_HX_REQUEST": "true"}


# --- pages ----------------------------------------------------------------------------------------


def test_map_page_of_a_district_officer(login: Login) -> None:
    client, _ = login(Role.POPULATION_OFFICER, "150105-DEPT-health")
    page = client.get("/population/map/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="pop-map"' in html
    assert "population/map.js" in html
    assert "<script>" not in html  # the CSP allows script files only; the data block is JSON
    data = json.loads(re.search(r'id="pop-map-data" type="application/json">(.*?)</script>', html, re.S)[1])  # type: ignore[index]
    assert data["region"] == "150105"
    assert {a["name"] for a in data["areas"]} == {"150105001001", "150105001002"}
    assert data["geojson"]["type"] == "FeatureCollection"
    assert client.get("/population/map/?region=150102").status_code == 404
    assert client.get("/population/map/?region=150102001001").status_code == 404
    assert client.get("/population/map/?grid=abc").status_code == 404
    community = client.get(f"/population/map/?region={JIANKANG}")
    assert community.status_code == 200
    assert "网格" in community.content.decode()


def test_map_grid_and_building_fragments(login: Login, loaded: list[dict[str, str]]) -> None:
    client, _ = login(Role.POPULATION_OFFICER, "150105-DEPT-health")
    building = a_building()
    grid = building.grid
    fragment = client.get(f"/population/map/grid/{grid.pk}/", **HX)  # type: ignore[arg-type]
    assert fragment.status_code == 200
    assert building.address in fragment.content.decode()
    redirect = client.get(f"/population/map/grid/{grid.pk}/")
    assert redirect.status_code == 302
    assert redirect["Location"].endswith(f"/population/map/?grid={grid.pk}")
    page = client.get(f"/population/map/?grid={grid.pk}")
    assert building.address in page.content.decode()
    residents = client.get(f"/population/map/building/{building.pk}/", **HX)  # type: ignore[arg-type]
    html = residents.content.decode()
    names = set(Person.objects.filter(building=building).values_list("name", flat=True))
    assert names
    assert all(name in html for name in names)
    assert len(MASKED.findall(html)) == building.resident_count
    clear = {r["id_number"] for r in loaded if r["building_code"] == building.code}
    assert clear
    assert not any(number in html for number in clear)
    assert "/sharing/people/" in html
    full = client.get(f"/population/map/building/{building.pk}/")
    assert full.status_code == 200
    assert "<html" in full.content.decode()
    # A person's 在地图上查看 opens the building's grid on the map with its residents below.
    located = client.get(f"/population/map/?building={building.pk}")
    assert located.status_code == 200
    html = located.content.decode()
    assert building.address in html
    assert 'id="pop-map"' in html
    assert len(MASKED.findall(html)) >= building.resident_count


def test_roles_without_people_access_see_counts_and_outsiders_nothing(login: Login) -> None:
    building = a_building()
    analyst, _ = login(Role.ANALYST, "150100-GSC")
    html = analyst.get(f"/population/map/building/{building.pk}/", **HX).content.decode()  # type: ignore[arg-type]
    assert str(building.resident_count) in html
    assert not MASKED.search(html)
    assert "只能查看人数" in html
    outsider, _ = login(Role.POPULATION_OFFICER, "150102-DEPT-health")
    assert outsider.get(f"/population/map/building/{building.pk}/", **HX).status_code == 404  # type: ignore[arg-type]
    assert outsider.get(f"/population/map/grid/{building.grid_id}/", **HX).status_code == 404  # type: ignore[arg-type]
    assert outsider.get(f"/population/map/?grid={building.grid_id}").status_code == 404
    assert outsider.get(f"/population/map/?building={building.pk}").status_code == 404
    anonymous = Client().get("/population/map/")
    assert anonymous.status_code == 302
    assert "/accounts/login/" in anonymous["Location"]


def test_grid_worker_page(login: Login) -> None:
    client, user = login(Role.COMMUNITY_WORKER, f"{JIANKANG}-CS")
    grids = list(Grid.objects.filter(community__code=JIANKANG).order_by("code"))
    page = client.get("/population/grid/").content.decode()
    assert all(g.name in page for g in grids)
    assert "尚未被指定" in page
    mine = next(g for g in grids if g.buildings.filter(resident_count__gt=0).exists())
    other = next(g for g in grids if g != mine)
    services.grid_worker_assign(actor=SYSTEM, grid_id=mine.pk, worker_id=user.pk)
    page = client.get("/population/grid/").content.decode()
    assert mine.name in page
    assert other.name not in page
    assert f"/population/map/?grid={mine.pk}" in page
    detail = client.get(f"/population/grid/{mine.pk}/").content.decode()
    for b in mine.buildings.all():
        assert b.address in detail
    building = mine.buildings.filter(resident_count__gt=0).first()
    assert building is not None
    html = client.get(f"/population/map/building/{building.pk}/", **HX).content.decode()  # type: ignore[arg-type]
    assert len(MASKED.findall(html)) == building.resident_count
    village = Grid.objects.filter(community__code="150105001002").first()
    assert village is not None
    assert client.get(f"/population/grid/{village.pk}/").status_code == 404


def _menu(html: str) -> list[str]:
    nav = html.split('<nav class="topnav">', 1)[1].split("</nav>", 1)[0]
    return re.findall(r'href="([^"]+)"', nav)


def test_the_population_pages_share_one_menu_by_role(login: Login) -> None:
    police, _ = login(Role.POLICE_VERIFIER, "150105-DEPT-public_security")
    assert _menu(police.get("/population/map/").content.decode()) == [
        "/population/changes/?tab=queue",
        "/population/map/",
        "/sharing/people/",
    ]
    worker, _ = login(Role.COMMUNITY_WORKER, f"{JIANKANG}-CS")
    menu = _menu(worker.get("/population/grid/").content.decode())
    assert "/population/grid/" in menu
    assert "/population/map/" in menu
    assert "/population/changes/?tab=queue" not in menu
    officer, _ = login(Role.POPULATION_OFFICER, "150105-DEPT-health")
    # The person search (sharing) carries the same menu back to the population pages.
    assert "/population/changes/new/" in _menu(officer.get("/sharing/people/").content.decode())


def test_the_grid_page_is_for_grid_workers_only(login: Login) -> None:
    client, _ = login(Role.WINDOW_CLERK, "150105-CSC-W-civil_affairs")
    assert client.get("/population/grid/").status_code == 404
    grid = Grid.objects.filter(community__code=JIANKANG).first()
    assert grid is not None
    assert client.get(f"/population/grid/{grid.pk}/").status_code == 404
    assert client.get("/population/map/").status_code == 200  # the map is open to staff in reach
    applicant = Client()
    user, _ = account_services.user_create(
        actor=SYSTEM, username="zhangsan", full_name="张三", password=PASSWORD, must_change_password=False
    )
    sign_in(applicant, user)
    assert applicant.get("/population/map/").status_code == 404
    assert applicant.get("/population/grid/").status_code == 404


# --- API --------------------------------------------------------------------------------------------

api = TestClient(router)


class _Refused:
    def __init__(self, exc: SanjiError) -> None:
        self.status_code = exc.status


def call(path: str, actor: Actor) -> Any:
    try:
        return api.get(path, auth=actor)
    except SanjiError as exc:
        return _Refused(exc)


def api_actor(login: Login, role: str, unit: str) -> Actor:
    _, user = login(role, unit)
    return account_selectors.actor_for(user, channel="api")


def test_api_layers_buildings_and_residents(login: Login) -> None:
    officer = api_actor(login, Role.POPULATION_OFFICER, "150105-DEPT-health")
    layer = call("/layers", officer).json()
    assert layer["code"] == "150105"
    assert {a["code"] for a in layer["areas"]} == {"150105001001", "150105001002"}
    assert layer["geojson"]["features"]
    assert call("/layers?region=150102", officer).status_code == 404
    building = a_building()
    grid = call(f"/grids/{building.grid_id}/buildings", officer).json()
    assert building.code in [b["code"] for b in grid["buildings"]]
    residents = call(f"/buildings/{building.pk}/residents", officer).json()
    assert residents["resident_count"] == building.resident_count == len(residents["residents"])
    assert all(MASKED.fullmatch(r["id_masked"]) for r in residents["residents"])


def test_api_refusals(login: Login) -> None:
    building = a_building()
    outsider = api_actor(login, Role.POPULATION_OFFICER, "150102-DEPT-health")
    assert call(f"/buildings/{building.pk}/residents", outsider).status_code == 404
    assert call(f"/grids/{building.grid_id}/buildings", outsider).status_code == 404
    assert call("/buildings/999999/residents", outsider).status_code == 404
    analyst = api_actor(login, Role.ANALYST, "150100-GSC")
    counted = call(f"/buildings/{building.pk}/residents", analyst).json()
    assert counted["residents"] is None
    assert counted["resident_count"] == building.resident_count
    officer = api_actor(login, Role.POPULATION_OFFICER, "150105-DEPT-health")
    limited = dataclasses.replace(officer, scopes=frozenset({"cases:read"}))
    for path in ("/layers", "/grids/mine", f"/buildings/{building.pk}/residents"):
        assert call(path, limited).status_code == 403
    reader = dataclasses.replace(officer, scopes=frozenset({"population:read"}))
    assert call(f"/buildings/{building.pk}/residents", reader).status_code == 200


def test_api_my_grids(login: Login) -> None:
    worker = api_actor(login, Role.COMMUNITY_WORKER, f"{JIANKANG}-CS")
    grids = call("/grids/mine", worker).json()
    assert [g["code"] for g in grids] == list(
        Grid.objects.filter(community__code=JIANKANG).order_by("code").values_list("code", flat=True)
    )
    officer = api_actor(login, Role.POPULATION_OFFICER, "150105-DEPT-health")
    assert call("/grids/mine", officer).json() == []
