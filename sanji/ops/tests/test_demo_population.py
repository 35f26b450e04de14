"""Demo places and residents: every community gets places, people in reach of the demo people,
the demo grid worker's grids, and a second run that finds everything in place at once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sanji.accounts.models import User
from sanji.accounts.selectors import actor_for
from sanji.audit.verify import verify_chain
from sanji.ops import demo, demo_population
from sanji.orgs.models import Region, RegionLevel
from sanji.population import selectors
from sanji.population.models import CommunityBoundary, Grid, Person

pytestmark = pytest.mark.django_db(transaction=True)
RESIDENTS = 4000


@pytest.fixture
def demo_world(settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.DATA_DIR = tmp_path
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    monkeypatch.setenv("SANJI_DEMO_RESIDENTS", str(RESIDENTS))
    demo.seed_reference_data()
    demo.seed_people()  # calls seed_demo_population() once the demo people exist


def test_seed_people_seeds_places_residents_and_the_grid_worker(demo_world: None, tmp_path: Path) -> None:
    communities = Region.objects.filter(level=RegionLevel.COMMUNITY).count()
    assert communities == 1396
    assert CommunityBoundary.objects.count() == communities
    assert Grid.objects.values("community").distinct().count() == communities
    # the imported residents; the demo's verified birth (sanji.ops.demo_changes) adds a person of its own
    assert Person.objects.filter(import_job__isnull=False).count() == RESIDENTS
    assert not list((tmp_path / "demo").glob("*.csv"))  # the generated file is not left behind

    worker = actor_for(User.objects.get(username=demo_population.GRID_WORKER))
    grids = selectors.my_grids_for(worker)
    assert 1 <= len(grids) <= demo_population.GRID_WORKER_GRIDS  # the community's peopled grids
    assert all(g.assigned and g.community_code == demo_population.GRID_WORKER_COMMUNITY for g in grids)
    assert all(g.residents > 0 for g in grids)
    for username in ("saihan.population", "saihan.police"):
        actor = actor_for(User.objects.get(username=username))
        layer = selectors.map_layer_for(actor, selectors.map_default_region(actor))
        assert layer.code == "150105"
        assert layer.residents > 0
    # urban districts are denser than the counties
    city = selectors.map_layer_for(actor_for(User.objects.get(username="city.analyst")), "150100")
    density = {c.code: c.residents for c in city.children}
    assert density["150105"] > density["150124"]
    assert verify_chain().ok


def test_a_second_run_finds_everything_in_place(demo_world: None) -> None:
    before = Person.objects.count()
    with CaptureQueriesContext(connection) as queries:
        summary = demo_population.seed_demo_population()
    assert (summary.residents, summary.grids_assigned) == (0, 0)
    assert summary.places == "places in place"
    assert len(queries) <= 6
    assert Person.objects.count() == before


def test_zero_residents_seeds_nothing(settings: Any, tmp_path: Path) -> None:
    settings.DATA_DIR = tmp_path
    summary = demo_population.seed_demo_population(residents=0)
    assert summary.places == "skipped"
    assert not Grid.objects.exists()
