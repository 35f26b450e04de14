"""Fixtures of the sharing tests: a small city with its organisation and places, a few residents
loaded through the real import, actors in the seeded units, grants issued through the service."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sanji.accounts import services as accounts
from sanji.accounts.models import User
from sanji.cases.tests.conftest import actor_at
from sanji.core import clock, idnumber
from sanji.core.actors import Actor, system_actor
from sanji.core.roles import Role
from sanji.orgs import services as orgs
from sanji.orgs.models import Unit
from sanji.population import services as population
from sanji.population.models import Building, Person
from sanji.population.tests.conftest import HEADER, SMALL_CSV, person_row
from sanji.sharing import services
from sanji.sharing.models import SharingGrant

SYSTEM = system_actor("test-sharing")
#: 2026-03-03 10:00 Beijing time.
T0 = dt.datetime(2026, 3, 3, 2, 0, tzinfo=dt.UTC)

#: Residents: two in 新城区 (one household), one in 赛罕区.
ID_XC_HEAD = "150102199003071237"
ID_XC_WIFE = idnumber.make("150102", dt.date(1992, 8, 8), 24)
ID_SH = idnumber.make("150105", dt.date(1985, 1, 20), 31)
#: Valid, but nobody in the registry has it.
ID_UNKNOWN = idnumber.make("150103", dt.date(1970, 2, 2), 55)

CITY_CA = "150100-DEPT-civil_affairs"
CITY_HR = "150100-DEPT-human_resources"
SAIHAN_HEALTH = "150105-DEPT-health"
XINCHENG_HEALTH = "150102-DEPT-health"
OPS = "150100-OPS"
PASSWORD = "Qingcheng#2024x"


@pytest.fixture
def frozen_now() -> Any:
    with clock.frozen(T0):
        yield T0


@pytest.fixture
def city(db: Any, settings: Any, tmp_path: Path, frozen_now: dt.datetime) -> None:
    settings.DATA_DIR = tmp_path / "data"
    orgs.region_import_csv(actor=SYSTEM, text=SMALL_CSV)
    orgs.org_structure_seed(actor=SYSTEM, city_code="150100")
    population.population_seed_places(actor=SYSTEM, city_code="150100")


@pytest.fixture
def residents(city: None, tmp_path: Path) -> dict[str, Person]:
    xc = Building.objects.filter(code__startswith="150102001001").order_by("code").first()
    sh = Building.objects.filter(code__startswith="150105001001").order_by("code").first()
    assert xc is not None
    assert sh is not None
    rows = [
        person_row(xc, number=ID_XC_HEAD, name="王建国", household="H-XC-1", relation="02"),
        person_row(xc, number=ID_XC_WIFE, name="王丽", household="H-XC-1", relation="10"),
        person_row(sh, number=ID_SH, name="其其格", household="H-SH-1", relation="02", ethnicity="02"),
    ]
    import_people(rows, tmp_path / "people.csv")
    return {p.name: p for p in Person.objects.all()}


def import_people(rows: list[dict[str, str]], path: Path) -> None:
    """Load ``rows`` (import-format dicts) through the real import; every row must go in."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        for row in rows:
            writer.writerow([row.get(c, "") for c in HEADER])
    report = population.population_import(actor=SYSTEM, path=path, workers=0)
    assert report.imported == len(rows), report.summary()


def reader(unit: str = CITY_CA, role: str = Role.DEPARTMENT_DATA_OFFICER, **kw: Any) -> Actor:
    return actor_at(role, unit, user_id=kw.pop("user_id", 7001), **kw)


def admin(**kw: Any) -> Actor:
    return actor_at(Role.SYSTEM_ADMIN, OPS, user_id=7100, **kw)


def department_of(unit: str) -> int:
    department_id = Unit.objects.get(code=unit).department_id
    assert department_id is not None
    return department_id


def grant(
    unit: str = CITY_CA,
    fields: tuple[str, ...] = ("sex", "birth_date", "residence", "marital_status"),
    *,
    days: int = 30,
    valid_from: dt.date | None = None,
) -> SharingGrant:
    start = valid_from or clock.today()
    return services.grant_create(
        actor=admin(),
        department_id=department_of(unit),
        fields=list(fields),
        purpose="最低生活保障资格复核",
        legal_basis="《社会救助暂行办法》第十一条",
        valid_from=start,
        valid_until=start + dt.timedelta(days=days),
    )


MakeUser = Callable[..., User]


@pytest.fixture
def make_user(settings: Any) -> MakeUser:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

    def make(username: str, role: str | None = None, unit: str | None = None) -> User:
        user, _ = accounts.user_create(
            actor=SYSTEM, username=username, full_name=username, password=PASSWORD, must_change_password=False
        )
        if role and unit:
            accounts.role_grant(actor=SYSTEM, user=user, role=role, unit=Unit.objects.get(code=unit))
        return user

    return make


def resident_user(id_number: str, username: str = "resident") -> User:
    """A citizen registered on the portal with this ID number (the real registration service)."""
    return accounts.applicant_register(
        username=username, full_name="居民", id_number=id_number, phone="", password=PASSWORD, ip="127.0.0.1"
    )


__all__ = ["ID_SH", "ID_UNKNOWN", "ID_XC_HEAD", "ID_XC_WIFE", "actor_at"]
