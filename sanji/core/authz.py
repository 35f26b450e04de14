"""The one authorisation mechanism. Each app states its rules in ``policies.py`` on top of it.

A rule names, per action, the roles that may perform it. Reach is the grant's region subtree
(and department, for department-bound grants). Lists are filtered with :func:`scope_filter`; single
objects are fetched with :func:`get_in_scope`, which answers :class:`NotFound` both when the object
does not exist and when it lies outside the actor's reach.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from django.db.models import Q

from sanji.core.actors import Actor, Grant
from sanji.core.errors import Forbidden, NotFound

M = TypeVar("M", bound=models.Model)


def prefix_q(field: str, prefix: str) -> Q:
    """Rows whose ``field`` starts with ``prefix``, as the index-friendly range ``prefix <= field < next``.

    ``next`` is ``prefix`` with its last character incremented (``"150100/150105/"`` →
    ``"150100/1501050"``): every string starting with ``prefix`` lies in the range and no other does,
    under a collation that orders characters by code point (SQLite's BINARY; PostgreSQL's ``C`` /
    ``C.UTF-8`` or ICU for the digits and ``/`` of region paths). Unlike ``__startswith`` (``LIKE``,
    which SQLite evaluates case-insensitively and PostgreSQL matches against a plain b-tree only under
    the ``C`` collation) a range uses the column's ordinary b-tree index on both engines. An empty
    prefix matches every non-null value.
    """
    if not prefix:
        return Q(**{f"{field}__isnull": False})
    lower, upper = prefix_bounds(prefix)
    return Q(**{f"{field}__gte": lower, f"{field}__lt": upper})


def prefix_bounds(prefix: str) -> tuple[str, str]:
    """``(prefix, next)``: the strings starting with a non-empty ``prefix`` are ``prefix <= s < next``."""
    if not prefix:
        raise ValueError("An empty prefix has no upper bound.")
    return prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)


def scope_q(
    grants: Iterable[Grant],
    *,
    region_field: str = "region_path",
    department_field: str | None = "department_id",
    by_kind: bool = False,
) -> Q:
    """A Q object matching the rows any of ``grants`` reaches. No grants: matches nothing.

    Department-bound grants also match ``department_field`` against the grant's department id, or
    against its department kind (line) when ``by_kind`` is set.
    """
    q = Q(pk__in=[])
    for grant in grants:
        part = prefix_q(region_field, grant.region_path)
        limit = grant.department_kind if by_kind else grant.department_id
        if limit is not None and department_field is not None:
            part &= Q(**{department_field: limit})
        q |= part
    return q


def scope_filter(
    queryset: models.QuerySet[M],
    actor: Actor,
    roles: Iterable[str],
    *,
    region_field: str = "region_path",
    department_field: str | None = "department_id",
    by_kind: bool = False,
) -> models.QuerySet[M]:
    """Restrict ``queryset`` to rows reached by the actor's grants of ``roles``."""
    grants = actor.grants_for(*roles)
    if not grants:
        return queryset.none()
    return queryset.filter(
        scope_q(grants, region_field=region_field, department_field=department_field, by_kind=by_kind)
    )


def reaches(
    actor: Actor,
    roles: Iterable[str],
    *,
    region_path: str,
    department_id: int | None = None,
) -> bool:
    """Does the actor hold one of ``roles`` in a unit whose reach covers this place?"""
    return any(g.reaches(region_path, department_id) for g in actor.grants_for(*roles))


#: Channels on which an actor without a user is the platform itself (never an HTTP request).
PLATFORM_CHANNELS = frozenset({"system", "cli"})


def is_platform(actor: Actor) -> bool:
    """The platform acting for itself: the demo seeder, migrations, sweeps, ``sanji`` commands.

    It holds no role; policies that let it configure say so explicitly.
    """
    return actor.user_id is None and not actor.grants and actor.channel in PLATFORM_CHANNELS


def get_in_scope(queryset: models.QuerySet[M], **lookup: Any) -> M:
    """Fetch one object from an already scoped queryset; missing and out of scope look the same."""
    try:
        return queryset.get(**lookup)
    except (ObjectDoesNotExist, ValueError, TypeError):
        raise NotFound() from None


def require(allowed: bool, message: str | None = None) -> None:
    """Raise :class:`Forbidden` unless ``allowed``. Use only after the object is known visible."""
    if not allowed:
        raise Forbidden(message or None)


def require_role(actor: Actor, *roles: str) -> None:
    """Whole-function gate for actions that are not about one object (e.g. 'list users')."""
    if not actor.has_role(*roles):
        raise Forbidden()
