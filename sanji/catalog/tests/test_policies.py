"""Who may edit the catalogue: the system administrator and the platform itself, nobody else."""

from __future__ import annotations

import pytest

from sanji.catalog import policies
from sanji.core.actors import ANONYMOUS, Actor, Grant, system_actor
from sanji.core.roles import Role


def actor_with(role: str) -> Actor:
    return Actor(user_id=7, username="u", grants=(Grant(role=role, unit_id=1, region_path="150100/"),))


@pytest.mark.parametrize("role", list(Role.values))
def test_only_the_system_admin_edits(role: str) -> None:
    assert policies.can_edit(actor_with(role)) is (role == Role.SYSTEM_ADMIN)


@pytest.mark.parametrize(
    ("actor", "allowed"),
    [
        (ANONYMOUS, False),
        (system_actor(), True),
        (Actor(user_id=None, username="x", channel="api"), False),
        (Actor(user_id=3, username="pretender", channel="system"), False),
    ],
)
def test_platform_and_anonymous(actor: Actor, allowed: bool) -> None:
    assert policies.can_edit(actor) is allowed
