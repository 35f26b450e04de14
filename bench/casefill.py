"""Bulk filler of open cases, honest to the real schema (for benchmarks; never for a real deployment).

:func:`fill` writes ``n`` open cases received in one district (at its service centre's windows, its
township centres and its community stations, in the proportions of the seeded catalogue's accepting
levels) plus ``others`` in other districts, with their flow steps (``cases_casestep``: done before
the current stage, active at it, pending after) and their lines (``cases_casedepartment``), in big
batches through the driver (``executemany`` on SQLite, ``COPY`` on PostgreSQL). The rows are what the
services would have left:

- matter, flow version and kind from the seeded catalogue (immediate matters rare among open cases:
  they are finished on the spot); entry stage from :func:`sanji.catalog.flows.entry_order`;
- states spread over the open states (received, correction requested, submitted online, handling,
  reported up, suspended, approved/denied, delivered) with the current step consistent with the state;
- current unit and department where :mod:`sanji.cases.services` would put them (windows for
  receive/accept/deliver, the department office for review and decision, the next level's place
  after a report up);
- deadlines computed with the real working-day calendar (:mod:`sanji.calendar.workdays`, cached per
  start day and limit): acceptance, promised, legal, step due and remaining working days at today;
  receipt days spread so that a realistic share is due soon or overdue;
- case numbers ``<region code>-<YYYYMMDD>-<NNNN>`` with the per-day counters (``CaseSequence``) moved
  past them, so real services keep numbering after a fill;
- applicant IDs valid (GB 11643), encrypted and blind-indexed with the platform's keys, drawn from a
  pool of ``applicants`` people (people apply more than once); query codes likewise from a pool.

Not written: case events, audit entries and attachments (``events`` of the case pages stay empty; the
worklists and the selectors read none of them). Requires the reference data (regions, organisation,
calendar, catalogue) to be seeded first.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any

OPEN_STATE_WEIGHTS: tuple[tuple[str, float], ...] = (
    ("received", 0.10),
    ("correction_requested", 0.03),
    ("submitted", 0.03),
    ("handling", 0.58),
    ("reported_up", 0.06),
    ("suspended", 0.02),
    ("approved", 0.08),
    ("denied", 0.01),
    ("delivered", 0.09),
)
WINDOW_CODES = frozenset({"receive", "accept", "deliver"})
LEVEL_DEPTH = {"city": 0, "district": 1, "township": 2, "community": 3}
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


@dataclass(frozen=True, slots=True)
class FillSummary:
    cases: int
    steps: int
    lines: int
    by_state: dict[str, int]
    by_level: dict[str, int]
    seconds: float
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Step:
    id: int
    order: int
    code: str
    level: str
    limit_days: int
    department_kind: str | None
    report_up: bool


@dataclass(frozen=True, slots=True)
class _Matter:
    id: int
    code: str
    name: str
    version_id: int
    kind: str
    department_kind: str
    accepting_levels: tuple[str, ...]
    promised: int
    legal: int
    steps: tuple[_Step, ...]


def _path_codes(path: str) -> list[str]:
    return [c for c in path.split("/") if c]


def _path_at(path: str, level: str) -> str:
    return "".join(f"{c}/" for c in _path_codes(path)[: LEVEL_DEPTH[level] + 1])


def citizen_id(rng: random.Random, area: str = "150105") -> str:
    """A valid 18-digit citizen ID (ISO 7064 MOD 11-2), born 1984-2004 (150105 is valid from 1984)."""
    born = f"{rng.randint(1984, 2004)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    body = f"{area}{born}{rng.randint(0, 999):03d}"
    total = sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True))
    return body + "10X98765432"[total % 11]


class _World:
    """The seeded reference data the filler needs, loaded once."""

    def __init__(self, district_code: str) -> None:
        from sanji.calendar.selectors import work_calendar
        from sanji.catalog.models import FlowStep, Matter
        from sanji.orgs.models import Department, Region, Unit

        self.calendar = work_calendar()
        district = Region.objects.get(code=district_code)
        self.district_path = district.path
        self.city_path = _path_at(district.path, "city")
        self.matters: list[_Matter] = []
        for matter in Matter.objects.filter(active=True, current_version__isnull=False).select_related(
            "current_version"
        ):
            version = matter.current_version
            assert version is not None
            steps = tuple(
                _Step(s.pk, s.order, s.code, s.level, s.limit_days, s.department_kind, s.report_up)
                for s in FlowStep.objects.filter(flow_version=version).order_by("order", "id")
            )
            self.matters.append(
                _Matter(
                    matter.pk,
                    matter.code,
                    matter.name,
                    version.pk,
                    version.kind,
                    version.department_kind,
                    tuple(version.accepting_levels),
                    version.promised_limit_days,
                    version.legal_limit_days,
                    steps,
                )
            )
        # Departments by (region path, kind); units by (region path, kind[, department kind]).
        self.departments: dict[tuple[str, str], int] = {
            (d.region_path, d.kind): d.pk for d in Department.objects.all()
        }
        self.windows: dict[tuple[str, str], int] = {}
        self.offices: dict[tuple[str, str], int] = {}
        self.centres: dict[str, int] = {}
        self.stations: dict[str, int] = {}
        for unit in Unit.objects.filter(active=True).select_related("department").order_by("code"):
            kind = unit.department.kind if unit.department is not None else ""
            if unit.kind == "window":
                self.windows.setdefault((unit.region_path, kind), unit.pk)
            elif unit.kind == "department_office":
                self.offices.setdefault((unit.region_path, kind), unit.pk)
            elif unit.kind in ("service_centre", "township_centre"):
                self.centres.setdefault(unit.region_path, unit.pk)
            elif unit.kind == "community_station":
                self.stations.setdefault(unit.region_path, unit.pk)
        self.townships = sorted(Region.objects.filter(level="township").values_list("path", flat=True))
        self.communities = sorted(p for p in self.stations if len(_path_codes(p)) == 4)
        self._below: dict[tuple[str, str], list[str]] = {}

    def below(self, district_path: str, level: str) -> list[str]:
        """Township or community region paths under a district (cached)."""
        key = (district_path, level)
        if key not in self._below:
            pool = self.townships if level == "township" else self.communities
            self._below[key] = [p for p in pool if p.startswith(district_path)]
        return self._below[key]

    def department_for(self, kind: str, region_path: str, level: str) -> int | None:
        """Nearest department of line ``kind`` at or above ``level`` on ``region_path`` (as the services)."""
        codes = _path_codes(region_path)[: LEVEL_DEPTH[level] + 1]
        for depth in range(len(codes), 0, -1):
            found = self.departments.get(("".join(f"{c}/" for c in codes[:depth]), kind))
            if found is not None:
                return found
        return None

    def window_at(self, region_path: str, level: str, kind: str, accepting: tuple[str, int]) -> int:
        """Where applications and results are handled at ``level`` (the services' ``_window_at``)."""
        accepting_path, accepting_unit = accepting
        if len(_path_codes(accepting_path)) - 1 == LEVEL_DEPTH[level]:
            return accepting_unit
        place = _path_at(region_path, level)
        return (
            self.windows.get((place, kind))
            or self.centres.get(place)
            or self.stations.get(place)
            or accepting_unit
        )

    def office_at(self, region_path: str, level: str, kind: str, accepting: tuple[str, int]) -> int:
        place = _path_at(region_path, level)
        office = self.offices.get((place, kind))
        return office if office is not None else self.window_at(region_path, level, kind, accepting)


@cache
def _entry(matter: _Matter, level: str | None) -> int | None:
    from sanji.catalog.flows import StepSpec, entry_order

    specs = [StepSpec(s.order, s.code, s.code, s.level, "window_clerk", s.limit_days) for s in matter.steps]
    return entry_order(specs, level)


class _Clock:
    """Deadline arithmetic over the real calendar, cached (a few thousand distinct inputs)."""

    def __init__(self, world: _World, today: dt.date) -> None:
        from sanji.calendar.workdays import CalendarNotConfigured, deadline, remaining_workdays

        self.cal = world.calendar
        self.today = today
        self._deadline = deadline
        self._remaining = remaining_workdays
        self._missing = CalendarNotConfigured
        self.due = lru_cache(maxsize=None)(self._due)
        self.remaining = lru_cache(maxsize=None)(self._left)

    def _due(self, start: dt.datetime, n: int) -> dt.datetime | None:
        try:
            return self._deadline(self.cal, start, n)
        except self._missing:
            return None

    def _left(self, due: dt.date) -> int | None:
        try:
            return self._remaining(self.cal, self.today, due)
        except self._missing:
            return None


def _weighted(rng: random.Random, pairs: Sequence[tuple[Any, float]]) -> Any:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def _receipt_instant(rng: random.Random, today_start: dt.datetime) -> dt.datetime:
    """Receipt time: most open cases are recent, a tail is months old (those are the overdue ones)."""
    days = rng.expovariate(1 / 9.0) if rng.random() < 0.88 else rng.uniform(20, 180)
    days = min(days, 180.0)
    # Office hours, Beijing time (UTC+8): 08:30-17:30 local is 00:30-09:30 UTC.
    day = today_start - dt.timedelta(days=int(days))
    return day + dt.timedelta(minutes=30 + rng.randint(0, 540), seconds=rng.randint(0, 59))


class _Ids:
    def __init__(self, first_case: int, first_step: int, first_line: int) -> None:
        self.case, self.step, self.line = first_case, first_step, first_line


def _case_rows(
    world: _World,
    clock: _Clock,
    rng: random.Random,
    ids: _Ids,
    count: int,
    region_paths: list[tuple[str, float]],
    matters: list[tuple[_Matter, float]],
    pools: dict[str, list[Any]],
    sequences: Counter[tuple[str, dt.date]],
    stats: dict[str, Counter[str]],
) -> tuple[list[dict[str, Any]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """``count`` cases (as column dicts), their steps and their lines."""
    from sanji.core.clock import CITY_TZ

    cases: list[dict[str, Any]] = []
    steps_out: list[tuple[Any, ...]] = []
    lines_out: list[tuple[Any, ...]] = []
    today_start = dt.datetime.combine(clock.today, dt.time(0), tzinfo=dt.UTC)
    while len(cases) < count:
        matter = _weighted(rng, matters)
        district_path = _weighted(rng, region_paths)
        levels = [lv for lv in matter.accepting_levels if LEVEL_DEPTH[lv] >= 1]
        if not levels:
            continue
        level = rng.choice(levels)
        if level == "district":
            region_path = district_path
        elif level == "township":
            region_path = rng.choice(world.below(district_path, "township") or [district_path])
        else:
            options = world.below(district_path, "community")
            if not options:
                continue
            region_path = rng.choice(options)
        kind = matter.department_kind
        if level == "district":
            accepting_unit = world.windows.get((region_path, kind)) or world.centres.get(region_path)
        elif level == "township":
            accepting_unit = world.centres.get(region_path)
        else:
            accepting_unit = world.stations.get(region_path)
        entry = _entry(matter, level)
        if accepting_unit is None or entry is None:
            continue
        accepting = (region_path, accepting_unit)
        flow = [s for s in matter.steps if s.order >= entry]
        orders = sorted({s.order for s in flow})
        accept_order = next((s.order for s in flow if s.code == "accept"), orders[0])
        deliver_order = next((s.order for s in flow if s.code == "deliver"), orders[-1])
        decide_order = max((s.order for s in flow if s.code == "decide"), default=deliver_order)

        state = _weighted(rng, OPEN_STATE_WEIGHTS)
        online = state == "submitted"
        if state == "reported_up" and not any(s.report_up for s in flow):
            state = "handling"
        # The current stage, consistent with the state.
        if state in ("received", "correction_requested", "submitted"):
            current = entry if not online else accept_order
        elif state in ("handling", "suspended"):
            middle = [o for o in orders if accept_order < o <= decide_order]
            current = rng.choice(middle) if middle else decide_order
        elif state == "reported_up":
            ups = [s.order for s in flow if s.report_up]
            up = rng.choice(ups)
            later = [o for o in orders if o > up]
            current = later[0] if later else up
        else:  # approved, denied, delivered: at the delivery stage
            current = deliver_order
        stage = [s for s in flow if s.order == current]
        head = stage[0]
        accepted = state not in ("received", "correction_requested", "submitted") and not (
            state == "reported_up" and current <= accept_order
        )
        decided = state in ("approved", "denied", "delivered")

        received_at = _receipt_instant(rng, today_start)
        accepted_at = received_at + dt.timedelta(hours=rng.randint(0, 48)) if accepted else None
        decided_at = None
        if decided and accepted_at is not None:
            decided_at = accepted_at + dt.timedelta(days=rng.randint(0, max(1, matter.promised)))
            decided_at = min(decided_at, today_start + dt.timedelta(hours=9))
            decided_at = max(decided_at, accepted_at)
        step_started = decided_at or accepted_at or received_at

        # Where the case is now (the services' _place_of_stage / report_up).
        if head.code in WINDOW_CODES:
            current_unit = world.window_at(region_path, head.level, kind, accepting)
        else:
            current_unit = world.office_at(region_path, head.level, kind, accepting)
        department_kind = head.department_kind if len(stage) == 1 and head.department_kind else kind
        current_department = world.department_for(department_kind, region_path, head.level)

        # Deadlines (the real calendar, as deadlines.compute does without pauses).
        acceptance_due = clock.due(_day_start(received_at), 5)
        promised_due = legal_due = None
        if accepted_at is not None:
            legal_due = clock.due(
                _day_start(accepted_at), matter.legal or (45 if matter.kind == "joint" else 20)
            )
            promised_due = clock.due(_day_start(accepted_at), matter.promised)
        delivery_due = clock.due(_day_start(decided_at), 10) if decided_at is not None else None
        step_due = clock.due(_day_start(step_started), max(s.limit_days for s in stage))
        target = delivery_due if decided_at is not None else promised_due if accepted else acceptance_due
        remaining = clock.remaining(target.astimezone(CITY_TZ).date()) if target is not None else None

        case_id = ids.case
        ids.case += 1
        region_code = _path_codes(region_path)[-1]
        day = received_at.astimezone(CITY_TZ).date()
        sequences[(region_code, day)] += 1
        applicant = rng.choice(pools["applicants"])
        events = 1 + sum(1 for o in orders if o < current) + (1 if state != "received" else 0)
        cases.append(
            {
                "id": case_id,
                "number": f"{region_code}-{day:%Y%m%d}-{sequences[(region_code, day)]:04d}",
                "query_code_hash": rng.choice(pools["query_codes"]),
                "matter_id": matter.id,
                "flow_version_id": matter.version_id,
                "matter_kind": matter.kind,
                "applicant_id": None,
                "applicant_name": applicant[0],
                "applicant_id_encrypted": applicant[1],
                "applicant_id_index": applicant[2],
                "applicant_id_masked": applicant[3],
                "applicant_phone": applicant[4],
                "title": matter.name,
                "form_data": {},
                "channel": "online" if online else "community" if level == "community" else "window",
                "state": state,
                "accepting_unit_id": accepting_unit,
                "current_unit_id": current_unit,
                "current_department_id": current_department,
                "department_kind": kind,
                "region_path": region_path,
                "current_step_order": current,
                "created_at": received_at,
                "received_at": received_at,
                "accepted_at": accepted_at,
                "deemed_accepted": False,
                "decided_at": decided_at,
                "completed_at": None,
                "acceptance_due": acceptance_due,
                "promised_due": promised_due,
                "legal_due": legal_due,
                "step_due": delivery_due if decided_at is not None else step_due,
                "remaining_days": remaining,
                "calendar_problem": "",
                "extension_days": 0,
                "corrections_count": 1 if state == "correction_requested" else 0,
                "second_correction_allowed": False,
                "fee_charged": None,
                "certificate_no": "",
                "delivery_method": "",
                "version": events,
            }
        )
        kinds = {kind}
        for s in flow:
            step_kind = s.department_kind or kind
            kinds.add(step_kind)
            if s.order < current or (s.order == current and state == "delivered"):
                step_state = "done"
            elif s.order == current:
                # Reported up: the next level's stage waits for take_over.
                step_state = "pending" if state == "reported_up" else "active"
            else:
                step_state = "pending"
            touched = step_state != "pending"
            place = (
                world.window_at(region_path, s.level, kind, accepting)
                if s.code in WINDOW_CODES
                else world.office_at(region_path, s.level, step_kind, accepting)
            )
            steps_out.append(
                (
                    ids.step,
                    case_id,
                    s.order,
                    s.id,
                    world.department_for(step_kind, region_path, s.level),
                    place if touched else None,
                    step_state,
                    step_started if step_state == "active" else received_at if touched else None,
                    step_started if step_state == "done" else None,
                    step_due if step_state == "active" else None,
                    "同意" if step_state == "done" else "",
                    "bench-filler" if step_state == "done" else "",
                    None,
                )
            )
            ids.step += 1
        for line in sorted(kinds):
            lines_out.append((ids.line, case_id, line))
            ids.line += 1
        stats["state"][state] += 1
        stats["level"][level] += 1
    return cases, steps_out, lines_out


def _day_start(instant: dt.datetime) -> dt.datetime:
    """Deadlines depend only on the local day of the start: one cache entry per day."""
    from sanji.core.clock import CITY_TZ

    local = instant.astimezone(CITY_TZ)
    return dt.datetime.combine(local.date(), dt.time(12), tzinfo=CITY_TZ)


def _pools(rng: random.Random, applicants: int) -> dict[str, list[Any]]:
    from sanji.cases.services import (
        ApplicantId,
        applicant_index,
        new_query_code,
        query_code_hash,
    )
    from sanji.core import crypto

    surnames = "王李张刘陈杨赵黄周吴徐孙马胡朱郭何罗高林"
    given = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"
    people = []
    for _ in range(applicants):
        number = citizen_id(rng)
        ident = ApplicantId(number, "ric")
        name = rng.choice(surnames) + "".join(rng.choice(given) for _ in range(rng.randint(1, 2)))
        phone = f"1{rng.choice('3578')}{rng.randint(0, 999999999):09d}"
        people.append((name, crypto.encrypt(number), applicant_index(number), ident.masked, phone))
    codes = [query_code_hash(new_query_code()) for _ in range(2000)]
    return {"applicants": people, "query_codes": codes}


_CASE_COLUMNS: list[str] = []


def _columns() -> list[str]:
    from sanji.cases.models import Case

    if not _CASE_COLUMNS:
        _CASE_COLUMNS.extend(f.column for f in Case._meta.concrete_fields)
    return _CASE_COLUMNS


STEP_COLUMNS = (
    "id",
    "case_id",
    "order",
    "flow_step_id",
    "department_id",
    "unit_id",
    "state",
    "started_at",
    "finished_at",
    "due",
    "opinion",
    "handled_by",
    "handled_by_id",
)
LINE_COLUMNS = ("id", "case_id", "department_kind")


def _write(raw: Any, vendor: str, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    quoted = ", ".join(f'"{c}"' for c in columns)
    if vendor == "postgresql":
        with raw.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        marks = ", ".join("?" * len(columns))
        raw.executemany(f"INSERT INTO {table} ({quoted}) VALUES ({marks})", rows)


def _adapt(vendor: str, value: Any) -> Any:
    if vendor == "sqlite" and isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ")
    if isinstance(value, dict):
        return json.dumps(value)
    return value


def _next_id(cursor: Any, table: str) -> int:
    cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}")
    return int(cursor.fetchone()[0])


def fill(
    *,
    district_code: str = "150105",
    n: int = 1_000_000,
    others: int = 50_000,
    other_districts: Sequence[str] = ("150102", "150104", "150103"),
    seed: int = 20260303,
    batch: int = 50_000,
    applicants: int = 5_000,
    today: dt.date | None = None,
    analyze: bool = True,
) -> FillSummary:
    """Write ``n`` open cases in ``district_code`` and ``others`` spread over ``other_districts``."""
    import time

    from django.db import connection, transaction

    from sanji.cases.models import Case, CaseDepartment, CaseSequence, CaseStep
    from sanji.core import clock as core_clock
    from sanji.orgs.models import Region

    started = time.perf_counter()
    rng = random.Random(seed)
    world = _World(district_code)
    clock = _Clock(world, today or core_clock.today())
    weights = {"immediate": 0.1, "promised": 1.0, "joint": 0.6, "reported": 1.0}
    matters = [
        (m, weights.get(m.kind, 1.0))
        for m in world.matters
        if any(LEVEL_DEPTH[lv] >= 1 for lv in m.accepting_levels)
    ]
    pools = _pools(rng, applicants)
    others_paths = list(Region.objects.filter(code__in=other_districts).values_list("path", flat=True))
    vendor = connection.vendor
    case_table = Case._meta.db_table
    columns = _columns()
    sequences: Counter[tuple[str, dt.date]] = Counter()
    stats: dict[str, Counter[str]] = {"state": Counter(), "level": Counter()}
    totals = Counter[str]()
    plan: list[tuple[int, list[tuple[str, float]]]] = []
    left = n
    while left > 0:
        plan.append((min(batch, left), [(world.district_path, 1.0)]))
        left -= batch
    left = others
    while left > 0 and others_paths:
        plan.append((min(batch, left), [(p, 1.0) for p in others_paths]))
        left -= batch

    with transaction.atomic(), connection.cursor() as cursor:
        raw = cursor.cursor  # the driver's cursor: no per-row Django adaptation
        ids = _Ids(
            _next_id(cursor, case_table),
            _next_id(cursor, CaseStep._meta.db_table),
            _next_id(cursor, CaseDepartment._meta.db_table),
        )
        # Existing counters: continue after them (a fill on top of real cases).
        for code, day, last in CaseSequence.objects.values_list("region_code", "day", "last"):
            sequences[(code, day)] = last
        for size, paths in plan:
            cases, steps, lines = _case_rows(
                world, clock, rng, ids, size, paths, matters, pools, sequences, stats
            )
            rows = [tuple(_adapt(vendor, c[col]) for col in columns) for c in cases]
            _write(raw, vendor, case_table, columns, rows)
            _write(
                raw,
                vendor,
                CaseStep._meta.db_table,
                STEP_COLUMNS,
                [tuple(_adapt(vendor, v) for v in s) for s in steps],
            )
            _write(raw, vendor, CaseDepartment._meta.db_table, LINE_COLUMNS, lines)
            totals["cases"] += len(cases)
            totals["steps"] += len(steps)
            totals["lines"] += len(lines)
        if vendor == "postgresql":
            for table in (case_table, CaseStep._meta.db_table, CaseDepartment._meta.db_table):
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"
                )
        _save_sequences(sequences)
    if analyze:
        with connection.cursor() as cursor:
            if vendor == "postgresql":
                for table in (case_table, CaseStep._meta.db_table, CaseDepartment._meta.db_table):
                    cursor.execute(f"VACUUM ANALYZE {table}")
            else:
                cursor.execute("ANALYZE")
    return FillSummary(
        cases=totals["cases"],
        steps=totals["steps"],
        lines=totals["lines"],
        by_state=dict(stats["state"]),
        by_level=dict(stats["level"]),
        seconds=round(time.perf_counter() - started, 1),
    )


def _save_sequences(sequences: Counter[tuple[str, dt.date]]) -> None:
    from sanji.cases.models import CaseSequence

    existing = {(r.region_code, r.day): r for r in CaseSequence.objects.all()}
    new = []
    changed = []
    for (code, day), last in sequences.items():
        row = existing.get((code, day))
        if row is None:
            new.append(CaseSequence(region_code=code, day=day, last=last))
        elif row.last < last:
            row.last = last
            changed.append(row)
    CaseSequence.objects.bulk_create(new, batch_size=5000)
    CaseSequence.objects.bulk_update(changed, ["last"], batch_size=5000)
