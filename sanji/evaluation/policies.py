"""Who may rate, follow up, configure and read scores.

Rating (好差评): only the case's applicant, signed in on the portal or through the API with their own
token. At a window device (窗口评价器) the applicant rates in person: the window clerk's terminal page
takes the case number and the case's query code (查询码, printed on the receipt the applicant holds),
which stands for the applicant's presence; the clerk's unit must be the case's receiving or delivering
window. Nobody else rates.

Follow-ups: the responsible unit's staff reply or appeal (as for supervision marks); supervisors in
reach decide appeals and see ratings and follow-ups of their region. Scores and the community ranking
are read by supervisors and analysts (their region) and by each unit for itself; weights are
configured by the supervisor in charge (a city-wide supervision grant), like the supervision rules.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from sanji.core.actors import Actor
from sanji.core.authz import is_platform
from sanji.core.roles import Role
from sanji.evaluation.models import FollowUp, MonthlyScore, Rating
from sanji.evaluation.transitions import FOLLOW_UP_TABLE
from sanji.supervision import policies as supervision_policies
from sanji.supervision.transitions import SUPERVISOR


def _region_q(actor: Actor, roles: tuple[str, ...], field: str = "region_path") -> Q:
    q = Q(pk__in=[])
    for grant in actor.grants_for(*roles):
        q |= Q(**{f"{field}__startswith": grant.region_path})
    return q


def scope_ratings(actor: Actor, queryset: models.QuerySet[Rating]) -> models.QuerySet[Rating]:
    if is_platform(actor):
        return queryset
    return queryset.filter(
        _region_q(actor, (Role.SUPERVISOR, Role.ANALYST)) | supervision_policies.unit_q(actor)
    )


def can_list_ratings(actor: Actor) -> bool:
    """The rating list (好差评记录) is for supervisors, analysts and the rated units' staff."""
    return (
        is_platform(actor)
        or actor.has_role(Role.SUPERVISOR, Role.ANALYST)
        or bool(actor.grants_for(*supervision_policies.UNIT_ROLES))
    )


def scope_follow_ups(actor: Actor, queryset: models.QuerySet[FollowUp]) -> models.QuerySet[FollowUp]:
    if is_platform(actor):
        return queryset
    return queryset.filter(_region_q(actor, (Role.SUPERVISOR,)) | supervision_policies.unit_q(actor))


def can_act_on_follow_up(actor: Actor, follow_up: FollowUp, action: str) -> bool:
    row = FOLLOW_UP_TABLE.get(action)
    if row is None:
        return False
    if row.by == SUPERVISOR:
        return supervision_policies.reaches_as_supervisor(actor, follow_up.region_path)
    unit = follow_up.unit
    return supervision_policies.is_responsible(actor, unit.pk, unit.department_id, unit.region_path)


def scope_scores(actor: Actor, queryset: models.QuerySet[MonthlyScore]) -> models.QuerySet[MonthlyScore]:
    """Scores in the actor's region (supervisors, analysts); a unit's staff see their own unit's rows."""
    if is_platform(actor):
        return queryset
    q = _region_q(actor, (Role.SUPERVISOR, Role.ANALYST))
    units = sorted({g.unit_id for g in actor.grants_for(*supervision_policies.UNIT_ROLES)})
    if units:
        q |= Q(subject_kind__in=["unit", "window"], subject_id__in=units)
    if actor.user_id is not None and actor.grants_for(*supervision_policies.UNIT_ROLES):
        q |= Q(subject_kind="staff", subject_id=actor.user_id)
    return queryset.filter(q)


def can_read_rankings(actor: Actor) -> bool:
    return is_platform(actor) or actor.has_role(Role.SUPERVISOR, Role.ANALYST)


def can_configure(actor: Actor) -> bool:
    return supervision_policies.can_configure_rules(actor)


def can_compute(actor: Actor) -> bool:
    return is_platform(actor) or supervision_policies.can_configure_rules(actor)
