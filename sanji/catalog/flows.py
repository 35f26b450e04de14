"""The rules a matter's terms and its flow must satisfy — pure functions, no database.

A flow (办理流程) is an ordered list of *stages*; a stage is one step, or several steps sharing one
``order`` that fan out in parallel to different departments (联合审查 of a 联办件 joint matter: each
gives an opinion, the stage completes when all have answered). Steps move a case up the three
levels (community → township → district → city) only where a step is marked ``report_up``
(上报: hand the case to the next level's counterpart); after the last decision (决定) the result may
come back down to any level for delivery (送达).

Where a case enters the flow: a case submitted at level L starts at the first stage at level L
(stages before it belong to lower levels and are skipped); an online application (网上申报) starts
at the acceptance (受理) stage. :func:`entry_order` answers this for the cases app.

Every check returns :class:`Problem` rows instead of raising, so a page can show all of them at
once and the services can refuse with one :class:`~sanji.core.errors.ValidationFailed`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import groupby, pairwise

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from sanji.catalog.models import MaterialForm, MatterKind, StepCode
from sanji.core.roles import Role
from sanji.orgs.models import LEVEL_DEPTH, DepartmentKind, RegionLevel

#: Roles that handle flow steps, and the ones that may take each kind of step.
HANDLING_ROLES: frozenset[str] = frozenset(
    {Role.WINDOW_CLERK, Role.COMMUNITY_WORKER, Role.REVIEWER, Role.APPROVER, Role.DEPARTMENT_HEAD}
)
RECEIVING_ROLES: frozenset[str] = frozenset({Role.WINDOW_CLERK, Role.COMMUNITY_WORKER})
DECIDING_ROLES: frozenset[str] = frozenset({Role.APPROVER, Role.DEPARTMENT_HEAD})
#: Step codes that may come before the acceptance (受理) stage, and after the last decision.
BEFORE_ACCEPT: frozenset[str] = frozenset({StepCode.RECEIVE})
AFTER_DECISION: frozenset[str] = frozenset({StepCode.DELIVER})


@dataclass(frozen=True, slots=True)
class MatterTerms:
    """The terms of a matter that a case depends on; they are snapshot in every flow version.

    ``accepting_levels``: where applications may be submitted; ``deciding_level``: who decides.
    Limits are in working days (工作日). ``promised_limit_days`` (承诺时限) ≤ ``legal_limit_days``
    (法定时限); an immediate matter (即办件) is handled on the spot, so its promised limit is 0.
    """

    kind: str
    department_kind: str
    accepting_levels: tuple[str, ...]
    deciding_level: str
    legal_limit_days: int
    promised_limit_days: int
    fee_amount: Decimal = Decimal("0")
    fee_basis: str = ""


@dataclass(frozen=True, slots=True)
class StepSpec:
    """One step of a flow as an editor or the seed states it (see :class:`~sanji.catalog.models.FlowStep`)."""

    order: int
    code: str
    name: str
    level: str
    role: str
    limit_days: int
    department_kind: str | None = None  # None: the matter's department kind
    parallel_group: int | None = None
    report_up: bool = False


@dataclass(frozen=True, slots=True)
class MaterialSpec:
    """One application material (申请材料) of a flow version."""

    name: str
    form: str = MaterialForm.ORIGINAL
    count: int = 1
    required: bool = True
    blank_form_name: str = ""
    blank_form_template: str = ""
    notes: str = ""


@dataclass(frozen=True, slots=True)
class Problem:
    """One reason a matter, flow or material list is invalid.

    ``code`` is stable (tests and API clients match on it); ``where`` names the field or the
    0-based index of the step/material (``"steps[2]"``); ``message`` is for people.
    """

    code: str
    where: str
    message: str | Promise = field(compare=False)

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "where": self.where, "message": str(self.message)}


def depth(level: str) -> int:
    """0 for the city … 3 for a community; unknown levels sort below everything."""
    return LEVEL_DEPTH.get(RegionLevel(level), 99) if level in RegionLevel.values else 99


def level_span(terms: MatterTerms) -> tuple[int, int]:
    """The (highest, lowest) depth a step of this matter may be handled at."""
    depths = [depth(lv) for lv in (*terms.accepting_levels, terms.deciding_level)]
    return min(depths), max(depths)


def effective_department(step: StepSpec, terms: MatterTerms) -> str:
    return step.department_kind or terms.department_kind


def stages(steps: Sequence[StepSpec]) -> list[list[StepSpec]]:
    """Group consecutive steps sharing an order into stages (parallel fan-outs)."""
    return [list(group) for _order, group in groupby(steps, key=lambda s: s.order)]


def limit_total(steps: Sequence[StepSpec]) -> int:
    """Working days the whole flow may take: parallel steps overlap, so a stage costs its longest step."""
    return sum(max(s.limit_days for s in stage) for stage in stages(steps))


def entry_order(steps: Sequence[StepSpec], level: str | None) -> int | None:
    """The order of the stage a case submitted at ``level`` starts at (None level: online, at 受理).

    Answers ``None`` when the flow has no stage for that level before acceptance (the matter
    does not accept applications there).
    """
    for stage in stages(steps):
        head = stage[0]
        if level is None:
            if head.code == StepCode.ACCEPT:
                return head.order
            continue
        if head.level == level:
            return head.order
        if head.code == StepCode.ACCEPT:
            return None  # past acceptance without meeting that level
    return None


class _Add:
    """Collects problems: ``add(code, where, message)``."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems

    def __call__(self, code: str, where: str, message: str | Promise) -> None:
        self.problems.append(Problem(code, where, message))


def validate_code(code: str) -> list[Problem]:
    """Matter codes: 3–40 characters of A–Z, 0–9 and '-' (e.g. ``MZ-0001``)."""
    ok = 3 <= len(code) <= 40 and all(c.isascii() and (c.isupper() or c.isdigit() or c == "-") for c in code)
    return (
        [] if ok else [Problem("bad_code", "code", _("事项编码只能由大写字母、数字和“-”组成，长度3至40。"))]
    )


def validate_terms(terms: MatterTerms) -> list[Problem]:
    problems: list[Problem] = []
    add = _Add(problems)
    if terms.kind not in MatterKind.values:
        add("bad_kind", "kind", _("办件类型无效。"))
    if terms.department_kind not in DepartmentKind.values:
        add("bad_department", "department_kind", _("部门类别无效。"))
    levels = terms.accepting_levels
    if not levels:
        add("no_accepting_level", "accepting_levels", _("至少选择一个受理层级。"))
    if any(lv not in RegionLevel.values for lv in levels) or len(set(levels)) != len(levels):
        add("bad_accepting_level", "accepting_levels", _("受理层级无效或重复。"))
    if terms.deciding_level not in RegionLevel.values:
        add("bad_deciding_level", "deciding_level", _("决定层级无效。"))
    elif levels and any(depth(terms.deciding_level) > depth(lv) for lv in levels):
        add("decide_below_accept", "deciding_level", _("决定层级不能低于受理层级。"))
    if terms.legal_limit_days < 0 or terms.promised_limit_days < 0:
        add("negative_limit", "legal_limit_days", _("时限不能为负数。"))
    if terms.promised_limit_days > terms.legal_limit_days:
        add("promised_over_legal", "promised_limit_days", _("承诺时限不能超过法定时限。"))
    if terms.kind == MatterKind.IMMEDIATE:
        if terms.promised_limit_days != 0:
            add("immediate_with_limit", "promised_limit_days", _("即办件当场办结，承诺时限应为0。"))
        if tuple(levels) != (terms.deciding_level,):
            add("immediate_across_levels", "accepting_levels", _("即办件只能在决定层级受理并当场办结。"))
    elif terms.kind in MatterKind.values and terms.promised_limit_days < 1:
        add("no_promised_limit", "promised_limit_days", _("非即办件的承诺时限至少1个工作日。"))
    if terms.kind == MatterKind.REPORTED and levels and all(lv == terms.deciding_level for lv in levels):
        add("reported_without_lower_level", "accepting_levels", _("上报件须由下级受理后上报决定层级。"))
    if terms.fee_amount < 0:
        add("negative_fee", "fee_amount", _("收费金额不能为负数。"))
    if terms.fee_amount > 0 and not terms.fee_basis.strip():
        add("fee_without_basis", "fee_basis", _("收费事项必须写明收费依据。"))
    return problems


def _check_steps(terms: MatterTerms, steps: Sequence[StepSpec], add: _Add) -> None:
    """Per-step checks: vocabulary, level range, roles."""
    high, low = level_span(terms)
    for i, s in enumerate(steps):
        where = f"steps[{i}]"
        if s.code not in StepCode.values:
            add("bad_step_code", where, _("环节代码无效。"))
        if not s.name.strip():
            add("step_without_name", where, _("环节名称不能为空。"))
        if s.level not in RegionLevel.values:
            add("bad_step_level", where, _("环节层级无效。"))
        elif not high <= depth(s.level) <= low:
            add("step_level_out_of_range", where, _("环节层级必须在受理层级与决定层级之间。"))
        if s.role not in HANDLING_ROLES:
            add("bad_step_role", where, _("环节角色无效。"))
        elif s.role == Role.COMMUNITY_WORKER and s.level != RegionLevel.COMMUNITY:
            add("community_worker_off_community", where, _("社区工作人员只办理社区层级的环节。"))
        if s.department_kind is not None and s.department_kind not in DepartmentKind.values:
            add("bad_step_department", where, _("环节部门类别无效。"))
        if s.limit_days < 0:
            add("negative_step_limit", where, _("环节时限不能为负数。"))
        if terms.kind == MatterKind.IMMEDIATE and s.limit_days != 0:
            add("immediate_step_limit", where, _("即办件各环节时限应为0。"))
        if s.code in (StepCode.RECEIVE, StepCode.ACCEPT) and s.role not in RECEIVING_ROLES:
            add("receiver_role", where, _("收件、受理环节由窗口受理员或社区工作人员办理。"))
        # An immediate matter is decided on the spot by the window (窗口即时办结).
        on_the_spot = terms.kind == MatterKind.IMMEDIATE and s.role == Role.WINDOW_CLERK
        if s.code == StepCode.DECIDE and s.role not in DECIDING_ROLES and not on_the_spot:
            add("decider_role", where, _("决定环节由审批人或部门负责人办理（即办件可由窗口当场决定）。"))


def _check_stages(terms: MatterTerms, steps: Sequence[StepSpec], add: _Add) -> None:
    """Order, parallel fan-outs, reporting up and the shape accept → … → decide → deliver."""
    orders = [s.order for s in steps]
    if orders != sorted(orders):
        add("not_ordered", "steps", _("环节必须按顺序排列。"))
        return
    groups = stages(steps)
    if [g[0].order for g in groups] != list(range(1, len(groups) + 1)):
        add("order_gap", "steps", _("环节顺序号须从1开始连续编号（并行环节共用一个序号）。"))

    used_groups: set[int] = set()
    for stage in groups:
        where = f"order {stage[0].order}"
        if len(stage) == 1:
            if stage[0].parallel_group is not None:
                add("parallel_alone", where, _("并行组至少包含两个部门的环节。"))
            continue
        group_ids = {s.parallel_group for s in stage}
        if None in group_ids or len(group_ids) != 1:
            add("parallel_needs_group", where, _("同一序号的多个环节必须属于同一个并行组。"))
        elif (gid := next(iter(group_ids))) is not None:
            if gid in used_groups:
                add("parallel_group_reused", where, _("并行组编号不能在不同序号中重复使用。"))
            used_groups.add(gid)
        departments = [effective_department(s, terms) for s in stage]
        if len(set(departments)) != len(departments):
            add("parallel_same_department", where, _("并行环节必须分属不同部门。"))
        if len({s.level for s in stage}) != 1 or len({s.report_up for s in stage}) != 1:
            add("parallel_mixed", where, _("并行环节的层级和上报标记必须一致。"))
        if any(
            s.code in (StepCode.RECEIVE, StepCode.ACCEPT, StepCode.DECIDE, StepCode.DELIVER) for s in stage
        ):
            add("parallel_bad_code", where, _("收件、受理、决定、送达环节不能并行。"))

    has_parallel = any(len(stage) > 1 for stage in groups)
    if has_parallel and terms.kind != MatterKind.JOINT:
        add("parallel_not_joint", "steps", _("只有联办件可以设置多部门并行环节。"))
    if terms.kind == MatterKind.JOINT and not has_parallel:
        add("joint_without_parallel", "steps", _("联办件至少需要一个多部门并行环节。"))

    heads = [stage[0] for stage in groups]
    codes = [h.code for h in heads]
    if codes[0] not in (StepCode.RECEIVE, StepCode.ACCEPT):
        add("first_not_receiving", "steps", _("第一个环节必须是收件或受理。"))
    if heads[0].level not in terms.accepting_levels:
        add("first_not_accepting_level", "steps", _("第一个环节必须在受理层级办理。"))
    if codes.count(StepCode.ACCEPT) != 1:
        add("accept_count", "steps", _("流程必须有且只有一个受理环节。"))
    else:
        accept_at = codes.index(StepCode.ACCEPT)
        if any(c not in BEFORE_ACCEPT for c in codes[:accept_at]):
            add("step_before_accept", "steps", _("受理之前只能有收件环节。"))
        if StepCode.RECEIVE in codes[accept_at:]:
            add("receive_after_accept", "steps", _("收件环节必须在受理之前。"))
        reachable = {h.level for h in heads[: accept_at + 1]}
        for lv in terms.accepting_levels:
            if lv not in reachable:
                add(
                    "accepting_level_without_step",
                    "accepting_levels",
                    _("每个受理层级在受理之前都要有对应环节。"),
                )
                break
    if StepCode.DECIDE not in codes:
        add("no_decision", "steps", _("流程必须有决定环节。"))
    else:
        last_decide = len(codes) - 1 - codes[::-1].index(StepCode.DECIDE)
        if heads[last_decide].level != terms.deciding_level:
            add("decision_wrong_level", "steps", _("最后的决定环节必须在决定层级办理。"))
        if any(c not in AFTER_DECISION for c in codes[last_decide + 1 :]):
            add("after_decision", "steps", _("决定之后只能有送达环节。"))
        if StepCode.ACCEPT in codes and codes.index(StepCode.ACCEPT) > last_decide:
            add("decision_before_accept", "steps", _("决定环节必须在受理之后。"))
    if codes[-1] != StepCode.DELIVER:
        add("no_delivery", "steps", _("最后一个环节必须是送达。"))

    # Moving up needs a report-up hand-over; moving down is only for delivering the result.
    for here, there in pairwise(heads):
        where = f"order {here.order}"
        up = depth(there.level) < depth(here.level)
        if here.report_up and not up:
            add("report_up_not_upward", where, _("上报环节的下一环节必须在更高层级。"))
        if up and not here.report_up:
            add("upward_without_report_up", where, _("转到更高层级的环节必须标记为上报。"))
        if depth(there.level) > depth(here.level) and there.code not in AFTER_DECISION:
            add("downward_before_decision", where, _("决定之前不能把办件转回下级。"))
    if heads[-1].report_up:
        add("report_up_at_end", f"order {heads[-1].order}", _("最后一个环节不能上报。"))
    if terms.kind == MatterKind.REPORTED and not any(h.report_up for h in heads):
        add("reported_without_report_up", "steps", _("上报件至少有一个上报环节。"))


def validate_flow(terms: MatterTerms, steps: Sequence[StepSpec]) -> list[Problem]:
    """All problems of ``steps`` as the flow of a matter with ``terms`` (terms themselves included)."""
    problems = validate_terms(terms)
    add = _Add(problems)
    if not steps:
        add("no_steps", "steps", _("流程至少需要一个环节。"))
        return problems
    _check_steps(terms, steps, add)
    _check_stages(terms, steps, add)
    total = limit_total(steps)
    if total > terms.legal_limit_days:
        add("limits_over_legal", "steps", _("各环节时限之和超过法定时限。"))
    return problems


def validate_materials(materials: Sequence[MaterialSpec]) -> list[Problem]:
    problems: list[Problem] = []
    add = _Add(problems)
    if not materials:
        add("no_materials", "materials", _("至少需要一项申请材料。"))
    names = [m.name.strip() for m in materials]
    for i, m in enumerate(materials):
        where = f"materials[{i}]"
        if not names[i]:
            add("material_without_name", where, _("材料名称不能为空。"))
        elif names.count(names[i]) > 1 and names.index(names[i]) != i:
            add("material_duplicate", where, _("材料名称重复。"))
        if m.form not in MaterialForm.values:
            add("bad_material_form", where, _("材料形式无效。"))
        if m.count < 1:
            add("bad_material_count", where, _("材料份数至少为1。"))
        if m.blank_form_template and not m.blank_form_name.strip():
            add("template_without_name", where, _("提供空白表格时须填写表格名称。"))
    return problems


def validate_version(
    terms: MatterTerms, steps: Sequence[StepSpec], materials: Sequence[MaterialSpec]
) -> list[Problem]:
    """Everything a new flow version must satisfy before it is published."""
    return validate_flow(terms, steps) + validate_materials(materials)
