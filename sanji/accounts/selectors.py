"""Reads about accounts. :func:`actor_for` turns a user into the :class:`Actor` every service takes."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import models
from django.db.models import Prefetch, Q
from django.utils.translation import gettext as _

from sanji.accounts import policies
from sanji.accounts.models import ApiToken, RoleAssignment, User
from sanji.core.actors import Actor, Grant
from sanji.core.authz import get_in_scope
from sanji.core.errors import Forbidden, NotFound
from sanji.core.roles import DEPARTMENT_BOUND
from sanji.orgs.models import Terminal, Unit


def grants_for_user(user_id: int) -> tuple[Grant, ...]:
    rows = (
        RoleAssignment.objects.filter(user_id=user_id)
        .select_related("unit")
        .order_by("id")
        .values_list("role", "unit_id", "region_path", "unit__department_id", "unit__department__kind")
    )
    # Department-bound roles reach only their unit's department (and its line, for cross-level rows).
    return tuple(
        Grant(
            role=role,
            unit_id=unit_id,
            region_path=region_path,
            department_id=department_id if role in DEPARTMENT_BOUND else None,
            department_kind=department_kind if role in DEPARTMENT_BOUND else None,
        )
        for role, unit_id, region_path, department_id, department_kind in rows
    )


def actor_for(
    user: User,
    *,
    terminal: Terminal | None = None,
    ip: str = "",
    channel: str = "web",
    scopes: Iterable[str] | None = None,
) -> Actor:
    grants = grants_for_user(user.pk)
    unit_id = terminal.unit_id if terminal is not None else (grants[0].unit_id if grants else None)
    return Actor(
        user_id=user.pk,
        username=user.username,
        grants=grants,
        unit_id=unit_id,
        terminal_id=terminal.pk if terminal is not None else None,
        terminal_code=terminal.code if terminal is not None else "",
        ip=ip,
        channel=channel,
        scopes=frozenset(scopes) if scopes is not None else None,
    )


# --- administration (scoped by sanji.accounts.policies) ----------------------------------------------


def user_list_for(actor: Actor, q: str | None = None) -> models.QuerySet[User]:
    """Users the actor may see, optionally searched by username, name or phone."""
    if not policies.can_manage_users(actor):
        raise Forbidden(_("只有安全管理员可以查看用户列表。"))
    queryset = policies.scope_users(actor, User.objects.all())
    if q:
        q = q.strip()
        queryset = queryset.filter(
            Q(username__icontains=q) | Q(full_name__icontains=q) | Q(phone__icontains=q)
        )
    return queryset.prefetch_related(
        Prefetch("role_assignments", queryset=RoleAssignment.objects.select_related("unit").order_by("id"))
    ).order_by("username")


def user_get_for(actor: Actor, user_id: int) -> User:
    """One user the actor may see; :class:`NotFound` outside scope (or for non-administrators)."""
    return get_in_scope(policies.scope_users(actor, User.objects.all()), pk=user_id)


def assignments_of(user: User) -> models.QuerySet[RoleAssignment]:
    return RoleAssignment.objects.filter(user=user).select_related("unit", "unit__department").order_by("id")


def assignment_get_for(actor: Actor, user: User, assignment_id: int) -> RoleAssignment:
    return get_in_scope(
        RoleAssignment.objects.select_related("user", "unit").filter(user=user), pk=assignment_id
    )


def token_list_for(actor: Actor, user: User) -> models.QuerySet[ApiToken]:
    """``user``'s tokens, newest first, for the owner or the security administrator managing them."""
    if not policies.can_view_tokens(actor, user):
        raise NotFound()
    return ApiToken.objects.filter(user=user).select_related("terminal").order_by("-created_at", "-id")


def token_get_for(actor: Actor, token_id: int) -> ApiToken:
    token = ApiToken.objects.select_related("user", "terminal").filter(pk=token_id).first()
    if token is None or not policies.can_view_tokens(actor, token.user):
        raise NotFound()
    return token


def unit_for_granting(actor: Actor, code: str) -> Unit:
    """An active unit, by code, in which the actor may grant roles."""
    return get_in_scope(policies.units_for_granting(actor, Unit.objects.all()), code=code.strip())


def terminal_for_token(actor: Actor, code: str) -> Terminal:
    """An active terminal, by code, within the actor's reach (to bind a department system's token)."""
    terminal = Terminal.objects.filter(code=code.strip(), active=True).first()
    if terminal is None or not policies.can_use_terminal(actor, terminal):
        raise NotFound(_("终端不存在、已停用或不在您的管辖范围内。"))
    return terminal
