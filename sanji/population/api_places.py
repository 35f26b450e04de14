"""API of the population map's layers (thin). Mounted at ``/api/v1/population/places``; scope
``population:read``. The same selectors as the map page: places and counts for any staff actor
within reach, residents (masked ID numbers) only for people readers; out of reach is 404."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from sanji.accounts.scopes import require_scope
from sanji.core.actors import Actor
from sanji.population import selectors

router = Router(tags=["population places"])


class CrumbOut(Schema):
    code: str
    name: str
    level: str


class AreaOut(Schema):
    code: str
    name: str
    kind: str
    grid_id: int | None
    residents: int
    area_km2: float
    density: float


class ChildOut(Schema):
    code: str
    name: str
    level: str
    residents: int


class PointOut(Schema):
    building_id: int
    code: str
    number: str
    address: str
    lon: float
    lat: float
    residents: int


class LayerOut(Schema):
    code: str
    name: str
    level: str
    residents: int
    breadcrumb: list[CrumbOut]
    children: list[ChildOut]
    areas: list[AreaOut]
    geojson: dict[str, Any]
    points: list[PointOut]
    can_read_people: bool


class GridOut(Schema):
    grid_id: int
    code: str
    name: str
    community_code: str
    community_name: str
    buildings: int
    residents: int
    assigned: bool


class GridBuildingsOut(Schema):
    grid_id: int
    code: str
    name: str
    buildings: list[PointOut]


class ResidentOut(Schema):
    person_id: int
    name: str
    id_masked: str
    sex: str
    birth_date: dt.date
    unit_number: str
    room_number: str
    relation: str
    verified: bool


class BuildingResidentsOut(Schema):
    building_id: int
    code: str
    address: str
    resident_count: int
    residents: list[ResidentOut] | None  # null: the caller may see counts only


def _actor(request: HttpRequest) -> Actor:
    actor: Actor = request.auth  # type: ignore[attr-defined]
    require_scope(actor, "population:read")
    return actor


@router.get(
    "/layers",
    response=LayerOut,
    summary="A region's map layer: polygons (GeoJSON, GCJ-02) with population and density",
)
def layer_get(request: HttpRequest, region: str | None = None) -> Any:
    actor = _actor(request)
    return selectors.map_layer_for(actor, region or selectors.map_default_region(actor))


@router.get("/grids/mine", response=list[GridOut], summary="The calling grid worker's grids")
def grids_mine(request: HttpRequest) -> Any:
    return selectors.my_grids_for(_actor(request))


@router.get(
    "/grids/{grid_id}/buildings", response=GridBuildingsOut, summary="A grid's buildings with resident counts"
)
def grid_buildings(request: HttpRequest, grid_id: int) -> dict[str, Any]:
    grid, points = selectors.grid_buildings_for(_actor(request), grid_id)
    return {"grid_id": grid.pk, "code": grid.code, "name": grid.name, "buildings": points}


@router.get(
    "/buildings/{building_id}/residents",
    response=BuildingResidentsOut,
    summary="A building's living residents (masked ID numbers), or only their count",
)
def building_residents(request: HttpRequest, building_id: int) -> dict[str, Any]:
    data = selectors.building_residents_for(_actor(request), building_id)
    return {
        "building_id": data.building.pk,
        "code": data.building.code,
        "address": data.building.address,
        "resident_count": data.resident_count,
        "residents": data.residents,
    }
