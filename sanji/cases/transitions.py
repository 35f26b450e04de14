"""The state machine of a case (办件) — one table, pure, no database.

Every change of a case goes through :func:`check`: the action must be allowed from the current state,
the actor must hold one of the action's roles (or be the case's applicant, or the platform itself for
system actions), and the action's required fields must be filled. The service layer adds what needs the
database (reach, the current step, version checks).

States:
    draft (草稿) → submitted (网上申报) → returned (预审退回) / received (接件, or pre-checked online)
    → correction_requested (补正) → handling (受理 and in review; the step pointer says where)
    ↔ reported_up (上报: waiting for the next level to take it) ↔ suspended (特别程序, clock paused)
    → approved / denied (准予 / 不予, the decision's words whatever the matter's type)
    → delivered (送达) → completed (办结).
    Side exits: refused (不予受理), withdrawn (撤回), voided (作废).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext, pgettext_lazy

from sanji.core.errors import IllegalTransition, ValidationFailed
from sanji.core.roles import Role


class State:
    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    RECEIVED = "received"
    CORRECTION_REQUESTED = "correction_requested"
    HANDLING = "handling"
    REPORTED_UP = "reported_up"
    SUSPENDED = "suspended"
    APPROVED = "approved"
    DENIED = "denied"
    REFUSED = "refused"
    DELIVERED = "delivered"
    COMPLETED = "completed"
    WITHDRAWN = "withdrawn"
    VOIDED = "voided"


ALL_STATES: tuple[str, ...] = (
    State.DRAFT,
    State.SUBMITTED,
    State.RETURNED,
    State.RECEIVED,
    State.CORRECTION_REQUESTED,
    State.HANDLING,
    State.REPORTED_UP,
    State.SUSPENDED,
    State.APPROVED,
    State.DENIED,
    State.REFUSED,
    State.DELIVERED,
    State.COMPLETED,
    State.WITHDRAWN,
    State.VOIDED,
)

#: No action leaves these states.
FINAL_STATES: frozenset[str] = frozenset({State.REFUSED, State.COMPLETED, State.WITHDRAWN, State.VOIDED})
#: Open cases: the clock runs (or is paused) and they appear on worklists.
OPEN_STATES: frozenset[str] = frozenset(
    {
        State.SUBMITTED,
        State.RECEIVED,
        State.CORRECTION_REQUESTED,
        State.HANDLING,
        State.REPORTED_UP,
        State.SUSPENDED,
        State.APPROVED,
        State.DENIED,
        State.DELIVERED,
    }
)
#: Before the decision: the applicant may still withdraw.
BEFORE_DECISION: frozenset[str] = frozenset(
    {
        State.DRAFT,
        State.SUBMITTED,
        State.RETURNED,
        State.RECEIVED,
        State.CORRECTION_REQUESTED,
        State.HANDLING,
        State.REPORTED_UP,
        State.SUSPENDED,
    }
)
DECIDED: frozenset[str] = frozenset({State.APPROVED, State.DENIED})

#: ``to_state`` values that are not states.
SAME = "="  # the state does not change (a step advances, an extension is granted …)
RESUME = "resume"  # take_over: back to received before acceptance, handling after it


class Action:
    SUBMIT = "submit"
    PRECHECK_PASS = "precheck_pass"
    PRECHECK_RETURN = "precheck_return"
    RECEIVE = "receive"
    REQUEST_CORRECTION = "request_correction"
    ALLOW_SECOND_CORRECTION = "allow_second_correction"
    SUPPLEMENT = "supplement"
    ACCEPT = "accept"
    REFUSE = "refuse"
    DEEM_ACCEPT = "deem_accept"
    COMPLETE_STEP = "complete_step"
    REPORT_UP = "report_up"
    TAKE_OVER = "take_over"
    RETURN_DOWN = "return_down"
    EXTEND = "extend"
    SPECIAL_START = "special_start"
    SPECIAL_END = "special_end"
    APPROVE = "approve"
    DENY = "deny"
    DELIVER = "deliver"
    COMPLETE = "complete"
    WITHDRAW = "withdraw"
    VOID = "void"


#: The states' names for people (the choices of :class:`sanji.cases.models.CaseState`).
STATE_LABELS: dict[str, Promise] = {
    State.DRAFT: gettext_lazy("草稿"),
    State.SUBMITTED: gettext_lazy("已网上申报"),
    State.RETURNED: gettext_lazy("预审退回"),
    State.RECEIVED: gettext_lazy("已接件"),
    State.CORRECTION_REQUESTED: gettext_lazy("待补正"),
    State.HANDLING: gettext_lazy("办理中"),
    State.REPORTED_UP: gettext_lazy("已上报"),
    State.SUSPENDED: gettext_lazy("特别程序中"),
    State.APPROVED: pgettext_lazy("case state", "准予"),
    State.DENIED: pgettext_lazy("case state", "不予"),
    State.REFUSED: gettext_lazy("不予受理"),
    State.DELIVERED: gettext_lazy("已送达"),
    State.COMPLETED: gettext_lazy("已办结"),
    State.WITHDRAWN: gettext_lazy("已撤回"),
    State.VOIDED: gettext_lazy("已作废"),
}

#: The actions' names for people (buttons, the history, refusals); ``create_draft`` is the event
#: that opens an online application.
ACTION_LABELS: dict[str, Promise] = {
    "create_draft": gettext_lazy("创建申请"),
    Action.SUBMIT: gettext_lazy("提交申报"),
    Action.PRECHECK_PASS: gettext_lazy("预审通过"),
    Action.PRECHECK_RETURN: gettext_lazy("预审退回"),
    Action.RECEIVE: gettext_lazy("接件"),
    Action.REQUEST_CORRECTION: gettext_lazy("一次性告知补正"),
    Action.ALLOW_SECOND_CORRECTION: gettext_lazy("准予再次补正"),
    Action.SUPPLEMENT: gettext_lazy("补正材料"),
    Action.ACCEPT: gettext_lazy("受理"),
    Action.REFUSE: gettext_lazy("不予受理"),
    Action.DEEM_ACCEPT: gettext_lazy("逾期视为受理"),
    Action.COMPLETE_STEP: gettext_lazy("办结本环节"),
    Action.REPORT_UP: gettext_lazy("上报"),
    Action.TAKE_OVER: gettext_lazy("接收上报件"),
    Action.RETURN_DOWN: gettext_lazy("结果下发"),
    Action.EXTEND: gettext_lazy("延期"),
    Action.SPECIAL_START: gettext_lazy("启动特别程序"),
    Action.SPECIAL_END: gettext_lazy("结束特别程序"),
    Action.APPROVE: pgettext_lazy("case action", "准予"),
    Action.DENY: pgettext_lazy("case action", "不予"),
    Action.DELIVER: gettext_lazy("送达"),
    Action.COMPLETE: gettext_lazy("办结"),
    Action.WITHDRAW: gettext_lazy("撤回"),
    Action.VOID: gettext_lazy("作废"),
}

#: The state :func:`check` names when there is no case yet (``receive`` creates it).
NO_CASE = "new"


_CLERKS = frozenset({Role.WINDOW_CLERK, Role.COMMUNITY_WORKER, Role.DEPARTMENT_SYSTEM})
_HANDLERS = frozenset(
    {
        Role.WINDOW_CLERK,
        Role.COMMUNITY_WORKER,
        Role.REVIEWER,
        Role.APPROVER,
        Role.DEPARTMENT_HEAD,
        Role.DEPARTMENT_SYSTEM,
    }
)
# Whether a decider may decide *this* case is the flow's business: the decide step names the role
# (an approver, or the window clerk of an immediate case); the services check it.
_DECIDERS = frozenset({Role.APPROVER, Role.DEPARTMENT_HEAD, Role.DEPARTMENT_SYSTEM, Role.WINDOW_CLERK})
_HEADS = frozenset({Role.DEPARTMENT_HEAD})
_SUPERVISORS = frozenset({Role.SUPERVISOR})
_NOBODY: frozenset[str] = frozenset()

#: The maximum extension (延期) in working days: Art. 42 (+10), joint handling (+15).
MAX_EXTENSION_DAYS = 10
MAX_EXTENSION_DAYS_JOINT = 15

DELIVERY_METHODS: frozenset[str] = frozenset({"window", "mail", "electronic"})


@dataclass(frozen=True, slots=True)
class Transition:
    """One row of the table.

    ``roles``: staff roles that may perform it; ``applicant``: the case's own applicant may;
    ``system``: the platform itself may (sweeps). ``required``: fields that must be non-empty.
    """

    action: str
    sources: frozenset[str]
    target: str
    required: tuple[str, ...] = ()
    roles: frozenset[str] = _NOBODY
    applicant: bool = False
    system: bool = False
    event: str = ""  # audit/event word when it differs from the action

    @property
    def audit_action(self) -> str:
        return f"cases.{self.event or self.action}"


def _t(
    action: str,
    sources: frozenset[str] | set[str],
    target: str,
    *,
    required: tuple[str, ...] = (),
    roles: frozenset[str] = _NOBODY,
    applicant: bool = False,
    system: bool = False,
) -> Transition:
    return Transition(action, frozenset(sources), target, required, roles, applicant, system)


S = State
A = Action

#: THE table. ``receive`` has no source: it creates the case (``None`` stands for "no case yet").
TABLE: dict[str, Transition] = {
    t.action: t
    for t in (
        _t(A.SUBMIT, {S.DRAFT, S.RETURNED}, S.SUBMITTED, applicant=True),
        _t(A.PRECHECK_PASS, {S.SUBMITTED}, S.RECEIVED, roles=_CLERKS),
        _t(A.PRECHECK_RETURN, {S.SUBMITTED}, S.RETURNED, required=("reason",), roles=_CLERKS),
        _t(A.RECEIVE, set(), S.RECEIVED, roles=_CLERKS),
        _t(
            A.REQUEST_CORRECTION,
            {S.RECEIVED},
            S.CORRECTION_REQUESTED,
            required=("missing_items",),
            roles=_CLERKS,
        ),
        _t(
            A.ALLOW_SECOND_CORRECTION,
            {S.RECEIVED, S.CORRECTION_REQUESTED},
            SAME,
            required=("reason",),
            roles=_SUPERVISORS,
        ),
        _t(A.SUPPLEMENT, {S.CORRECTION_REQUESTED}, S.RECEIVED, roles=_CLERKS, applicant=True),
        _t(A.ACCEPT, {S.RECEIVED}, S.HANDLING, roles=_CLERKS),
        _t(
            A.REFUSE,
            {S.RECEIVED, S.CORRECTION_REQUESTED},
            S.REFUSED,
            required=("reason", "legal_basis"),
            roles=_CLERKS,
        ),
        # Art. 32: an application not refused or sent back for correction within 5 working days of
        # its receipt is accepted as of receipt: at a window, online before its pre-check, or
        # reported up by a community station to the level that accepts it (guarded: not accepted yet).
        _t(A.DEEM_ACCEPT, {S.RECEIVED, S.SUBMITTED, S.REPORTED_UP}, S.HANDLING, system=True),
        _t(A.COMPLETE_STEP, {S.HANDLING}, SAME, required=("opinion",), roles=_HANDLERS),
        _t(A.REPORT_UP, {S.RECEIVED, S.HANDLING}, S.REPORTED_UP, required=("opinion",), roles=_HANDLERS),
        _t(A.TAKE_OVER, {S.REPORTED_UP}, RESUME, roles=_HANDLERS),
        _t(A.RETURN_DOWN, {S.APPROVED, S.DENIED}, SAME, roles=_HANDLERS),
        _t(
            A.EXTEND,
            {S.HANDLING, S.REPORTED_UP, S.SUSPENDED},
            SAME,
            required=("days", "reason"),
            roles=_HEADS,
        ),
        _t(
            A.SPECIAL_START,
            {S.HANDLING},
            S.SUSPENDED,
            required=("reason", "duration_days"),
            roles=_HANDLERS,
        ),
        _t(A.SPECIAL_END, {S.SUSPENDED}, S.HANDLING, roles=_HANDLERS),
        _t(A.APPROVE, {S.HANDLING}, S.APPROVED, required=("opinion",), roles=_DECIDERS),
        _t(A.DENY, {S.HANDLING}, S.DENIED, required=("reason",), roles=_DECIDERS),
        _t(A.DELIVER, {S.APPROVED, S.DENIED}, S.DELIVERED, required=("delivery_method",), roles=_CLERKS),
        _t(A.COMPLETE, {S.DELIVERED}, S.COMPLETED, roles=_CLERKS, system=True),
        _t(A.WITHDRAW, BEFORE_DECISION - {S.DRAFT}, S.WITHDRAWN, applicant=True, roles=_CLERKS),
        _t(A.VOID, frozenset(ALL_STATES) - FINAL_STATES, S.VOIDED, required=("reason",), roles=_SUPERVISORS),
    )
}

#: Actions a window/API client may name; ``receive`` creates a case and is not taken on one.
CASE_ACTIONS: tuple[str, ...] = tuple(a for a in TABLE if a != A.RECEIVE)


@dataclass(frozen=True, slots=True)
class Facts:
    """What the table's guards need to know about the case and the actor (no database)."""

    accepted: bool = False
    corrections_count: int = 0
    second_correction_allowed: bool = False
    extension_days: int = 0
    joint: bool = False
    is_applicant: bool = False
    is_system: bool = False


def allowed_actions(state: str) -> list[str]:
    """Every action the table allows from ``state``, in table order."""
    return [a for a, t in TABLE.items() if state in t.sources]


def target_state(action: str, state: str, facts: Facts) -> str:
    """The state after ``action`` (resolving :data:`SAME` and :data:`RESUME`)."""
    row = TABLE[action]
    if row.target == SAME:
        return state
    if row.target == RESUME:
        return State.HANDLING if facts.accepted else State.RECEIVED
    return row.target


def _empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | tuple | set | frozenset | dict):
        return len(value) == 0 or all(_empty(v) for v in value)
    return False


def _label(labels: Mapping[str, Promise], code: str) -> str:
    return str(labels.get(code, code))


def _joined(names: Iterable[str]) -> str:
    """Names joined as "a、b、c" (", " in English)."""
    return pgettext("list separator", "、").join(names)


def illegal(reason: str, state: str, allowed: Sequence[str], **details: Any) -> IllegalTransition:
    """A refusal (409) whose message gives ``reason`` and then names the state and the actions
    allowed from it, by their labels in the active language; ``details`` keeps the codes (``state``,
    ``allowed`` and whatever else is given) for clients to branch on."""
    names = _joined(_label(ACTION_LABELS, a) for a in allowed)
    state_name = _("尚未建立") if state == NO_CASE else _label(STATE_LABELS, state)
    return IllegalTransition(
        _("%(reason)s（办件状态：%(state)s；可执行的操作：%(allowed)s）。")
        % {"reason": reason, "state": state_name, "allowed": names or _("无")},
        details={"state": state, "allowed": list(allowed), **details},
    )


def check(
    action: str,
    state: str | None,
    *,
    fields: Mapping[str, Any] | None = None,
    facts: Facts = Facts(),
) -> str:
    """Validate one action; answer the resulting state or raise.

    :class:`IllegalTransition` (409) when the action is unknown or not allowed from ``state`` (the
    message names the state and what is allowed), or a guard of the action refuses it (一次性告知,
    extension once); :class:`ValidationFailed` (422) when a required field is missing or out of range.
    Who may act is :func:`may_perform` plus the reach checks of :mod:`sanji.cases.policies`.
    Messages are in the active language; ``details`` carry the codes.
    """
    fields = fields or {}
    row = TABLE.get(action)
    current = state or NO_CASE
    if row is None:
        raise illegal(_("没有“%(action)s”这项操作") % {"action": action}, current, allowed_actions(current))
    if (state is None and row.sources) or (state is not None and state not in row.sources):
        allowed = allowed_actions(current) if state is not None else [A.RECEIVE]
        raise illegal(
            _("此办件当前不能%(action)s") % {"action": _label(ACTION_LABELS, action)}, current, allowed
        )
    missing = [name for name in row.required if _empty(fields.get(name))]
    if missing:
        raise ValidationFailed(
            _("“%(action)s”须填写：%(fields)s。")
            % {"action": _label(ACTION_LABELS, action), "fields": _joined(missing)},
            details=[{"field": name, "reason": "required"} for name in missing],
        )
    _guards(action, state or "", fields, facts)
    return target_state(action, current, facts)


def _guards(action: str, state: str, fields: Mapping[str, Any], facts: Facts) -> None:
    if (
        action == A.REQUEST_CORRECTION
        and facts.corrections_count >= 1
        and not facts.second_correction_allowed
    ):
        # 一次性告知: all missing items are listed at once; a second request breaks that rule.
        raise IllegalTransition(
            _("此办件已一次性告知过补正内容；再次告知补正须经监察人员“%(allow)s”。")
            % {"allow": _label(ACTION_LABELS, A.ALLOW_SECOND_CORRECTION)},
            details={"state": state, "rule": "one_time_notice"},
        )
    if action == A.EXTEND:
        if facts.extension_days > 0:
            raise IllegalTransition(
                _("此办件已延期一次；延期只能批准一次。"),
                details={"state": state, "rule": "extend_once"},
            )
        limit = MAX_EXTENSION_DAYS_JOINT if facts.joint else MAX_EXTENSION_DAYS
        days = _as_int(fields.get("days"), "days")
        if not 1 <= days <= limit:
            raise ValidationFailed(
                _("延期为 1 至 %(limit)s 个工作日。") % {"limit": limit},
                details=[{"field": "days", "reason": "range"}],
            )
    if action == A.SPECIAL_START:
        days = _as_int(fields.get("duration_days"), "duration_days")
        if days < 1:
            raise ValidationFailed(
                _("特别程序的批准时长至少为 1 个工作日。"),
                details=[{"field": "duration_days", "reason": "range"}],
            )
    if action == A.DELIVER:
        if str(fields.get("delivery_method")) not in DELIVERY_METHODS:
            raise ValidationFailed(
                _("送达方式须为以下之一：%(methods)s。") % {"methods": _joined(sorted(DELIVERY_METHODS))},
                details=[{"field": "delivery_method", "reason": "choice"}],
            )
        if state == State.APPROVED and _empty(fields.get("certificate_no")):
            raise ValidationFailed(
                _("准予的结果须连同证照编号送达。"),
                details=[{"field": "certificate_no", "reason": "required"}],
            )
    if action == A.WITHDRAW and not (facts.is_applicant or not _empty(fields.get("reason"))):
        raise ValidationFailed(
            _("工作人员代申请人撤回时须说明理由。"),
            details=[{"field": "reason", "reason": "required"}],
        )


def _as_int(value: Any, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValidationFailed(
            _("%(field)s 须为整数。") % {"field": name}, details=[{"field": name, "reason": "integer"}]
        ) from None


def may_perform(action: str, *, roles: frozenset[str], facts: Facts) -> bool:
    """Does the actor's kind (role, applicant, platform) fit the action's row? Reach is checked elsewhere."""
    row = TABLE.get(action)
    if row is None:
        return False
    if row.system and facts.is_system:
        return True
    if row.applicant and facts.is_applicant:
        return True
    return bool(row.roles & roles)
