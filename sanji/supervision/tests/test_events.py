"""Event-driven rules: each runs after the case event commits, through the real case services."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sanji.cases.models import Case
from sanji.cases.tests.conftest import SAIHAN_CA_WINDOW
from sanji.core import clock
from sanji.core.hooks import case_event_committed
from sanji.core.roles import Role
from sanji.supervision import facts, services
from sanji.supervision.models import Mark
from sanji.supervision.tests.conftest import (
    accepted,
    act,
    actor_at,
    approver,
    clerk,
    receive,
    reviewer,
    supervisor,
)
from sanji.supervision.transitions import MarkState

pytestmark = pytest.mark.usefixtures("org", "frozen_now")


def at(day: str, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), tzinfo=clock.CITY_TZ)


def rules_of(case: Case) -> list[str]:
    return sorted(Mark.objects.filter(case=case).values_list("rule", flat=True))


def test_the_hook_is_subscribed() -> None:
    assert services.case_event_evaluate in case_event_committed._subscribers


def test_a_clean_case_gets_no_mark() -> None:
    case = accepted()
    case = act(reviewer(), case, "complete_step", opinion="同意")
    case = act(approver(), case, "approve", opinion="准予许可")
    assert rules_of(case) == []


def test_second_correction_request() -> None:
    case = receive()
    case = act(clerk(), case, "request_correction", missing_items=["申请书"])
    case = act(clerk(), case, "supplement")
    assert rules_of(case) == []
    case = act(supervisor(), case, "allow_second_correction", reason="申请人更换材料")
    case = act(clerk(), case, "request_correction", missing_items=["证明材料"])
    mark = Mark.objects.get(case=case, rule="second_correction")
    assert mark.unit_id == case.accepting_unit_id
    assert mark.staff_username == clerk().username
    assert mark.event is not None
    assert mark.event.action == "request_correction"


@pytest.mark.parametrize(
    ("reason", "basis", "hit"),
    [("无", "第三十二条", True), ("材料不符合法定形式", "《行政许可法》第三十二条", False)],
)
def test_refusal_without_a_real_reason(reason: str, basis: str, hit: bool) -> None:
    case = receive()
    case = act(clerk(), case, "refuse", reason=reason, legal_basis=basis)
    marks = list(Mark.objects.filter(case=case, rule="no_reason"))
    assert bool(marks) is hit
    if hit:
        assert marks[0].state == MarkState.HELD  # held for a supervisor's confirmation by default


def test_denial_without_a_real_reason() -> None:
    case = accepted()
    case = act(reviewer(), case, "complete_step", opinion="不同意")
    case = act(approver(), case, "deny", reason="略")
    assert "no_reason" in rules_of(case)


def test_fee_on_a_free_matter() -> None:
    case = receive(fee_charged="50")
    mark = Mark.objects.get(case=case, rule="fee_mismatch")
    assert mark.detail == {"charged": "50.00", "catalogue": "0.00"}


def test_no_fee_no_mark() -> None:
    case = receive(fee_charged="0")
    assert rules_of(case) == []


def test_department_system_case_with_contradictory_times() -> None:
    system = actor_at(Role.DEPARTMENT_SYSTEM, SAIHAN_CA_WINDOW, channel="api", user_id=9300)
    case = receive(actor=system, form_data={"applied_at": "2026-03-05T09:00:00+08:00"})
    assert case.channel == "api"
    mark = Mark.objects.get(case=case, rule="time_contradiction")
    assert "reported applied_at after the platform's receipt" in mark.detail["problems"]


def test_department_system_events_out_of_order() -> None:
    system = actor_at(Role.DEPARTMENT_SYSTEM, SAIHAN_CA_WINDOW, channel="api", user_id=9300)
    case = receive(actor=system)
    assert rules_of(case) == []
    with clock.frozen(at("2026-03-02")):  # the system's clock runs a day behind
        act(system, case, "accept")
    assert "time_contradiction" in rules_of(case)


def test_the_time_check_reads_no_event_times() -> None:
    system = actor_at(Role.DEPARTMENT_SYSTEM, SAIHAN_CA_WINDOW, channel="api", user_id=9300)
    case = receive(actor=system)
    with CaptureQueriesContext(connection) as queries:
        act(system, case, "accept")
    reads = [
        q["sql"]
        for q in queries.captured_queries
        if "cases_caseevent" in q["sql"] and q["sql"].startswith("SELECT")  # not the write's INSERT … SELECT
    ]
    assert len(reads) == 1  # the case service's read; the hook is handed the times


def test_window_case_times_are_not_checked() -> None:
    case = receive(form_data={"applied_at": "2026-03-05T09:00:00+08:00"})
    assert rules_of(case) == []


def test_step_past_its_limit_at_completion() -> None:
    case = accepted()  # review: 3 working days → due end of Fri 03-06
    with clock.frozen(at("2026-03-10")):
        case = act(reviewer(), case, "complete_step", opinion="同意")
    mark = Mark.objects.get(case=case, rule="step_overrun")
    assert mark.period == 2
    assert mark.staff_username == reviewer().username


def test_special_procedure_ended_late() -> None:
    case = accepted()
    with clock.frozen(at("2026-03-04")):
        case = act(reviewer(), case, "special_start", reason="检测", duration_days=1)
    with clock.frozen(at("2026-03-09")):
        case = act(reviewer(), case, "special_end")
    mark = Mark.objects.get(case=case, rule="special_overrun")
    assert mark.became_at.astimezone(clock.CITY_TZ).date() == dt.date(2026, 3, 5)


def test_disabled_rule_raises_nothing() -> None:
    from sanji.supervision.models import RuleConfig

    RuleConfig.objects.filter(code="fee_mismatch").update(enabled=False)
    case = receive(fee_charged="50")
    assert rules_of(case) == []


def test_a_failing_rule_does_not_break_the_case_action(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object, **kw: object) -> None:
        raise RuntimeError("rule crashed")

    monkeypatch.setattr(services, "event_candidates", boom)
    case = receive(fee_charged="50")
    assert case.pk is not None
    assert rules_of(case) == []


def test_evaluating_an_ordinary_event_takes_three_queries(django_assert_max_num_queries: Any) -> None:
    """The hook's cost per transition stays a few indexed reads (bench/bench_supervision.py times it)."""
    case = accepted()
    event = case.events.order_by("-seq").first()
    assert event is not None
    with django_assert_max_num_queries(3):
        services.case_event_evaluate(case.pk, event.pk)


def test_the_facts_the_case_service_hands_over_are_the_facts_read_back() -> None:
    """The hook gets the event, case and steps as written; the rules see what a read would give."""
    compared: list[str] = []

    def compare(case_id: int, event_id: int, committed: Any) -> None:  # after commit, as the hook
        given = facts.from_committed(committed)
        read = facts.event_facts(case_id, event_id)
        assert read is not None
        assert given.steps is not None
        assert dataclasses.replace(given, steps=None, event_times=None) == read
        assert facts.step_rows_of(given.steps) == facts.step_rows(case_id)
        assert given.event_times is not None
        assert list(given.event_times) == facts.event_times(case_id)
        for order in {s[0] for s in given.steps}:
            late = facts.late_step_of(given.steps, order)
            assert late == facts.late_step(case_id, order)
            if late is not None:
                compared.append(f"late {order}")
        compared.append(given.action)

    case_event_committed.subscribe(compare)
    try:
        system = actor_at(Role.DEPARTMENT_SYSTEM, SAIHAN_CA_WINDOW, channel="api", user_id=9300)
        applied = {"applied_at": "2026-03-05T09:00:00+08:00"}
        case = receive(actor=system, fee_charged="12.5", form_data=applied)
        case = act(clerk(), case, "accept")
        with clock.frozen(at("2026-03-10")):  # the review step runs past its limit
            case = act(reviewer(), case, "complete_step", opinion="同意")
            act(approver(), case, "deny", reason="不符合条件", legal_basis="《行政许可法》第三十八条")
    finally:
        case_event_committed.unsubscribe(compare)
    assert compared == ["receive", "accept", "late 2", "complete_step", "late 2", "deny"]
