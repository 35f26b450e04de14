"""Writes to cases. Every channel (window page, portal, API, CLI, file drop) goes through these.

:func:`case_receive` creates a case at a window or station; :func:`case_create_draft` an online
application (网上申报) that the applicant submits with ``case_act(action="submit")``; every other change
is :func:`case_act`: lock the row, check the version, the transitions table and the policy, append the
event, move the steps, recompute the deadlines from the event log, record the audit entry — one
transaction. After commit, :func:`_after_commit` is the entry point of electronic supervision.

Routing across the three levels follows the flow version the case started with
(:mod:`sanji.catalog.flows`): the case enters at the first stage of its receiving level; a stage marked
``report_up`` hands it to the next (higher) level's counterpart department, whose staff ``take_over``;
after the final decision (决定) the result comes back down (``return_down``) to the window of the
delivery (送达) stage.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import secrets
import time
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils.translation import gettext as _
from stdnum.cn import uscc

from sanji.audit.services import record, record_in
from sanji.calendar.selectors import work_calendar
from sanji.cases import deadlines, files, policies
from sanji.cases.models import (
    Attachment,
    Case,
    CaseDepartment,
    CaseEvent,
    CaseSequence,
    CaseState,
    CaseStep,
    Channel,
    StepState,
)
from sanji.cases.transitions import (
    ACTION_LABELS,
    FINAL_STATES,
    TABLE,
    Action,
    State,
    allowed_actions,
    check,
    illegal,
)
from sanji.catalog.models import FlowStep, FlowVersion, Material, Matter, StepCode
from sanji.core import clock, crypto, durable, hooks, idnumber, prepared
from sanji.core.actors import Actor
from sanji.core.authz import require
from sanji.core.errors import Conflict, Forbidden, IllegalTransition, NotFound, ValidationFailed
from sanji.core.rekey import RekeyCount, rekey_model
from sanji.core.roles import Role
from sanji.orgs.models import LEVEL_DEPTH, Department, RegionLevel, Unit, UnitKind

QUERY_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
QUERY_CODE_LENGTH = 8
QUERY_CODE_PURPOSE = "case-query"
APPLICANT_INDEX_PURPOSE = "applicant"

#: Fields stored in their own event columns; everything else given goes to ``data``.
_TEXT_FIELDS = ("opinion", "reason", "legal_basis")


# --- small pure helpers ------------------------------------------------------------------------


def query_code_hash(code: str) -> str:
    """Keyed digest of a query code (an 8-character code is too short for a plain hash)."""
    return crypto.blind_index(code.strip().upper(), purpose=QUERY_CODE_PURPOSE)


def new_query_code() -> str:
    return "".join(secrets.choice(QUERY_CODE_ALPHABET) for _ in range(QUERY_CODE_LENGTH))


@dataclass(frozen=True, slots=True)
class ApplicantId:
    """A validated ID: 18-digit citizen ID (居民身份证) or unified social credit code (统一社会信用代码)."""

    number: str
    kind: str  # "ric" | "uscc"

    @property
    def masked(self) -> str:
        n = self.number
        return f"{n[:6]}{'*' * (len(n) - 10)}{n[-4:]}"


def applicant_id_parse(value: str) -> ApplicantId:
    """Validate an ID number (GB 11643, old 15-digit upgraded) or a USCC (GB 32100)."""
    raw = value.strip().upper().replace(" ", "")
    try:
        # Citizen IDs: GB 11643 with the address code checked against every GB/T 2260 code, old
        # and current (python-stdnum's own check refuses people born before their county's code).
        return ApplicantId(idnumber.parse(value, today=clock.today()).number, "ric")
    except idnumber.IdNumberError:
        pass
    if uscc.is_valid(raw):
        return ApplicantId(uscc.compact(raw), "uscc")
    raise ValidationFailed(
        _("证件号码不是有效的公民身份号码或统一社会信用代码。"),
        details=[{"field": "applicant_id_number", "reason": "invalid"}],
    )


def applicant_index(number: str) -> str:
    return crypto.blind_index(number, purpose=APPLICANT_INDEX_PURPOSE)


def _level_of(path: str) -> str:
    depth = len([c for c in path.split("/") if c]) - 1
    return {v: k for k, v in LEVEL_DEPTH.items()}[depth]


def _codes(path: str) -> list[str]:
    return [c for c in path.split("/") if c]


# --- places: departments and units for a stage -------------------------------------------------


def _department_for(kind: str, region_path: str, level: str) -> Department | None:
    """The department of line ``kind`` serving ``level`` on ``region_path`` (nearest at or above it)."""
    codes = _codes(region_path)[: LEVEL_DEPTH[RegionLevel(level)] + 1]
    found = {d.region.code: d for d in _departments_of_lines([kind], codes)}
    for code in reversed(codes):
        if code in found:
            return found[code]
    return None


def _region_path_at(path: str, level: str) -> str:
    return "".join(f"{c}/" for c in _codes(path)[: LEVEL_DEPTH[RegionLevel(level)] + 1])


def _window_at(case: Case, level: str, department: Department | None) -> Unit:
    """Where applications and results are handled at ``level``: the window of the line there."""
    if _level_of(case.accepting_unit.region_path) == level:
        return case.accepting_unit
    handled = next((s for s in _steps_of(case) if s.unit_id is not None and s.flow_step.level == level), None)
    if handled is not None and handled.unit is not None:
        return handled.unit
    region_path = _region_path_at(case.region_path, level)
    units = Unit.objects.filter(active=True).order_by("code")
    unit: Unit | None
    if department is not None:
        unit = _first(
            "cases.window_of_line",
            lambda path, d: units.filter(region_path=path, kind=UnitKind.WINDOW, department_id=d)[:1],
            region_path,
            department.pk,
        ) or _first(
            "cases.unit_of_line",
            lambda path, d: units.filter(region_path=path, department_id=d)[:1],
            region_path,
            department.pk,
        )
        if unit is not None:
            return unit
    centres = (UnitKind.SERVICE_CENTRE, UnitKind.TOWNSHIP_CENTRE)
    unit = _first(
        "cases.centre_at",
        lambda path: units.filter(region_path=path, kind__in=centres)[:1],
        region_path,
    )
    return unit or case.accepting_unit


def _first(key: str, build: Any, *args: Any) -> Any:
    """The first row of a prepared query (:func:`sanji.core.prepared.fetch`), or None."""
    rows = prepared.fetch(key, build, *args)
    return rows[0] if rows else None


def _departments_of_lines(kinds: Sequence[str], codes: Sequence[str]) -> list[Department]:
    """The departments of the lines ``kinds`` in the regions ``codes`` (with their region)."""
    n = len(kinds)
    return prepared.fetch(
        ("cases.departments_of_lines", n, len(codes)),
        lambda *a: Department.objects.filter(kind__in=a[:n], region__code__in=a[n:]).select_related("region"),
        *kinds,
        *codes,
    )


def _office_of(case: Case, department: Department | None, level: str) -> Unit:
    """The department office handling review/decision steps; the level's window when there is none."""
    if department is not None:
        unit: Unit | None = _first(
            "cases.office_of",
            lambda d: Unit.objects.filter(
                department_id=d, kind=UnitKind.DEPARTMENT_OFFICE, active=True
            ).order_by("code")[:1],
            department.pk,
        )
        if unit is not None:
            return unit
    return _window_at(case, level, department)


_WINDOW_CODES = frozenset({StepCode.RECEIVE, StepCode.ACCEPT, StepCode.DELIVER})

#: Roles that work at a window or station: a step the flow gives one of them (an 即办件's decision
#: on the spot, say) is handled at the window, whatever its code.
_WINDOW_ROLES = frozenset({Role.WINDOW_CLERK, Role.COMMUNITY_WORKER})


def _place_of_stage(case: Case, steps: Sequence[CaseStep]) -> tuple[Unit, Department | None]:
    head = steps[0]
    level = head.flow_step.level
    department = (
        head.department if len(steps) == 1 else _department_for(case.department_kind, case.region_path, level)
    )
    if head.flow_step.code in _WINDOW_CODES or head.flow_step.role in _WINDOW_ROLES:
        return _window_at(case, level, department), department
    return _office_of(case, department, level), department


# --- numbering ---------------------------------------------------------------------------------


#: Case numbers stand in for this until :func:`_number` gives the real one in the same transaction.
_PROVISIONAL = "~"


def _provisional_number() -> str:
    return f"{_PROVISIONAL}{secrets.token_hex(12)}"


def _number(case: Case, region_code: str, day: dt.date) -> None:
    """Give the case, already inserted under a provisional number, its number
    ``<region code>-<YYYYMMDD>-<NNNN>``, from the per-day counter row.

    The counter row is incremented in place, and so locked until commit, so numbers never repeat
    and have no gaps. Every receipt in the region that day waits for that lock: the case is
    numbered at the end of its transaction, just before its audit entry (which every write waits
    for anyway), so that the wait does not cover the case's other inserts. Once the day's row
    exists, this is one statement on PostgreSQL (counter and case together) and two on SQLite."""
    counter = connection.ops.quote_name(CaseSequence._meta.db_table)
    table = connection.ops.quote_name(Case._meta.db_table)
    prefix = f"{region_code}-{day:%Y%m%d}-"
    day_value = connection.ops.adapt_datefield_value(day)
    bump = f'UPDATE {counter} SET "last" = "last" + 1 WHERE region_code = %s AND day = %s RETURNING "last"'  # noqa: S608
    for _attempt in range(2):
        if connection.vendor == "postgresql":
            # Names are the models' own tables; values are parameters.
            sql = (
                f"WITH n AS ({bump}) UPDATE {table} SET number = %s || lpad(n.last::text, "  # noqa: S608
                f"greatest(4, length(n.last::text)), '0') FROM n WHERE {table}.id = %s RETURNING number"
            )
            rows = prepared.query(sql, [region_code, day_value, prefix, case.pk])
            if rows:
                case.number = str(rows[0][0])
                return
        else:
            rows = prepared.query(bump, [region_code, day_value])
            if rows:
                case.number = f"{prefix}{int(rows[0][0]):04d}"
                prepared.update(Case, case.pk, {"number": case.number})
                return
        try:
            with transaction.atomic():
                CaseSequence.objects.create(region_code=region_code, day=day, last=0)
        except IntegrityError:  # another transaction created it first
            pass
    raise Conflict(_("办件编号暂时无法分配，请重试。"))


# --- creation ----------------------------------------------------------------------------------


def _matter_for(matter_code: str) -> tuple[Matter, FlowVersion, list[FlowStep]]:
    matter: Matter | None = _first(
        "cases.matter_for",
        lambda code: Matter.objects.filter(code=code, active=True).select_related("current_version")[:1],
        matter_code.strip(),
    )
    if matter is None or matter.current_version is None:
        raise NotFound(_("没有在用的事项 %(code)s。") % {"code": matter_code})
    version = matter.current_version
    steps: list[FlowStep] = prepared.fetch(
        "cases.flow_steps",
        lambda v: FlowStep.objects.filter(flow_version_id=v).order_by("order", "id"),
        version.pk,
    )
    return matter, version, steps


def _entry(steps: Sequence[FlowStep], level: str | None) -> int | None:
    from sanji.catalog.flows import StepSpec, entry_order

    specs = [StepSpec(s.order, s.code, s.name, s.level, s.role, s.limit_days) for s in steps]
    return entry_order(specs, level)


def _departments_near(kinds: set[str], region_path: str) -> dict[tuple[str, str], Department | None]:
    """For each line in ``kinds`` and each level: its department serving that level on ``region_path``
    (nearest at or above it), as :func:`_department_for` finds it, in one query."""
    codes = _codes(region_path)
    found: dict[tuple[str, str], Department] = {
        (d.kind, d.region.code): d for d in _departments_of_lines(sorted(kinds), codes)
    }
    result: dict[tuple[str, str], Department | None] = {}
    for kind in kinds:
        for level, depth in LEVEL_DEPTH.items():
            near = codes[: depth + 1]
            result[(kind, level)] = next(
                (found[(kind, c)] for c in reversed(near) if (kind, c) in found), None
            )
    return result


def _build_steps(
    case: Case, steps: Sequence[FlowStep], entry: int
) -> dict[tuple[str, str], Department | None]:
    """The case's steps from ``entry`` on, in memory (saved by :func:`_insert_steps`); answers the
    departments of the case's lines near its region by (line, level), as looked up for them."""
    kinds = {case.department_kind, *(s.department_kind or case.department_kind for s in steps)}
    near = _departments_near(kinds, case.region_path)
    rows = [
        CaseStep(
            order=step.order,
            flow_step=step,
            department=near[(step.department_kind or case.department_kind, step.level)],
        )
        for step in steps
        if step.order >= entry
    ]
    setattr(case, _STEPS, rows)
    setattr(case, _DIRTY, {})
    return near


def _insert_steps(case: Case) -> None:
    """Insert the steps built for a new case (after the case itself) and the lines taking part."""
    rows = _steps_of(case)
    for row in rows:
        row.case = case
    prepared.insert_many(rows)
    setattr(case, _DIRTY, {})
    kinds = {case.department_kind, *(r.flow_step.department_kind or case.department_kind for r in rows)}
    prepared.insert_many([CaseDepartment(case=case, department_kind=k) for k in sorted(kinds)])


def _actor_unit(actor: Actor) -> Unit:
    if actor.unit_id is None:
        raise Forbidden(_("您没有所属的办理单位。"))
    unit: Unit | None = _first(
        "cases.actor_unit",
        lambda pk: Unit.objects.filter(pk=pk, active=True).select_related("region", "department")[:1],
        actor.unit_id,
    )
    if unit is None:
        raise Forbidden(_("您所在的单位已停用。"))
    return unit


def case_receive(
    *,
    actor: Actor,
    matter_code: str,
    applicant_name: str,
    applicant_id_number: str,
    applicant_phone: str = "",
    applicant_user_id: int | None = None,
    title: str = "",
    form_data: Mapping[str, Any] | None = None,
    materials_received: Sequence[str] = (),
    fee_charged: Decimal | str | None = None,
) -> tuple[Case, str]:
    """接件: a walk-in (or community-station, or department-system) application, created in ``received``.

    The case is received at the actor's unit (its terminal's unit). Answers the case and its query
    code (查询码), which is shown to the applicant once and stored only as a keyed hash.
    """
    check(Action.RECEIVE, None)
    if not actor.has_role(*policies.RECEIVER_ROLES):
        raise Forbidden(_("只有窗口受理员、社区工作人员和部门系统可以接件。"))
    unit = _actor_unit(actor)
    if not policies.reaching_grants(
        actor, policies.RECEIVER_ROLES, region_path=unit.region_path, department_ids=[unit.department_id]
    ):
        raise Forbidden(_("您的角色不覆盖本单位。"))
    name = applicant_name.strip()
    if not name:
        raise ValidationFailed(
            _("请填写申请人姓名或名称。"), details=[{"field": "applicant_name", "reason": "required"}]
        )
    ident = applicant_id_parse(applicant_id_number)
    matter, version, steps = _matter_for(matter_code)
    if (
        unit.department_id is not None
        and unit.department is not None
        and unit.department.kind != version.department_kind
    ):
        raise ValidationFailed(
            _("本窗口不受理其他条线的事项。"),
            details=[{"field": "matter_code", "reason": "other_line"}],
        )
    level = _level_of(unit.region_path)
    entry = _entry(steps, level)
    if level not in version.accepting_levels or entry is None:
        raise ValidationFailed(
            _("事项 %(code)s 不在%(level)s级受理。")
            % {"code": matter.code, "level": RegionLevel(level).label},
            details=[{"field": "matter_code", "reason": "level"}],
        )
    fee = _fee(fee_charged)
    channel = (
        Channel.API
        if actor.channel == "api"
        else Channel.COMMUNITY
        if unit.kind == UnitKind.COMMUNITY_STATION
        else Channel.WINDOW
    )
    now = clock.now()
    code = new_query_code()
    # Everything but the numbering is worked out before the write transaction (on SQLite, BEGIN
    # IMMEDIATE takes the database's one write lock): the case, its steps, its place and deadlines.
    case = Case(
        query_code_hash=query_code_hash(code),
        matter=matter,
        flow_version=version,
        matter_kind=version.kind,
        applicant_id=applicant_user_id,
        applicant_name=name[:100],
        applicant_id_encrypted=crypto.encrypt(ident.number),
        applicant_id_index=applicant_index(ident.number),
        applicant_id_masked=ident.masked,
        applicant_phone=applicant_phone.strip()[:20],
        title=(title.strip() or matter.name)[:200],
        form_data=dict(form_data or {}),
        channel=channel,
        state=State.RECEIVED,
        accepting_unit=unit,
        current_unit=unit,
        department_kind=version.department_kind,
        region_path=unit.region_path,
        created_at=now,
        received_at=now,
        fee_charged=fee,
    )
    near = _build_steps(case, steps, entry)
    case.current_department = near[(version.department_kind, level)]
    _activate(case, entry, now, actor=actor)
    _recompute(case, new=True)
    case.number = _provisional_number()
    with transaction.atomic():
        prepared.insert(case)
        _insert_steps(case)
        _number(case, unit.region.code, now.astimezone(clock.CITY_TZ).date())
        event = prepared.insert(
            _new_event(
                case,
                actor,
                seq=case.version,
                action=Action.RECEIVE,
                from_state="",
                to_state=State.RECEIVED,
                now=now,
                fields={"materials_received": list(materials_received), "channel": channel},
            )
        )
        _audit(actor, case, event)
        _schedule(case, event)
    return case, code


def _fee(value: Decimal | str | None) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        fee = Decimal(str(value))
    except InvalidOperation:
        raise ValidationFailed(
            _("收费金额须为数字。"), details=[{"field": "fee_charged", "reason": "number"}]
        ) from None
    if fee < 0:
        raise ValidationFailed(
            _("收费金额不能为负数。"), details=[{"field": "fee_charged", "reason": "range"}]
        )
    return fee


@dataclass(frozen=True, slots=True)
class OnlineApplicant:
    """Who an online application is for, and who filed it (:func:`online_applicant`)."""

    name: str
    id_index: str
    id_encrypted: str
    id_masked: str
    phone: str
    user_id: int | None  # the applicant's account, when they have one
    agent_id: int | None = None  # 代办: the account holder who applied for them
    agent_name: str = ""
    agent_relation: str = ""


def online_applicant(
    actor: Actor,
    *,
    on_behalf: bool = False,
    applicant_name: str = "",
    applicant_id_number: str = "",
    applicant_phone: str = "",
    agent_relation: str = "",
) -> OnlineApplicant:
    """The applicant of an online application by ``actor`` (who applies online).

    By default the signed-in person applies for themselves: the name and the ID number are their
    account's (registered with it), never typed in for somebody else — a number given must be the
    account's own. Applying for somebody else is 代办 and must be chosen (``on_behalf``): the
    applicant's name and ID number and the agent's relation to them or authorisation
    (``agent_relation``) are then required, and the agent is recorded apart from the applicant (whose
    account, if they have one, the application belongs to as well).
    """
    user_model = get_user_model()
    me = user_model.objects.filter(pk=actor.user_id).first() if actor.user_id is not None else None
    if me is None:
        raise Forbidden(_("只有已登录的申请人可以网上申报。"))
    number = applicant_id_number.strip()
    if not on_behalf:
        if not me.id_number_index:
            raise ValidationFailed(
                _("您的账号没有登记身份证号码，不能以本人名义网上申报。请到窗口办理，或选择“为他人代办”。"),
                details=[{"field": "applicant_id_number", "reason": "not_registered"}],
            )
        ident = applicant_id_parse(number) if number else None
        if ident is not None and applicant_index(ident.number) != me.id_number_index:
            raise ValidationFailed(
                _("证件号码不是您账号登记的身份证号码。为他人申请请选择“为他人代办”，并注明与申请人的关系。"),
                details=[{"field": "applicant_id_number", "reason": "not_account_holder"}],
            )
        name = me.full_name.strip() or applicant_name.strip()
        if not name:
            raise ValidationFailed(
                _("请填写申请人姓名。"), details=[{"field": "applicant_name", "reason": "required"}]
            )
        return OnlineApplicant(
            name=name[:100],
            id_index=me.id_number_index,
            id_encrypted=crypto.encrypt(ident.number) if ident is not None else "",
            id_masked=ident.masked if ident is not None else me.id_number_masked,
            phone=(applicant_phone.strip() or me.phone)[:20],
            user_id=me.pk,
        )
    name = applicant_name.strip()
    if not name:
        raise ValidationFailed(
            _("代办须填写申请人姓名。"), details=[{"field": "applicant_name", "reason": "required"}]
        )
    ident = applicant_id_parse(number)
    index = applicant_index(ident.number)
    if index == me.id_number_index:
        raise ValidationFailed(
            _("申请人是您本人，无须代办：请以本人名义申请。"),
            details=[{"field": "applicant_id_number", "reason": "self"}],
        )
    relation = agent_relation.strip()
    if not relation:
        raise ValidationFailed(
            _("代办须注明您与申请人的关系或所受委托。"),
            details=[{"field": "agent_relation", "reason": "required"}],
        )
    registered = (
        user_model.objects.filter(id_number_index=index, is_active=True, is_system_account=False)
        .values_list("pk", flat=True)
        .first()
    )
    return OnlineApplicant(
        name=name[:100],
        id_index=index,
        id_encrypted=crypto.encrypt(ident.number),
        id_masked=ident.masked,
        phone=applicant_phone.strip()[:20],
        user_id=registered,
        agent_id=me.pk,
        agent_name=me.full_name,
        agent_relation=relation[:200],
    )


def case_create_draft(
    *,
    actor: Actor,
    matter_code: str,
    region_code: str,
    applicant_name: str = "",
    applicant_id_number: str = "",
    applicant_phone: str = "",
    title: str = "",
    form_data: Mapping[str, Any] | None = None,
    on_behalf: bool = False,
    agent_relation: str = "",
) -> tuple[Case, str]:
    """网上申报: an applicant's draft, to be accepted at the matter's acceptance level for ``region_code``.

    ``region_code`` is where the applicant applies (their district or township). The applicant is
    the signed-in person, or with ``on_behalf`` the person they apply for as an agent (代办): see
    :func:`online_applicant`. Answers the draft and its query code. Everything is checked before the
    write transaction: a refusal writes nothing.
    """
    if not policies.can_apply_online(actor):
        raise Forbidden(_("只有已登录的申请人可以网上申报。"))
    applicant = online_applicant(
        actor,
        on_behalf=on_behalf,
        applicant_name=applicant_name,
        applicant_id_number=applicant_id_number,
        applicant_phone=applicant_phone,
        agent_relation=agent_relation,
    )
    matter, version, steps = _matter_for(matter_code)
    if not matter.online:
        raise ValidationFailed(
            _("事项 %(code)s 不能网上申报。") % {"code": matter.code},
            details=[{"field": "matter_code", "reason": "offline"}],
        )
    entry = _entry(steps, None)
    if entry is None:
        raise ValidationFailed(
            _("该事项的办理流程没有受理环节。"), details=[{"field": "matter_code", "reason": "flow"}]
        )
    accept_step = next(s for s in steps if s.order == entry)
    from sanji.orgs.models import Region

    region = Region.objects.filter(code=region_code.strip()).first()
    if region is None:
        raise ValidationFailed(_("没有这个地区。"), details=[{"field": "region_code", "reason": "unknown"}])
    depth = LEVEL_DEPTH[RegionLevel(accept_step.level)]
    if len(_codes(region.path)) < depth + 1:
        raise ValidationFailed(
            _("请选择受理层级或其下级的地区。"),
            details=[{"field": "region_code", "reason": "level"}],
        )
    place = _region_path_at(region.path, accept_step.level)
    department = _department_for(version.department_kind, place, accept_step.level)
    units = Unit.objects.filter(region_path=place, active=True)
    unit = (
        units.filter(kind=UnitKind.WINDOW, department=department).order_by("code").first()
        if department is not None
        else None
    ) or units.filter(kind__in=[UnitKind.SERVICE_CENTRE, UnitKind.TOWNSHIP_CENTRE]).order_by("code").first()
    if unit is None:
        raise ValidationFailed(
            _("该地区没有受理此事项的窗口。"), details=[{"field": "region_code", "reason": "no_window"}]
        )
    now = clock.now()
    code = new_query_code()
    with transaction.atomic():
        case = Case.objects.create(
            number=_provisional_number(),
            query_code_hash=query_code_hash(code),
            matter=matter,
            flow_version=version,
            matter_kind=version.kind,
            applicant_id=applicant.user_id,
            applicant_name=applicant.name,
            applicant_id_encrypted=applicant.id_encrypted,
            applicant_id_index=applicant.id_index,
            applicant_id_masked=applicant.id_masked,
            applicant_phone=applicant.phone,
            agent_id=applicant.agent_id,
            agent_relation=applicant.agent_relation,
            title=(title.strip() or matter.name)[:200],
            form_data=dict(form_data or {}),
            channel=Channel.ONLINE,
            state=State.DRAFT,
            accepting_unit=unit,
            current_unit=unit,
            current_department=department,
            department_kind=version.department_kind,
            region_path=unit.region_path,
            created_at=now,
        )
        _build_steps(case, steps, entry)
        _insert_steps(case)
        case.current_step_order = entry
        case.save(update_fields=["current_step_order"])
        _number(case, unit.region_path.rstrip("/").rsplit("/", 1)[-1], now.astimezone(clock.CITY_TZ).date())
        event = prepared.insert(
            _new_event(
                case,
                actor,
                seq=case.version,
                action="create_draft",
                from_state="",
                to_state=State.DRAFT,
                now=now,
                fields=_agent_fields(actor, applicant),
            )
        )
        record(
            actor=actor,
            action="cases.draft_created",
            target=case,
            region_path=case.region_path,
            data={
                "number": case.number,
                "event": event.seq,
                **({"agent": actor.username} if applicant.agent_id is not None else {}),
            },
        )
    return case, code


def _agent_fields(actor: Actor, applicant: OnlineApplicant) -> dict[str, Any]:
    """What the history records of an agent (代办人) applying for somebody else."""
    if applicant.agent_id is None:
        return {}
    return {
        "agent": actor.username,
        "agent_name": applicant.agent_name,
        "agent_relation": applicant.agent_relation,
    }


# --- the one path for every action -------------------------------------------------------------


def case_act(*, actor: Actor, case_id: int, action: str, expected_version: int, **fields: Any) -> Case:
    """Perform ``action`` on the case; every channel calls this.

    Raises :class:`NotFound` when the case is not visible to the actor, :class:`Conflict` when
    ``expected_version`` is stale (a concurrent change won), :class:`IllegalTransition` when the
    state (or the current step) does not allow the action, :class:`Forbidden` when the actor may
    see but not do it, :class:`ValidationFailed` for missing or bad fields.

    Answers the updated case (with its matter, units and flow version loaded), so callers need not
    read it again.

    Optimistic: the case (scoped) and its steps are read, and the whole change is worked out,
    before the write transaction; inside it, the case row is updated only if its version is still
    the one read (compare-and-set), then the steps, the event and the audit entry are written. A
    concurrent change in between bumped the version, so the update matches no row: Conflict, and
    nothing is written. Every input of the change is either the case row (guarded by its version)
    or a step or event that only a versioned change writes. On SQLite the write lock (BEGIN
    IMMEDIATE) is therefore held for a few statements, not for the work.
    """
    case = _case_for_change(actor, case_id)
    if case is None:
        raise NotFound()
    if case.version != expected_version:
        raise _stale(case, expected_version, case.version)
    if action == Action.RECEIVE or action not in TABLE:
        check(action, case.state)  # raises, naming the state and the allowed actions
    before = _columns_of(case)
    facts = policies.facts_for(actor, case)
    active = _stage(case, case.current_step_order or 0)
    dept_ids = [
        case.current_department_id,
        *(s.department_id for s in active if s.state == StepState.ACTIVE),
    ]
    if not policies.can_act(
        actor, case, action, current_region_path=case.current_unit.region_path, department_ids=dept_ids
    ):
        refused = Forbidden(
            _("您不能对此办件执行“%(action)s”。") % {"action": ACTION_LABELS.get(action, action)}
        )
        _audit_refusal(actor, case, action, refused)
        raise refused
    to_state = check(action, case.state, fields=fields, facts=facts)
    from_state = case.state
    now = clock.now()
    handler = _HANDLERS.get(action)
    step_order = case.current_step_order
    if handler is not None:
        try:
            handler(case, actor, active, fields, now)
        except Forbidden as refused:  # the step is somebody else's
            _audit_refusal(actor, case, action, refused)
            raise
    case.state = to_state
    if to_state in FINAL_STATES and case.completed_at is None:
        case.completed_at = now
    case.version += 1
    _recompute(case, new=False)
    changed = {name: getattr(case, name) for name in _changed(case, before)}
    # The case row only if its version is still the one read, then the steps, the event and the
    # audit entry: on PostgreSQL one statement (see sanji.core.prepared.Chain).
    chain = prepared.Chain()
    chain.guard(Case, case.pk, changed, where={"version": expected_version})
    _steps_save(case, chain)
    event = chain.insert(
        _new_event(
            case,
            actor,
            seq=case.version,
            action=action,
            from_state=from_state,
            to_state=to_state,
            now=now,
            fields=fields,
            step_order=step_order,
        )
    )
    _audit(actor, case, event, chain)
    if not chain.run():  # atomic: see Chain.run
        raise _stale(
            case,
            expected_version,
            Case.objects.filter(pk=case.pk).values_list("version", flat=True).first(),
        )
    _schedule(case, event)  # after the commit (at once when the chain committed by itself)
    return case


def _case_for_change(actor: Actor, case_id: int) -> Case | None:
    """The case ``case_id`` if it is within ``actor``'s scope (:func:`sanji.cases.policies.scope`),
    with what a transition reads of it. Every transition asks this, so the query is compiled once
    per actor shape (user, grants, channel: all the scope depends on) and only the id is bound."""
    base = Case.objects.select_related("matter", "flow_version", "accepting_unit", "current_unit")
    # Only grants that carry their line (as accounts builds them) make the scope a function of the
    # key alone; otherwise the policy looks the lines up, and the ORM compiles each time.
    if not all(g.department_id is None or g.department_kind for g in actor.grants):
        return policies.scope(actor, base.filter(pk=case_id), by_key=True).order_by().first()
    rows = prepared.fetch(
        ("cases.case_for_change", actor.user_id, actor.grants, actor.channel),
        lambda pk: policies.scope(actor, base.filter(pk=pk), by_key=True).order_by()[:1],
        case_id,
    )
    return rows[0] if rows else None


def _stale(case: Case, expected: int, version: int | None) -> Conflict:
    return Conflict(
        _("办件 %(number)s 已被他人更新（当前版本 %(version)s，预期 %(expected)s），请刷新后重试。")
        % {"number": case.number, "version": version, "expected": expected},
        details={"version": version},
    )


def _columns_of(case: Case) -> dict[str, Any]:
    return {f.attname: getattr(case, f.attname) for f in Case._meta.concrete_fields}


def _changed(case: Case, before: Mapping[str, Any]) -> list[str]:
    """The columns changed since ``before`` (the version always is), so the UPDATE writes only those."""
    return [name for name, value in _columns_of(case).items() if before.get(name) != value]


def _illegal(case: Case, reason: str) -> IllegalTransition:
    """The current step refuses the action: ``reason``, then the case's state and allowed actions."""
    return illegal(reason, case.state, allowed_actions(case.state), step=case.current_step_order)


# A case has a handful of steps: one service call loads them once (``_steps_of``), the handlers
# read and change those objects, and ``_steps_save`` writes each changed step once at the end.
_STEPS = "_sanji_steps"
_DIRTY = "_sanji_dirty_steps"


def _steps_of(case: Case) -> list[CaseStep]:
    """All steps of the case, in order, loaded once per service call."""
    steps: list[CaseStep] | None = getattr(case, _STEPS, None)
    if steps is None:
        steps = prepared.fetch(
            "cases.steps_of",
            lambda pk: (
                CaseStep.objects.filter(case_id=pk)
                .select_related("flow_step", "department", "unit")
                .order_by("order", "id")
            ),
            case.pk,
        )
        setattr(case, _STEPS, steps)
    return steps


def _touch(case: Case, step: CaseStep, *fields: str) -> None:
    dirty: dict[int, tuple[CaseStep, set[str]]] = getattr(case, _DIRTY, None) or {}
    setattr(case, _DIRTY, dirty)
    dirty.setdefault(id(step), (step, set()))[1].update(fields)


_STEP_COLUMNS = {f.name: f.attname for f in CaseStep._meta.concrete_fields}


def _steps_save(case: Case, chain: prepared.Chain | None = None) -> None:
    """Write each changed step (as part of ``chain``, if given)."""
    dirty: dict[int, tuple[CaseStep, set[str]]] = getattr(case, _DIRTY, None) or {}
    for step, fields in dirty.values():
        columns = [_STEP_COLUMNS[name] for name in sorted(fields)]  # "unit" → "unit_id"
        values = {column: getattr(step, column) for column in columns}
        if chain is not None:
            chain.update(CaseStep, step.pk, values)
        else:
            prepared.update(CaseStep, step.pk, values)
    setattr(case, _DIRTY, {})


def _stage(case: Case, order: int | None) -> list[CaseStep]:
    if order is None:
        return []
    return [s for s in _steps_of(case) if s.order == order]


def _activate(
    case: Case, order: int, now: dt.datetime, *, actor: Actor | None = None, unit: Unit | None = None
) -> None:
    """Make stage ``order`` current and active; the case moves to that stage's place."""
    steps = _stage(case, order)
    if not steps:
        raise _illegal(case, _("办理流程没有第 %(order)s 步") % {"order": order})
    place, department = _place_of_stage(case, steps)
    if unit is not None:
        place = unit
    for step in steps:
        step.state = StepState.ACTIVE
        step.started_at = now
        step.unit = place if len(steps) == 1 else step.unit
        _touch(case, step, "state", "started_at", "unit")
    case.current_step_order = order
    case.current_unit = place
    case.current_department = department if len(steps) == 1 or department else case.current_department


def _finish(case: Case, steps: Sequence[CaseStep], actor: Actor, now: dt.datetime, opinion: str = "") -> None:
    for step in steps:
        if step.state == StepState.DONE:
            continue
        step.state = StepState.DONE
        step.finished_at = now
        step.opinion = opinion or step.opinion
        step.handled_by = actor.username
        step.handled_by_id = actor.user_id
        if step.unit_id is None and actor.unit_id is not None:
            step.unit_id = actor.unit_id
        _touch(case, step, "state", "finished_at", "opinion", "handled_by", "handled_by_id", "unit")


def _next_order(case: Case, order: int | None) -> int | None:
    return min((s.order for s in _steps_of(case) if s.order > (order or 0)), default=None)


def _require_code(case: Case, steps: Sequence[CaseStep], *codes: str, what: str) -> None:
    if not steps or steps[0].flow_step.code not in codes:
        current = steps[0].flow_step.name if steps else "—"
        raise _illegal(case, _("当前环节（%(step)s）不能%(what)s") % {"step": current, "what": what})


def _final_decide_order(case: Case) -> int | None:
    return max((s.order for s in _steps_of(case) if s.flow_step.code == StepCode.DECIDE), default=None)


# Handlers: the per-action effects beyond the state (steps, pointers, counters).


def missing_materials(case: Case) -> list[str]:
    """The required materials (必交材料) of the case's flow version that no attachment answers yet,
    in the catalogue's order."""
    supplied = {
        _material_key(name)
        for name in Attachment.objects.filter(case_id=case.pk).values_list("material_name", flat=True)
    }
    required = (
        Material.objects.filter(flow_version_id=case.flow_version_id, required=True)
        .order_by("order", "pk")
        .values_list("name", flat=True)
    )
    return [name for name in required if _material_key(name) not in supplied]


def _on_submit(
    case: Case, actor: Actor, active: list[CaseStep], fields: Mapping[str, Any], now: dt.datetime
) -> None:
    """An online application is submitted with a file for every required material: the window's
    pre-check (预审) judges what was uploaded, and an application without its materials is not one."""
    missing = missing_materials(case)
    if missing:
        raise ValidationFailed(
            _("提交前须为每一项必交材料上传文件，尚缺：%(items)s。") % {"items": "、".join(missing)},
            details=[{"field": "attachments", "reason": "missing", "items": missing}],
        )
    case.received_at = now  # Art. 32: the application is received when it arrives online


def _on_precheck_pass(
    case: Case, actor: Actor, active: list[CaseStep], fields: Mapping[str, Any], now: dt.datetime
) -> None:
    if case.current_step_order is not None:
        _activate(case, case.current_step_order, now)


def _on_request_correction(
    case: Case, actor: Actor, active: list[CaseStep], fields: Mapping[str, Any], now: dt.datetime
) -> None:
    items = fields.get("missing_items")
    if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
        raise ValidationFailed(
            _("missing_items 须列出全部缺少或不符合要求的材料。"),
            details=[{"field": "missing_items", "reason": "list"}],
        )
    case.corrections_count += 1
    case.second_correction_allowed = False


def notice_items(case_id: int) -> list[str]:
    """What the case's latest correction notice (一次性告知) asks for, in its order."""
    data = (
        CaseEvent.objects.filter(case_id=case_id, action=Action.REQUEST_CORRECTION)
        .order_by("-seq")
        .values_list("data", flat=True)
        .first()
    )
    return [str(i) for i in (data or {}).get("missing_items") or []]


def _material_key(name: str) -> str:
    """A material's name as an attachment row keeps it (stripped, at most 200 characters)."""
    return name.strip()[:200]


def _on_supplement(
    case: Case, actor: Actor, active: list[CaseStep], fields: Mapping[str, Any], now: dt.datetime
) -> None:
    """The applicant's supplement (补正) carries a file for every item of the correction notice
    (:func:`case_supplement` stores them with the event); staff record papers handed in at the window."""
    if actor.has_role(*TABLE[Action.SUPPLEMENT].roles):
        return
    carried = _CARRIED_MATERIALS.get()
    supplied = {_material_key(n) for n in carried or ()}
    missing = [item for item in notice_items(case.pk) if _material_key(item) not in supplied]
    if carried is None or missing:
        raise ValidationFailed(
            _("补正须为一次性告知书列明的每一项上传材料，尚缺：%(items)s。")
            % {"items": "、".join(missing) or "—"},
            details=[{"field": "files", "reason": "missing", "items": missing}],
        )


def _on_allow_second(
    case: Case, actor: Actor, active: list[CaseStep], fields: Mapping[str, Any], now: dt.datetime
) -> None:
    case.second_correction_allowed = True


def _accept_through(
    case: Case, actor: Actor, active: list[CaseStep], now: dt.datetime, *, deemed: bool
) -> None:
    accept = next((s for s in _steps_of(case) if s.flow_step.code == StepCode.ACCEPT), None)
    if accept is None:
        raise _illegal(case, _("办理流程没有受理环节"))
    if not deemed and active and active[0].flow_step.level != accept.flow_step.level:
        raise _illegal(
            case,
            _("此事项在%(level)s级受理，请先上报") % {"level": RegionLevel(accept.flow_step.level).label},
        )
    through = [s for s in _steps_of(case) if s.order <= accept.order and s.state != StepState.DONE]
    _finish(case, through, actor, now)
    case.accepted_at = case.received_at if deemed else now
    case.deemed_accepted = deemed
    nxt = _next_order(case, accept.order)
    if nxt is not None:
        _activate(case, nxt, now)


def _on_accept(
    case: Case, actor: Actor, active: list[CaseStep], fields: Mapping[str, Any], now: dt.datetime
) -> None:
    _accept_through(case, actor, active, now, deemed=False)


def _on_deem_accept(
    case: Case, actor: Actor, active: list[CaseStep], fields: Mapping[str, Any], now: dt.datetime
) -> None:
    if case.accepted_at is not None:
        raise _illegal(case, _("此办件已受理，不再视为受理"))
    if case.corrections_count:
        raise _illegal(case, _("已在期限内告知补正，不视为受理"))
    if case.acceptance_due is None or now <= case.acceptance_due:
        raise _illegal(case, _("作出受理决定的 5 个工作日尚未届满"))
    _accept_through(case, actor, active, now, deemed=True)


def _on_refuse(
    case: Case, actor: Actor, active: list[CaseStep], fields: Mapping[str, Any], now: dt.datetime
) -> None:
    _finish(case, active, actor, now, str(fields.get("reason", "")))


def publicity_running(steps: Sequence[CaseStep], now: dt.datetime) -> CaseStep | None:
    """The 公示 (publicity) step among ``steps`` whose period has not reached its last day: a
    publicity runs its whole period (its limit in working days), so it is finished from the last
    day of the period on (the day its deadline falls on), not before. None when none is running
    (or its deadline is unknown: a missing calendar year is said on the case, not enforced here)."""
    today = now.astimezone(clock.CITY_TZ).date()
    for step in steps:
        if (
            step.flow_step.code == StepCode.PUBLICIZE
            and step.due is not None
            and today < step.due.astimezone(clock.CITY_TZ).date()
        ):
            return step
    return None


def _require_publicity_over(case: Case, steps: Sequence[CaseStep], now: dt.datetime) -> None:
    running = publicity_running(steps, now)
    if running is not None:
        assert running.due is not None
        raise _illegal(
            case,
            _("公示期至 %(date)s 届满，届满当日起方可办结“%(step)s”环节")
            % {
                "date": running.due.astimezone(clock.CITY_TZ).date().isoformat(),
                "step": running.flow_step.name,
            },
        )


def _on_complete_step(
    case: Case, actor: Actor, active: list[CaseStep], fields: Mapping[str, Any], now: dt.datetime
) -> None:
    if not active:
        raise _illegal(case, _("此办件没有当前环节"))
    head = active[0].flow_step
    if head.code in (StepCode.RECEIVE, StepCode.ACCEPT, StepCode.DELIVER):
        raise _illegal(case, _("“%(step)s”环节须用其本身的操作办结") % {"step": head.name})
    if head.code == StepCode.DECIDE and case.current_step_order == _final_decide_order(case):
        raise _illegal(
            case,
            _("最终决定须以“%(approve)s”或“%(deny)s”作出")
            % {"approve": ACTION_LABELS[Action.APPROVE], "deny": ACTION_LABELS[Action.DENY]},
        )
    if head.report_up:
        raise _illegal(
            case,
            _("“%(step)s”环节以“%(report_up)s”结束")
            % {"step": head.name, "report_up": ACTION_LABELS[Action.REPORT_UP]},
        )
    mine = policies.steps_answered_by(actor, active)
    if not mine:
        raise Forbidden(_("当前环节都不由您办理。"))
    step = mine[0]
    _require_publicity_over(case, [step], now)
    _finish(case, [step], actor, now, str(fields["opinion"]))
    if all(s.state == StepState.DONE for s in active):
        nxt = _next_order(case, case.current_step_order)
        if nxt is None:
            raise _illegal(case, _("办理流程没有决定环节就结束了"))
        _activate(case, nxt, now)


def _on_report_up(
    case: Case, actor: Actor, active: list[CaseStep], fields: Mapping[str, Any], now: dt.datetime
) -> None:
    if not active or not active[0].flow_step.report_up:
        raise _illegal(case, _("当前环节不上报"))
    if active[0].flow_step.code == StepCode.ACCEPT:
        raise _illegal(case, _("请先受理，再上报"))
    if not policies.steps_answered_by(actor, active):
        raise Forbidden(_("当前环节都不由您办理。"))
    _require_publicity_over(case, active, now)
    _finish(case, active, actor, now, str(fields["opinion"]))
    nxt = _next_order(case, case.current_step_order)
    if nxt is None:
        raise _illegal(case, _("办理流程中没有更高的层级"))
    steps = _stage(case, nxt)
    place, department = _place_of_stage(case, steps)
    case.current_step_order = nxt
    case.current_unit = place
    case.current_department = department


def _on_take_over(
    case: Case, actor: Actor, active: list[CaseStep], fields: Mapping[str, Any], now: dt.datetime
) -> None:
    # ``active`` is the arriving stage, its steps still pending: taken over by whoever answers them.
    if not policies.steps_answered_by(actor, active, states=frozenset({StepState.PENDING})):
        raise Forbidden(_("上报来的环节不由您办理。"))
    unit = None
    if actor.unit_id is not None:
        own = Unit.objects.filter(pk=actor.unit_id, active=True).first()
        if (
            own is not None
            and own.region_path == case.current_unit.region_path
            and (
                case.current_department_id is None or own.department_id in (None, case.current_department_id)
            )
        ):
            unit = own
    assert case.current_step_order is not None
    _activate(case, case.current_step_order, now, unit=unit)


def _on_special(
    case: Case, actor: Actor, active: list[CaseStep], fields: Mapping[str, Any], now: dt.datetime
) -> None:
    """特别程序 (special procedure: hearing, expert review, testing … whose time the legal limit does
    not count) is started and ended by whoever handles the current step."""
    if not policies.steps_answered_by(actor, active):
        raise Forbidden(_("当前环节都不由您办理。"))


def _on_return_down(
    case: Case, actor: Actor, active: list[CaseStep], fields: Mapping[str, Any], now: dt.datetime
) -> None:
    steps = _stage(case, case.current_step_order)
    if not steps or steps[0].flow_step.code != StepCode.DELIVER or steps[0].state != StepState.PENDING:
        raise _illegal(case, _("办理结果已在送达窗口"))
    assert case.current_step_order is not None
    _activate(case, case.current_step_order, now)


def _on_extend(
    case: Case, actor: Actor, active: list[CaseStep], fields: Mapping[str, Any], now: dt.datetime
) -> None:
    case.extension_days = int(fields["days"])


def _on_decide(
    case: Case, actor: Actor, active: list[CaseStep], fields: Mapping[str, Any], now: dt.datetime
) -> None:
    _require_code(case, active, StepCode.DECIDE, what=_("作出决定"))
    if case.current_step_order != _final_decide_order(case):
        raise _illegal(
            case,
            _("这是中间的决定环节，请用“%(complete_step)s”办结")
            % {"complete_step": ACTION_LABELS[Action.COMPLETE_STEP]},
        )
    # The decision belongs to the role the flow names for it (an approver, or the window clerk
    # of an immediate case 即办件), or to the department head / department system.
    if not policies.steps_answered_by(actor, active):
        raise Forbidden(_("此办件的决定环节不由您办理。"))
    _finish(case, active, actor, now, str(fields.get("opinion") or fields.get("reason") or ""))
    case.decided_at = now
    nxt = _next_order(case, case.current_step_order)
    if nxt is None:
        return
    steps = _stage(case, nxt)
    case.current_step_order = nxt
    if steps[0].flow_step.level == active[0].flow_step.level:
        _activate(case, nxt, now)  # delivered at the same level: straight to its window
    # else: the result waits at the deciding department until it is returned down (return_down)


def _on_deliver(
    case: Case, actor: Actor, active: list[CaseStep], fields: Mapping[str, Any], now: dt.datetime
) -> None:
    steps = _stage(case, case.current_step_order)
    if not steps or steps[0].flow_step.code != StepCode.DELIVER or steps[0].state != StepState.ACTIVE:
        raise _illegal(
            case,
            _("请先“%(return_down)s”到送达窗口") % {"return_down": ACTION_LABELS[Action.RETURN_DOWN]},
        )
    _finish(case, steps, actor, now)
    case.certificate_no = str(fields.get("certificate_no") or "").strip()[:64]
    case.delivery_method = str(fields["delivery_method"])


def _on_close(
    case: Case, actor: Actor, active: list[CaseStep], fields: Mapping[str, Any], now: dt.datetime
) -> None:
    for step in _steps_of(case):
        if step.state in (StepState.PENDING, StepState.ACTIVE):
            step.state = StepState.SKIPPED
            _touch(case, step, "state")


_HANDLERS: dict[str, Any] = {
    Action.SUBMIT: _on_submit,
    Action.PRECHECK_PASS: _on_precheck_pass,
    Action.REQUEST_CORRECTION: _on_request_correction,
    Action.ALLOW_SECOND_CORRECTION: _on_allow_second,
    Action.SUPPLEMENT: _on_supplement,
    Action.ACCEPT: _on_accept,
    Action.DEEM_ACCEPT: _on_deem_accept,
    Action.REFUSE: _on_refuse,
    Action.COMPLETE_STEP: _on_complete_step,
    Action.REPORT_UP: _on_report_up,
    Action.TAKE_OVER: _on_take_over,
    Action.RETURN_DOWN: _on_return_down,
    Action.EXTEND: _on_extend,
    Action.SPECIAL_START: _on_special,
    Action.SPECIAL_END: _on_special,
    Action.APPROVE: _on_decide,
    Action.DENY: _on_decide,
    Action.DELIVER: _on_deliver,
    Action.WITHDRAW: _on_close,
    Action.VOID: _on_close,
}


# --- events, deadlines, audit ------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal | dt.date | dt.datetime):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _new_event(
    case: Case,
    actor: Actor,
    *,
    seq: int,
    action: str,
    from_state: str,
    to_state: str,
    now: dt.datetime,
    fields: Mapping[str, Any],
    step_order: int | None = None,
) -> CaseEvent:
    """Event ``seq``, not yet written: the case's version after the change (one event per version),
    so the next number needs no query; the unique (case, seq) constraint refuses any gap in that rule."""
    data = {k: _jsonable(v) for k, v in fields.items() if k not in _TEXT_FIELDS and v is not None}
    event = CaseEvent(
        case=case,
        seq=seq,
        action=action,
        from_state=from_state,
        to_state=to_state,
        at=now,
        actor_id=actor.user_id,
        actor_username=actor.username,
        unit_id=actor.unit_id,
        terminal=actor.terminal_code,
        channel=actor.channel,
        step_order=step_order if step_order is not None else case.current_step_order,
        opinion=str(fields.get("opinion") or "").strip(),
        reason=str(fields.get("reason") or "").strip(),
        legal_basis=str(fields.get("legal_basis") or "").strip(),
        data=data,
    )
    return event


_PAUSE_PAIRS = {
    Action.REQUEST_CORRECTION: ("correction", Action.SUPPLEMENT),
    Action.SPECIAL_START: ("special", Action.SPECIAL_END),
}


def case_clock(case: Case, events: Sequence[tuple[str, dt.datetime]]) -> deadlines.CaseClock:
    """Read the deadline inputs off the case's ``(action, at)`` events in order (only the pause
    starts and ends matter), its current stage and its flow version's limits."""
    pauses: list[deadlines.Pause] = []
    open_pause: dict[str, dt.datetime] = {}
    for action, at in events:
        for start, (kind, end) in _PAUSE_PAIRS.items():
            if action == start:
                open_pause[kind] = at
            elif action == end and kind in open_pause:
                pauses.append(deadlines.Pause(open_pause.pop(kind), at, kind))
    closing = case.state in FINAL_STATES
    for kind, started in open_pause.items():
        # A refusal or withdrawal ends a pending correction: the period stops with the case.
        pauses.append(deadlines.Pause(started, case.completed_at if closing else None, kind))
    version = case.flow_version
    active = [s for s in _stage(case, case.current_step_order or 0) if s.state == StepState.ACTIVE]
    step = None
    if active and active[0].started_at is not None:
        step = deadlines.StepClock(active[0].started_at, max(s.flow_step.limit_days for s in active))
    return deadlines.CaseClock(
        received_at=case.received_at or case.created_at,
        accepted_at=case.accepted_at,
        decided_at=case.decided_at,
        closed=closing or case.state in (State.DRAFT, State.RETURNED),
        pauses=tuple(pauses),
        extension_days=case.extension_days,
        promised_limit_days=version.promised_limit_days,
        legal_limit_days=version.legal_limit_days,
        joint=version.kind == "joint",
        step=step,
    )


def _events_of(case_id: int) -> list[tuple[str, dt.datetime]]:
    """The case's events, ``(action, at)`` in order: a plain query (every transition). The deadline
    reads the pause starts and ends of it; supervision is handed the times (see :func:`_committed`)."""
    table = CaseEvent._meta.db_table
    sql = f'SELECT action, "at" FROM {table} WHERE case_id = %s ORDER BY seq'  # noqa: S608
    return [(action, _aware(at)) for action, at in prepared.query(sql, [case_id])]


def _aware(value: Any) -> dt.datetime:
    """A datetime column of a plain query (SQLite: naive UTC or text; PostgreSQL: aware)."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    assert isinstance(value, dt.datetime)
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


#: The times of the case's committed events as :func:`_recompute` read them, then each event this
#: service call appends (:func:`_schedule`): supervision checks their order without reading them.
_EVENT_TIMES = "_sanji_event_times"


def _recompute(case: Case, *, new: bool) -> None:
    """Recompute the derived deadline columns from the event log (the pause events only: nothing
    else in it moves a deadline) and the case's current stage; ``new``: the case has no earlier events."""
    if case.received_at is None:
        case.acceptance_due = case.promised_due = case.legal_due = case.step_due = None
        case.remaining_days = None
        case.calendar_problem = ""
        return
    events = [] if new else _events_of(case.pk)
    setattr(case, _EVENT_TIMES, [at for _action, at in events])
    result = deadlines.compute(work_calendar(), case_clock(case, events), today=clock.today())
    case.acceptance_due = result.acceptance_due
    case.promised_due = result.promised_due
    case.legal_due = result.legal_due
    case.step_due = result.delivery_due if case.decided_at is not None else result.step_due
    case.remaining_days = result.remaining_days
    case.calendar_problem = result.calendar_problem[:200]
    if result.step_due is not None:
        for step in _stage(case, case.current_step_order or 0):
            if step.state == StepState.ACTIVE and step.due != result.step_due:
                step.due = result.step_due
                _touch(case, step, "due")


def _audit(actor: Actor, case: Case, event: CaseEvent, chain: prepared.Chain | None = None) -> None:
    """Record the event in the audit trail (as part of ``chain``, if given)."""
    row = TABLE.get(event.action)
    (functools.partial(record_in, chain) if chain is not None else record)(
        actor=actor,
        action=row.audit_action if row is not None else f"cases.{event.action}",
        target=case,
        region_path=case.region_path,
        data={
            "number": case.number,
            "event": event.seq,
            "from": event.from_state,
            "to": event.to_state,
            "step": event.step_order,
            "version": case.version,
        },
    )


def _audit_refusal(actor: Actor, case: Case, action: str, refused: Forbidden) -> None:
    """A refused action on a case the actor can see (a role or unit outside the step's) is itself
    recorded: who tried what, on which case, in which state, and why it was refused. Its own
    transaction, committed whatever the caller does with the refusal."""
    record(
        actor=actor,
        action="cases.action_refused",
        target=case,
        region_path=case.region_path,
        data={
            "number": case.number,
            "attempted": action,
            "state": case.state,
            "step": case.current_step_order,
            "reason": refused.message,
        },
    )


def _schedule(case: Case, event: CaseEvent) -> None:
    case_id, event_id = case.pk, event.pk
    times: list[dt.datetime] | None = getattr(case, _EVENT_TIMES, None)
    if times is not None:
        times.append(event.at)
    committed = _committed(case, event)
    transaction.on_commit(lambda: _after_commit(case_id, event_id, committed))


def _json_copy(value: Any) -> Any:
    """A JSON column's value as the database gives it back."""
    return json.loads(json.dumps(value))


def _committed(case: Case, event: CaseEvent) -> dict[str, Any]:
    """What this transaction wrote of the event, the case and its steps (the hook's subscribers read
    it instead of the rows: see :data:`sanji.core.hooks.case_event_committed`)."""
    return {
        "event_id": event.pk,
        "seq": event.seq,
        "action": event.action,
        "at": event.at,
        "unit_id": event.unit_id,
        "actor_id": event.actor_id,
        "actor_username": event.actor_username,
        "reason": event.reason,
        "legal_basis": event.legal_basis,
        "step_order": event.step_order,
        "data": _json_copy(event.data),
        "case_id": case.pk,
        "channel": str(case.channel),
        "corrections_count": case.corrections_count,
        "fee_charged": case.fee_charged,
        "fee_amount": case.flow_version.fee_amount,
        "received_at": case.received_at,
        "accepted_at": case.accepted_at,
        "decided_at": case.decided_at,
        "completed_at": case.completed_at,
        "current_unit_id": case.current_unit_id,
        "region_path": case.region_path,
        "form_data": _json_copy(case.form_data),
        "event_times": tuple(times) if (times := getattr(case, _EVENT_TIMES, None)) is not None else None,
        "steps": tuple(
            (s.order, str(s.state), s.unit_id, s.due, s.finished_at, s.handled_by_id, s.handled_by, s.pk)
            for s in _steps_of(case)
        ),
    }


def _after_commit(case_id: int, event_id: int, committed: Mapping[str, Any] | None = None) -> None:
    """Runs after every committed case event: THE entry point of electronic supervision (电子监察).

    Supervision subscribes to :data:`sanji.core.hooks.case_event_committed` and evaluates its rules
    on the case; a failing subscriber is logged, never raised into the caller (already committed).
    """
    hooks.case_event_committed.fire(case_id, event_id, committed)


# --- the periodic sweep ------------------------------------------------------------------------


def case_deadlines_refresh(*, actor: Actor, case_ids: Sequence[int] | None = None) -> int:
    """Recompute the deadline columns (remaining days change with the date); the platform runs it daily."""
    require(policies.is_platform(actor), _("只有平台可以刷新办理期限。"))
    queryset = Case.objects.exclude(state__in=[*list(FINAL_STATES), State.DRAFT])
    if case_ids is not None:
        queryset = queryset.filter(pk__in=case_ids)
    count = 0
    for pk in queryset.values_list("pk", flat=True).iterator():
        with transaction.atomic():
            case = Case.objects.select_for_update().select_related("flow_version").get(pk=pk)
            _recompute(case, new=False)
            _steps_save(case)
            case.save(
                update_fields=[
                    "acceptance_due",
                    "promised_due",
                    "legal_due",
                    "step_due",
                    "remaining_days",
                    "calendar_problem",
                ]
            )
            count += 1
    return count


def case_deem_overdue_acceptances(*, actor: Actor) -> list[str]:
    """Art. 32 sweep: applications with no acceptance decision within 5 working days of receipt become
    accepted as of receipt: received at a window, submitted online and never pre-checked, or reported
    up by a community station and never taken over by the level that accepts them."""
    require(policies.is_platform(actor), _("只有平台可以认定逾期视为受理。"))
    now = clock.now()
    done: list[str] = []
    waiting = (CaseState.RECEIVED, CaseState.SUBMITTED, CaseState.REPORTED_UP)
    candidates = Case.objects.filter(
        state__in=waiting, accepted_at__isnull=True, corrections_count=0, acceptance_due__lt=now
    ).values_list("pk", "version", "number")
    for pk, version, number in candidates:
        try:
            case_act(actor=actor, case_id=pk, action=Action.DEEM_ACCEPT, expected_version=version)
        except (Conflict, IllegalTransition):
            continue
        done.append(number)
    return done


# --- attachments -------------------------------------------------------------------------------

#: States in which the applicant adds materials one by one: before submitting (during a correction
#: they come with the supplement, :func:`case_supplement`).
_APPLICANT_UPLOAD_STATES = frozenset({State.DRAFT, State.RETURNED})

#: The materials of the files a supplement being written carries (:func:`case_supplement`), so that
#: its transition (:func:`_on_supplement`) sees them; None outside one.
_CARRIED_MATERIALS: ContextVar[tuple[str, ...] | None] = ContextVar("cases_carried_materials", default=None)


def _attachment_dir() -> Path:
    return Path(settings.MEDIA_ROOT) / "cases"


def _folder_for(case: Case) -> Path:
    """The case's folder, made (0700) if missing; every folder made is flushed into its parent."""
    root = Path(settings.MEDIA_ROOT)
    folder = _attachment_dir() / case.number[:6] / str(case.pk)
    missing = [d for d in (folder, *folder.parents) if d.is_relative_to(root) and not d.exists()]
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    for made in missing:
        durable.fsync_directory(made.parent)
    return folder


def _attachment_store(
    actor: Actor,
    case: Case,
    *,
    event: CaseEvent | None,
    folder: Path,
    material: str,
    filename: str,
    content: bytes,
    kind: files.FileKind,
    at: dt.datetime,
    stored: list[Path],
) -> Attachment:
    """Write one checked file under a new random name (flushed), then its row and audit entry, in
    the caller's transaction. The path goes into ``stored`` as soon as the file exists: from then
    on the caller removes it if the transaction does not commit."""
    digest = hashlib.sha256(content).hexdigest()
    path = folder / f"{secrets.token_hex(16)}{kind.extensions[0]}"
    durable.write_new(path, content)
    stored.append(path)
    attachment = Attachment.objects.create(
        case=case,
        event=event,
        material_name=material,
        original_filename=Path(filename).name[:255],
        content_type=kind.content_type,
        size=len(content),
        sha256=digest,
        storage_path=str(path.relative_to(Path(settings.MEDIA_ROOT))),
        uploaded_by=actor.username,
        uploaded_by_id=actor.user_id,
        uploaded_at=at,
    )
    record(
        actor=actor,
        action="cases.attachment_added",
        target=case,
        region_path=case.region_path,
        data={"number": case.number, "attachment": attachment.pk, "sha256": digest, "size": len(content)},
    )
    return attachment


def attachment_add(
    *, actor: Actor, case_id: int, material_name: str, filename: str, content: bytes
) -> Attachment:
    """Store one material (sniffed, size-limited, SHA-256 recorded) outside the web root.

    The applicant uploads to their own case while it is a draft, returned or awaiting correction;
    staff whose grant reaches the case's current place (or its receiving place) upload while it is open.

    All or nothing: a file is kept only with its committed row, and a committed row always has its
    file. The file is written under a new random name (and flushed to disk) inside the transaction
    that inserts its row and audit entry, after the scope and policy checks; it is only ever read
    through that row (:func:`attachment_open`, for those who may see the case). If anything fails
    before the commit (the insert, the audit entry), the file is removed and the error raised; if
    the commit itself raises, the file is removed unless the row is there after all (a connection
    lost during COMMIT leaves the outcome unknown to the client; when even that cannot be asked, the
    file stays). The transaction is durable (``atomic(durable=True)``, a RuntimeError inside another
    one): were it part of a caller's transaction, that could still roll the row back after the file
    was kept, and Django has no on-rollback hook to remove it. (Writing under a temporary name
    renamed on commit would leave a committed row without its file after a crash between the commit
    and the rename.) A crash between the write and the commit can leave a file that no row names:
    never served, since every read goes through a row, and found by comparing the case's folder
    with its rows' ``storage_path``.
    """
    kind = files.check_upload(filename, content)
    stored: list[Path] = []
    committing = False
    try:
        with transaction.atomic(durable=True):
            case = policies.scope(actor, Case.objects.select_for_update()).filter(pk=case_id).first()
            if case is None:
                raise NotFound()
            case = Case.objects.select_related("current_unit", "accepting_unit").get(pk=case.pk)
            is_applicant = policies.is_party(actor, case)
            if is_applicant and case.state == State.CORRECTION_REQUESTED:
                raise Forbidden(_("补正材料请在“补正材料”时一并上传。"))
            if is_applicant:
                allowed = case.state in _APPLICANT_UPLOAD_STATES
            else:
                allowed = case.state not in FINAL_STATES and any(
                    policies.reaching_grants(
                        actor,
                        policies.VIEWER_ROLES - {Role.SUPERVISOR, Role.ANALYST},
                        region_path=unit.region_path,
                        department_ids=[case.current_department_id, unit.department_id],
                    )
                    for unit in (case.current_unit, case.accepting_unit)
                )
            if not allowed:
                raise Forbidden(_("此办件现在不能添加材料。"))
            attachment = _attachment_store(
                actor,
                case,
                event=CaseEvent.objects.filter(case=case).order_by("-seq").first(),
                folder=_folder_for(case),
                material=material_name.strip()[:200] or filename[:200],
                filename=filename,
                content=content,
                kind=kind,
                at=clock.now(),
                stored=stored,
            )
            committing = True  # leaving the block commits
    except BaseException:
        if stored and not (committing and _row_kept(attachment.pk)):
            for path in stored:
                path.unlink(missing_ok=True)
        raise
    return attachment


def case_supplement(
    *,
    actor: Actor,
    case_id: int,
    expected_version: int,
    uploads: Sequence[tuple[str, str, bytes]],
    opinion: str = "",
) -> Case:
    """补正: the supplement after a correction notice, with the files it carries — each upload a
    ``(material name, file name, content)``.

    The applicant (or their agent) must carry at least one file for every item the notice listed
    (the material name of an upload names the item it answers); staff supplementing at the window
    may carry scans or none (the papers were handed in). The files are judged by content first;
    then the transition (:func:`case_act`: state, version, policy, the notice's items), the files
    and their rows are written in one durable transaction, as :func:`attachment_add` writes one:
    a refusal or a failure leaves neither rows nor files behind."""
    checked = []
    for material, filename, content in uploads:
        try:
            kind = files.check_upload(filename, content)
        except ValidationFailed as exc:
            raise ValidationFailed(f"{Path(filename).name}：{exc.message}", details=exc.details) from None
        checked.append((_material_key(material) or Path(filename).name[:200], filename, content, kind))
    materials = tuple(dict.fromkeys(material for material, *_rest in checked))
    stored: list[Path] = []
    last: int | None = None
    committing = False
    try:
        with transaction.atomic(durable=True):
            carrying = _CARRIED_MATERIALS.set(materials)
            try:
                case = case_act(
                    actor=actor,
                    case_id=case_id,
                    action=Action.SUPPLEMENT,
                    expected_version=expected_version,
                    opinion=opinion,
                    materials_supplied=list(materials) or None,
                )
            finally:
                _CARRIED_MATERIALS.reset(carrying)
            event = CaseEvent.objects.get(case_id=case.pk, seq=case.version)
            folder = _folder_for(case) if checked else None
            for material, filename, content, kind in checked:
                assert folder is not None
                last = _attachment_store(
                    actor,
                    case,
                    event=event,
                    folder=folder,
                    material=material,
                    filename=filename,
                    content=content,
                    kind=kind,
                    at=event.at,
                    stored=stored,
                ).pk
            committing = True  # leaving the block commits
    except BaseException:
        if stored and not (committing and _row_kept(last)):
            for path in stored:
                path.unlink(missing_ok=True)
        raise
    return case


#: Files younger than this are never taken for orphans: their upload may still be committing.
ORPHAN_GRACE = dt.timedelta(hours=1)


def attachment_orphans_remove(*, actor: Actor, grace: dt.timedelta = ORPHAN_GRACE) -> list[str]:
    """Remove the stored files that no attachment row names, older than ``grace``; answers their
    paths (relative to the media root) and records them in one audit entry.

    Only a hard crash (power, kill) between an upload's file write and its commit leaves such a file
    (see :func:`attachment_add`): never served, since every read goes through a row, but a scan of
    someone's papers that nothing accounts for. The daily sweep (``sanji cases sweep``) removes it.
    A file is judged by its own age on disk, so an upload in flight is never touched."""
    require(policies.is_platform(actor), _("只有平台可以清理无主文件。"))
    root = Path(settings.MEDIA_ROOT)
    base = _attachment_dir()
    if not base.is_dir():
        return []
    cutoff = time.time() - grace.total_seconds()
    removed: list[str] = []
    for folder in sorted(p for p in base.glob("*/*") if p.is_dir()):  # <region>/<case id>
        old = {
            str(p.relative_to(root)): p
            for p in folder.iterdir()
            if p.is_file() and p.stat().st_mtime < cutoff
        }
        if not old:
            continue
        named = set(
            Attachment.objects.filter(storage_path__in=list(old)).values_list("storage_path", flat=True)
        )
        for relative, path in sorted(old.items()):
            if relative not in named:
                path.unlink(missing_ok=True)
                removed.append(relative)
    if removed:
        record(
            actor=actor,
            action="cases.attachment_orphans_removed",
            data={"count": len(removed), "files": removed[:1000]},
        )
    return removed


def _row_kept(attachment_id: int | None) -> bool:
    """After a commit that raised: is the row in the database all the same? Assumed so when the
    database cannot be asked (its file must not go while a row may name it)."""
    if attachment_id is None:
        return False
    try:
        return Attachment.objects.filter(pk=attachment_id).exists()
    except DatabaseError:
        return True


def attachment_open(*, actor: Actor, attachment_id: int) -> tuple[Attachment, bytes]:
    """Read one attachment of a case visible to the actor (else NotFound); each download is audited."""
    visible = policies.scope(actor, Case.objects.all()).values("pk")
    attachment = (
        Attachment.objects.filter(pk=attachment_id, case_id__in=visible).select_related("case").first()
    )
    if attachment is None:
        raise NotFound()
    path = Path(settings.MEDIA_ROOT) / attachment.storage_path
    content = path.read_bytes()
    if hashlib.sha256(content).hexdigest() != attachment.sha256:
        raise Conflict(_("存储的文件与登记的 SHA-256 校验值不符。"))
    with transaction.atomic():
        record(
            actor=actor,
            action="cases.attachment_downloaded",
            target=attachment.case,
            region_path=attachment.case.region_path,
            data={"number": attachment.case.number, "attachment": attachment.pk},
        )
    return attachment, content


def case_rekey(*, actor: Actor, previous: tuple[str, ...], batch: int = 1000) -> RekeyCount:
    """Re-encrypt the applicants' ID numbers made with an older field key under the current one
    (a key rotation, :mod:`sanji.core.rekey`; ``sanji rekey`` runs it with the other apps')."""
    require(policies.can_rekey(actor), _("只有平台可以轮换密钥（sanji rekey）。"))
    count = rekey_model(Case, ("applicant_id_encrypted",), previous=previous, batch=batch)
    with transaction.atomic():
        record(
            actor=actor,
            action="cases.rekeyed",
            data={"examined": count.examined, "reencrypted": count.reencrypted, "previous": list(previous)},
        )
    return count
