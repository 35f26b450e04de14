"""The demo population changes: seeded through the services once residents exist, never twice."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sanji.accounts import services as accounts
from sanji.core.actors import system_actor
from sanji.core.roles import Role
from sanji.ops.demo_changes import seed_demo_changes
from sanji.orgs import services as org_services
from sanji.orgs.models import Unit
from sanji.population import services as population
from sanji.population.models import Building, ChangeFeedEntry, Person, PersonChange
from sanji.population.tests.conftest import SMALL_CSV, person_row

SYSTEM = system_actor("test-demo")
pytestmark = pytest.mark.django_db


def test_demo_changes(tmp_path: Path, settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.DATA_DIR = tmp_path
    org_services.region_import_csv(actor=SYSTEM, text=SMALL_CSV)
    org_services.org_structure_seed(actor=SYSTEM, city_code="150100")
    assert seed_demo_changes().endswith("(no demo people)")
    for username, role, unit in (
        ("saihan.population", Role.POPULATION_OFFICER, "150105-DEPT-health"),
        ("saihan.police", Role.POLICE_VERIFIER, "150105-DEPT-public_security"),
    ):
        user, _ = accounts.user_create(
            actor=SYSTEM, username=username, full_name=username, password="Qingcheng#2024x"
        )
        accounts.role_grant(actor=SYSTEM, user=user, role=role, unit=Unit.objects.get(code=unit))
    population.population_seed_places(actor=SYSTEM, city_code="150100")
    assert "no residents" in seed_demo_changes()
    buildings = list(Building.objects.filter(code__startswith="150105001001").order_by("code")[:4])
    rows = [
        person_row(buildings[i % 4], seq=11 + 2 * i, household=f"H-D-{i}", marital_status="10")
        for i in range(8)
    ]
    header = list(rows[0])
    path = tmp_path / "people.csv"
    path.write_text(
        ",".join(header) + "\n" + "\n".join(",".join(r[h] for h in header) for r in rows) + "\n",
        encoding="utf-8",
    )
    population.population_import(actor=SYSTEM, path=path, workers=0)
    assert seed_demo_changes() == "population changes: 2 verified, 1 rejected, 4 waiting for verification"
    assert PersonChange.objects.count() == 7
    assert ChangeFeedEntry.objects.count() == 2
    assert Person.objects.count() == 9  # the newborn
    assert seed_demo_changes() == "population changes: already seeded"
