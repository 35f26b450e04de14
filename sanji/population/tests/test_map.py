"""The population map's reads (layers, grids, building residents) and grid worker assignment.

A small city (two districts, four communities) with seeded places and people imported through the
real import; actors hold grants at real regions, grid workers are real accounts.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sanji.accounts import selectors as account_selectors
from sanji.accounts import services as account_services
from sanji.accounts.models import User
from sanji.audit.models import Entry
from sanji.core.actors import Actor, Grant
from sanji.core.errors import Forbidden, NotFound, ValidationFailed
from sanji.core.roles import Role
from sanji.orgs import services as org_services
from sanji.orgs.models import Region, Unit
from sanji.population import coords, selectors, services
from sanji.population.models import Building, CommunityBoundary, Grid, Person, PersonStatus
from sanji.population.tests.conftest import SYSTEM, WriteCsv, many_rows, officer_at

pytestmark = pytest.mark.django_db

MASKED = re.compile(r"^\d{6}\*{8}\d{3}[\dX]$")
JIANKANG = "150105001001"  # 南二环社区 in the small city
VILLAGE = "150105001002"


@pytest.fixture
def loaded(places: dict[str, Region], buildings: list[Building], write_csv: WriteCsv) -> dict[str, Region]:
    services.population_import(actor=SYSTEM, path=write_csv(many_rows(buildings[::2], 240)), workers=0)
    return places


def worker_account(
    unit_code: str = f"{JIANKANG}-CS", role: str = Role.COMMUNITY_WORKER
) -> tuple[User, Actor]:
    org_services.org_structure_seed(actor=SYSTEM, city_code="150100")
    user, _ = account_services.user_create(
        actor=SYSTEM,
        username=f"w{User.objects.count()}",
        full_name="其其格",
        password="Qingcheng#2026ok",
        must_change_password=False,
    )
    account_services.role_grant(actor=SYSTEM, user=user, role=role, unit=Unit.objects.get(code=unit_code))
    return user, account_selectors.actor_for(user)


def living_in(path: str) -> int:
    return Person.objects.filter(region_path__startswith=path, status=PersonStatus.LIVING).count()


def first_vertex(geometry: dict[str, Any]) -> list[float]:
    ring = geometry["coordinates"][0] if geometry["type"] == "Polygon" else geometry["coordinates"][0][0]
    return list(ring[0])


# --- layers ---------------------------------------------------------------------------------------


def test_city_layer_colours_every_community_by_density(loaded: dict[str, Region]) -> None:
    layer = selectors.map_layer_for(SYSTEM, "150100")
    assert layer.level == "city"
    assert layer.residents == living_in("150100/") > 0
    assert [a.kind for a in layer.areas] == ["community"] * 4
    for area in layer.areas:
        path = loaded[area.code].path
        assert area.residents == living_in(path)
        assert area.area_km2 > 0
        assert area.density == pytest.approx(area.residents / area.area_km2, rel=1e-3)
    # urban cells are 450 m wide less a 3 % gap: ≈ 0.19 km²; village cells the same size here
    urban = next(a for a in layer.areas if a.code == JIANKANG)
    assert urban.area_km2 == pytest.approx((0.45 * 0.97) ** 2, rel=0.02)
    assert [(c.code, c.residents) for c in layer.children] == [
        ("150102", living_in("150100/150102/")),
        ("150105", living_in("150100/150105/")),
    ]
    assert [c.code for c in layer.breadcrumb] == ["150100"]
    assert layer.points == []


def test_geometry_is_drawn_in_gcj02_and_stored_in_cgcs2000(loaded: dict[str, Region]) -> None:
    layer = selectors.map_layer_for(SYSTEM, "150100")
    feature = next(f for f in layer.geojson["features"] if f["properties"]["name"] == JIANKANG)
    assert feature["properties"]["label"] == loaded[JIANKANG].name
    stored = json.loads(CommunityBoundary.objects.get(region__code=JIANKANG).geometry)
    lon, lat = first_vertex(stored)
    drawn = first_vertex(feature["geometry"])
    expected = coords.wgs84_to_gcj02(lon, lat)
    assert drawn == pytest.approx(list(expected), abs=1e-5)
    assert coords.haversine_m(lon, lat, *drawn) > 100  # the datum shift is real, not a no-op


def test_community_layer_draws_grids_and_buildings(loaded: dict[str, Region]) -> None:
    layer = selectors.map_layer_for(SYSTEM, JIANKANG)
    grids = list(Grid.objects.filter(community__code=JIANKANG).order_by("code"))
    assert [(a.code, a.kind, a.grid_id) for a in layer.areas] == [(g.code, "grid", g.pk) for g in grids]
    for area, grid in zip(layer.areas, grids, strict=True):
        assert area.residents == sum(grid.buildings.values_list("resident_count", flat=True))
    assert sum(a.residents for a in layer.areas) == layer.residents == living_in(loaded[JIANKANG].path)
    buildings = Building.objects.filter(grid__community__code=JIANKANG)
    assert len(layer.points) == buildings.count()
    point = layer.points[0]
    building = Building.objects.get(pk=point.building_id)
    assert (point.lon, point.lat) == pytest.approx(
        coords.wgs84_to_gcj02(building.lon, building.lat), abs=1e-5
    )
    assert [c.code for c in layer.breadcrumb] == ["150100", "150105", "150105001", JIANKANG]


def test_layer_queries_do_not_grow_with_the_places(loaded: dict[str, Region]) -> None:
    for code in ("150100", "150105001", JIANKANG):
        with CaptureQueriesContext(connection) as queries:
            selectors.map_layer_for(SYSTEM, code)
        assert len(queries) <= 5, [q["sql"] for q in queries]


def test_large_imported_boundaries_are_simplified(loaded: dict[str, Region]) -> None:
    centre = (111.76, 40.89)
    ring = [
        [
            centre[0] + 0.01 * math.cos(2 * math.pi * i / 400),
            centre[1] + 0.008 * math.sin(2 * math.pi * i / 400),
        ]
        for i in range(400)
    ]
    ring.append(ring[0])
    feature = {
        "type": "Feature",
        "properties": {"level": "community", "code": "150102001001"},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }
    services.boundary_import_geojson(
        actor=SYSTEM, text=json.dumps({"type": "FeatureCollection", "features": [feature]})
    )
    layer = selectors.map_layer_for(SYSTEM, "150102")
    drawn = next(f for f in layer.geojson["features"] if f["properties"]["name"] == "150102001001")
    assert 8 < len(drawn["geometry"]["coordinates"][0]) < 100
    area = next(a for a in layer.areas if a.code == "150102001001")
    assert area.area_km2 == pytest.approx(
        math.pi * 0.01 * 0.008 * 111.32**2 * math.cos(math.radians(40.89)), rel=0.01
    )


def test_a_district_officer_sees_their_district_only(loaded: dict[str, Region]) -> None:
    officer = officer_at(loaded["150105"])
    assert selectors.map_default_region(officer) == "150105"
    city = selectors.map_layer_for(officer, "150100")  # above their reach: scoped, not refused
    assert {a.code for a in city.areas} == {JIANKANG, VILLAGE}
    assert [c.code for c in city.children] == ["150105"]
    assert city.residents == living_in("150100/150105/")
    district = selectors.map_layer_for(officer, "150105")
    assert [c.code for c in district.breadcrumb] == ["150100", "150105"]
    for code in ("150102", "150102001", "150102001001", "999999"):
        with pytest.raises(NotFound):
            selectors.map_layer_for(officer, code)
    # Real officers hold department-bound grants; places are not department data.
    grant = Grant(Role.POPULATION_OFFICER, unit_id=1, region_path=loaded["150105"].path, department_id=42)
    bound = Actor(user_id=501, username="bound", grants=(grant,))
    assert selectors.map_layer_for(bound, JIANKANG).residents == living_in(loaded[JIANKANG].path)
    with pytest.raises(NotFound):
        selectors.map_layer_for(bound, "150102001001")


def test_a_community_worker_opens_on_their_community_and_an_applicant_on_nothing(
    loaded: dict[str, Region],
) -> None:
    worker = officer_at(loaded[JIANKANG], role=Role.COMMUNITY_WORKER)
    assert selectors.map_default_region(worker) == JIANKANG
    breadcrumb = selectors.map_layer_for(worker, JIANKANG).breadcrumb
    assert [c.code for c in breadcrumb] == ["150100", "150105", "150105001", JIANKANG]
    with pytest.raises(NotFound):
        selectors.map_layer_for(worker, VILLAGE)
    applicant = Actor(user_id=77, username="zhangsan")
    with pytest.raises(NotFound):
        selectors.map_default_region(applicant)
    with pytest.raises(NotFound):
        selectors.map_layer_for(applicant, "150100")


# --- buildings and residents ----------------------------------------------------------------------


def test_people_readers_get_masked_residents_others_the_count(loaded: dict[str, Region]) -> None:
    building = Building.objects.filter(region_path=loaded[JIANKANG].path, resident_count__gt=1).first()
    assert building is not None
    officer = officer_at(loaded["150105"])
    data = selectors.building_residents_for(officer, building.pk)
    assert data.residents is not None
    assert len(data.residents) == data.resident_count == building.resident_count
    assert all(MASKED.match(r.id_masked) for r in data.residents)
    assert {r.sex_label for r in data.residents} <= {"男", "女"}
    analyst = officer_at(loaded["150105"], role=Role.ANALYST)
    counted = selectors.building_residents_for(analyst, building.pk)
    assert counted.residents is None
    assert counted.resident_count == building.resident_count
    for outsider in (officer_at(loaded["150102"]), officer_at(loaded[VILLAGE], role=Role.COMMUNITY_WORKER)):
        with pytest.raises(NotFound):
            selectors.building_residents_for(outsider, building.pk)


def test_grid_buildings_in_reach(loaded: dict[str, Region]) -> None:
    grid = Grid.objects.filter(community__code=JIANKANG).order_by("code").first()
    assert grid is not None
    found, points = selectors.grid_buildings_for(officer_at(loaded["150105"]), grid.pk)
    assert found == grid
    assert [p.number for p in points] == sorted(grid.buildings.values_list("number", flat=True))
    assert sum(p.residents for p in points) == sum(grid.buildings.values_list("resident_count", flat=True))
    with pytest.raises(NotFound):
        selectors.grid_buildings_for(officer_at(loaded["150102"]), grid.pk)


# --- the grid worker's grids and their assignment -------------------------------------------------


def test_my_grids_are_the_assigned_ones_else_the_community(loaded: dict[str, Region]) -> None:
    user, worker = worker_account()
    community_grids = list(Grid.objects.filter(community__code=JIANKANG).order_by("code"))
    mine = selectors.my_grids_for(worker)
    assert [g.code for g in mine] == [g.code for g in community_grids]
    assert not any(g.assigned for g in mine)
    first = community_grids[0]
    services.grid_worker_assign(actor=SYSTEM, grid_id=first.pk, worker_id=user.pk)
    mine = selectors.my_grids_for(worker)
    assert [(g.code, g.assigned) for g in mine] == [(first.code, True)]
    assert mine[0].buildings == first.buildings.count()
    assert mine[0].residents == sum(first.buildings.values_list("resident_count", flat=True))
    assert Entry.objects.filter(action="population.grid_worker_assigned").count() == 1
    assert selectors.my_grids_for(officer_at(loaded["150105"])) == []  # not a grid worker


def test_grid_worker_assignment_refusals(loaded: dict[str, Region]) -> None:
    user, _ = worker_account()
    clerk, _ = worker_account("150105-CSC-W-civil_affairs", Role.WINDOW_CLERK)
    grid = Grid.objects.filter(community__code=JIANKANG).order_by("code").first()
    village_grid = Grid.objects.filter(community__code=VILLAGE).first()
    assert grid is not None
    assert village_grid is not None
    with pytest.raises(NotFound):  # a system administrator of another district
        services.grid_worker_assign(
            actor=officer_at(loaded["150102"], role=Role.SYSTEM_ADMIN), grid_id=grid.pk, worker_id=user.pk
        )
    with pytest.raises(Forbidden):  # in reach but not an administrator
        services.grid_worker_assign(actor=officer_at(loaded["150105"]), grid_id=grid.pk, worker_id=user.pk)
    for grid_id, worker_id in ((village_grid.pk, user.pk), (grid.pk, clerk.pk), (grid.pk, 987654)):
        with pytest.raises(ValidationFailed):  # out of the worker's reach, not a community worker, nobody
            services.grid_worker_assign(actor=SYSTEM, grid_id=grid_id, worker_id=worker_id)
    assert not Grid.objects.exclude(worker=None).exists()
    assert not Entry.objects.filter(action="population.grid_worker_assigned").exists()
    admin = officer_at(loaded["150105"], role=Role.SYSTEM_ADMIN)
    services.grid_worker_assign(actor=admin, grid_id=grid.pk, worker_id=user.pk)
    services.grid_worker_assign(actor=admin, grid_id=grid.pk, worker_id=None)
    grid.refresh_from_db()
    assert grid.worker_id is None
