"""The periodic sweep: each time-based rule, idempotence, and the same marks when it was down a day."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command

from sanji.core import clock
from sanji.core.actors import system_actor
from sanji.core.errors import Forbidden
from sanji.supervision import services
from sanji.supervision.models import BoardCell, Mark, RuleConfig, SweepRun
from sanji.supervision.tests.conftest import accepted, act, clerk, receive, reviewer, supervisor
from sanji.supervision.transitions import MarkState

pytestmark = pytest.mark.usefixtures("org", "frozen_now")

PLATFORM = system_actor("test-sweep")


def at(day: str, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), tzinfo=clock.CITY_TZ)


def sweep(day: str, hour: int = 10) -> int:
    with clock.frozen(at(day, hour)):
        return services.supervision_sweep(actor=PLATFORM).created


def marks() -> set[tuple[int, str, int, dt.datetime, int]]:
    return set(Mark.objects.values_list("case_id", "rule", "period", "became_at", "unit_id"))


def rules_of(case_id: int) -> set[str]:
    return set(Mark.objects.filter(case_id=case_id).values_list("rule", flat=True))


def test_nothing_before_any_deadline() -> None:
    accepted()
    assert sweep("2026-03-04") == 0
    assert Mark.objects.count() == 0


def test_warning_two_working_days_before_the_promised_deadline() -> None:
    case = accepted()  # accepted Tue 2026-03-03: promised due Tue 03-17, legal due Tue 03-31
    assert case.promised_due is not None
    assert case.promised_due.astimezone(clock.CITY_TZ).date() == dt.date(2026, 3, 17)
    sweep("2026-03-12")  # Thu: 13, 16, 17 remain (3)
    assert "warning" not in rules_of(case.pk)
    sweep("2026-03-13")  # Fri: 16, 17 remain (2)
    warning = Mark.objects.get(case=case, rule="warning")
    # It became true at the start of Friday (city time), whenever the sweep noticed.
    assert warning.became_at == at("2026-03-13", 0)
    assert warning.state == MarkState.ISSUED
    assert warning.severity == "warning"


def test_yellow_then_red_card_with_the_deadline_as_instant() -> None:
    case = accepted()
    sweep("2026-03-18")
    yellow = Mark.objects.get(case=case, rule="yellow_card")
    assert yellow.became_at == case.promised_due
    assert yellow.unit_id == case.current_unit_id
    assert yellow.region_path == case.region_path
    assert "red_card" not in rules_of(case.pk)
    sweep("2026-04-01")
    red = Mark.objects.get(case=case, rule="red_card")
    assert red.became_at == case.legal_due


def test_decided_in_time_gets_no_card_even_if_swept_later() -> None:
    case = accepted()
    with clock.frozen(at("2026-03-05")):
        case = act(reviewer(), case, "complete_step", opinion="同意")
    sweep("2026-04-10")
    # Still undecided: cards.
    assert {"yellow_card", "red_card"} <= rules_of(case.pk)

    other = accepted()
    with clock.frozen(at("2026-03-05")):
        other = act(reviewer(), other, "complete_step", opinion="同意")
        from sanji.supervision.tests.conftest import approver

        other = act(approver(), other, "approve", opinion="准予")
    sweep("2026-04-10")
    assert not {"yellow_card", "red_card", "warning"} & rules_of(other.pk)


def test_acceptance_not_decided_within_five_working_days() -> None:
    case = receive()  # received Tue 03-03: acceptance due Tue 03-10
    sweep("2026-03-10", 20)
    assert "acceptance_late" not in rules_of(case.pk)
    sweep("2026-03-11")
    mark = Mark.objects.get(case=case, rule="acceptance_late")
    assert mark.became_at == case.acceptance_due


def test_step_overrun_while_the_step_runs() -> None:
    case = accepted()  # review step: 3 working days from 03-03 → due 03-06
    sweep("2026-03-09")
    mark = Mark.objects.get(case=case, rule="step_overrun")
    assert mark.period == 2
    assert mark.became_at == case.step_due


def test_paused_cases_get_no_deadline_marks() -> None:
    case = accepted()
    with clock.frozen(at("2026-03-04")):
        act(reviewer(), case, "special_start", reason="专家评审", duration_days=30)
    sweep("2026-03-20")
    assert not {"yellow_card", "warning", "step_overrun"} & rules_of(case.pk)


def test_special_procedure_past_its_approved_duration() -> None:
    case = accepted()
    with clock.frozen(at("2026-03-04")):
        act(reviewer(), case, "special_start", reason="检测", duration_days=2)
    sweep("2026-03-06")  # due end of Fri 03-06
    assert "special_overrun" not in rules_of(case.pk)
    sweep("2026-03-09")
    mark = Mark.objects.get(case=case, rule="special_overrun")
    assert mark.became_at == dt.datetime.combine(dt.date(2026, 3, 6), dt.time.max, tzinfo=clock.CITY_TZ)
    # Ending it late does not add a second mark for the same procedure.
    with clock.frozen(at("2026-03-10")):
        act(reviewer(), case, "special_end")
    assert Mark.objects.filter(case=case, rule="special_overrun").count() == 1


def test_second_run_creates_nothing() -> None:
    for _ in range(3):
        accepted()
    receive()
    first = sweep("2026-04-02")
    assert first > 0
    assert sweep("2026-04-02") == 0
    assert sweep("2026-04-02", 11) == 0


def test_down_for_a_day_gives_the_same_marks() -> None:
    cases = [accepted() for _ in range(2)] + [receive()]
    days = [
        "2026-03-09",
        "2026-03-10",
        "2026-03-11",
        "2026-03-12",
        "2026-03-13",
        "2026-03-16",
        "2026-03-17",
        "2026-03-18",
        "2026-03-19",
    ]
    for day in days:
        sweep(day)
    daily = marks()
    assert {r for _, r, *_ in daily} >= {"warning", "yellow_card", "acceptance_late", "step_overrun"}
    Mark.objects.all().delete()
    for day in days[:-4] + days[-2:]:  # 13, 16 skipped: the sweep was down
        sweep(day)
    assert marks() == daily
    Mark.objects.all().delete()
    sweep(days[-1])  # only the last day
    assert marks() == daily
    assert len(cases) == 3


def test_disabled_rule_and_held_marks() -> None:
    RuleConfig.objects.filter(code="yellow_card").update(enabled=False)
    RuleConfig.objects.filter(code="red_card").update(auto_issue=False)
    case = accepted()
    sweep("2026-04-02")
    assert "yellow_card" not in rules_of(case.pk)
    red = Mark.objects.get(case=case, rule="red_card")
    assert red.state == MarkState.HELD
    assert red.issued_at is None


def test_board_summary_and_sweep_record() -> None:
    accepted()
    receive()
    sweep("2026-03-18")
    places = list(BoardCell.objects.filter(unit__isnull=True))
    units = list(BoardCell.objects.filter(unit__isnull=False))
    assert sum(c.open_count for c in places) == sum(c.open_count for c in units) == 2
    assert sum(c.overdue for c in places) == sum(c.overdue for c in units) == 1
    run = SweepRun.objects.get()
    assert run.created == sum(run.per_rule.values())


def test_only_the_platform_sweeps() -> None:
    with pytest.raises(Forbidden):
        services.supervision_sweep(actor=supervisor())
    with pytest.raises(Forbidden):
        services.supervision_sweep(actor=clerk())


def test_command_prints_the_count(capsys: pytest.CaptureFixture[str]) -> None:
    accepted()
    with clock.frozen(at("2026-04-02")):
        call_command("supervision", "sweep")
        first = capsys.readouterr().out.strip()
        call_command("supervision", "sweep")
        second = capsys.readouterr().out.strip()
    assert int(first) > 0
    assert second == "0"


def test_board_marks_today_counts_marks_raised_today() -> None:
    """A sweep that was down catches up today: its marks count today, whenever their condition began."""
    from sanji.core.roles import Role
    from sanji.supervision import selectors
    from sanji.supervision.tests.conftest import CITY_SUP, actor_at

    yesterday_case = accepted()
    sweep("2026-03-18")  # yellow card (became 03-17) and step overrun, raised on the 18th
    raised_18th = Mark.objects.filter(case=yesterday_case).count()
    assert raised_18th >= 2
    city = actor_at(Role.SUPERVISOR, CITY_SUP, user_id=9201)
    with clock.frozen(at("2026-03-18", 15)):
        assert selectors.board_for(city).totals.marks_today == raised_18th
    with clock.frozen(at("2026-03-19", 9)):
        assert selectors.board_for(city).totals.marks_today == 0  # became and raised before today
    sweep("2026-04-02")  # the red card (became 03-31) is raised on 04-02 after the sweep was down
    with clock.frozen(at("2026-04-02", 15)):
        board = selectors.board_for(city)
    assert board.totals.marks_today == Mark.objects.filter(case=yesterday_case, rule="red_card").count() == 1
    # A mark the hook raises after the sweep counts once: the sweep's cells plus the marks since.
    with clock.frozen(at("2026-04-02", 11)):
        fee_case = receive(fee_charged="50")
    assert Mark.objects.filter(case=fee_case, rule="fee_mismatch").exists()
    with clock.frozen(at("2026-04-02", 15)):
        assert selectors.board_for(city).totals.marks_today == 2
    sweep("2026-04-02", 16)
    with clock.frozen(at("2026-04-02", 17)):
        assert selectors.board_for(city).totals.marks_today == 2
