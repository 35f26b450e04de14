"""Who may see and change the population registry and its places.

- People (individual rows) are read by the population data officer (人口计生信息员), the police
  verifier (公安核查员) and community/grid workers, each within the reach of their unit; others
  get :class:`~sanji.core.errors.NotFound` for a single person. Rows are scoped by the
  ``region_path`` of the community where the person actually lives.
- Places (grids, buildings, boundaries) and per-grid counts are not personal: any staff actor
  within reach sees them.
- Bulk import: the population data officer, limited to buildings within reach (rows for other
  buildings are rejected as unknown), or the platform (``sanji population import``).
- Places configuration (boundary import, seeding grids and buildings): the system administrator
  within reach, or the platform. Key rotation: the platform only (a server command).
"""

from __future__ import annotations

from typing import TypeVar

from django.db import models

from sanji.core.actors import Actor
from sanji.core.authz import is_platform, reaches, scope_filter
from sanji.core.roles import STAFF_ROLES, Role

PERSON_READER_ROLES = (Role.POPULATION_OFFICER, Role.POLICE_VERIFIER, Role.COMMUNITY_WORKER)
IMPORT_ROLES = (Role.POPULATION_OFFICER,)
PLACE_EDITOR_ROLES = (Role.SYSTEM_ADMIN,)

T = TypeVar("T", bound=models.Model)


def scope_people(actor: Actor, queryset: models.QuerySet[T]) -> models.QuerySet[T]:
    """People (or rows placed like people) the actor may read individually."""
    if is_platform(actor):
        return queryset
    return scope_filter(queryset, actor, PERSON_READER_ROLES, department_field=None)


def scope_places(actor: Actor, queryset: models.QuerySet[T]) -> models.QuerySet[T]:
    """Grids, buildings, boundaries: any staff actor within reach."""
    if is_platform(actor):
        return queryset
    return scope_filter(queryset, actor, STAFF_ROLES, department_field=None)


def scope_regions(actor: Actor, queryset: models.QuerySet[T]) -> models.QuerySet[T]:
    """Regions (communities) whose places the actor may see."""
    if is_platform(actor):
        return queryset
    return scope_filter(queryset, actor, STAFF_ROLES, region_field="path", department_field=None)


def can_see_region(actor: Actor, region_path: str) -> bool:
    return is_platform(actor) or reaches(actor, STAFF_ROLES, region_path=region_path)


def can_read_people(actor: Actor) -> bool:
    return is_platform(actor) or actor.has_role(*PERSON_READER_ROLES)


def can_import(actor: Actor) -> bool:
    return is_platform(actor) or actor.has_role(*IMPORT_ROLES)


def scope_import_places(actor: Actor, queryset: models.QuerySet[T]) -> models.QuerySet[T]:
    """The buildings an importing actor may place people in."""
    if is_platform(actor):
        return queryset
    return scope_filter(queryset, actor, IMPORT_ROLES, department_field=None)


def can_configure_places(actor: Actor, region_path: str) -> bool:
    return is_platform(actor) or reaches(actor, PLACE_EDITOR_ROLES, region_path=region_path)


def can_rekey(actor: Actor) -> bool:
    return is_platform(actor)


# --- the population map and the grid worker's page ------------------------------------------------


def can_view_map(actor: Actor) -> bool:
    """The population map (places and counts, people only for people readers): any staff actor."""
    return is_platform(actor) or actor.has_role(*STAFF_ROLES)


def can_use_grid_page(actor: Actor) -> bool:
    """The grid worker's page (我的网格): community workers / grid workers (社区工作人员/网格员)."""
    return actor.has_role(Role.COMMUNITY_WORKER)


def scope_grid_work(actor: Actor, queryset: models.QuerySet[T]) -> models.QuerySet[T]:
    """Grids (or rows placed like them) a community worker looks after: within their reach."""
    return scope_filter(queryset, actor, (Role.COMMUNITY_WORKER,), department_field=None)
