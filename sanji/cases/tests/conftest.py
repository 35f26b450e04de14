"""Fixtures of the cases tests: a small city (orgs services), the 2025–2026 calendar, four matters
(one of each kind, published through the catalogue services) and actors in the seeded units."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from sanji.calendar.services import calendar_seed_from_chinesecalendar
from sanji.catalog import services as catalog
from sanji.catalog.flows import MaterialSpec, MatterTerms, StepSpec
from sanji.catalog.models import MatterKind, MatterType, StepCode
from sanji.core import clock
from sanji.core.actors import Actor, Grant, system_actor
from sanji.core.roles import DEPARTMENT_BOUND, Role
from sanji.orgs import services as orgs
from sanji.orgs.models import DepartmentKind, RegionLevel, Unit

SYSTEM = system_actor("test-seeder")
CA = DepartmentKind.CIVIL_AFFAIRS
HOUSING = DepartmentKind.HOUSING

SMALL_CSV = """code,name,level,parent_code
150100,呼和浩特市,city,
150102,新城区,district,150100
150105,赛罕区,district,150100
150102001,海拉尔东路街道,township,150102
150105001,人民路街道,township,150105
150102001001,东风路社区居委会,community,150102001
150105001001,南二环社区居委会,community,150105001
"""

#: Valid citizen ID numbers (GB 11643 check digits).
ID_A = "11010519491231002X"
ID_B = "150102199003071237"
#: The ID number registered with the ``applicant`` fixture's account (used by no other test data).
ID_C = "150105198506153212"

# Units of the seeded structure.
SAIHAN_CA_WINDOW = "150105-CSC-W-civil_affairs"
SAIHAN_CA_OFFICE = "150105-DEPT-civil_affairs"
SAIHAN_HOUSING_OFFICE = "150105-DEPT-housing"
XINCHENG_CA_WINDOW = "150102-CSC-W-civil_affairs"
XINCHENG_CA_OFFICE = "150102-DEPT-civil_affairs"
CITY_CA_OFFICE = "150100-DEPT-civil_affairs"
COMMUNITY = "150105001001-CS"
SAIHAN_SUP = "150105-SUP"
XINCHENG_SUP = "150102-SUP"

D = RegionLevel.DISTRICT
C = RegionLevel.CITY
COMM = RegionLevel.COMMUNITY


def _step(order: int, code: str, level: str, role: str, days: int, **kw: Any) -> StepSpec:
    return StepSpec(
        order=order, code=code, name=str(StepCode(code).label), level=level, role=role, limit_days=days, **kw
    )


MATTERS: dict[str, tuple[MatterTerms, list[StepSpec], bool]] = {
    # 即办件: accepted, decided and delivered at the district window on the spot.
    "T-IMM": (
        MatterTerms(MatterKind.IMMEDIATE, CA, (D,), D, legal_limit_days=20, promised_limit_days=0),
        [
            _step(1, StepCode.ACCEPT, D, Role.WINDOW_CLERK, 0),
            _step(2, StepCode.DECIDE, D, Role.APPROVER, 0),
            _step(3, StepCode.DELIVER, D, Role.WINDOW_CLERK, 0),
        ],
        False,
    ),
    # 即办件 decided by the window clerk on the spot (as the seeded catalogue's immediate matters are).
    "T-IMW": (
        MatterTerms(MatterKind.IMMEDIATE, CA, (D,), D, legal_limit_days=20, promised_limit_days=0),
        [
            _step(1, StepCode.ACCEPT, D, Role.WINDOW_CLERK, 0),
            _step(2, StepCode.DECIDE, D, Role.WINDOW_CLERK, 0),
            _step(3, StepCode.DELIVER, D, Role.WINDOW_CLERK, 0),
        ],
        False,
    ),
    # 承诺件: accept, review, decide, deliver at the district; online too.
    "T-PRO": (
        MatterTerms(MatterKind.PROMISED, CA, (D,), D, legal_limit_days=20, promised_limit_days=10),
        [
            _step(1, StepCode.ACCEPT, D, Role.WINDOW_CLERK, 1),
            _step(2, StepCode.REVIEW, D, Role.REVIEWER, 3),
            _step(3, StepCode.DECIDE, D, Role.APPROVER, 2),
            _step(4, StepCode.DELIVER, D, Role.WINDOW_CLERK, 1),
        ],
        True,
    ),
    # 联办件: civil affairs and housing give opinions in parallel.
    "T-JNT": (
        MatterTerms(MatterKind.JOINT, CA, (D,), D, legal_limit_days=45, promised_limit_days=20),
        [
            _step(1, StepCode.ACCEPT, D, Role.WINDOW_CLERK, 1),
            _step(2, StepCode.OPINION, D, Role.REVIEWER, 5, parallel_group=1),
            _step(2, StepCode.OPINION, D, Role.REVIEWER, 5, parallel_group=1, department_kind=HOUSING),
            _step(3, StepCode.DECIDE, D, Role.APPROVER, 2),
            _step(4, StepCode.DELIVER, D, Role.WINDOW_CLERK, 1),
        ],
        False,
    ),
    # 上报件: community station → district acceptance and review → city decision → district delivery.
    "T-REP": (
        MatterTerms(MatterKind.REPORTED, CA, (COMM, D), C, legal_limit_days=20, promised_limit_days=15),
        [
            _step(1, StepCode.RECEIVE, COMM, Role.COMMUNITY_WORKER, 1, report_up=True),
            _step(2, StepCode.ACCEPT, D, Role.WINDOW_CLERK, 1),
            _step(3, StepCode.REVIEW, D, Role.REVIEWER, 3, report_up=True),
            _step(4, StepCode.DECIDE, C, Role.APPROVER, 5),
            _step(5, StepCode.DELIVER, D, Role.WINDOW_CLERK, 1),
        ],
        False,
    ),
}

MATERIALS = [
    MaterialSpec(name="申请书"),
    MaterialSpec(name="居民身份证复印件"),
    MaterialSpec(name="证明材料", required=False),
]

#: A minimal PDF, for uploads.
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\n%%EOF\n"


def upload_required(actor: Actor, case: Any) -> None:
    """The applicant uploads a scan of every required material of :data:`MATERIALS` (what an online
    application needs before it is submitted). The caller points ``MEDIA_ROOT`` at a temporary folder."""
    from sanji.cases.services import attachment_add

    for material in MATERIALS:
        if material.required:
            attachment_add(
                actor=actor, case_id=case.pk, material_name=material.name, filename="scan.pdf", content=PDF
            )


#: A working Tuesday in a configured year, 10:00 Beijing time.
T0 = dt.datetime(2026, 3, 3, 2, 0, tzinfo=dt.UTC)


@pytest.fixture
def org(db: Any) -> None:
    orgs.region_import_csv(actor=SYSTEM, text=SMALL_CSV)
    orgs.org_structure_seed(actor=SYSTEM, city_code="150100")
    calendar_seed_from_chinesecalendar(actor=SYSTEM, years=[2025, 2026])
    for code, (terms, steps, online) in MATTERS.items():
        matter = catalog.matter_create(
            actor=SYSTEM,
            code=code,
            details=catalog.MatterDetails(
                name=f"测试事项 {code}",
                matter_type=MatterType.LICENSING,
                legal_basis="测试依据",
                online=online,
            ),
            terms=terms,
        )
        catalog.flow_version_publish(actor=SYSTEM, matter=matter, steps=steps, materials=MATERIALS)


def actor_at(
    role: str, unit_code: str, *, username: str | None = None, user_id: int = 9000, channel: str = "web"
) -> Actor:
    unit = Unit.objects.select_related("department").get(code=unit_code)
    grant = Grant(
        role=role,
        unit_id=unit.pk,
        region_path=unit.region_path,
        department_id=unit.department_id if role in DEPARTMENT_BOUND else None,
    )
    return Actor(
        user_id=user_id,
        username=username or f"{role}@{unit_code}",
        grants=(grant,),
        unit_id=unit.pk,
        channel=channel,
    )


@pytest.fixture
def make_actor(org: None) -> Callable[..., Actor]:
    return actor_at


@pytest.fixture
def applicant(org: None) -> Actor:
    """A registered citizen (张三, :data:`ID_C`), as the portal registers one (ID number kept as its
    blind index and masked form)."""
    from sanji.cases.services import applicant_index

    user = get_user_model().objects.create_user(
        username="citizen",
        password="x",
        full_name="张三",
        id_number_index=applicant_index(ID_C),
        id_number_masked="150105********3212",
    )
    return Actor(user_id=user.pk, username=user.username, channel="web")


@pytest.fixture
def frozen_now() -> Any:
    with clock.frozen(T0):
        yield T0


FEE = Decimal("0")
