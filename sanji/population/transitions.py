"""The state machine of a population change (人口变动) — one table, pure, no database.

States: submitted (待核查) → verified (已核准, applied to the registry) | rejected (已退回, with the
reason) | withdrawn (已撤回 by the submitter). Submitting creates the change (no state before).
Who may act *on this change* (reach, not one's own submission) is :mod:`sanji.population.policies`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext, pgettext_lazy

from sanji.core.errors import IllegalTransition, ValidationFailed
from sanji.core.roles import Role


class State:
    SUBMITTED = "submitted"
    VERIFIED = "verified"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class Action:
    SUBMIT = "submit"
    VERIFY = "verify"
    REJECT = "reject"
    WITHDRAW = "withdraw"


FINAL_STATES: frozenset[str] = frozenset({State.VERIFIED, State.REJECTED, State.WITHDRAWN})

SUBMITTERS: frozenset[str] = frozenset({Role.POPULATION_OFFICER, Role.COMMUNITY_WORKER})
VERIFIERS: frozenset[str] = frozenset({Role.POLICE_VERIFIER})


@dataclass(frozen=True, slots=True)
class Transition:
    action: str
    sources: frozenset[str]  # empty: creates the change
    target: str
    roles: frozenset[str]
    required: tuple[str, ...] = ()
    submitter_only: bool = False


TABLE: dict[str, Transition] = {
    t.action: t
    for t in (
        Transition(Action.SUBMIT, frozenset(), State.SUBMITTED, SUBMITTERS),
        Transition(Action.VERIFY, frozenset({State.SUBMITTED}), State.VERIFIED, VERIFIERS),
        Transition(Action.REJECT, frozenset({State.SUBMITTED}), State.REJECTED, VERIFIERS, ("reason",)),
        Transition(
            Action.WITHDRAW, frozenset({State.SUBMITTED}), State.WITHDRAWN, SUBMITTERS, submitter_only=True
        ),
    )
}

#: The audit word of each action.
AUDIT_ACTIONS: dict[str, str] = {
    Action.SUBMIT: "population.change_submitted",
    Action.VERIFY: "population.change_verified",
    Action.REJECT: "population.change_rejected",
    Action.WITHDRAW: "population.change_withdrawn",
}


#: How the messages name states and actions (the same words as the pages).
STATE_LABELS: dict[str, str | Promise] = {
    "new": gettext_lazy("未申报"),
    State.SUBMITTED: gettext_lazy("待核查"),
    State.VERIFIED: gettext_lazy("已核准"),
    State.REJECTED: gettext_lazy("已退回"),
    State.WITHDRAWN: gettext_lazy("已撤回"),
}
ACTION_LABELS: dict[str, str | Promise] = {
    Action.SUBMIT: pgettext_lazy("change action", "申报"),
    Action.VERIFY: gettext_lazy("核准"),
    Action.REJECT: gettext_lazy("退回"),
    Action.WITHDRAW: gettext_lazy("撤回"),
}
FIELD_LABELS: dict[str, str | Promise] = {"reason": gettext_lazy("原因")}


def state_label(state: str) -> str:
    return str(STATE_LABELS.get(state, state))


def allowed_actions(state: str | None) -> list[str]:
    if state is None:
        return [Action.SUBMIT]
    return [a for a, t in TABLE.items() if state in t.sources]


def check(action: str, state: str | None, *, fields: Mapping[str, Any] | None = None) -> str:
    """The state after ``action`` from ``state`` (None: no change yet), or raise.

    :class:`IllegalTransition` (409) for an unknown action or one not allowed from the state (a
    second decision on a decided change lands here); :class:`ValidationFailed` (422) for a
    missing required field (a rejection without its reason).
    """
    fields = fields or {}
    row = TABLE.get(action)
    current = state or "new"
    if (
        row is None
        or (state is None) != (not row.sources)
        or (state is not None and state not in row.sources)
    ):
        allowed = allowed_actions(state)
        raise IllegalTransition(
            _("此变动为“%(state)s”，不能%(action)s（可进行的操作：%(allowed)s）。")
            % {
                "state": state_label(current),
                "action": ACTION_LABELS.get(action, action),
                "allowed": pgettext("list separator", "、").join(str(ACTION_LABELS[a]) for a in allowed)
                or pgettext("no action allowed", "无"),
            },
            details={"state": current, "allowed": allowed},
        )
    missing = [name for name in row.required if not str(fields.get(name) or "").strip()]
    if missing:
        raise ValidationFailed(
            _("%(action)s须填写：%(fields)s。")
            % {
                "action": ACTION_LABELS[action],
                "fields": pgettext("list separator", "、").join(str(FIELD_LABELS.get(n, n)) for n in missing),
            },
            details=[{"field": name, "reason": "required"} for name in missing],
        )
    return row.target


def may_perform(action: str, *, roles: frozenset[str]) -> bool:
    """Does one of the actor's roles fit the action's row? Reach and authorship are checked elsewhere."""
    row = TABLE.get(action)
    return row is not None and bool(row.roles & roles)
