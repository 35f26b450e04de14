"""Demo places and residents (演示人口): synthetic grids, buildings and people for every community.

:func:`seed_demo_population` runs the same services a real deployment would, acting as the
platform: ``population_seed_places`` (a synthetic boundary, 2–6 grids and their buildings around
each of Hohhot's 1,396 real communities), the generator of synthetic residents written to a CSV
file in the import format, ``population_import`` of that file (validated, encrypted, indexed), and
``grid_worker_assign`` for the demo grid worker. Everything is SYNTHETIC: only the division codes
and names are real.

Size: :data:`DEFAULT_RESIDENTS` people (``SANJI_DEMO_RESIDENTS`` overrides it; 0 seeds nothing),
urban districts denser than county towns and villages. On this 2-core machine the whole seeding
takes about 25 s on SQLite (places ≈ 8 s, generation ≈ 3 s, import ≈ 11 s). A second run finds
everything in place with three cheap queries and returns at once.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db.models import Sum

from sanji.accounts.models import User
from sanji.core import clock
from sanji.core.actors import system_actor
from sanji.orgs.models import Region, RegionLevel
from sanji.population import generator, services
from sanji.population.models import CommunityBoundary, Grid, Person

CITY_CODE = "150100"
DEFAULT_RESIDENTS = 100_000
#: The demo grid worker (网格员) and the community whose first peopled grids they look after.
GRID_WORKER = "jiankang.worker"
GRID_WORKER_COMMUNITY = "150105001001"
GRID_WORKER_GRIDS = 2
SEED = 20260101


@dataclass(frozen=True)
class PopulationSeedSummary:
    places: str
    residents: int
    grids_assigned: int
    seconds: float

    def line(self) -> str:
        return (
            f"population: {self.places}; {self.residents} residents imported; "
            f"{self.grids_assigned} grids assigned to {GRID_WORKER} ({self.seconds:.1f} s)"
        )


def demo_residents() -> int:
    return int(os.environ.get("SANJI_DEMO_RESIDENTS", str(DEFAULT_RESIDENTS)))


def seed_demo_population(*, residents: int | None = None) -> PopulationSeedSummary:
    """Places, residents and the demo grid worker's grids; each step only when not done yet."""
    started = time.perf_counter()
    residents = demo_residents() if residents is None else residents
    if residents <= 0:
        return PopulationSeedSummary("skipped", 0, 0, 0.0)
    platform = system_actor("demo", channel="system")
    city = Region.objects.get(code=CITY_CODE, level=RegionLevel.CITY)
    places = "places in place"
    communities = Region.objects.filter(path__startswith=city.path, level=RegionLevel.COMMUNITY).count()
    if CommunityBoundary.objects.filter(region_path__startswith=city.path).count() < communities:
        places = services.population_seed_places(actor=platform, city_code=CITY_CODE).summary()
    imported = 0
    if not Person.objects.filter(region_path__startswith=city.path).exists():
        out = Path(settings.DATA_DIR) / "demo" / f"residents-{residents}.csv"
        generator.generate(residents=residents, out=out, seed=SEED, today=clock.today())
        try:
            imported = services.population_import(actor=platform, path=out).imported
        finally:
            out.unlink(missing_ok=True)
    return PopulationSeedSummary(places, imported, _assign_grid_worker(), time.perf_counter() - started)


def _assign_grid_worker() -> int:
    """Give the demo grid worker the first grids of their community that have residents."""
    worker = User.objects.filter(username=GRID_WORKER).first()
    if worker is None or Grid.objects.filter(worker=worker).exists():
        return 0
    platform = system_actor("demo", channel="system")
    grids = (
        Grid.objects.filter(community__code=GRID_WORKER_COMMUNITY)
        .annotate(residents=Sum("buildings__resident_count"))
        .filter(residents__gt=0)
        .order_by("code")[:GRID_WORKER_GRIDS]
    )
    for grid in grids:
        services.grid_worker_assign(actor=platform, grid_id=grid.pk, worker_id=worker.pk)
    return len(grids)
