"""The change state machine, table-driven."""

from __future__ import annotations

import pytest

from sanji.core.errors import IllegalTransition, ValidationFailed
from sanji.core.roles import Role
from sanji.population.transitions import Action, State, allowed_actions, check, may_perform

ALL = [State.SUBMITTED, State.VERIFIED, State.REJECTED, State.WITHDRAWN]


@pytest.mark.parametrize(
    ("action", "state", "fields", "result"),
    [
        (Action.SUBMIT, None, {}, State.SUBMITTED),
        (Action.VERIFY, State.SUBMITTED, {}, State.VERIFIED),
        (Action.REJECT, State.SUBMITTED, {"reason": "证明材料不符"}, State.REJECTED),
        (Action.WITHDRAW, State.SUBMITTED, {}, State.WITHDRAWN),
        *[(a, s, {"reason": "r"}, IllegalTransition) for a in (Action.VERIFY, Action.REJECT, Action.WITHDRAW)
          for s in ALL[1:]],
        (Action.SUBMIT, State.SUBMITTED, {}, IllegalTransition),
        (Action.VERIFY, None, {}, IllegalTransition),
        ("approve", State.SUBMITTED, {}, IllegalTransition),
        (Action.REJECT, State.SUBMITTED, {"reason": "  "}, ValidationFailed),
        (Action.REJECT, State.SUBMITTED, {}, ValidationFailed),
    ],
)  # fmt: skip
def test_table(action, state, fields, result) -> None:
    if isinstance(result, str):
        assert check(action, state, fields=fields) == result
    else:
        with pytest.raises(result):
            check(action, state, fields=fields)


def test_allowed_actions_and_roles() -> None:
    assert allowed_actions(None) == [Action.SUBMIT]
    assert allowed_actions(State.SUBMITTED) == [Action.VERIFY, Action.REJECT, Action.WITHDRAW]
    assert all(allowed_actions(s) == [] for s in ALL[1:])
    assert may_perform(Action.SUBMIT, roles=frozenset({Role.COMMUNITY_WORKER}))
    assert may_perform(Action.VERIFY, roles=frozenset({Role.POLICE_VERIFIER}))
    assert not may_perform(Action.VERIFY, roles=frozenset({Role.POPULATION_OFFICER}))
    assert not may_perform(Action.SUBMIT, roles=frozenset({Role.POLICE_VERIFIER}))
    assert not may_perform("nothing", roles=frozenset({Role.POLICE_VERIFIER}))
