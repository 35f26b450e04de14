"""Who may read the audit trail, and how far.

三员分立 (separation of the three administrators): only the security auditor (安全审计员) reads and
exports the audit trail; the system administrator and the security administrator cannot, so
neither can hide their own actions. An auditor's grant reaches the entries whose ``region_path``
lies in the grant's region subtree. Entries without a place (logins, platform configuration,
purges) have an empty ``region_path``; only an auditor whose grant sits at the city root reaches
them.

Purging old entries is an operation, not a review: it is run from the command line as the
system actor (``sanji audit purge``), never by a person through a page or the API. The auditor
sees its result: the "audit.purged" entry and the signed checkpoint.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from sanji.audit.models import Entry
from sanji.core.actors import Actor, Grant
from sanji.core.authz import scope_q
from sanji.core.roles import Role

#: The API token scope that audit reads need.
READ_SCOPE = "audit:read"

#: Channels on which the platform itself acts (no person).
SYSTEM_CHANNELS = frozenset({"system", "cli"})


def _auditor_grants(actor: Actor) -> tuple[Grant, ...]:
    if not actor.allows_scope(READ_SCOPE):
        return ()
    return actor.grants_for(Role.SECURITY_AUDITOR)


def is_city_root(grant: Grant) -> bool:
    """A grant at the top of the region tree (``"150100/"``): one path segment."""
    return grant.region_path.count("/") == 1


def can_read(actor: Actor) -> bool:
    return bool(_auditor_grants(actor))


def can_export(actor: Actor) -> bool:
    return can_read(actor)


def can_verify(actor: Actor) -> bool:
    return can_read(actor)


def can_purge(actor: Actor) -> bool:
    """Only the platform itself (CLI, scheduled job) purges; no person holds this right."""
    return actor.user_id is None and actor.channel in SYSTEM_CHANNELS and not actor.grants


def can_read_entry(actor: Actor, entry: Entry) -> bool:
    return any(_reaches(grant, entry.region_path) for grant in _auditor_grants(actor))


def _reaches(grant: Grant, region_path: str) -> bool:
    if region_path == "":
        return is_city_root(grant)
    return region_path.startswith(grant.region_path)


def scope(actor: Actor, queryset: models.QuerySet[Entry]) -> models.QuerySet[Entry]:
    grants = _auditor_grants(actor)
    if not grants:
        return queryset.none()
    q = scope_q(grants, department_field=None)
    if any(is_city_root(g) for g in grants):
        q |= Q(region_path="")
    return queryset.filter(q)


def export_region_path(actor: Actor) -> str:
    """Where an auditor's own actions are filed: the region of their widest auditor grant."""
    grants = sorted(_auditor_grants(actor), key=lambda g: len(g.region_path))
    return grants[0].region_path if grants else ""
