"""The sweep as a backstop to the after-commit hook: event rules over the events since a watermark.

The hook runs in an on-commit callback. Inside a test's transaction nothing commits, so a case
service called *without* :func:`committed` leaves its events exactly as after a crash between the
commit and the hook: on record, unevaluated. The real hook is then run (or not) by hand.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from ninja.testing import TestClient

from sanji.cases import services as cases
from sanji.cases.api import router as cases_router
from sanji.cases.models import Case, CaseEvent
from sanji.cases.tests.conftest import ID_A, SAIHAN_CA_WINDOW
from sanji.core import clock
from sanji.core.actors import Actor, system_actor
from sanji.core.errors import SanjiError
from sanji.core.roles import Role
from sanji.supervision import services
from sanji.supervision.models import Mark, SweepRun
from sanji.supervision.tests.conftest import (
    accepted,
    actor_at,
    approver,
    clerk,
    committed,
    reviewer,
    supervisor,
)

pytestmark = pytest.mark.usefixtures("org", "frozen_now")

PLATFORM = system_actor("test-backstop")
LATER = dt.datetime(2026, 3, 3, 4, 0, tzinfo=dt.UTC)  # two hours after the events (T0)


def silent_receive(actor: Actor | None = None, **kw: Any) -> Case:
    """Receive a case; its hook never runs (as if the process died right after the commit)."""
    case, _code = cases.case_receive(
        actor=actor or clerk(), matter_code="T-PRO", applicant_name="张三", applicant_id_number=ID_A, **kw
    )
    return case


def silent_act(actor: Actor, case: Case, action: str, **fields: Any) -> Case:
    case.refresh_from_db()
    return cases.case_act(
        actor=actor, case_id=case.pk, action=action, expected_version=case.version, **fields
    )


def sweep(now: dt.datetime = LATER) -> services.SweepResult:
    with clock.frozen(now):
        return services.supervision_sweep(actor=PLATFORM)


def rules_of(case: Case) -> list[str]:
    return sorted(Mark.objects.filter(case=case).values_list("rule", flat=True))


def hook(case: Case) -> None:
    """The real after-commit hook, run late for the case's last event (the one whose hook was lost).

    Not for the earlier events: their hooks ran at the time, when the case was as it was then.
    """
    event_id = CaseEvent.objects.filter(case=case).order_by("-seq").values_list("pk", flat=True)[0]
    services.case_event_evaluate(case.pk, event_id)


def test_an_event_whose_hook_did_not_run_gets_its_mark_from_the_next_sweep() -> None:
    case = silent_receive(fee_charged="50")
    assert rules_of(case) == []
    result = sweep()
    assert rules_of(case) == ["fee_mismatch"]
    assert result.per_rule["fee_mismatch"] == 1
    mark = Mark.objects.get(case=case)
    assert mark.detail == {"charged": "50.00", "catalogue": "0.00"}  # the hook's own mark
    assert mark.event is not None
    assert mark.event.action == "receive"
    assert mark.staff_username == clerk().username
    # The late hook, then another sweep: still one mark.
    hook(case)
    assert sweep(LATER + dt.timedelta(hours=1)).created == 0
    assert Mark.objects.filter(case=case).count() == 1


def test_hook_first_then_the_sweep_gives_one_mark() -> None:
    with committed():
        case, _code = cases.case_receive(
            actor=clerk(),
            matter_code="T-PRO",
            applicant_name="张三",
            applicant_id_number=ID_A,
            fee_charged="9",
        )
    assert rules_of(case) == ["fee_mismatch"]
    result = sweep()
    assert "fee_mismatch" not in result.per_rule
    assert Mark.objects.filter(case=case).count() == 1


def test_second_correction_and_refusal_without_reason_from_the_sweep() -> None:
    corrected = silent_receive()
    corrected = silent_act(clerk(), corrected, "request_correction", missing_items=["申请书"])
    corrected = silent_act(clerk(), corrected, "supplement")
    corrected = silent_act(supervisor(), corrected, "allow_second_correction", reason="申请人更换材料")
    corrected = silent_act(clerk(), corrected, "request_correction", missing_items=["证明材料"])
    refused = silent_receive()
    refused = silent_act(clerk(), refused, "refuse", reason="无", legal_basis="第三十二条")
    fine = silent_receive()
    fine = silent_act(
        clerk(), fine, "refuse", reason="材料不符合法定形式", legal_basis="《行政许可法》第三十二条"
    )
    sweep()
    assert rules_of(corrected) == ["second_correction"]
    second = Mark.objects.get(case=corrected)
    assert second.period == corrected.events.get(action="request_correction", seq__gt=3).seq
    assert rules_of(refused) == ["no_reason"]
    assert rules_of(fine) == []
    hook(corrected)
    hook(refused)
    assert Mark.objects.filter(case__in=[corrected, refused]).count() == 2


def test_denial_without_reason_from_the_sweep() -> None:
    case = accepted()  # through the hook: nothing to mark
    case = silent_act(reviewer(), case, "complete_step", opinion="不同意")
    case = silent_act(approver(), case, "deny", reason="略")
    sweep()
    assert rules_of(case) == ["no_reason"]


def test_recent_events_wait_for_the_next_run_and_the_watermark_moves() -> None:
    first = silent_receive(fee_charged="50")
    sweep(LATER)
    run = SweepRun.objects.get()
    assert run.event_watermark == CaseEvent.objects.get(case=first).pk
    # An event one minute before the sweep is left to the next one (a late commit could precede it).
    with clock.frozen(LATER + dt.timedelta(minutes=59)):
        second = silent_receive(fee_charged="50")
    sweep(LATER + dt.timedelta(hours=1))
    assert rules_of(second) == []
    sweep(LATER + dt.timedelta(hours=2))
    assert rules_of(second) == ["fee_mismatch"]
    assert SweepRun.objects.order_by("-id").first().event_watermark == CaseEvent.objects.get(case=second).pk  # type: ignore[union-attr]


def test_a_disabled_event_rule_is_not_evaluated_by_the_sweep() -> None:
    from sanji.supervision.models import RuleConfig

    RuleConfig.objects.filter(code="fee_mismatch").update(enabled=False)
    case = silent_receive(fee_charged="50")
    sweep()
    assert rules_of(case) == []


# --- contradictory times reported by a department system through the cases API ----------------------

api = TestClient(cases_router)


class _Refused:
    def __init__(self, status: int) -> None:
        self.status_code = status


def call(method: str, path: str, actor: Actor, **kw: Any) -> Any:
    try:
        with committed():
            return getattr(api, method)(path, auth=actor, **kw)
    except SanjiError as exc:  # as the project's API handler maps it (not attached to a bare router)
        return _Refused(exc.status)


def system() -> Actor:
    return actor_at(Role.DEPARTMENT_SYSTEM, SAIHAN_CA_WINDOW, channel="api", user_id=9300)


def test_reported_times_through_the_api_contradicting_each_other() -> None:
    body = {"matter_code": "T-PRO", "applicant_name": "张三", "applicant_id_number": ID_A}
    res = call("post", "", system(), json=body)
    assert res.status_code == 201, res.content
    case = res.json()["case"]
    assert Mark.objects.filter(case_id=case["id"]).count() == 0
    times = {"received_at": "2026-03-03T09:00:00+08:00", "accepted_at": "2026-03-02T16:00:00+08:00"}
    res = call(
        "post",
        f"/{case['id']}/actions/accept",
        system(),
        json={"expected_version": case["version"], "reported_times": times},
    )
    assert res.status_code == 200, res.content
    mark = Mark.objects.get(case_id=case["id"], rule="time_contradiction")
    assert "reported accepted_at before reported received_at" in mark.detail["problems"]
    event = CaseEvent.objects.get(case_id=case["id"], action="accept")
    assert set(event.data["reported_times"]) >= {"received_at", "accepted_at"}


def test_consistent_reported_times_give_no_mark_and_bad_ones_are_refused() -> None:
    body = {"matter_code": "T-PRO", "applicant_name": "张三", "applicant_id_number": ID_A}
    case = call("post", "", system(), json=body).json()["case"]
    times = {"received_at": "2026-03-03T09:00:00+08:00", "accepted_at": "2026-03-03T09:30:00+08:00"}
    unknown = call(
        "post",
        f"/{case['id']}/actions/accept",
        system(),
        json={
            "expected_version": case["version"],
            "reported_times": {"signed_at": "2026-03-03T09:00:00+08:00"},
        },
    )
    assert unknown.status_code == 422
    garbled = call(
        "post",
        f"/{case['id']}/actions/accept",
        system(),
        json={"expected_version": case["version"], "reported_times": {"accepted_at": "yesterday"}},
    )
    assert garbled.status_code == 422
    res = call(
        "post",
        f"/{case['id']}/actions/accept",
        system(),
        json={"expected_version": case["version"], "reported_times": times},
    )
    assert res.status_code == 200, res.content
    assert Mark.objects.filter(case_id=case["id"]).count() == 0


def test_reported_times_on_receipt_in_form_data_and_the_sweep_backstop() -> None:
    """A receipt reports its times in ``form_data.reported_times``; the hook was lost: the sweep marks."""
    case = silent_receive(
        actor=system(), form_data={"reported_times": {"applied_at": "2026-03-05T09:00:00+08:00"}}
    )
    assert case.channel == "api"
    assert rules_of(case) == []
    sweep()
    mark = Mark.objects.get(case=case, rule="time_contradiction")
    assert "reported applied_at after the platform's receipt" in mark.detail["problems"]
    hook(case)
    assert Mark.objects.filter(case=case).count() == 1


def test_a_department_system_case_through_every_step_is_not_out_of_flow() -> None:
    """体外循环 through the real services: the cases app lets a decision be entered only at the flow's
    final decision stage, after acceptance, with every earlier stage finished and on record, so a
    department system working through the API cannot leave steps out; no mark, from the hook or the
    sweep. (A decision arriving without those records — an import or a reported, already-decided
    case — has no service path yet; the rule is tested on such records in test_rules.)"""
    body = {"matter_code": "T-PRO", "applicant_name": "张三", "applicant_id_number": ID_A}
    case = call("post", "", system(), json=body).json()["case"]
    res = call("post", f"/{case['id']}/actions/accept", system(), json={"expected_version": case["version"]})
    assert res.status_code == 200, res.content
    early = call(
        "post",
        f"/{case['id']}/actions/approve",
        approver(),
        json={"expected_version": res.json()["version"], "opinion": "准予", "certificate_no": "X-1"},
    )
    assert early.status_code == 409  # a decision before the review stage is refused, not recorded
    review = call(
        "post",
        f"/{case['id']}/actions/complete_step",
        reviewer(),
        json={"expected_version": res.json()["version"], "opinion": "同意"},
    )
    decided = call(
        "post",
        f"/{case['id']}/actions/approve",
        approver(),
        json={"expected_version": review.json()["version"], "opinion": "准予", "certificate_no": "X-1"},
    )
    assert decided.status_code == 200, decided.content
    sweep()
    assert not Mark.objects.filter(case_id=case["id"], rule="out_of_flow").exists()
