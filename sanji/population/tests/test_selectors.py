"""Spatial and scoped reads: locate a person, residents of places, polygons, radii, per-grid totals."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from sanji.core import clock
from sanji.core.errors import NotFound, ValidationFailed
from sanji.core.roles import Role
from sanji.population import selectors, services
from sanji.population.models import Building, CommunityBoundary, Grid, Person
from sanji.population.tests.conftest import SYSTEM, WriteCsv, many_rows, officer_at

pytestmark = pytest.mark.django_db


@pytest.fixture
def loaded(places, buildings, write_csv: WriteCsv) -> dict[str, Any]:
    services.population_import(actor=SYSTEM, path=write_csv(many_rows(buildings[::3], 120)), workers=0)
    return dict(places)


def test_person_location_is_the_building_point(loaded) -> None:
    person = Person.objects.select_related("building")[0]
    assert person.building is not None
    location = selectors.person_location(SYSTEM, person.pk)
    assert (location.lon, location.lat) == (person.building.lon, person.building.lat)
    assert location.building_code == person.building.code


def test_residents_of_building_grid_and_community(loaded) -> None:
    building = Building.objects.filter(resident_count__gt=0)[0]
    assert selectors.residents_of_building(SYSTEM, building.pk).count() == building.resident_count
    grid = building.grid
    expected = sum(grid.buildings.values_list("resident_count", flat=True))
    assert selectors.residents_of_grid(SYSTEM, grid.pk).count() == expected
    community = loaded["150102001001"]
    assert (
        selectors.residents_of_community(SYSTEM, community.code).count()
        == Person.objects.filter(region_path=community.path).count()
    )


def test_residents_inside_a_community_polygon(loaded) -> None:
    for code in ("150102001001", "150105001002"):
        boundary = CommunityBoundary.objects.get(region__code=code)
        inside = selectors.residents_in_polygon(SYSTEM, boundary.geometry)
        assert set(inside.values_list("pk", flat=True)) == set(
            Person.objects.filter(region_path=boundary.region_path).values_list("pk", flat=True)
        )
        assert selectors.residents_in_community_boundary(SYSTEM, code).count() == inside.count()


def test_polygon_excludes_buildings_outside(loaded) -> None:
    building = Building.objects.filter(resident_count__gt=0)[0]
    d = 0.0002
    square = {
        "type": "Polygon",
        "coordinates": [
            [
                [building.lon - d, building.lat - d],
                [building.lon + d, building.lat - d],
                [building.lon + d, building.lat + d],
                [building.lon - d, building.lat + d],
                [building.lon - d, building.lat - d],
            ]
        ],
    }
    ids = selectors.buildings_in_polygon(SYSTEM, square)
    assert building.pk in ids
    assert selectors.residents_in_polygon(SYSTEM, json.dumps(square)).count() == sum(
        Building.objects.filter(pk__in=ids).values_list("resident_count", flat=True)
    )
    with pytest.raises(ValidationFailed):
        selectors.residents_in_polygon(SYSTEM, {"type": "Point", "coordinates": [111.7, 40.8]})


def test_residents_within_radius(loaded) -> None:
    building = Building.objects.filter(resident_count__gt=0)[0]
    near = selectors.residents_within_radius(SYSTEM, building.lon, building.lat, 1.0)
    assert near.count() == building.resident_count
    wide = selectors.residents_within_radius(SYSTEM, building.lon, building.lat, 30_000)
    assert wide.count() == Person.objects.count()
    with pytest.raises(ValidationFailed):
        selectors.residents_within_radius(SYSTEM, 116.4, 39.9, 100)


def test_population_per_grid_for_a_district(loaded) -> None:
    rows = selectors.population_per_grid(SYSTEM, "150102")
    assert {r.code for r in rows} == set(
        Grid.objects.filter(code__startswith="150102").values_list("code", flat=True)
    )
    assert (
        sum(r.residents for r in rows)
        == Person.objects.filter(region_path__startswith="150100/150102/").count()
    )


def test_person_as_of_reads_closed_versions(loaded) -> None:
    person = Person.objects.all()[0]
    before = person.valid_from
    later = before + dt.timedelta(days=10)
    with clock.frozen(later):
        services.person_version_close(actor=SYSTEM, person=person, at=later, reason="test")
        person.marital_status = "40"
        person.save(update_fields=["marital_status"])
    old = selectors.person_as_of(SYSTEM, person.pk, before + dt.timedelta(days=1))
    new = selectors.person_as_of(SYSTEM, person.pk, later + dt.timedelta(days=1))
    assert old is not None
    assert new is not None
    assert old["version"] == 1
    assert old["marital_status"] != "40"
    assert new["version"] == 2
    assert new["marital_status"] == "40"
    assert selectors.person_as_of(SYSTEM, person.pk, before - dt.timedelta(days=1)) is None


def test_scoping_and_refusals(loaded) -> None:
    xincheng_officer = officer_at(loaded["150102"], role=Role.POPULATION_OFFICER)
    saihan_person = Person.objects.filter(region_path__startswith="150100/150105/")[0]
    xincheng_person = Person.objects.filter(region_path__startswith="150100/150102/")[0]
    assert selectors.person_get_for(xincheng_officer, xincheng_person.pk) == xincheng_person
    with pytest.raises(NotFound):
        selectors.person_get_for(xincheng_officer, saihan_person.pk)
    with pytest.raises(NotFound):
        selectors.person_location(xincheng_officer, saihan_person.pk)
    with pytest.raises(NotFound):
        selectors.residents_of_building(xincheng_officer, saihan_person.building_id or 0)
    with pytest.raises(NotFound):
        selectors.residents_of_community(xincheng_officer, "150105001001")
    with pytest.raises(NotFound):
        selectors.population_per_grid(xincheng_officer, "150105")
    boundary = CommunityBoundary.objects.get(region__code="150105001001")
    assert selectors.residents_in_polygon(xincheng_officer, boundary.geometry).count() == 0
    # A clerk holds no person-reading role: lists are empty, single people not found.
    clerk = officer_at(loaded["150102"], role=Role.WINDOW_CLERK)
    assert selectors.residents_of_community(clerk, "150102001001").count() == 0
    with pytest.raises(NotFound):
        selectors.person_get_for(clerk, xincheng_person.pk)


def test_find_by_id_number_uses_the_blind_index(loaded) -> None:
    person = Person.objects.all()[0]
    number = selectors.person_id_number(SYSTEM, person)
    assert selectors.person_find_by_id_number(SYSTEM, number.lower()) == person
    with pytest.raises(NotFound):
        selectors.person_find_by_id_number(SYSTEM, "110105194912310021")
