"""Reads of cases, always scoped by the actor (:mod:`sanji.cases.policies`).

Worklists page with LIMIT/OFFSET over the worklist indexes and fetch one row more than a page to
know whether a next page exists: no COUNT(*) over the whole scope on every page.
"""

from __future__ import annotations

import datetime as dt
import hmac
from dataclasses import dataclass, field
from typing import Literal

from django.core.cache import cache
from django.db import models
from django.db.models import F, Prefetch, Q

from sanji.cases import policies
from sanji.cases.models import Attachment, Case, CaseEvent, CaseStep
from sanji.cases.services import query_code_hash
from sanji.cases.transitions import DECIDED, OPEN_STATES, State, allowed_actions
from sanji.core import clock
from sanji.core.actors import Actor
from sanji.core.authz import get_in_scope
from sanji.core.errors import NotFound, SanjiError
from sanji.core.roles import Role
from sanji.orgs.models import Unit, UnitKind

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

_TO_RECEIVE = (State.SUBMITTED, State.RECEIVED, State.CORRECTION_REQUESTED, State.REPORTED_UP)
_TO_HANDLE = (State.HANDLING, State.SUSPENDED, State.APPROVED, State.DENIED, State.DELIVERED)


@dataclass(frozen=True, slots=True)
class CasePage:
    items: list[Case]
    page: int
    page_size: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.page > 1


def at_my_place_q(actor: Actor) -> Q:
    """Cases whose *current* place the actor's staff grants reach (where they would act next)."""
    q = Q(pk__in=[])
    for grant in actor.grants_for(*policies.VIEWER_ROLES - {Role.SUPERVISOR, Role.ANALYST}):
        units = Unit.objects.filter(region_path__startswith=grant.region_path)
        if grant.role in (Role.WINDOW_CLERK, Role.COMMUNITY_WORKER):
            # Windows and stations: what is at a window; department offices' steps are not theirs.
            units = units.exclude(kind=UnitKind.DEPARTMENT_OFFICE)
        part = Q(current_unit_id__in=units.values("pk"))
        if grant.department_id is not None:
            part &= Q(current_department_id=grant.department_id) | Q(
                pk__in=CaseStep.objects.filter(department_id=grant.department_id, state="active").values(
                    "case_id"
                )
            )
        q |= part
    return q


def _base(actor: Actor) -> models.QuerySet[Case]:
    return policies.scope(actor, Case.objects.all()).select_related(
        "matter", "current_unit", "accepting_unit"
    )


def case_list_for(actor: Actor, *, worklist: str = "all", page: int = 1, page_size: int = 50) -> CasePage:
    """One page of a worklist: ``due_soon`` by remaining working days, the others by promised deadline."""
    if worklist not in WORKLISTS:
        raise SanjiError(f"Unknown worklist {worklist!r}.")
    page = max(1, int(page))
    page_size = max(1, min(int(page_size), MAX_PAGE_SIZE))
    queryset = _base(actor)
    order: list[models.OrderBy | str] = [F("promised_due").asc(nulls_last=True), "id"]
    if worklist == "to_receive":
        queryset = queryset.filter(at_my_place_q(actor), state__in=_TO_RECEIVE)
    elif worklist == "to_handle":
        queryset = queryset.filter(at_my_place_q(actor), state__in=_TO_HANDLE)
    elif worklist == "due_soon":
        queryset = queryset.filter(
            state__in=OPEN_STATES, remaining_days__gte=0, remaining_days__lte=DUE_SOON_DAYS
        )
        order = ["remaining_days", F("promised_due").asc(nulls_last=True), "id"]
    elif worklist == "overdue":
        queryset = queryset.filter(state__in=OPEN_STATES).filter(
            Q(remaining_days__lt=0) | Q(promised_due__lt=clock.now())
        )
    elif worklist == "reported_up":
        queryset = queryset.filter(state=State.REPORTED_UP)
    elif worklist == "returned":
        queryset = queryset.filter(at_my_place_q(actor), state__in=[*list(DECIDED), State.RETURNED])
    else:
        order = ["-created_at", "-id"]
    offset = (page - 1) * page_size
    rows = list(queryset.order_by(*order)[offset : offset + page_size + 1])
    return CasePage(items=rows[:page_size], page=page, page_size=page_size, has_next=len(rows) > page_size)


def case_list_of_applicant(actor: Actor) -> models.QuerySet[Case]:
    """The signed-in applicant's own cases, newest first."""
    if actor.user_id is None:
        return Case.objects.none()
    return (
        Case.objects.filter(applicant_id=actor.user_id)
        .select_related("matter")
        .order_by("-created_at", "-id")
    )


def case_get_for(actor: Actor, case_id: int) -> Case:
    """One case the actor may see, or :class:`NotFound`."""
    return get_in_scope(
        _base(actor).select_related("flow_version", "current_department", "accepting_unit__region"),
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
    """Actions the table allows now that the actor might perform (for buttons; the service re-checks)."""
    steps = [s for s in case_steps(case) if s.order == case.current_step_order and s.state == "active"]
    dept_ids = [case.current_department_id, *(s.department_id for s in steps)]
    return [
        a
        for a in allowed_actions(case.state)
        if policies.can_act(
            actor, case, a, current_region_path=case.current_unit.region_path, department_ids=dept_ids
        )
    ]


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
        raise TooManyQueries("Too many attempts; try again later.")
    case = Case.objects.filter(number=number.strip()).select_related("matter").first()
    expected = case.query_code_hash if case is not None else _DUMMY_HASH
    ok = hmac.compare_digest(expected, query_code_hash(query_code)) and case is not None
    if not ok or case is None:
        cache.set(key, failures + 1, PUBLIC_QUERY_WINDOW)
        raise NotFound("No case with this number and query code.")
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
