"""Who may read shared data, manage grants, search people and see access records.

- **Shared reads** (共享查询): the department data officer (部门数据专员) and the department system
  (部门业务系统, an API client) of any department. They read by exact ID number, so the read is not
  limited by region: a department serves residents wherever they live, and without the full number
  nothing can be found. Name and ID number are unconditional; other fields come only from an
  active grant of the reader's own department (the department of the role's unit).
- **Grants** are issued and revoked by the platform's system administrator (系统管理员), within reach
  of the department's region. Sharing levels are configuration of the data owner's catalogue
  (DESIGN.md §1: the system administrator configures; §4: the population base is the platform's
  shared base), and a department head granting their own department would decide on their own
  request; the security auditor reviews every grant in the audit trail (三员分立). The readers of a
  department see their own department's grants (to pick one when reading).
- **Person search, person pages, ID unmasking**: the population registry's own readers
  (:mod:`sanji.population.policies`: population officer, police verifier, community/grid worker),
  each within reach; others get NotFound for a single person.
- **The resident's access log**: a signed-in person sees the reads of the record whose ID number
  their account was registered with, and nothing else.
"""

from __future__ import annotations

from typing import TypeVar

from django.db import models

from sanji.core.actors import Actor
from sanji.core.authz import is_platform, reaches, scope_filter
from sanji.core.roles import Role
from sanji.population import policies as population_policies

SHARED_READER_ROLES = (Role.DEPARTMENT_DATA_OFFICER, Role.DEPARTMENT_SYSTEM)
GRANT_ADMIN_ROLES = (Role.SYSTEM_ADMIN,)

T = TypeVar("T", bound=models.Model)


def can_read_shared(actor: Actor) -> bool:
    return actor.has_role(*SHARED_READER_ROLES)


def reader_department_ids(actor: Actor) -> frozenset[int]:
    """The departments on whose behalf the actor reads shared data (their reader roles' units)."""
    return frozenset(
        g.department_id for g in actor.grants_for(*SHARED_READER_ROLES) if g.department_id is not None
    )


def can_manage_grants(actor: Actor) -> bool:
    return is_platform(actor) or actor.has_role(*GRANT_ADMIN_ROLES)


def can_manage_grant_in(actor: Actor, region_path: str) -> bool:
    return is_platform(actor) or reaches(actor, GRANT_ADMIN_ROLES, region_path=region_path)


def can_view_grants(actor: Actor) -> bool:
    return can_manage_grants(actor) or can_read_shared(actor)


def scope_grants(actor: Actor, queryset: models.QuerySet[T]) -> models.QuerySet[T]:
    """Grants the actor may see: all within an administrator's reach, else their department's own."""
    if is_platform(actor):
        return queryset
    if actor.has_role(*GRANT_ADMIN_ROLES):
        return scope_filter(queryset, actor, GRANT_ADMIN_ROLES, department_field=None)
    departments = reader_department_ids(actor)
    if not departments:
        return queryset.none()
    return queryset.filter(department_id__in=departments)


def can_search_people(actor: Actor) -> bool:
    return population_policies.can_read_people(actor)


def can_unmask(actor: Actor) -> bool:
    """May unmask the ID number of a person they can read (the person is checked by scope)."""
    return population_policies.can_read_people(actor)


def can_see_own_reads(actor: Actor) -> bool:
    return actor.user_id is not None
