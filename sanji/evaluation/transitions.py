"""The follow-up of a bad review (差评整改) — one table, pure.

open (待整改) → replied (已回复: verified and rectified, or explained; the reply to the citizen) by the
unit; open → appealed (申诉中: the unit says the rating is malicious) by the unit; appealed → closed
(the supervisor accepts the appeal: the rating is excluded from scores) or back to open (rejected).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from sanji.supervision.transitions import SUPERVISOR, UNIT, Step, allowed, check

__all__ = ["FOLLOW_UP_TABLE", "allowed", "check"]

FOLLOW_UP_TABLE: dict[str, Step] = {
    s.action: s
    for s in (
        Step(
            "reply",
            frozenset({"open"}),
            "replied",
            UNIT,
            ("finding", "action_taken", "reply"),
            _("核实、整改并回复"),
        ),
        Step("appeal", frozenset({"open"}), "appealed", UNIT, ("text",), _("申诉恶意评价")),
        Step(
            "accept_appeal",
            frozenset({"appealed"}),
            "closed",
            SUPERVISOR,
            ("text",),
            _("申诉成立（该评价不计入考评）"),
        ),
        Step("reject_appeal", frozenset({"appealed"}), "open", SUPERVISOR, ("text",), _("驳回申诉")),
    )
}
