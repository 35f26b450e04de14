"""Fixtures of the population tests: a small region tree with seeded places, actors, file writers."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sanji.core import idnumber
from sanji.core.actors import Actor, Grant, system_actor
from sanji.core.roles import Role
from sanji.orgs import services as org_services
from sanji.orgs.models import Region
from sanji.population import bulk, records, services
from sanji.population.models import Building

SYSTEM = system_actor("test-population")
TODAY = dt.date(2025, 6, 1)

SMALL_CSV = """code,name,level,parent_code
150100,呼和浩特市,city,
150102,新城区,district,150100
150105,赛罕区,district,150100
150102001,海拉尔东路街道,township,150102
150105001,人民路街道,township,150105
150102001001,东风路社区居委会,community,150102001
150102001002,滨河社区居委会,community,150102001
150105001001,南二环社区居委会,community,150105001
150105001002,太平庄村民委员会,community,150105001
"""

HEADER = list(records.KEYS)


@pytest.fixture
def places(db: Any) -> dict[str, Region]:
    org_services.region_import_csv(actor=SYSTEM, text=SMALL_CSV)
    services.population_seed_places(actor=SYSTEM, city_code="150100")
    return {r.code: r for r in Region.objects.all()}


@pytest.fixture
def buildings(places: dict[str, Region]) -> list[Building]:
    return list(Building.objects.order_by("code"))


@pytest.fixture(autouse=True)
def _no_crash_hook(settings: Any, tmp_path: Path) -> Iterator[None]:
    settings.DATA_DIR = tmp_path / "data"  # error reports of each test in its own directory
    yield
    bulk.CRASH_AFTER_BATCHES = None


def person_row(
    building: Building,
    *,
    number: str | None = None,
    seq: int = 1,
    name: str = "张伟",
    birth: dt.date = dt.date(1980, 5, 17),
    household: str | None = None,
    relation: str = "02",
    **overrides: str,
) -> dict[str, str]:
    address = building.code[:6]
    row = dict.fromkeys(HEADER, "")
    row.update(
        id_number=number or idnumber.make(address, birth, seq),
        name=name,
        ethnicity="01",
        marital_status="20",
        registered_code=building.code[:12],
        building_code=building.code,
        unit_number="1",
        room_number="101",
        household_code=household or f"{building.code[:12]}{seq:06d}",
        relation=relation,
        source="测试",
        source_date="2025-01-02",
        verified="是",
    )
    row.update(overrides)
    return row


def many_rows(buildings: list[Building], n: int, *, start: int = 1) -> list[dict[str, str]]:
    """``n`` valid people spread over the buildings, two per household, unique ID numbers."""
    rows = []
    for i in range(start, start + n):
        b = buildings[((i + 1) // 2) % len(buildings)]  # both members of a household in one building
        birth = dt.date(1950 + i % 60, 1 + i % 12, 1 + i % 28)
        rows.append(
            person_row(
                b,
                seq=(i // 100) % 1000,
                birth=birth,
                household=f"H{(i + 1) // 2:08d}-{b.pk}",
                relation="02" if i % 2 else "12",
                name="王芳" if i % 2 == 0 else "李强",
            )
        )
    # Unique numbers: (address, birth, seq) differ because birth cycles with i and seq with i // 100.
    return rows


WriteCsv = Callable[..., Path]


@pytest.fixture
def write_csv(tmp_path: Path) -> WriteCsv:
    def write(
        rows: list[dict[str, str]],
        name: str = "people.csv",
        encoding: str = "utf-8",
        header: list[str] | None = None,
    ) -> Path:
        path = tmp_path / name
        with path.open("w", encoding=encoding, newline="") as fh:
            writer = csv.writer(fh)
            cols = header or HEADER
            writer.writerow(cols)
            for row in rows:
                writer.writerow([row.get(c, "") for c in cols])
        return path

    return write


def officer_at(region: Region, role: str = Role.POPULATION_OFFICER, user_id: int = 500) -> Actor:
    grant = Grant(role=role, unit_id=1, region_path=region.path)
    return Actor(user_id=user_id, username=f"{role}@{region.code}", grants=(grant,), unit_id=1, channel="web")


def plan_regions(plans: Any) -> frozenset[str]:
    """The division codes of the generator's community plans: the communities, their townships and
    districts and the city (what the platform's regions hold once the shipped divisions are loaded)."""
    return frozenset(code for p in plans for code in (p.code, p.code[:9], p.code[:6], p.code[:4] + "00"))
