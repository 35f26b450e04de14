"""The batch path of the bulk import (``bulk._column_batch``) gives what the row-by-row path gives.

Both paths run in this process on the same batches (generated rows, then the same rows mixed
with odd and bad variants of the kinds ``test_records_fast`` uses); their results are compared
field by field, ciphertexts by what they decrypt to (the nonces are random).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from sanji.core import crypto, idnumber
from sanji.population import bulk, bulk_arrow, generator, records
from sanji.population.tests.conftest import plan_regions
from sanji.population.tests.test_records_fast import TODAY, _variants

NOW = dt.datetime(2025, 6, 1, 8, 30, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def rows(tmp_path_factory: pytest.TempPathFactory) -> list[list[str]]:
    out = tmp_path_factory.mktemp("columns") / "people.csv"
    generator.generate(residents=3000, out=out, seed=7, today=TODAY, workers=1)
    return [list(r.values()) for r in generator.read_rows(out)]


@pytest.fixture(scope="module")
def context() -> records.Context:
    plans = generator.community_plans()
    refs = {
        b.code: records.PlaceRef(i, f"x/{p.code}/", p.code)
        for i, (p, g, b) in enumerate((p, g, b) for p in plans for g in p.grids for b in g.buildings)
    }
    return records.Context(today=TODAY, buildings=refs, regions=plan_regions(plans))


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(
    request: pytest.FixtureRequest, context: records.Context, settings: Any, tmp_path: Any
) -> Iterator[str]:
    settings.KEY_DIR = tmp_path / "keys"
    crypto.clear_cache()
    setup = bulk.WorkerSetup(
        engine=request.param,
        encoding="utf-8",
        index=records.header_index(list(records.KEYS)),
        context=context,
        job_id=7,
        source_ref="import:people.csv:abc",
        now_db=bulk._db_time(NOW, request.param),
        now=NOW,
    )
    bulk._init_worker(setup)
    yield request.param
    crypto.clear_cache()


def _batch(lines: list[str], first_line: int = 2) -> bulk.Batch:
    text = "\n".join(lines) + "\n"
    return bulk.Batch(0, first_line, text.encode(), sum(1 for line in lines if line))


def _plain(cells: list[str]) -> bool:
    return all("," not in c and '"' not in c and records.FastCheck.plain(c) for c in cells)


def _distinct(rows: list[list[str]]) -> list[str]:
    """The rows and their plain variants, those of fields other than the number given new numbers."""
    seen: set[str] = set()
    out: list[str] = []
    for row in rows:
        number = idnumber.parse(row[0], today=TODAY).number
        born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
        for k, variant in enumerate([row, *_variants(row)]):
            if not _plain(variant):
                continue
            if variant[12] == "H-1":  # a household of its own (one in two buildings goes row by row)
                variant = [*variant[:12], f"H-{len(out)}", *variant[13:]]
            if k and variant[0] == row[0]:
                variant = [
                    idnumber.make(number[:6], born, 501 + 2 * k + int(number[16]) % 2 - 1),
                    *variant[1:],
                ]
            try:
                key = idnumber.parse(variant[0], today=TODAY).number
            except idnumber.IdNumberError:
                key = f"bad {len(out)}"
            if key not in seen:
                seen.add(key)
                out.append(",".join(variant))
    return out


def _comparable(result: bulk.BatchResult) -> dict[str, Any]:
    """The result with every ciphertext decrypted and the PostgreSQL COPY text split into fields."""
    if isinstance(result.persons, bytes):
        persons: list[list[Any]] = [line.split("\t") for line in result.persons.decode().split("\n") if line]
        households: Any = result.households.decode().split("\n")  # type: ignore[union-attr]
    else:
        persons = [list(p) for p in result.persons]
        households = result.households
    for person in persons:
        for column in (1, 2):
            if person[column]:
                person[column] = crypto.decrypt(person[column])
    return {
        "number": result.number,
        "rows": result.rows,
        "persons": persons,
        "households": households,
        "keys": result.all_keys(),
        "errors": result.errors,
        "duplicates": result.duplicates,
        "written": result.written,
        "living": result.living,
        "scratch": result.scratch,
        "source_ref": result.source_ref,
        "now_db": result.now_db,
    }


def _both(
    batch: bulk.Batch, *, column_path_taken: bool, arrow_path_taken: bool | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The batch through the batch paths (on PostgreSQL Arrow's, then Python's: they must agree)
    and through the row-by-row path. Arrow's takes what Python's takes (``arrow_path_taken``
    unless given), but a batch with a blank line or a row of too many or too few cells."""
    text = batch.payload.decode()  # type: ignore[union-attr]
    assert (bulk._column_batch(batch, text) is not None) is column_path_taken
    arrowed = bulk_arrow.arrow_batch(batch, batch.payload)  # type: ignore[arg-type]
    on_postgresql = bulk._SETUP is not None and bulk._SETUP.engine == "postgresql"
    expected = column_path_taken if arrow_path_taken is None else arrow_path_taken
    assert (arrowed is not None) is (expected and on_postgresql)
    column = _comparable(bulk.process_batch(batch))
    bulk.ARROW_PATH = False
    try:
        assert _comparable(bulk.process_batch(batch)) == column
        bulk.COLUMN_PATH = False
        row = _comparable(bulk.process_batch(batch))
    finally:
        bulk.COLUMN_PATH = True
        bulk.ARROW_PATH = True
    return column, row


def test_generated_batch(engine: str, rows: list[list[str]]) -> None:
    column, row = _both(_batch([",".join(r) for r in rows]), column_path_taken=True)
    assert column == row
    assert column["written"] == len(rows)
    assert any(p[2] for p in column["persons"])  # some 15-digit numbers, upgraded, original kept


def test_batch_with_odd_and_bad_rows(engine: str, rows: list[list[str]]) -> None:
    lines = []
    for cells in rows[:60]:
        lines.append(",".join(cells))
        lines += [",".join(v) for v in _variants(cells) if _plain(v)]
    lines.insert(5, "")  # a blank line: later rows keep their line numbers
    lines.insert(9, ",".join(rows[0][:20]))  # a cell short
    lines.insert(12, ",".join([*rows[0], "extra"]))  # a cell too many
    column, row = _both(_batch(lines, first_line=50_002), column_path_taken=False)
    assert column == row  # the variants repeat people: the row path decides
    # Each variant as a person of its own (a number of its own): the batch path takes the batch.
    distinct = _distinct(rows[:60])
    lines = [*distinct, "", ",".join(rows[61][:20]), ",".join([*rows[62], "x"])]
    column, row = _both(_batch(lines, first_line=7), column_path_taken=True, arrow_path_taken=False)
    assert column == row
    assert column["errors"]
    assert column["written"]
    # Without the blank line and the rows of the wrong length, Arrow's path takes it too.
    column, row = _both(_batch(distinct, first_line=7), column_path_taken=True)
    assert column == row
    assert column["errors"]
    assert column["written"]


def test_person_twice_and_household_in_two_buildings_go_row_by_row(
    engine: str, rows: list[list[str]]
) -> None:
    lines = [",".join(r) for r in rows[:200]]
    for twice in ([*lines, lines[3]], [*lines, lines[3][:-1] + lines[3][-1]]):
        column, row = _both(_batch(twice), column_path_taken=False)
        assert column == row
        assert column["duplicates"] == 1
    moved = list(rows[10])
    moved[records.KEYS.index("household_code")] = rows[100][records.KEYS.index("household_code")]
    moved_lines = [",".join(r) for r in rows[:200] if r is not rows[10]] + [",".join(moved)]
    if moved[records.KEYS.index("building_code")] != rows[100][records.KEYS.index("building_code")]:
        column, row = _both(_batch(moved_lines), column_path_taken=False)
        assert column == row
        assert any(e.field == "household_code" for e in column["errors"])
