"""Audit trail tables.

``Entry`` rows form a hash chain: each holds the SHA-256 of the previous entry's hash and its own
canonical serialisation (:mod:`sanji.audit.chain`). ``ChainHead`` is a one-row table holding the
chain's tip; locking it serialises appends so the chain has no forks. ``Checkpoint`` rows are
signed statements left by a purge: "entries up to seq N were removed; entry N's hash was H".
"""

from __future__ import annotations

from django.db import models

from sanji.core.appendonly import AppendOnlyModel
from sanji.core.indexes import prefix_index


class Entry(AppendOnlyModel):
    """One audit entry (痕迹): who did what, to which object, where, when, from which terminal.

    Append-only through the ORM (:mod:`sanji.core.appendonly`); the hash chain guards the rest.
    """

    append_only_message = "audit entries are append-only; only audit.services.audit_purge removes a prefix"

    seq = models.BigIntegerField(unique=True)
    at = models.DateTimeField(db_index=True)
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_username = models.CharField(max_length=150)
    unit_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    terminal = models.CharField(max_length=64, blank=True)
    ip = models.CharField(max_length=45, blank=True)
    channel = models.CharField(max_length=16)
    action = models.CharField(max_length=80)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(max_length=200, blank=True)
    region_path = models.CharField(max_length=80, blank=True)
    purpose = models.CharField(max_length=200, blank=True)
    data = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["seq"]
        # Every audited change inserts a row here while it holds the chain head, so the entry keeps
        # only the indexes the trail's searches use (audit.selectors): the user name matched
        # whole, the action and the area by prefix (one pattern index each, not the two of
        # ``db_index=True``), the unit, the time, the target. Nothing searches by ``actor_id``.
        indexes = [
            models.Index(fields=["target_type", "target_id"], name="audit_entry_target"),
            prefix_index("actor_username", "audit_entry_actor"),
            prefix_index("action", "audit_entry_action"),
            prefix_index("region_path", "audit_entry_area"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} by {self.actor_username}"


class ChainHead(models.Model):
    """The tip of the chain (always the single row with pk=1)."""

    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"chain head at #{self.seq}"


class Checkpoint(models.Model):
    """A signed statement left by a purge, so that the remaining chain still verifies."""

    seq = models.BigIntegerField(unique=True, help_text="last purged entry's seq")
    hash = models.CharField(max_length=64, help_text="last purged entry's hash")
    purged_before = models.DateTimeField()
    purged_count = models.BigIntegerField()
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=150)
    key_id = models.CharField(max_length=64)
    signature = models.CharField(max_length=200)

    class Meta:
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"checkpoint at #{self.seq}"
