"""Fixtures of the catalogue tests: a city, an operator unit, people with roles, catalogue states
reached through the real services."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from sanji.accounts.models import RoleAssignment, User
from sanji.accounts.selectors import actor_for
from sanji.catalog import services
from sanji.catalog.flows import MaterialSpec, MatterTerms, StepSpec
from sanji.catalog.models import FlowVersion, Matter, MatterKind, MatterType, StepCode
from sanji.core import clock
from sanji.core.actors import Actor
from sanji.core.roles import Role
from sanji.orgs.models import DepartmentKind, Region, RegionLevel, Unit, UnitKind


@pytest.fixture
def city(db: None) -> Region:
    return Region.objects.create(code="150100", name="呼和浩特市", level=RegionLevel.CITY, path="150100/")


@pytest.fixture
def operator_unit(city: Region) -> Unit:
    return Unit.objects.create(
        code="OPS", name="平台运维", kind=UnitKind.OPERATOR, region=city, region_path=city.path
    )


@pytest.fixture
def make_user(operator_unit: Unit) -> Callable[..., User]:
    def make(username: str, *roles: str) -> User:
        user = User.objects.create_user(username=username, password=None, full_name=username)
        for role in roles:
            RoleAssignment.objects.create(
                user=user,
                role=role,
                unit=operator_unit,
                region_path=operator_unit.region_path,
                granted_at=clock.now(),
                granted_by="test",
            )
        return user

    return make


@pytest.fixture
def admin_user(make_user: Callable[..., User]) -> User:
    return make_user("sysadmin", Role.SYSTEM_ADMIN)


@pytest.fixture
def clerk_user(make_user: Callable[..., User]) -> User:
    return make_user("clerk", Role.WINDOW_CLERK)


@pytest.fixture
def admin(admin_user: User) -> Actor:
    return actor_for(admin_user)


@pytest.fixture
def clerk(clerk_user: User) -> Actor:
    return actor_for(clerk_user)


DISTRICT = RegionLevel.DISTRICT.value


def simple_terms(**overrides: object) -> MatterTerms:
    values: dict[str, object] = {
        "kind": MatterKind.PROMISED.value,
        "department_kind": DepartmentKind.MARKET_REGULATION.value,
        "accepting_levels": (DISTRICT,),
        "deciding_level": DISTRICT,
        "legal_limit_days": 20,
        "promised_limit_days": 10,
        "fee_amount": Decimal("0"),
        "fee_basis": "",
    }
    values.update(overrides)
    return MatterTerms(**values)  # type: ignore[arg-type]


def simple_steps(review_days: int = 3) -> list[StepSpec]:
    return [
        StepSpec(1, StepCode.ACCEPT, "窗口受理", DISTRICT, Role.WINDOW_CLERK, 1),
        StepSpec(2, StepCode.REVIEW, "审查", DISTRICT, Role.REVIEWER, review_days),
        StepSpec(3, StepCode.DECIDE, "决定", DISTRICT, Role.APPROVER, 2),
        StepSpec(4, StepCode.DELIVER, "送达", DISTRICT, Role.WINDOW_CLERK, 1),
    ]


def simple_materials() -> list[MaterialSpec]:
    return [MaterialSpec("申请书"), MaterialSpec("营业执照", form="copy")]


@pytest.fixture
def matter(admin: Actor) -> Matter:
    """A matter with a published v1."""
    m = services.matter_create(
        actor=admin,
        code="TS-0001",
        details=services.MatterDetails(
            name="测试许可", matter_type=MatterType.LICENSING, legal_basis="《测试条例》第一条"
        ),
        terms=simple_terms(),
    )
    services.flow_version_publish(actor=admin, matter=m, steps=simple_steps(), materials=simple_materials())
    m.refresh_from_db()
    return m


@pytest.fixture
def v1(matter: Matter) -> FlowVersion:
    return current(matter)


def current(matter: Matter) -> FlowVersion:
    """The matter's current version (it must have one)."""
    assert matter.current_version is not None
    return matter.current_version
