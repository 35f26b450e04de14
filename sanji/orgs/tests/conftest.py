"""Fixtures of the orgs tests: a small region tree, the seeded structure, actors and users."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.test import Client

from sanji.core import clock
from sanji.core.actors import Actor, Grant, system_actor
from sanji.core.roles import Role
from sanji.orgs import services
from sanji.orgs.models import Region, Unit

SYSTEM = system_actor("test-seeder")

#: A small city in the shipped format: two districts, three townships, four communities.
SMALL_CSV = """code,name,level,parent_code
150100,呼和浩特市,city,
150102,新城区,district,150100
150105,赛罕区,district,150100
150102001,海拉尔东路街道,township,150102
150105001,人民路街道,township,150105
150105002,大学东路街道,township,150105
150102001001,东风路社区居委会,community,150102001
150105001001,南二环社区居委会,community,150105001
150105001002,太平庄村民委员会,community,150105001
150105002001,东瓦窑村委会,community,150105002
"""


@pytest.fixture
def small_regions(db: Any) -> dict[str, Region]:
    services.region_import_csv(actor=SYSTEM, text=SMALL_CSV)
    return {r.code: r for r in Region.objects.all()}


@pytest.fixture
def small_org(small_regions: dict[str, Region]) -> dict[str, Region]:
    services.org_structure_seed(actor=SYSTEM, city_code="150100")
    return small_regions


def grant_at(role: str, unit: Unit) -> Grant:
    return Grant(role=role, unit_id=unit.pk, region_path=unit.region_path, department_id=None)


def actor_with(role: str, unit_code: str, username: str = "tester") -> Actor:
    unit = Unit.objects.get(code=unit_code)
    return Actor(
        user_id=1000, username=username, grants=(grant_at(role, unit),), unit_id=unit.pk, channel="web"
    )


@pytest.fixture
def city_sysadmin(small_org: dict[str, Region]) -> Actor:
    return actor_with(Role.SYSTEM_ADMIN, "150100-OPS", "sysadmin")


@pytest.fixture
def city_secadmin(small_org: dict[str, Region]) -> Actor:
    return actor_with(Role.SECURITY_ADMIN, "150100-OPS", "secadmin")


@pytest.fixture
def saihan_secadmin(small_org: dict[str, Region]) -> Actor:
    return actor_with(Role.SECURITY_ADMIN, "150105-CSC", "saihan-secadmin")


@pytest.fixture
def xincheng_secadmin(small_org: dict[str, Region]) -> Actor:
    return actor_with(Role.SECURITY_ADMIN, "150102-CSC", "xincheng-secadmin")


def _sign_in(client: Client, user: Any) -> None:
    """Log in past every sign-in step (password change, second factor) the accounts app enforces.

    Uses the accounts app's own test helper; imported by name so that the orgs package does not
    depend on the app above it (the integrator may move this fixture to a shared conftest).
    """
    try:
        helper = importlib.import_module("sanji.accounts.testing")
    except ImportError:  # pragma: no cover - before the accounts app ships its helper
        client.force_login(user)
        return
    helper.sign_in(client, user)


@pytest.fixture
def login_as(client: Client, settings: Any) -> Callable[..., Any]:
    """Create a real accounts user with one role in a unit and log the test client in."""
    settings.SANJI_REQUIRE_TERMINAL = False
    user_model = get_user_model()
    role_assignment = apps.get_model("accounts", "RoleAssignment")

    def login(role: str | None, unit_code: str = "150100-OPS", username: str | None = None) -> Any:
        user = user_model.objects.create_user(
            username=username or f"{role or 'nobody'}-{unit_code}", password="x", must_change_password=False
        )
        if role is not None:
            unit = Unit.objects.get(code=unit_code)
            role_assignment.objects.create(
                user=user,
                role=role,
                unit=unit,
                region_path=unit.region_path,
                granted_at=clock.now(),
                granted_by="test",
            )
        _sign_in(client, user)
        return user

    return login
