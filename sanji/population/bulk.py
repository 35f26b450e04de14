"""The bulk path of the population import: read, check and encrypt in worker processes, write fast.

``services.population_import`` drives it. The file is cut into batches of a fixed number of data
rows (so a rerun cuts it the same way); two worker processes parse, check (:mod:`records`),
encrypt and format each batch for the engine (a plain batch column by column,
:func:`_column_batch`, on PostgreSQL first in Apache Arrow, :mod:`sanji.population.bulk_arrow`;
others row by row); the calling process writes batches in order, each
in one transaction together with the job's progress, its row errors and an audit entry:

- SQLite: ``executemany`` of ``INSERT … ON CONFLICT DO NOTHING`` on the driver connection, with a
  larger page cache for the session (``synchronous`` stays as configured).
- PostgreSQL: ``COPY`` (psycopg 3) straight into the table inside a savepoint; if the batch holds a
  number already stored, it is rolled back and loaded through a temporary table with
  ``INSERT … SELECT … ON CONFLICT DO NOTHING``. Households always go through the temporary table
  (a household often spans two batches).

Rows that hit the unique blind index are found afterwards and reported as duplicates. When the
person table is empty at the start, its secondary indexes (and the household table's) are dropped
for the load and re-created at the end; their DDL is kept on the job so a crashed load still gets
them back on the next run (``services``). The unique blind index goes too
(:func:`unique_index`): people repeated across batches are then found, removed and reported
when it is built again (:func:`remove_duplicates`), at the end of the load or, after a crash,
at the start of the next run, which resumes with the index in place.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import gc
import hashlib
import hmac
import io
import multiprocessing
import os
import re
import threading
import zipfile
import zlib
from base64 import urlsafe_b64encode
from binascii import b2a_base64
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import compress, repeat
from operator import is_, itemgetter
from pathlib import Path
from typing import Any

import numpy as np
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from sanji.core import crypto, idnumber
from sanji.population import codes, records
from sanji.population.models import Building, Household, ImportJob, ImportRowError, Person

BATCH_ROWS = 50_000
#: PostgreSQL's memory for each index build after a load (two may run at once).
INDEX_BUILD_MEMORY = "512MB"
WORKERS = 2
IN_FLIGHT = 4

PERSON_TABLE = Person._meta.db_table
HOUSEHOLD_TABLE = Household._meta.db_table
BUILDING_TABLE = Building._meta.db_table

PERSON_COLUMNS: tuple[str, ...] = (
    "id_index",
    "id_number_encrypted",
    "id_number_original_encrypted",
    "id_masked",
    "name",
    "sex",
    "ethnicity",
    "birth_date",
    "birthplace_code",
    "marital_status",
    "registered_code",
    "registered_address",
    "registered_locally",
    "household_code",
    "relation",
    "building_id",
    "region_path",
    "status",
    "status_date",
    "source",
    "source_ref",
    "source_at",
    "recorded_at",
    "verified",
    "verified_at",
    "version",
    "valid_from",
    "import_job_id",
    "import_line",
)
#: What SQLite's staged rows hold: PERSON_COLUMNS but the import's constants, which the writer adds.
SQLITE_ROW_COLUMNS: tuple[str, ...] = tuple(
    c
    for c in PERSON_COLUMNS
    if c not in ("source_ref", "recorded_at", "verified_at", "version", "valid_from", "import_job_id")
)
_SQLITE_CONSTANTS = {
    "source_ref": "?",
    "recorded_at": "?",
    "verified_at": "CASE WHEN verified THEN ? END",
    "version": "1",
    "valid_from": "?",
    "import_job_id": "?",
}
_SQLITE_PERSON_SELECT = ", ".join(_SQLITE_CONSTANTS.get(c, c) for c in PERSON_COLUMNS)
HOUSEHOLD_COLUMNS: tuple[str, ...] = (
    "code",
    "building_id",
    "unit_number",
    "room_number",
    "kind",
    "region_path",
    "lon",
    "lat",
    "created_at",
)

#: The batch path (:func:`_column_batch`) for plain batches; tests turn it off to compare.
COLUMN_PATH = True
#: PostgreSQL's batch path in Arrow (:mod:`sanji.population.bulk_arrow`), tried first; tests turn
#: it off to compare it with the Python one.
ARROW_PATH = True

#: Test-only: raise after committing this many batches of a run (simulates a crash part-way).
CRASH_AFTER_BATCHES: int | None = None


class SimulatedCrash(RuntimeError):
    """Raised by the test hook :data:`CRASH_AFTER_BATCHES`."""


# --- reading -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Batch:
    number: int  # 0-based
    first_line: int
    payload: bytes | list[list[str]]  # CSV: the raw lines; xlsx: rows of cells
    rows: int


@dataclass
class Source:
    kind: str  # "csv" | "xlsx"
    encoding: str
    header: list[str]
    batches: Iterator[Batch]
    close: Callable[[], None] = lambda: None


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


#: Of a GB18030 file's Chinese characters, the share outside GB2312 (the 6,763 common Han
#: characters and the symbols of simplified Chinese) above which the file is taken for Big5. Real
#: GB files stay far below (rare name characters such as 喆 or 堃 are a few per cent at most);
#: Big5 text read as GB18030 is over half outside (every Big5 character whose second byte is
#: 0x40–0x7E lands in GBK's extension areas).
BIG5_SHARE = 0.25


def sniff_encoding(head: bytes) -> str:
    """UTF-8 (with or without BOM) or GB18030, judged on the start of the file.

    Nearly any Big5 (traditional Chinese) text is also valid GB18030, which would import wrong
    names silently: a file that decodes as Big5 and whose GB18030 reading is mostly characters
    outside GB2312 is refused (ValueError) instead."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    cut = head.rfind(b"\n")
    sample = head if cut < 0 else head[: cut + 1]
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError:
        if _looks_big5(sample):
            raise ValueError(_("文件疑似 Big5 编码（繁体中文），请另存为 UTF-8 或 GB18030")) from None
        return "gb18030"
    return "utf-8"


def _looks_big5(sample: bytes) -> bool:
    try:
        sample.decode("big5")
    except UnicodeDecodeError:
        return False
    chinese = [c for c in sample.decode("gb18030", errors="replace") if c >= "\u2e80" and c != "\ufffd"]
    if len(chinese) < 10:
        return False
    outside = 0
    for char in chinese:
        try:
            char.encode("gb2312")
        except UnicodeEncodeError:
            outside += 1
    return outside > BIG5_SHARE * len(chinese)


def open_source(path: Path, batch_rows: int) -> Source:
    """Open a CSV or .xlsx file; raise OSError/ValueError when the file itself cannot be read."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _open_xlsx(path, batch_rows)
    return _open_csv(path, batch_rows)


def _open_csv(path: Path, batch_rows: int) -> Source:
    fh = path.open("rb")
    encoding = sniff_encoding(fh.read(1 << 16))
    fh.seek(0)
    lines = iter(fh)
    header_line = 0
    header: list[str] | None = None
    for raw in lines:
        header_line += 1
        try:
            text = raw.decode(encoding).removeprefix("\ufeff")
        except UnicodeDecodeError:
            fh.close()
            raise ValueError(
                _("文件不是 UTF-8 或 GB18030 编码的文本（第 %(line)d 行）") % {"line": header_line}
            ) from None
        if text.strip():
            header = next(csv.reader([text]))
            break
    if header is None:
        fh.close()
        raise ValueError(_("文件为空"))
    return Source("csv", encoding, header, _csv_batches(lines, header_line, batch_rows), fh.close)


def _csv_batches(lines: Iterator[bytes], line_no: int, batch_rows: int) -> Iterator[Batch]:
    chunk: list[bytes] = []
    first = line_no + 1
    rows = 0
    number = 0
    pending: bytes = b""
    for raw in lines:
        line_no += 1
        if pending:
            raw = pending + raw
        # A quoted field may hold a newline: keep reading until the quotes balance.
        if b'"' in raw and raw.count(b'"') % 2:
            pending = raw
            continue
        pending = b""
        if not chunk:
            first = line_no - 0
        chunk.append(raw)
        if raw.strip():
            rows += 1
        if rows >= batch_rows:
            yield Batch(number, first, b"".join(chunk), rows)
            number += 1
            chunk, rows = [], 0
    if pending:
        chunk.append(pending)
        rows += 1
    if chunk and rows:
        yield Batch(number, first, b"".join(chunk), rows)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


#: What openpyxl raises for a file that is not a readable workbook: not a zip, a damaged or
#: truncated one, a part missing, XML that does not parse (ElementTree's and lxml's errors are
#: both SyntaxErrors), no sheet.
_BAD_WORKBOOK = (zipfile.BadZipFile, zlib.error, EOFError, KeyError, IndexError, SyntaxError, ValueError)
#: What reading a file past its header may raise when the file is damaged there.
UNREADABLE = (zipfile.BadZipFile, zlib.error, EOFError, SyntaxError, UnicodeDecodeError)


def _open_xlsx(path: Path, batch_rows: int) -> Source:
    import openpyxl

    book: Any = None
    header: list[str] | None = None
    line = 0
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        rows = book.worksheets[0].iter_rows(values_only=True)
        for values in rows:
            line += 1
            cells = [_cell(v) for v in values]
            if any(c.strip() for c in cells):
                header = cells
                break
    except _BAD_WORKBOOK as exc:
        if book is not None:
            book.close()
        raise ValueError(
            _("不是可读取的 .xlsx 工作簿（%(error)s）") % {"error": f"{type(exc).__name__}: {exc}"}
        ) from None
    if header is None:
        book.close()
        raise ValueError(_("工作簿的第一个工作表为空"))

    def batches(line: int) -> Iterator[Batch]:
        chunk: list[list[str]] = []
        first = line + 1
        number = 0
        for values in rows:
            line += 1
            if not chunk:
                first = line
            chunk.append([_cell(v) for v in values])
            if len(chunk) >= batch_rows:
                yield Batch(number, first, chunk, len(chunk))
                number += 1
                chunk = []
        if chunk:
            yield Batch(number, first, chunk, len(chunk))

    return Source("xlsx", "xlsx", header, batches(line), book.close)


# --- workers ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WorkerSetup:
    engine: str  # "sqlite" | "postgresql"
    encoding: str
    index: records.ColumnIndex
    context: records.Context
    job_id: int
    source_ref: str
    now_db: str  # the import's timestamp, formatted for the engine
    now: dt.datetime
    scratch_dir: str = ""  # SQLite: where workers leave each batch's rows for the writer


@dataclass(slots=True)
class BatchResult:
    number: int
    rows: int
    persons: list[tuple[Any, ...]] | bytes
    households: list[tuple[Any, ...]] | bytes
    # Per person row written: (id_index, line, upgraded, building_id or 0 when not living).
    # Empty when the rows travel in a scratch file (``scratch``), which holds the same facts.
    keys: list[tuple[bytes, int, bool, int]]
    errors: list[records.RowError] = field(default_factory=list)
    duplicates: int = 0
    written: int = 0  # person rows handed to the writer
    living: dict[int, int] = field(default_factory=dict)  # building id → living people written
    scratch: str = ""  # SQLite: the worker's file holding the batch's rows
    source_ref: str = ""
    now_db: str = ""
    # PostgreSQL: the household codes of the batch (set by the writer; see write_batch).
    household_codes: frozenset[str] = frozenset()
    # PostgreSQL: the codes of ``households`` line by line, when the worker gives them (else read
    # from the text by the writer).
    household_order: list[str] = field(default_factory=list)
    # ``keys`` packed for the trip from the worker (digests one after another, then lines, whether
    # upgraded, living building per row): fifty thousand tuples cost more to pickle than to use,
    # and the writer needs them only when a batch meets stored people (:meth:`all_keys`).
    packed_keys: tuple[bytes, Any, Any, Any] | None = None

    def all_keys(self) -> list[tuple[bytes, int, bool, int]]:
        if self.keys or self.packed_keys is None:
            return self.keys
        digests, lines, upgraded, living = self.packed_keys
        return [
            (digests[32 * i : 32 * i + 32], line, up, building)
            for i, (line, up, building) in enumerate(
                zip(lines.tolist(), upgraded.tolist(), living.tolist(), strict=True)
            )
        ]


_SETUP: WorkerSetup | None = None
_INDEX_KEY: bytes = b""
_FAST: records.FastCheck | None = None
_SEALER: Sealer | None = None
#: HMAC-SHA256 of the index key: the hash states after the key's inner and outer pads.
_HMAC_STATES: tuple[Any, Any] = (None, None)


class Sealer:
    """:func:`sanji.core.crypto.encrypt` with the field key, for many values at once.

    The same AES-GCM and the same ``v1.<key id>.<base64(nonce + ciphertext)>`` text; the random
    96-bit nonces are drawn from the OS in one call per batch instead of one per value.
    """

    def __init__(self) -> None:
        raw = crypto.secret_key("field")
        self.kid = crypto.key_id(raw)
        self.aad = self.kid.encode()
        self.prefix = f"v1.{self.kid}."
        self.aead = AESGCM(raw)
        self.nonces = b""
        self.used = 0

    def reserve(self, count: int) -> None:
        self.nonces = os.urandom(12 * count)
        self.used = 0

    def seal(self, plaintext: str) -> str:
        start = self.used
        if start + 12 > len(self.nonces):
            self.reserve(1024)
            start = 0
        self.used = start + 12
        nonce = self.nonces[start : start + 12]
        return (
            self.prefix
            + urlsafe_b64encode(nonce + self.aead.encrypt(nonce, plaintext.encode(), self.aad)).decode()
        )


def _init_worker(setup: WorkerSetup) -> None:
    global _SETUP, _INDEX_KEY, _FAST, _SEALER, _HMAC_STATES
    _SETUP = setup
    _INDEX_KEY = crypto.secret_key("index")
    padded = _INDEX_KEY.ljust(64, b"\0")  # a 32-byte key: padded to SHA-256's block, not hashed
    _HMAC_STATES = (
        hashlib.sha256(bytes(b ^ 0x36 for b in padded)),
        hashlib.sha256(bytes(b ^ 0x5C for b in padded)),
    )
    _FAST = records.FastCheck(setup.index, setup.context)
    _SEALER = Sealer()
    # The digest and the ciphertext below must stay those of sanji.core.crypto: probe both.
    probe = "110101199003070017"
    if _blind(probe) != crypto.blind_digest(probe, purpose="person"):
        raise RuntimeError("population bulk blind index disagrees with sanji.core.crypto.blind_digest")
    if crypto.decrypt(_SEALER.seal(probe)) != probe:
        raise RuntimeError("population bulk encryption disagrees with sanji.core.crypto.decrypt")
    if _blind_all([probe]) != [crypto.blind_digest(probe, purpose="person")]:
        raise RuntimeError("population batch blind index disagrees with sanji.core.crypto.blind_digest")
    if [crypto.decrypt(t) for t in _seal_all(_SEALER, [probe, probe[::-1]])] != [probe, probe[::-1]]:
        raise RuntimeError("population batch encryption disagrees with sanji.core.crypto.decrypt")


def _blind(number: str) -> bytes:
    return hmac.digest(_INDEX_KEY, f"person\x00{number}".encode(), "sha256")


def blind(number: str) -> bytes:
    """The person blind index of an 18-digit number (:func:`sanji.core.crypto.blind_digest`)."""
    return crypto.blind_digest(number, purpose="person")


def _copy_text(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    text = str(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


#: Whitespace other than a line break (what :meth:`records.FastCheck.plain` looks for, per batch).
_INNER_WHITESPACE_RE = re.compile(r"[^\S\n]")


def _rows_of(batch: Batch, encoding: str) -> Iterator[tuple[int, list[str] | None, bool]]:
    """(line, cells or None when undecodable, whether the line holds no whitespace at all)."""
    if isinstance(batch.payload, list):
        for offset, cells in enumerate(batch.payload):
            yield batch.first_line + offset, cells, False
        return
    line = batch.first_line
    if b'"' not in batch.payload:
        try:
            text = batch.payload.decode(encoding)
        except UnicodeDecodeError:
            pass
        else:
            # The common file: one row per physical line, no quoting; decoded once per batch.
            if _INNER_WHITESPACE_RE.search(text) is None:
                # No whitespace but the line breaks: every row is plain, none needs stripping.
                for row in text.split("\n"):
                    if row:
                        yield line, row.split(","), True
                    line += 1
                return
            plain = records.FastCheck.plain
            for row in text.split("\n"):
                if row.strip(" \t\n\r\x0b\x0c"):  # bytes.strip()'s whitespace, as below
                    row = row.removesuffix("\r")
                    yield line, row.split(","), plain(row)
                line += 1
            return
    for raw in batch.payload.split(b"\n") if b'"' not in batch.payload else _quoted_lines(batch.payload):
        if not raw.strip():
            line += raw.count(b"\n") + 1
            continue
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            yield line, None, False
        else:
            if '"' in text:
                yield line, next(csv.reader([text])), False
            else:
                text = text.rstrip("\r")
                yield line, text.split(","), records.FastCheck.plain(text)
        line += raw.count(b"\n") + 1


def _quoted_lines(payload: bytes) -> Iterator[bytes]:
    pending = b""
    for raw in payload.split(b"\n"):
        raw = pending + b"\n" + raw if pending else raw
        if raw.count(b'"') % 2:
            pending = raw
            continue
        pending = b""
        yield raw
    if pending:
        yield pending


def process_batch(batch: Batch) -> BatchResult:
    """Check, encrypt and format one batch (runs in a worker process)."""
    # The batch allocates ~10^6 small objects and frees none: cyclic collection passes are waste.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _process_batch(batch)
    finally:
        if enabled:
            gc.enable()


def _process_batch(batch: Batch) -> BatchResult:
    setup, fast, sealer = _SETUP, _FAST, _SEALER
    if setup is None or fast is None or sealer is None:
        raise RuntimeError("worker not initialised")
    if isinstance(batch.payload, bytes) and b'"' not in batch.payload and COLUMN_PATH:
        if ARROW_PATH and setup.engine == "postgresql":
            from sanji.population import bulk_arrow  # only where it runs: it loads Arrow

            arrowed = bulk_arrow.arrow_batch(batch, batch.payload)
            if arrowed is not None:
                return arrowed
        try:
            text = batch.payload.decode(setup.encoding)
        except UnicodeDecodeError:
            pass
        else:
            if _INNER_WHITESPACE_RE.search(text) is None:
                result = _column_batch(batch, text)
                if result is not None:
                    return result
    sqlite = setup.engine == "sqlite"
    ctx = setup.context
    errors: list[records.RowError] = []
    persons: list[tuple[Any, ...]] = []
    person_lines: list[str] = []
    households: dict[str, tuple[Any, ...]] = {}
    household_line: dict[str, int] = {}
    keys: list[tuple[bytes, int, bool, int]] = []
    seen: dict[bytes, tuple[int, bool]] = {}
    duplicates = 0
    now_db = setup.now_db
    seal = sealer.seal
    sealer.reserve(batch.rows + 16)
    source_times: dict[dt.date, str] = {}
    # PostgreSQL COPY text: the parts of a row that are the same for the whole import.
    tail = f"\t{_copy_text(setup.source_ref)}\t"
    rows = 0
    for line, cells, plain in _rows_of(batch, setup.encoding):
        rows += 1
        if cells is None:
            errors.append(
                records.RowError(
                    line, "row", _("不是 %(encoding)s 编码的文本") % {"encoding": setup.encoding}
                )
            )
            continue
        clean = fast.clean(cells, line) if plain else None
        if clean is None:
            clean, row_errors = records.check(cells, line, setup.index, ctx, stripped=plain)
            if clean is None:
                errors.extend(row_errors)
                continue
        ident = clean.id
        index = _blind(ident.number)
        if index in seen:
            first_line, first_upgraded = seen[index]
            errors.append(
                records.RowError(
                    line,
                    "id_number",
                    _duplicate_reason(None, first_line, first_upgraded, None, ident.upgraded),
                )
            )
            duplicates += 1
            continue
        household_code = clean.household_code
        existing = households.get(household_code)
        if existing is not None and existing[1] != clean.building_id:
            errors.append(
                records.RowError(
                    line,
                    "household_code",
                    _("户 %(household)s 已登记在另一楼栋（第 %(line)d 行）")
                    % {"household": household_code, "line": household_line[household_code]},
                )
            )
            continue
        upgraded = ident.upgraded
        seen[index] = (line, upgraded)
        if existing is None:
            households[household_code] = (
                household_code,
                clean.building_id,
                clean.unit_number,
                clean.room_number,
                "family",
                clean.region_path,
                clean.lon,
                clean.lat,
                now_db,
            )
            household_line[household_code] = line
        source_date = clean.source_date
        if source_date is None:
            source_at = now_db
        else:
            source_at = source_times.get(source_date) or source_times.setdefault(
                source_date,
                _day_start(source_date, setup.engine),
            )
        encrypted = seal(ident.number)
        original = seal(ident.original) if upgraded else ""
        status_date = clean.status_date.isoformat() if clean.status_date else None
        verified = clean.verified
        if sqlite:
            persons.append(  # SQLITE_ROW_COLUMNS; the writer adds the import's constants
                (
                    index,
                    encrypted,
                    original,
                    ident.masked,
                    clean.name,
                    clean.sex,
                    clean.ethnicity,
                    clean.birth_date.isoformat(),
                    clean.birthplace_code,
                    clean.marital_status,
                    clean.registered_code,
                    clean.registered_address,
                    clean.registered_locally,
                    household_code,
                    clean.relation,
                    clean.building_id,
                    clean.region_path,
                    clean.status,
                    status_date,
                    clean.source,
                    source_at,
                    verified,
                    line,
                )
            )
        else:
            # Checked values hold no tab, newline or backslash (codes, digits, Han names); only
            # the free-text fields go through the COPY escaping.
            person_lines.append(
                f"\\\\x{index.hex()}\t{encrypted}\t{original}\t{ident.masked}\t{clean.name}\t{clean.sex}\t"
                f"{clean.ethnicity}\t{clean.birth_date.isoformat()}\t{clean.birthplace_code}\t"
                f"{clean.marital_status}\t{clean.registered_code}\t{_copy_text(clean.registered_address)}\t"
                f"{'t' if clean.registered_locally else 'f'}\t{household_code}\t{clean.relation}\t"
                f"{clean.building_id}\t{clean.region_path}\t{clean.status}\t{status_date or chr(92) + 'N'}\t"
                f"{_copy_text(clean.source)}{tail}{source_at}\t{now_db}\t{'t' if verified else 'f'}\t"
                f"{now_db if verified else chr(92) + 'N'}\t1\t{now_db}\t{setup.job_id}\t{line}\n"
            )
        keys.append((index, line, upgraded, clean.building_id if clean.status == "living" else 0))
    living = dict(Counter(b for _, _, _, b in keys if b))
    if sqlite:
        if setup.scratch_dir:
            path = _scratch_write(setup.scratch_dir, batch.number, persons, list(households.values()))
            return BatchResult(
                batch.number, rows, [], [], [], errors, duplicates, len(keys), living, str(path),
                setup.source_ref, now_db,
            )  # fmt: skip
        return BatchResult(
            batch.number, rows, persons, list(households.values()), keys, errors, duplicates, len(keys),
            living, "", setup.source_ref, now_db,
        )  # fmt: skip
    person_text = "".join(person_lines).encode()
    household_text = "".join("\t".join(map(_copy_text, row)) + "\n" for row in households.values()).encode()
    return BatchResult(
        batch.number, rows, person_text, household_text, keys, errors, duplicates, len(keys), living
    )


SCRATCH = "population_scratch"


def _scratch_write(
    directory: str, number: int, persons: list[tuple[Any, ...]], households: list[tuple[Any, ...]]
) -> Path:
    """Write a batch's rows into a file of their own, for the writer to copy in one statement.

    The binding of millions of values to ``INSERT`` statements happens here, in the parallel
    workers; the single writer then moves rows from file to file inside SQLite
    (``INSERT … SELECT``). The file is scratch: no journal, no sync, no index.
    """
    import sqlite3

    path = Path(directory) / f"batch-{number:06d}.sqlite3"
    path.unlink(missing_ok=True)
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=OFF")
        db.execute("PRAGMA synchronous=OFF")
        db.execute("BEGIN")
        db.execute(f"CREATE TABLE person ({', '.join(SQLITE_ROW_COLUMNS)})")
        db.execute(f"CREATE TABLE household ({', '.join(HOUSEHOLD_COLUMNS)})")
        db.executemany(
            f"INSERT INTO person VALUES ({', '.join('?' * len(SQLITE_ROW_COLUMNS))})",  # noqa: S608
            persons,
        )
        db.executemany(
            f"INSERT INTO household VALUES ({', '.join('?' * len(HOUSEHOLD_COLUMNS))})",  # noqa: S608
            households,
        )
        db.execute("COMMIT")
    finally:
        db.close()
    return path


@contextmanager
def scratch_attached(result: BatchResult) -> Iterator[None]:
    """Attach the batch's scratch file to the connection (outside any transaction), then remove it."""
    if not result.scratch:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute(f"ATTACH DATABASE %s AS {SCRATCH}", [result.scratch])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DETACH DATABASE {SCRATCH}")
        Path(result.scratch).unlink(missing_ok=True)


def _day_start(day: dt.date, engine: str) -> str:
    """Midnight (UTC) of ``day``, formatted for the engine: a source date's ``source_at``."""
    return _db_time(dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC), engine)


def _db_time(value: dt.datetime, engine: str) -> str:
    if engine == "sqlite":
        return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(sep=" ")
    return value.isoformat()


def db_time(value: dt.datetime) -> str:
    return _db_time(value, connection.vendor)


def run_batches(
    setup: WorkerSetup, batches: Iterator[Batch], *, workers: int = WORKERS
) -> Iterator[BatchResult]:
    """Process batches in worker processes (or inline when ``workers`` is 0), yielding in order."""
    # The keys exist before any worker starts: two workers creating a missing key file at once
    # could see it empty (sanji.core.crypto writes it after creating it).
    crypto.secret_key("index")
    crypto.secret_key("field")
    if workers <= 0:
        _init_worker(setup)
        for batch in batches:
            yield process_batch(batch)
        return
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(workers, initializer=_init_worker, initargs=(setup,)) as pool:
        pending: deque[Any] = deque()
        for batch in batches:
            pending.append(pool.apply_async(process_batch, (batch,)))
            if len(pending) >= IN_FLIGHT:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()


# --- writing -------------------------------------------------------------------------------------
# SQL below is built from the models' own table and column names (constants), never from input.


def prepare_session() -> None:
    """Session settings for a bulk load (durability settings unchanged).

    SQLite: a page cache that holds the unique index of millions of people (the load inserts
    into it at random places), and index builds sorted in memory. Undone by :func:`end_session`.
    PostgreSQL: memory for the index builds after the load.
    """
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA cache_size=-1048576")  # 1 GiB, taken only as it fills
            if not connection.in_atomic_block:  # SQLite refuses it inside a transaction
                cursor.execute("PRAGMA temp_store=MEMORY")
        else:
            cursor.execute("SELECT set_config('maintenance_work_mem', %s, false)", [INDEX_BUILD_MEMORY])


def end_session() -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA cache_size=-2000")  # SQLite's default
            if not connection.in_atomic_block:
                cursor.execute("PRAGMA temp_store=DEFAULT")
        else:
            cursor.execute("RESET maintenance_work_mem")


def _raw() -> Any:
    connection.ensure_connection()
    return connection.connection


def write_batch(
    result: BatchResult,
    job_id: int,
    *,
    counts: Counter[int] | None = None,
    households_before: frozenset[str] | None = None,
) -> int:
    """Write one batch in the caller's transaction; returns the people inserted.

    Duplicates against stored rows are appended to ``result.errors`` and counted. The living
    people per building go into the buildings' resident counts in the same transaction, or, given
    ``counts`` (a load into an empty registry, whose indexes come back at the end), are added to
    it for the caller to apply with the indexes (:func:`apply_counts`).

    PostgreSQL, given ``households_before`` (the household codes of the batch committed just
    before, in a load into an empty registry): the batch's other households are copied straight
    into their table (a household spanning two batches is the one usually met again); if one of
    them is stored after all, the batch's households go through the temporary table instead.
    """
    if not result.written:
        return 0
    raw = _raw()
    inserted = (
        _write_sqlite(raw, result, job_id)
        if connection.vendor == "sqlite"
        else _write_postgresql(raw, result, households_before)
    )
    living = Counter(result.living)
    if inserted < result.written:
        if result.scratch:
            result.keys = _scratch_keys(raw)
        for building in _report_conflicts(result, job_id):
            living[building] -= 1
    if counts is None:
        _bump_counts(raw, living)
    else:
        counts.update(living)
    return inserted


def apply_counts(living: Counter[int] | None) -> None:
    """Add a load's living people to the buildings' resident counts (:func:`write_batch`), or,
    given None (the load was killed: what it had counted is lost), recount every building from
    the person table: the load went into an empty registry, so the people there are the count."""
    if living is not None:
        _bump_counts(_raw(), living)
        return
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {BUILDING_TABLE} SET resident_count = 0 WHERE resident_count <> 0")  # noqa: S608
        cursor.execute(
            f"UPDATE {BUILDING_TABLE} SET resident_count = c.n FROM ("  # noqa: S608
            f"SELECT building_id, count(*) AS n FROM {PERSON_TABLE} "
            "WHERE status = 'living' AND building_id IS NOT NULL GROUP BY building_id"
            f") AS c WHERE {BUILDING_TABLE}.id = c.building_id"
        )


def _scratch_keys(raw: Any) -> list[tuple[bytes, int, bool, int]]:
    cur = raw.cursor()
    cur.execute(
        "SELECT id_index, import_line, id_number_original_encrypted != '', "  # noqa: S608
        f"CASE WHEN status = 'living' THEN building_id ELSE 0 END FROM {SCRATCH}.person ORDER BY rowid"
    )
    keys = [(idx, line, bool(upgraded), building) for idx, line, upgraded, building in cur.fetchall()]
    cur.close()
    return keys


def _write_sqlite(raw: Any, result: BatchResult, job_id: int) -> int:
    hh_cols = ", ".join(HOUSEHOLD_COLUMNS)
    p_cols = ", ".join(PERSON_COLUMNS)
    cur = raw.cursor()
    if result.scratch:
        person_rows, household_rows = f"{SCRATCH}.person", f"{SCRATCH}.household"
    else:  # rows came pickled (inside a caller's transaction, as in tests): stage them the same way
        person_rows, household_rows = "temp.population_person_rows", "temp.population_household_rows"
        cur.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS population_person_rows ({', '.join(SQLITE_ROW_COLUMNS)})"
        )
        cur.execute(f"CREATE TEMP TABLE IF NOT EXISTS population_household_rows ({hh_cols})")
        cur.executemany(
            f"INSERT INTO {person_rows} VALUES ({', '.join('?' * len(SQLITE_ROW_COLUMNS))})",  # noqa: S608
            result.persons,
        )
        cur.executemany(
            f"INSERT INTO {household_rows} VALUES ({', '.join('?' * len(HOUSEHOLD_COLUMNS))})",  # noqa: S608
            result.households,
        )
    # "WHERE true": SQLite's grammar needs it before ON CONFLICT in INSERT … SELECT.
    cur.execute(
        f"INSERT INTO {HOUSEHOLD_TABLE} ({hh_cols}) SELECT {hh_cols} FROM {household_rows} "  # noqa: S608
        "WHERE true ORDER BY rowid ON CONFLICT(code) DO NOTHING"
    )
    before = raw.total_changes
    # Loading into an empty registry, the unique blind index is built afterwards (unique_index).
    conflict = "ON CONFLICT(id_index) DO NOTHING" if unique_index(PERSON_TABLE) else ""
    cur.execute(
        f"INSERT INTO {PERSON_TABLE} ({p_cols}) SELECT {_SQLITE_PERSON_SELECT} FROM {person_rows} "  # noqa: S608
        f"WHERE true ORDER BY rowid {conflict}",
        [result.source_ref, result.now_db, result.now_db, result.now_db, job_id],
    )
    inserted: int = raw.total_changes - before
    if not result.scratch:
        cur.execute(f"DELETE FROM {person_rows}")  # noqa: S608
        cur.execute(f"DELETE FROM {household_rows}")  # noqa: S608
    cur.close()
    return inserted


def _household_text(text: bytes, order: list[str], skip: frozenset[str]) -> tuple[bytes, frozenset[str]]:
    """The COPY lines of households whose code is not in ``skip``, and every code of ``text``
    (``order``: the codes line by line, if known)."""
    if order and skip.isdisjoint(order):
        return text, frozenset(order)
    lines = text.split(b"\n")
    if lines and not lines[-1]:
        lines.pop()
    codes = order or [line.split(b"\t", 1)[0].decode() for line in lines]  # codes: letters, digits, -
    kept = [line for line, code in zip(lines, codes, strict=True) if code not in skip]
    return b"".join(line + b"\n" for line in kept), frozenset(codes)


def _write_postgresql(raw: Any, result: BatchResult, households_before: frozenset[str] | None) -> int:
    import psycopg

    hh_cols = ", ".join(HOUSEHOLD_COLUMNS)
    p_cols = ", ".join(PERSON_COLUMNS)
    with raw.cursor() as cur:
        if households_before is not None and isinstance(result.households, bytes):
            text, result.household_codes = _household_text(
                result.households, result.household_order, households_before
            )
            cur.execute("SAVEPOINT population_households")
            try:
                with cur.copy(f"COPY {HOUSEHOLD_TABLE} ({hh_cols}) FROM STDIN") as copy:
                    copy.write(text)
            except psycopg.errors.UniqueViolation:
                cur.execute("ROLLBACK TO SAVEPOINT population_households")
            else:
                cur.execute("RELEASE SAVEPOINT population_households")
                return _copy_people(cur, result, p_cols)
        _copy_new_rows(cur, HOUSEHOLD_TABLE, hh_cols, "code", result.households)
        return _copy_people(cur, result, p_cols)


def _copy_people(cur: Any, result: BatchResult, p_cols: str) -> int:
    """COPY the batch's people (in a savepoint; through a temporary table and ON CONFLICT DO NOTHING
    if one of them is stored already); returns the people inserted."""
    import psycopg

    cur.execute("SAVEPOINT population_copy")
    try:
        with cur.copy(f"COPY {PERSON_TABLE} ({p_cols}) FROM STDIN") as copy:
            copy.write(result.persons)
    except psycopg.errors.UniqueViolation:
        cur.execute("ROLLBACK TO SAVEPOINT population_copy")
    else:
        cur.execute("RELEASE SAVEPOINT population_copy")
        return result.written
    return _copy_new_rows(cur, PERSON_TABLE, p_cols, "id_index", result.persons)


def _duplicate_reason(
    kept_job: int | None, kept_line: Any, kept_upgraded: bool, job: int | None, upgraded: bool
) -> str:
    """Why a row is a duplicate of the person kept (its job, line and whether its number was a
    15-digit one upgraded), as the error report words it (``kept_job`` None: the same batch)."""
    forms = _("（同一号码的 15 位与 18 位形式）") if bool(kept_upgraded) != bool(upgraded) else ""
    if kept_job == job:
        return _("重复人员：与第 %(line)s 行的公民身份号码相同%(forms)s") % {
            "line": kept_line,
            "forms": forms,
        }
    return _("重复人员：已在人口库中%(forms)s") % {"forms": forms}


def _copy_new_rows(cur: Any, table: str, cols: str, key: str, data: Any) -> int:
    """COPY ``data`` into ``table`` through a temporary table, skipping rows whose ``key`` is stored
    already (ON CONFLICT DO NOTHING); returns the rows inserted."""
    scratch = f"{table}_load"
    cur.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {scratch} ON COMMIT DELETE ROWS "  # noqa: S608
        f"AS SELECT {cols} FROM {table} WITH NO DATA"
    )
    with cur.copy(f"COPY {scratch} ({cols}) FROM STDIN") as copy:
        copy.write(data)
    # Names are the models' own tables and columns; the data travels by COPY.
    cur.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {scratch} ON CONFLICT ({key}) DO NOTHING")  # noqa: S608
    inserted: int = cur.rowcount
    cur.execute(f"TRUNCATE {scratch}")
    return inserted


def _report_conflicts(result: BatchResult, job_id: int) -> list[int]:
    """Find the rows the unique index turned away; report them; return their living buildings."""
    stored: dict[bytes, tuple[int | None, int | None, bool]] = {}
    keys = result.all_keys()
    indexes = [k[0] for k in keys]
    for start in range(0, len(indexes), 500):
        part = indexes[start : start + 500]
        for idx, owner_job, owner_line, original in Person.objects.filter(id_index__in=part).values_list(
            "id_index", "import_job_id", "import_line", "id_number_original_encrypted"
        ):
            stored[bytes(idx)] = (owner_job, owner_line, bool(original))
    buildings = []
    for index, line, upgraded, building in keys:
        owner = stored.get(index)
        if owner is None or (owner[0] == job_id and owner[1] == line):
            continue
        reason = _duplicate_reason(owner[0], owner[1], owner[2], job_id, upgraded)
        result.errors.append(records.RowError(line, "id_number", reason))
        result.duplicates += 1
        if building:
            buildings.append(building)
    return buildings


def _bump_counts(raw: Any, living: Counter[int]) -> None:
    params = [(n, b) for b, n in living.items() if n]
    if not params:
        return
    cur = raw.cursor()
    if connection.vendor == "sqlite":
        cur.executemany(
            f"UPDATE {BUILDING_TABLE} SET resident_count = resident_count + ? WHERE id = ?",  # noqa: S608
            params,
        )
    else:  # one statement for the batch's thousands of buildings (one UPDATE each cost ~3 µs a row)
        cur.execute(
            f"UPDATE {BUILDING_TABLE} AS b SET resident_count = b.resident_count + v.n "  # noqa: S608
            "FROM unnest(%s::bigint[], %s::integer[]) AS v(id, n) WHERE b.id = v.id",
            [[b for _, b in params], [n for n, _ in params]],
        )
    cur.close()


# --- secondary indexes around a load into an empty table -------------------------------------------


def secondary_indexes(table: str) -> list[tuple[str, str]]:
    """(name, CREATE statement) of the table's plain indexes (not the primary key or unique ones)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name, sql FROM sqlite_master "
                "WHERE type = 'index' AND tbl_name = %s AND sql IS NOT NULL",
                [table],
            )
            rows = [(n, s) for n, s in cursor.fetchall() if "UNIQUE" not in s.upper().split("INDEX")[0]]
        else:
            cursor.execute(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i "
                "WHERE i.tablename = %s AND i.schemaname = current_schema() AND NOT EXISTS ("
                " SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
                [table],
            )
            rows = [(n, s) for n, s in cursor.fetchall() if " UNIQUE " not in s.upper()]
    return rows


def _flush_deferred_checks() -> None:
    # PostgreSQL refuses index DDL on a table with deferred foreign-key checks pending in the
    # transaction (only when the caller's transaction spans batches, as in tests): run them now.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def foreign_keys(table: str) -> list[tuple[str, str]]:
    """PostgreSQL: (name, ADD CONSTRAINT statement) of the table's foreign keys.

    PostgreSQL checks a foreign key with a trigger per inserted row; added back after the load,
    the same constraint is checked by one join over the table. SQLite checks them in place
    (and cannot drop them): none there.
    """
    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE contype = 'f' AND conrelid = %s::regclass ORDER BY conname",
            [table],
        )
        return [
            (name, f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {body}') for name, body in cursor.fetchall()
        ]


#: The person table's unique blind index (``Person.Meta.constraints``): an index of its own.
UNIQUE_INDEX = "population_person_id_index"


def unique_index(table: str) -> list[tuple[str, str]]:
    """(name, CREATE statement) of the person table's unique blind index, if it is there.

    Loading millions of rows into an empty table is much faster without it: each row's digest
    lands at a random place of the index, whereas the index built after the load is one sort.
    Without it the database cannot turn away a person loaded twice: the workers still catch
    duplicates within a batch, and :func:`create_indexes` removes and reports those across
    batches before it builds the index (so a load killed part-way is put right by the next run,
    which resumes with the index in place).
    """
    if table != PERSON_TABLE:
        return []
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND name = %s", [UNIQUE_INDEX]
            )
        else:
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
                "AND indexname = %s",
                [UNIQUE_INDEX],
            )
        return [(name, ddl) for name, ddl in cursor.fetchall()]


def drop_indexes(tables: Sequence[str]) -> list[list[str]]:
    """Drop the tables' secondary indexes (on PostgreSQL also foreign keys and the person table's
    unique blind index); return their DDL."""
    _flush_deferred_checks()
    saved: list[list[str]] = []
    for table in tables:
        for name, ddl in secondary_indexes(table):
            saved.append([name, ddl])
            with connection.cursor() as cursor:
                cursor.execute(f'DROP INDEX IF EXISTS "{name}"')
        for name, ddl in foreign_keys(table):
            saved.append([name, ddl])
            with connection.cursor() as cursor:
                cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, ddl in unique_index(table):
            saved.append([name, ddl])
            with connection.cursor() as cursor:
                cursor.execute(f'DROP INDEX IF EXISTS "{name}"')
    return saved


def create_indexes(
    saved: Sequence[Sequence[str]],
    *,
    parallel: bool = False,
    meanwhile: Callable[[], None] | None = None,
) -> Counter[int]:
    """Re-create what :func:`drop_indexes` dropped (what already exists is left alone).

    Before the unique blind index is built, people loaded twice while it was absent are removed
    and reported (:func:`remove_duplicates`); returns how many, per import job.

    ``parallel`` (PostgreSQL, the loaded rows committed): each index build runs on one core, so
    the person table's plain indexes are built on a second connection (:class:`_IndexHelper`)
    while this one builds the others, runs ``meanwhile`` (the caller's work in its transaction)
    and the unique index. Index builds share their lock; the foreign keys, the removal of
    duplicates and ANALYZE wait for the helper. Its indexes are committed as they are built: a run
    that fails afterwards leaves them, and the next run builds only what is missing.
    """
    _flush_deferred_checks()
    removed: Counter[int] = Counter()
    helper = _IndexHelper(
        [ddl for name, ddl in saved if _plain_index_of(name, ddl) == PERSON_TABLE]
        if parallel and connection.vendor == "postgresql"
        else []
    )
    helper.start()
    try:
        if meanwhile is not None:
            meanwhile()
        later: list[Sequence[str]] = []
        for name, ddl in saved:
            if ddl in helper.ddls:
                continue
            if ddl.startswith("ALTER TABLE"):
                later.append((name, ddl))
            elif name == UNIQUE_INDEX:
                if not unique_index(PERSON_TABLE):
                    removed += _create_unique_index(ddl, before_removing=helper.join)
            else:
                with connection.cursor() as cursor:
                    cursor.execute(_if_not_exists(ddl))
        helper.join()
        for name, ddl in later:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1 FROM pg_constraint WHERE conname = %s", [name])
                if cursor.fetchone() is None:
                    cursor.execute(ddl)
    finally:
        helper.join(raise_failure=False)
    if connection.vendor == "postgresql" and saved:
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {PERSON_TABLE}")
            cursor.execute(f"ANALYZE {HOUSEHOLD_TABLE}")
    return removed


def _if_not_exists(ddl: str) -> str:
    return ddl.replace("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1)


def _plain_index_of(name: str, ddl: str) -> str | None:
    """The table of a saved plain (not unique) index, None for anything else."""
    if not ddl.startswith("CREATE INDEX ") or name == UNIQUE_INDEX:
        return None
    table: str = ddl.split(" ON ", 1)[1].split()[0]
    return table.rsplit(".", 1)[-1].strip('"')


class _IndexHelper:
    """Builds indexes on a connection of its own, in a thread (:func:`create_indexes`)."""

    def __init__(self, ddls: list[str]) -> None:
        self.ddls = ddls
        self.failure: BaseException | None = None
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        if self.ddls:
            self.thread = threading.Thread(target=self._build, name="population-index-build", daemon=True)
            self.thread.start()

    def _build(self) -> None:
        try:  # ``connection`` is this thread's own
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('maintenance_work_mem', %s, false)", [INDEX_BUILD_MEMORY])
                for ddl in self.ddls:
                    cursor.execute(_if_not_exists(ddl))
        except BaseException as exc:  # handed to the caller by join()
            self.failure = exc
        finally:
            connection.close()

    def join(self, raise_failure: bool = True) -> None:
        if self.thread is not None:
            self.thread.join()
        if raise_failure and self.failure is not None:
            raise self.failure


def _create_unique_index(ddl: str, before_removing: Callable[[], None]) -> Counter[int]:
    """Build the unique blind index; if people were loaded twice, remove them first (and say so).

    ``before_removing``: waits for what must end before rows are deleted (index builds elsewhere).
    """
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(ddl)
    except IntegrityError:
        before_removing()
        removed = remove_duplicates()
        with connection.cursor() as cursor:
            cursor.execute(ddl)
        return removed
    return Counter()


def remove_duplicates() -> Counter[int]:
    """Remove all but the first-loaded person of each blind index held twice; report the others.

    Each removed row becomes a row error of the job that loaded it (as the unique index would
    have reported it), its job's counts and its building's resident count are corrected.
    Returns the rows removed per job. One aggregate over the table: run only when building the
    unique index failed.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, id_index, import_job_id, import_line, id_number_original_encrypted <> '', "  # noqa: S608
            f"CASE WHEN status = 'living' THEN building_id END FROM {PERSON_TABLE} WHERE id_index IN ("
            f"SELECT id_index FROM {PERSON_TABLE} GROUP BY id_index HAVING count(*) > 1) "
            "ORDER BY id_index, id"
        )
        rows = cursor.fetchall()
    if not rows:
        return Counter()
    owner: tuple[Any, ...] = ()
    doomed: list[int] = []
    errors: list[ImportRowError] = []
    removed: Counter[int] = Counter()
    living: Counter[int] = Counter()
    for row in rows:
        pk, index, job, line, upgraded, building = row
        if not owner or bytes(owner[1]) != bytes(index):
            owner = row
            continue
        reason = _duplicate_reason(owner[2], owner[3], owner[4], job, upgraded)
        doomed.append(pk)
        if job is not None:
            errors.append(ImportRowError(job_id=job, line=line or 0, field="id_number", reason=reason))
            removed[job] += 1
        if building is not None:
            living[building] += 1
    with transaction.atomic():
        for start in range(0, len(doomed), 5000):
            Person.objects.filter(pk__in=doomed[start : start + 5000]).delete()
        ImportRowError.objects.bulk_create(errors, batch_size=2000)
        for job, count in removed.items():
            ImportJob.objects.filter(pk=job).update(
                imported=F("imported") - count,
                rejected=F("rejected") + count,
                duplicates=F("duplicates") + count,
            )
        _bump_counts(_raw(), Counter({b: -n for b, n in living.items()}))
    _flush_deferred_checks()  # the deletes' foreign-key checks, before the index DDL
    return removed


def person_table_empty() -> bool:
    return not Person.objects.exists()


def decode_report_line(line: str) -> list[str]:
    return next(csv.reader(io.StringIO(line)))


# --- the batch path: the common batch checked and formatted column by column ----------------------

_WEIGHTS = np.array(idnumber.WEIGHTS, dtype=np.int64)
_CHECK_BYTES = np.frombuffer(idnumber.CHECK_CHARS.encode(), dtype=np.uint8)
_HOUSEHOLDS_RE = re.compile(r"(?:[0-9A-Za-z-]{1,32}\n)*")
_SEX_OF_PARITY = ("2", "1")  # an ASCII digit's byte has the digit's parity
#: (sex cell, ID number's sex) pairs that agree (codes.SEX_AGREES_WITH; an empty cell states nothing).
_SEX_PAIRS = frozenset(
    {("", "1"), ("", "2")}
    | {(cell, sex) for cell, code in records._SEX.items() for sex in codes.SEX_AGREES_WITH[code]}
)
_MARITAL_OR_DEFAULT = {**records._MARITAL, "": "90"}
_STATUS_OR_DEFAULT = {**records._STATUS, "": "living"}
_TF = ("f", "t")
_NULL = "\\N"  # COPY text's NULL
_MISSING = object()
_B64_URL = bytes.maketrans(b"+/", b"-_")
_BLANK_ROW = ("",) * len(records.KEYS)


def _flag(slow: set[int], oks: Sequence[Any]) -> None:
    """Add the positions whose value is falsy to ``slow``."""
    if not all(oks):
        slow.update(i for i, ok in enumerate(oks) if not ok)


def _column_batch(batch: Batch, text: str) -> BatchResult | None:
    """:func:`_process_batch` for a batch of plain rows (no quotes, no whitespace), column by column.

    Each check of :class:`records.FastCheck` runs over a whole column at once (dictionary and set
    look-ups mapped over the column, the ID numbers' check characters with numpy). A row that
    fails any of them goes through :func:`records.check` on its own, which gives its errors or its
    clean values (a lower-case ``x``, a 15-digit number ...). The result is the one the row-by-row
    path gives, which the tests pin. Returns None (the caller takes the row-by-row path) for a batch
    with a person twice or a household in two buildings: their reports depend on row order.
    """
    setup, fast, sealer = _SETUP, _FAST, _SEALER
    if setup is None or fast is None or sealer is None:
        raise RuntimeError("worker not initialised")
    if not fast.usable:
        return None
    ctx = setup.context
    lines = text.split("\n")
    if "" in lines:
        numbered = [(batch.first_line + i, row) for i, row in enumerate(lines) if row]
        line_numbers: Sequence[int] = [n for n, _ in numbered]
        lines = [row for _, row in numbered]
    else:
        line_numbers = range(batch.first_line, batch.first_line + len(lines))
    n = len(lines)
    if not n:
        return None
    cells = list(map(str.split, lines, repeat(",")))
    slow: set[int] = set()
    rows: Sequence[Sequence[str]] = cells
    if set(map(len, cells)) != {len(records.KEYS)}:
        padded: list[Sequence[str]] = list(cells)
        for i, row in enumerate(cells):
            if len(row) != len(records.KEYS):
                slow.add(i)
                padded[i] = _BLANK_ROW
        rows = padded
    (
        raw_id, raw_name, raw_sex, raw_eth, raw_birth, raw_birthplace, raw_marital, registered_col,
        address_col, building_col, unit_col, room_col, household_col, raw_relation, raw_status,
        raw_status_date, raw_source, raw_source_date, raw_verified, raw_lon, raw_lat,
    ) = zip(*rows, strict=True)  # fmt: skip

    # ID numbers: 17 digits and the check character, a real birth date up to today, a known place.
    numbers = list(raw_id)
    if set(map(len, numbers)) != {18}:
        for i, number in enumerate(numbers):
            if len(number) != 18:
                slow.add(i)
                numbers[i] = "0" * 18
    joined = "".join(numbers)
    if not joined.isascii():
        for i, number in enumerate(numbers):
            if not number.isascii():
                slow.add(i)
                numbers[i] = "0" * 18
        joined = "".join(numbers)
    digits = np.frombuffer(joined.encode(), dtype=np.uint8).reshape(n, 18)
    first17 = digits[:, :17].astype(np.int64) - 48
    good = ((first17 >= 0) & (first17 <= 9)).all(axis=1)
    good &= digits[:, 17] == _CHECK_BYTES[(first17.clip(0, 9) @ _WEIGHTS) % 11]
    if not good.all():
        slow.update(np.flatnonzero(~good).tolist())
    birth: list[str | None] = list(map(fast.birth_iso.get, [x[6:14] for x in numbers]))
    _flag(slow, birth)
    address = [x[:6] for x in numbers]
    for code in set(address).difference(fast.addresses):
        fast._address(code)
    _flag(slow, list(map(fast.addresses.__getitem__, address)))
    sex = list(map(_SEX_OF_PARITY.__getitem__, (digits[:, 16] & 1).tolist()))

    name: list[Any] = list(map(fast.names.get, raw_name, repeat(_MISSING)))
    if _MISSING in name:
        learned = fast.names_at_once(set(compress(raw_name, map(is_, name, repeat(_MISSING)))))
        name = list(map(learned.get, raw_name, name))
    _flag(slow, name)
    _flag(slow, list(map(_SEX_PAIRS.__contains__, zip(raw_sex, sex, strict=True))))
    ethnicity: list[str | None] = list(map(records._ETHNICITY.get, raw_eth))
    _flag(slow, ethnicity)
    _flag(slow, [not r or r == b for r, b in zip(raw_birth, birth, strict=True)])
    _flag(slow, [not r or r == a for r, a in zip(raw_birthplace, address, strict=True)])
    marital: list[str | None] = list(map(_MARITAL_OR_DEFAULT.get, raw_marital))
    _flag(slow, marital)
    for code in set(registered_col).difference(fast.registered):
        fast._registered(code)
    _flag(slow, list(map(fast.registered.__contains__, registered_col)))
    if max(map(len, address_col)) > 200:
        _flag(slow, [len(a) <= 200 for a in address_col])
    places: list[records.PlaceRef | None] = list(map(ctx.buildings.get, building_col))
    _flag(slow, places)
    for column in (unit_col, room_col):
        for value in set(column).difference(fast.short):
            fast._short(value)
        _flag(slow, list(map(fast.short.__contains__, column)))
    if not _HOUSEHOLDS_RE.fullmatch("\n".join(household_col) + "\n"):
        _flag(slow, list(map(records._HOUSEHOLD_RE.match, household_col)))
    relation: list[str | None] = list(map(records._RELATION.get, raw_relation))
    _flag(slow, relation)
    status: list[str | None] = list(map(_STATUS_OR_DEFAULT.get, raw_status))
    _flag(slow, status)
    status_date: list[str | None]
    if set(raw_status_date) == {""}:
        status_date = [None] * n
        if set(status) != {"living"}:
            _flag(slow, [s == "living" for s in status])
    else:
        iso = fast.iso
        _flag(
            slow,
            [
                (r in iso and b is not None and r >= b) if r else s == "living"
                for r, s, b in zip(raw_status_date, status, birth, strict=True)
            ],
        )
        status_date = [r or None for r in raw_status_date]
    source: Sequence[str] = raw_source
    if "" in raw_source:
        source = [r or ctx.default_source for r in raw_source]
    if max(map(len, source)) > 40:
        _flag(slow, [len(s) <= 40 for s in source])
    source_at_of: dict[str, str | None] = {}
    for value in set(raw_source_date):
        day = fast.iso.get(value) if value else None
        source_at_of[value] = (
            setup.now_db if not value else None if day is None else _day_start(day, setup.engine)
        )
    source_at: list[str | None] = list(map(source_at_of.__getitem__, raw_source_date))
    _flag(slow, source_at)
    verified_of: dict[str, bool | None] = {}
    for value in set(raw_verified):
        known = fast.verified.get(value, _MISSING)
        verified_of[value] = fast._verified(value) if known is _MISSING else known  # type: ignore[assignment]
    verified: list[Any] = list(map(verified_of.__getitem__, raw_verified))
    _flag(slow, [v is not None for v in verified])
    if set(raw_lon) != {""} or set(raw_lat) != {""}:
        _flag(slow, [not (x or y) for x, y in zip(raw_lon, raw_lat, strict=True)])

    building_id = [p.building_id if p else 0 for p in places]
    region_path = [p.region_path if p else "" for p in places]
    locally = [
        p is not None and (p.community_code == r or (len(r) < 12 and p.community_code.startswith(r)))
        for p, r in zip(places, registered_col, strict=True)
    ]
    registered = list(registered_col)
    registered_address = list(address_col)
    household = list(household_col)
    unit, room = list(unit_col), list(room_col)
    source = list(source)
    lon: list[float | None] = [None] * n
    lat: list[float | None] = [None] * n
    originals: dict[int, str] = {}

    # The rows a column check turned away: check() on their own (errors, or their clean values).
    errors: list[records.RowError] = []
    dropped: set[int] = set()
    for i in sorted(slow):
        clean, row_errors = records.check(cells[i], line_numbers[i], setup.index, ctx, stripped=True)
        if clean is None:
            errors.extend(row_errors)
            dropped.add(i)
            continue
        ident = clean.id
        numbers[i] = ident.number
        if ident.upgraded:
            originals[i] = ident.original
        name[i], sex[i], ethnicity[i] = clean.name, clean.sex, clean.ethnicity
        birth[i], address[i], marital[i] = (
            clean.birth_date.isoformat(),
            clean.birthplace_code,
            clean.marital_status,
        )
        registered[i], registered_address[i], locally[i] = (
            clean.registered_code, clean.registered_address, clean.registered_locally,
        )  # fmt: skip
        household[i], relation[i] = clean.household_code, clean.relation
        building_id[i], region_path[i], unit[i], room[i] = (
            clean.building_id, clean.region_path, clean.unit_number, clean.room_number,
        )  # fmt: skip
        status[i] = clean.status
        status_date[i] = clean.status_date.isoformat() if clean.status_date else None
        source[i], verified[i], lon[i], lat[i] = clean.source, clean.verified, clean.lon, clean.lat
        source_at[i] = (
            setup.now_db if clean.source_date is None else _day_start(clean.source_date, setup.engine)
        )
    upgraded = [False] * n
    original = [""] * n
    for i, number in originals.items():
        upgraded[i] = True
        original[i] = number
    columns: list[list[Any]] = [
        numbers, original, upgraded, name, sex, ethnicity, birth, address, marital, registered,
        registered_address, locally, household, relation, building_id, region_path, unit, room,
        status, status_date, source, source_at, verified, lon, lat, list(line_numbers),
    ]  # fmt: skip
    if dropped:
        keep = [i not in dropped for i in range(n)]
        columns = [list(compress(column, keep)) for column in columns]
    (
        numbers, original, upgraded, name, sex, ethnicity, birth, address, marital, registered,
        registered_address, locally, household, relation, building_id, region_path, unit, room,
        status, status_date, source, source_at, verified, lon, lat, line_list,
    ) = columns  # fmt: skip
    m = len(numbers)
    # A person twice, or a household in two buildings: reported in row order by the row path.
    if len(set(numbers)) != m or len(set(zip(household, building_id, strict=True))) != len(set(household)):
        return None
    errors.sort(key=lambda e: e.line)  # stable: a row's errors keep their order

    now_db = setup.now_db
    first = dict(zip(reversed(household), range(m - 1, -1, -1), strict=True))
    household_rows = sorted(first.values())
    indexes = _blind_all(numbers)
    encrypted = _seal_all(sealer, numbers)
    if originals:
        original = [sealer.seal(o) if o else "" for o in original]
    masked = [x[:6] + "********" + x[14:] for x in numbers]
    living_building = [b if s == "living" else 0 for b, s in zip(building_id, status, strict=True)]
    living = dict(Counter(b for b in living_building if b))
    if setup.engine == "sqlite":
        households = [
            (household[i], building_id[i], unit[i], room[i], "family", region_path[i], lon[i], lat[i], now_db)
            for i in household_rows
        ]
        persons = list(
            zip(
                indexes, encrypted, original, masked, name, sex, ethnicity, birth, address, marital,
                registered, registered_address, locally, household, relation, building_id,
                region_path, status, status_date, source, source_at, verified, line_list, strict=True,
            )
        )  # fmt: skip
        if setup.scratch_dir:
            path = _scratch_write(setup.scratch_dir, batch.number, persons, households)
            return BatchResult(
                batch.number, n, [], [], [], errors, 0, m, living, str(path), setup.source_ref, now_db,
            )  # fmt: skip
        keys = list(zip(indexes, line_list, upgraded, living_building, strict=True))
        return BatchResult(
            batch.number, n, persons, households, keys, errors, 0, m, living, "", setup.source_ref, now_db,
        )  # fmt: skip
    if "\\" in "".join(registered_address):
        registered_address = list(map(_copy_text, registered_address))
    if "\\" in "".join(source):
        source = list(map(_copy_text, source))
    verified_at = [now_db if v else "\\N" for v in verified]
    person_text = "".join(
        map(
            "\t".join,
            zip(
                ["\\\\x" + h for h in map(bytes.hex, indexes)], encrypted, original, masked, name, sex,
                ethnicity, birth, address, marital, registered, registered_address,
                map(_TF.__getitem__, locally), household, relation, map(str, building_id), region_path,
                status, [d or "\\N" for d in status_date], source, repeat(_copy_text(setup.source_ref)),
                source_at, repeat(now_db), map(_TF.__getitem__, verified), verified_at, repeat("1"),
                repeat(now_db), repeat(str(setup.job_id)), [f"{x}\n" for x in line_list],
            ),
        )
    ).encode()  # fmt: skip
    household_text, household_order = _household_columns(
        household_rows, household, building_id, unit, room, region_path, lon, lat, now_db
    )
    keys = list(zip(indexes, line_list, upgraded, living_building, strict=True))
    result = BatchResult(batch.number, n, person_text, household_text, keys, errors, 0, m, living)
    result.household_order = household_order
    return result


def _household_columns(
    rows: Sequence[int],
    code: Sequence[str],
    building_id: Sequence[int],
    unit: Sequence[str],
    room: Sequence[str],
    region_path: Sequence[str],
    lon: Sequence[float | None],
    lat: Sequence[float | None],
    now_db: str,
) -> tuple[bytes, list[str]]:
    """The COPY text of the households first met at ``rows`` (HOUSEHOLD_COLUMNS), column by column,
    and their codes in order. Codes, unit and room numbers are checked to be letters, digits and
    ``-``, region paths are digits and ``/``: nothing to escape."""
    if not rows:
        return b"", []
    pick = itemgetter(*rows) if len(rows) > 1 else (lambda column: (column[rows[0]],))
    codes = list(pick(code))
    coordinates = [
        [_NULL if v is None else str(v) for v in values] if any(v is not None for v in values) else None
        for values in (pick(lon), pick(lat))
    ]
    text = "".join(
        map(
            "\t".join,
            zip(
                codes, map(str, pick(building_id)), pick(unit), pick(room), repeat("family"),
                pick(region_path), coordinates[0] or repeat(_NULL), coordinates[1] or repeat(_NULL),
                repeat(now_db + "\n"),
            ),
        )
    )  # fmt: skip
    return text.encode(), codes


def _blind_all(numbers: Sequence[str]) -> list[bytes]:
    """:func:`_blind` of many numbers: HMAC-SHA256 from the key's two precomputed hash states."""
    inner, outer = _HMAC_STATES
    out: list[bytes] = []
    append = out.append
    inner_copy, outer_copy = inner.copy, outer.copy
    for number in numbers:
        h = inner_copy()
        h.update(f"person\x00{number}".encode())
        o = outer_copy()
        o.update(h.digest())
        append(o.digest())
    return out


def _seal_all(sealer: Sealer, values: Sequence[str]) -> list[str]:
    """:meth:`Sealer.seal` of many values: the AES-GCM calls and the base64 of the batch at once."""
    count = len(values)
    pool = os.urandom(12 * count)
    nonces = [pool[i : i + 12] for i in range(0, 12 * count, 12)]
    sealed = map(sealer.aead.encrypt, nonces, map(str.encode, values), repeat(sealer.aad))
    text = b"".join(map(b2a_base64, map(bytes.__add__, nonces, sealed))).translate(_B64_URL).decode()
    return list(map(sealer.prefix.__add__, text.split("\n")[:-1]))
