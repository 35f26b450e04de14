"""``sanji audit verify`` over a chain of 1,000,000 entries (``SANJI_BENCH_AUDIT_N`` to change).

The chain is filled by the bulk path (hashes computed in Python with the chain's own canonical
form; ``executemany`` on SQLite, ``COPY`` on PostgreSQL), then verified in-process with the
function the command calls. Anchors: the issue's budget ("well under a minute") for the time, and
the same walk over rows already in memory (no database) for the rate.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections.abc import Iterator
from typing import Any

NAME = "audit_verify"
SIZE = int(os.environ.get("SANJI_BENCH_AUDIT_N", "1000000"))
BATCH = 50_000
BUDGET_SECONDS = 60.0

ACTIONS = (
    "cases.accepted",
    "cases.decided",
    "sharing.person_read",
    "accounts.login",
    "population.change_verified",
)
REGIONS = ("150100/150105/", "150100/150102/150102003/", "150100/150104/", "")


def _rows(n: int) -> Iterator[tuple[Any, ...]]:
    """Realistic entries, one second apart, ending now: (hashed fields..., prev_hash, hash)."""
    from sanji.audit.chain import GENESIS_HASH, normalise_data, row_hash

    start = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=n)
    prev = GENESIS_HASH
    for seq in range(1, n + 1):
        k = seq % 997
        row = (
            seq,
            start + dt.timedelta(seconds=seq, microseconds=k),
            1000 + k,
            f"user{k:03d}",
            200 + k % 37,
            f"T-{k % 211:04d}",
            f"10.1.{k % 256}.{seq % 256}",
            "web",
            ACTIONS[seq % len(ACTIONS)],
            "cases.case",
            str(seq),
            f"办件 {seq}",
            REGIONS[seq % len(REGIONS)],
            "",
            normalise_data({"case": seq, "step": k % 7, "note": "受理"}),
        )
        digest = row_hash(prev, row)
        yield (*row, prev, digest)
        prev = digest


def _batches(n: int) -> Iterator[list[tuple[Any, ...]]]:
    batch: list[tuple[Any, ...]] = []
    for row in _rows(n):
        batch.append(row)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def fill(n: int) -> tuple[int, str]:
    from django.db import connection, transaction

    from sanji.audit.models import ChainHead, Entry
    from sanji.audit.verify import STREAMED_FIELDS

    table = Entry._meta.db_table
    columns = ", ".join(STREAMED_FIELDS)
    at = STREAMED_FIELDS.index("at")
    data = STREAMED_FIELDS.index("data")
    last: tuple[int, str] = (0, "")
    with transaction.atomic():
        with connection.cursor() as cursor:
            raw = cursor.cursor  # the driver's cursor: no per-row Django adaptation
            for batch in _batches(n):
                if connection.vendor == "postgresql":
                    with raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                        for row in batch:
                            values = list(row)
                            values[data] = json.dumps(values[data])
                            copy.write_row(values)
                else:
                    adapt = connection.ops.adapt_datetimefield_value
                    prepared = []
                    for row in batch:
                        values = list(row)
                        values[at] = adapt(values[at])
                        values[data] = json.dumps(values[data])
                        prepared.append(values)
                    marks = ", ".join("?" * len(STREAMED_FIELDS))
                    raw.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", prepared)
                last = (batch[-1][0], batch[-1][-1])
        ChainHead.objects.filter(pk=1).update(seq=last[0], hash=last[1])
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {table}")
    return last


def in_memory_rate(sample: int = 200_000) -> float:
    """Entries/s of the same walk over rows already in memory: the floor the database adds to."""
    from sanji.audit.chain import GENESIS_HASH
    from sanji.audit.verify import walk

    rows = list(_rows(sample))
    started = time.perf_counter()
    result = walk(rows, start_seq=1, start_hash=GENESIS_HASH, start_name="genesis")
    elapsed = time.perf_counter() - started
    assert result.problem is None
    assert result.count == sample
    return sample / elapsed


def run(engine: str) -> list[dict[str, Any]]:
    from sanji.audit.verify import verify_chain

    started = time.perf_counter()
    fill(SIZE)
    fill_seconds = time.perf_counter() - started

    started = time.perf_counter()
    result = verify_chain()
    verify_seconds = time.perf_counter() - started
    if not result.ok or result.count != SIZE:
        raise RuntimeError(f"verify failed on the benchmark chain: {result.message}")
    rate = SIZE / verify_seconds
    memory_rate = in_memory_rate()
    return [
        {
            "name": "audit_verify",
            "value": round(verify_seconds, 2),
            "unit": "s",
            "size": SIZE,
            "anchor": {"name": "issue budget: well under a minute", "value": BUDGET_SECONDS, "unit": "s"},
            "notes": f"verify_chain() in-process, rows streamed from a driver cursor; {result.message}",
        },
        {
            "name": "audit_verify_rate",
            "value": round(rate),
            "unit": "entries/s",
            "size": SIZE,
            "anchor": {
                "name": "same walk over rows in memory (no database)",
                "value": round(memory_rate),
                "unit": "entries/s",
            },
            "notes": "ratio < 1: share of the in-memory hashing speed kept when reading from the database",
        },
        {
            "name": "audit_fill",
            "value": round(fill_seconds, 2),
            "unit": "s",
            "size": SIZE,
            "anchor": None,
            "notes": "bulk path: hashes in Python; executemany (SQLite) / COPY (PostgreSQL), 50,000 a batch",
        },
    ]
