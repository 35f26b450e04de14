"""Verifying the audit chain: recompute every hash from the latest checkpoint (or genesis) on.

:func:`walk` is pure: it checks an ordered stream of rows and names the *first* entry that was
changed (its hash does not match its content), removed (a gap in ``seq``, a link that skips it,
a truncated tail) or inserted (a duplicate or out-of-order ``seq``, a row the next one links past,
rows beyond the chain head). :func:`verify_chain` feeds it from the database without building
model instances, and checks the latest checkpoint's signature and the chain head.

Concurrent appends are tolerated: the head is read before and after the stream, and the last
streamed entry must lie between the two. Do not run verify while a purge is running.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Generator, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from django.db import connections, transaction
from django.utils.dateparse import parse_datetime

from sanji.audit import signing
from sanji.audit.chain import GENESIS_HASH, HASHED_FIELDS, canonical_time, row_hash
from sanji.audit.models import ChainHead, Checkpoint, Entry

ProblemKind = Literal["changed", "removed", "inserted", "checkpoint", "head"]

#: Columns streamed per entry: the hashed fields in hash order, then the stored links.
STREAMED_FIELDS = (*HASHED_FIELDS, "prev_hash", "hash")

DEFAULT_CHUNK_SIZE = 20_000


@dataclass(frozen=True, slots=True)
class Problem:
    seq: int
    kind: ProblemKind
    detail: str

    @property
    def message(self) -> str:
        if self.kind == "checkpoint":
            return f"audit chain broken at checkpoint #{self.seq}: {self.detail}"
        if self.kind == "head":
            return f"audit chain broken at the chain head: {self.detail}"
        return f"audit chain broken at entry #{self.seq}: entry {self.kind} ({self.detail})"


@dataclass(frozen=True, slots=True)
class WalkResult:
    count: int
    first_seq: int | None
    last_seq: int | None
    last_hash: str
    problem: Problem | None


@dataclass(frozen=True, slots=True)
class VerifyResult:
    count: int
    first_seq: int | None
    last_seq: int | None
    checkpoint_seq: int | None
    problem: Problem | None

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def message(self) -> str:
        if self.problem is not None:
            return self.problem.message
        start = f"checkpoint #{self.checkpoint_seq}" if self.checkpoint_seq is not None else "from genesis"
        if self.count == 0:
            return f"audit chain intact: 0 entries, {start}"
        return f"audit chain intact: {self.count} entries (#{self.first_seq}–#{self.last_seq}), {start}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "message": self.message,
            "count": self.count,
            "first_seq": self.first_seq,
            "last_seq": self.last_seq,
            "checkpoint_seq": self.checkpoint_seq,
            "problem": (
                None
                if self.problem is None
                else {"seq": self.problem.seq, "kind": self.problem.kind, "detail": self.problem.detail}
            ),
        }


def walk(rows: Iterable[Sequence[Any]], *, start_seq: int, start_hash: str, start_name: str) -> WalkResult:
    """Check rows of :data:`STREAMED_FIELDS`, ordered by ``seq``, continuing a chain whose
    previous entry is ``start_seq - 1`` with hash ``start_hash`` (``start_name`` says what that is,
    "genesis" or "checkpoint #k", for messages)."""
    expected = start_seq
    prev = start_hash
    prev2: str | None = None  # the hash before ``prev``: an entry linking to it skipped one
    count = 0
    first: int | None = None

    def result(problem: Problem | None) -> WalkResult:
        return WalkResult(count, first, expected - 1 if count else None, prev, problem)

    for row in rows:
        seq: int = row[0]
        prev_hash: str = row[-2]
        stored: str = row[-1]
        if seq != expected:
            if seq < expected:
                why = (
                    "duplicate seq"
                    if count and seq == expected - 1
                    else f"seq out of order after {start_name}"
                )
                return result(Problem(seq, "inserted", why))
            return result(Problem(expected, "removed", f"seq gap: next entry is #{seq}"))
        if prev_hash != prev and prev2 is not None and prev_hash == prev2:
            return result(Problem(seq - 1, "inserted", f"entry #{seq} links past it"))
        if row_hash(prev_hash, row[:-2]) != stored:
            return result(Problem(seq, "changed", "hash mismatch"))
        if prev_hash != prev:
            if count == 0:
                return result(Problem(seq, "changed", f"prev_hash does not match {start_name}"))
            return result(
                Problem(seq - 1, "changed", f"hash rewritten: entry #{seq} links to a different hash")
            )
        if first is None:
            first = seq
        prev2, prev = prev, stored
        expected += 1
        count += 1
    return result(None)


def _canonical_db_time(value: Any) -> str:
    """The canonical time of a raw ``at`` column: a datetime (PostgreSQL) or SQLite's UTC text
    ``YYYY-MM-DD HH:MM:SS[.ffffff]``, rewritten without parsing (this is the verifier's hot path)."""
    if isinstance(value, str):
        if len(value) == 26 and value[10] == " " and value[19] == ".":
            return f"{value[:10]}T{value[11:]}Z"
        if len(value) == 19 and value[10] == " ":
            return f"{value[:10]}T{value[11:]}.000000Z"
        parsed = parse_datetime(value)
        if parsed is None:
            return value  # unparseable: the hash will not match and the entry is reported
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=dt.UTC)
        return canonical_time(parsed)
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)  # SQLite keeps UTC without an offset
    return canonical_time(value)


def _stream(*, upto: int | None, chunk_size: int) -> Generator[list[Any], None, None]:
    """Rows of :data:`STREAMED_FIELDS` in ``seq`` order, straight from the driver: no model
    instances, no per-field converters. ``at`` comes out canonical, ``data`` decoded."""
    connection = connections[Entry.objects.db]
    table = connection.ops.quote_name(Entry._meta.db_table)
    quoted = [connection.ops.quote_name(name) for name in STREAMED_FIELDS]
    at, data = STREAMED_FIELDS.index("at"), STREAMED_FIELDS.index("data")
    if connection.vendor == "sqlite":
        # An expression has no declared type, so the driver skips Django's datetime converter
        # and hands over the stored UTC text, which _canonical_db_time rewrites directly.
        quoted[at] = f"CAST({quoted[at]} AS TEXT)"
    columns = ", ".join(quoted)
    where, params = ("WHERE seq <= %s", [upto]) if upto is not None else ("", [])
    query = f"SELECT {columns} FROM {table} {where} ORDER BY seq"  # noqa: S608 — names from the model
    loads = json.loads
    connection.ensure_connection()
    if connection.vendor == "postgresql":
        cursor = connection.connection.cursor(name="sanji_audit_verify")
        cursor.itersize = chunk_size
    else:
        cursor = connection.cursor()
    try:
        cursor.execute(query, params)
        while batch := cursor.fetchmany(chunk_size):
            for raw in batch:
                row = list(raw)
                row[at] = _canonical_db_time(row[at])
                value = row[data]
                if isinstance(value, (str, bytes)):
                    row[data] = loads(value)
                yield row
    finally:
        cursor.close()


def _head() -> tuple[int, str] | None:
    return ChainHead.objects.filter(pk=1).values_list("seq", "hash").first()


def _check_head(
    walked: WalkResult, start_seq: int, before: tuple[int, str], after: tuple[int, str] | None
) -> Problem | None:
    """The last entry must be the chain head (read before the stream, or after it, when entries
    were appended meanwhile). Fewer entries is a truncated tail; more is an insertion."""
    last = walked.last_seq if walked.last_seq is not None else start_seq - 1
    last_hash = walked.last_hash
    head_seq, head_hash = before
    if last < head_seq:
        return Problem(last + 1, "removed", f"truncated tail: chain head is #{head_seq}")
    if last == head_seq:
        if last_hash != head_hash:
            return Problem(last, "changed", "hash differs from the chain head")
        return None
    if after is None:
        return Problem(0, "head", "chain head row missing")
    if last > after[0]:
        return Problem(after[0] + 1, "inserted", f"beyond the chain head #{after[0]}")
    if last == after[0] and last_hash != after[1]:
        return Problem(last, "changed", "hash differs from the chain head")
    return None


def _check_checkpoint(checkpoint: Checkpoint) -> Problem | None:
    payload = signing.checkpoint_payload(
        seq=checkpoint.seq,
        hash=checkpoint.hash,
        purged_before=checkpoint.purged_before,
        purged_count=checkpoint.purged_count,
        created_at=checkpoint.created_at,
    )
    try:
        valid = signing.signature_valid(
            payload, signed_key_id=checkpoint.key_id, signature=checkpoint.signature
        )
    except signing.SigningKeyMissing as exc:
        return Problem(checkpoint.seq, "checkpoint", f"cannot check the signature: {exc}")
    if not valid:
        return Problem(checkpoint.seq, "checkpoint", "signature invalid (forged or changed checkpoint)")
    return None


def verify_chain(*, upto: int | None = None, chunk_size: int = DEFAULT_CHUNK_SIZE) -> VerifyResult:
    """Verify the chain in the database. ``upto`` stops at that seq and skips the head check
    (used by purge, which checks the prefix it is about to remove)."""
    checkpoint = Checkpoint.objects.order_by("-seq").first()
    if checkpoint is not None:
        problem = _check_checkpoint(checkpoint)
        if problem is not None:
            return VerifyResult(0, None, None, checkpoint.seq, problem)
        start_seq, start_hash, start_name = (
            checkpoint.seq + 1,
            checkpoint.hash,
            f"checkpoint #{checkpoint.seq}",
        )
    else:
        start_seq, start_hash, start_name = 1, GENESIS_HASH, "genesis"

    head_before = _head()
    if head_before is None and checkpoint is None and not Entry.objects.exists():
        head_before = (0, GENESIS_HASH)  # a fresh (or flushed test) database: nothing appended yet
    if upto is None and head_before is None:
        return VerifyResult(0, None, None, None, Problem(0, "head", "chain head row missing"))

    # PostgreSQL's server-side cursor lives in a transaction; SQLite's would take the write lock.
    postgresql = connections[Entry.objects.db].vendor == "postgresql"
    with (
        transaction.atomic(using=Entry.objects.db) if postgresql else contextlib.nullcontext(),
        contextlib.closing(_stream(upto=upto, chunk_size=chunk_size)) as stream,
    ):
        walked = walk(stream, start_seq=start_seq, start_hash=start_hash, start_name=start_name)

    problem = walked.problem
    if problem is None and upto is None and head_before is not None:
        problem = _check_head(walked, start_seq, head_before, _head())
    return VerifyResult(
        count=walked.count,
        first_seq=walked.first_seq,
        last_seq=walked.last_seq,
        checkpoint_seq=checkpoint.seq if checkpoint is not None else None,
        problem=problem,
    )
