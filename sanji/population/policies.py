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
from sanji.core.authz import is_platform, reaches, scope_filter, scope_q
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


# --- changes (人口变动) and the change feed ----------------------------------------------------------
# Submitters: the population data officer and community/grid workers, within reach of their unit;
# verifiers: the police verifier (公安核查员) within reach; nobody decides their own submission.
# Reach here is by place only (the person's community), whatever department the unit belongs to.
# The change feed: department systems and department data officers, for the places they reach.

CHANGE_SUBMITTER_ROLES = (Role.POPULATION_OFFICER, Role.COMMUNITY_WORKER)
CHANGE_VERIFIER_ROLES = (Role.POLICE_VERIFIER,)
FEED_READER_ROLES = (Role.DEPARTMENT_SYSTEM, Role.DEPARTMENT_DATA_OFFICER)


def _reaches_place(actor: Actor, roles: tuple[str, ...], region_path: str) -> bool:
    return any(region_path.startswith(g.region_path) for g in actor.grants_for(*roles))


def can_submit_changes(actor: Actor) -> bool:
    return actor.has_role(*CHANGE_SUBMITTER_ROLES)


def can_verify_changes(actor: Actor) -> bool:
    return actor.has_role(*CHANGE_VERIFIER_ROLES)


def can_use_changes(actor: Actor) -> bool:
    """The change pages: submitters and verifiers."""
    return can_submit_changes(actor) or can_verify_changes(actor)


def can_submit_change_at(actor: Actor, region_path: str) -> bool:
    return _reaches_place(actor, CHANGE_SUBMITTER_ROLES, region_path)


def scope_changes(actor: Actor, queryset: models.QuerySet[T]) -> models.QuerySet[T]:
    """Changes the actor may see: in the reach of a submitter or verifier grant (by the person's place)."""
    if is_platform(actor):
        return queryset
    return scope_filter(
        queryset, actor, (*CHANGE_SUBMITTER_ROLES, *CHANGE_VERIFIER_ROLES), department_field=None
    )


def can_decide_change(actor: Actor, *, region_path: str, submitted_by_id: int | None) -> bool:
    """Verify or reject: a police verifier reaching the person's place, not the change's submitter."""
    if actor.user_id is not None and actor.user_id == submitted_by_id:
        return False
    return _reaches_place(actor, CHANGE_VERIFIER_ROLES, region_path)


def can_see_change_id_numbers(
    actor: Actor, *, region_path: str, submitted_by_id: int | None, state: str
) -> bool:
    """The clear ID numbers before and after a correction of the number, to check them against the
    documents: the police verifier who may decide the change, while it waits. Each look is a
    recorded disclosure (``sharing.services.change_id_unmask``)."""
    return state == "submitted" and can_decide_change(
        actor, region_path=region_path, submitted_by_id=submitted_by_id
    )


def can_withdraw_change(actor: Actor, *, submitted_by_id: int | None) -> bool:
    return actor.user_id is not None and actor.user_id == submitted_by_id


def can_read_feed(actor: Actor) -> bool:
    return is_platform(actor) or actor.has_role(*FEED_READER_ROLES)


def scope_feed(actor: Actor, queryset: models.QuerySet[T]) -> models.QuerySet[T]:
    """Feed entries of the places the reader reaches: where the person is now, or the area a
    transfer moved them out of (that area's systems learn that the person left)."""
    if is_platform(actor):
        return queryset
    grants = actor.grants_for(*FEED_READER_ROLES)
    if not grants:
        return queryset.none()
    return queryset.filter(
        scope_q(grants, department_field=None)
        | scope_q(grants, region_field="left_region_path", department_field=None)
    )


def scope_filter_verifier(actor: Actor, queryset: models.QuerySet[T]) -> models.QuerySet[T]:
    """Changes in the reach of the actor's police-verifier grants (the verification queue)."""
    if is_platform(actor):
        return queryset
    return scope_filter(queryset, actor, CHANGE_VERIFIER_ROLES, department_field=None)


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


def nav(actor: Actor) -> dict[str, bool]:
    """Which of the population section's pages the actor's menu offers (the template context)."""
    return {
        "can_submit": can_submit_changes(actor),
        "can_verify": can_verify_changes(actor),
        "can_use_grid": can_use_grid_page(actor),
        "can_view_map": can_view_map(actor),
        "can_read_people": can_read_people(actor),
    }
