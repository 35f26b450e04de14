"""Reads about accounts. :func:`actor_for` turns a user into the :class:`Actor` every service takes."""

from __future__ import annotations

from collections.abc import Iterable

from sanji.accounts.models import RoleAssignment, User
from sanji.core.actors import Actor, Grant
from sanji.core.roles import DEPARTMENT_BOUND
from sanji.orgs.models import Terminal


def grants_for_user(user_id: int) -> tuple[Grant, ...]:
    rows = (
        RoleAssignment.objects.filter(user_id=user_id)
        .select_related("unit")
        .order_by("id")
        .values_list("role", "unit_id", "region_path", "unit__department_id")
    )
    return tuple(
        Grant(
            role=role,
            unit_id=unit_id,
            region_path=region_path,
            department_id=department_id if role in DEPARTMENT_BOUND else None,
        )
        for role, unit_id, region_path, department_id in rows
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
