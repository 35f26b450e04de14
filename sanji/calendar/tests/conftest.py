"""Actors for the calendar tests; real users, sessions and API tokens for the pages and the API.

Users are made through the accounts services and the organisation through the orgs services, both
acting as the platform (the calendar sits above both layers).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from sanji.accounts import services as account_services
from sanji.accounts.models import User
from sanji.accounts.testing import sign_in
from sanji.core import crypto
from sanji.core.actors import Actor, Grant, system_actor
from sanji.core.roles import Role
from sanji.orgs import services as org_services
from sanji.orgs.models import Unit


def actor_with(role: str) -> Actor:
    return Actor(user_id=None, username="t", grants=(Grant(role=role, unit_id=1, region_path="150100/"),))


@pytest.fixture
def admin() -> Actor:
    return actor_with(Role.SYSTEM_ADMIN)


@pytest.fixture
def clerk() -> Actor:
    return actor_with(Role.WINDOW_CLERK)


@pytest.fixture
def cli() -> Actor:
    return system_actor("cli", channel="cli")


# --- real users, sessions and tokens for the page and API tests -----------------------------------

SYSTEM = system_actor("calendar-test-seeder")
PASSWORD = "Qingcheng#2024x"

#: A city with one district, in the shipped region format.
SMALL_CSV = """code,name,level,parent_code
150100,呼和浩特市,city,
150105,赛罕区,district,150100
150105001,人民路街道,township,150105
"""


@pytest.fixture(autouse=True)
def _keys(tmp_path: Path, settings: Any) -> Iterator[None]:
    """TOTP secrets of administrators are encrypted: keep the keys of each test in its tmp dir."""
    settings.KEY_DIR = tmp_path / "keys"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # argon2 is slow
    crypto.clear_cache()
    yield
    crypto.clear_cache()


@pytest.fixture
def org(db: Any) -> None:
    org_services.region_import_csv(actor=SYSTEM, text=SMALL_CSV)
    org_services.org_structure_seed(actor=SYSTEM, city_code="150100")


MakeUser = Callable[..., User]
_serial = itertools.count(1)


@pytest.fixture
def make_user(org: None) -> MakeUser:
    """A person holding one role in one unit, through the accounts services, as the platform."""

    def make(username: str, role: str | None, unit_code: str = "150100-OPS") -> User:
        user, _ = account_services.user_create(
            actor=SYSTEM,
            username=username,
            full_name=username,
            password=PASSWORD,
            must_change_password=False,
            is_system_account=role == Role.DEPARTMENT_SYSTEM,  # that role is for system accounts only
        )
        if role is not None:
            unit = Unit.objects.get(code=unit_code)
            account_services.role_grant(actor=SYSTEM, user=user, role=role, unit=unit)
        return user

    return make


@pytest.fixture
def page(client: Client, settings: Any, make_user: MakeUser) -> Callable[[str | None], Client]:
    """The test client signed in (every sign-in step done) as someone holding ``role``."""
    settings.SANJI_REQUIRE_TERMINAL = False

    def sign_in_as(role: str | None, unit_code: str = "150100-OPS") -> Client:
        sign_in(client, make_user(f"{role or 'nobody'}-user", role, unit_code))
        return client

    return sign_in_as


@pytest.fixture
def token_for(make_user: MakeUser) -> Callable[..., dict[str, str]]:
    """Authorization headers of a real API token of someone holding ``role``, with ``scopes``."""

    def issue(role: str | None, scopes: list[str], unit_code: str = "150100-OPS") -> dict[str, str]:
        user = make_user(f"{role or 'nobody'}-api-{next(_serial)}", role, unit_code)
        _, raw = account_services.api_token_create(
            actor=SYSTEM, user=user, name="test", scopes=scopes, days=30
        )
        return {"Authorization": f"Bearer {raw}"}

    return issue
