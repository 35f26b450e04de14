"""Fixtures of the audit tests: actors built directly, and real users for the pages.

Users, units and role assignments are created as rows (looked up through the app registry, as
audit sits below accounts and orgs in the layers); the accounts services are not needed here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib
import secrets
from collections.abc import Callable
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import connection

from sanji.audit import services
from sanji.audit.models import Entry
from sanji.core import clock
from sanji.core.actors import Actor, Grant, system_actor
from sanji.core.roles import Role

CITY = "150100/"
SAIHAN = "150100/150105/"
XINCHENG = "150100/150102/"
SAIHAN_TOWN = "150100/150105/150105001/"


def auditor_at(region_path: str, *, user_id: int = 9001, scopes: frozenset[str] | None = None) -> Actor:
    return Actor(
        user_id=user_id,
        username=f"auditor{user_id}",
        grants=(Grant(Role.SECURITY_AUDITOR, 1, region_path),),
        unit_id=1,
        scopes=scopes,
    )


def actor_with(role: str, region_path: str = CITY, *, user_id: int = 42, username: str = "clerk") -> Actor:
    return Actor(user_id=user_id, username=username, grants=(Grant(role, 7, region_path),), unit_id=7)


@pytest.fixture
def city_auditor() -> Actor:
    return auditor_at(CITY)


@pytest.fixture
def saihan_auditor() -> Actor:
    return auditor_at(SAIHAN, user_id=9002)


@pytest.fixture
def system() -> Actor:
    return system_actor("sanji audit purge", channel="cli")


@pytest.fixture
def trail() -> list[Entry]:
    """Eight entries: Saihan, Xincheng, a Saihan township and place-less platform events."""
    clerk = Actor(user_id=5, username="zhang", unit_id=11, terminal_code="T-001", ip="10.0.0.5")
    other = Actor(user_id=6, username="li", unit_id=12)
    specs: list[tuple[Actor, str, str, dict[str, Any]]] = [
        (clerk, "cases.accepted", SAIHAN, {"case": 1}),
        (clerk, "cases.decided", SAIHAN, {"case": 1, "result": "approved"}),
        (other, "cases.accepted", XINCHENG, {"case": 2}),
        (clerk, "population.change_submitted", SAIHAN_TOWN, {"n": 1.5, "big": 1e20}),
        (other, "accounts.login", "", {}),
        (system_actor(), "calendar.seeded", "", {"years": [2025, 2026]}),
        (other, "cases.refused", XINCHENG, {"reason": "材料不全"}),
        (clerk, "sharing.person_read", SAIHAN, {"fields": ["name"], "note": "=cmd|' /C calc'!A0"}),
    ]
    return [
        services.record(actor=a, action=action, region_path=rp, data=data, target_label=f"label {i}")
        for i, (a, action, rp, data) in enumerate(specs)
    ]


def make_trail(
    n: int, *, start: dt.datetime | None = None, step: dt.timedelta = dt.timedelta(hours=1)
) -> None:
    """``n`` entries through :func:`record`, ``step`` apart from ``start`` (default: now)."""
    at = start or clock.now()
    actor = Actor(user_id=5, username="zhang", unit_id=11)
    for i in range(n):
        with clock.frozen(at + i * step):
            services.record(actor=actor, action="cases.accepted", region_path=SAIHAN, data={"i": i})


def newest() -> Entry:
    return Entry.objects.order_by("-seq")[0]


def sql(statement: str, params: list[Any] | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])


# --- real users for the pages and the API -----------------------------------------------------


@pytest.fixture
def org() -> dict[str, Any]:
    Region = apps.get_model("orgs", "Region")
    Unit = apps.get_model("orgs", "Unit")
    city = Region.objects.create(code="150100", name="呼和浩特市", level="city", path=CITY)
    saihan = Region.objects.create(code="150105", name="赛罕区", level="district", parent=city, path=SAIHAN)
    return {
        "city_unit": Unit.objects.create(
            code="OP-150100", name="平台运维", kind="operator", region=city, region_path=CITY
        ),
        "saihan_unit": Unit.objects.create(
            code="SC-150105",
            name="赛罕区市民服务中心",
            kind="service_centre",
            region=saihan,
            region_path=SAIHAN,
        ),
    }


@pytest.fixture
def make_user(org: dict[str, Any]) -> Callable[..., Any]:
    RoleAssignment = apps.get_model("accounts", "RoleAssignment")

    def make(username: str, role: str | None, *, district: bool = False) -> Any:
        user = get_user_model().objects.create_user(username=username, password="S3cret-pass-word!")
        if role is not None:
            unit = org["saihan_unit"] if district else org["city_unit"]
            RoleAssignment.objects.create(
                user=user,
                role=role,
                unit=unit,
                region_path=unit.region_path,
                granted_at=clock.now(),
                granted_by="t",
            )
        return user

    return make


@pytest.fixture
def make_token() -> Callable[..., str]:
    ApiToken = apps.get_model("accounts", "ApiToken")

    def make(user: Any, scopes: list[str]) -> str:
        prefix = secrets.token_hex(4)
        raw = f"{prefix}.{secrets.token_urlsafe(24)}"
        ApiToken.objects.create(
            user=user,
            name="test",
            prefix=prefix,
            token_hash=hashlib.sha256(raw.encode()).hexdigest(),
            scopes=scopes,
            created_at=clock.now(),
            expires_at=clock.now() + dt.timedelta(days=1),
        )
        return raw

    return make


@pytest.fixture
def no_terminal(settings: Any) -> None:
    settings.SANJI_REQUIRE_TERMINAL = False


@pytest.fixture
def login(client: Any, no_terminal: None) -> Callable[[Any], Any]:
    """Sign ``client`` in past every sign-in step (password change, TOTP) the accounts middleware
    enforces, with the accounts app's own test helper (imported by name: audit sits below accounts)."""
    sign_in = importlib.import_module("sanji.accounts.testing").sign_in

    def do(user: Any) -> Any:
        sign_in(client, user)
        return client

    return do
