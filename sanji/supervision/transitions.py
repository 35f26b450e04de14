"""The lifecycle of a mark and of a supervision order (督办) — one table each, pure, no database.

Mark states:
    held (待确认: the rule holds its marks for a supervisor) → issued (已发出) by ``confirm``;
    issued → explained (已说明) / appealed (申诉中) by the responsible unit;
    held / issued / explained / appealed → cancelled (已撤销) by a supervisor;
    issued / explained / appealed → upheld (维持) by a supervisor;
    issued / explained / appealed / upheld → escalated (已督办): a supervision order is opened.

Order states: open (督办中) → answered (已反馈) by the unit → closed (已办结) by a supervisor; a
supervisor may also close an open order. Whether an order is overdue is the sweep's business (a mark).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _

from sanji.core.errors import IllegalTransition, ValidationFailed


class MarkState(models.TextChoices):
    HELD = "held", _("待确认")
    ISSUED = "issued", _("已发出")
    EXPLAINED = "explained", _("已说明")
    APPEALED = "appealed", _("申诉中")
    UPHELD = "upheld", _("维持")
    CANCELLED = "cancelled", _("已撤销")
    ESCALATED = "escalated", _("已督办")


class OrderState(models.TextChoices):
    OPEN = "open", _("督办中")
    ANSWERED = "answered", _("已反馈")
    CLOSED = "closed", _("已办结")


SUPERVISOR = "supervisor"
UNIT = "unit"


@dataclass(frozen=True, slots=True)
class Step:
    action: str
    sources: frozenset[str]
    target: str
    by: str  # SUPERVISOR | UNIT
    required: tuple[str, ...] = ()
    label: str | Promise = ""  # the action's name for people (a refusal names the allowed ones)

    @property
    def audit_action(self) -> str:
        return f"supervision.mark_{self.action}"


M = MarkState
_OPEN_MARK = frozenset({M.ISSUED, M.EXPLAINED, M.APPEALED})

MARK_TABLE: dict[str, Step] = {
    s.action: s
    for s in (
        Step("confirm", frozenset({M.HELD}), M.ISSUED, SUPERVISOR, label=_("确认发出")),
        Step("explain", frozenset({M.ISSUED}), M.EXPLAINED, UNIT, ("text",), _("情况说明")),
        Step("appeal", frozenset({M.ISSUED, M.EXPLAINED}), M.APPEALED, UNIT, ("text",), _("申诉")),
        Step("cancel", frozenset({M.HELD}) | _OPEN_MARK, M.CANCELLED, SUPERVISOR, ("text",), _("撤销")),
        Step("uphold", _OPEN_MARK, M.UPHELD, SUPERVISOR, label=_("维持")),
        Step("escalate", _OPEN_MARK | {M.UPHELD}, M.ESCALATED, SUPERVISOR, ("text", "days"), _("转督办")),
    )
}

OS = OrderState
ORDER_TABLE: dict[str, Step] = {
    s.action: s
    for s in (
        Step("answer", frozenset({OS.OPEN}), OS.ANSWERED, UNIT, ("text",), _("反馈办理情况")),
        Step("close", frozenset({OS.OPEN, OS.ANSWERED}), OS.CLOSED, SUPERVISOR, label=_("办结督办")),
    )
}

#: Marks that count (in the score, on the board): issued and not cancelled.
COUNTING_STATES: frozenset[str] = frozenset({M.ISSUED, M.EXPLAINED, M.APPEALED, M.UPHELD, M.ESCALATED})

_ALREADY: dict[tuple[str, str], Promise] = {
    ("confirm", M.ISSUED): _("此监察标记已确认发出。"),
    ("confirm", M.CANCELLED): _("此监察标记已撤销，不能再确认发出。"),
    ("appeal", M.APPEALED): _("此监察标记的申诉正在处理中。"),
    ("escalate", M.ESCALATED): _("此监察标记已转为督办。"),
}


def allowed(table: dict[str, Step], state: str) -> list[str]:
    return [a for a, s in table.items() if state in s.sources]


def _name(table: Mapping[str, Step], action: str) -> str:
    row = table.get(action)
    return str(row.label) if row is not None and row.label else action


def check(
    table: dict[str, Step],
    action: str,
    state: str,
    fields: dict[str, object] | None = None,
    *,
    state_label: str = "",
) -> Step:
    """Validate ``action`` from ``state``; answer the table row or raise (409 / 422).

    A refusal names the state (``state_label``, its name for people, when given) and the actions
    allowed from it, in the active language; ``details`` keeps the codes."""
    fields = fields or {}
    row = table.get(action)
    if row is None or state not in row.sources:
        permitted = allowed(table, state)
        already = _ALREADY.get((action, state))
        message = (
            str(already)
            if already is not None
            else gettext("当前不能执行“%(action)s”（状态：%(state)s；可执行的操作：%(allowed)s）。")
            % {
                "action": _name(table, action),
                "state": state_label or state,
                "allowed": pgettext("list separator", "、").join(_name(table, a) for a in permitted)
                or gettext("无"),
            }
        )
        raise IllegalTransition(message, details={"state": state, "allowed": permitted})
    missing = [
        name for name in row.required if fields.get(name) in (None, "") or str(fields.get(name)).strip() == ""
    ]
    if missing:
        raise ValidationFailed(
            gettext("“%(action)s”须填写：%(fields)s。")
            % {"action": _name(table, action), "fields": pgettext("list separator", "、").join(missing)},
            details=[{"field": name, "reason": "required"} for name in missing],
        )
    return row
