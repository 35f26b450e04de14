"""Reads about accounts. :func:`actor_for` turns a user into the :class:`Actor` every service takes."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.db.models import Prefetch, Q
from django.utils.translation import gettext as _

from sanji.accounts import policies
from sanji.accounts.models import ApiToken, RoleAssignment, User
from sanji.core import prepared
from sanji.core.actors import Actor, Grant
from sanji.core.authz import get_in_scope
from sanji.core.errors import Forbidden, NotFound
from sanji.core.roles import DEPARTMENT_BOUND
from sanji.orgs.models import Department, Terminal, Unit


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
    return actor_of_grants(
        user.pk,
        user.username,
        grants_for_user(user.pk),
        terminal=terminal,
        ip=ip,
        channel=channel,
        scopes=scopes,
    )


def actor_of_grants(
    user_id: int,
    username: str,
    grants: tuple[Grant, ...],
    *,
    terminal: Terminal | None = None,
    ip: str = "",
    channel: str = "web",
    scopes: Iterable[str] | None = None,
) -> Actor:
    unit_id = terminal.unit_id if terminal is not None else (grants[0].unit_id if grants else None)
    return Actor(
        user_id=user_id,
        username=username,
        grants=grants,
        unit_id=unit_id,
        terminal_id=terminal.pk if terminal is not None else None,
        terminal_code=terminal.code if terminal is not None else "",
        ip=ip,
        channel=channel,
        scopes=frozenset(scopes) if scopes is not None else None,
    )


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """An API token as authentication needs it: the token row, its owner, terminal and grants."""

    token: ApiToken  # id, user_id, token_hash, scopes, expires_at, revoked_at, last_used_at
    user_id: int
    username: str
    user_active: bool
    terminal: Terminal | None  # id, code, unit_id, ip_address, active, last_seen_at, last_seen_ip
    grants: tuple[Grant, ...]


def _aware(value: Any) -> dt.datetime | None:
    """A datetime from a raw row (SQLite: naive UTC or text; PostgreSQL: aware)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    assert isinstance(value, dt.datetime)
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _token_sql() -> str:
    t, u, m = ApiToken._meta.db_table, User._meta.db_table, Terminal._meta.db_table
    r, n, d = RoleAssignment._meta.db_table, Unit._meta.db_table, Department._meta.db_table
    return (
        f"SELECT t.id, t.token_hash, t.scopes, t.expires_at, t.revoked_at, t.last_used_at, "  # noqa: S608
        f"u.id, u.username, u.is_active, "
        f"m.id, m.code, m.unit_id, m.ip_address, m.active, m.last_seen_at, m.last_seen_ip, "
        f"r.role, r.unit_id, r.region_path, n.department_id, d.kind "
        f"FROM {t} t JOIN {u} u ON u.id = t.user_id "
        f"LEFT JOIN {m} m ON m.id = t.terminal_id "
        f"LEFT JOIN {r} r ON r.user_id = u.id "
        f"LEFT JOIN {n} n ON n.id = r.unit_id "
        f"LEFT JOIN {d} d ON d.id = n.department_id "
        f"WHERE t.prefix = %s ORDER BY r.id"
    )


_TOKEN_SQL: list[str] = []


def api_token_lookup(prefix: str) -> TokenRecord | None:
    """The token with ``prefix`` with its owner, terminal and the owner's grants: one indexed query
    (it runs on every API request), grants as :func:`grants_for_user` builds them."""
    if not _TOKEN_SQL:
        _TOKEN_SQL.append(_token_sql())
    rows = prepared.query(_TOKEN_SQL[0], [prefix])  # a prepared statement on PostgreSQL
    if not rows:
        return None
    first = rows[0]
    scopes = first[2]
    if isinstance(scopes, str | bytes):
        scopes = json.loads(scopes)
    token = ApiToken(
        id=first[0],
        user_id=first[6],
        prefix=prefix,
        token_hash=first[1],
        scopes=list(scopes or []),
        terminal_id=first[9],
        expires_at=_aware(first[3]) or dt.datetime.min.replace(tzinfo=dt.UTC),
        revoked_at=_aware(first[4]),
        last_used_at=_aware(first[5]),
    )
    terminal = None
    if first[9] is not None:
        terminal = Terminal(
            id=first[9],
            code=first[10],
            unit_id=first[11],
            ip_address=first[12],
            active=bool(first[13]),
            last_seen_at=_aware(first[14]),
            last_seen_ip=first[15] or "",
        )
    grants = tuple(
        Grant(
            role=row[16],
            unit_id=row[17],
            region_path=row[18],
            department_id=row[19] if row[16] in DEPARTMENT_BOUND else None,
            department_kind=row[20] if row[16] in DEPARTMENT_BOUND else None,
        )
        for row in rows
        if row[16] is not None
    )
    return TokenRecord(
        token=token,
        user_id=first[6],
        username=first[7],
        user_active=bool(first[8]),
        terminal=terminal,
        grants=grants,
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
