"""Writes to the working-day calendar. A year is always replaced whole, in one transaction, audited."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import chinese_calendar
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from sanji.audit import services as audit_services
from sanji.calendar import policies, selectors
from sanji.calendar.models import NAME_MAX_LENGTH, CalendarDay, CalendarSource, CalendarYear, DayKind
from sanji.core import clock
from sanji.core.actors import Actor
from sanji.core.authz import require
from sanji.core.errors import Conflict, ValidationFailed

# Outside this range a year is a typo, not a notice (the earliest notice in chinesecalendar is 2004).
MIN_YEAR = 2000
MAX_YEAR = 2100
_SATURDAY = 5

CHINESECALENDAR_NOTICE = "chinesecalendar {version}: 国务院办公厅关于{year}年部分节假日安排的通知"


@dataclass(frozen=True, slots=True)
class _Entry:
    """One holiday or make-up working day as given, with where it was given (for error reports)."""

    date: dt.date
    kind: str
    name: str
    where: dict[str, Any]


@dataclass(frozen=True, slots=True)
class SeedResult:
    created: tuple[int, ...]
    updated: tuple[int, ...]
    unchanged: tuple[int, ...]
    # Years an administrator entered or imported: the package never overwrites a deliberate edit.
    kept: tuple[int, ...]


def _entry_problems(year: int, entries: Sequence[_Entry]) -> list[dict[str, Any]]:
    """What is wrong with ``entries`` as the exceptions of ``year`` (empty list: nothing)."""
    problems: list[dict[str, Any]] = []
    seen: dict[dt.date, str] = {}
    for entry in entries:
        day = entry.date.isoformat()
        found: list[tuple[str, str]] = []
        if entry.date.year != year:
            found.append(("date", f"{day} is not in {year}"))
        if entry.kind == DayKind.WORKDAY and entry.date.weekday() < _SATURDAY:
            found.append(("date", f"{day} is a weekday; a make-up working day is a weekend day"))
        if len(entry.name) > NAME_MAX_LENGTH:
            found.append(("name", f"longer than {NAME_MAX_LENGTH} characters"))
        earlier_kind = seen.get(entry.date)
        if earlier_kind is None:
            seen[entry.date] = entry.kind
        elif earlier_kind != entry.kind:
            found.append(("date", f"{day} is both a holiday and a make-up working day"))
        else:
            found.append(("date", f"{day} is listed twice"))
        problems.extend({**entry.where, "field": field, "reason": reason} for field, reason in found)
    return problems


def _replace_year(
    *,
    actor: Actor,
    year: int,
    entries: Iterable[_Entry],
    notice: str,
    source: str,
) -> CalendarYear:
    """Write one validated year over whatever was there. Caller holds the transaction."""
    now = clock.now()
    row = CalendarYear.objects.select_for_update().filter(year=year).first()
    created = row is None
    if row is None:
        row = CalendarYear(year=year, created_at=now)
    row.source = source
    row.notice = notice
    row.updated_at = now
    row.revision = uuid.uuid4()
    row.save()
    selectors.calendar_written()
    row.days.all().delete()
    days = CalendarDay.objects.bulk_create(
        CalendarDay(calendar_year=row, date=e.date, kind=e.kind, name=e.name)
        for e in sorted(entries, key=lambda e: e.date)
    )
    audit_services.record(
        actor=actor,
        action="calendar.year_set",
        target=row,
        data={
            "year": year,
            "source": source,
            "created": created,
            "holidays": sum(1 for d in days if d.kind == DayKind.HOLIDAY),
            "workdays": sum(1 for d in days if d.kind == DayKind.WORKDAY),
            "notice": notice[:200],
        },
    )
    return row


@contextlib.contextmanager
def _writing() -> Iterator[None]:
    """One transaction; two administrators creating the same year at once get a Conflict, not a 500."""
    try:
        with transaction.atomic():
            yield
    except IntegrityError:
        raise Conflict(_("工作日历正被同时修改，请重试。")) from None


def _problems_in_year(year: int, problems: Sequence[object]) -> str:
    return _("%(year)s 年的工作日历有错误（%(n)d 处），未保存。") % {"year": year, "n": len(problems)}


def _check_year(year: int) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValidationFailed(
            _("年份 %(year)s 超出范围（%(min)s–%(max)s）。")
            % {"year": year, "min": MIN_YEAR, "max": MAX_YEAR},
            details=[{"field": "year", "reason": f"must be between {MIN_YEAR} and {MAX_YEAR}"}],
        )


def calendar_year_set(
    *,
    actor: Actor,
    year: int,
    holidays: Sequence[tuple[dt.date, str]],
    workdays: Sequence[tuple[dt.date, str]],
    notice: str,
) -> CalendarYear:
    """Add or replace one year from the State Council's notice; all or nothing.

    ``holidays`` are the days off (weekend days inside a holiday block may be listed too);
    ``workdays`` are the weekend days worked instead (调休). Errors come back together in
    :class:`ValidationFailed` ``details`` as ``{"item": "holidays[3]", "field": "date", "reason": ...}``.
    """
    require(policies.can_edit(actor))
    _check_year(year)
    entries = [
        _Entry(date=day, kind=kind, name=name.strip(), where={"item": f"{label}[{index}]"})
        for label, kind, items in (
            ("holidays", DayKind.HOLIDAY, holidays),
            ("workdays", DayKind.WORKDAY, workdays),
        )
        for index, (day, name) in enumerate(items)
    ]
    problems = _entry_problems(year, entries)
    if problems:
        raise ValidationFailed(_problems_in_year(year, problems), details=problems)
    with _writing():
        return _replace_year(
            actor=actor, year=year, entries=entries, notice=notice.strip(), source=CalendarSource.ADMIN
        )


def _parse_csv(text: str) -> tuple[list[_Entry], list[dict[str, Any]]]:
    entries: list[_Entry] = []
    problems: list[dict[str, Any]] = []
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))  # Excel writes a BOM before UTF-8 CSV
    for row in reader:
        line = reader.line_num
        cells = [cell.strip() for cell in row]
        if not any(cells) or cells[0].startswith("#"):
            continue
        if line == 1 and cells[0].lower() == "date":
            continue  # header
        if len(cells) not in (2, 3):
            problems.append({"line": line, "field": "row", "reason": "expected columns date,kind,name"})
            continue
        raw_date, kind, name = cells[0], cells[1].lower(), (cells[2] if len(cells) == 3 else "")
        day: dt.date | None = None
        try:
            day = dt.date.fromisoformat(raw_date)
        except ValueError:
            problems.append(
                {"line": line, "field": "date", "reason": f"not a date (YYYY-MM-DD): {raw_date!r}"}
            )
        else:
            if not MIN_YEAR <= day.year <= MAX_YEAR:
                problems.append({"line": line, "field": "date", "reason": f"year {day.year} is out of range"})
                day = None
        if kind not in DayKind.values:
            problems.append(
                {"line": line, "field": "kind", "reason": f"must be holiday or workday: {kind!r}"}
            )
        elif day is not None:
            entries.append(_Entry(date=day, kind=kind, name=name, where={"line": line}))
    return entries, problems


def calendar_year_set_from_text(*, actor: Actor, year: int, text: str, notice: str) -> CalendarYear:
    """Add or replace ``year`` from lines ``YYYY-MM-DD,holiday|workday,name`` copied from the notice.

    The page's form for one year: every line must fall in ``year`` and the notice (文号 and title)
    must be named, so the audit trail says where the dates came from. If any line is wrong nothing is
    written, and :class:`ValidationFailed` lists every problem with its line number.
    """
    require(policies.can_edit(actor))
    _check_year(year)
    notice = notice.strip()
    entries, problems = _parse_csv(text)
    problems.extend(_entry_problems(year, entries))
    if not entries and not problems:
        problems.append({"line": 1, "field": "row", "reason": "no holidays or make-up working days given"})
    if not notice:
        problems.insert(0, {"line": 0, "field": "notice", "reason": "name the notice the dates come from"})
    if problems:
        problems.sort(key=lambda p: p["line"])
        raise ValidationFailed(_problems_in_year(year, problems), details=problems)
    with _writing():
        return _replace_year(
            actor=actor, year=year, entries=entries, notice=notice, source=CalendarSource.ADMIN
        )


def calendar_import_bytes(*, actor: Actor, data: bytes, notice: str = "") -> list[CalendarYear]:
    """:func:`calendar_import` of an uploaded file in UTF-8 (with or without BOM) or GB18030."""
    require(policies.can_edit(actor))
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return calendar_import(actor=actor, text=text, notice=notice)
    raise ValidationFailed(
        _("文件既不是 UTF-8 也不是 GB18030 编码的文本。"),
        details=[{"line": 1, "field": "file", "reason": "not UTF-8 or GB18030 text"}],
    )


def calendar_import(*, actor: Actor, text: str, notice: str = "") -> list[CalendarYear]:
    """Import ``date,kind,name`` rows (kind ``holiday`` or ``workday``; optional header row).

    Every year that appears in the file is replaced whole by the file's rows for it. If any row is
    wrong nothing is written, and :class:`ValidationFailed` lists every problem with its line number.
    """
    require(policies.can_edit(actor))
    notice = notice.strip()
    entries, problems = _parse_csv(text)
    by_year: dict[int, list[_Entry]] = {}
    for entry in entries:
        by_year.setdefault(entry.date.year, []).append(entry)
    for year, year_entries in by_year.items():
        problems.extend(_entry_problems(year, year_entries))
    if not problems and not by_year:
        problems.append({"line": 1, "field": "row", "reason": "the file holds no rows"})
    if problems:
        problems.sort(key=lambda p: p["line"])
        raise ValidationFailed(
            _("文件有错误（%(n)d 处），未导入任何内容。") % {"n": len(problems)},
            details=problems,
        )
    with _writing():
        return [
            _replace_year(
                actor=actor, year=year, entries=by_year[year], notice=notice, source=CalendarSource.IMPORT
            )
            for year in sorted(by_year)
        ]


def _package_years() -> list[int]:
    known = [d.year for d in (*chinese_calendar.holidays, *chinese_calendar.workdays)]
    return list(range(min(known), max(known) + 1))


def _package_entries(year: int) -> list[_Entry]:
    chinese = {h.value: h.chinese for h in chinese_calendar.Holiday}
    entries = []
    for table, kind in (
        (chinese_calendar.holidays, DayKind.HOLIDAY),
        (chinese_calendar.workdays, DayKind.WORKDAY),
    ):
        for day, english in table.items():
            if day.year == year:
                entries.append(_Entry(date=day, kind=kind, name=chinese.get(english, english), where={}))
    return entries


def calendar_seed_from_chinesecalendar(*, actor: Actor, years: Iterable[int] | None = None) -> SeedResult:
    """Copy the years the installed ``chinesecalendar`` package covers (default: all of them).

    Idempotent: a year already holding exactly the package's days is left untouched, and years an
    administrator entered or imported are kept as they are.
    """
    require(policies.can_seed(actor))
    covered = _package_years()
    wanted = covered if years is None else sorted(set(years))
    outside = [y for y in wanted if y not in covered]
    if outside:
        raise ValidationFailed(
            _("chinesecalendar %(version)s 只包含 %(first)s–%(last)s 年。")
            % {"version": chinese_calendar.__version__, "first": covered[0], "last": covered[-1]},
            details=[{"field": "years", "reason": f"{y} is not covered"} for y in outside],
        )
    created: list[int] = []
    updated: list[int] = []
    unchanged: list[int] = []
    kept: list[int] = []
    with _writing():
        existing = {row.year: row for row in CalendarYear.objects.select_for_update().filter(year__in=wanted)}
        current: dict[int, set[tuple[dt.date, str, str]]] = {}
        for year, day, kind, name in CalendarDay.objects.filter(calendar_year__year__in=wanted).values_list(
            "calendar_year__year", "date", "kind", "name"
        ):
            current.setdefault(year, set()).add((day, kind, name))
        for year in wanted:
            entries = _package_entries(year)
            problems = _entry_problems(year, entries)
            if problems:  # a defect in the package must not reach deadlines
                raise ValidationFailed(
                    _("chinesecalendar 中 %(year)s 年的数据自相矛盾。") % {"year": year}, details=problems
                )
            row = existing.get(year)
            if row is not None and row.source != CalendarSource.CHINESECALENDAR:
                kept.append(year)
                continue
            if row is not None and current.get(year, set()) == {(e.date, e.kind, e.name) for e in entries}:
                unchanged.append(year)
                continue
            notice = CHINESECALENDAR_NOTICE.format(version=chinese_calendar.__version__, year=year)
            _replace_year(
                actor=actor, year=year, entries=entries, notice=notice, source=CalendarSource.CHINESECALENDAR
            )
            (created if row is None else updated).append(year)
    return SeedResult(
        created=tuple(created), updated=tuple(updated), unchanged=tuple(unchanged), kept=tuple(kept)
    )
