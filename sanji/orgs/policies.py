"""Who may see and change the organisation (regions, departments, units) and its terminals.

- Regions and departments are public reference data: any staff actor may read them.
- Units: any staff actor sees the units within the reach of their grants (department ignored: a
  unit list is about places, not cases). The organisation *pages* are for the system administrator
  (configuration) and the security administrator (who picks units when granting roles and
  registering terminals).
- Changing the organisation (import regions, seed the structure, create, rename, deactivate units)
  is configuration: the system administrator, within reach — or the platform itself (the demo
  seeder, ``sanji orgs`` on the server's command line).
- Terminals (终端) are security administration (三员分立): only the security administrator lists,
  registers, re-keys and deactivates them, within reach. The system administrator does not see
  them; the security auditor reviews what happened to them in the audit trail.
"""

from __future__ import annotations

from django.db import models

from sanji.core.actors import Actor
from sanji.core.authz import is_platform, reaches, scope_filter
from sanji.core.roles import STAFF_ROLES, Role
from sanji.orgs.models import Terminal, Unit

ORG_VIEWER_ROLES = (Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN)
ORG_EDITOR_ROLES = (Role.SYSTEM_ADMIN,)
TERMINAL_ROLES = (Role.SECURITY_ADMIN,)


def is_staff(actor: Actor) -> bool:
    return is_platform(actor) or actor.has_role(*STAFF_ROLES)


# --- reading ----------------------------------------------------------------------------------


def can_read_reference(actor: Actor) -> bool:
    """Regions and departments (the API's ``orgs:read``)."""
    return is_staff(actor)


def can_view_organisation(actor: Actor) -> bool:
    """The organisation pages (tree browser, unit details)."""
    return is_platform(actor) or actor.has_role(*ORG_VIEWER_ROLES)


def scope_units(actor: Actor, queryset: models.QuerySet[Unit]) -> models.QuerySet[Unit]:
    if is_platform(actor):
        return queryset
    return scope_filter(queryset, actor, STAFF_ROLES, department_field=None)


# --- changing ---------------------------------------------------------------------------------


def can_import_regions(actor: Actor) -> bool:
    """Region codes are platform-wide configuration (another city's file adds a new tree)."""
    return is_platform(actor) or actor.has_role(*ORG_EDITOR_ROLES)


def can_configure_region(actor: Actor, region_path: str) -> bool:
    """Seed or change the structure at a place."""
    return is_platform(actor) or reaches(actor, ORG_EDITOR_ROLES, region_path=region_path)


def can_edit_units(actor: Actor) -> bool:
    """Show edit controls at all (each unit is still checked with :func:`can_edit_unit`)."""
    return is_platform(actor) or actor.has_role(*ORG_EDITOR_ROLES)


def can_edit_unit(actor: Actor, unit: Unit) -> bool:
    return can_configure_region(actor, unit.region_path)


# --- terminals --------------------------------------------------------------------------------


def can_manage_terminals(actor: Actor) -> bool:
    return actor.has_role(*TERMINAL_ROLES)


def can_register_terminal_at(actor: Actor, unit: Unit) -> bool:
    return reaches(actor, TERMINAL_ROLES, region_path=unit.region_path)


def can_manage_terminal(actor: Actor, terminal: Terminal) -> bool:
    return reaches(actor, TERMINAL_ROLES, region_path=terminal.region_path)


def scope_terminal_units(actor: Actor, queryset: models.QuerySet[Unit]) -> models.QuerySet[Unit]:
    """Units where the actor may register terminals (:func:`can_register_terminal_at`)."""
    return scope_filter(queryset, actor, TERMINAL_ROLES, department_field=None)


def scope_terminals(actor: Actor, queryset: models.QuerySet[Terminal]) -> models.QuerySet[Terminal]:
    return scope_filter(queryset, actor, TERMINAL_ROLES, department_field=None)
