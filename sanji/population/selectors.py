"""Reads of the population registry, scoped by the actor (:mod:`sanji.population.policies`).

Spatial reads locate people through their building: a person → the building's point; a polygon
or a circle → the buildings inside (a box prefilter on the indexed ``lon``/``lat`` columns, then
shapely's vectorised ``contains_xy``) → the people living there. Per-grid totals read the
buildings' ``resident_count``, never the person table.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db import models
from django.db.models import Sum

from sanji.core import crypto, idnumber
from sanji.core.actors import Actor
from sanji.core.authz import get_in_scope
from sanji.core.errors import NotFound, ValidationFailed
from sanji.orgs.models import Region, RegionLevel
from sanji.population import coords, policies
from sanji.population.models import Building, CommunityBoundary, Grid, Person, PersonVersion
from sanji.population.services import FIELD_KEY, previous_field_keys


def _people(actor: Actor) -> models.QuerySet[Person]:
    if not policies.can_read_people(actor):
        return Person.objects.none()
    return policies.scope_people(actor, Person.objects.all())


def person_get_for(actor: Actor, person_id: int) -> Person:
    return get_in_scope(_people(actor).select_related("building", "household"), pk=person_id)


def person_find_by_id_number(actor: Actor, raw: str) -> Person:
    """Exact look-up by ID number (15 or 18 digits) through the blind index; NotFound otherwise."""
    try:
        parsed = idnumber.parse(raw, today=dt.date.max)
    except idnumber.IdNumberError:
        raise NotFound() from None
    index = crypto.blind_index(parsed.number, purpose="person")
    return get_in_scope(_people(actor), id_index=index)


def person_id_number(actor: Actor, person: Person) -> str:
    """The clear ID number of a person the actor may read (decrypts with current or previous keys)."""
    get_in_scope(_people(actor), pk=person.pk)
    return crypto.decrypt(person.id_number_encrypted, key=FIELD_KEY, previous=previous_field_keys())


@dataclass(frozen=True, slots=True)
class Location:
    lon: float
    lat: float
    building_id: int
    building_code: str
    grid_id: int
    region_path: str


def person_location(actor: Actor, person_id: int) -> Location:
    """Where a person actually lives: the household's own point if surveyed, else the building's."""
    person = person_get_for(actor, person_id)
    building = person.building
    if building is None:
        raise NotFound("This person has no known residence.")
    lon, lat = building.lon, building.lat
    if person.household is not None and person.household.lon is not None and person.household.lat is not None:
        lon, lat = person.household.lon, person.household.lat
    return Location(lon, lat, building.pk, building.code, building.grid_id, building.region_path)


def person_as_of(actor: Actor, person_id: int, at: dt.datetime) -> dict[str, Any] | None:
    """The person's facts as they were at ``at``: the current row or a closed version (None before)."""
    person = person_get_for(actor, person_id)
    if at >= person.valid_from:
        return {"version": person.version, **person.snapshot()}
    version = PersonVersion.objects.filter(person=person, valid_from__lte=at, valid_to__gt=at).first()
    if version is None:
        return None
    return {"version": version.version, **version.snapshot}


# --- places --------------------------------------------------------------------------------------


def building_get_for(actor: Actor, building_id: int) -> Building:
    return get_in_scope(policies.scope_places(actor, Building.objects.all()), pk=building_id)


def grid_get_for(actor: Actor, grid_id: int) -> Grid:
    return get_in_scope(policies.scope_places(actor, Grid.objects.all()), pk=grid_id)


def community_get_for(actor: Actor, code: str) -> Region:
    regions = policies.scope_regions(actor, Region.objects.filter(level=RegionLevel.COMMUNITY))
    return get_in_scope(regions, code=code)


def residents_of_building(actor: Actor, building_id: int) -> models.QuerySet[Person]:
    building = building_get_for(actor, building_id)
    return _people(actor).filter(building_id=building.pk)


def residents_of_grid(actor: Actor, grid_id: int) -> models.QuerySet[Person]:
    grid = grid_get_for(actor, grid_id)
    return _people(actor).filter(building__grid_id=grid.pk)


def residents_of_community(actor: Actor, code: str) -> models.QuerySet[Person]:
    community = community_get_for(actor, code)
    return _people(actor).filter(region_path=community.path)


def _buildings_in_box(
    actor: Actor, box: tuple[float, float, float, float]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    min_lon, min_lat, max_lon, max_lat = box
    rows = list(
        policies.scope_places(actor, Building.objects.all())
        .filter(lon__gte=min_lon, lon__lte=max_lon, lat__gte=min_lat, lat__lte=max_lat)
        .values_list("id", "lon", "lat")
    )
    if not rows:
        empty = np.empty(0)
        return empty.astype(np.int64), empty, empty
    data = np.array(rows, dtype=np.float64)
    return data[:, 0].astype(np.int64), data[:, 1], data[:, 2]


def buildings_in_polygon(actor: Actor, geometry: dict[str, Any] | str) -> list[int]:
    """Ids of the buildings inside a GeoJSON Polygon/MultiPolygon (lon/lat)."""
    from shapely import contains_xy, prepare
    from shapely.geometry import shape

    try:
        geom = shape(json.loads(geometry) if isinstance(geometry, str) else geometry)
    except Exception as exc:  # malformed GeoJSON in any of several ways
        raise ValidationFailed(f"Not a GeoJSON polygon: {exc}") from None
    if geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
        raise ValidationFailed("Not a GeoJSON polygon.")
    ids, lons, lats = _buildings_in_box(actor, geom.bounds)
    if not len(ids):
        return []
    prepare(geom)
    inside = contains_xy(geom, lons, lats)
    return [int(i) for i in ids[inside]]


def residents_in_polygon(actor: Actor, geometry: dict[str, Any] | str) -> models.QuerySet[Person]:
    """People living in buildings inside the polygon."""
    return _people(actor).filter(building_id__in=buildings_in_polygon(actor, geometry))


def residents_in_community_boundary(actor: Actor, code: str) -> models.QuerySet[Person]:
    """People living inside a community's stored polygon (spatially, whatever their community row)."""
    community = community_get_for(actor, code)
    boundary = CommunityBoundary.objects.filter(region=community).first()
    if boundary is None:
        raise NotFound("This community has no boundary.")
    return residents_in_polygon(actor, boundary.geometry)


def residents_within_radius(actor: Actor, lon: float, lat: float, radius_m: float) -> models.QuerySet[Person]:
    """People living in buildings within ``radius_m`` metres of the point."""
    if not coords.in_city(lon, lat):
        raise ValidationFailed("The point is outside the city.")
    if not 0 < radius_m <= 50_000:
        raise ValidationFailed("The radius is between 0 and 50 km.")
    ids, lons, lats = _buildings_in_box(actor, coords.bbox_around(lon, lat, radius_m))
    if not len(ids):
        return _people(actor).none()
    p1, p2 = np.radians(lat), np.radians(lats)
    h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lons - lon) / 2) ** 2
    distance = 2 * coords.EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(h)))
    return _people(actor).filter(building_id__in=[int(i) for i in ids[distance <= radius_m]])


@dataclass(frozen=True, slots=True)
class GridPopulation:
    grid_id: int
    code: str
    name: str
    region_path: str
    residents: int


def population_per_grid(actor: Actor, region_code: str) -> list[GridPopulation]:
    """Living residents per grid for every grid under a region (a district, township or community)."""
    region = Region.objects.filter(code=region_code).first()
    if region is None:
        raise NotFound()
    grids = policies.scope_places(actor, Grid.objects.filter(region_path__startswith=region.path))
    if not policies.can_see_region(actor, region.path) and not grids.exists():
        raise NotFound()
    totals = dict(
        policies.scope_places(actor, Building.objects.filter(region_path__startswith=region.path))
        .values("grid_id")
        .annotate(n=Sum("resident_count"))
        .values_list("grid_id", "n")
    )
    return [
        GridPopulation(pk, code, name, path, int(totals.get(pk) or 0))
        for pk, code, name, path in grids.order_by("code").values_list("id", "code", "name", "region_path")
    ]


# --- reads for the sharing app's person search and person page --------------------------------------


def people_for(actor: Actor) -> models.QuerySet[Person]:
    """The people the actor may read individually (empty for anyone else)."""
    return _people(actor)


def household_members(actor: Actor, person_id: int) -> list[Person]:
    """The readable members of the person's household (the person included), head first."""
    person = person_get_for(actor, person_id)
    if person.household_id is None:
        return [person]
    return list(_people(actor).filter(household_id=person.household_id).order_by("relation", "id"))


def person_versions(actor: Actor, person_id: int) -> models.QuerySet[PersonVersion]:
    """The closed earlier states of a person the actor may read, newest first."""
    person = person_get_for(actor, person_id)
    return PersonVersion.objects.filter(person_id=person.pk).order_by("-version")
