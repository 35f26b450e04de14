"""Case services end to end: each kind of case, routing across levels, refusals and rules."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

import pytest

from sanji.audit.models import Entry
from sanji.cases import services
from sanji.cases.models import Case, CaseEvent, CaseStep, StepState
from sanji.cases.tests.conftest import (
    CITY_CA_OFFICE,
    COMMUNITY,
    ID_A,
    ID_B,
    MATERIALS,
    SAIHAN_CA_OFFICE,
    SAIHAN_CA_WINDOW,
    SAIHAN_HOUSING_OFFICE,
    SAIHAN_SUP,
    SYSTEM,
    T0,
    XINCHENG_CA_OFFICE,
    XINCHENG_CA_WINDOW,
    XINCHENG_SUP,
    D,
    actor_at,
    upload_required,
)
from sanji.catalog import services as catalog
from sanji.catalog.flows import StepSpec
from sanji.catalog.models import Matter, StepCode
from sanji.catalog.selectors import terms_from
from sanji.core import clock, crypto
from sanji.core.actors import Actor
from sanji.core.errors import Conflict, Forbidden, IllegalTransition, NotFound, ValidationFailed
from sanji.core.roles import Role


def local(instant: dt.datetime | None) -> dt.date:
    assert instant is not None
    return instant.astimezone(clock.CITY_TZ).date()


pytestmark = pytest.mark.usefixtures("org", "frozen_now")


def clerk() -> Actor:
    return actor_at(Role.WINDOW_CLERK, SAIHAN_CA_WINDOW)


def reviewer(unit: str = SAIHAN_CA_OFFICE) -> Actor:
    return actor_at(Role.REVIEWER, unit)


def approver(unit: str = SAIHAN_CA_OFFICE) -> Actor:
    return actor_at(Role.APPROVER, unit)


def head(unit: str = SAIHAN_CA_OFFICE) -> Actor:
    return actor_at(Role.DEPARTMENT_HEAD, unit)


def act(actor: Actor, case: Case, action: str, **fields: Any) -> Case:
    case.refresh_from_db()
    return services.case_act(
        actor=actor, case_id=case.pk, action=action, expected_version=case.version, **fields
    )


def receive(matter: str = "T-PRO", actor: Actor | None = None, **kw: Any) -> Case:
    case, code = services.case_receive(
        actor=actor or clerk(), matter_code=matter, applicant_name="张三", applicant_id_number=ID_A, **kw
    )
    assert len(code) == 8
    return case


def actions(case: Case) -> list[str]:
    return list(CaseEvent.objects.filter(case=case).order_by("seq").values_list("action", flat=True))


def test_immediate_case_same_day() -> None:
    case = receive("T-IMM")
    assert case.number.startswith("150105-20260303-")
    assert case.state == "received"
    assert case.applicant_id_masked == "110105********002X"
    assert ID_A not in case.applicant_id_encrypted
    act(clerk(), case, "accept")
    act(approver(), case, "approve", opinion="符合条件，准予")
    case = act(clerk(), case, "deliver", delivery_method="window", certificate_no="ZS-0001")
    case = act(clerk(), case, "complete")
    assert case.state == "completed"
    assert case.completed_at == T0
    assert case.accepted_at == case.decided_at == T0
    assert case.promised_due is not None
    assert local(case.promised_due) == dt.date(2026, 3, 3)
    assert case.remaining_days is None
    assert actions(case) == ["receive", "accept", "approve", "deliver", "complete"]
    assert list(CaseStep.objects.filter(case=case).values_list("state", flat=True)) == ["done"] * 3
    audit = list(
        Entry.objects.filter(target_type="cases.case", target_id=str(case.pk)).values_list(
            "action", flat=True
        )
    )
    assert audit == ["cases.receive", "cases.accept", "cases.approve", "cases.deliver", "cases.complete"]


def test_immediate_case_decided_by_the_window_clerk_the_flow_names() -> None:
    case = receive("T-IMW")
    case = act(clerk(), case, "accept")
    # The flow gives the decision to the window: an approver may not take it over.
    with pytest.raises(Forbidden):
        act(approver(), case, "approve", opinion="准予")
    case = act(clerk(), case, "approve", opinion="材料齐全，当场办结")
    assert case.state == "approved"
    case = act(clerk(), case, "deliver", delivery_method="window", certificate_no="ZS-0002")
    assert act(clerk(), case, "complete").state == "completed"


def test_a_window_clerk_cannot_decide_what_the_flow_gives_an_approver() -> None:
    case = act(clerk(), receive("T-IMM"), "accept")
    with pytest.raises(Forbidden):
        act(clerk(), case, "approve", opinion="越权")
    assert Case.objects.get(pk=case.pk).state == "handling"


def test_promised_case_with_review_and_deadlines() -> None:
    case = receive("T-PRO")
    assert case.acceptance_due is not None
    assert local(case.acceptance_due) == dt.date(2026, 3, 10)
    case = act(clerk(), case, "accept")
    assert case.state == "handling"
    assert case.current_step_order == 2
    assert case.current_unit.code == SAIHAN_CA_OFFICE
    assert local(case.promised_due) == dt.date(2026, 3, 17)
    assert local(case.legal_due) == dt.date(2026, 3, 31)
    assert case.remaining_days == 10
    assert local(case.step_due) == dt.date(2026, 3, 6)
    with pytest.raises(Forbidden):
        act(reviewer(), case, "approve", opinion="x")  # reviewers do not decide
    with pytest.raises(IllegalTransition, match=r"^当前环节（审查）不能作出决定（办件状态：办理中；") as err:
        act(approver(), case, "approve", opinion="x")  # not at the decision step yet
    assert err.value.details["state"] == "handling"
    assert err.value.details["step"] == 2
    case = act(reviewer(), case, "complete_step", opinion="材料齐全")
    assert case.current_step_order == 3
    with pytest.raises(IllegalTransition, match="最终决定须以“准予”或“不予”作出"):
        act(approver(), case, "complete_step", opinion="x")
    case = act(approver(), case, "deny", reason="不符合条件")
    assert case.state == "denied"
    case = act(clerk(), case, "deliver", delivery_method="mail")
    case = act(clerk(), case, "complete")
    assert case.state == "completed"


def test_joint_case_parallel_opinions_join() -> None:
    case = receive("T-JNT")
    case = act(clerk(), case, "accept")
    steps = list(CaseStep.objects.filter(case=case, order=2).select_related("department"))
    assert {s.department.kind for s in steps if s.department} == {"civil_affairs", "housing"}
    assert all(s.state == StepState.ACTIVE for s in steps)
    # The housing line sees the joint case and answers its own step.
    housing = reviewer(SAIHAN_HOUSING_OFFICE)
    case = act(housing, case, "complete_step", opinion="住建意见：同意")
    assert case.current_step_order == 2  # still waiting for civil affairs
    with pytest.raises(Forbidden):
        act(housing, case, "complete_step", opinion="again")
    case = act(reviewer(), case, "complete_step", opinion="民政意见：同意")
    assert case.current_step_order == 3
    case = act(approver(), case, "approve", opinion="准予")
    assert case.legal_due is not None
    assert local(case.legal_due) == dt.date(2026, 5, 9)  # 45 working days (05-09 is a make-up Saturday)
    case = act(clerk(), case, "deliver", delivery_method="electronic", certificate_no="ZS-2")
    assert case.state == "delivered"


def test_reported_case_community_to_city_and_back() -> None:
    worker = actor_at(Role.COMMUNITY_WORKER, COMMUNITY)
    case = receive("T-REP", actor=worker)
    assert case.channel == "community"
    assert case.number.startswith("150105001001-20260303-")
    assert case.current_department is not None
    assert case.current_department.code == "150105-civil_affairs"  # the district counterpart
    # Acceptance is at the district: the community cannot accept.
    with pytest.raises((Forbidden, IllegalTransition)):
        act(worker, case, "accept")
    case = act(worker, case, "report_up", opinion="材料已扫描，报区民政窗口")
    assert case.state == "reported_up"
    assert case.current_unit.code == SAIHAN_CA_WINDOW
    case = act(clerk(), case, "take_over")
    assert case.state == "received"
    case = act(clerk(), case, "accept")
    assert case.state == "handling"
    assert case.current_unit.code == SAIHAN_CA_OFFICE
    case = act(reviewer(), case, "report_up", opinion="初审通过，报市局")
    assert case.state == "reported_up"
    assert case.current_unit.code == CITY_CA_OFFICE
    city = actor_at(Role.APPROVER, CITY_CA_OFFICE)
    # The district cannot take over what goes to the city.
    with pytest.raises(Forbidden):
        act(approver(), case, "take_over")
    case = act(city, case, "take_over")
    assert case.state == "handling"
    case = act(city, case, "approve", opinion="准予")
    assert case.state == "approved"
    with pytest.raises(Forbidden):  # the result is still at the city
        act(clerk(), case, "deliver", delivery_method="window", certificate_no="Z-1")
    case = act(city, case, "return_down")
    assert case.current_unit.code == SAIHAN_CA_WINDOW
    case = act(clerk(), case, "deliver", delivery_method="window", certificate_no="Z-1")
    case = act(clerk(), case, "complete")
    assert case.state == "completed"
    assert actions(case) == [
        "receive",
        "report_up",
        "take_over",
        "accept",
        "report_up",
        "take_over",
        "approve",
        "return_down",
        "deliver",
        "complete",
    ]
    # Every level sees the case and its whole history.
    from sanji.cases import selectors

    for who in (worker, clerk(), reviewer(), city):
        assert selectors.case_get_for(who, case.pk).pk == case.pk


def test_the_window_does_not_answer_the_department_s_steps() -> None:
    """A window clerk whose grant reaches the district sees the case at the department, but the
    review step is the reviewer's: reporting it up, starting its special procedure and taking over
    what arrives for the department are refused, and the page offers none of them."""
    from sanji.cases import selectors

    worker = actor_at(Role.COMMUNITY_WORKER, COMMUNITY)
    case = act(worker, receive("T-REP", actor=worker), "report_up", opinion="报区民政窗口")
    case = act(clerk(), act(clerk(), case, "take_over"), "accept")
    assert case.current_unit.code == SAIHAN_CA_OFFICE
    assert case.state == "handling"
    for action, fields in (
        ("report_up", {"opinion": "越权上报"}),
        ("special_start", {"reason": "听证", "duration_days": 5}),
    ):
        with pytest.raises(Forbidden):
            act(clerk(), case, action, **fields)
    # Each refusal is in the audit trail: who tried what, where the case stood, why it was refused.
    refusals = Entry.objects.filter(action="cases.action_refused", target_id=str(case.pk)).order_by("pk")
    assert [(e.actor_username, e.data["attempted"], e.data["state"]) for e in refusals] == [
        (clerk().username, "report_up", "handling"),
        (clerk().username, "special_start", "handling"),
    ]
    assert refusals[0].data["reason"] == "当前环节都不由您办理。"
    assert selectors.case_allowed_actions(clerk(), case) == ["withdraw"]
    assert {"report_up", "special_start"} <= set(selectors.case_allowed_actions(reviewer(), case))
    case = act(reviewer(), case, "special_start", reason="组织听证", duration_days=5)
    with pytest.raises(Forbidden):
        act(clerk(), case, "special_end")
    assert "special_end" not in selectors.case_allowed_actions(clerk(), case)
    case = act(reviewer(), case, "special_end")
    # What arrives at the city's approver is not taken over by the city's window clerk.
    case = act(reviewer(), case, "report_up", opinion="初审通过，报市局")
    city_clerk = actor_at(Role.WINDOW_CLERK, "150100-GSC-W-civil_affairs")
    assert "take_over" not in selectors.case_allowed_actions(city_clerk, case)
    with pytest.raises(Forbidden):
        act(city_clerk, case, "take_over")
    assert act(actor_at(Role.APPROVER, CITY_CA_OFFICE), case, "take_over").state == "handling"
    assert actions(case)[-2:] == ["report_up", "take_over"]


def test_out_of_scope_actor_gets_not_found() -> None:
    case = receive("T-PRO")
    for outsider in (
        actor_at(Role.WINDOW_CLERK, XINCHENG_CA_WINDOW),
        actor_at(Role.REVIEWER, XINCHENG_CA_OFFICE),
        actor_at(Role.SUPERVISOR, XINCHENG_SUP),
        actor_at(Role.REVIEWER, SAIHAN_HOUSING_OFFICE),  # other line, not a joint case
        Actor(user_id=4242, username="stranger"),
    ):
        with pytest.raises(NotFound):
            act(outsider, case, "accept")


def test_visible_but_not_allowed_is_forbidden() -> None:
    case = receive("T-PRO")
    with pytest.raises(Forbidden):
        act(reviewer(), case, "accept")  # reviewers do not accept
    refused = Entry.objects.get(action="cases.action_refused")
    assert (refused.actor_username, refused.data["attempted"], refused.data["number"]) == (
        reviewer().username,
        "accept",
        case.number,
    )
    assert refused.data["reason"] == "您不能对此办件执行“受理”。"
    with pytest.raises(Forbidden):
        act(actor_at(Role.SUPERVISOR, SAIHAN_SUP), case, "accept")


def test_illegal_transition_names_state_and_allowed() -> None:
    case = receive("T-PRO")
    with pytest.raises(IllegalTransition) as err:
        act(approver(), case, "approve", opinion="x")
    # In the reader's language (zh-hans by default), by the labels; the codes stay in the details.
    assert err.value.message == (
        "此办件当前不能准予（办件状态：已接件；可执行的操作：一次性告知补正、准予再次补正、受理、"
        "不予受理、逾期视为受理、上报、撤回、作废）。"
    )
    assert err.value.details == {
        "state": "received",
        "allowed": [
            "request_correction",
            "allow_second_correction",
            "accept",
            "refuse",
            "deem_accept",
            "report_up",
            "withdraw",
            "void",
        ],
    }


def test_stale_version_conflicts() -> None:
    case = receive("T-PRO")
    version = case.version
    services.case_act(actor=clerk(), case_id=case.pk, action="accept", expected_version=version)
    with pytest.raises(Conflict):
        services.case_act(actor=clerk(), case_id=case.pk, action="accept", expected_version=version)


@pytest.mark.parametrize(
    ("action", "fields"),
    [
        ("refuse", {"reason": "不符合"}),
        ("refuse", {"legal_basis": "第三十二条"}),
        ("request_correction", {"missing_items": []}),
    ],
)
def test_missing_reasons_are_refused(action: str, fields: dict[str, Any]) -> None:
    case = receive("T-PRO")
    with pytest.raises(ValidationFailed):
        act(clerk(), case, action, **fields)
    case.refresh_from_db()
    assert case.state == "received"
    assert case.version == 1


def test_missing_opinion_and_deny_reason() -> None:
    case = receive("T-PRO")
    act(clerk(), case, "accept")
    with pytest.raises(ValidationFailed):
        act(reviewer(), case, "complete_step", opinion="  ")
    act(reviewer(), case, "complete_step", opinion="ok")
    with pytest.raises(ValidationFailed):
        act(approver(), case, "deny")


def test_refusal_with_reason_and_basis() -> None:
    case = receive("T-PRO")
    case = act(
        clerk(),
        case,
        "refuse",
        reason="不属于本机关职权范围",
        legal_basis="《行政许可法》第三十二条第一款第二项",
    )
    assert case.state == "refused"
    event = CaseEvent.objects.get(case=case, action="refuse")
    assert event.legal_basis.startswith("《行政许可法》")


def test_second_correction_needs_supervisor() -> None:
    case = receive("T-PRO")
    case = act(clerk(), case, "request_correction", missing_items=["申请书签字", "身份证复印件"])
    assert case.state == "correction_requested"
    assert case.corrections_count == 1
    case = act(clerk(), case, "supplement")
    with pytest.raises(IllegalTransition, match="准予再次补正") as err:
        act(clerk(), case, "request_correction", missing_items=["房产证明"])
    assert err.value.details["rule"] == "one_time_notice"
    with pytest.raises(Forbidden):
        act(head(), case, "allow_second_correction", reason="x")
    act(actor_at(Role.SUPERVISOR, SAIHAN_SUP), case, "allow_second_correction", reason="申请人新增事项")
    case = act(clerk(), case, "request_correction", missing_items=["房产证明"])
    assert case.corrections_count == 2
    act(clerk(), case, "supplement")
    with pytest.raises(IllegalTransition):  # the allowance was for one more request only
        act(clerk(), case, "request_correction", missing_items=["x"])


def test_correction_pause_moves_acceptance_deadline() -> None:
    case = receive("T-PRO")
    act(clerk(), case, "request_correction", missing_items=["申请书"])
    with clock.frozen(T0 + dt.timedelta(days=2)):  # Thursday 03-05
        case = act(clerk(), case, "supplement")
    assert local(case.acceptance_due) == dt.date(2026, 3, 12)


def test_extension_once_and_by_head_only() -> None:
    case = receive("T-PRO")
    act(clerk(), case, "accept")
    with pytest.raises(Forbidden):
        act(approver(), case, "extend", days=5, reason="需要补充调查")
    with pytest.raises(ValidationFailed):
        act(head(), case, "extend", days=11, reason="x")
    case = act(head(), case, "extend", days=10, reason="案情复杂，经负责人批准")
    assert case.extension_days == 10
    assert local(case.legal_due) == dt.date(2026, 4, 15)
    with pytest.raises(IllegalTransition, match="延期只能批准一次") as err:
        act(head(), case, "extend", days=1, reason="again")
    assert err.value.details["rule"] == "extend_once"
    with pytest.raises(NotFound):  # another district's head does not even see it
        act(head(XINCHENG_CA_OFFICE), case, "extend", days=1, reason="x")
    # The one extension is on the record: its reason and days on its event, who granted it.
    event = CaseEvent.objects.get(case=case, action="extend")
    assert event.reason == "案情复杂，经负责人批准"
    assert event.data["days"] == 10
    assert (event.from_state, event.to_state) == ("handling", "handling")
    assert event.actor_username == head().username


def test_a_case_keeps_the_flow_version_it_started_with() -> None:
    """A new flow version (other steps, other limits) applies to new cases only: a case received
    under version 1 is routed, timed and completed by version 1 to the end."""
    matter = Matter.objects.get(code="T-PRO")
    v1 = matter.current_version
    assert v1 is not None
    case = receive("T-PRO")
    case = act(clerk(), case, "accept")  # 03-03: on to the review stage (3 working days)
    assert case.flow_version_id == v1.pk
    assert local(case.step_due) == dt.date(2026, 3, 6)
    # Version 2: no review stage, the decision gets 4 days; promised 6, legal 15 working days.
    v2 = catalog.flow_version_publish(
        actor=SYSTEM,
        matter=matter,
        steps=[
            StepSpec(1, StepCode.ACCEPT, "受理", D, Role.WINDOW_CLERK, 2),
            StepSpec(2, StepCode.DECIDE, "决定", D, Role.APPROVER, 4),
            StepSpec(3, StepCode.DELIVER, "送达", D, Role.WINDOW_CLERK, 1),
        ],
        materials=MATERIALS,
        terms=replace(terms_from(v1), promised_limit_days=6, legal_limit_days=15),
        note="简化流程",
    )
    assert (v2.number, Matter.objects.get(pk=matter.pk).current_version_id) == (2, v2.pk)

    with clock.frozen(dt.datetime(2026, 3, 5, 2, tzinfo=dt.UTC)):
        case = act(reviewer(), case, "complete_step", opinion="材料齐全")  # v1's review stage
    assert (case.current_step_order, local(case.step_due)) == (3, dt.date(2026, 3, 9))  # v1: 2 days
    with clock.frozen(dt.datetime(2026, 3, 9, 2, tzinfo=dt.UTC)):
        case = act(approver(), case, "approve", opinion="准予")
    with clock.frozen(dt.datetime(2026, 3, 10, 2, tzinfo=dt.UTC)):
        case = act(clerk(), case, "deliver", delivery_method="window", certificate_no="ZS-V1")
        case = act(clerk(), case, "complete")
    assert case.state == "completed"
    assert case.flow_version_id == v1.pk
    # v1's limits from the acceptance on 03-03: promised 10 (v2: 6 → 03-11), legal 20 (v2: 15 → 03-24).
    assert (local(case.promised_due), local(case.legal_due)) == (dt.date(2026, 3, 17), dt.date(2026, 3, 31))
    steps = list(CaseStep.objects.filter(case=case).select_related("flow_step").order_by("order"))
    assert {s.flow_step.flow_version_id for s in steps} == {v1.pk}
    assert [(s.flow_step.code, s.flow_step.limit_days, s.state) for s in steps] == [
        ("accept", 1, "done"),
        ("review", 3, "done"),
        ("decide", 2, "done"),
        ("deliver", 1, "done"),
    ]
    assert [local(s.due) if s.due else None for s in steps] == [
        dt.date(2026, 3, 4),  # accept: 1 day from receipt
        dt.date(2026, 3, 6),  # review: 3 days from 03-03
        dt.date(2026, 3, 9),  # decide: 2 days from 03-05
        dt.date(2026, 3, 10),  # deliver: 1 day from the decision on 03-09
    ]

    # A case received now starts on version 2: straight from acceptance to the 4-day decision.
    with clock.frozen(dt.datetime(2026, 3, 10, 2, tzinfo=dt.UTC)):
        new = act(clerk(), receive("T-PRO"), "accept")
    assert new.flow_version_id == v2.pk
    assert (new.current_step_order, local(new.step_due)) == (2, dt.date(2026, 3, 16))
    assert (local(new.promised_due), local(new.legal_due)) == (dt.date(2026, 3, 18), dt.date(2026, 3, 31))
    assert [
        (code, days)
        for code, days in CaseStep.objects.filter(case=new)
        .order_by("order")
        .values_list("flow_step__code", "flow_step__limit_days")
    ] == [("accept", 2), ("decide", 4), ("deliver", 1)]


def test_special_procedure_pauses_the_clock() -> None:
    case = receive("T-PRO")
    case = act(clerk(), case, "accept")
    due = case.promised_due
    act(reviewer(), case, "special_start", reason="专家评审", duration_days=5)
    with clock.frozen(T0 + dt.timedelta(days=7)):  # a week later: 5 working days paused
        case = act(reviewer(), case, "special_end")
        assert case.state == "handling"
        assert case.promised_due is not None
        assert due is not None
        assert (case.promised_due - due).days == 7
        assert case.remaining_days == 10


def test_deemed_acceptance() -> None:
    case = receive("T-PRO")
    with pytest.raises(IllegalTransition, match="5 个工作日尚未届满"):
        act(SYSTEM, case, "deem_accept")
    with clock.frozen(T0 + dt.timedelta(days=8)):  # 03-11, past the 03-10 acceptance deadline
        assert services.case_deem_overdue_acceptances(actor=SYSTEM) == [case.number]
    case.refresh_from_db()
    assert case.state == "handling"
    assert case.deemed_accepted
    assert case.accepted_at == case.received_at
    with pytest.raises(Forbidden):
        act(clerk(), case, "deem_accept")


def test_deemed_acceptance_of_an_online_application_never_prechecked(
    applicant: Actor, settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path
    draft, _code = services.case_create_draft(
        actor=applicant, matter_code="T-PRO", region_code="150105001001"
    )
    upload_required(applicant, draft)
    case = act(applicant, draft, "submit")
    assert case.state == "submitted"
    with clock.frozen(T0 + dt.timedelta(days=8)):  # received at submission; 5 working days passed
        assert services.case_deem_overdue_acceptances(actor=SYSTEM) == [case.number]
    case.refresh_from_db()
    assert (case.state, case.deemed_accepted, case.accepted_at) == ("handling", True, case.received_at)
    steps = list(CaseStep.objects.filter(case=case).order_by("order"))
    accept = next(s for s in steps if s.flow_step.code == "accept")
    assert all(s.state == StepState.DONE for s in steps if s.order <= accept.order)
    assert any(s.state == StepState.ACTIVE for s in steps if s.order > accept.order)


def test_deemed_acceptance_of_a_case_a_community_reported_up_and_nobody_took_over() -> None:
    worker = actor_at(Role.COMMUNITY_WORKER, COMMUNITY)
    case = act(worker, receive("T-REP", actor=worker), "report_up", opinion="材料已扫描，报区民政窗口")
    assert (case.state, case.accepted_at) == ("reported_up", None)
    with clock.frozen(T0 + dt.timedelta(days=8)):
        assert services.case_deem_overdue_acceptances(actor=SYSTEM) == [case.number]
    case.refresh_from_db()
    assert (case.state, case.deemed_accepted, case.accepted_at) == ("handling", True, case.received_at)
    assert case.current_unit.code == SAIHAN_CA_OFFICE  # on to the district's review, as if accepted
    # Reported up again after acceptance (district → city): nothing more is deemed.
    case = act(reviewer(), case, "report_up", opinion="初审通过，报市局")
    assert case.state == "reported_up"
    with clock.frozen(T0 + dt.timedelta(days=30)):
        assert services.case_deem_overdue_acceptances(actor=SYSTEM) == []
        with pytest.raises(IllegalTransition, match="此办件已受理，不再视为受理"):
            act(SYSTEM, case, "deem_accept")


def test_withdraw_by_applicant_and_void_by_supervisor(applicant: Actor) -> None:
    case = receive("T-PRO", applicant_user_id=applicant.user_id)
    case = act(applicant, case, "withdraw")
    assert case.state == "withdrawn"
    other = receive("T-PRO")
    with pytest.raises(NotFound):
        act(applicant, other, "withdraw")
    with pytest.raises(ValidationFailed):
        act(actor_at(Role.SUPERVISOR, SAIHAN_SUP), other, "void")
    other = act(actor_at(Role.SUPERVISOR, SAIHAN_SUP), other, "void", reason="重复录入")
    assert other.state == "voided"


def test_online_application(applicant: Actor, settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path
    draft, _code = services.case_create_draft(
        actor=applicant, matter_code="T-PRO", region_code="150105001001"
    )
    assert draft.state == "draft"
    # The applicant is the account holder: their registered name and ID number, no agent.
    assert (draft.applicant_id, draft.applicant_name, draft.applicant_id_masked) == (
        applicant.user_id,
        "张三",
        "150105********3212",
    )
    assert draft.agent_id is None
    assert draft.accepting_unit.code == SAIHAN_CA_WINDOW
    assert draft.channel == "online"
    upload_required(applicant, draft)
    case = act(applicant, draft, "submit")
    assert case.state == "submitted"
    assert case.received_at == T0
    case = act(clerk(), case, "precheck_return", reason="照片不清晰")
    case = act(applicant, case, "submit")
    case = act(clerk(), case, "precheck_pass")
    assert case.state == "received"
    case = act(clerk(), case, "request_correction", missing_items=["申请书"])
    case = services.case_supplement(
        actor=applicant,
        case_id=case.pk,
        expected_version=case.version,
        uploads=[("申请书", "申请书.pdf", b"%PDF-1.7\n%%EOF\n")],
    )
    case = act(clerk(), case, "accept")
    assert case.state == "handling"
    with pytest.raises(ValidationFailed):
        services.case_create_draft(actor=applicant, matter_code="T-IMM", region_code="150105")


@pytest.mark.parametrize("bad", ["123", "110105194912310021", "", "91150100MA0N0000X0"])
def test_bad_id_numbers(bad: str) -> None:
    with pytest.raises(ValidationFailed):
        receive("T-PRO", applicant_id_number=bad) if False else services.case_receive(
            actor=clerk(), matter_code="T-PRO", applicant_name="张三", applicant_id_number=bad
        )


def test_first_generation_id_is_upgraded() -> None:
    case, _ = services.case_receive(
        actor=clerk(), matter_code="T-PRO", applicant_name="李四", applicant_id_number="110105491231002"
    )
    assert case.applicant_id_masked == "110105********002X"


def test_receive_refusals() -> None:
    with pytest.raises(NotFound):
        receive("NOPE")
    with pytest.raises(ValidationFailed):  # the immediate matter is not received at a community station
        receive("T-IMM", actor=actor_at(Role.COMMUNITY_WORKER, COMMUNITY))
    with pytest.raises(Forbidden):
        receive("T-PRO", actor=reviewer())
    with pytest.raises(ValidationFailed):
        services.case_receive(
            actor=clerk(), matter_code="T-PRO", applicant_name=" ", applicant_id_number=ID_A
        )


def test_numbers_are_sequential_per_place_and_day() -> None:
    numbers = [receive("T-PRO").number for _ in range(3)]
    assert [n.rsplit("-", 1)[1] for n in numbers] == ["0001", "0002", "0003"]
    # The provisional number a case is inserted under never outlives its transaction.
    assert sorted(Case.objects.values_list("number", flat=True)) == numbers
    with clock.frozen(T0 + dt.timedelta(days=1)):
        assert receive("T-PRO").number == "150105-20260304-0001"


def test_query_code_is_stored_hashed() -> None:
    case, code = services.case_receive(
        actor=clerk(), matter_code="T-PRO", applicant_name="张三", applicant_id_number=ID_A
    )
    assert code not in case.query_code_hash
    assert case.query_code_hash == services.query_code_hash(code.lower())


def test_unconfigured_year_is_shown_on_the_case() -> None:
    with clock.frozen(dt.datetime(2026, 12, 15, 2, tzinfo=dt.UTC)):
        case = receive("T-PRO")
        case = act(clerk(), case, "accept")
    assert case.calendar_problem == "calendar for 2027 not configured"
    assert case.legal_due is None
    assert case.promised_due is not None  # 10 working days still fit in 2026


def test_events_are_append_only() -> None:
    case = receive("T-PRO")
    event = CaseEvent.objects.get(case=case)
    with pytest.raises(Exception, match="append-only"):
        event.save()
    with pytest.raises(Exception, match="append-only"):
        CaseEvent.objects.filter(case=case).delete()


def test_applicant_ids_of_people_born_before_their_county_code_are_valid() -> None:
    # 赛罕区's code dates from 1983 in GB/T 2260; a resident born in 1960 still carries it.
    from sanji.core.idnumber import make

    number = make("150105", dt.date(1960, 1, 1), 123)
    assert services.applicant_id_parse(number).number == number
    assert services.applicant_id_parse(number.lower() if number.endswith("X") else number).kind == "ric"
    with pytest.raises(ValidationFailed):
        services.applicant_id_parse(number[:-1] + ("0" if number[-1] != "0" else "1"))


def test_applicant_ids_move_to_the_new_key_in_a_rotation(field_key_rotation: Any) -> None:
    first = receive("T-PRO")
    field_key_rotation.rotate()
    second, _ = services.case_receive(  # written meanwhile: under the new key
        actor=clerk(), matter_code="T-PRO", applicant_name="李四", applicant_id_number=ID_B
    )
    with pytest.raises(Forbidden):
        services.case_rekey(actor=clerk(), previous=(field_key_rotation.OLD,))
    count = services.case_rekey(actor=SYSTEM, previous=(field_key_rotation.OLD,), batch=1)
    assert (count.examined, count.reencrypted) == (2, 1)
    assert Entry.objects.filter(action="cases.rekeyed").get().data["reencrypted"] == 1
    field_key_rotation.retire_old_key()
    first.refresh_from_db()
    second.refresh_from_db()
    assert crypto.decrypt(first.applicant_id_encrypted) == ID_A
    assert crypto.decrypt(second.applicant_id_encrypted) == ID_B


def test_a_publicity_runs_its_whole_period() -> None:
    """公示 (publicity) for 5 working days: the reviewer cannot finish it before the last day of the
    period (nor is the button offered); from that day on it is finished as any step."""
    from sanji.cases import selectors
    from sanji.cases.tests.conftest import MATTERS
    from sanji.catalog.models import MatterType

    terms, _steps, _online = MATTERS["T-PRO"]
    matter = catalog.matter_create(
        actor=SYSTEM,
        code="T-PUB",
        details=catalog.MatterDetails(
            name="测试公示", matter_type=MatterType.BENEFIT, legal_basis="测试依据"
        ),
        terms=terms,
    )
    catalog.flow_version_publish(
        actor=SYSTEM,
        matter=matter,
        steps=[
            StepSpec(1, StepCode.ACCEPT, "受理", D, Role.WINDOW_CLERK, 1),
            StepSpec(2, StepCode.PUBLICIZE, "公示", D, Role.REVIEWER, 5),
            StepSpec(3, StepCode.DECIDE, "决定", D, Role.APPROVER, 2),
            StepSpec(4, StepCode.DELIVER, "送达", D, Role.WINDOW_CLERK, 1),
        ],
        materials=MATERIALS,
    )
    case = act(clerk(), receive("T-PUB"), "accept")  # Tuesday 2026-03-03
    step = CaseStep.objects.get(case=case, order=2)
    assert local(step.due) == dt.date(2026, 3, 10)  # the 5th working day after the start
    for day in (3, 9):  # the start day, and the day before the last
        with clock.frozen(T0.replace(day=day)):
            assert "complete_step" not in selectors.case_allowed_actions(reviewer(), case)
            with pytest.raises(IllegalTransition, match="公示期至 2026-03-10 届满"):
                act(reviewer(), case, "complete_step", opinion="公示无异议")
    with clock.frozen(T0.replace(day=10)):  # the last day of the period
        assert "complete_step" in selectors.case_allowed_actions(reviewer(), case)
        case = act(reviewer(), case, "complete_step", opinion="公示期满无异议")
    assert case.current_step_order == 3
    step.refresh_from_db()
    assert step.state == StepState.DONE
