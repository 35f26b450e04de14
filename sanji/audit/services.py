"""Writes to the audit trail. Every domain service calls :func:`record` inside its own transaction."""

from __future__ import annotations

from typing import Any

from django.db import models, transaction

from sanji.audit.chain import entry_hash, normalise_data
from sanji.audit.models import ChainHead, Entry
from sanji.core import clock
from sanji.core.actors import Actor


def _target_fields(target: models.Model | None) -> tuple[str, str, str]:
    if target is None:
        return "", "", ""
    meta = target._meta
    return f"{meta.app_label}.{meta.model_name}", str(target.pk), str(target)[:200]


def record(
    *,
    actor: Actor,
    action: str,
    target: models.Model | None = None,
    target_label: str | None = None,
    region_path: str = "",
    purpose: str = "",
    data: dict[str, Any] | None = None,
) -> Entry:
    """Append one entry to the chain, in the caller's transaction.

    ``action`` is domain-worded, ``<app>.<event>`` (e.g. ``"accounts.login_failed"``).
    Appends are serialised by locking the chain head row until the caller commits.
    """
    target_type, target_id, label = _target_fields(target)
    with transaction.atomic():
        # The head row is created by the migration; locking it orders concurrent appends.
        head = ChainHead.objects.select_for_update().get(pk=1)
        values: dict[str, Any] = {
            "seq": head.seq + 1,
            "at": clock.now(),
            "actor_id": actor.user_id,
            "actor_username": actor.username,
            "unit_id": actor.unit_id,
            "terminal": actor.terminal_code,
            "ip": actor.ip,
            "channel": actor.channel,
            "action": action,
            "target_type": target_type,
            "target_id": target_id,
            "target_label": (target_label if target_label is not None else label)[:200],
            "region_path": region_path,
            "purpose": purpose[:200],
            "data": normalise_data(data or {}),
        }
        digest = entry_hash(head.hash, values)
        entry = Entry.objects.create(prev_hash=head.hash, hash=digest, **values)
        head.seq = entry.seq
        head.hash = digest
        head.save(update_fields=["seq", "hash"])
    return entry
