"""Reads of the audit trail, always through the auditor's scope (see :mod:`sanji.audit.policies`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from django.db import models
from django.utils.translation import gettext as _

from sanji.audit import policies
from sanji.audit.chain import canonical_time
from sanji.audit.models import Checkpoint, Entry
from sanji.core.actors import Actor
from sanji.core.authz import require
from sanji.core.errors import NotFound


@dataclass(frozen=True, slots=True)
class EntryFilter:
    """A search of the audit trail. ``action`` matches as a prefix ("cases." finds every case
    event); ``since`` is inclusive and ``until`` exclusive."""

    username: str | None = None
    unit_id: int | None = None
    action: str | None = None
    target_type: str | None = None
    target_id: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None

    def as_data(self) -> dict[str, Any]:
        """The filters that are set, as JSON-ready values (for the export's own audit entry)."""
        out: dict[str, Any] = {}
        for name, value in asdict(self).items():
            if value is None or value == "":
                continue
            out[name] = canonical_time(value) if isinstance(value, dt.datetime) else value
        return out


def _auditors_only() -> str:
    return _("只有安全审计员可以查看审计日志。")


def entry_list_for(
    actor: Actor,
    *,
    username: str | None = None,
    unit_id: int | None = None,
    action: str | None = None,
    target_type: str | None = None,
    target_id: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> models.QuerySet[Entry]:
    """Entries the auditor may read, newest first. Anyone else is refused (Forbidden)."""
    require(policies.can_read(actor), _auditors_only())
    qs = policies.scope(actor, Entry.objects.all())
    if username:
        qs = qs.filter(actor_username=username)
    if unit_id is not None:
        qs = qs.filter(unit_id=unit_id)
    if action:
        qs = qs.filter(action__startswith=action)
    if target_type:
        qs = qs.filter(target_type=target_type)
    if target_id:
        qs = qs.filter(target_id=target_id)
    if since is not None:
        qs = qs.filter(at__gte=since)
    if until is not None:
        qs = qs.filter(at__lt=until)
    return qs.order_by("-seq")


def entry_filtered_for(actor: Actor, filters: EntryFilter) -> models.QuerySet[Entry]:
    return entry_list_for(
        actor,
        username=filters.username,
        unit_id=filters.unit_id,
        action=filters.action,
        target_type=filters.target_type,
        target_id=filters.target_id,
        since=filters.since,
        until=filters.until,
    )


def entry_get_for(actor: Actor, seq: int) -> Entry:
    """One entry; outside the auditor's reach (or missing) is NotFound. Non-auditors: Forbidden."""
    require(policies.can_read(actor), _auditors_only())
    entry = policies.scope(actor, Entry.objects.all()).filter(seq=seq).first()
    if entry is None:
        raise NotFound(_("该审计记录不存在或不在您的审计范围内。"), details={"code": "entry_not_found"})
    return entry


def checkpoint_latest_for(actor: Actor) -> Checkpoint | None:
    """The latest purge checkpoint (the auditor sees where the remaining chain starts)."""
    require(policies.can_read(actor), _auditors_only())
    return Checkpoint.objects.order_by("-seq").first()
