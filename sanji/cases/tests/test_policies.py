"""Who applies online (网上申报): every role, alone and beside the applicant role — pure, no database."""

from __future__ import annotations

import pytest

from sanji.cases import policies
from sanji.core.actors import Actor, Grant, system_actor
from sanji.core.roles import Role


def holding(*roles: str, user_id: int | None = 7) -> Actor:
    grants = tuple(Grant(role=r, unit_id=1, region_path="150100/150105/") for r in roles)
    return Actor(user_id=user_id, username="someone", grants=grants, channel="api")


@pytest.mark.parametrize("role", sorted(Role.values))
def test_only_applicants_apply_online(role: str) -> None:
    assert policies.can_apply_online(holding(role)) is (role == Role.APPLICANT)
    # A staff member who also holds the applicant role applies for themselves.
    assert policies.can_apply_online(holding(role, Role.APPLICANT)) is True


def test_a_signed_in_person_without_roles_applies_and_nobody_else() -> None:
    assert policies.can_apply_online(holding()) is True  # a self-registered citizen
    assert policies.can_apply_online(holding(user_id=None)) is False  # anonymous
    assert policies.can_apply_online(system_actor()) is False  # the platform applies for nobody
