"""The generated permission matrix (issue: platform foundation).

Every role × every protected action and read × inside and outside the role's reach. Each role is
held by a real person in a unit of 赛罕区 (Saihan district); "inside" objects belong to Saihan,
"outside" ones to 新城区 (Xincheng). Expected outcomes:

- a role the rule allows, inside its reach: the call succeeds;
- the same role outside its reach: ``NotFound`` for single objects (never a 403 that would confirm
  the object exists);
- a role the rule does not allow: refused (``Forbidden`` or ``NotFound``), never success.

The world is built once per module through the real services and rolled back per test.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.management import call_command

from sanji.accounts import selectors as account_selectors
from sanji.accounts import services as account_services
from sanji.accounts.models import User
from sanji.audit import selectors as audit_selectors
from sanji.audit import services as audit_services
from sanji.audit.models import Entry
from sanji.audit.selectors import EntryFilter
from sanji.calendar import services as calendar_services
from sanji.cases import selectors as case_selectors
from sanji.cases import services as case_services
from sanji.catalog import services as catalog_services
from sanji.catalog.flows import MatterTerms
from sanji.core.actors import ANONYMOUS, Actor, system_actor
from sanji.core.errors import Forbidden, NotFound
from sanji.core.roles import Role
from sanji.orgs import selectors as org_selectors
from sanji.orgs import services as org_services
from sanji.orgs.models import Terminal, Unit

#: Where each role is held in Saihan (inside) and its counterpart unit in Xincheng (outside).
ROLE_UNITS: dict[str, tuple[str, str]] = {
    Role.WINDOW_CLERK: ("150105-CSC-W-civil_affairs", "150102-CSC-W-civil_affairs"),
    Role.COMMUNITY_WORKER: ("150105001001-CS", "150102001001-CS"),
    Role.REVIEWER: ("150105-DEPT-civil_affairs", "150102-DEPT-civil_affairs"),
    Role.APPROVER: ("150105-DEPT-civil_affairs", "150102-DEPT-civil_affairs"),
    Role.DEPARTMENT_HEAD: ("150105-DEPT-civil_affairs", "150102-DEPT-civil_affairs"),
    Role.SUPERVISOR: ("150105-SUP", "150102-SUP"),
    Role.POPULATION_OFFICER: ("150105-DEPT-health", "150102-DEPT-health"),
    Role.POLICE_VERIFIER: ("150105-DEPT-public_security", "150102-DEPT-public_security"),
    Role.DEPARTMENT_DATA_OFFICER: ("150105-DEPT-civil_affairs", "150102-DEPT-civil_affairs"),
    Role.DEPARTMENT_SYSTEM: ("150105-DEPT-civil_affairs", "150102-DEPT-civil_affairs"),
    Role.ANALYST: ("150105-CSC", "150102-CSC"),
    Role.SYSTEM_ADMIN: ("150105-CSC", "150102-CSC"),
    Role.SECURITY_ADMIN: ("150105-CSC", "150102-CSC"),
    Role.SECURITY_AUDITOR: ("150105-CSC", "150102-CSC"),
}
ALL_ROLES = [*ROLE_UNITS, Role.APPLICANT]


@dataclass
class World:
    actors: dict[str, Actor]
    targets: dict[str, dict[str, Any]]  # "inside"/"outside" → objects to act on


def _person(platform: Actor, username: str, role: str | None, unit: Unit | None) -> User:
    user, _ = account_services.user_create(
        actor=platform,
        username=username,
        full_name=username,
        password="Matrix#Passw0rd",
        must_change_password=False,
        is_system_account=role == Role.DEPARTMENT_SYSTEM,
    )
    if role and unit:
        account_services.role_grant(actor=platform, user=user, role=role, unit=unit)
    return user


def _build_world() -> World:
    platform = system_actor("matrix", channel="system")
    org_services.region_import_path(actor=platform)
    org_services.org_structure_seed(actor=platform, city_code="150100")
    calendar_services.calendar_seed_from_chinesecalendar(actor=platform, years=[2025, 2026])
    catalog_services.catalog_seed(actor=platform)
    units = {u.code: u for u in Unit.objects.all()}
    actors: dict[str, Actor] = {}
    for role, (inside_code, _outside) in ROLE_UNITS.items():
        user = _person(platform, f"m.{role}", role, units[inside_code])
        actors[role] = account_selectors.actor_for(user, channel="web")
    actors[Role.APPLICANT] = account_selectors.actor_for(_person(platform, "m.applicant", None, None))

    targets: dict[str, dict[str, Any]] = {}
    security = actors[Role.SECURITY_ADMIN]
    for side, index in (("inside", 0), ("outside", 1)):
        window = units[ROLE_UNITS[Role.WINDOW_CLERK][index]]
        person = _person(platform, f"m.{side}.clerk", Role.WINDOW_CLERK, window)
        terminal, _code = org_services.terminal_register(
            actor=platform_security(security, side, units), unit=window, name=f"{side} window"
        )
        clerk = account_selectors.actor_for(person, terminal=terminal, channel="web")
        case, _query = case_services.case_receive(
            actor=clerk,
            matter_code="MZ-0007",
            applicant_name="张三",
            applicant_id_number="11010519491231002X",
        )
        entry = audit_services.record(
            actor=clerk, action="matrix.probe", target=person, region_path=window.region_path
        )
        targets[side] = {
            "user": person,
            "unit": window,
            "department_unit": units[ROLE_UNITS[Role.REVIEWER][index]],
            "terminal": terminal,
            "case": case,
            "entry": entry,
        }
    return World(actors=actors, targets=targets)


def platform_security(security: Actor, side: str, units: dict[str, Unit]) -> Actor:
    """Terminals outside Saihan are registered by a city-level security administrator."""
    if side == "inside":
        return security
    platform = system_actor("matrix", channel="system")
    city_admin = _person(platform, "m.city.security", Role.SECURITY_ADMIN, units["150100-OPS"])
    return account_selectors.actor_for(city_admin)


@pytest.fixture(scope="module")
def world(django_db_setup: Any, django_db_blocker: Any) -> Iterator[World]:
    with django_db_blocker.unblock():
        built = _build_world()
        yield built
        call_command("flush", interactive=False, verbosity=0)


# --- the protected operations ---------------------------------------------------------------------

Op = Callable[[Actor, dict[str, Any]], Any]


def _read_user(actor: Actor, t: dict[str, Any]) -> Any:
    return account_selectors.user_get_for(actor, t["user"].pk)


def _grant_role(actor: Actor, t: dict[str, Any]) -> Any:
    target = User.objects.get(pk=t["user"].pk)
    return account_services.role_grant(
        actor=actor, user=target, role=Role.REVIEWER, unit=t["department_unit"]
    )


def _reset_password(actor: Actor, t: dict[str, Any]) -> Any:
    return account_services.user_password_reset(actor=actor, user=User.objects.get(pk=t["user"].pk))


def _read_unit(actor: Actor, t: dict[str, Any]) -> Any:
    return org_selectors.unit_get_for(actor, t["unit"].pk)


def _rename_unit(actor: Actor, t: dict[str, Any]) -> Any:
    return org_services.unit_update(actor=actor, unit=Unit.objects.get(pk=t["unit"].pk), name="改名窗口")


def _register_terminal(actor: Actor, t: dict[str, Any]) -> Any:
    return org_services.terminal_register(actor=actor, unit=t["unit"], name="matrix")


def _read_terminal(actor: Actor, t: dict[str, Any]) -> Any:
    return org_selectors.terminal_get_for(actor, t["terminal"].pk)


def _deactivate_terminal(actor: Actor, t: dict[str, Any]) -> Any:
    return org_services.terminal_deactivate(actor=actor, terminal=Terminal.objects.get(pk=t["terminal"].pk))


def _read_audit_entry(actor: Actor, t: dict[str, Any]) -> Any:
    return audit_selectors.entry_get_for(actor, t["entry"].seq)


def _read_case(actor: Actor, t: dict[str, Any]) -> Any:
    return case_selectors.case_get_for(actor, t["case"].pk)


def _accept_case(actor: Actor, t: dict[str, Any]) -> Any:
    case = case_selectors.case_get_for(actor, t["case"].pk)
    return case_services.case_act(
        actor=actor, case_id=case.pk, action="accept", expected_version=case.version
    )


SCOPED_OPS: dict[str, tuple[Op, frozenset[str]]] = {
    "accounts.read_user": (_read_user, frozenset({Role.SECURITY_ADMIN})),
    "accounts.grant_role": (_grant_role, frozenset({Role.SECURITY_ADMIN})),
    "accounts.reset_password": (_reset_password, frozenset({Role.SECURITY_ADMIN})),
    # The probe unit is a district window: every district-level staff role reaches it; a community
    # worker's reach is their community only.
    "orgs.read_unit": (_read_unit, frozenset(set(ROLE_UNITS) - {Role.COMMUNITY_WORKER})),
    "orgs.rename_unit": (_rename_unit, frozenset({Role.SYSTEM_ADMIN})),
    "orgs.register_terminal": (_register_terminal, frozenset({Role.SECURITY_ADMIN})),
    "orgs.read_terminal": (_read_terminal, frozenset({Role.SECURITY_ADMIN})),
    "orgs.deactivate_terminal": (_deactivate_terminal, frozenset({Role.SECURITY_ADMIN})),
    "audit.read_entry": (_read_audit_entry, frozenset({Role.SECURITY_AUDITOR})),
    "cases.read_case": (
        _read_case,
        frozenset(
            {
                Role.WINDOW_CLERK,
                Role.REVIEWER,
                Role.APPROVER,
                Role.DEPARTMENT_HEAD,
                Role.DEPARTMENT_SYSTEM,
                Role.SUPERVISOR,
                Role.ANALYST,
            }
        ),
    ),
    # Department systems report the cases their own systems handle, so they act like a window.
    "cases.accept": (_accept_case, frozenset({Role.WINDOW_CLERK, Role.DEPARTMENT_SYSTEM})),
}


def _export_audit(actor: Actor) -> Any:
    return audit_services.audit_export(actor=actor, filters=EntryFilter(), format="csv")


def _set_calendar_year(actor: Actor) -> Any:
    return calendar_services.calendar_year_set(
        actor=actor, year=2030, holidays=[(dt.date(2030, 1, 1), "元旦")], workdays=[], notice="matrix"
    )


def _create_matter(actor: Actor) -> Any:
    return catalog_services.matter_create(
        actor=actor,
        code="MX-0001",
        details=catalog_services.MatterDetails(
            name="矩阵测试事项", matter_type="public_service", legal_basis="—"
        ),
        terms=MatterTerms(
            kind="immediate",
            department_kind="civil_affairs",
            accepting_levels=("district",),
            deciding_level="district",
            legal_limit_days=0,
            promised_limit_days=0,
        ),
    )


def _list_users(actor: Actor) -> Any:
    users = list(account_selectors.user_list_for(actor))
    if not users:
        raise Forbidden()
    return users


GLOBAL_OPS: dict[str, tuple[Callable[[Actor], Any], frozenset[str]]] = {
    "audit.export": (_export_audit, frozenset({Role.SECURITY_AUDITOR})),
    "calendar.set_year": (_set_calendar_year, frozenset({Role.SYSTEM_ADMIN})),
    "catalog.create_matter": (_create_matter, frozenset({Role.SYSTEM_ADMIN})),
    "accounts.list_users": (_list_users, frozenset({Role.SECURITY_ADMIN})),
}


@pytest.mark.django_db
@pytest.mark.parametrize("side", ["inside", "outside"])
@pytest.mark.parametrize("role", ALL_ROLES)
@pytest.mark.parametrize("op_name", sorted(SCOPED_OPS))
def test_scoped_matrix(world: World, op_name: str, role: str, side: str) -> None:
    op, allowed = SCOPED_OPS[op_name]
    actor = world.actors[role]
    target = world.targets[side]
    if role in allowed and side == "inside":
        assert op(actor, target) is not None
    elif role in allowed:
        with pytest.raises(NotFound):
            op(actor, target)
    else:
        with pytest.raises((Forbidden, NotFound)):
            op(actor, target)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ALL_ROLES)
@pytest.mark.parametrize("op_name", sorted(GLOBAL_OPS))
def test_global_matrix(world: World, op_name: str, role: str) -> None:
    op, allowed = GLOBAL_OPS[op_name]
    actor = world.actors[role]
    if role in allowed:
        assert op(actor) is not None
    else:
        with pytest.raises((Forbidden, NotFound)):
            op(actor)


@pytest.mark.django_db
def test_anonymous_is_refused_everywhere(world: World) -> None:
    for op, _allowed in SCOPED_OPS.values():
        with pytest.raises((Forbidden, NotFound)):
            op(ANONYMOUS, world.targets["inside"])
    for gop, _allowed in GLOBAL_OPS.values():
        with pytest.raises((Forbidden, NotFound)):
            gop(ANONYMOUS)


@pytest.mark.django_db
def test_world_is_what_the_matrix_assumes(world: World) -> None:
    assert Entry.objects.filter(action="matrix.probe").count() == 2
    inside, outside = world.targets["inside"], world.targets["outside"]
    assert inside["unit"].region_path.startswith("150100/150105/")
    assert outside["unit"].region_path.startswith("150100/150102/")
