"""Writing audit entries as CSV (streamed, UTF-8) and Excel (openpyxl, write-only mode).

Cells that a spreadsheet would run as a formula (starting with ``= + - @``) are written as
text: the trail holds strings typed by users (labels, usernames), and an export must not turn
them into formulas.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any

from django.db import models
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from sanji.audit.chain import HASHED_FIELDS
from sanji.audit.models import Entry
from sanji.core.clock import CITY_TZ

#: An export holds every hashed field and both hashes, so it can be checked without the database.
COLUMNS = (*HASHED_FIELDS, "prev_hash", "hash")

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CHUNK_SIZE = 5_000


def _rows(entries: models.QuerySet[Entry]) -> Iterator[list[Any]]:
    for row in entries.values_list(*COLUMNS).iterator(chunk_size=CHUNK_SIZE):
        values = list(row)
        values[1] = values[1].astimezone(CITY_TZ).strftime("%Y-%m-%d %H:%M:%S.%f")
        values[14] = json.dumps(values[14], ensure_ascii=False, sort_keys=True)
        yield values


def _csv_safe(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START) and value != "-":
        return "'" + value
    return value


def csv_lines(entries: models.QuerySet[Entry], *, bom: bool = True) -> Iterable[str]:
    """The header and one line per entry (for a StreamingHttpResponse or a file)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def take() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate(0)
        return text

    writer.writerow(COLUMNS)
    yield ("\ufeff" if bom else "") + take()
    for values in _rows(entries):
        writer.writerow([_csv_safe(v) for v in values])
        yield take()


def xlsx_bytes(entries: models.QuerySet[Entry]) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("audit")
    sheet.append(list(COLUMNS))
    for values in _rows(entries):
        cells = []
        for raw in values:
            value = ILLEGAL_CHARACTERS_RE.sub("", raw) if isinstance(raw, str) else raw
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str) and value.startswith("="):
                cell.data_type = "s"  # text, never a formula
            cells.append(cell)
        sheet.append(cells)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
