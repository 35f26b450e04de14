"""Who may do what with the catalogue.

The catalogue is public: anyone, logged in or not, reads active matters with a published flow.
Only the system administrator (系统管理员) edits it; the platform itself (the system actor used by
the demo seeder and set-up commands) may seed it.
"""

from __future__ import annotations

from django.db import models

from sanji.catalog.models import FlowVersion, Matter
from sanji.core.actors import Actor
from sanji.core.roles import Role


def is_platform(actor: Actor) -> bool:
    """The platform acting on its own behalf (``sanji.core.actors.system_actor``)."""
    return actor.channel == "system" and actor.user_id is None


def can_edit(actor: Actor) -> bool:
    return actor.has_role(Role.SYSTEM_ADMIN) or is_platform(actor)


def can_read_unlisted(actor: Actor) -> bool:
    """Inactive or not yet published matters are visible to the editors only."""
    return can_edit(actor)


def scope(actor: Actor, queryset: models.QuerySet[Matter]) -> models.QuerySet[Matter]:
    """The matters ``actor`` may see."""
    if can_read_unlisted(actor):
        return queryset
    return queryset.filter(active=True, current_version__isnull=False)


def scope_versions(actor: Actor, queryset: models.QuerySet[FlowVersion]) -> models.QuerySet[FlowVersion]:
    """Published versions are public (a case started on an old version must still show its flow)."""
    if can_read_unlisted(actor):
        return queryset
    return queryset.filter(published=True)
