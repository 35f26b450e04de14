"""Reads of cases, always scoped by the actor (:mod:`sanji.cases.policies`).

Worklists page with LIMIT/OFFSET over the worklist indexes and fetch one row more than a page to
know whether a next page exists: no COUNT(*) over the whole scope on every page.
"""

from __future__ import annotations

import datetime as dt
import hmac
from dataclasses import dataclass, field
from typing import Any, Literal

from django.core.cache import cache
from django.db import models
from django.db.models import Exists, F, OuterRef, Prefetch, Q
from django.db.models.lookups import Exact, In
from django.utils.translation import gettext as _

from sanji.cases import policies
from sanji.cases.models import (
    OPEN_STATE_LIST,
    PLACED_STATE_LIST,
    RECEIVE_STATE_LIST,
    REPORTED_UP_STATE_LIST,
    RETURNED_STATE_LIST,
    Attachment,
    Case,
    CaseEvent,
    CaseStep,
    NotAnIndexKey,
    NotAnIndexKeyAnywhere,
    StateIn,
    StepState,
    due_order,
)
from sanji.cases.services import publicity_running, query_code_hash
from sanji.cases.transitions import DECIDED, OPEN_STATES, Action, State, allowed_actions
from sanji.catalog.models import Matter, MatterType, StepCode
from sanji.core import clock
from sanji.core.actors import Actor, Grant
from sanji.core.authz import get_in_scope
from sanji.core.errors import NotFound, SanjiError
from sanji.core.roles import Role
from sanji.orgs.models import LEVEL_DEPTH, Region, RegionLevel, Unit, UnitKind

Worklist = Literal["to_receive", "to_handle", "due_soon", "overdue", "reported_up", "returned", "all"]
WORKLISTS: tuple[str, ...] = (
    "to_receive",
    "to_handle",
    "due_soon",
    "overdue",
    "reported_up",
    "returned",
    "all",
)

#: Due soon: at most this many working days left (the supervision warning threshold).
DUE_SOON_DAYS = 2
MAX_PAGE_SIZE = 200

_TO_HANDLE = (State.HANDLING, State.SUSPENDED, State.APPROVED, State.DENIED, State.DELIVERED)
_ACTIVE_STAGE = (State.HANDLING, State.SUSPENDED, State.APPROVED, State.DENIED)
#: Who completes a delivered case (the transitions table's ``complete``).
_COMPLETERS = frozenset({Role.WINDOW_CLERK, Role.COMMUNITY_WORKER, Role.DEPARTMENT_SYSTEM})


@dataclass(frozen=True, slots=True)
class WorkingDeadline:
    """The deadline a case's remaining working days count to, and whether it has passed.

    ``key``: ``acceptance`` before acceptance, ``promised`` until the decision, ``delivery`` from the
    decision until the case is completed (``Case.step_due`` holds the delivery deadline then); a
    closed case shows its promised deadline, which no longer runs (``remaining`` None).
    """

    key: str
    due: dt.datetime | None
    remaining: int | None
    passed: bool


def case_working_deadline(case: Case, *, now: dt.datetime) -> WorkingDeadline:
    """The deadline of ``case`` its ``remaining_days`` count to (cf. :func:`sanji.cases.deadlines.compute`).

    Whether it passed compares instants: on the Saturday after a Friday deadline the remaining
    working days are 0 but the deadline has passed.
    """
    if case.state not in OPEN_STATES:
        return WorkingDeadline("promised", case.promised_due, None, False)
    if case.decided_at is not None:
        key, due = "delivery", case.step_due
    elif case.accepted_at is not None:
        key, due = "promised", case.promised_due
    else:
        key, due = "acceptance", case.acceptance_due
    return WorkingDeadline(key, due, case.remaining_days, due is not None and due < now)


def _working_due_q(lookup: str, now: dt.datetime) -> Q:
    """The deadline the remaining working days count to (see :class:`WorkingDeadline`) is ``lookup``
    (``lt``: passed, ``gte``: still running) ``now``: the acceptance deadline before acceptance, the
    promised one until the decision, the delivery one (``step_due``) after it. A case decided after
    its promised deadline is overdue here only if its delivery is: what is left to do is delivery,
    and the late decision itself is supervision's matter (its 黄牌/红牌 mark, raised when it passed)."""
    return (
        Q(decided_at__isnull=False, **{f"step_due__{lookup}": now})
        | Q(decided_at__isnull=True, accepted_at__isnull=False, **{f"promised_due__{lookup}": now})
        | Q(accepted_at__isnull=True, **{f"acceptance_due__{lookup}": now})
    )


@dataclass(frozen=True, slots=True)
class CasePage:
    items: list[Case]
    page: int
    page_size: int
    has_next: bool
    now: dt.datetime | None = None

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def rows(self) -> list[tuple[Case, WorkingDeadline]]:
        """Each case with the deadline its remaining working days count to (what a row shows)."""
        now = self.now or clock.now()
        return [(case, case_working_deadline(case, now=now)) for case in self.items]


def _places(actor: Actor) -> list[tuple[Grant, list[int]]]:
    """The actor's handling grants, each with the units that are its place.

    A window role's place is every window, station or centre at its own level (same region, not the
    townships and communities below it: one query for all such grants); a department role's is its
    own unit (the department office). Read as a literal list, so the planner sees how many cases sit
    there.
    """
    grants = _handler_grants(actor)
    paths = sorted({g.region_path for g in grants if g.role in policies.WINDOW_ROLES})
    at_path: dict[str, list[int]] = {p: [] for p in paths}
    if paths:
        units = (
            Unit.objects.filter(region_path__in=paths)
            .exclude(kind=UnitKind.DEPARTMENT_OFFICE)
            .order_by("pk")
            .values_list("pk", "region_path")
        )
        for pk, path in units:
            at_path[path].append(pk)
    return [(g, at_path[g.region_path] if g.role in policies.WINDOW_ROLES else [g.unit_id]) for g in grants]


def _active_step_q(department_id: int | None = None, roles: frozenset[str] | None = None) -> Q:
    """The case has an active step (of ``department_id``, answered by one of ``roles``).

    A correlated ``EXISTS`` probed per row through ``cases_step_case_order`` (case, order): active
    steps are those of the current stage, so the probe names the order too. It names it as a range
    (``order >= current AND order <= current``) on purpose: PostgreSQL may turn an ``EXISTS``
    correlated by equalities only into a hash of *every* matching step (hundreds of thousands for a
    department) built before the first row; a range correlation keeps the cheap per-row probe.
    """
    steps = CaseStep.objects.filter(
        case_id=OuterRef("pk"),
        order__gte=OuterRef("current_step_order"),
        order__lte=OuterRef("current_step_order"),
        state=StepState.ACTIVE,
    )
    if department_id is not None:
        steps = steps.filter(department_id=department_id)
    if roles is not None:
        steps = steps.filter(flow_step__role__in=sorted(roles))
    return Q(Exists(steps))


#: Roles that answer any step of their department (cf. :func:`policies.steps_answered_by`).
_ANSWER_ANY = frozenset({Role.DEPARTMENT_HEAD, Role.DEPARTMENT_SYSTEM})


def _place_q(grant: Grant, units: list[int], *, office_by_unit: bool = False) -> Q:
    """Cases whose *current* place is the grant's: one of its units and, for department-bound grants,
    of its department (the case's current department: a window's stages — receive, accept, deliver —
    are single steps of it). The department leads (``cases_dept_*`` in deadline order); the units
    are then a filter (``office_by_unit``: an office's own unit leads instead, for a worklist that is
    mostly empty there — "returned": decided cases leave for the windows)."""
    if grant.department_id is None:
        return Q(current_unit_id__in=units)
    if office_by_unit and len(units) == 1:  # the (unit, state) index answers at once
        department = NotAnIndexKeyAnywhere(F("current_department_id"), output_field=models.BigIntegerField())
        return Q(current_unit_id=units[0]) & Q(Exact(department, grant.department_id))
    unit = NotAnIndexKey(F("current_unit_id"), output_field=models.BigIntegerField())
    return Q(current_department_id=grant.department_id) & Q(In(unit, units))


def _handler_grants(actor: Actor) -> tuple[Grant, ...]:
    return actor.grants_for(*policies.VIEWER_ROLES - policies.OVERSEER_ROLES)


#: The worklists of a place (the actor's windows or department office): empty for those who handle
#: no cases there (supervisors, analysts), so their tabs are not offered to them.
PLACE_WORKLISTS = frozenset({"to_receive", "to_handle", "returned"})


def worklists_for(actor: Actor) -> tuple[str, ...]:
    """The worklist tabs the actor is offered: all for handlers, the city-wide views for others."""
    if policies.handles_cases(actor):
        return WORKLISTS
    return tuple(w for w in WORKLISTS if w not in PLACE_WORKLISTS)


def at_my_place_q(actor: Actor, *, office_by_unit: bool = False) -> Q:
    """Cases whose *current* place is one of the actor's (where they would act next)."""
    q = Q(pk__in=[])
    for grant, units in _places(actor):
        q |= _place_q(grant, units, office_by_unit=office_by_unit)
    return q


def to_handle_q(actor: Actor) -> Q:
    """The "to handle" worklist: open, past acceptance, at the actor's place and for the actor's role.

    While a stage is active (handling, suspended, or decided with the delivery stage active), it must
    have an active step the grant's role answers: its flow step's role, or the department head /
    system of its department (:func:`policies.steps_answered_by`) — for department roles wherever the
    stage sits (a department serves one level; a parallel stage, 并行会签, sits at the lead office),
    for window roles at their own place. A decided case whose delivery stage is still pending waits at
    the deciding place to be returned down (any handler there); a delivered one waits at its window
    to be completed (the clerks).
    """
    q = Q(pk__in=[])
    for grant, units in _places(actor):
        department = grant.department_id
        roles = None if grant.role in _ANSWER_ANY else frozenset({grant.role})
        answered = Q(state__in=_ACTIVE_STAGE) & _active_step_q(department, roles)
        waiting = Q(state__in=sorted(DECIDED)) & ~_active_step_q()
        if grant.role in _COMPLETERS:
            waiting |= Q(state=State.DELIVERED)
        if department is None or grant.role in policies.WINDOW_ROLES:
            q |= _place_q(grant, units) & (answered | waiting)
        else:
            q |= answered | (_place_q(grant, units) & waiting)
    return q


def _base(actor: Actor) -> models.QuerySet[Case]:
    return policies.scope(actor, Case.objects.all()).select_related(
        "matter", "current_unit", "accepting_unit"
    )


def case_list_for(actor: Actor, *, worklist: str = "all", page: int = 1, page_size: int = 50) -> CasePage:
    """One page of a worklist: ``due_soon`` by remaining working days, the others by promised deadline.

    "Overdue" and "due soon" judge the deadline the remaining working days count to (acceptance,
    promised until the decision, delivery after it: :class:`WorkingDeadline`); a passed deadline is
    overdue even when the working days left read 0 (the weekend after a Friday deadline).

    One query per page (and one listing a window's units for the worklists of a place). The open
    worklists repeat the partial indexes' condition (``state IN`` the open states) and read in their
    order — ``cases_open_due`` (promised deadline, none last, id) and ``cases_open_remaining_due``
    (remaining working days first) — stopping after ``page_size + 1`` rows in scope; the worklists
    of a place name the conditions of a department's indexes too (``cases_dept_due``,
    ``cases_dept_receive_due``, ``cases_dept_returned_due``), so that a department's cases are read
    in deadline order; "all" reads ``cases_created`` backwards.
    No COUNT.
    """
    if worklist not in WORKLISTS:
        raise SanjiError(_("没有“%(worklist)s”这个工作列表。") % {"worklist": worklist})
    page = max(1, int(page))
    page_size = max(1, min(int(page_size), MAX_PAGE_SIZE))
    queryset = _base(actor)
    now = clock.now()
    open_ = StateIn(OPEN_STATE_LIST)
    placed = StateIn(PLACED_STATE_LIST)
    order: list[Any] = due_order()
    if worklist == "to_receive":
        queryset = queryset.filter(open_, placed, StateIn(RECEIVE_STATE_LIST), at_my_place_q(actor))
    elif worklist == "to_handle":
        queryset = queryset.filter(open_, placed, to_handle_q(actor), state__in=_TO_HANDLE)
    elif worklist == "due_soon":
        queryset = queryset.filter(open_, remaining_days__gte=0, remaining_days__lte=DUE_SOON_DAYS).filter(
            _working_due_q("gte", now)
        )
        order = [F("remaining_days").asc(), *due_order()]
    elif worklist == "overdue":
        queryset = queryset.filter(open_).filter(_working_due_q("lt", now))
    elif worklist == "reported_up":
        queryset = queryset.filter(open_, StateIn(REPORTED_UP_STATE_LIST))
    elif worklist == "returned":
        queryset = queryset.filter(
            placed, StateIn(RETURNED_STATE_LIST), at_my_place_q(actor, office_by_unit=True)
        )
    else:
        order = ["-created_at", "-id"]
    offset = (page - 1) * page_size
    rows = list(queryset.order_by(*order)[offset : offset + page_size + 1])
    return CasePage(
        items=rows[:page_size], page=page, page_size=page_size, has_next=len(rows) > page_size, now=now
    )


def case_list_of_applicant(actor: Actor) -> models.QuerySet[Case]:
    """The signed-in person's own cases, newest first: theirs as the applicant (by account or by
    registered ID number) and those they applied for as an agent (代办, :func:`policies.own_q`)."""
    if actor.user_id is None:
        return Case.objects.none()
    return (
        Case.objects.filter(policies.own_q(actor.user_id))
        .select_related("matter", "agent")
        .order_by("-created_at", "-id")
    )


def case_get_for(actor: Actor, case_id: int) -> Case:
    """One case the actor may see, or :class:`NotFound`."""
    return get_in_scope(
        _base(actor).select_related("flow_version", "current_department", "accepting_unit__region", "agent"),
        pk=case_id,
    )


def case_history(case: Case) -> list[CaseEvent]:
    """The case's events in order, each with its attachments (two queries)."""
    return list(
        CaseEvent.objects.filter(case=case)
        .order_by("seq")
        .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("id")))
    )


def case_steps(case: Case) -> list[CaseStep]:
    return list(
        CaseStep.objects.filter(case=case)
        .select_related("flow_step", "department", "unit")
        .order_by("order", "id")
    )


def case_attachments(case: Case) -> list[Attachment]:
    return list(Attachment.objects.filter(case=case).order_by("uploaded_at", "id"))


def case_allowed_actions(actor: Actor, case: Case) -> list[str]:
    """Actions the actor can take now, for the page's buttons (the service re-checks everything).

    Beyond the table and the policy, the current step must fit the action the way the service
    requires it (a step of the actor's to complete, a stage that reports up, the final decision
    step, the delivering window …), so the page offers no button that is bound to be refused.
    """
    steps = case_steps(case)
    stage = [s for s in steps if s.order == case.current_step_order]
    active = [s for s in stage if s.state == StepState.ACTIVE]
    dept_ids = [case.current_department_id, *(s.department_id for s in active)]
    return [
        a
        for a in allowed_actions(case.state)
        if policies.can_act(
            actor, case, a, current_region_path=case.current_unit.region_path, department_ids=dept_ids
        )
        and _fits_step(a, actor, case, steps, stage, active)
    ]


def _fits_step(
    action: str,
    actor: Actor,
    case: Case,
    steps: list[CaseStep],
    stage: list[CaseStep],
    active: list[CaseStep],
) -> bool:
    head = stage[0].flow_step if stage else None
    final_decide = max((s.order for s in steps if s.flow_step.code == StepCode.DECIDE), default=None)
    at_final_decision = head is not None and head.code == StepCode.DECIDE
    at_final_decision = at_final_decision and case.current_step_order == final_decide
    if action == Action.COMPLETE_STEP:
        return (
            head is not None
            and bool(active)
            and head.code not in (StepCode.RECEIVE, StepCode.ACCEPT, StepCode.DELIVER)
            and not at_final_decision
            and not head.report_up
            and bool(policies.steps_answered_by(actor, active))
            and publicity_running(active, clock.now()) is None
        )
    if action == Action.REPORT_UP:
        return (
            head is not None
            and bool(active)
            and head.report_up
            and head.code != StepCode.ACCEPT
            and bool(policies.steps_answered_by(actor, active))
            and publicity_running(active, clock.now()) is None
        )
    if action in (Action.SPECIAL_START, Action.SPECIAL_END):
        return bool(policies.steps_answered_by(actor, active))
    if action == Action.TAKE_OVER:
        return bool(policies.steps_answered_by(actor, stage, states=frozenset({StepState.PENDING})))
    if action in (Action.APPROVE, Action.DENY):
        return at_final_decision and bool(active) and bool(policies.steps_answered_by(actor, active))
    if action == Action.DELIVER:
        return head is not None and head.code == StepCode.DELIVER and stage[0].state == StepState.ACTIVE
    if action == Action.RETURN_DOWN:
        return head is not None and head.code == StepCode.DELIVER and stage[0].state == StepState.PENDING
    if action == Action.ACCEPT:
        accept = next((s for s in steps if s.flow_step.code == StepCode.ACCEPT), None)
        return accept is not None and (not active or head is None or head.level == accept.flow_step.level)
    return True


# --- anonymous progress query ------------------------------------------------------------------

PUBLIC_QUERY_LIMIT = 10  # attempts per address per window
PUBLIC_QUERY_WINDOW = 15 * 60
_DUMMY_HASH = "0" * 64


class TooManyQueries(SanjiError):
    status = 429
    code = "throttled"


@dataclass(frozen=True, slots=True)
class PublicProgress:
    """What an anonymous progress query (办件进度查询) shows: no personal data beyond a masked name."""

    number: str
    matter_name: str
    applicant: str
    state: str
    state_label: str
    received_at: dt.datetime | None
    promised_due: dt.datetime | None
    remaining_days: int | None
    calendar_problem: str
    events: list[tuple[str, dt.datetime]] = field(default_factory=list)


def _mask_name(name: str) -> str:
    return name[:1] + "*" * max(1, len(name) - 1)


def case_lookup_public(number: str, query_code: str, *, ip: str = "") -> PublicProgress:
    """Progress by case number and query code; the same :class:`NotFound` for a wrong number or code.

    The code's keyed hash is compared in constant time (against a dummy when the number is unknown),
    and each address gets :data:`PUBLIC_QUERY_LIMIT` failed attempts per window.
    """
    key = f"cases:public-query:{ip}"
    failures = int(cache.get(key, 0))
    if failures >= PUBLIC_QUERY_LIMIT:
        raise TooManyQueries(_("尝试次数过多，请稍后再试。"))
    case = Case.objects.filter(number=number.strip()).select_related("matter").first()
    expected = case.query_code_hash if case is not None else _DUMMY_HASH
    ok = hmac.compare_digest(expected, query_code_hash(query_code)) and case is not None
    if not ok or case is None:
        cache.set(key, failures + 1, PUBLIC_QUERY_WINDOW)
        raise NotFound(_("没有与此办件编号和查询码相符的办件。"))
    events = list(CaseEvent.objects.filter(case=case).order_by("seq").values_list("action", "at"))
    from sanji.cases.models import CaseState

    return PublicProgress(
        number=case.number,
        matter_name=case.matter.name,
        applicant=_mask_name(case.applicant_name),
        state=case.state,
        state_label=str(CaseState(case.state).label),
        received_at=case.received_at,
        promised_due=case.promised_due,
        remaining_days=case.remaining_days,
        calendar_problem=case.calendar_problem,
        events=events,
    )


# --- what the pages show -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeadlineRow:
    """One deadline of a case with the working days left (``None`` once it no longer runs)."""

    key: str  # acceptance | promised | legal | step
    due: dt.datetime | None
    remaining: int | None
    passed: bool
    problem: str = ""


def case_deadline_rows(case: Case) -> list[DeadlineRow]:
    """The acceptance, promised, legal and current-step deadlines, each with its remaining working days.

    A deadline stops running once what it bounds has happened (acceptance once accepted, the
    decision limits once decided, everything once the case is closed). A year missing from the
    calendar shows as the row's ``problem``, never as an error.
    """
    from sanji.calendar.selectors import work_calendar
    from sanji.calendar.workdays import CalendarNotConfigured, remaining_workdays

    now = clock.now()
    today = clock.today()
    open_ = case.state in OPEN_STATES
    running = {
        "acceptance": open_ and case.accepted_at is None,
        "promised": open_ and case.accepted_at is not None and case.decided_at is None,
        "legal": open_ and case.accepted_at is not None and case.decided_at is None,
        "step": open_,
    }
    dues = {
        "acceptance": case.acceptance_due,
        "promised": case.promised_due,
        "legal": case.legal_due,
        "step": case.step_due,
    }
    calendar = None
    rows = []
    for key, due in dues.items():
        remaining: int | None = None
        problem = ""
        if due is not None and running[key]:
            calendar = calendar or work_calendar()
            try:
                remaining = remaining_workdays(calendar, today, due.astimezone(clock.CITY_TZ).date())
            except CalendarNotConfigured as exc:
                problem = exc.condition
        elif due is None and running[key] and case.calendar_problem:
            problem = case.calendar_problem
        rows.append(
            DeadlineRow(
                key=key,
                due=due,
                remaining=remaining,
                passed=due is not None and running[key] and due < now,
                problem=problem,
            )
        )
    return rows


def case_stages(case: Case) -> list[list[CaseStep]]:
    """The case's steps grouped by order: a stage of several steps is a parallel (joint) stage."""
    stages: dict[int, list[CaseStep]] = {}
    for step in case_steps(case):
        stages.setdefault(step.order, []).append(step)
    return [stages[k] for k in sorted(stages)]


def unit_names(ids: set[int | None]) -> dict[int, str]:
    """Names of the units events were recorded in (one query)."""
    wanted = {i for i in ids if i is not None}
    return dict(Unit.objects.filter(pk__in=wanted).values_list("pk", "name")) if wanted else {}


@dataclass(frozen=True, slots=True)
class CaseDetail:
    """Everything the case page shows."""

    case: Case
    events: list[CaseEvent]
    stages: list[list[CaseStep]]
    attachments: list[Attachment]
    actions: list[str]
    deadlines: list[DeadlineRow]
    units: dict[int, str]
    materials: list[str]
    required_materials: list[str] = field(default_factory=list)

    @property
    def materials_received(self) -> list[str]:
        """The case's materials that are in: ticked as received at the window (接件) or uploaded
        (online, scanned, or carried by a supplement), in the catalogue's order."""
        received = {a.material_name for a in self.attachments}
        for event in self.events:
            if event.action == "receive":
                received.update(str(m) for m in event.data.get("materials_received") or [])
        return [m for m in self.materials if m in received]

    @property
    def missing_materials(self) -> list[str]:
        """Required materials not in yet (:attr:`materials_received`): what a correction notice
        (一次性告知) suggests asking for."""
        received = set(self.materials_received)
        return [m for m in self.required_materials if m not in received]

    @property
    def working_deadline(self) -> WorkingDeadline:
        """The deadline the case's remaining working days count to (what the portal shows them with)."""
        return case_working_deadline(self.case, now=clock.now())

    @property
    def last_correction(self) -> CaseEvent | None:
        found = [e for e in self.events if e.action == "request_correction"]
        return found[-1] if found else None

    @property
    def notice_items(self) -> list[str]:
        """What the latest correction notice (一次性告知) asks for: a supplement answers each."""
        last = self.last_correction
        return [str(i) for i in last.data.get("missing_items") or []] if last is not None else []


def case_materials(case: Case, *, required_only: bool = False) -> list[str]:
    """The names of the materials of the flow version the case started with, in order."""
    from sanji.catalog.models import Material

    rows = Material.objects.filter(flow_version_id=case.flow_version_id)
    if required_only:
        rows = rows.filter(required=True)
    return list(rows.order_by("order", "id").values_list("name", flat=True))


def case_detail_for(actor: Actor, case_id: int) -> CaseDetail:
    """The case page's data for a case the actor may see (else :class:`NotFound`)."""
    case = case_get_for(actor, case_id)
    events = case_history(case)
    return CaseDetail(
        case=case,
        events=events,
        stages=case_stages(case),
        attachments=case_attachments(case),
        actions=case_allowed_actions(actor, case),
        deadlines=case_deadline_rows(case),
        units=unit_names({e.unit_id for e in events}),
        materials=case_materials(case),
        required_materials=case_materials(case, required_only=True),
    )


# --- the window's receive page -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ApplicantPrefill:
    """What the receive page fills in from an ID number: a registered applicant or an earlier case."""

    id_number: str
    masked: str
    name: str = ""
    phone: str = ""
    user_id: int | None = None

    @property
    def registered(self) -> bool:
        return self.user_id is not None


def applicant_lookup(actor: Actor, id_number: str) -> ApplicantPrefill:
    """Look an applicant up by ID number at a window (the number is validated with python-stdnum).

    A registered applicant (portal account) is found through the blind index of the number; else the
    name and phone of the newest case of that applicant the actor may see are offered.
    """
    from django.contrib.auth import get_user_model

    from sanji.cases.services import applicant_id_parse, applicant_index

    if not actor.has_role(*policies.RECEIVER_ROLES):
        from sanji.core.errors import Forbidden

        raise Forbidden(_("只有窗口受理员和社区工作人员可以查询申请人。"))
    ident = applicant_id_parse(id_number)
    index = applicant_index(ident.number)
    user = (
        get_user_model()
        .objects.filter(id_number_index=index, is_active=True, is_system_account=False)
        .only("pk", "full_name", "phone")
        .first()
    )
    if user is not None:
        return ApplicantPrefill(
            ident.number, ident.masked, name=user.full_name, phone=user.phone, user_id=user.pk
        )
    earlier = (
        policies.scope(actor, Case.objects.filter(applicant_id_index=index))
        .order_by("-created_at")
        .values("applicant_name", "applicant_phone")
        .first()
    )
    if earlier is not None:
        return ApplicantPrefill(
            ident.number, ident.masked, name=earlier["applicant_name"], phone=earlier["applicant_phone"]
        )
    return ApplicantPrefill(ident.number, ident.masked)


def receivable_matters(actor: Actor) -> list[Matter]:
    """Matters the actor's unit receives: accepted at its level and, for a department window, of its line."""
    from sanji.catalog.selectors import matter_list
    from sanji.orgs.models import LEVEL_DEPTH

    if actor.unit_id is None:
        return []
    unit = Unit.objects.filter(pk=actor.unit_id).select_related("department").first()
    if unit is None:
        return []
    depth = len([c for c in unit.region_path.split("/") if c]) - 1
    level = next(str(lv) for lv, d in LEVEL_DEPTH.items() if d == depth)
    kind = unit.department.kind if unit.department is not None else None
    return list(matter_list(level=level, department_kind=kind))


def matter_for_receipt(code: str) -> tuple[Matter, list[str]] | None:
    """A listed matter and its current materials' names (None when not listed)."""
    from sanji.catalog.selectors import materials_for, matter_get

    try:
        matter = matter_get(code)
    except NotFound:
        return None
    if matter.current_version is None:
        return None
    return matter, [m.name for m in materials_for(matter.current_version)]


# --- the portal --------------------------------------------------------------------------------


def online_matters() -> models.QuerySet[Matter]:
    """Listed matters that may be applied for online (网上申报)."""
    from sanji.catalog.selectors import matter_list

    return matter_list().filter(online=True)


@dataclass(frozen=True, slots=True)
class PortalAccount:
    """What the apply page shows of the signed-in person: the applicant when they apply for themselves."""

    name: str
    id_masked: str
    phone: str
    id_registered: bool


def portal_account(actor: Actor) -> PortalAccount:
    """The signed-in person's own name, masked ID number and phone, as their account holds them."""
    from django.contrib.auth import get_user_model

    if actor.user_id is None:
        raise NotFound()
    row = (
        get_user_model()
        .objects.filter(pk=actor.user_id)
        .values("full_name", "id_number_masked", "id_number_index", "phone")
        .first()
    )
    if row is None:
        raise NotFound()
    return PortalAccount(
        name=row["full_name"],
        id_masked=row["id_number_masked"],
        phone=row["phone"],
        id_registered=bool(row["id_number_index"]),
    )


#: How a catalogue names the authorisation letter (授权委托书) an agent (代办人) hands in.
AUTHORISATION_LETTER = "委托书"


def authorisation_material(matter: Matter) -> str:
    """The matter's material that is an authorisation letter (授权委托书), or "" when it lists none."""
    from sanji.catalog.selectors import materials_for

    if matter.current_version is None:
        return ""
    return next((m.name for m in materials_for(matter.current_version) if AUTHORISATION_LETTER in m.name), "")


def online_accept_level(matter: Matter) -> str | None:
    """The level (``RegionLevel``) whose window accepts the matter's online applications: the level
    of its flow's acceptance step (None: the matter's flow takes no online application)."""
    from sanji.catalog.models import FlowStep

    if matter.current_version_id is None:
        return None
    return (
        FlowStep.objects.filter(flow_version_id=matter.current_version_id, code=StepCode.ACCEPT)
        .order_by("order")
        .values_list("level", flat=True)
        .first()
    )


def apply_regions(accept_level: str | None = None) -> list[Region]:
    """Places an online applicant may apply at, in tree order: districts and townships, those at or
    below ``accept_level`` (a matter accepted at the township windows is applied for at a township;
    one accepted at the district may be applied for at the district or any of its townships)."""
    levels = [RegionLevel.DISTRICT, RegionLevel.TOWNSHIP]
    if accept_level in LEVEL_DEPTH:
        depth = LEVEL_DEPTH[RegionLevel(accept_level)]
        levels = [lv for lv in levels if LEVEL_DEPTH[lv] >= depth] or [RegionLevel(accept_level)]
    return list(Region.objects.filter(level__in=levels).order_by("path"))


def own_case_for(actor: Actor, case_id: int) -> CaseDetail:
    """The portal's view of one of the applicant's own cases (anybody else's: :class:`NotFound`)."""
    if actor.user_id is None:
        raise NotFound()
    case = get_in_scope(
        Case.objects.filter(policies.own_q(actor.user_id)).select_related(
            "matter", "flow_version", "accepting_unit", "current_unit", "agent"
        ),
        pk=case_id,
    )
    events = case_history(case)
    return CaseDetail(
        case=case,
        events=events,
        stages=case_stages(case),
        attachments=case_attachments(case),
        actions=case_allowed_actions(actor, case),
        deadlines=case_deadline_rows(case),
        units=unit_names({e.unit_id for e in events}),
        materials=case_materials(case),
        required_materials=case_materials(case, required_only=True),
    )


# --- printed notices ---------------------------------------------------------------------------

NOTICE_KINDS: tuple[str, ...] = ("receipt", "acceptance", "correction", "refusal", "decision")
_NOTICE_EVENTS: dict[str, tuple[str, ...]] = {
    "receipt": ("receive", "submit"),
    "acceptance": ("accept", "deem_accept"),
    "correction": ("request_correction",),
    "refusal": ("refuse",),
    "decision": ("approve", "deny"),
}


@dataclass(frozen=True, slots=True)
class Notice:
    """What one printed notice needs: the case, the event it records and the issuing unit's name."""

    kind: str
    case: Case
    event: CaseEvent
    unit_name: str
    items: list[str] = field(default_factory=list)
    materials_received: list[str] = field(default_factory=list)

    @property
    def approved(self) -> bool:
        return self.event.action == "approve"

    @property
    def licensing(self) -> bool:
        """A 行政许可 matter: its notices cite 《行政许可法》 (Arts. 32, 38); no other matter's do."""
        return matter_is_licensing(self.case.matter)

    @property
    def benefit(self) -> bool:
        """A 行政给付 matter: its decision is titled a grant (准予给付 / 不予给付)."""
        return self.case.matter.matter_type == MatterType.BENEFIT


def matter_is_licensing(matter: Matter) -> bool:
    """Is the matter an administrative licence (行政许可)? Only those notices cite the Licensing Law."""
    return matter.matter_type == MatterType.LICENSING


def notices_available(events: list[CaseEvent]) -> list[str]:
    """The notice kinds a case's history allows printing, in :data:`NOTICE_KINDS` order (the pages
    label them with ``notice_label``: a decision is a 行政许可决定书 only for a licence)."""
    done = {e.action for e in events}
    return [k for k in NOTICE_KINDS if done & set(_NOTICE_EVENTS[k])]


def _issuer_name(unit_id: int | None) -> str:
    """Who issues a notice: the department a window belongs to (the administrative organ), else the
    unit with its centre (a community station, a township centre)."""
    if unit_id is None:
        return ""
    unit = Unit.objects.filter(pk=unit_id).select_related("department", "parent").first()
    if unit is None:
        return ""
    if unit.department is not None:
        return unit.department.name
    if unit.parent is not None and unit.kind == UnitKind.WINDOW:
        return f"{unit.parent.name}{unit.name}"
    return unit.name


def case_notice_for(actor: Actor, case_id: int, kind: str) -> Notice:
    """The latest event of ``kind``'s notice on a case the actor may see (else :class:`NotFound`)."""
    if kind not in _NOTICE_EVENTS:
        raise NotFound()
    case = case_get_for(actor, case_id)
    event = CaseEvent.objects.filter(case=case, action__in=_NOTICE_EVENTS[kind]).order_by("-seq").first()
    if event is None:
        raise NotFound()
    name = ""
    if kind == "decision":
        step = (
            CaseStep.objects.filter(case=case, order=event.step_order or 0, department__isnull=False)
            .select_related("department")
            .first()
        )
        name = step.department.name if step is not None and step.department is not None else ""
    if not name:
        name = _issuer_name(event.unit_id) or _issuer_name(case.accepting_unit_id)
    received: list[str] = []
    if kind == "receipt":
        received = [str(m) for m in event.data.get("materials_received") or []]
    return Notice(
        kind=kind,
        case=case,
        event=event,
        unit_name=name,
        items=[str(i) for i in event.data.get("missing_items") or []],
        materials_received=received,
    )
