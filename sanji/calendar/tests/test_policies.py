"""Who may change the calendar: every role, plus the platform and the anonymous visitor."""

from __future__ import annotations

import pytest

from sanji.calendar import policies
from sanji.calendar.tests.conftest import actor_with
from sanji.core.actors import ANONYMOUS, Actor, system_actor
from sanji.core.roles import Role


@pytest.mark.parametrize("role", list(Role))
def test_only_system_admin_may_edit_or_seed(role: Role) -> None:
    actor = actor_with(role)
    assert policies.can_edit(actor) is (role == Role.SYSTEM_ADMIN)
    assert policies.can_seed(actor) is (role == Role.SYSTEM_ADMIN)


@pytest.mark.parametrize(
    ("actor", "may_seed"),
    [
        (system_actor("cli", channel="cli"), True),
        (system_actor(), True),
        (ANONYMOUS, False),
        (Actor(user_id=7, username="someone", channel="cli"), False),  # a person is never the platform
    ],
)
def test_the_platform_may_seed_but_not_edit(actor: Actor, may_seed: bool) -> None:
    assert policies.can_seed(actor) is may_seed
    assert policies.can_edit(actor) is False


@pytest.mark.parametrize("role", list(Role))
def test_every_staff_role_may_view(role: Role) -> None:
    assert policies.can_view(actor_with(role)) is (role != Role.APPLICANT)


@pytest.mark.parametrize(
    ("actor", "may_view"),
    [
        (system_actor("cli", channel="cli"), True),
        (ANONYMOUS, False),
        (Actor(user_id=7, username="no-role"), False),
    ],
)
def test_view_without_a_role(actor: Actor, may_view: bool) -> None:
    assert policies.can_view(actor) is may_view
