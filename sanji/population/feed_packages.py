"""The change feed written out as signed packages, for department systems that cannot call the API.

A department's front-end processor (前置机: the exchange server between the department's own
network and the platform) picks packages up from its outbox directory instead of calling ``GET
/population/feed``. :func:`feed_export` writes the verified changes an account may read after that
account's cursor, one package per page of the feed, in the exchange format of
:mod:`sanji.core.packages` (DESIGN §6):

- ``popfeed-u{recipient id}-{after:012d}-{last:012d}.zip`` holds ``changes.jsonl`` (the entries
  with ``after < seq <= last``, one JSON object per line, exactly as the API writes a feed item,
  keys sorted, UTF-8) and ``manifest.json`` (type ``population.feed``, the recipient's username,
  record count, SHA-256, ``cursor: {after, last}``, Ed25519 signature by the exchange key).
- The cursor is kept by the platform (:class:`~sanji.population.models.FeedPackage`), not by the
  directory, so the processor may move packages away as it forwards them.

Each package is recorded and audited *before* its file appears, then written under a temporary
``.`` name, synced and renamed into place. A crash anywhere leaves either nothing recorded (the
next run starts the page again) or a recorded, unpublished package, which the next run writes
again, byte for byte the package that was recorded, before it goes on: no gap, no second range.
A processor may thus receive one package twice, under the same ``package_id``; receivers take a
package id once (DESIGN §6: ingest is idempotent).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import Max

from sanji.audit.services import record
from sanji.core import clock, durable, packages, signing
from sanji.core.actors import Actor
from sanji.core.authz import require
from sanji.core.errors import Conflict, ValidationFailed
from sanji.population import policies, selectors
from sanji.population.models import FeedPackage

PACKAGE_TYPE = "population.feed"
ENTRY_NAME = "changes.jsonl"
SENDER = "sanji"
#: The Ed25519 key that signs what the platform sends to front-end processors (``KEY_DIR``).
EXCHANGE_KEY = "exchange-ed25519.pem"
AUDIT_ACTION = "population.feed_exported"
DEFAULT_BATCH = 1000
#: Held (``flock``) for the whole run, so two runs never write one directory at once.
LOCK_FILE = ".feed-export.lock"
TEMP_SUFFIX = ".tmp"


@dataclass(frozen=True, slots=True)
class FeedExportReport:
    """What one run wrote: the packages (oldest first), their entries, the cursor before and after."""

    out_dir: str
    packages: tuple[str, ...]
    entries: int
    first_cursor: int
    last_cursor: int
    resumed: int

    def summary(self) -> str:
        resumed = f"; {self.resumed} interrupted package(s) written again" if self.resumed else ""
        if not self.packages:
            return f"{self.out_dir}: nothing new after cursor {self.first_cursor}"
        count = f"{len(self.packages)} package{'' if len(self.packages) == 1 else 's'}"
        entries = f"{self.entries} entr{'y' if self.entries == 1 else 'ies'}"
        return f"{self.out_dir}: {count}, {entries}, cursor {self.first_cursor} → {self.last_cursor}{resumed}"


def package_id(recipient_id: int, after: int, last: int) -> str:
    return f"popfeed-u{recipient_id}-{after:012d}-{last:012d}"


def feed_line(item: selectors.FeedItem) -> str:
    """One item as one JSON line, formatted as the API formats it (Ninja encodes with Django's
    encoder: dates ``YYYY-MM-DD``, datetimes ISO 8601 in UTC with milliseconds, ``…Z``)."""
    return json.dumps(asdict(item), cls=DjangoJSONEncoder, ensure_ascii=False, sort_keys=True)


def exchange_public_key() -> tuple[str, str]:
    """(key id, public key PEM) of the exchange key, made on first use: what a receiving system is
    given, once and by hand, to check the packages' signatures."""
    key = signing.private_key(EXCHANGE_KEY).public_key()
    return signing.key_id(key), signing.public_pem(key)


def export_cursor(recipient_id: int) -> int:
    """The greatest ``last`` recorded for the account (0 before its first package)."""
    last = FeedPackage.objects.filter(recipient_id=recipient_id).aggregate(last=Max("last"))["last"]
    return int(last or 0)


def feed_export(
    *, actor: Actor, out_dir: Path, batch: int = DEFAULT_BATCH, operator: str = ""
) -> FeedExportReport:
    """Write the feed entries ``actor`` may read after its cursor as packages in ``out_dir``.

    ``actor`` is the account the packages are for (a department system or department data
    officer, with its own reach); ``operator`` names who ran the export (the server account of
    ``sanji population feed-export``) in the audit. Packages a crash interrupted are written
    first. Raises :class:`Forbidden` for an actor who may not read the feed or is no account,
    :class:`ValidationFailed` for a batch outside 1..``FEED_MAX_LIMIT`` or a directory that is
    missing, not a directory or not writable, :class:`Conflict` when another run holds the
    directory or exports for the same account at the same time.
    """
    require(
        actor.user_id is not None and policies.can_read_feed(actor),
        "Only department systems and department data officers export the change feed.",
    )
    assert actor.user_id is not None
    if not 1 <= batch <= selectors.FEED_MAX_LIMIT:
        raise ValidationFailed(
            f"The batch is 1 to {selectors.FEED_MAX_LIMIT} entries per package.",
            details=[{"field": "batch", "reason": "range"}],
        )
    directory = _checked_directory(Path(out_dir))

    with _directory_lock(directory):
        written: list[str] = []
        entries = 0
        interrupted = list(FeedPackage.objects.filter(recipient_id=actor.user_id, published_at=None))
        for row in interrupted:
            items = [
                item
                for item in selectors.feed_read(actor, after=row.after, limit=selectors.FEED_MAX_LIMIT).items
                if item.seq <= row.last
            ]
            _publish(actor, directory, row, items, operator)
            written.append(row.package_id)
            entries += len(items)
        cursor = first = export_cursor(actor.user_id)
        while True:
            page = selectors.feed_read(actor, after=cursor, limit=batch)
            if not page.items:
                break
            row = _reserve(actor, directory, cursor, page.items, operator)
            _publish(actor, directory, row, page.items, operator)
            written.append(row.package_id)
            entries += len(page.items)
            cursor = row.last
            if not page.has_more:
                break
    return FeedExportReport(
        out_dir=str(directory),
        packages=tuple(written),
        entries=entries,
        first_cursor=first,
        last_cursor=cursor,
        resumed=len(interrupted),
    )


def _checked_directory(path: Path) -> Path:
    directory = path.absolute()
    if not directory.exists():
        raise ValidationFailed(
            f"{directory} does not exist.", details=[{"field": "out", "reason": "missing"}]
        )
    if not directory.is_dir():
        raise ValidationFailed(
            f"{directory} is not a directory.", details=[{"field": "out", "reason": "not a directory"}]
        )
    if not os.access(directory, os.W_OK | os.X_OK):
        raise ValidationFailed(
            f"{directory} is not writable.", details=[{"field": "out", "reason": "not writable"}]
        )
    return directory


@contextmanager
def _directory_lock(directory: Path) -> Iterator[None]:
    fd = os.open(directory / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Conflict(f"Another feed export is writing to {directory}; try again later.") from None
        for path in directory.glob(f".popfeed-*{TEMP_SUFFIX}"):  # what a crashed run left
            path.unlink(missing_ok=True)
        yield
    finally:
        os.close(fd)  # releases the lock


def _build(actor: Actor, row: FeedPackage, items: Sequence[selectors.FeedItem]) -> bytes:
    """The package of ``row`` (its id, range and creation time: the same bytes every time)."""
    data = "".join(f"{feed_line(item)}\n" for item in items).encode("utf-8")
    return packages.package_build(
        package_id=row.package_id,
        type=PACKAGE_TYPE,
        sender=SENDER,
        recipient=actor.username,
        created=row.created_at,
        entries={ENTRY_NAME: data},
        records={ENTRY_NAME: len(items)},
        key_file=EXCHANGE_KEY,
        extra={"cursor": {"after": row.after, "last": row.last}},
    )


def _reserve(
    actor: Actor, directory: Path, after: int, items: Sequence[selectors.FeedItem], operator: str
) -> FeedPackage:
    """Record the next package and its audit entry (committed before the file is written)."""
    assert actor.user_id is not None
    last = items[-1].seq
    # Whole seconds: the manifest's ``created`` and the zip's timestamps carry no fractions, and
    # the package is rebuilt from this value after a crash.
    row = FeedPackage(
        recipient_id=actor.user_id,
        package_id=package_id(actor.user_id, after, last),
        after=after,
        last=last,
        entries=len(items),
        created_at=clock.now().replace(microsecond=0),
        directory=str(directory),
        operator=operator,
    )
    row.sha256 = hashlib.sha256(_build(actor, row, items)).hexdigest()
    try:
        with transaction.atomic(durable=True):
            row.save(force_insert=True)
            _audit(actor, row, operator, again=False)
    except IntegrityError:
        raise Conflict(
            f"Another feed export for {actor.username} recorded the range after {after} meanwhile; "
            "run the export again."
        ) from None
    return row


def _publish(
    actor: Actor, directory: Path, row: FeedPackage, items: Sequence[selectors.FeedItem], operator: str
) -> None:
    """Write the package file (temporary name, sync, rename, sync) and mark the row published.

    A package written again that differs from what was recorded (the account's reach or the
    exchange key changed since) is recorded and audited again with its new digest before it
    is written: the audit trail always holds the digest of what went out.
    """
    data = _build(actor, row, items)
    digest = hashlib.sha256(data).hexdigest()
    if digest != row.sha256:
        row.sha256, row.entries = digest, len(items)
        with transaction.atomic(durable=True):
            FeedPackage.objects.filter(pk=row.pk).update(sha256=digest, entries=len(items))
            _audit(actor, row, operator, again=True)
    target = directory / f"{row.package_id}.zip"
    temporary = directory / f".{target.name}{TEMP_SUFFIX}"
    durable.write_new(temporary, data, sync_folder=False)  # its name matters only once renamed
    os.replace(temporary, target)
    durable.fsync_directory(directory)
    FeedPackage.objects.filter(pk=row.pk, published_at=None).update(published_at=clock.now())


def _audit(actor: Actor, row: FeedPackage, operator: str, *, again: bool) -> None:
    record(
        actor=actor,
        action=AUDIT_ACTION,
        target=row,
        target_label=row.package_id,
        region_path=_reach_path(actor),
        data={
            "package_id": row.package_id,
            "after": row.after,
            "last": row.last,
            "entries": row.entries,
            "sha256": row.sha256,
            "directory": row.directory,
            "operator": operator,
            "rebuilt": again,
        },
    )


def _reach_path(actor: Actor) -> str:
    """Where the audit files an export: the narrowest region covering the reader's feed grants
    (its auditors see it); the platform's exports have no place (``""``)."""
    paths = [g.region_path for g in actor.grants_for(*policies.FEED_READER_ROLES)]
    if not paths:
        return ""
    common = os.path.commonpath(paths)  # by segments: "150100/150105/", "150100/150102/" → "150100"
    return f"{common}/" if common else ""
