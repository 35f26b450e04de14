"""Who may read and who may change the working-day calendar."""

from __future__ import annotations

from sanji.core.actors import Actor
from sanji.core.authz import is_platform
from sanji.core.roles import STAFF_ROLES, Role


def can_view(actor: Actor) -> bool:
    """Every staff member may look at the calendar and use the calculator: deadlines concern them all.

    Read-only; applicants (and anonymous visitors) see deadlines on their own cases instead.
    """
    return is_platform(actor) or actor.has_role(*STAFF_ROLES)


def can_edit(actor: Actor) -> bool:
    """Entering or replacing a year changes every deadline in the city: system administrators only."""
    return actor.has_role(Role.SYSTEM_ADMIN)


def can_seed(actor: Actor) -> bool:
    """Seeding copies the published package data and decides nothing, so the platform may do it too."""
    return is_platform(actor) or can_edit(actor)
