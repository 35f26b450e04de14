"""Fixtures of the change tests: the small region tree with places, a few residents imported
through the real import, and people (real accounts) holding the roles of DESIGN §1 in units of
the tree, as actors."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from sanji.core import idnumber
from sanji.core.actors import Actor, Grant
from sanji.core.roles import Role
from sanji.orgs.models import Region
from sanji.population import services
from sanji.population.models import Building, Person
from sanji.population.tests.conftest import SYSTEM, WriteCsv, person_row

SAIHAN_COMMUNITY = "150105001001"
SAIHAN_VILLAGE = "150105001002"
XINCHENG_COMMUNITY = "150102001001"


def make_actor(username: str, *grants: tuple[str, Region]) -> Actor:
    """A real account holding ``role`` at each region (unit-less grants: reach is the region)."""
    user = get_user_model().objects.create_user(username=username, password="x", full_name=username)
    return Actor(
        user_id=user.pk,
        username=username,
        grants=tuple(Grant(role=role, unit_id=0, region_path=region.path) for role, region in grants),
        channel="web",
    )


@dataclass
class World:
    regions: dict[str, Region]
    officer: Actor  # 人口计生信息员, 赛罕区
    worker: Actor  # 网格员, one community of 赛罕区
    police: Actor  # 公安核查员, 赛罕区
    police_xc: Actor  # 公安核查员, 新城区
    officer_xc: Actor
    department: Actor  # a department system of the city
    clerk: Actor  # a window clerk: no part in changes
    saihan: list[Person]  # residents of the Saihan community
    xincheng: Person
    village: Person  # a resident of the other Saihan community (outside the grid worker's reach)
    buildings: dict[str, list[Building]]

    def person(self, i: int = 0) -> Person:
        return Person.objects.get(pk=self.saihan[i].pk)


@pytest.fixture(autouse=True)
def _fast_hasher(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(places: dict[str, Region], buildings: list[Building], write_csv: WriteCsv, tmp_path: Path) -> World:
    by_community: dict[str, list[Building]] = {}
    for b in buildings:
        by_community.setdefault(b.code[:12], []).append(b)
    sa = by_community[SAIHAN_COMMUNITY]
    xc = by_community[XINCHENG_COMMUNITY]
    rows = [
        person_row(sa[0], seq=11, name="张伟", household="H-SA-1", relation="02"),
        person_row(sa[0], seq=12, name="王芳", household="H-SA-1", relation="12", birth=dt.date(1982, 3, 4)),
        person_row(sa[1], seq=13, name="阿拉坦·其其格", household="H-SA-2", relation="02"),
        person_row(xc[0], seq=21, name="李强", household="H-XC-1", relation="02"),
        person_row(by_community[SAIHAN_VILLAGE][0], seq=15, name="赵敏", household="H-SV-1", relation="02"),
    ]
    services.population_import(actor=SYSTEM, path=write_csv(rows), workers=0)
    people = {p.name: p for p in Person.objects.all()}
    r = places
    city, saihan, xincheng = r["150100"], r["150105"], r["150102"]
    return World(
        regions=r,
        officer=make_actor("officer", (Role.POPULATION_OFFICER, saihan)),
        worker=make_actor("worker", (Role.COMMUNITY_WORKER, r[SAIHAN_COMMUNITY])),
        police=make_actor("police", (Role.POLICE_VERIFIER, saihan)),
        police_xc=make_actor("police-xc", (Role.POLICE_VERIFIER, xincheng)),
        officer_xc=make_actor("officer-xc", (Role.POPULATION_OFFICER, xincheng)),
        department=make_actor("dept-system", (Role.DEPARTMENT_SYSTEM, city)),
        clerk=make_actor("clerk", (Role.WINDOW_CLERK, saihan)),
        saihan=[people["张伟"], people["王芳"], people["阿拉坦·其其格"]],
        xincheng=people["李强"],
        village=people["赵敏"],
        buildings=by_community,
    )


def new_id(birth: dt.date, seq: int = 31, address: str = "150105") -> str:
    return idnumber.make(address, birth, seq)


def fields(**values: Any) -> dict[str, Any]:
    return values
