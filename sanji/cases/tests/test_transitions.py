"""The case state machine, table-driven: every (action, state) pair of the whole table."""

from __future__ import annotations

from typing import Any

import pytest

from sanji.cases import transitions as tr
from sanji.cases.transitions import SAME, Action, Facts, State
from sanji.core.errors import IllegalTransition, ValidationFailed
from sanji.core.roles import Role

#: Fields that satisfy every action's requirements (each test overrides what it probes).
FULL: dict[str, Any] = {
    "reason": "理由",
    "legal_basis": "《行政许可法》第三十二条",
    "missing_items": ["身份证复印件"],
    "opinion": "同意",
    "days": 5,
    "duration_days": 10,
    "delivery_method": "window",
    "certificate_no": "ZS-2026-0001",
}

#: The expected table, written out independently of the implementation.
EXPECTED: dict[str, tuple[set[str], str]] = {
    Action.SUBMIT: ({State.DRAFT, State.RETURNED}, State.SUBMITTED),
    Action.PRECHECK_PASS: ({State.SUBMITTED}, State.RECEIVED),
    Action.PRECHECK_RETURN: ({State.SUBMITTED}, State.RETURNED),
    Action.REQUEST_CORRECTION: ({State.RECEIVED}, State.CORRECTION_REQUESTED),
    Action.ALLOW_SECOND_CORRECTION: ({State.RECEIVED, State.CORRECTION_REQUESTED}, SAME),
    Action.SUPPLEMENT: ({State.CORRECTION_REQUESTED}, State.RECEIVED),
    Action.ACCEPT: ({State.RECEIVED}, State.HANDLING),
    Action.REFUSE: ({State.RECEIVED, State.CORRECTION_REQUESTED}, State.REFUSED),
    Action.DEEM_ACCEPT: ({State.RECEIVED, State.SUBMITTED, State.REPORTED_UP}, State.HANDLING),
    Action.COMPLETE_STEP: ({State.HANDLING}, SAME),
    Action.REPORT_UP: ({State.RECEIVED, State.HANDLING}, State.REPORTED_UP),
    Action.TAKE_OVER: ({State.REPORTED_UP}, "resume"),
    Action.RETURN_DOWN: ({State.APPROVED, State.DENIED}, SAME),
    Action.EXTEND: ({State.HANDLING, State.REPORTED_UP, State.SUSPENDED}, SAME),
    Action.SPECIAL_START: ({State.HANDLING}, State.SUSPENDED),
    Action.SPECIAL_END: ({State.SUSPENDED}, State.HANDLING),
    Action.APPROVE: ({State.HANDLING}, State.APPROVED),
    Action.DENY: ({State.HANDLING}, State.DENIED),
    Action.DELIVER: ({State.APPROVED, State.DENIED}, State.DELIVERED),
    Action.COMPLETE: ({State.DELIVERED}, State.COMPLETED),
    Action.WITHDRAW: (
        {
            State.SUBMITTED,
            State.RETURNED,
            State.RECEIVED,
            State.CORRECTION_REQUESTED,
            State.HANDLING,
            State.REPORTED_UP,
            State.SUSPENDED,
        },
        State.WITHDRAWN,
    ),
    Action.VOID: (set(tr.ALL_STATES) - set(tr.FINAL_STATES), State.VOIDED),
}

PAIRS = [(a, s) for a in EXPECTED for s in tr.ALL_STATES]


def test_table_covers_every_action() -> None:
    assert set(tr.TABLE) == set(EXPECTED) | {Action.RECEIVE}


@pytest.mark.parametrize(("action", "state"), PAIRS)
def test_every_action_from_every_state(action: str, state: str) -> None:
    sources, target = EXPECTED[action]
    facts = Facts(is_applicant=True, accepted=True)
    if state in sources:
        result = tr.check(action, state, fields=FULL, facts=facts)
        if target == SAME:
            assert result == state
        elif target == "resume":
            assert result == State.HANDLING
        else:
            assert result == target
    else:
        with pytest.raises(IllegalTransition) as err:
            tr.check(action, state, fields=FULL, facts=facts)
        # The message names the action, the state and what is allowed by their labels (zh-hans by
        # default); the details keep the codes.
        message = err.value.message
        assert message.startswith(
            f"此办件当前不能{tr.ACTION_LABELS[action]}（办件状态：{tr.STATE_LABELS[state]}；"
        )
        allowed = tr.allowed_actions(state)
        assert message.endswith(
            f"可执行的操作：{'、'.join(str(tr.ACTION_LABELS[a]) for a in allowed) or '无'}）。"
        )
        assert err.value.details == {"state": state, "allowed": allowed}


@pytest.mark.parametrize("state", sorted(tr.FINAL_STATES))
def test_final_states_allow_nothing(state: str) -> None:
    assert tr.allowed_actions(state) == []
    with pytest.raises(IllegalTransition, match="可执行的操作：无") as err:
        tr.check(Action.VOID, state, fields=FULL)
    assert err.value.details["allowed"] == []


def test_receive_creates_only() -> None:
    assert tr.check(Action.RECEIVE, None) == State.RECEIVED
    with pytest.raises(IllegalTransition):
        tr.check(Action.RECEIVE, State.RECEIVED)
    with pytest.raises(IllegalTransition, match="办件状态：尚未建立；可执行的操作：接件") as err:
        tr.check(Action.ACCEPT, None)
    assert err.value.details == {"state": "new", "allowed": [Action.RECEIVE]}


def test_unknown_action_names_the_allowed_ones() -> None:
    with pytest.raises(IllegalTransition) as err:
        tr.check("approve_everything", State.RECEIVED)
    assert "approve_everything" in err.value.message
    assert "办件状态：已接件" in err.value.message
    assert "、受理、" in err.value.message
    assert err.value.details == {"state": State.RECEIVED, "allowed": tr.allowed_actions(State.RECEIVED)}


def test_take_over_resumes_where_the_case_was() -> None:
    assert tr.check(Action.TAKE_OVER, State.REPORTED_UP, facts=Facts(accepted=False)) == State.RECEIVED
    assert tr.check(Action.TAKE_OVER, State.REPORTED_UP, facts=Facts(accepted=True)) == State.HANDLING


@pytest.mark.parametrize(
    ("action", "state", "field"),
    [
        (Action.REFUSE, State.RECEIVED, "reason"),
        (Action.REFUSE, State.RECEIVED, "legal_basis"),
        (Action.REQUEST_CORRECTION, State.RECEIVED, "missing_items"),
        (Action.COMPLETE_STEP, State.HANDLING, "opinion"),
        (Action.REPORT_UP, State.HANDLING, "opinion"),
        (Action.APPROVE, State.HANDLING, "opinion"),
        (Action.DENY, State.HANDLING, "reason"),
        (Action.EXTEND, State.HANDLING, "reason"),
        (Action.EXTEND, State.HANDLING, "days"),
        (Action.SPECIAL_START, State.HANDLING, "reason"),
        (Action.SPECIAL_START, State.HANDLING, "duration_days"),
        (Action.DELIVER, State.APPROVED, "delivery_method"),
        (Action.DELIVER, State.APPROVED, "certificate_no"),
        (Action.VOID, State.HANDLING, "reason"),
        (Action.PRECHECK_RETURN, State.SUBMITTED, "reason"),
        (Action.ALLOW_SECOND_CORRECTION, State.RECEIVED, "reason"),
    ],
)
@pytest.mark.parametrize("blank", [None, "", "   ", [], ["  "]])
def test_required_fields(action: str, state: str, field: str, blank: Any) -> None:
    fields = {**FULL, field: blank}
    with pytest.raises(ValidationFailed) as err:
        tr.check(action, state, fields=fields)
    assert field in err.value.message or any(d["field"] == field for d in err.value.details)


def test_denial_is_delivered_without_certificate() -> None:
    assert tr.check(Action.DELIVER, State.DENIED, fields={"delivery_method": "mail"}) == State.DELIVERED


def test_delivery_method_must_be_known() -> None:
    with pytest.raises(ValidationFailed):
        tr.check(Action.DELIVER, State.DENIED, fields={"delivery_method": "pigeon"})


@pytest.mark.parametrize(
    ("count", "allowed", "ok"),
    [(0, False, True), (1, False, False), (1, True, True), (2, False, False)],
)
def test_one_time_notice(count: int, allowed: bool, ok: bool) -> None:
    facts = Facts(corrections_count=count, second_correction_allowed=allowed)
    if ok:
        assert tr.check(Action.REQUEST_CORRECTION, State.RECEIVED, fields=FULL, facts=facts)
    else:
        with pytest.raises(IllegalTransition, match="准予再次补正") as err:
            tr.check(Action.REQUEST_CORRECTION, State.RECEIVED, fields=FULL, facts=facts)
        assert err.value.details == {"state": State.RECEIVED, "rule": "one_time_notice"}


@pytest.mark.parametrize(
    ("days", "joint", "already", "error"),
    [
        (1, False, 0, None),
        (10, False, 0, None),
        (11, False, 0, ValidationFailed),
        (15, True, 0, None),
        (16, True, 0, ValidationFailed),
        (0, False, 0, ValidationFailed),
        (-3, False, 0, ValidationFailed),
        ("x", False, 0, ValidationFailed),
        (5, False, 5, IllegalTransition),
    ],
)
def test_extension(days: Any, joint: bool, already: int, error: type[Exception] | None) -> None:
    facts = Facts(joint=joint, extension_days=already)
    fields = {**FULL, "days": days}
    if error is None:
        assert tr.check(Action.EXTEND, State.HANDLING, fields=fields, facts=facts) == State.HANDLING
    else:
        with pytest.raises(error):
            tr.check(Action.EXTEND, State.HANDLING, fields=fields, facts=facts)


def test_staff_withdrawal_needs_a_reason() -> None:
    with pytest.raises(ValidationFailed):
        tr.check(Action.WITHDRAW, State.HANDLING, fields={}, facts=Facts(is_applicant=False))
    assert (
        tr.check(Action.WITHDRAW, State.HANDLING, fields={}, facts=Facts(is_applicant=True))
        == State.WITHDRAWN
    )


@pytest.mark.parametrize(
    ("action", "roles", "facts", "ok"),
    [
        (Action.SUBMIT, frozenset(), Facts(is_applicant=True), True),
        (Action.SUBMIT, frozenset({Role.WINDOW_CLERK}), Facts(), False),
        (Action.ACCEPT, frozenset({Role.WINDOW_CLERK}), Facts(), True),
        (Action.ACCEPT, frozenset({Role.REVIEWER}), Facts(), False),
        (Action.ACCEPT, frozenset(), Facts(is_applicant=True), False),
        (Action.EXTEND, frozenset({Role.DEPARTMENT_HEAD}), Facts(), True),
        (Action.EXTEND, frozenset({Role.APPROVER}), Facts(), False),
        (Action.APPROVE, frozenset({Role.APPROVER}), Facts(), True),
        (Action.APPROVE, frozenset({Role.REVIEWER}), Facts(), False),
        (Action.DEEM_ACCEPT, frozenset({Role.SUPERVISOR}), Facts(), False),
        (Action.DEEM_ACCEPT, frozenset(), Facts(is_system=True), True),
        (Action.VOID, frozenset({Role.SUPERVISOR}), Facts(), True),
        (Action.VOID, frozenset({Role.DEPARTMENT_HEAD}), Facts(), False),
        (Action.ALLOW_SECOND_CORRECTION, frozenset({Role.SUPERVISOR}), Facts(), True),
        (Action.ALLOW_SECOND_CORRECTION, frozenset({Role.WINDOW_CLERK}), Facts(), False),
        (Action.WITHDRAW, frozenset(), Facts(is_applicant=True), True),
        (Action.SUPPLEMENT, frozenset(), Facts(is_applicant=True), True),
        ("nonsense", frozenset({Role.SUPERVISOR}), Facts(), False),
    ],
)
def test_may_perform(action: str, roles: frozenset[str], facts: Facts, ok: bool) -> None:
    assert tr.may_perform(action, roles=roles, facts=facts) is ok


def test_audit_action_names() -> None:
    assert tr.TABLE[Action.ACCEPT].audit_action == "cases.accept"
