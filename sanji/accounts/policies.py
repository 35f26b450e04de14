"""Who may manage accounts, roles and tokens.

三员分立 (separation of the three administrators):

* the security administrator (安全管理员) manages users, roles, terminals and API tokens, within the
  reach of their grant (the region subtree of the unit they hold the role in);
* the system administrator (系统管理员) configures the platform (calendar, catalogue, organisation) and
  may not manage users or roles nor read the audit trail;
* the security auditor (安全审计员) reads the audit trail only;
* a person holding one of the three holds no other role at all, and nobody grants or revokes a role
  on themselves;
* no administrator obtains another administrator's secrets: the security administrator may lock out
  (deactivate) or unlock one of the three, but may not reset their password or second factor nor
  issue them an API token (:func:`can_reset_credentials`) — each of those hands the issuer a secret
  that signs in as the other, and a security administrator holding the auditor's token could read
  the audit trail of their own actions. Their password and second factor are reset on the server's
  command line (``sanji reset_credentials``), acting as the platform, and audited; they hold no
  API tokens.

The platform itself (``system_actor()``, used by the demo seeder and bootstrap commands) may do
everything here; it has no user and cannot be obtained from a request.

Which users a security administrator sees (:func:`scope_users`): everyone holding at least one role
in a unit within reach, plus accounts without any role yet that were created within reach. They may
*manage the person* (reset password, unlock, deactivate, tokens) only when every role the person
holds lies within reach — a district administrator cannot take over an account that also works for
the city. Granting and revoking is decided per unit.

Terminals (终端): a terminal is registered for one unit, and staff sign in only on a terminal of a
unit they hold a role in, or of a unit enclosing it (:func:`terminal_usable`) — not on any terminal
within their region's reach.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext as _

from sanji.core.actors import Actor, Grant
from sanji.core.authz import is_platform
from sanji.core.roles import ADMIN_TRIAD, SECOND_FACTOR_REQUIRED, STAFF_ROLES, Role

if TYPE_CHECKING:
    from sanji.accounts.models import ApiToken, RoleAssignment, User
    from sanji.orgs.models import Terminal, Unit

#: Tokens a staff member creates for their own scripts live at most this many days.
SELF_TOKEN_MAX_DAYS = 30
#: Tokens the security administrator creates (department systems) live at most this many days.
TOKEN_MAX_DAYS = 365


def _admin_grants(actor: Actor) -> tuple[Grant, ...]:
    return actor.grants_for(Role.SECURITY_ADMIN)


def _reached(actor: Actor, region_path: str) -> bool:
    return is_platform(actor) or any(region_path.startswith(g.region_path) for g in _admin_grants(actor))


def can_manage_users(actor: Actor) -> bool:
    """May open the user administration at all (list, create)."""
    return is_platform(actor) or bool(_admin_grants(actor))


def scope_users(actor: Actor, queryset: models.QuerySet[User]) -> models.QuerySet[User]:
    """The users a security administrator may see (see the module docstring)."""
    if is_platform(actor):
        return queryset
    grants = _admin_grants(actor)
    if not grants:
        return queryset.none()
    from sanji.accounts.models import RoleAssignment

    in_reach = Q(pk__in=[])
    created_in_reach = Q(pk__in=[])
    for g in grants:
        in_reach |= Q(region_path__startswith=g.region_path)
        created_in_reach |= Q(created_region_path__startswith=g.region_path)
    holds_role_in_reach = RoleAssignment.objects.filter(in_reach, user_id=OuterRef("pk"))
    holds_any_role = RoleAssignment.objects.filter(user_id=OuterRef("pk"))
    return queryset.filter(Exists(holds_role_in_reach) | (~Exists(holds_any_role) & created_in_reach))


def _role_paths(user: User) -> list[str]:
    return list(user.role_assignments.values_list("region_path", flat=True))


def can_manage_user(actor: Actor, user: User) -> bool:
    """May reset the password, unlock, deactivate, reset TOTP and manage tokens of ``user``."""
    if not can_manage_users(actor) or user.pk == actor.user_id:
        return False
    if is_platform(actor):
        return True
    paths = _role_paths(user)
    if not paths:
        return bool(user.created_region_path) and _reached(actor, user.created_region_path)
    return all(_reached(actor, p) for p in paths)


def holds_admin_role(user: User) -> bool:
    """The person is one of the three administrators (三员)."""
    return user.role_assignments.filter(role__in=ADMIN_TRIAD).exists()


def can_reset_credentials(actor: Actor, user: User) -> bool:
    """May reset the password or the second factor of ``user``, or issue them a token: as
    :func:`can_manage_user`, except for the three administrators, whose secrets only the platform
    (the server's command line) resets (see the module docstring)."""
    if not can_manage_user(actor, user):
        return False
    return is_platform(actor) or not holds_admin_role(user)


def role_conflict(existing_roles: Iterable[str], role: str, *, is_system_account: bool) -> str | None:
    """Why ``role`` may not be added to a person holding ``existing_roles`` (``None``: it may).

    Pure rule of 三员分立 and of department-system accounts; the messages are shown to the
    security administrator as they are.
    """
    others = {r for r in existing_roles if r != role}
    if role in ADMIN_TRIAD and others:
        return _("三员（系统管理员、安全管理员、安全审计员）不得兼任其他任何角色：该用户已持有其他角色。")
    if others & ADMIN_TRIAD:
        return _("该用户是三员之一（系统管理员、安全管理员或安全审计员），不得再授予其他角色。")
    if is_system_account and role != Role.DEPARTMENT_SYSTEM:
        return _("部门业务系统账号只能持有“部门业务系统”角色。")
    return None


def can_grant_role(actor: Actor, user: User, role: str, unit: Unit) -> bool:
    """Would :func:`sanji.accounts.services.role_grant` accept this (for showing forms and buttons)?"""
    if not can_manage_users(actor) or user.pk == actor.user_id or not unit.active:
        return False
    if not _reached(actor, unit.region_path):
        return False
    existing = user.role_assignments.values_list("role", flat=True)
    return role_conflict(existing, role, is_system_account=user.is_system_account) is None


def can_revoke_role(actor: Actor, assignment: RoleAssignment) -> bool:
    return (
        can_manage_users(actor)
        and assignment.user_id != actor.user_id
        and _reached(actor, assignment.region_path)
    )


def units_for_granting(actor: Actor, queryset: models.QuerySet[Unit]) -> models.QuerySet[Unit]:
    """Active units in which the actor may grant roles."""
    return units_in_grant_reach(actor, queryset.filter(active=True))


def units_in_grant_reach(actor: Actor, queryset: models.QuerySet[Unit]) -> models.QuerySet[Unit]:
    """Units (active or closed) within the reach of the actor's security administrator grants."""
    if is_platform(actor):
        return queryset
    grants = _admin_grants(actor)
    if not grants:
        return queryset.none()
    q = Q(pk__in=[])
    for g in grants:
        q |= Q(region_path__startswith=g.region_path)
    return queryset.filter(q)


def can_use_terminal(actor: Actor, terminal: Terminal) -> bool:
    """May bind a token to this terminal (front-end processor) — it lies within the actor's reach."""
    return terminal.active and _reached(actor, terminal.region_path)


# --- API tokens -----------------------------------------------------------------------------------


def can_create_own_token(actor: Actor) -> bool:
    """Staff may make short-lived tokens for their own scripts; the three administrators may not
    (nor may another administrator issue them one: :func:`can_reset_credentials`)."""
    if actor.user_id is None or actor.has_role(*ADMIN_TRIAD):
        return False
    return actor.has_role(*(STAFF_ROLES - {Role.DEPARTMENT_SYSTEM}))


def can_create_token(actor: Actor, user: User) -> bool:
    if user.pk == actor.user_id:
        return can_create_own_token(actor)
    return can_reset_credentials(actor, user)


def token_max_days(actor: Actor, user: User) -> int:
    return SELF_TOKEN_MAX_DAYS if user.pk == actor.user_id else TOKEN_MAX_DAYS


def can_revoke_token(actor: Actor, token: ApiToken) -> bool:
    """Owners may always revoke their own tokens; the security administrator those of users they manage."""
    if token.user_id == actor.user_id and actor.user_id is not None:
        return True
    return can_manage_user(actor, token.user)


def can_view_tokens(actor: Actor, user: User) -> bool:
    return (user.pk == actor.user_id and actor.user_id is not None) or can_manage_user(actor, user)


# --- sign-in requirements -------------------------------------------------------------------------


def needs_terminal(roles: Iterable[str]) -> bool:
    """Staff work from registered terminals (when ``settings.SANJI_REQUIRE_TERMINAL``)."""
    return bool(settings.SANJI_REQUIRE_TERMINAL) and bool(set(roles) & STAFF_ROLES)


def needs_second_factor(roles: Iterable[str]) -> bool:
    return bool(set(roles) & SECOND_FACTOR_REQUIRED)


def terminal_usable(terminal: Terminal, units: Collection[int]) -> bool:
    """May a person sign in on ``terminal``? ``units``: the units the person holds a staff role in,
    with every unit those are nested in (:func:`sanji.accounts.selectors.units_enclosing`).

    A terminal is registered *for a unit*, and the actions done on it are filed under that unit
    (``Actor.unit_id``: the receiving unit of a case, the unit of every audit entry). So only the
    unit's own staff use it: people holding a role in the unit itself, or in a unit nested in it —
    the windows of a service centre at the centre's terminals, a community station's workers at their
    township centre's. A role's reach over a region does not extend to other units' terminals: a
    district clerk may not sign in at another window's or a township centre's workstation of the same
    district, nor a city role at a district's.
    """
    return terminal.unit_id in units
