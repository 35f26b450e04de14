"""Population pages (Chinese UI). Thin: parse → one selector or service call → render."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from sanji.core.actors import actor_of
from sanji.core.errors import NotFound
from sanji.population import policies, selectors

R = TypeVar("R")

# --- the population map and the grid worker's page (人口地图, 我的网格) ------------------------------


def _map_found(fn: Callable[[], R]) -> R:
    try:
        return fn()
    except NotFound:
        raise Http404 from None


def _map_int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        raise Http404 from None


def _map_data(layer: selectors.MapLayer, selected: str) -> dict[str, Any]:
    """What map.js draws: the layer's GeoJSON, each area's density, buildings, and where clicks go."""
    return {
        "region": layer.code,
        "level": layer.level,
        "selected": selected,
        "geojson": layer.geojson,
        "areas": [
            {
                "name": a.code,
                "label": a.name,
                "kind": a.kind,
                "grid": a.grid_id,
                "value": a.density,
                "residents": a.residents,
                "area": a.area_km2,
            }
            for a in layer.areas
        ],
        "points": [
            {"id": p.building_id, "label": p.address, "value": [p.lon, p.lat, p.residents]}
            for p in layer.points
        ],
        "urls": {
            "region": reverse("population:map") + "?region=",
            "grid": reverse("population:map_grid", args=[0]),
            "building": reverse("population:map_building", args=[0]),
        },
    }


@login_required
@require_GET
def population_map(request: HttpRequest) -> HttpResponse:
    """The population map (人口分布图): density by community, drill down to grids, buildings, residents.

    ``?region=CODE`` opens a region (default: the narrowest one covering the viewer's reach);
    ``?grid=ID`` opens the grid's community with that grid's buildings listed.
    """
    actor = actor_of(request)
    grid_id = _map_int(request.GET.get("grid"))
    grid = points = None
    if grid_id is not None:
        grid, points = _map_found(lambda: selectors.grid_buildings_for(actor, grid_id))
        region_code = grid.community.code
    else:
        region_code = request.GET.get("region") or _map_found(lambda: selectors.map_default_region(actor))
    layer = _map_found(lambda: selectors.map_layer_for(actor, region_code))
    return render(
        request,
        "population/map.html",
        {
            "layer": layer,
            "map_data": _map_data(layer, grid.code if grid else ""),
            "grid": grid,
            "points": points,
        },
    )


@login_required
@require_GET
def map_grid(request: HttpRequest, grid_id: int) -> HttpResponse:
    """A grid's buildings with resident counts (a fragment of the map page)."""
    actor = actor_of(request)
    grid, points = _map_found(lambda: selectors.grid_buildings_for(actor, grid_id))
    if not request.headers.get("HX-Request"):
        return redirect(f"{reverse('population:map')}?grid={grid.pk}")
    return render(request, "population/map_grid.html", {"grid": grid, "points": points})


@login_required
@require_GET
def map_building(request: HttpRequest, building_id: int) -> HttpResponse:
    """A building's residents (masked IDs) for people readers, its count for everyone else."""
    actor = actor_of(request)
    data = _map_found(lambda: selectors.building_residents_for(actor, building_id))
    template = (
        "population/map_building.html"
        if request.headers.get("HX-Request")
        else "population/map_building_page.html"
    )
    return render(request, template, {"data": data})


@login_required
@require_GET
def grid_home(request: HttpRequest) -> HttpResponse:
    """The grid worker's page (我的网格): my grids with their buildings and residents."""
    actor = actor_of(request)
    if not policies.can_use_grid_page(actor):
        raise Http404
    return render(request, "population/grid.html", {"grids": selectors.my_grids_for(actor)})


@login_required
@require_GET
def grid_detail(request: HttpRequest, grid_id: int) -> HttpResponse:
    """One of my grids: its buildings; a building's residents open beside them."""
    actor = actor_of(request)
    if not policies.can_use_grid_page(actor):
        raise Http404
    grid, points = _map_found(lambda: selectors.grid_buildings_for(actor, grid_id))
    return render(request, "population/grid_detail.html", {"grid": grid, "points": points})


# --- end of the map and grid pages ----------------------------------------------------------------
