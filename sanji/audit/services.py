"""Writes to the audit trail. Every domain service calls :func:`record` inside its own transaction."""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import Min
from django.utils.translation import gettext as _

from sanji.audit import policies, signing
from sanji.audit.chain import GENESIS_HASH, body_after_seq, canonical_time, entry_hash, normalise_data
from sanji.audit.models import ChainHead, Checkpoint, Entry
from sanji.audit.selectors import EntryFilter, entry_filtered_for
from sanji.audit.verify import VerifyResult, verify_chain
from sanji.core import clock, prepared
from sanji.core.actors import Actor
from sanji.core.authz import require
from sanji.core.errors import Conflict, ValidationFailed

#: The most rows one Excel export holds; larger searches must be narrowed or exported as CSV.
XLSX_MAX_ROWS = 100_000

ExportFormat = Literal["csv", "xlsx"]


def _target_fields(target: models.Model | None, label: str | None) -> tuple[str, str, str]:
    if target is None:
        return "", "", label or ""
    meta = target._meta
    return f"{meta.app_label}.{meta.model_name}", str(target.pk), label if label is not None else str(target)


def _locked_head() -> ChainHead:
    """The chain head, locked until the caller's transaction ends.

    Migration 0002 creates the row. If it is missing (a test database flushed between tests),
    it is re-created from the last entry, so appends continue the existing chain.
    """
    head = _head_for_update()
    if head is not None:
        return head
    last = Entry.objects.order_by("-seq").values_list("seq", "hash").first()
    seq, digest = last if last is not None else (0, GENESIS_HASH)
    ChainHead.objects.get_or_create(pk=1, defaults={"seq": seq, "hash": digest})
    head = _head_for_update()
    assert head is not None
    return head


# Plain statements for the head: every audited change runs them, inside its write transaction.
_HEAD_TABLE = ChainHead._meta.db_table


def _head_for_update() -> ChainHead | None:
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    rows = prepared.query(f"SELECT seq, hash FROM {_HEAD_TABLE} WHERE id = 1{lock}")  # noqa: S608
    return None if not rows else ChainHead(pk=1, seq=int(rows[0][0]), hash=rows[0][1])


def _head_move(seq: int, digest: str) -> None:
    prepared.execute(f"UPDATE {_HEAD_TABLE} SET seq = %s, hash = %s WHERE id = 1", [seq, digest])  # noqa: S608


#: The entry's columns the caller gives (``prev_hash`` and ``hash`` come from the head).
_GIVEN = tuple(
    f for f in Entry._meta.local_concrete_fields if f.name not in ("id", "seq", "prev_hash", "hash")
)


@functools.cache
def _append_ctes(gate: str = "", prefix: str = "", gate_target: bool = False) -> tuple[str, str]:
    """The two CTE bodies of a PostgreSQL append: ``h``, the head locked (joined with the CTE
    ``gate``, if any, so that nothing is appended when the gate has no row), and ``e``, the entry
    inserted after it; ``prefix`` names them (``{prefix}h``, ``{prefix}e``).

    The hash is completed in the database from the previous hash and seq it holds under the lock
    (:func:`sanji.audit.chain.body_after_seq`), so the head is locked for one statement and the
    commit. Parameters: the :data:`_GIVEN` values, then the body after the seq.

    ``gate_target``: the entry's target is the row the gate inserts (:meth:`prepared.Chain.start`),
    whose key only the database knows: ``target_id`` is the gate's :data:`prepared.GATE_KEY` and
    the body comes in two parameters, before and after it (:func:`_body_around_target`); the
    :data:`_GIVEN` values leave ``target_id`` out.
    """
    quote = connection.ops.quote_name
    entry = quote(Entry._meta.db_table)
    columns = ", ".join(quote(f.column) for f in _GIVEN)
    h = f"{prefix}h"
    # Casts: the values are a SELECT list, whose parameters take no type from the columns.
    values = ", ".join(
        f"{h}.target" if gate_target and f.attname == "target_id" else f"%s::{prepared.cast(f, connection)}"
        for f in _GIVEN
    )
    body = f"%s::text || {h}.target || %s::text" if gate_target else "%s::text"
    hashed = f"{h}.hash || E'\\n[' || {h}.seq::text || ',' || {body}"
    digest = f"encode(sha256(convert_to({hashed}, 'UTF8')), 'hex')"
    source = f"{_HEAD_TABLE} head, {gate}" if gate else f"{_HEAD_TABLE} head"
    target = f", {gate}.{prepared.GATE_KEY}::text AS target" if gate_target else ""
    # Names are the models' own, quoted; values are always parameters.
    locked = (
        f"SELECT head.seq + 1 AS seq, head.hash{target} FROM {source} "  # noqa: S608
        "WHERE head.id = 1 FOR UPDATE OF head"
    )
    inserted = (
        f"INSERT INTO {entry} (seq, {columns}, prev_hash, hash) "  # noqa: S608
        f"SELECT {h}.seq, {values}, {h}.hash, {digest} FROM {h} RETURNING id, seq, prev_hash, hash"
    )
    return locked, inserted


@functools.cache
def _append_sql() -> str:
    """PostgreSQL: lock the head, insert the entry after it and move the head, in one statement
    (:func:`_append_ctes`): one round trip instead of three."""
    locked, inserted = _append_ctes()
    return (
        f"WITH h AS ({locked}), e AS ({inserted}) "  # noqa: S608
        f"UPDATE {_HEAD_TABLE} SET seq = e.seq, hash = e.hash FROM e WHERE {_HEAD_TABLE}.id = 1 "
        "RETURNING e.id, e.seq, e.prev_hash, e.hash"
    )


def _params(values: dict[str, Any], gate_target: bool = False) -> list[Any] | None:
    """The parameters of :func:`_append_ctes` (``gate_target`` alike); None when the body cannot be
    cut around the target (:func:`_body_around_target`). The fields are plain columns (no foreign
    keys, nothing set on save): each value as it stands."""
    body = _body_around_target(values) if gate_target else (body_after_seq(values),)
    if body is None:
        return None
    given = [
        f.get_db_prep_save(values[f.attname], connection)
        for f in _GIVEN
        if not (gate_target and f.attname == "target_id")
    ]
    return [*given, *body]


#: What stands for the target's key in an entry's body until the database has the key (a string
#: with NUL characters, which no stored text can hold, so it cannot occur in the body otherwise).
_PENDING_TARGET = "\x00sanji-pending-target\x00"


def _body_around_target(values: dict[str, Any]) -> tuple[str, str] | None:
    """The body after the seq (:func:`body_after_seq`) in two parts, around the digits of the
    target's key: the key is a string in the canonical JSON, so the database, which alone knows it,
    completes the body as ``before || key || after``. None if the body cannot be cut there (it
    would hold the stand-in twice: never for text the database can store)."""
    body = body_after_seq({**values, "target_id": _PENDING_TARGET})
    marker = json.dumps(_PENDING_TARGET, ensure_ascii=False)
    before, found, after = body.partition(marker)
    if not found or marker in after:
        return None
    return before + '"', '"' + after


def _appended(values: dict[str, Any], row: Sequence[Any]) -> Entry:
    entry = Entry(prev_hash="", hash="", **values)
    entry.pk, entry.seq, entry.prev_hash, entry.hash = row
    entry._state.adding = False
    entry._state.db = connection.alias
    return entry


def _append_in_one_statement(values: dict[str, Any]) -> Entry | None:
    """The new entry, appended by :func:`_append_sql`; None when the head row is missing."""
    params = _params(values)
    assert params is not None
    rows = prepared.query(_append_sql(), params)
    return _appended(values, rows[0]) if rows else None


def _append_slowly(values: dict[str, Any]) -> Entry:
    """Lock the head (re-creating it if it is missing), hash, insert, move the head: three statements."""
    head = _locked_head()
    values["seq"] = head.seq + 1
    digest = entry_hash(head.hash, values)
    entry = prepared.insert(Entry(prev_hash=head.hash, hash=digest, **values))
    _head_move(entry.seq, digest)
    return entry


def _values(
    actor: Actor,
    action: str,
    target: models.Model | None,
    target_label: str | None,
    region_path: str,
    purpose: str,
    data: dict[str, Any] | None,
) -> dict[str, Any]:
    target_type, target_id, label = _target_fields(target, target_label)
    return {
        "seq": 0,
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
        "target_label": label[:200],
        "region_path": region_path,
        "purpose": purpose[:200],
        "data": normalise_data(data or {}),
    }


class Recorded(prepared.Part):
    """An audit entry written as part of a :class:`sanji.core.prepared.Chain` (see
    :func:`record_in`); ``entry`` is the appended entry once the chain has run.

    ``pending``: the entry's target is the row the chain starts with (:meth:`prepared.Chain.start`),
    whose key is known only once it is written: on PostgreSQL the statement fills it in, elsewhere
    the entry is appended after the row is inserted.
    """

    def __init__(self, values: dict[str, Any], pending: models.Model | None = None) -> None:
        self.values = values
        self.pending = pending
        self._entry: Entry | None = None
        self._row: Sequence[Any] | None = None

    @property
    def entry(self) -> Entry | None:
        """The appended entry (built when asked for: most writers never ask)."""
        if self._entry is None and self._row is not None:
            self._entry = _appended(self.values, self._row)
        return self._entry

    def _known_target(self) -> dict[str, Any]:
        if self.pending is not None:
            self.values["target_id"] = str(self.pending.pk)
        return self.values

    def ctes(self, gate: str, name: str, connection: Any) -> tuple[list[str], list[Any], list[str]]:
        params = _params(self.values, gate_target=self.pending is not None)
        if params is None:  # no body to complete in the database: not written as part of the chain
            raise prepared.Unpreparable("the audit entry's body cannot be completed in the database")
        locked, inserted = _append_ctes(gate, name, self.pending is not None)
        h, e = f"{name}h", f"{name}e"
        move = (
            f"{name} AS (UPDATE {_HEAD_TABLE} SET seq = {e}.seq, hash = {e}.hash "  # noqa: S608
            f"FROM {e} WHERE {_HEAD_TABLE}.id = 1)"
        )
        outputs = [f"(SELECT {column} FROM {e})" for column in ("id", "seq", "prev_hash", "hash")]  # noqa: S608
        return [f"{h} AS ({locked})", f"{e} AS ({inserted})", move], params, outputs

    def check(self, gate: str, name: str) -> str:
        # Names are the chain's own CTEs.
        written = f"EXISTS (SELECT 1 FROM {name}e) OR NOT EXISTS (SELECT 1 FROM {gate})"  # noqa: S608
        return prepared.fail_unless(written, "audit chain head missing")

    def done(self, values: Sequence[Any]) -> None:
        if values[0] is None:
            # The head row is missing (a test database flushed): the chain wrote its change but no
            # entry. Append it now, in the same transaction, re-creating the head as record() does.
            self._entry = _append_slowly(self._known_target())
            return
        self._known_target()
        self._row = values

    def run_alone(self, connection: Any) -> None:
        self._entry = _append_slowly(self._known_target())


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
    Appends are serialised by locking the chain head row until the caller commits (on SQLite,
    by the IMMEDIATE transactions of settings._SQLITE_OPTIONS), so the chain never forks.
    """
    # The entry is prepared before the chain head is locked, so the lock is held only for the
    # hash, the insert and the head update (then until the caller commits).
    values = _values(actor, action, target, target_label, region_path, purpose, data)
    # No savepoint inside the caller's transaction: a failure here fails the caller's change too.
    with transaction.atomic(savepoint=False):
        if connection.vendor == "postgresql":
            appended = _append_in_one_statement(values)
            if appended is not None:
                return appended
        return _append_slowly(values)


def record_in(
    chain: prepared.Chain,
    *,
    actor: Actor,
    action: str,
    target: models.Model | None = None,
    target_label: str | None = None,
    region_path: str = "",
    purpose: str = "",
    data: dict[str, Any] | None = None,
) -> Recorded:
    """:func:`record` as a write of ``chain``: appended if and only if the chain's guard matches, in
    the same statement on PostgreSQL; ``entry`` of the answer is the entry once the chain has run.
    ``target`` may be the row the chain starts with (:meth:`prepared.Chain.start`), not yet written."""
    pending = target if target is not None and target is chain.started else None
    values = _values(actor, action, target, target_label, region_path, purpose, data)
    recorded = Recorded(values, pending)
    chain.add(recorded)
    return recorded


def audit_purge(*, actor: Actor, before: dt.datetime) -> Checkpoint | None:
    """Remove the entries older than ``before`` and leave a signed checkpoint in their place.

    Only a contiguous prefix of the chain is removed: up to the first entry at or after
    ``before``. Cut-offs closer than ``SANJI_AUDIT_MIN_RETENTION_DAYS`` (180 days, 网络安全法
    Art. 21: logs kept at least six months) are refused. The prefix is verified first, so a
    checkpoint never vouches for a tampered chain. Returns None when nothing is old enough.
    """
    require(policies.can_purge(actor), _("只有平台（服务器上的 sanji audit purge 命令）可以清理审计日志。"))
    if before.tzinfo is None:
        raise ValidationFailed(_("清理的截止时间必须带时区。"), details={"code": "naive_cutoff"})
    now = clock.now()
    days = int(settings.SANJI_AUDIT_MIN_RETENTION_DAYS)
    latest = now - dt.timedelta(days=days)
    if before > latest:
        raise ValidationFailed(
            _("审计日志至少保留 %(days)d 天：清理的截止时间不得晚于 %(latest)s。")
            % {"days": days, "latest": latest.astimezone(clock.CITY_TZ).strftime("%Y-%m-%d %H:%M")},
            details={"code": "retention", "min_days": days, "latest": canonical_time(latest)},
        )

    last_purged, floor = _purge_bounds(before)
    if last_purged <= floor:
        return None
    # Verified outside the lock (appends go on meanwhile; they only add entries after ``before``).
    checked = verify_chain(upto=last_purged)
    if not checked.ok:
        problem = checked.problem
        assert problem is not None
        raise Conflict(
            _("日志链已被破坏（#%(seq)d），拒绝清理：请先在“校验日志链”中核查。") % {"seq": problem.seq},
            details={
                "code": "chain_broken",
                "seq": problem.seq,
                "kind": problem.kind,
                "problem": checked.message,
            },
        )

    with transaction.atomic():
        _locked_head()  # no appends, no second purge, while the prefix is removed
        if _purge_bounds(before) != (last_purged, floor):
            raise Conflict(
                _("审计日志正被同时清理，请重新执行清理。"), details={"code": "purged_concurrently"}
            )
        last = Entry.objects.filter(seq=last_purged).values_list("hash", flat=True).first()
        if last is None:
            raise Conflict(
                _("第 %(seq)d 条审计记录缺失，拒绝清理。") % {"seq": last_purged},
                details={"code": "entry_missing", "seq": last_purged},
            )
        count = Entry.objects.filter(seq__lte=last_purged).count()
        created_at = clock.now()
        payload = signing.checkpoint_payload(
            seq=last_purged, hash=last, purged_before=before, purged_count=count, created_at=created_at
        )
        key_id, signature = signing.sign(payload)
        checkpoint = Checkpoint.objects.create(
            seq=last_purged,
            hash=last,
            purged_before=before,
            purged_count=count,
            created_at=created_at,
            created_by=actor.username,
            key_id=key_id,
            signature=signature,
        )
        # The ORM refuses to delete entries (EntryQuerySet); this is the one place that does.
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {Entry._meta.db_table} WHERE seq <= %s", [last_purged])  # noqa: S608
        record(
            actor=actor,
            action="audit.purged",
            target=checkpoint,
            target_label=f"checkpoint #{last_purged}",
            data={
                "before": canonical_time(before),
                "purged_count": count,
                "first_seq": floor + 1,
                "last_seq": last_purged,
                "key_id": key_id,
            },
        )
    return checkpoint


def _purge_bounds(before: dt.datetime) -> tuple[int, int]:
    """(the last seq a purge at ``before`` removes, the seq of the latest checkpoint or 0)."""
    first_kept = Entry.objects.filter(at__gte=before).aggregate(seq=Min("seq"))["seq"]
    if first_kept is None:
        head_seq = ChainHead.objects.filter(pk=1).values_list("seq", flat=True).first()
        last_seq = Entry.objects.order_by("-seq").values_list("seq", flat=True).first()
        first_kept = max(head_seq or 0, last_seq or 0) + 1
    floor = Checkpoint.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    return first_kept - 1, floor


@dataclass(frozen=True)
class Export:
    """An export about to be written: the rows (bounded, newest first) and how many."""

    rows: models.QuerySet[Entry]
    count: int
    format: ExportFormat


def audit_export(*, actor: Actor, filters: EntryFilter, format: ExportFormat) -> Export:
    """Prepare an export of a search and record it ("audit.exported", with filter and row count).

    The rows are pinned to the chain as it is now (``seq`` at most the current head), so the
    recorded count is the number of rows written even while entries keep being appended.
    """
    require(policies.can_export(actor), _("只有安全审计员可以导出审计日志。"))
    rows = entry_filtered_for(actor, filters)
    with transaction.atomic():
        tip = ChainHead.objects.filter(pk=1).values_list("seq", flat=True).first() or 0
        rows = rows.filter(seq__lte=tip)
        count = rows.count()
        if format == "xlsx" and count > XLSX_MAX_ROWS:
            raise ValidationFailed(
                _("符合条件的记录有 %(count)d 条，Excel 导出最多 %(max)d 条：请缩小检索范围，或导出 CSV。")
                % {"count": count, "max": XLSX_MAX_ROWS},
                details={"code": "too_many_rows", "rows": count, "max_rows": XLSX_MAX_ROWS},
            )
        record(
            actor=actor,
            action="audit.exported",
            region_path=policies.export_region_path(actor),
            data={"format": format, "filter": filters.as_data(), "rows": count},
        )
    return Export(rows=rows, count=count, format=format)


def audit_archive(
    *, actor: Actor, since: dt.datetime | None = None, until: dt.datetime | None = None
) -> Export:
    """The whole trail (or a time range), oldest first, for the platform to archive (CLI only);
    recorded like any export."""
    require(
        policies.can_purge(actor), _("只有平台（服务器上的 sanji audit export 命令）可以归档全部审计日志。")
    )
    rows = Entry.objects.order_by("seq")
    if since is not None:
        rows = rows.filter(at__gte=since)
    if until is not None:
        rows = rows.filter(at__lt=until)
    with transaction.atomic():
        tip = ChainHead.objects.filter(pk=1).values_list("seq", flat=True).first() or 0
        rows = rows.filter(seq__lte=tip)
        count = rows.count()
        record(
            actor=actor,
            action="audit.exported",
            data={"format": "csv", "filter": EntryFilter(since=since, until=until).as_data(), "rows": count},
        )
    return Export(rows=rows, count=count, format="csv")


def audit_verify(*, actor: Actor) -> VerifyResult:
    """Verify the chain on an auditor's request (page or API) and record that it was checked."""
    require(policies.can_verify(actor), _("只有安全审计员可以校验日志链。"))
    result = verify_chain()
    record(
        actor=actor,
        action="audit.verified",
        region_path=policies.export_region_path(actor),
        data={"ok": result.ok, "message": result.message, "count": result.count},
    )
    return result
