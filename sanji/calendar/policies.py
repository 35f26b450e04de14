"""Who may change the working-day calendar."""

from __future__ import annotations

from sanji.core.actors import Actor
from sanji.core.roles import Role


def can_edit(actor: Actor) -> bool:
    """Entering or replacing a year changes every deadline in the city: system administrators only."""
    return actor.has_role(Role.SYSTEM_ADMIN)


def can_seed(actor: Actor) -> bool:
    """Seeding copies the published package data and decides nothing, so the platform may do it too.

    "The platform" is the role-less actor of a CLI run or a system job (``core.actors.system_actor``):
    only someone with a shell on the server can act as it.
    """
    is_platform = actor.user_id is None and not actor.grants and actor.channel in ("cli", "system")
    return is_platform or can_edit(actor)
