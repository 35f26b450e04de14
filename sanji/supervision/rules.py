"""The supervision rules: their codes, defaults and the pure predicates behind the event-driven ones.

No database here. :mod:`sanji.supervision.services` feeds the predicates with facts read off a case
and its events; :mod:`sanji.supervision.sweep` turns the time-based rules into set-based SQL. The
defaults follow DESIGN.md §4 and are overridden per rule by
:class:`~sanji.supervision.models.RuleConfig` rows (switch, threshold, auto-issue or held for a
supervisor's confirmation, points used by the monthly score).

Time-based rules (the sweep): 预警 ``warning`` (≤ N working days left before the promised deadline),
黄牌 ``yellow_card`` (promised deadline passed), 红牌 ``red_card`` (legal deadline passed),
``acceptance_late`` (no acceptance decision within 5 working days of receipt, 《行政许可法》 Art. 32),
``step_overrun`` (a step past its own limit), ``special_overrun`` (特别程序 past its approved
duration), ``order_overdue`` (督办 past its deadline) and ``follow_up_overdue`` (a bad review's
follow-up past its limit; found by the evaluation app's sweep step).

Event-driven rules (after each case event commits): ``second_correction`` (a second 补正 request
breaks 一次性告知), ``no_reason`` (不予受理 / 不予 without a real reason or legal basis),
``fee_mismatch`` (fee charged differs from the catalogue, or any fee on a free matter),
``out_of_flow`` (体外循环: a decision without the flow's earlier steps on record) and
``time_contradiction`` (a department system's case whose reported times contradict each other);
``step_overrun`` and ``special_overrun`` are also checked when the step or procedure ends.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise

from django.db import models
from django.utils.translation import gettext_lazy as _

from sanji.calendar.workdays import WorkCalendar, add_workdays, count_workdays

#: How the sweep records the warnings it could not raise (``SweepRun.problems``), in one form
#: whatever the language: this prefix, then the calendar's condition (``CalendarNotConfigured``);
#: pages word it with the ``sweep_problem`` filter.
WARNINGS_SKIPPED = "warnings skipped: "


class RuleCode(models.TextChoices):
    WARNING = "warning", _("预警")
    YELLOW_CARD = "yellow_card", _("黄牌")
    RED_CARD = "red_card", _("红牌")
    ACCEPTANCE_LATE = "acceptance_late", _("受理超期")
    SECOND_CORRECTION = "second_correction", _("二次补正")
    NO_REASON = "no_reason", _("不予受理/不予决定未说明理由")
    STEP_OVERRUN = "step_overrun", _("环节超时")
    SPECIAL_OVERRUN = "special_overrun", _("特别程序超期")
    FEE_MISMATCH = "fee_mismatch", _("收费与目录不符")
    OUT_OF_FLOW = "out_of_flow", _("体外循环")
    TIME_CONTRADICTION = "time_contradiction", _("报送时间矛盾")
    ORDER_OVERDUE = "order_overdue", _("督办超期")
    FOLLOW_UP_OVERDUE = "follow_up_overdue", _("差评整改超期")


class Severity(models.TextChoices):
    WARNING = "warning", _("预警")
    YELLOW = "yellow", _("黄牌")
    RED = "red", _("红牌")
    NOTICE = "notice", _("违规提示")


@dataclass(frozen=True, slots=True)
class RuleDefault:
    """A rule's built-in configuration. ``threshold`` means what :data:`THRESHOLD_MEANING` says."""

    severity: str
    enabled: bool = True
    threshold: int = 0
    auto_issue: bool = True
    points: Decimal = Decimal("0")


R = RuleCode
DEFAULTS: dict[str, RuleDefault] = {
    R.WARNING: RuleDefault(Severity.WARNING, threshold=2, points=Decimal("0")),
    R.YELLOW_CARD: RuleDefault(Severity.YELLOW, points=Decimal("-5")),
    R.RED_CARD: RuleDefault(Severity.RED, points=Decimal("-10")),
    R.ACCEPTANCE_LATE: RuleDefault(Severity.YELLOW, threshold=5, points=Decimal("-5")),
    R.SECOND_CORRECTION: RuleDefault(Severity.NOTICE, points=Decimal("-2")),
    R.NO_REASON: RuleDefault(Severity.NOTICE, threshold=4, auto_issue=False, points=Decimal("-2")),
    R.STEP_OVERRUN: RuleDefault(Severity.NOTICE, points=Decimal("-1")),
    R.SPECIAL_OVERRUN: RuleDefault(Severity.YELLOW, points=Decimal("-5")),
    R.FEE_MISMATCH: RuleDefault(Severity.RED, auto_issue=False, points=Decimal("-10")),
    R.OUT_OF_FLOW: RuleDefault(Severity.RED, auto_issue=False, points=Decimal("-10")),
    R.TIME_CONTRADICTION: RuleDefault(Severity.NOTICE, auto_issue=False, points=Decimal("-2")),
    R.ORDER_OVERDUE: RuleDefault(Severity.RED, points=Decimal("-10")),
    R.FOLLOW_UP_OVERDUE: RuleDefault(Severity.YELLOW, points=Decimal("-5")),
}

#: What the threshold of a rule is (rules without an entry have none).
THRESHOLD_MEANING: dict[str, str] = {
    R.WARNING: "working days left before the promised deadline",
    R.ACCEPTANCE_LATE: "working days from receipt to the acceptance decision (shown; the case's "
    "acceptance deadline is computed by the cases app)",
    R.NO_REASON: "minimum characters of a real reason",
}

#: Rules the sweep evaluates (time passing); the others run on case events.
TIME_RULES: frozenset[str] = frozenset(
    {
        R.WARNING,
        R.YELLOW_CARD,
        R.RED_CARD,
        R.ACCEPTANCE_LATE,
        R.STEP_OVERRUN,
        R.SPECIAL_OVERRUN,
        R.ORDER_OVERDUE,
    }
)


@dataclass(frozen=True, slots=True)
class RuleSetting:
    """The effective configuration of one rule (default overridden by its RuleConfig row)."""

    code: str
    enabled: bool
    threshold: int
    auto_issue: bool
    points: Decimal
    severity: str


def effective(overrides: Mapping[str, RuleSetting] | None = None) -> dict[str, RuleSetting]:
    """Every rule's setting: the defaults, replaced by ``overrides`` where given."""
    result = {
        code: RuleSetting(code, d.enabled, d.threshold, d.auto_issue, d.points, d.severity)
        for code, d in DEFAULTS.items()
    }
    result.update(overrides or {})
    return result


# --- warning window: one calendar cut-off date per sweep ------------------------------------------


def warning_cutoff(cal: WorkCalendar, today: dt.date, days: int) -> dt.date:
    """The date D such that ``due <= D`` ⇔ at most ``days`` working days remain at ``today``.

    Remaining working days are those strictly after today up to and including the due date
    (:func:`sanji.calendar.workdays.remaining_workdays`). They exceed ``days`` exactly from the
    (days+1)-th working day after today, so D is the calendar day before it.
    """
    return add_workdays(cal, today, days + 1) - dt.timedelta(days=1)


def warning_start(cal: WorkCalendar, due: dt.date, days: int) -> dt.date:
    """The first date on which at most ``days`` working days remain before ``due``."""
    day = due
    while count_workdays(cal, day - dt.timedelta(days=1), due) <= days:
        day -= dt.timedelta(days=1)
    return day


# --- event-driven predicates ------------------------------------------------------------------------

#: Placeholders that are not a reason.
_EMPTY_REASONS = frozenset(
    {"无", "略", "-", "—", "/", "n/a", "na", "none", "null", "不符合", "不同意", "其他"}
)


def reason_missing(action: str, reason: str, legal_basis: str, *, min_chars: int) -> bool:
    """A refusal (不予受理) or denial (不予) must state a real reason; a refusal also its legal basis."""
    text = reason.strip()
    if not text or text.lower() in _EMPTY_REASONS or len(text) < min_chars:
        return True
    return action == "refuse" and not legal_basis.strip()


def fee_differs(charged: Decimal | None, catalogue: Decimal) -> bool:
    """Fee charged differs from the catalogue (a free matter: any fee). Nothing charged yet: no hit."""
    if charged is None:
        return False
    return charged != catalogue


@dataclass(frozen=True, slots=True)
class StepRecord:
    order: int
    state: str
    finished_at: dt.datetime | None
    handled_by: str


def steps_missing_before(
    steps: Sequence[StepRecord], decision_order: int, decided_at: dt.datetime
) -> list[int]:
    """体外循环: orders of the flow steps before the decision that are not on record as done by then."""
    return sorted(
        {
            s.order
            for s in steps
            if s.order < decision_order
            and (s.state != "done" or s.finished_at is None or s.finished_at > decided_at or not s.handled_by)
        }
    )


#: Times a department system may report for its case (in the case's form data or an event's data).
REPORTED_TIME_FIELDS: tuple[str, ...] = (
    "applied_at",
    "received_at",
    "accepted_at",
    "decided_at",
    "completed_at",
)


@dataclass(frozen=True, slots=True)
class TimeFacts:
    """The times of a department system's case, as the platform recorded and the system reported them."""

    event_times: Sequence[dt.datetime]  # in event order
    received_at: dt.datetime | None
    accepted_at: dt.datetime | None
    decided_at: dt.datetime | None
    completed_at: dt.datetime | None
    reported: Mapping[str, dt.datetime]  # REPORTED_TIME_FIELDS that were given
    now: dt.datetime


def time_contradictions(facts: TimeFacts) -> list[str]:
    """What contradicts what; empty when the times are consistent."""
    problems: list[str] = []
    for earlier, later in pairwise(facts.event_times):
        if later < earlier:
            problems.append("events out of order")
            break
    chain = [
        ("received_at", facts.received_at),
        ("accepted_at", facts.accepted_at),
        ("decided_at", facts.decided_at),
        ("completed_at", facts.completed_at),
    ]
    known = [(name, at) for name, at in chain if at is not None]
    for (n1, t1), (n2, t2) in pairwise(known):
        if t2 < t1:
            problems.append(f"{n2} before {n1}")
    reported = [(name, facts.reported[name]) for name in REPORTED_TIME_FIELDS if name in facts.reported]
    for name, at in reported:
        if at > facts.now:
            problems.append(f"reported {name} in the future")
    for (n1, t1), (n2, t2) in pairwise(reported):
        if t2 < t1:
            problems.append(f"reported {n2} before reported {n1}")
    applied = facts.reported.get("applied_at")
    if facts.received_at is not None and applied is not None and applied > facts.received_at:
        problems.append("reported applied_at after the platform's receipt")
    return problems


#: The key of the object in which a department system reports its times: in a case's ``form_data``
#: (receipt) or an action's fields (stored in the event's ``data``), e.g.
#: ``{"reported_times": {"received_at": "2026-03-03T09:00:00+08:00", "decided_at": ...}}``.
REPORTED_TIMES_KEY = "reported_times"


def parse_reported(values: Mapping[str, object]) -> tuple[dict[str, dt.datetime], list[str]]:
    """Read :data:`REPORTED_TIME_FIELDS` from a mapping, at its top level or inside its
    :data:`REPORTED_TIMES_KEY` object (which wins): (parsed aware datetimes, names that do not parse)."""
    nested = values.get(REPORTED_TIMES_KEY)
    merged: dict[str, object] = {name: values.get(name) for name in REPORTED_TIME_FIELDS}
    if isinstance(nested, Mapping):
        merged.update(
            {name: nested[name] for name in REPORTED_TIME_FIELDS if nested.get(name) not in (None, "")}
        )
    parsed: dict[str, dt.datetime] = {}
    bad: list[str] = []
    for name in REPORTED_TIME_FIELDS:
        raw = merged.get(name)
        if raw in (None, ""):
            continue
        try:
            at = dt.datetime.fromisoformat(str(raw))
        except ValueError:
            bad.append(name)
            continue
        if at.tzinfo is None:
            bad.append(name)
            continue
        parsed[name] = at
    return parsed, bad
