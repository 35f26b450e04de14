"""Who may see and act on marks and supervision orders.

Seeing: supervisors (监察员) see the marks and orders whose case lies in their grant's region subtree
(``region_path`` prefix: a city supervisor sees every level, a district supervisor their district);
the responsible unit sees its own marks and orders ("my marks": any staff role held in that unit, and a
department head for the units of their department within reach). Anything else is :class:`NotFound`.

Acting: confirm, cancel, uphold, escalate and closing an order belong to a supervisor reaching the
mark; explain, appeal and answering an order to the responsible unit's staff.

Rule configuration (thresholds, switches, auto-issue, points) is supervision policy, not platform
plumbing: it belongs to the supervisor in charge — a supervisor whose grant covers the whole city
(a city-level supervision office) — and to the platform itself for seeding. The system administrator
(三员分立) does not hold supervision powers and does not edit rules.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from sanji.core.actors import Actor
from sanji.core.authz import is_platform
from sanji.core.roles import STAFF_ROLES, Role
from sanji.supervision.models import Mark, SupervisionOrder
from sanji.supervision.transitions import MARK_TABLE, ORDER_TABLE, SUPERVISOR

#: Roles of the responsible unit's staff (every staff role except the supervision and admin ones).
UNIT_ROLES: frozenset[str] = frozenset(STAFF_ROLES) - {
    Role.SUPERVISOR,
    Role.ANALYST,
    Role.SYSTEM_ADMIN,
    Role.SECURITY_ADMIN,
    Role.SECURITY_AUDITOR,
}


def _depth(region_path: str) -> int:
    return len([c for c in region_path.split("/") if c])


def is_supervisor(actor: Actor) -> bool:
    return actor.has_role(Role.SUPERVISOR)


def supervisor_q(actor: Actor, *, region_field: str = "region_path") -> Q:
    q = Q(pk__in=[])
    for grant in actor.grants_for(Role.SUPERVISOR):
        q |= Q(**{f"{region_field}__startswith": grant.region_path})
    return q


def unit_q(actor: Actor, *, unit_field: str = "unit") -> Q:
    """Rows whose responsible unit is one of the actor's units (or their department's, for a head)."""
    grants = actor.grants_for(*UNIT_ROLES)
    q = Q(pk__in=[])
    units = sorted({g.unit_id for g in grants})
    if units:
        q |= Q(**{f"{unit_field}_id__in": units})
    for grant in grants:
        if grant.role == Role.DEPARTMENT_HEAD and grant.department_id is not None:
            q |= Q(
                **{
                    f"{unit_field}__department_id": grant.department_id,
                    f"{unit_field}__region_path__startswith": grant.region_path,
                }
            )
    return q


def scope_q(actor: Actor) -> Q:
    if is_platform(actor):
        return Q()
    return supervisor_q(actor) | unit_q(actor)


def scope(actor: Actor, queryset: models.QuerySet[Mark]) -> models.QuerySet[Mark]:
    return queryset.filter(scope_q(actor))


def scope_orders(
    actor: Actor, queryset: models.QuerySet[SupervisionOrder]
) -> models.QuerySet[SupervisionOrder]:
    return queryset.filter(scope_q(actor))


def reaches_as_supervisor(actor: Actor, region_path: str) -> bool:
    return any(region_path.startswith(g.region_path) for g in actor.grants_for(Role.SUPERVISOR))


def is_responsible(actor: Actor, unit_id: int, unit_department_id: int | None, unit_region_path: str) -> bool:
    for grant in actor.grants_for(*UNIT_ROLES):
        if grant.unit_id == unit_id:
            return True
        if (
            grant.role == Role.DEPARTMENT_HEAD
            and grant.department_id is not None
            and grant.department_id == unit_department_id
            and unit_region_path.startswith(grant.region_path)
        ):
            return True
    return False


def can_act_on_mark(actor: Actor, mark: Mark, action: str) -> bool:
    row = MARK_TABLE.get(action)
    if row is None:
        return False
    if row.by == SUPERVISOR:
        return reaches_as_supervisor(actor, mark.region_path)
    return is_responsible(actor, mark.unit_id, mark.unit.department_id, mark.unit.region_path)


def can_act_on_order(actor: Actor, order: SupervisionOrder, action: str) -> bool:
    row = ORDER_TABLE.get(action)
    if row is None:
        return False
    if row.by == SUPERVISOR:
        return reaches_as_supervisor(actor, order.region_path)
    return is_responsible(actor, order.unit_id, order.unit.department_id, order.unit.region_path)


def can_configure_rules(actor: Actor) -> bool:
    """The supervisor in charge (a city-wide supervision grant) or the platform."""
    if is_platform(actor):
        return True
    return any(_depth(g.region_path) == 1 for g in actor.grants_for(Role.SUPERVISOR))


def can_view_board(actor: Actor) -> bool:
    return is_supervisor(actor) or is_platform(actor)


def can_sweep(actor: Actor) -> bool:
    return is_platform(actor)
