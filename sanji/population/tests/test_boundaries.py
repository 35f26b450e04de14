"""Boundary import from GeoJSON (all or nothing) and the idempotent synthetic seeding."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sanji.core.errors import Forbidden, ValidationFailed
from sanji.core.roles import Role
from sanji.population import services
from sanji.population.models import Building, CommunityBoundary, Grid
from sanji.population.tests.conftest import SYSTEM, officer_at

pytestmark = pytest.mark.django_db


def square(lon: float, lat: float, d: float) -> dict[str, Any]:
    return {
        "type": "Polygon",
        "coordinates": [[[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]]],
    }


def feature(level: str, code: str, geometry: dict[str, Any], name: str = "") -> dict[str, Any]:
    return {
        "type": "Feature",
        "properties": {"level": level, "code": code, "name": name},
        "geometry": geometry,
    }


def collection(*features: dict[str, Any]) -> str:
    return json.dumps({"type": "FeatureCollection", "features": list(features)})


def test_seed_is_idempotent(places) -> None:
    counts = (CommunityBoundary.objects.count(), Grid.objects.count(), Building.objects.count())
    assert counts[0] == 4
    assert 8 <= counts[1] <= 24
    assert counts[2] > counts[1]
    again = services.population_seed_places(actor=SYSTEM, city_code="150100")
    assert (again.boundaries_created, again.grids_created, again.buildings_created) == (0, 0, 0)


def test_import_replaces_geometry(places) -> None:
    text = collection(
        feature("community", "150102001001", square(111.70, 40.90, 0.01)),
        feature("grid", "150102001001001", square(111.70, 40.90, 0.005), "一网格"),
        feature("grid", "150102001001009", square(111.705, 40.905, 0.005), "新网格"),
    )
    result = services.boundary_import_geojson(actor=SYSTEM, text=text)
    assert (result.communities, result.grids_created, result.grids_updated) == (1, 1, 1)
    boundary = CommunityBoundary.objects.get(region__code="150102001001")
    assert boundary.source == "imported"
    assert boundary.min_lon == pytest.approx(111.70)
    assert Grid.objects.get(code="150102001001009").name == "新网格"


def test_bad_features_are_all_reported_and_nothing_written(places) -> None:
    before = CommunityBoundary.objects.get(region__code="150102001001").geometry
    bowtie = {
        "type": "Polygon",
        "coordinates": [[[111.7, 40.9], [111.71, 40.91], [111.71, 40.9], [111.7, 40.91], [111.7, 40.9]]],
    }
    text = collection(
        feature("community", "150102001001", square(111.70, 40.90, 0.01)),
        feature("community", "150102001099", square(111.70, 40.90, 0.01)),  # unknown community
        feature("community", "150105001001", square(116.40, 39.90, 0.01)),  # Beijing
        feature("grid", "150102001001002", bowtie, "x"),  # self-intersecting
        feature("grid", "150102001001003", square(111.80, 40.90, 0.005), "y"),  # outside its community
        feature("district", "150102", square(111.7, 40.9, 0.01)),
    )
    with pytest.raises(ValidationFailed) as failed:
        services.boundary_import_geojson(actor=SYSTEM, text=text)
    problems = {(d["line"], d["field"]) for d in failed.value.details}
    assert problems == {(2, "code"), (3, "geometry"), (4, "geometry"), (5, "geometry"), (6, "level")}
    assert "坐标不在本市范围内" in str(failed.value.details)
    assert CommunityBoundary.objects.get(region__code="150102001001").geometry == before
    with pytest.raises(ValidationFailed):
        services.boundary_import_geojson(actor=SYSTEM, text="{not json")


def test_only_system_admin_in_reach_imports(places) -> None:
    text = collection(feature("community", "150105001001", square(111.85, 40.78, 0.01)))
    with pytest.raises(Forbidden):
        services.boundary_import_geojson(
            actor=officer_at(places["150102"], role=Role.SYSTEM_ADMIN), text=text
        )
    services.boundary_import_geojson(actor=officer_at(places["150105"], role=Role.SYSTEM_ADMIN), text=text)
