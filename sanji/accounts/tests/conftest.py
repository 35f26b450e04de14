"""Fixtures: a small region tree of Hohhot, units and terminals in it, and people holding roles.

State is reached through the real services (``user_create``, ``role_grant``) acting as the platform.
Terminals are rows created directly with ``sanji.orgs``'s secret hash (registering them through
``terminal_register`` would need the organisation tree's policies, which are not what is tested here).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from sanji.accounts import services
from sanji.accounts.models import User
from sanji.audit.models import Entry
from sanji.core import clock, crypto
from sanji.core.actors import Actor, system_actor
from sanji.orgs.models import Region, RegionLevel, Terminal, Unit, UnitKind
from sanji.orgs.services import terminal_secret_hash

PASSWORD = "Qingcheng#2024x"


def last_entry(action: str) -> Entry:
    """The newest audit entry of ``action`` (fails the test when there is none)."""
    entry = Entry.objects.filter(action=action).order_by("seq").last()
    assert entry is not None, f"no audit entry {action}"
    return entry


@pytest.fixture(autouse=True)
def _keys(tmp_path, settings):
    settings.KEY_DIR = tmp_path / "keys"
    settings.SANJI_REQUIRE_TERMINAL = True
    crypto.clear_cache()
    yield
    crypto.clear_cache()


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    """Argon2 costs ~0.1 s per hash; tests that are not about hashing use a fast one."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def argon2(settings):
    """The production hasher, for the tests about it."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]


@pytest.fixture
def platform(db) -> Actor:
    return system_actor("seeder")


def _region(code: str, name: str, level: str, parent: Region | None) -> Region:
    path = f"{parent.path}{code}/" if parent else f"{code}/"
    return Region.objects.create(code=code, name=name, level=level, parent=parent, path=path)


@pytest.fixture
def regions(db) -> dict[str, Region]:
    city = _region("150100", "呼和浩特市", RegionLevel.CITY, None)
    saihan = _region("150105", "赛罕区", RegionLevel.DISTRICT, city)
    xincheng = _region("150102", "新城区", RegionLevel.DISTRICT, city)
    return {"city": city, "saihan": saihan, "xincheng": xincheng}


def _unit(code: str, name: str, region: Region, kind: str = UnitKind.SERVICE_CENTRE) -> Unit:
    return Unit.objects.create(code=code, name=name, kind=kind, region=region, region_path=region.path)


@pytest.fixture
def units(regions) -> dict[str, Unit]:
    return {
        "city": _unit("OP-150100", "市政务服务中心", regions["city"], UnitKind.OPERATOR),
        "saihan": _unit("SC-150105", "赛罕区市民服务中心", regions["saihan"]),
        "xincheng": _unit("SC-150102", "新城区市民服务中心", regions["xincheng"]),
    }


def make_terminal(unit: Unit, code: str, secret: str, ip: str | None = None) -> Terminal:
    return Terminal.objects.create(
        code=code,
        name=f"{unit.name} 工作站",
        unit=unit,
        region_path=unit.region_path,
        ip_address=ip,
        secret_hash=terminal_secret_hash(secret),
        registered_at=clock.now(),
    )


@pytest.fixture
def terminals(units) -> dict[str, Terminal]:
    return {
        "city": make_terminal(units["city"], "T-CITY-01", "city-secret"),
        "saihan": make_terminal(units["saihan"], "T-SH-01", "saihan-secret"),
        "xincheng": make_terminal(units["xincheng"], "T-XC-01", "xincheng-secret"),
    }


@pytest.fixture
def windows(units, terminals) -> dict[str, Unit]:
    """Two windows nested in the Saihan centre (民政窗口, 公安窗口), each with its own terminal
    (T-SH-CA, T-SH-PS); and a Xincheng 民政窗口 of the same name."""
    made = {}
    for key, code, name, parent in (
        ("saihan_ca", "SC-150105-W-ca", "民政窗口", units["saihan"]),
        ("saihan_ps", "SC-150105-W-ps", "公安窗口", units["saihan"]),
        ("xincheng_ca", "SC-150102-W-ca", "民政窗口", units["xincheng"]),
    ):
        made[key] = Unit.objects.create(
            code=code,
            name=name,
            kind=UnitKind.WINDOW,
            region=parent.region,
            region_path=parent.region_path,
            parent=parent,
        )
    make_terminal(made["saihan_ca"], "T-SH-CA", "saihan-ca-secret")
    make_terminal(made["saihan_ps"], "T-SH-PS", "saihan-ps-secret")
    units.update(made)  # make_user's unit keys
    return made


MakeUser = Callable[..., User]


@pytest.fixture
def make_user(platform, units) -> MakeUser:
    """A person holding ``roles`` (role, unit key) — password current, no forced change."""

    def make(username: str, *roles: tuple[str, str], must_change: bool = False, **kwargs: object) -> User:
        user, _ = services.user_create(
            actor=platform,
            username=username,
            full_name=kwargs.pop("full_name", username),  # type: ignore[arg-type]
            password=PASSWORD,
            must_change_password=must_change,
            **kwargs,  # type: ignore[arg-type]
        )
        for role, unit_key in roles:
            services.role_grant(actor=platform, user=user, role=role, unit=units[unit_key])
        return user

    return make


@pytest.fixture
def security_admin(make_user):
    return make_user("secadmin", ("security_admin", "city"))


@pytest.fixture
def district_admin(make_user):
    return make_user("shadmin", ("security_admin", "saihan"))
