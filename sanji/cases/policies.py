"""Who may see and act on a case.

Seeing (:func:`scope`): staff see the cases received in their grant's region subtree (``region_path``
prefix) and, for department-bound grants, only those of their line (the lead ``department_kind`` or
any line taking part, :class:`~sanji.cases.models.CaseDepartment`); supervisors and analysts see every
case in their region; applicants see their own cases (:func:`own_q`: theirs by account or by
registered ID number, and those they applied for as an agent); the platform sees everything.

Acting (:func:`can_act`): the transitions table's roles, and the grant of such a role must reach the
case's *current* handling place — the current unit's region subtree and, for department-bound grants,
the current department (or a department of the active parallel stage). Applicant actions are for the
case's applicant only; system actions for the platform only.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.db import models
from django.db.models import CharField, Exists, F, OuterRef, Q, Subquery
from django.db.models.lookups import GreaterThanOrEqual, LessThan

from sanji.cases.models import Case, CaseDepartment, CaseStep, NotAnIndexKey, NotAnIndexKeyText, StepState
from sanji.cases.transitions import TABLE, Facts, may_perform
from sanji.core import authz
from sanji.core.actors import Actor, Grant
from sanji.core.roles import Role
from sanji.orgs.models import Department

#: Staff roles that see cases (by region, and by line when department-bound).
VIEWER_ROLES: frozenset[str] = frozenset(
    {
        Role.WINDOW_CLERK,
        Role.COMMUNITY_WORKER,
        Role.REVIEWER,
        Role.APPROVER,
        Role.DEPARTMENT_HEAD,
        Role.DEPARTMENT_SYSTEM,
        Role.SUPERVISOR,
        Role.ANALYST,
    }
)
RECEIVER_ROLES: frozenset[str] = frozenset({Role.WINDOW_CLERK, Role.COMMUNITY_WORKER, Role.DEPARTMENT_SYSTEM})


def is_platform(actor: Actor) -> bool:
    """The platform itself (sweeps, the seeder, ``sanji`` commands on channel "system" or "cli")."""
    return authz.is_platform(actor)


def grant_kinds(grants: Iterable[Grant]) -> dict[int, str]:
    """Department id → kind (line) for the grants' departments.

    ``Grant.department_kind`` is used when the accounts app fills it; otherwise one query looks
    the kinds up from the department ids.
    """
    kinds: dict[int, str] = {}
    missing: set[int] = set()
    for grant in grants:
        if grant.department_id is None:
            continue
        if grant.department_kind:
            kinds[grant.department_id] = grant.department_kind
        else:
            missing.add(grant.department_id)
    if missing:
        kinds.update(dict(Department.objects.filter(pk__in=missing).values_list("pk", "kind")))
    return kinds


def line_q(kind: str) -> Q:
    """Cases of line ``kind``: its lead line, or a line taking part (a correlated ``EXISTS``, probed
    per row through ``cases_one_row_per_line`` instead of materialising every case of the line)."""
    return Q(department_kind=kind) | Q(
        Exists(CaseDepartment.objects.filter(case_id=OuterRef("pk"), department_kind=kind))
    )


#: Region paths at most this deep (the city, a district) are a large share of all cases.
_BROAD_DEPTH = 2


def region_q(region_path: str, *, by_key: bool = False) -> Q:
    """Cases received in the region subtree ``region_path``: a range over ``region_path``.

    A district holds a large share of all cases, and SQLite, which keeps no histograms, would
    still read such a range through ``cases_region_state_due`` and sort it all; for the city and
    the districts the range is kept out of its index choice, so the worklists read their deadline
    indexes in order and stop after a page. Townships and communities (narrow) use the index.
    PostgreSQL judges ranges from its statistics: the plain range.

    ``by_key``: the query finds its rows by key (one case by id); the range is a filter only, on
    both engines, so no planner reads a district's cases through the region index to find one id
    (PostgreSQL did, without statistics, costing both paths at one row).
    """
    if by_key:
        lower, upper = authz.prefix_bounds(region_path)
        key_free = NotAnIndexKeyText(F("region_path"), output_field=CharField())
        return Q(GreaterThanOrEqual(key_free, lower)) & Q(LessThan(key_free, upper))
    if len([c for c in region_path.split("/") if c]) > _BROAD_DEPTH:
        return authz.prefix_q("region_path", region_path)
    lower, upper = authz.prefix_bounds(region_path)
    column = NotAnIndexKey(F("region_path"), output_field=CharField())
    return Q(GreaterThanOrEqual(column, lower)) & Q(LessThan(column, upper))


def scope_q(actor: Actor, *, by_key: bool = False) -> Q:
    """The cases ``actor`` may see, as one Q object (no grants, no own cases: nothing).

    Staff see what their grants reach; the own-applications arm is for actors without a staff grant
    (the portal's applicants), so staff worklists stay one index-friendly condition per grant. A
    staff member's own application is read through the portal (:func:`case_list_of_applicant`).
    """
    if is_platform(actor):
        return Q()
    q = Q(pk__in=[])
    grants = actor.grants_for(*VIEWER_ROLES)
    if actor.user_id is not None and not grants:
        q |= own_q(actor.user_id)
    kinds = grant_kinds(grants)
    for grant in grants:
        part = region_q(grant.region_path, by_key=by_key)
        if grant.department_id is not None and grant.department_id in kinds:
            part &= line_q(kinds[grant.department_id])
        q |= part
    return q


def own_q(user_id: int) -> Q:
    """The cases a person is party to on the portal: as the applicant — by their account, or by the
    ID number registered with it (a case received at a window, or applied for by an agent) — or as
    the agent (代办人) who applied online for somebody else."""
    registered = (
        get_user_model().objects.filter(pk=user_id).exclude(id_number_index="").values("id_number_index")
    )
    return Q(applicant_id=user_id) | Q(agent_id=user_id) | Q(applicant_id_index__in=Subquery(registered))


def is_party(actor: Actor, case: Case) -> bool:
    """Is ``actor`` the case's applicant or agent (:func:`own_q`), who act on it on the portal?

    The account is compared first; the registered ID number costs a query, asked only of people who
    hold no staff role (staff act on cases through their grants)."""
    user_id = actor.user_id
    if user_id is None:
        return False
    if user_id in (case.applicant_id, case.agent_id):
        return True
    if not case.applicant_id_index or actor.grants_for(*VIEWER_ROLES):
        return False
    return (
        get_user_model()
        .objects.filter(pk=user_id, id_number_index=case.applicant_id_index)
        .exclude(id_number_index="")
        .exists()
    )


def scope(actor: Actor, queryset: models.QuerySet[Case], *, by_key: bool = False) -> models.QuerySet[Case]:
    """``queryset`` narrowed to what ``actor`` may see; ``by_key`` when it selects by key (see
    :func:`region_q`)."""
    return queryset.filter(scope_q(actor, by_key=by_key))


def can_see(actor: Actor, case: Case) -> bool:
    return scope(actor, Case.objects.filter(pk=case.pk)).exists()


def facts_for(actor: Actor, case: Case) -> Facts:
    return Facts(
        accepted=case.accepted_at is not None,
        corrections_count=case.corrections_count,
        second_correction_allowed=case.second_correction_allowed,
        extension_days=case.extension_days,
        joint=case.matter_kind == "joint",
        is_applicant=is_party(actor, case),
        is_system=is_platform(actor),
    )


def reaching_grants(
    actor: Actor, roles: Iterable[str], *, region_path: str, department_ids: Iterable[int | None]
) -> list[Grant]:
    """Grants of ``roles`` whose region covers ``region_path`` and whose department (if any) is listed."""
    wanted = {d for d in department_ids if d is not None}
    return [
        g
        for g in actor.grants_for(*roles)
        if region_path.startswith(g.region_path) and (g.department_id is None or g.department_id in wanted)
    ]


def can_act(
    actor: Actor,
    case: Case,
    action: str,
    *,
    current_region_path: str,
    department_ids: Iterable[int | None],
) -> bool:
    """May ``actor`` perform ``action`` on ``case`` now (state aside: that is the table's)?

    ``current_region_path`` is the current unit's region path; ``department_ids`` the current
    department and those of the active stage's steps.
    """
    row = TABLE.get(action)
    if row is None:
        return False
    facts = facts_for(actor, case)
    if not may_perform(action, roles=actor.roles, facts=facts):
        return False
    if (row.system and facts.is_system) or (row.applicant and facts.is_applicant):
        return True
    if row.roles == {Role.SUPERVISOR}:
        return any(case.region_path.startswith(g.region_path) for g in actor.grants_for(Role.SUPERVISOR))
    return bool(
        reaching_grants(
            actor, row.roles, region_path=current_region_path, department_ids=list(department_ids)
        )
    )


#: Roles that take applications on the window pages (department systems use the API).
WINDOW_ROLES: frozenset[str] = frozenset({Role.WINDOW_CLERK, Role.COMMUNITY_WORKER})


def can_use_worklists(actor: Actor) -> bool:
    """Staff who see cases: the worklists and case pages."""
    return actor.has_role(*VIEWER_ROLES)


#: Viewers who oversee cases without handling any (监察、分析): no window or office of their own.
OVERSEER_ROLES: frozenset[str] = frozenset({Role.SUPERVISOR, Role.ANALYST})


def handles_cases(actor: Actor) -> bool:
    """Staff who handle cases at a place of their own (a window or a department office), as opposed
    to those who only oversee them: the worklists of a place are theirs."""
    return actor.has_role(*VIEWER_ROLES - OVERSEER_ROLES)


def only_oversees_cases(actor: Actor) -> bool:
    """Supervisors and analysts without a handling role: the city-wide worklists only."""
    return can_use_worklists(actor) and not handles_cases(actor)


def can_receive(actor: Actor) -> bool:
    """Window clerks and community workers receive walk-in applications (接件)."""
    return actor.has_role(*WINDOW_ROLES)


def can_apply_online(actor: Actor) -> bool:
    """A signed-in person applies online (网上申报) for themselves, on the portal or with their own
    token; an account holding only staff roles does not (staff receive applications, 接件)."""
    return actor.user_id is not None and (not actor.grants or actor.has_role(Role.APPLICANT))


def steps_answered_by(
    actor: Actor, active: list[CaseStep], *, states: frozenset[str] = frozenset({StepState.ACTIVE})
) -> list[CaseStep]:
    """The steps of the current stage, in ``states`` (by default: active, unanswered), that
    ``actor`` answers for.

    A step is answered by the role its flow step names (or the department head / department system)
    of the step's department: completing it, reporting it up, starting or ending its special
    procedure, taking it over when it arrives (its steps still pending) and deciding it. A window
    clerk whose grant reaches the department's region does not thereby answer its review step.
    Services enforce it; selectors use it to offer only allowed buttons.
    """
    mine = []
    for step in active:
        if step.state not in states:
            continue
        roles = {step.flow_step.role, Role.DEPARTMENT_HEAD, Role.DEPARTMENT_SYSTEM}
        if any(
            g.department_id is None or g.department_id == step.department_id for g in actor.grants_for(*roles)
        ):
            mine.append(step)
    return mine


def can_rekey(actor: Actor) -> bool:
    """Re-encrypting applicants' ID numbers under a new key: the platform only (``sanji rekey``)."""
    return is_platform(actor)
