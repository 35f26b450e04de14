"""The community evaluation's population indicator, fed by the population app's verified changes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from sanji.core import clock
from sanji.core.actors import Actor, Grant, system_actor
from sanji.core.roles import Role
from sanji.evaluation import services
from sanji.evaluation.models import CommunityScore
from sanji.orgs import services as org_services
from sanji.orgs.models import Region, Unit
from sanji.population import services as population
from sanji.population.models import Person
from sanji.population.tests.conftest import SMALL_CSV, person_row

SYSTEM = system_actor("test-evaluation")
pytestmark = pytest.mark.django_db


def _actor(username: str, role: str, path: str) -> Actor:
    user = get_user_model().objects.create_user(username=username, password="x")
    return Actor(user_id=user.pk, username=username, grants=(Grant(role, 0, path),))


def test_population_indicator_of_a_station(tmp_path: Path, settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.DATA_DIR = tmp_path
    org_services.region_import_csv(actor=SYSTEM, text=SMALL_CSV)
    org_services.org_structure_seed(actor=SYSTEM, city_code="150100")
    population.population_seed_places(actor=SYSTEM, city_code="150100")
    from sanji.population.models import Building

    building = Building.objects.filter(code__startswith="150105001001").order_by("code").first()
    assert building is not None
    rows = [person_row(building, seq=s, household=f"H-{s}") for s in (11, 13)]
    csv_path = tmp_path / "people.csv"
    header = list(rows[0])
    csv_path.write_text(
        ",".join(header) + "\n" + "\n".join(",".join(r[h] for h in header) for r in rows) + "\n",
        encoding="utf-8",
    )
    population.population_import(actor=SYSTEM, path=csv_path, workers=0)
    saihan = Region.objects.get(code="150105").path
    officer = _actor("officer", Role.POPULATION_OFFICER, saihan)
    police = _actor("police", Role.POLICE_VERIFIER, saihan)
    people = list(Person.objects.order_by("pk"))
    station = Unit.objects.get(code="150105001001-CS")
    month = dt.date(2027, 3, 1)
    start = dt.datetime(2027, 3, 1, tzinfo=clock.CITY_TZ)
    end = dt.datetime(2027, 4, 1, tzinfo=clock.CITY_TZ)
    assert services.population_indicator(station, start, end) is None
    with clock.frozen(dt.datetime(2027, 3, 2, 2, tzinfo=dt.UTC)):
        changes = [
            population.change_submit(actor=officer, kind="name", person_id=p.pk, values={"name": name})
            for p, name in zip(people, ["张卫", "王方"], strict=True)
        ]
    with clock.frozen(dt.datetime(2027, 3, 3, 2, tzinfo=dt.UTC)):
        population.change_verify(actor=police, change_id=changes[0].pk, expected_state="submitted")
    assert services.population_indicator(station, start, end) == (2, 0.5, 1.0)
    with clock.frozen(dt.datetime(2027, 4, 2, 2, tzinfo=dt.UTC)):
        services.community_compute(actor=SYSTEM, month=month)
    score = CommunityScore.objects.get(month=month, station=station)
    assert score.population_available
    assert (score.population_submitted, score.population_verified_rate) == (2, 0.5)
    other = CommunityScore.objects.get(month=month, station__code="150105001002-CS")
    assert not other.population_available
