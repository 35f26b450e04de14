"""The generated permission matrix of sharing: every role × every action × inside/outside reach.

Each role is held in a unit of 新城区 (inside: the resident 王建国 lives there) — or, for the city-level
roles, in its city unit; "outside" is the resident of 赛罕区. Expected outcomes:

- allowed and inside: success; allowed but outside reach: NotFound (never a 403 that confirms);
- not allowed: refused (Forbidden or NotFound), never success, and nothing recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from sanji.core import clock
from sanji.core.actors import Actor
from sanji.core.errors import Forbidden, NotFound
from sanji.core.roles import Role
from sanji.population.models import Person
from sanji.sharing import selectors, services
from sanji.sharing.models import AccessRecord
from sanji.sharing.tests.conftest import CITY_CA, ID_SH, ID_XC_HEAD, actor_at, department_of

pytestmark = pytest.mark.usefixtures("residents")

#: Where each role is held (a unit of 新城区, or of the city for city-level work).
ROLE_UNITS: dict[str, str] = {
    Role.WINDOW_CLERK: "150102-CSC-W-civil_affairs",
    Role.COMMUNITY_WORKER: "150102001001-CS",
    Role.REVIEWER: "150102-DEPT-civil_affairs",
    Role.APPROVER: "150102-DEPT-civil_affairs",
    Role.DEPARTMENT_HEAD: "150102-DEPT-civil_affairs",
    Role.SUPERVISOR: "150102-SUP",
    Role.POPULATION_OFFICER: "150102-DEPT-health",
    Role.POLICE_VERIFIER: "150102-DEPT-public_security",
    Role.DEPARTMENT_DATA_OFFICER: "150102-DEPT-civil_affairs",
    Role.DEPARTMENT_SYSTEM: "150102-DEPT-civil_affairs",
    Role.ANALYST: "150102-CSC",
    Role.SYSTEM_ADMIN: "150100-OPS",
    Role.SECURITY_ADMIN: "150100-OPS",
    Role.SECURITY_AUDITOR: "150100-OPS",
}
REGISTRY_READERS: set[str] = {Role.POPULATION_OFFICER, Role.POLICE_VERIFIER, Role.COMMUNITY_WORKER}
SHARED_READERS: set[str] = {Role.DEPARTMENT_DATA_OFFICER, Role.DEPARTMENT_SYSTEM}
ALLOWED: dict[str, set[str]] = {
    "shared_read": SHARED_READERS,
    "grant_create": {Role.SYSTEM_ADMIN},
    "grant_list": SHARED_READERS | {Role.SYSTEM_ADMIN},
    "person_search": REGISTRY_READERS,
    "person_page": REGISTRY_READERS,
    "unmask": REGISTRY_READERS,
}
#: Actions about one person: outside reach must look like absence (the shared read is by exact ID
#: number and not limited by region, see sanji.sharing.policies).
PER_PERSON = {"person_page", "unmask"}


def _person(name: str) -> int:
    return Person.objects.get(name=name).pk


ACTIONS: dict[str, Callable[[Actor, str], Any]] = {
    "shared_read": lambda actor, where: selectors.person_get_for(
        actor, ID_XC_HEAD if where == "inside" else ID_SH, "matrix"
    ),
    "grant_create": lambda actor, where: services.grant_create(
        actor=actor,
        department_id=department_of(CITY_CA),
        fields=["sex"],
        purpose="matrix",
        legal_basis="matrix",
        valid_from=clock.today(),
        valid_until=clock.today(),
    ),
    "grant_list": lambda actor, where: list(selectors.grant_list_for(actor)),
    "person_search": lambda actor, where: selectors.person_search_for(actor, "王"),
    "person_page": lambda actor, where: selectors.person_page_for(
        actor, _person("王建国" if where == "inside" else "其其格")
    ),
    "unmask": lambda actor, where: services.person_id_unmask(
        actor=actor, person_id=_person("王建国" if where == "inside" else "其其格"), purpose="matrix"
    ),
}

MATRIX = [
    (role, action, where)
    for role in [*ROLE_UNITS, Role.APPLICANT]
    for action in ACTIONS
    for where in (("inside", "outside") if action in PER_PERSON else ("inside",))
]


def _actor(role: str) -> Actor:
    if role == Role.APPLICANT:
        return Actor(user_id=8000, username="citizen", channel="web")
    return actor_at(role, ROLE_UNITS[role], user_id=8001)


@pytest.mark.parametrize(("role", "action", "where"), MATRIX)
def test_matrix(role: str, action: str, where: str) -> None:
    actor = _actor(role)
    allowed = role in ALLOWED[action]
    if allowed and where == "inside":
        ACTIONS[action](actor, where)
        return
    before = AccessRecord.objects.count()
    expected: tuple[type[Exception], ...] = (NotFound,) if allowed else (Forbidden, NotFound)
    with pytest.raises(expected):
        ACTIONS[action](actor, where)
    assert AccessRecord.objects.count() == before
