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

from dataclasses import dataclass

from django.db import models
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

    @property
    def audit_action(self) -> str:
        return f"supervision.mark_{self.action}"


M = MarkState
_OPEN_MARK = frozenset({M.ISSUED, M.EXPLAINED, M.APPEALED})

MARK_TABLE: dict[str, Step] = {
    s.action: s
    for s in (
        Step("confirm", frozenset({M.HELD}), M.ISSUED, SUPERVISOR),
        Step("explain", frozenset({M.ISSUED}), M.EXPLAINED, UNIT, ("text",)),
        Step("appeal", frozenset({M.ISSUED, M.EXPLAINED}), M.APPEALED, UNIT, ("text",)),
        Step("cancel", frozenset({M.HELD}) | _OPEN_MARK, M.CANCELLED, SUPERVISOR, ("text",)),
        Step("uphold", _OPEN_MARK, M.UPHELD, SUPERVISOR),
        Step("escalate", _OPEN_MARK | {M.UPHELD}, M.ESCALATED, SUPERVISOR, ("text", "days")),
    )
}

OS = OrderState
ORDER_TABLE: dict[str, Step] = {
    s.action: s
    for s in (
        Step("answer", frozenset({OS.OPEN}), OS.ANSWERED, UNIT, ("text",)),
        Step("close", frozenset({OS.OPEN, OS.ANSWERED}), OS.CLOSED, SUPERVISOR),
    )
}

#: Marks that count (in the score, on the board): issued and not cancelled.
COUNTING_STATES: frozenset[str] = frozenset({M.ISSUED, M.EXPLAINED, M.APPEALED, M.UPHELD, M.ESCALATED})

_ALREADY: dict[tuple[str, str], str] = {
    ("confirm", M.ISSUED): "This mark is already confirmed.",
    ("confirm", M.CANCELLED): "This mark was cancelled; it cannot be confirmed.",
    ("appeal", M.APPEALED): "An appeal of this mark is already pending.",
    ("escalate", M.ESCALATED): "This mark is already escalated to a supervision order.",
}


def allowed(table: dict[str, Step], state: str) -> list[str]:
    return [a for a, s in table.items() if state in s.sources]


def check(table: dict[str, Step], action: str, state: str, fields: dict[str, object] | None = None) -> Step:
    """Validate ``action`` from ``state``; answer the table row or raise (409 / 422)."""
    fields = fields or {}
    row = table.get(action)
    if row is None or state not in row.sources:
        message = _ALREADY.get((action, state)) or (
            f"Action {action!r} is not allowed in state {state}; "
            f"allowed: {', '.join(allowed(table, state)) or 'none'}."
        )
        raise IllegalTransition(message, details={"state": state, "allowed": allowed(table, state)})
    missing = [
        name for name in row.required if fields.get(name) in (None, "") or str(fields.get(name)).strip() == ""
    ]
    if missing:
        raise ValidationFailed(
            f"Action {action!r} needs: {', '.join(missing)}.",
            details=[{"field": name, "reason": "required"} for name in missing],
        )
    return row
