"""Writes of electronic supervision: marks (from events, the sweep, other apps), their lifecycle,
supervision orders (督办) and the rule configuration.

Entry points:
- :func:`case_event_evaluate` — subscribed to :data:`sanji.core.hooks.case_event_committed`; runs the
  event-driven rules on the case right after each case event commits.
- :func:`supervision_sweep` — the periodic, set-based sweep (``sanji supervision sweep``).
- :func:`marks_issue` — how another app (evaluation's follow-up watch) raises marks.
- ``mark_<verb>`` / ``order_<verb>`` — the lifecycle, one transitions table each.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from sanji.audit.services import record
from sanji.calendar.selectors import work_calendar
from sanji.calendar.workdays import CalendarNotConfigured, deadline
from sanji.cases.models import CaseEvent
from sanji.core import clock
from sanji.core.actors import Actor, system_actor
from sanji.core.authz import require
from sanji.core.configcache import Fingerprinted
from sanji.core.errors import Conflict, NotFound, ValidationFailed
from sanji.supervision import facts, policies, rules, sweep
from sanji.supervision.models import Mark, RuleConfig, SupervisionOrder, SweepRun
from sanji.supervision.rules import RuleCode, RuleSetting
from sanji.supervision.transitions import MARK_TABLE, ORDER_TABLE, MarkState, check

logger = logging.getLogger(__name__)

SUPERVISION_ACTOR = system_actor("supervision")

#: Warnings are looked for among deadlines up to this many days back (a sweep down for a while).
WARNING_LOOKBACK_DAYS = 31
#: Default working days a supervision order (督办) gives the unit.
ORDER_DEFAULT_DAYS = 5
MAX_ORDER_DAYS = 30


# --- rule settings ---------------------------------------------------------------------------------


def _build_settings(rows: Any) -> dict[str, RuleSetting]:
    overrides = {
        code: RuleSetting(code, enabled, threshold, auto_issue, points, rules.DEFAULTS[code].severity)
        for code, enabled, threshold, auto_issue, points in rows
        if code in rules.DEFAULTS
    }
    return rules.effective(overrides)


#: The settings in this process, with the configuration rows they were built from (the rows are
#: their own fingerprint: a dozen short ones).
_settings: Fingerprinted[dict[str, RuleSetting]] = Fingerprinted(
    lambda: tuple(facts.rule_rows()), _build_settings
)


def rule_settings() -> dict[str, RuleSetting]:
    """The effective setting of every rule: the defaults, overridden by RuleConfig rows.

    The hook asks on every case event. The settings are rebuilt only when the configuration rows
    differ from the last build's, and the rows are read at most once per
    ``SANJI_CONFIG_RECHECK_SECONDS`` (sanji.core.configcache): a change committed by another
    process counts within that time, one made by this process at once, a rolled-back one never.
    """
    return dict(_settings.get())


def rule_config_update(
    *,
    actor: Actor,
    code: str,
    enabled: bool,
    threshold: int,
    auto_issue: bool,
    points: Decimal | str,
) -> RuleConfig:
    """Change one rule's switch, threshold, issuing mode and points (the supervisor in charge)."""
    require(policies.can_configure_rules(actor), _("只有主管监察人员可以配置监察规则。"))
    if code not in rules.DEFAULTS:
        raise NotFound(_("没有“%(code)s”这条规则。") % {"code": code})
    try:
        value = Decimal(str(points))
    except InvalidOperation:
        raise ValidationFailed(
            _("分值须为数字。"), details=[{"field": "points", "reason": "number"}]
        ) from None
    if not Decimal("-100") <= value <= Decimal("100"):
        raise ValidationFailed(
            _("分值须在 -100 至 100 之间。"), details=[{"field": "points", "reason": "range"}]
        )
    if threshold < 0 or threshold > 60:
        raise ValidationFailed(
            _("阈值须在 0 至 60 之间。"), details=[{"field": "threshold", "reason": "range"}]
        )
    if code == RuleCode.WARNING and threshold < 1:
        raise ValidationFailed(
            _("预警阈值至少为 1 个工作日。"), details=[{"field": "threshold", "reason": "range"}]
        )
    with transaction.atomic():
        row = RuleConfig.objects.select_for_update().get_or_create(code=code)[0]
        before = {
            "enabled": row.enabled,
            "threshold": row.threshold,
            "auto_issue": row.auto_issue,
            "points": str(row.points),
        }
        row.enabled = enabled
        row.threshold = threshold
        row.auto_issue = auto_issue
        row.points = value
        row.updated_at = clock.now()
        row.updated_by = actor.username
        row.save()
        _settings.written()
        record(
            actor=actor,
            action="supervision.rule_configured",
            target=row,
            data={
                "code": code,
                "before": before,
                "after": {
                    "enabled": enabled,
                    "threshold": threshold,
                    "auto_issue": auto_issue,
                    "points": str(value),
                },
            },
        )
    return row


def rule_configs_seed(*, actor: Actor) -> int:
    """Create the missing RuleConfig rows with the defaults (idempotent); answers how many were created."""
    require(policies.can_configure_rules(actor), _("只有主管监察人员可以配置监察规则。"))
    existing = set(RuleConfig.objects.values_list("code", flat=True))
    rows = [
        RuleConfig(
            code=code, enabled=d.enabled, threshold=d.threshold, auto_issue=d.auto_issue, points=d.points
        )
        for code, d in rules.DEFAULTS.items()
        if code not in existing
    ]
    RuleConfig.objects.bulk_create(rows, ignore_conflicts=True)
    _settings.written()
    return len(rows)


# --- raising marks ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MarkCandidate:
    """A rule hit to record; the key (case, rule, period) makes raising it twice a no-op."""

    case_id: int
    rule: str
    period: int
    became_at: dt.datetime
    unit_id: int
    region_path: str
    staff_id: int | None = None
    staff_username: str = ""
    event_id: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)


def marks_issue(*, actor: Actor, candidates: Sequence[MarkCandidate]) -> list[Mark]:
    """Record rule hits as marks (INSERT … ON CONFLICT DO NOTHING); answers the marks newly created.

    Disabled rules are skipped; each rule's setting decides issued-at-once or held for confirmation
    and the points. Only the platform raises marks (the hook, the sweep and its steps).
    """
    require(policies.can_sweep(actor), _("只有平台可以生成监察标记。"))
    settings = rule_settings()
    wanted = [c for c in candidates if c.rule in settings and settings[c.rule].enabled]
    if not wanted:
        return []
    keys = {(c.case_id, c.rule, c.period) for c in wanted}
    now = clock.now()
    with transaction.atomic():
        existing = set(
            Mark.objects.filter(case_id__in={k[0] for k in keys}, rule__in={k[1] for k in keys}).values_list(
                "case_id", "rule", "period"
            )
        )
        fresh = [c for c in wanted if (c.case_id, c.rule, c.period) not in existing]
        if not fresh:
            return []
        rows = []
        for c in fresh:
            setting = settings[c.rule]
            rows.append(
                Mark(
                    case_id=c.case_id,
                    rule=c.rule,
                    period=c.period,
                    severity=setting.severity,
                    state=MarkState.ISSUED if setting.auto_issue else MarkState.HELD,
                    became_at=c.became_at,
                    created_at=now,
                    issued_at=now if setting.auto_issue else None,
                    unit_id=c.unit_id,
                    region_path=c.region_path,
                    staff_id=c.staff_id,
                    staff_username=c.staff_username[:150],
                    event_id=c.event_id,
                    points=setting.points,
                    detail=c.detail,
                )
            )
        Mark.objects.bulk_create(rows, ignore_conflicts=True)
        created = list(
            Mark.objects.filter(
                case_id__in={c.case_id for c in fresh}, rule__in={c.rule for c in fresh}, created_at=now
            ).select_related("case")
        )
        created = [
            m
            for m in created
            if (m.case_id, m.rule, m.period) in {(c.case_id, c.rule, c.period) for c in fresh}
        ]
        for mark in created:
            record(
                actor=actor,
                action="supervision.mark_raised",
                target=mark,
                region_path=mark.region_path,
                data={
                    "case": mark.case.number,
                    "rule": mark.rule,
                    "period": mark.period,
                    "state": mark.state,
                },
            )
    return created


# --- event-driven rules (after commit) -------------------------------------------------------------

_STEP_ENDING = frozenset({"accept", "complete_step", "report_up", "approve", "deny", "deliver", "refuse"})


def case_event_evaluate(case_id: int, event_id: int, committed: Mapping[str, Any] | None = None) -> None:
    """The hook subscriber: evaluate the event-driven rules for one committed case event.

    ``committed``: the event, case and steps as the case service wrote them (the hook hands them
    over), else they are read. Then the rule configuration and, for some rules, the case's event
    times are read (:mod:`sanji.supervision.facts`); a write only when a rule hits. The hook logs
    and swallows failures, never undoing the caller's committed work.
    """
    event = facts.from_committed(committed) if committed is not None else facts.event_facts(case_id, event_id)
    if event is None:
        return
    candidates = event_candidates(event, rule_settings())
    if candidates:
        marks_issue(actor=SUPERVISION_ACTOR, candidates=candidates)


def event_candidates(event: facts.EventFacts, settings: dict[str, RuleSetting]) -> list[MarkCandidate]:
    """The rule hits of one event (reads what a rule needs; writes nothing)."""
    action = event.action
    base: dict[str, Any] = {
        "case_id": event.case_id,
        "unit_id": event.unit_id or event.current_unit_id,
        "region_path": event.region_path,
        "staff_id": event.actor_id,
        "staff_username": event.actor_username,
        "event_id": event.event_id,
    }
    hits: list[MarkCandidate] = []

    def on(rule: str) -> bool:
        return rule in settings and settings[rule].enabled

    if action == "request_correction" and event.corrections_count >= 2 and on(RuleCode.SECOND_CORRECTION):
        hits.append(
            MarkCandidate(
                rule=RuleCode.SECOND_CORRECTION,
                period=event.seq,
                became_at=event.at,
                detail={"corrections": event.corrections_count, "event": event.seq},
                **base,
            )
        )
    if (
        action in ("refuse", "deny")
        and on(RuleCode.NO_REASON)
        and rules.reason_missing(
            action, event.reason, event.legal_basis, min_chars=settings[RuleCode.NO_REASON].threshold
        )
    ):
        hits.append(
            MarkCandidate(
                rule=RuleCode.NO_REASON,
                period=event.seq,
                became_at=event.at,
                detail={
                    "action": action,
                    "reason": event.reason[:200],
                    "legal_basis": event.legal_basis[:200],
                },
                **base,
            )
        )
    if (
        action in ("receive", "complete")
        and on(RuleCode.FEE_MISMATCH)
        and rules.fee_differs(event.fee_charged, event.fee_amount)
    ):
        hits.append(
            MarkCandidate(
                rule=RuleCode.FEE_MISMATCH,
                period=0,
                became_at=event.at,
                detail={"charged": f"{event.fee_charged:.2f}", "catalogue": f"{event.fee_amount:.2f}"},
                **base,
            )
        )
    if action in ("approve", "deny") and on(RuleCode.OUT_OF_FLOW):
        hits += _out_of_flow(event, base)
    if event.channel == "api" and on(RuleCode.TIME_CONTRADICTION):
        hits += _time_contradiction(event, base)
    if action in _STEP_ENDING and event.step_order is not None and on(RuleCode.STEP_OVERRUN):
        hits += _step_overrun(event)
    if action == "special_end" and on(RuleCode.SPECIAL_OVERRUN):
        hits += _special_overrun_at_end(event, base)
    return hits


def _out_of_flow(event: facts.EventFacts, base: dict[str, Any]) -> list[MarkCandidate]:
    rows = facts.step_rows(event.case_id) if event.steps is None else facts.step_rows_of(event.steps)
    steps = [rules.StepRecord(*row) for row in rows]
    missing = rules.steps_missing_before(steps, event.step_order or 0, event.at)
    if not missing and event.accepted_at is not None:
        return []
    return [
        MarkCandidate(
            rule=RuleCode.OUT_OF_FLOW,
            period=event.seq,
            became_at=event.at,
            detail={"missing_steps": missing, "accepted": event.accepted_at is not None},
            **base,
        )
    ]


def _time_contradiction(event: facts.EventFacts, base: dict[str, Any]) -> list[MarkCandidate]:
    times = event.event_times if event.event_times is not None else facts.event_times(event.case_id)
    reported: dict[str, dt.datetime] = {}
    bad: list[str] = []
    for source in (event.form_data, event.data):
        parsed, unparsed = rules.parse_reported(source)
        reported.update(parsed)
        bad += unparsed
    problems = rules.time_contradictions(
        rules.TimeFacts(
            event_times=times,
            received_at=event.received_at,
            accepted_at=event.accepted_at,
            decided_at=event.decided_at,
            completed_at=event.completed_at,
            reported=reported,
            now=event.at,
        )
    )
    problems += [f"reported {name} is not an aware ISO 8601 time" for name in bad]
    if not problems:
        return []
    return [
        MarkCandidate(
            rule=RuleCode.TIME_CONTRADICTION,
            period=0,
            became_at=event.at,
            detail={"problems": problems, "event": event.seq},
            **base,
        )
    ]


def _step_overrun(event: facts.EventFacts) -> list[MarkCandidate]:
    """The step this event finished ran past its own limit (parallel steps: one mark per stage)."""
    if event.step_order is None:
        return []
    step = (
        facts.late_step(event.case_id, event.step_order)
        if event.steps is None
        else facts.late_step_of(event.steps, event.step_order)
    )
    if step is None:
        return []
    return [
        MarkCandidate(
            case_id=event.case_id,
            rule=RuleCode.STEP_OVERRUN,
            period=step.order,
            became_at=step.due,
            unit_id=step.unit_id or event.current_unit_id,
            region_path=event.region_path,
            staff_id=step.handled_by_id,
            staff_username=step.handled_by,
            event_id=event.event_id,
            detail={
                "step": step.order,
                "due": step.due.isoformat(),
                "finished": step.finished_at.isoformat(),
            },
        )
    ]


def _special_overrun_at_end(event: facts.EventFacts, base: dict[str, Any]) -> list[MarkCandidate]:
    start = (
        CaseEvent.objects.filter(case_id=event.case_id, action="special_start", seq__lt=event.seq)
        .order_by("-seq")
        .first()
    )
    if start is None:
        return []
    due = _special_due(start.at, start.data)
    if due is None or event.at <= due:
        return []
    return [
        MarkCandidate(
            rule=RuleCode.SPECIAL_OVERRUN,
            period=start.seq,
            became_at=due,
            detail={
                "started": start.at.isoformat(),
                "due": due.isoformat(),
                "days": start.data.get("duration_days"),
            },
            **base,
        )
    ]


def _special_due(started: dt.datetime, data: Any) -> dt.datetime | None:
    raw = (data or {}).get("duration_days") if isinstance(data, dict) or data is None else None
    try:
        days = int(str(raw))
    except (TypeError, ValueError):
        return None
    try:
        return deadline(work_calendar(), started, days)
    except CalendarNotConfigured:
        return None


# --- the sweep -----------------------------------------------------------------------------------

#: Sweep steps of apps above supervision (evaluation's follow-up watch): ``fn(actor, now) -> marks``.
SweepStep = Callable[[Actor, dt.datetime], int]
_SWEEP_STEPS: dict[str, SweepStep] = {}


def sweep_step_register(name: str, fn: SweepStep) -> None:
    """Let a higher app add a step to the sweep (called from its ``AppConfig.ready()``)."""
    _SWEEP_STEPS[name] = fn


@dataclass
class SweepResult:
    created: int = 0
    per_rule: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    board_cells: int = 0
    candidates: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    #: CPU seconds of the sweep's process per step (the machine may be shared: wall time waits).
    cpu: dict[str, float] = field(default_factory=dict)


#: Events younger than this are left to the next sweep's backstop (the per-event hook covers them;
#: a transaction still open when the sweep reads may yet commit an event with a smaller id).
EVENT_SETTLE = dt.timedelta(minutes=10)
#: Rules of the events that the sweep re-evaluates as a backstop to the after-commit hook.
EVENT_RULES: tuple[str, ...] = (
    RuleCode.SECOND_CORRECTION,
    RuleCode.NO_REASON,
    RuleCode.FEE_MISMATCH,
    RuleCode.OUT_OF_FLOW,
    RuleCode.TIME_CONTRADICTION,
)


def supervision_sweep(*, actor: Actor, now: dt.datetime | None = None) -> SweepResult:
    """Evaluate every time-based rule over all cases at once; re-evaluate the event rules over the
    events since the last run (a backstop to the after-commit hook); rebuild the board summary.

    The time rules append their matches to one temporary table, the matches that already are marks
    are dropped in one anti-join, and the rest become marks in one ``INSERT … SELECT``. Idempotent: a
    second run at the same instant creates no mark. Answers the marks created per rule. The run is
    recorded (:class:`SweepRun`, the sweep history) with one audit entry carrying the counts per rule:
    the marks themselves are the record of each hit, so the sweep writes no audit row per mark.
    """
    require(policies.can_sweep(actor), _("只有平台可以运行监察扫描。"))
    now = now or clock.now()
    started = clock.now()
    began, began_cpu = time.perf_counter(), time.process_time()
    settings = rule_settings()
    result = SweepResult()
    cal = work_calendar()
    today = now.astimezone(clock.CITY_TZ).date()

    def timed(name: str, fn: Callable[[], int], *, counts: bool = True) -> int:
        t0, c0 = time.perf_counter(), time.process_time()
        count = fn()
        result.seconds[str(name)] = round(result.seconds.get(str(name), 0) + time.perf_counter() - t0, 3)
        result.cpu[str(name)] = round(result.cpu.get(str(name), 0) + time.process_time() - c0, 3)
        if counts and (name in rules.DEFAULTS or name in _SWEEP_STEPS):
            result.per_rule[str(name)] = result.per_rule.get(str(name), 0) + count
            result.created += count
        return count

    def enabled(code: str) -> RuleSetting | None:
        setting = settings.get(code)
        return setting if setting is not None and setting.enabled else None

    warning = settings[RuleCode.WARNING]
    cutoff: dt.date | None = None
    try:
        cutoff = rules.warning_cutoff(cal, today, warning.threshold)
    except CalendarNotConfigured as exc:
        result.problems.append(f"{rules.WARNINGS_SKIPPED}{exc.condition}")
    due_soon_until = dt.datetime.combine(cutoff, dt.time.max, tzinfo=clock.CITY_TZ) if cutoff else now
    time_rules = [RuleCode.YELLOW_CARD, RuleCode.RED_CARD, RuleCode.ACCEPTANCE_LATE, RuleCode.STEP_OVERRUN]
    time_rules += [RuleCode.WARNING, RuleCode.ORDER_OVERDUE]
    with sweep.bulk_session(), transaction.atomic():
        result.candidates = timed("candidates", partial(_candidates, now, due_soon_until), counts=False)
        try:
            if (s := enabled(RuleCode.YELLOW_CARD)) is not None:
                timed("match:yellow_card", partial(sweep.deadline_passed, s, now, "promised_due"))
            if (s := enabled(RuleCode.RED_CARD)) is not None:
                timed("match:red_card", partial(sweep.deadline_passed, s, now, "legal_due"))
            if (s := enabled(RuleCode.ACCEPTANCE_LATE)) is not None:
                timed("match:acceptance_late", partial(sweep.acceptance_late, s, now))
            if (s := enabled(RuleCode.STEP_OVERRUN)) is not None:
                timed("match:step_overrun", partial(sweep.step_overrun, s, now))
            if warning.enabled and cutoff is not None:
                starts = _warning_starts(cal, today, cutoff, warning.threshold)
                timed("match:warning", partial(sweep.warnings, warning, now, starts))
            if (s := enabled(RuleCode.ORDER_OVERDUE)) is not None:
                timed("match:order_overdue", partial(sweep.orders_overdue, s, now))
            created: dict[str, int] = {}

            def to_marks() -> int:
                created.update(sweep.hits_to_marks(settings, now))
                return sum(created.values())

            timed("marks", to_marks, counts=False)
            for code in time_rules:
                if enabled(code) is not None:
                    result.per_rule[str(code)] = created.get(str(code), 0)
            result.created += sum(created.values())
        finally:
            sweep.hits_close()
            sweep.candidates_close()
        if (s := enabled(RuleCode.SPECIAL_OVERRUN)) is not None:
            timed(RuleCode.SPECIAL_OVERRUN, partial(_special_overruns, actor, s, now))
        watermark = timed("events", partial(_event_backstop, actor, settings, now, result), counts=False)
    for name, step in list(_SWEEP_STEPS.items()):
        timed(name, partial(step, actor, now))
    with transaction.atomic():
        start_of_day = dt.datetime.combine(today, dt.time.min, tzinfo=clock.CITY_TZ)
        result.board_cells = timed(
            "board", partial(sweep.board_rebuild, now, due_soon_until, start_of_day), counts=False
        )
        result.seconds["total"] = round(time.perf_counter() - began, 3)
        result.cpu["total"] = round(time.process_time() - began_cpu, 3)
        run = SweepRun.objects.create(
            started_at=started,
            finished_at=clock.now(),
            created=result.created,
            per_rule=result.per_rule,
            problems=result.problems,
            actor=actor.username,
            event_watermark=watermark,
        )
        # One entry per run: the sweep's marks are many; each names its rule and the run's time.
        record(
            actor=actor,
            action="supervision.sweep_ran",
            target=run,
            data={
                "created": result.created,
                "per_rule": result.per_rule,
                "problems": result.problems,
                "event_watermark": watermark,
            },
        )
    return result


def _candidates(now: dt.datetime, due_soon_until: dt.datetime) -> int:
    count = sweep.candidates_open(now, due_soon_until)
    sweep.hits_open()
    return count


def _event_backstop(
    actor: Actor, settings: dict[str, RuleSetting], now: dt.datetime, result: SweepResult
) -> int:
    """The event rules over the case events since the last run's watermark; answers the new watermark.

    The after-commit hook may have been skipped (a crash right after the commit) or have failed: the
    sweep finds the events that may hit a rule set-based (:func:`sweep.event_suspects`), then runs the
    hook's own rule code on those few, so a mark is the same whoever raises it and raising it twice is
    a no-op (the unique key). Events of the last minutes are left to the next run.
    """
    after = SweepRun.objects.aggregate(w=Max("event_watermark"))["w"] or 0
    until = sweep.events_until(after, now - EVENT_SETTLE)
    wanted = frozenset(code for code in EVENT_RULES if code in settings and settings[code].enabled)
    if until <= after or not wanted:
        return until
    suspects: dict[tuple[int, int], set[str]] = {}
    for event_id, case_id, rule in sweep.event_suspects(after, until, wanted):
        suspects.setdefault((event_id, case_id), set()).add(rule)
    candidates: list[MarkCandidate] = []
    for (event_id, case_id), codes in sorted(suspects.items()):
        event = facts.event_facts(case_id, event_id)
        if event is not None:
            candidates += event_candidates(event, {code: settings[code] for code in codes})
    created = marks_issue(actor=actor, candidates=candidates) if candidates else []
    for mark in created:
        result.per_rule[mark.rule] = result.per_rule.get(mark.rule, 0) + 1
    result.created += len(created)
    return until


def _warning_starts(
    cal: Any, today: dt.date, cutoff: dt.date, days: int
) -> list[tuple[dt.datetime, dt.datetime]]:
    """(due instant, warning start instant) for every due date from the look-back start to ``cutoff``."""
    pairs = []
    day = today - dt.timedelta(days=WARNING_LOOKBACK_DAYS)
    while day <= cutoff:
        try:
            start = rules.warning_start(cal, day, days)
        except CalendarNotConfigured:
            day += dt.timedelta(days=1)
            continue
        pairs.append(
            (
                dt.datetime.combine(day, dt.time.max, tzinfo=clock.CITY_TZ),
                dt.datetime.combine(start, dt.time.min, tzinfo=clock.CITY_TZ),
            )
        )
        day += dt.timedelta(days=1)
    return pairs


def _special_overruns(actor: Actor, setting: RuleSetting, now: dt.datetime) -> int:
    """特别程序 still running past its approved duration (few cases: computed per procedure)."""
    candidates = []
    for case_id, unit_id, seq, region_path, started, data in sweep.open_special_procedures():
        parsed = data if isinstance(data, dict) else _json(data)
        due = _special_due(started, parsed)
        if due is not None and due < now:
            candidates.append(
                MarkCandidate(
                    case_id=case_id,
                    rule=RuleCode.SPECIAL_OVERRUN,
                    period=seq,
                    became_at=due,
                    unit_id=unit_id,
                    region_path=region_path,
                    detail={"started": started.isoformat(), "due": due.isoformat()},
                )
            )
    return len(marks_issue(actor=actor, candidates=candidates)) if candidates else 0


def _json(value: Any) -> dict[str, Any]:
    import json

    try:
        loaded = json.loads(value) if isinstance(value, str | bytes) else {}
    except ValueError:
        return {}
    return loaded if isinstance(loaded, dict) else {}


# --- the lifecycle of a mark ----------------------------------------------------------------------


def _mark_for_update(actor: Actor, mark_id: int) -> Mark:
    mark = policies.scope(actor, Mark.objects.select_for_update()).filter(pk=mark_id).first()
    if mark is None:
        raise NotFound()
    return Mark.objects.select_related("unit", "case").get(pk=mark.pk)


def mark_act(
    *,
    actor: Actor,
    mark_id: int,
    action: str,
    text: str = "",
    days: int | None = None,
    expected_version: int | None = None,
) -> Mark:
    """Perform one lifecycle action on a mark (see :mod:`sanji.supervision.transitions`).

    :class:`NotFound` outside the actor's scope (a unit looking at another unit's mark),
    :class:`Forbidden` for an action of the other side, :class:`IllegalTransition` (409) from a state
    that does not allow it (confirming twice), :class:`Conflict` on a stale ``expected_version``.
    """
    with transaction.atomic():
        mark = _mark_for_update(actor, mark_id)
        if expected_version is not None and mark.version != expected_version:
            raise Conflict(
                _("此监察标记已被他人更新（当前版本 %(version)s，预期 %(expected)s），请刷新后重试。")
                % {"version": mark.version, "expected": expected_version},
                details={"version": mark.version},
            )
        require(
            policies.can_act_on_mark(actor, mark, action) or action not in MARK_TABLE,
            _("此操作应由另一方（监察人员或责任单位）执行。"),
        )
        order_days = days if days is not None else ORDER_DEFAULT_DAYS
        fields: dict[str, object] = {"text": text.strip(), "days": order_days}
        row = check(MARK_TABLE, action, mark.state, fields, state_label=mark.get_state_display())
        now = clock.now()
        previous = mark.state
        mark.state = row.target
        mark.version += 1
        order = None
        if action == "confirm":
            mark.issued_at = now
        if action == "explain":
            mark.explanation = text.strip()
        elif action == "appeal":
            mark.appeal_reason = text.strip()
        elif action in ("cancel", "uphold", "escalate", "confirm"):
            mark.decision_note = text.strip() or mark.decision_note
            mark.decided_by = actor.username
            mark.decided_at = now
        mark.save()
        if action == "escalate":
            order = _order_open(actor, mark, text.strip(), order_days, now)
        record(
            actor=actor,
            action=row.audit_action,
            target=mark,
            region_path=mark.region_path,
            data={
                "case": mark.case.number,
                "rule": mark.rule,
                "from": previous,
                "to": mark.state,
                "text": text.strip()[:500],
                "order": order.pk if order is not None else None,
            },
        )
    return mark


def _order_open(actor: Actor, mark: Mark, instruction: str, days: int, now: dt.datetime) -> SupervisionOrder:
    if not 1 <= days <= MAX_ORDER_DAYS:
        raise ValidationFailed(
            _("督办期限为 1 至 %(n)d 个工作日。") % {"n": MAX_ORDER_DAYS},
            details=[{"field": "days", "reason": "range"}],
        )
    try:
        due = deadline(work_calendar(), now, days)
    except CalendarNotConfigured as exc:
        raise ValidationFailed(_("督办期限无法计算：%(reason)s") % {"reason": exc.message}) from None
    order = SupervisionOrder.objects.create(
        mark=mark,
        case=mark.case,
        unit=mark.unit,
        region_path=mark.region_path,
        instruction=instruction,
        days=days,
        due=due,
        issued_at=now,
        issued_by=actor.username,
    )
    record(
        actor=actor,
        action="supervision.order_issued",
        target=order,
        region_path=order.region_path,
        data={"case": mark.case.number, "mark": mark.pk, "days": days, "due": due.isoformat()},
    )
    return order


def mark_confirm(*, actor: Actor, mark_id: int, note: str = "") -> Mark:
    return mark_act(actor=actor, mark_id=mark_id, action="confirm", text=note)


def mark_explain(*, actor: Actor, mark_id: int, text: str) -> Mark:
    return mark_act(actor=actor, mark_id=mark_id, action="explain", text=text)


def mark_appeal(*, actor: Actor, mark_id: int, text: str) -> Mark:
    return mark_act(actor=actor, mark_id=mark_id, action="appeal", text=text)


def mark_cancel(*, actor: Actor, mark_id: int, text: str) -> Mark:
    return mark_act(actor=actor, mark_id=mark_id, action="cancel", text=text)


def mark_uphold(*, actor: Actor, mark_id: int, text: str = "") -> Mark:
    return mark_act(actor=actor, mark_id=mark_id, action="uphold", text=text)


def mark_escalate(*, actor: Actor, mark_id: int, text: str, days: int = ORDER_DEFAULT_DAYS) -> Mark:
    return mark_act(actor=actor, mark_id=mark_id, action="escalate", text=text, days=days)


# --- supervision orders --------------------------------------------------------------------------


def order_act(*, actor: Actor, order_id: int, action: str, text: str = "") -> SupervisionOrder:
    """``answer`` (the unit reports what it did) or ``close`` (a supervisor)."""
    with transaction.atomic():
        order = (
            policies.scope_orders(actor, SupervisionOrder.objects.select_for_update())
            .filter(pk=order_id)
            .first()
        )
        if order is None:
            raise NotFound()
        order = SupervisionOrder.objects.select_related("unit", "case").get(pk=order.pk)
        require(
            policies.can_act_on_order(actor, order, action) or action not in ORDER_TABLE,
            _("此操作应由另一方（监察人员或责任单位）执行。"),
        )
        row = check(
            ORDER_TABLE, action, order.state, {"text": text.strip()}, state_label=order.get_state_display()
        )
        now = clock.now()
        previous = order.state
        order.state = row.target
        order.version += 1
        if action == "answer":
            order.answer = text.strip()
            order.answered_at = now
            order.answered_by = actor.username
        else:
            order.closed_at = now
            order.closed_by = actor.username
        order.save()
        record(
            actor=actor,
            action=f"supervision.order_{action}",
            target=order,
            region_path=order.region_path,
            data={"case": order.case.number, "from": previous, "to": order.state, "text": text.strip()[:500]},
        )
    return order


def order_answer(*, actor: Actor, order_id: int, text: str) -> SupervisionOrder:
    return order_act(actor=actor, order_id=order_id, action="answer", text=text)


def order_close(*, actor: Actor, order_id: int, text: str = "") -> SupervisionOrder:
    return order_act(actor=actor, order_id=order_id, action="close", text=text)
