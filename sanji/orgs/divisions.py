"""Division-code files (区划代码): decoding, parsing and the row rules that need no database.

A division file is CSV with the header ``code,name,level,parent_code`` (see ``data/SOURCE.md``).
Code length follows the level: city and district/county/banner 6 digits, township/sub-district 9,
community/village 12; a child's code begins with its parent's prefix (a district shares the city's
first four digits, a township begins with its district's six, a community with its township's nine).

The rules that need the database (a parent that exists only there, a code already stored with
another level or parent) are checked by :func:`sanji.orgs.services.region_import_csv`.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sanji.orgs.models import RegionLevel

#: The Hohhot file shipped with the project (NBS 2023 statistical division codes).
SHIPPED_DIVISIONS_CSV = Path(__file__).resolve().parent / "data" / "hohhot-divisions.csv"

HEADER = ("code", "name", "level", "parent_code")

CODE_LENGTH: dict[str, int] = {
    RegionLevel.CITY: 6,
    RegionLevel.DISTRICT: 6,
    RegionLevel.TOWNSHIP: 9,
    RegionLevel.COMMUNITY: 12,
}

#: The level a parent must have, per child level.
PARENT_LEVEL: dict[str, str] = {
    RegionLevel.DISTRICT: RegionLevel.CITY,
    RegionLevel.TOWNSHIP: RegionLevel.DISTRICT,
    RegionLevel.COMMUNITY: RegionLevel.TOWNSHIP,
}

#: How many leading digits a child shares with its parent, per child level.
PARENT_PREFIX: dict[str, int] = {
    RegionLevel.DISTRICT: 4,
    RegionLevel.TOWNSHIP: 6,
    RegionLevel.COMMUNITY: 9,
}

#: Import order: parents before children.
LEVEL_ORDER: tuple[str, ...] = (
    RegionLevel.CITY,
    RegionLevel.DISTRICT,
    RegionLevel.TOWNSHIP,
    RegionLevel.COMMUNITY,
)

MAX_NAME_LENGTH = 100


@dataclass(frozen=True, slots=True)
class DivisionRow:
    line: int
    code: str
    name: str
    level: str
    parent_code: str


def row_error(line: int, field: str, reason: str) -> dict[str, Any]:
    return {"line": line, "field": field, "reason": reason}


def decode(data: bytes) -> str:
    """Bytes of a division file to text: UTF-8 (with or without BOM), else GB18030.

    GB18030 is what Excel on a Chinese Windows desktop saves as "CSV"; it is a superset of GBK and
    GB2312, so one fallback covers all three.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("gb18030")


@dataclass(frozen=True, slots=True)
class ParsedFile:
    rows: list[DivisionRow]  # the rows that passed every check of their own
    errors: list[dict[str, Any]]
    codes: frozenset[str]  # every code written in the file, good rows or bad


def parse(text: str) -> ParsedFile:
    """Parse and check every row on its own. Returns the good rows and *all* errors found.

    Line numbers count the header as line 1. Blank lines are skipped. Checks here: the header,
    the column count, code digits and length for the level, the level, an empty name, a parent
    code's presence and prefix, duplicate codes within the file.
    """
    text = text.removeprefix("\ufeff")
    errors: list[dict[str, Any]] = []
    rows: list[DivisionRow] = []
    reader = csv.reader(io.StringIO(text))
    header: list[str] | None = None
    for raw in reader:
        if any(cell.strip() for cell in raw):
            header = [cell.strip().removeprefix("\ufeff").lower() for cell in raw]
            break
    if header is None:
        return ParsedFile([], [row_error(1, "header", "the file is empty")], frozenset())
    if tuple(header) != HEADER:
        got = ",".join(header)
        error = row_error(reader.line_num, "header", f"expected columns {','.join(HEADER)}, got {got}")
        return ParsedFile([], [error], frozenset())

    first_line: dict[str, int] = {}
    for raw in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in raw):
            continue
        if len(raw) != len(HEADER):
            errors.append(row_error(line, "row", f"expected {len(HEADER)} columns, got {len(raw)}"))
            continue
        code, name, level, parent_code = (cell.strip() for cell in raw)
        row_ok = True
        if level not in CODE_LENGTH:
            errors.append(
                row_error(line, "level", f"unknown level {level!r} (city, district, township, community)")
            )
            row_ok = False
        if not code.isascii() or not code.isdigit():
            errors.append(row_error(line, "code", f"code {code!r} is not all digits"))
            row_ok = False
        elif level in CODE_LENGTH and len(code) != CODE_LENGTH[level]:
            errors.append(
                row_error(
                    line, "code", f"a {level} code has {CODE_LENGTH[level]} digits, {code!r} has {len(code)}"
                )
            )
            row_ok = False
        if not name:
            errors.append(row_error(line, "name", "the name is empty"))
            row_ok = False
        elif len(name) > MAX_NAME_LENGTH:
            errors.append(row_error(line, "name", f"the name is longer than {MAX_NAME_LENGTH} characters"))
            row_ok = False
        if level == RegionLevel.CITY:
            if parent_code:
                errors.append(row_error(line, "parent_code", "a city has no parent"))
                row_ok = False
        elif level in PARENT_LEVEL:
            if not parent_code:
                errors.append(row_error(line, "parent_code", f"a {level} needs a parent code"))
                row_ok = False
            elif code.isdigit() and not code.startswith(parent_code[: PARENT_PREFIX[level]]):
                errors.append(
                    row_error(
                        line, "parent_code", f"code {code} does not begin with its parent's {parent_code}"
                    )
                )
                row_ok = False
        if code in first_line:
            errors.append(
                row_error(line, "code", f"duplicate code {code} (first on line {first_line[code]})")
            )
            continue
        if code:
            first_line[code] = line
        if row_ok:
            rows.append(DivisionRow(line=line, code=code, name=name, level=level, parent_code=parent_code))
    return ParsedFile(rows, errors, frozenset(first_line))
