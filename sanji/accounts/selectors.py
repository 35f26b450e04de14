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
from sanji.core.errors import Forbidden, NotFound, ValidationFailed
from sanji.core.roles import DEPARTMENT_BOUND
from sanji.orgs import selectors as orgs_selectors
from sanji.orgs.models import Department, Terminal, Unit
from sanji.orgs.selectors import UnitLabel


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


def units_enclosing(unit_ids: Iterable[int]) -> set[int]:
    """The units ``unit_ids`` and every unit they are nested in (``Unit.parent``: a window's centre,
    a community station's township centre), one query per level of nesting."""
    found = set(unit_ids)
    frontier = set(found)
    while frontier:
        parents = set(
            Unit.objects.filter(pk__in=frontier, parent__isnull=False).values_list("parent_id", flat=True)
        )
        frontier = {pk for pk in parents if pk is not None} - found
        found |= frontier
    return found


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
        Prefetch(
            "role_assignments",
            queryset=RoleAssignment.objects.select_related("unit__parent", "unit__region").order_by("id"),
        )
    ).order_by("username")


def user_get_for(actor: Actor, user_id: int) -> User:
    """One user the actor may see; :class:`NotFound` outside scope (or for non-administrators)."""
    user = policies.scope_users(actor, User.objects.filter(pk=user_id)).first()
    if user is None:
        raise NotFound(_("该用户不存在或不在您的管辖范围内。"), details={"code": "user_not_found"})
    return user


def assignments_of(user: User) -> models.QuerySet[RoleAssignment]:
    return (
        RoleAssignment.objects.filter(user=user)
        .select_related("unit__department", "unit__parent", "unit__region")
        .order_by("id")
    )


def assignment_get_for(actor: Actor, user: User, assignment_id: int) -> RoleAssignment:
    assignment = (
        RoleAssignment.objects.select_related("user", "unit").filter(user=user, pk=assignment_id).first()
    )
    if assignment is None:
        raise NotFound(_("该角色不存在或已撤销。"), details={"code": "assignment_not_found"})
    return assignment


def _token_not_found() -> NotFound:
    return NotFound(_("该令牌不存在或不在您的管辖范围内。"), details={"code": "token_not_found"})


def token_list_for(actor: Actor, user: User) -> models.QuerySet[ApiToken]:
    """``user``'s tokens, newest first, for the owner or the security administrator managing them."""
    if not policies.can_view_tokens(actor, user):
        raise _token_not_found()
    return ApiToken.objects.filter(user=user).select_related("terminal").order_by("-created_at", "-id")


def token_get_for(actor: Actor, token_id: int) -> ApiToken:
    token = ApiToken.objects.select_related("user", "terminal").filter(pk=token_id).first()
    if token is None or not policies.can_view_tokens(actor, token.user):
        raise _token_not_found()
    return token


#: How many units the role-grant form's chooser lists at once (typing narrows them).
UNIT_CHOICES_SHOWN = 50


def unit_choices_for(actor: Actor, q: str = "") -> list[UnitLabel]:
    """Active units the actor may grant roles in, labelled (name, centre, region, code) for the
    role-grant form's chooser, searched by ``q`` (:func:`sanji.orgs.selectors.unit_choices`)."""
    if not policies.can_manage_users(actor):
        raise Forbidden(_("只有安全管理员可以授予角色。"))
    units = policies.units_for_granting(actor, Unit.objects.all())
    return orgs_selectors.unit_choices(units, q.strip()[:100], limit=UNIT_CHOICES_SHOWN)


def unit_for_granting(actor: Actor, value: str) -> Unit:
    """The active unit, in which the actor may grant roles, that the chooser's ``value`` names: a
    unit code, or a whole label as the chooser shows it (``名称 · 区划 · 编码``).

    An unknown unit or one outside the actor's reach is :class:`NotFound`; a closed unit within
    reach is :class:`ValidationFailed` (it exists, but no role is granted in it any more).
    """
    code = value.rsplit("·", 1)[-1].strip()
    unit = (
        policies.units_in_grant_reach(actor, Unit.objects.all())
        .filter(code=code)
        .select_related("region", "parent")
        .first()
        if code
        else None
    )
    if unit is None:
        raise NotFound(
            _(
                "找不到单位“%(value)s”，或它不在您的管辖范围内。请输入单位名称、所在区划或编码搜索，并从列表中选择。"
            )
            % {"value": value.strip()[:60]},
            details={"code": "unknown_unit", "unit": code},
        )
    if not unit.active:
        raise ValidationFailed(
            _("单位“%(unit)s”（%(region)s，%(code)s）已停用，不能在其中授予角色。")
            % {
                "unit": f"{unit.parent.name} {unit.name}" if unit.parent is not None else unit.name,
                "region": unit.region.name,
                "code": unit.code,
            },
            details={"code": "unit_inactive", "unit": unit.code},
        )
    return unit


def terminal_for_token(actor: Actor, code: str) -> Terminal:
    """An active terminal, by code, within the actor's reach (to bind a department system's token)."""
    terminal = Terminal.objects.filter(code=code.strip(), active=True).first()
    if terminal is None or not policies.can_use_terminal(actor, terminal):
        raise NotFound(_("终端不存在、已停用或不在您的管辖范围内。"))
    return terminal
