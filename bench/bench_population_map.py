"""The population map's reads on the demo's places and ``SANJI_BENCH_MAP_N`` residents (default 300,000).

Set-up (not timed): Hohhot's divisions, the synthetic places (1,396 communities, ≈ 5,600 grids,
≈ 63,000 buildings) and the residents through ``population_import``. Then, median of 5 runs each,
with the CPU time of the process and the number of queries:

1. the city layer (every community's polygon in GCJ-02, its residents and density) for the city;
2. the district layer (赛罕区) for a district population officer (a department-bound grant);
3. the community layer (grids and buildings) of the district's most populous community;
4. the residents of the district's most populous building (masked IDs) for that officer.

Anchor of the city layer: the raw engine reading the same rows (the boundaries' GeoJSON and the
per-community sums of ``resident_count``) with no conversion, so the ratio is the cost of the
scoping, the datum conversion, the areas and the JSON-ready layer. The load average is in the notes.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

NAME = "population_map"
SIZE = int(os.environ.get("SANJI_BENCH_MAP_N", "300000"))
BUDGET_MS = 200.0


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores"


def _measure(fn: Callable[[], Any], runs: int = 5) -> tuple[float, float, int]:
    """(median wall ms, median CPU ms, queries of one run)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    fn()  # warm
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    with CaptureQueriesContext(connection) as queries:
        fn()
    return round(statistics.median(walls), 1), round(statistics.median(cpus), 1), len(queries)


def run(engine: str) -> list[dict[str, Any]]:
    from django.db import connection
    from django.db.models import Count

    from sanji.core import clock
    from sanji.core.actors import Actor, Grant, system_actor
    from sanji.core.roles import Role
    from sanji.orgs import services as org_services
    from sanji.orgs.models import Region
    from sanji.population import generator, selectors, services
    from sanji.population.models import Building, CommunityBoundary, Person

    platform = system_actor("bench", channel="cli")
    org_services.region_import_path(actor=platform)
    services.population_seed_places(actor=platform, city_code="150100")
    work = Path(tempfile.mkdtemp(prefix="sanji-bench-map-"))
    csv_path = work / "residents.csv"
    generator.generate(residents=SIZE, out=csv_path, seed=1, today=clock.today())
    services.population_import(actor=platform, path=csv_path)
    csv_path.unlink()
    work.rmdir()

    district = Region.objects.get(code="150105")
    officer = Actor(
        user_id=1,
        username="bench.officer",
        grants=(Grant(Role.POPULATION_OFFICER, unit_id=1, region_path=district.path, department_id=1),),
    )
    top = (
        Person.objects.filter(region_path__startswith=district.path)
        .values("region_path")
        .annotate(n=Count("id"))
        .order_by("-n")
        .values_list("region_path")[:1]
    )
    community = top[0][0].rstrip("/").rsplit("/", 1)[-1]
    building = (
        Building.objects.filter(region_path__startswith=district.path).order_by("-resident_count").first()
    )
    assert building is not None

    def raw_city() -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT region_path, geometry FROM {CommunityBoundary._meta.db_table} "
                "WHERE region_path LIKE %s",
                ["150100/%"],
            )
            rows = cursor.fetchall()
            cursor.execute(
                f"SELECT region_path, SUM(resident_count) FROM {Building._meta.db_table} "
                "WHERE region_path LIKE %s GROUP BY region_path",
                ["150100/%"],
            )
            return len(rows) + len(cursor.fetchall())

    load_before = _load()
    city = _measure(lambda: selectors.map_layer_for(platform, "150100"))
    raw = _measure(raw_city)
    district_layer = _measure(lambda: selectors.map_layer_for(officer, "150105"))
    community_layer = _measure(lambda: selectors.map_layer_for(officer, community))
    residents = _measure(lambda: selectors.building_residents_for(officer, building.pk))
    loads = f"before: {load_before}; after: {_load()}"

    def result(name: str, figures: tuple[float, float, int], what: str, anchor: Any = None) -> dict[str, Any]:
        wall, cpu, queries = figures
        return {
            "name": name,
            "value": wall,
            "unit": "ms",
            "size": SIZE,
            "anchor": anchor,
            "notes": f"{what}; CPU {cpu} ms, {queries} queries; median of 5; budget {BUDGET_MS} ms; {loads}",
        }

    return [
        result(
            "population_map_city_layer",
            city,
            "1,396 community polygons in GCJ-02 with residents and density (platform)",
            {"name": "raw engine reading the same boundaries and sums", "value": raw[0], "unit": "ms"},
        ),
        result("population_map_district_layer", district_layer, "赛罕区 for a district population officer"),
        result(
            "population_map_community_layer", community_layer, f"community {community}: grids and buildings"
        ),
        result(
            "population_map_building_residents",
            residents,
            f"{building.resident_count} residents of the most populous building, masked IDs",
        ),
    ]
