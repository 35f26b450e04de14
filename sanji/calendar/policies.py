"""Who may read and who may change the working-day calendar."""

from __future__ import annotations

from sanji.core.actors import Actor
from sanji.core.roles import STAFF_ROLES, Role


def _is_platform(actor: Actor) -> bool:
    """The role-less actor of a CLI run or a system job (``core.actors.system_actor``).

    Only someone with a shell on the server can act as it; a person never is the platform.
    """
    return actor.user_id is None and not actor.grants and actor.channel in ("cli", "system")


def can_view(actor: Actor) -> bool:
    """Every staff member may look at the calendar and use the calculator: deadlines concern them all.

    Read-only; applicants (and anonymous visitors) see deadlines on their own cases instead.
    """
    return _is_platform(actor) or actor.has_role(*STAFF_ROLES)


def can_edit(actor: Actor) -> bool:
    """Entering or replacing a year changes every deadline in the city: system administrators only."""
    return actor.has_role(Role.SYSTEM_ADMIN)


def can_seed(actor: Actor) -> bool:
    """Seeding copies the published package data and decides nothing, so the platform may do it too."""
    return _is_platform(actor) or can_edit(actor)
