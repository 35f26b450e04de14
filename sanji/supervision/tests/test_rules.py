"""The pure rule predicates and the lifecycle tables, table-driven."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from sanji.calendar.workdays import WorkCalendar, remaining_workdays
from sanji.core.errors import IllegalTransition, ValidationFailed
from sanji.supervision import rules, transitions
from sanji.supervision.rules import StepRecord, TimeFacts
from sanji.supervision.transitions import MARK_TABLE, ORDER_TABLE, MarkState

CAL = WorkCalendar(
    years=frozenset({2026}),
    holidays=frozenset({dt.date(2026, 4, 6)}),  # a Monday holiday (清明 2026, for the test)
    makeup_workdays=frozenset({dt.date(2026, 4, 11)}),  # a Saturday worked
)


@pytest.mark.parametrize(
    ("today", "days"),
    [
        (dt.date(2026, 3, 10), 2),
        (dt.date(2026, 3, 13), 2),
        (dt.date(2026, 4, 2), 2),
        (dt.date(2026, 4, 3), 2),
        (dt.date(2026, 4, 9), 2),
        (dt.date(2026, 4, 10), 1),
        (dt.date(2026, 4, 4), 3),
    ],
)
def test_warning_cutoff_matches_remaining_workdays(today: dt.date, days: int) -> None:
    cutoff = rules.warning_cutoff(CAL, today, days)
    for offset in range(0, 20):
        due = today + dt.timedelta(days=offset)
        assert (due <= cutoff) == (remaining_workdays(CAL, today, due) <= days), due


@pytest.mark.parametrize(
    "due", [dt.date(2026, 3, 17), dt.date(2026, 4, 7), dt.date(2026, 4, 13), dt.date(2026, 4, 11)]
)
def test_warning_start_is_the_first_day_within_the_window(due: dt.date) -> None:
    start = rules.warning_start(CAL, due, 2)
    assert remaining_workdays(CAL, start, due) <= 2
    assert remaining_workdays(CAL, start - dt.timedelta(days=1), due) > 2


@pytest.mark.parametrize(
    ("action", "reason", "basis", "missing"),
    [
        ("refuse", "材料不符合法定形式", "《行政许可法》第三十二条", False),
        ("refuse", "材料不符合法定形式", "", True),
        ("refuse", "无", "第三十二条", True),
        ("deny", "  ", "", True),
        ("deny", "略", "", True),
        ("deny", "N/A", "", True),
        ("deny", "不符合", "", True),
        ("deny", "不符", "", True),  # shorter than 4 characters
        ("deny", "申请人不具备资质条件", "", False),
    ],
)
def test_reason_missing(action: str, reason: str, basis: str, missing: bool) -> None:
    assert rules.reason_missing(action, reason, basis, min_chars=4) is missing


@pytest.mark.parametrize(
    ("charged", "catalogue", "differs"),
    [
        (None, Decimal("0"), False),
        (Decimal("0"), Decimal("0"), False),
        (Decimal("50"), Decimal("0"), True),  # any fee on a free matter
        (Decimal("50.00"), Decimal("50"), False),
        (Decimal("60"), Decimal("50"), True),
        (Decimal("40"), Decimal("50"), True),
    ],
)
def test_fee_differs(charged: Decimal | None, catalogue: Decimal, differs: bool) -> None:
    assert rules.fee_differs(charged, catalogue) is differs


T = dt.datetime(2026, 3, 3, 2, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)


@pytest.mark.parametrize(
    ("steps", "order", "missing"),
    [
        ([StepRecord(1, "done", T, "a"), StepRecord(2, "done", T + H, "b")], 3, []),
        ([StepRecord(1, "done", T, "a"), StepRecord(2, "active", None, "")], 3, [2]),
        (
            [StepRecord(1, "done", T, "a"), StepRecord(2, "done", T + 5 * H, "b")],
            3,
            [2],
        ),  # finished after the decision
        ([StepRecord(1, "done", T, ""), StepRecord(3, "pending", None, "")], 3, [1]),  # nobody on record
        ([StepRecord(2, "pending", None, ""), StepRecord(2, "done", T, "x")], 3, [2]),  # a parallel step open
        ([StepRecord(4, "pending", None, "")], 3, []),  # later steps do not matter
    ],
)
def test_steps_missing_before_a_decision(steps: list[StepRecord], order: int, missing: list[int]) -> None:
    assert rules.steps_missing_before(steps, order, T + 2 * H) == missing


def facts(**kw: object) -> TimeFacts:
    base: dict[str, object] = {
        "event_times": [T, T + H, T + 2 * H],
        "received_at": T,
        "accepted_at": T + H,
        "decided_at": None,
        "completed_at": None,
        "reported": {},
        "now": T + 3 * H,
    }
    base.update(kw)
    return TimeFacts(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kw", "problem"),
    [
        ({}, None),
        ({"event_times": [T, T + 2 * H, T + H]}, "events out of order"),
        ({"accepted_at": T - H}, "accepted_at before received_at"),
        ({"decided_at": T + 2 * H, "completed_at": T + H}, "completed_at before decided_at"),
        ({"reported": {"decided_at": T + 10 * H}}, "reported decided_at in the future"),
        ({"reported": {"applied_at": T + H}}, "reported applied_at after the platform's receipt"),
        (
            {"reported": {"accepted_at": T + 2 * H, "decided_at": T + H}},
            "reported decided_at before reported accepted_at",
        ),
    ],
)
def test_time_contradictions(kw: dict[str, object], problem: str | None) -> None:
    found = rules.time_contradictions(facts(**kw))
    if problem is None:
        assert found == []
    else:
        assert problem in found


def test_parse_reported_times() -> None:
    parsed, bad = rules.parse_reported(
        {
            "applied_at": "2026-03-01T09:00:00+08:00",
            "decided_at": "2026-03-01 09:00",
            "x": "y",
            "completed_at": "soon",
        }
    )
    assert list(parsed) == ["applied_at"]
    assert bad == ["decided_at", "completed_at"]


MARK_MATRIX = [
    ("confirm", MarkState.HELD, MarkState.ISSUED),
    ("explain", MarkState.ISSUED, MarkState.EXPLAINED),
    ("appeal", MarkState.ISSUED, MarkState.APPEALED),
    ("appeal", MarkState.EXPLAINED, MarkState.APPEALED),
    ("cancel", MarkState.HELD, MarkState.CANCELLED),
    ("cancel", MarkState.APPEALED, MarkState.CANCELLED),
    ("uphold", MarkState.APPEALED, MarkState.UPHELD),
    ("escalate", MarkState.UPHELD, MarkState.ESCALATED),
    ("escalate", MarkState.ISSUED, MarkState.ESCALATED),
]


@pytest.mark.parametrize(("action", "source", "target"), MARK_MATRIX)
def test_mark_table_allows(action: str, source: str, target: str) -> None:
    assert transitions.check(MARK_TABLE, action, source, {"text": "说明", "days": 5}).target == target


@pytest.mark.parametrize(
    ("action", "source"),
    [
        ("confirm", MarkState.ISSUED),  # double confirmation
        ("explain", MarkState.HELD),  # not yet issued: nothing to explain
        ("appeal", MarkState.CANCELLED),
        ("uphold", MarkState.HELD),
        ("escalate", MarkState.ESCALATED),
        ("cancel", MarkState.ESCALATED),
        ("nonsense", MarkState.ISSUED),
    ],
)
def test_mark_table_refuses(action: str, source: str) -> None:
    with pytest.raises(IllegalTransition):
        transitions.check(MARK_TABLE, action, source, {"text": "x", "days": 5})


def test_double_confirmation_message_is_clear() -> None:
    with pytest.raises(IllegalTransition, match="此监察标记已确认发出。"):
        transitions.check(MARK_TABLE, "confirm", MarkState.ISSUED)


def test_a_refusal_names_the_state_and_the_allowed_actions() -> None:
    with pytest.raises(IllegalTransition) as refused:
        transitions.check(MARK_TABLE, "explain", MarkState.HELD, state_label=str(MarkState.HELD.label))
    assert refused.value.message == "当前不能执行“情况说明”（状态：待确认；可执行的操作：确认发出、撤销）。"
    assert refused.value.details == {"state": "held", "allowed": ["confirm", "cancel"]}


def test_required_fields() -> None:
    with pytest.raises(ValidationFailed):
        transitions.check(MARK_TABLE, "appeal", MarkState.ISSUED, {"text": "  "})
    with pytest.raises(ValidationFailed):
        transitions.check(ORDER_TABLE, "answer", "open", {})


def test_every_rule_has_a_default_and_the_migration_seeds_them_all() -> None:
    import importlib

    seed = importlib.import_module("sanji.supervision.migrations.0002_seed_rules")
    assert set(seed.DEFAULTS) == {str(c) for c in rules.RuleCode}
    for code, (enabled, threshold, auto, points) in seed.DEFAULTS.items():
        d = rules.DEFAULTS[rules.RuleCode(code)]
        assert (enabled, threshold, auto, Decimal(points)) == (d.enabled, d.threshold, d.auto_issue, d.points)
