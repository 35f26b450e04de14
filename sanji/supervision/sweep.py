"""The set-based SQL of the periodic sweep (no Python loop over cases).

Each time-based rule is one ``INSERT INTO mark ... SELECT ... FROM case WHERE <condition>
ON CONFLICT (case_id, rule, period) DO NOTHING`` statement: SQLite (≥ 3.24) and PostgreSQL run the
same text; the unique key makes a second run insert nothing. ``became_at`` comes from the case's own
deadline columns, so a sweep that was down for a day inserts the same rows, with the same instants,
as one that ran every minute.

The conditions read the deadlines the cases app derives from the event log. While the clock is
paused (补正 ``correction_requested``, 特别程序 ``suspended``) those deadlines move forward daily, so
no deadline rule fires in a paused state. The clock of a case stops at its decision; a case closed
without a decision (withdrawn, voided, refused) stops at its closing.

The warning rule needs "at most N working days remain", which depends on today's date: the caller
computes the one calendar date D such that ``due <= D`` ⇔ remaining ≤ N
(:func:`sanji.supervision.rules.warning_cutoff`), and for each due date in the warning window the
instant its warning became true (:func:`sanji.supervision.rules.warning_start`); the SQL compares.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from django.db import connection

from sanji.cases.models import Case, CaseEvent
from sanji.cases.transitions import FINAL_STATES, OPEN_STATES, State
from sanji.supervision.models import BoardCell, Mark, SupervisionOrder
from sanji.supervision.rules import RuleSetting
from sanji.supervision.transitions import MarkState

PAUSED: tuple[str, ...] = (State.CORRECTION_REQUESTED, State.SUSPENDED)
NOT_STARTED: tuple[str, ...] = (State.DRAFT, State.RETURNED)
#: Open states in which the clock runs.
RUNNING: tuple[str, ...] = tuple(sorted(OPEN_STATES - set(PAUSED)))
UNDECIDED_RUNNING: tuple[str, ...] = (State.SUBMITTED, State.RECEIVED, State.HANDLING, State.REPORTED_UP)
OPEN: tuple[str, ...] = tuple(sorted(OPEN_STATES))
CLOSED: tuple[str, ...] = tuple(sorted(FINAL_STATES))

MARK_COLUMNS = (
    "case_id, rule, period, severity, state, became_at, created_at, issued_at, unit_id, region_path, "
    "staff_id, staff_username, event_id, points, detail, explanation, appeal_reason, decision_note, "
    "decided_by, decided_at, version"
)


def _dt(value: dt.datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def _in(values: Sequence[str]) -> str:
    return "(" + ", ".join(["%s"] * len(values)) + ")"


#: SQLite page cache for the sweep's connection while it runs (KiB, as ``PRAGMA cache_size`` takes
#: negative values): the first sweep over a backlog inserts a million marks into a table with five
#: B-trees; with the default 2 MB cache each random index insert re-reads its page from the WAL.
SQLITE_SWEEP_CACHE_KIB = 512 * 1024


@contextmanager
def bulk_session() -> Iterator[None]:
    """Engine settings for the sweep's big statements, restored afterwards (SQLite: a bigger page
    cache, so the new marks' index pages stay in memory until the commit; the memory is given back
    when the sweep ends)."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        row = cursor.fetchone()
        before = int(row[0]) if row else -2000
        cursor.execute(f"PRAGMA cache_size = -{int(SQLITE_SWEEP_CACHE_KIB)}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(before)}")


#: The sweep's hits: every rule's matches of one run, before they become marks (one INSERT).
HITS = "supervision_sweep_hits"
HIT_COLUMNS = "case_id, rule, period, became_at, unit_id, region_path"


def hits_open() -> None:
    """A temporary table for this run's rule matches (no index: appended, then read once)."""
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {HITS}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {HITS} (case_id bigint NOT NULL, rule varchar(32) NOT NULL, "
            "period bigint NOT NULL, became_at timestamp with time zone NOT NULL, unit_id bigint NOT NULL, "
            "region_path varchar(80) NOT NULL)"
        )


def hits_close() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {HITS}")


def _collect(
    setting: RuleSetting,
    *,
    case_sql: str,
    period_sql: str,
    became_sql: str,
    unit_sql: str,
    region_sql: str,
    from_where: str,
    became_params: Sequence[Any] = (),
    where_params: Sequence[Any] = (),
) -> int:
    """Append one rule's matches to the hits table; answers how many matched (marked or not)."""
    # Table and column names and the condition are code; every value is a parameter.
    sql = (
        f"INSERT INTO {HITS} ({HIT_COLUMNS}) "
        f"SELECT {case_sql}, %s, {period_sql}, {became_sql}, {unit_sql}, {region_sql} {from_where}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [str(setting.code), *became_params, *where_params])
        return int(max(cursor.rowcount, 0))


def hits_to_marks(settings: dict[str, RuleSetting], now: dt.datetime) -> dict[str, int]:
    """Turn the hits that are not marks yet into marks; answers the marks created per rule.

    The hits that already are marks (the steady state: nearly all) are left out by one anti-join over
    the marks' unique key (case, rule, period), not by tripping over a conflict per row; the INSERT
    keeps ``ON CONFLICT DO NOTHING`` for a mark the per-event hook raises meanwhile (PostgreSQL;
    SQLite holds the write lock for the whole sweep). SQLite first deletes those hits from the
    temporary table and counts the rest; PostgreSQL inserts with the anti-join in the statement and
    counts the ``RETURNING`` rows (deleting a million temporary rows costs it seconds).

    Each rule's severity, state (issued at once or held for confirmation) and points are constants
    of the statement (a CASE per column over the few rules); ``detail`` stays empty for time rules
    (the case's deadlines and ``became_at`` say it all).
    """
    used = sorted(settings)
    if not used:
        return {}
    marks = Mark._meta.db_table
    absent = (
        f"NOT EXISTS (SELECT 1 FROM {marks} m WHERE m.case_id = h.case_id "  # noqa: S608
        "AND m.rule = h.rule AND m.period = h.period)"
    )

    def per_rule(values: dict[str, Any]) -> tuple[str, list[Any]]:
        whens = " ".join("WHEN %s THEN %s" for _ in used)
        params: list[Any] = []
        for code in used:
            params += [code, values[code]]
        return f"CASE h.rule {whens} END", params

    severity_sql, severity_params = per_rule({c: str(settings[c].severity) for c in used})
    state_sql, state_params = per_rule(
        {c: str(MarkState.ISSUED if settings[c].auto_issue else MarkState.HELD) for c in used}
    )
    issued_sql, issued_params = per_rule({c: _dt(now) if settings[c].auto_issue else None for c in used})
    points_sql, points_params = per_rule(
        {c: connection.ops.adapt_decimalfield_value(Decimal(settings[c].points), 6, 2) for c in used}
    )
    postgres = connection.vendor == "postgresql"
    if postgres:  # a CASE of untyped parameters would be text
        issued_sql = f"({issued_sql})::timestamptz"
        points_sql = f"({points_sql})::numeric"
    insert = (
        f"INSERT INTO {marks} ({MARK_COLUMNS}) "  # noqa: S608
        f"SELECT h.case_id, h.rule, h.period, {severity_sql}, {state_sql}, h.became_at, %s, {issued_sql}, "
        f"h.unit_id, h.region_path, NULL, '', NULL, {points_sql}, '{{}}', '', '', '', '', NULL, 1 "
        f"FROM {HITS} h WHERE {absent if postgres else 'h.case_id IS NOT NULL'} "
        "ON CONFLICT (case_id, rule, period) DO NOTHING"
    )
    params = [*severity_params, *state_params, _dt(now), *issued_params, *points_params]
    with connection.cursor() as cursor:
        if postgres:
            cursor.execute(f"ANALYZE {HITS}")  # a temporary table has no statistics until analysed
            cursor.execute(
                f"WITH created AS ({insert} RETURNING rule) "  # noqa: S608
                "SELECT rule, COUNT(*) FROM created GROUP BY rule",
                params,
            )
            return {str(rule): int(n) for rule, n in cursor.fetchall()}
        cursor.execute(
            f"DELETE FROM {HITS} WHERE EXISTS (SELECT 1 FROM {marks} m "  # noqa: S608
            f"WHERE m.case_id = {HITS}.case_id AND m.rule = {HITS}.rule AND m.period = {HITS}.period)"
        )
        cursor.execute(f"SELECT rule, COUNT(*) FROM {HITS} GROUP BY rule")  # noqa: S608
        fresh = {str(rule): int(n) for rule, n in cursor.fetchall()}
        cursor.execute(insert, params)
        if int(max(cursor.rowcount, 0)) != sum(fresh.values()):  # cannot happen under SQLite's lock
            raise RuntimeError("the sweep's marks changed under it")
        return fresh


#: The sweep's candidate rows: one scan of the case table per run instead of one per rule.
CANDIDATES = "supervision_sweep_candidates"
_source = {"table": ""}


def _cases() -> str:
    return _source["table"] or Case._meta.db_table


CANDIDATE_COLUMNS = (
    "id, state, current_unit_id, region_path, accepted_at, decided_at, completed_at, deemed_accepted, "
    "acceptance_due, promised_due, legal_due, step_due, current_step_order"
)


def candidates_open(now: dt.datetime, promised_until: dt.datetime) -> int:
    """Copy the cases any time rule could hit into a temporary table (one scan of the case table).

    A case is a candidate when its promised deadline is on or before the warning cut-off (warning,
    yellow; a legal deadline never precedes the promised one, so red too), its acceptance deadline or
    its current step's deadline has passed. The rules then read the (much narrower) candidates.
    """
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {CANDIDATES}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {CANDIDATES} AS SELECT {CANDIDATE_COLUMNS} "  # noqa: S608
            f"FROM {Case._meta.db_table} WHERE promised_due <= %s OR acceptance_due < %s OR step_due < %s",
            [_dt(max(now, promised_until)), _dt(now), _dt(now)],
        )
        cursor.execute(f"SELECT COUNT(*) FROM {CANDIDATES}")  # noqa: S608
        row = cursor.fetchone()
    _source["table"] = CANDIDATES
    return int(row[0]) if row else 0


def candidates_close() -> None:
    _source["table"] = ""
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {CANDIDATES}")


def deadline_passed(setting: RuleSetting, now: dt.datetime, column: str) -> int:
    """黄牌 (``promised_due``) / 红牌 (``legal_due``): the deadline passed before the case was decided."""
    where = (
        f"FROM {_cases()} c WHERE c.accepted_at IS NOT NULL AND c.{column} IS NOT NULL AND c.{column} < %s "
        f"AND c.state NOT IN {_in(PAUSED + NOT_STARTED)} "
        f"AND (c.decided_at > c.{column} OR (c.decided_at IS NULL AND "
        f"(c.state IN {_in(OPEN)} OR c.completed_at > c.{column})))"
    )
    return _collect(
        setting,
        case_sql="c.id",
        period_sql="0",
        became_sql=f"c.{column}",
        unit_sql="c.current_unit_id",
        region_sql="c.region_path",
        from_where=where,
        where_params=[_dt(now), *PAUSED, *NOT_STARTED, *OPEN],
    )


def acceptance_late(setting: RuleSetting, now: dt.datetime) -> int:
    """No acceptance decision (受理 / 不予受理 / 补正) within the acceptance deadline (Art. 32)."""
    where = (
        f"FROM {_cases()} c WHERE c.acceptance_due IS NOT NULL AND c.acceptance_due < %s "
        f"AND c.state NOT IN {_in((State.CORRECTION_REQUESTED, *NOT_STARTED))} "
        "AND (c.deemed_accepted = %s OR c.accepted_at > c.acceptance_due OR (c.accepted_at IS NULL AND "
        f"(c.state IN {_in(OPEN)} OR c.completed_at > c.acceptance_due)))"
    )
    return _collect(
        setting,
        case_sql="c.id",
        period_sql="0",
        became_sql="c.acceptance_due",
        unit_sql="c.current_unit_id",
        region_sql="c.region_path",
        from_where=where,
        where_params=[_dt(now), State.CORRECTION_REQUESTED, *NOT_STARTED, True, *OPEN],
    )


def step_overrun(setting: RuleSetting, now: dt.datetime) -> int:
    """The current step is past its own limit (``step_due``); the period is the step's order."""
    where = (
        f"FROM {_cases()} c WHERE c.step_due IS NOT NULL AND c.step_due < %s "
        f"AND c.current_step_order IS NOT NULL AND c.state IN {_in(RUNNING)}"
    )
    return _collect(
        setting,
        case_sql="c.id",
        period_sql="c.current_step_order",
        became_sql="c.step_due",
        unit_sql="c.current_unit_id",
        region_sql="c.region_path",
        from_where=where,
        where_params=[_dt(now), *RUNNING],
    )


def warnings(
    setting: RuleSetting, now: dt.datetime, starts: Sequence[tuple[dt.datetime, dt.datetime]]
) -> int:
    """预警: undecided running cases whose promised deadline is one of ``starts``' due instants.

    ``starts`` pairs each due instant in the warning window (every day from the look-back start to
    the cut-off date, at the end of day as the cases app stores deadlines) with the instant its
    warning became true. A case accepted inside the window warns from its acceptance.
    """
    if not starts:
        return 0
    mapping = " ".join("WHEN %s THEN %s" for _ in starts)
    mapping_params: list[Any] = []
    for due, start in starts:
        mapping_params += [_dt(due), _dt(start)]
    became = (
        f"CASE WHEN c.accepted_at > (CASE c.promised_due {mapping} END) THEN c.accepted_at "
        f"ELSE (CASE c.promised_due {mapping} END) END"
    )
    dues = [_dt(due) for due, _ in starts]
    where = (
        f"FROM {_cases()} c WHERE c.promised_due IN {_in(dues)} AND c.accepted_at IS NOT NULL "
        f"AND c.decided_at IS NULL AND c.state IN {_in(UNDECIDED_RUNNING)}"
    )
    return _collect(
        setting,
        case_sql="c.id",
        period_sql="0",
        became_sql=became,
        unit_sql="c.current_unit_id",
        region_sql="c.region_path",
        from_where=where,
        became_params=[*mapping_params, *mapping_params],
        where_params=[*dues, *UNDECIDED_RUNNING],
    )


def orders_overdue(setting: RuleSetting, now: dt.datetime) -> int:
    """督办 not answered by its deadline (still open, or answered late); the period is the order id."""
    table = SupervisionOrder._meta.db_table
    where = f"FROM {table} o WHERE o.due < %s AND (o.state = %s OR o.answered_at > o.due)"
    return _collect(
        setting,
        case_sql="o.case_id",
        period_sql="o.id",
        became_sql="o.due",
        unit_sql="o.unit_id",
        region_sql="o.region_path",
        from_where=where,
        where_params=[_dt(now), "open"],
    )


def open_special_procedures() -> list[tuple[int, int, int, str, dt.datetime, Any]]:
    """Suspended cases with their open 特别程序: (case, unit, start seq, region path, start, event data)."""
    events = CaseEvent._meta.db_table
    # Table names come from the models' meta; every value is a parameter.
    sql = (
        f"SELECT c.id, c.current_unit_id, e.seq, c.region_path, e.at, e.data FROM {_cases()} c "  # noqa: S608
        f"JOIN {events} e ON e.case_id = c.id AND e.action = %s "
        f"WHERE c.state = %s AND NOT EXISTS (SELECT 1 FROM {events} x WHERE x.case_id = c.id "
        "AND x.seq > e.seq AND x.action IN (%s, %s))"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, ["special_start", State.SUSPENDED, "special_end", "special_start"])
        rows = cursor.fetchall()
    result = []
    for case_id, unit_id, seq, region_path, at, data in rows:
        if isinstance(at, str):  # SQLite through a raw cursor: stored text, UTC
            at = dt.datetime.fromisoformat(at).replace(tzinfo=dt.UTC)
        elif at.tzinfo is None:
            at = at.replace(tzinfo=dt.UTC)
        result.append((case_id, unit_id, seq, region_path, at, data))
    return result


def board_rebuild(now: dt.datetime, due_soon_until: dt.datetime, start_of_day: dt.datetime) -> int:
    """Replace the board summary from two covering-index scans of the open cases and one of today's
    marks.

    Place rows (``unit`` NULL): per receiving place, over the cases app's index (region_path, state,
    promised_due). Unit rows (``region_path`` empty): per current unit, over its index (current_unit,
    state, promised_due). Neither reads the case rows themselves; undecided running cases are told by
    their state alone (a decision moves the case to approved / denied / delivered). Mark rows (both
    set): the marks raised from ``start_of_day`` up to ``now`` per place and unit, over the marks'
    (created_at, region_path, unit) index.
    """
    table = BoardCell._meta.db_table
    cases = Case._meta.db_table
    sums = (
        "COUNT(*), "
        f"SUM(CASE WHEN state IN {_in(UNDECIDED_RUNNING)} AND promised_due >= %s AND promised_due <= %s "
        "THEN 1 ELSE 0 END), "
        f"SUM(CASE WHEN state IN {_in(UNDECIDED_RUNNING)} AND promised_due < %s THEN 1 ELSE 0 END), %s "
    )
    params: list[Any] = [
        *UNDECIDED_RUNNING,
        _dt(now),
        _dt(due_soon_until),
        *UNDECIDED_RUNNING,
        _dt(now),
        _dt(now),
        *OPEN,
    ]
    columns = "(region_path, unit_id, open_count, due_soon, overdue, computed_at, marks_today)"
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table}")  # noqa: S608
        cursor.execute(
            f"INSERT INTO {table} {columns} SELECT region_path, NULL, {sums}, 0 "  # noqa: S608
            f"FROM {cases} WHERE state IN {_in(OPEN)} GROUP BY region_path",
            params,
        )
        places = int(max(cursor.rowcount, 0))
        cursor.execute(
            f"INSERT INTO {table} {columns} SELECT '', current_unit_id, {sums}, 0 "  # noqa: S608
            f"FROM {cases} WHERE state IN {_in(OPEN)} GROUP BY current_unit_id",
            params,
        )
        units = int(max(cursor.rowcount, 0))
        # Today's marks up to now, per place and unit (one range of the created index).
        cursor.execute(
            f"INSERT INTO {table} {columns} SELECT region_path, unit_id, 0, 0, 0, %s, COUNT(*) "  # noqa: S608
            f"FROM {Mark._meta.db_table} WHERE created_at >= %s AND created_at <= %s "
            "GROUP BY region_path, unit_id",
            [_dt(now), _dt(start_of_day), _dt(now)],
        )
        return places + units + int(max(cursor.rowcount, 0))


# --- the event-rule backstop -------------------------------------------------------------------------


def events_until(after_id: int, settled_before: dt.datetime) -> int:
    """The id up to which the backstop reads events: the newest event after ``after_id`` that is older
    than ``settled_before`` (a transaction still open then may yet commit a smaller id; none lasts that
    long). Reads only the new events (a primary-key range)."""
    table = CaseEvent._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT MAX(id) FROM {table} WHERE id > %s AND at <= %s",  # noqa: S608
            [after_id, _dt(settled_before)],
        )
        row = cursor.fetchone()
    return int(row[0]) if row and row[0] is not None else after_id


def event_suspects(after_id: int, until_id: int, rules: frozenset[str]) -> list[tuple[int, int, str]]:
    """(event, case, rule) of the events in (``after_id``, ``until_id``] that may hit an event rule.

    Set-based and a superset: each rule's cheap condition in SQL (a second 补正 by counting the case's
    earlier requests, a fee that differs from the flow version's, a decision with a flow step before it
    not done by then or no acceptance on record, a refusal or denial at all, a department system's
    case whose events or case times are out of order or that reports times). The exact predicate is
    then the hook's own (:func:`sanji.supervision.services.event_candidates`) on these few events, so
    the hook and the backstop agree on every mark. Events whose mark already exists are left out.
    """
    from sanji.cases.models import CaseStep
    from sanji.catalog.models import FlowVersion
    from sanji.supervision.rules import REPORTED_TIME_FIELDS, RuleCode

    e, c, v = CaseEvent._meta.db_table, Case._meta.db_table, FlowVersion._meta.db_table
    steps, marks = CaseStep._meta.db_table, Mark._meta.db_table
    base = f"FROM {e} e JOIN {c} c ON c.id = e.case_id WHERE e.id > %s AND e.id <= %s "
    not_marked = (
        f"AND NOT EXISTS (SELECT 1 FROM {marks} m WHERE m.case_id = e.case_id "  # noqa: S608
        "AND m.rule = %s AND m.period = {period})"
    )
    parts: list[tuple[str, list[Any]]] = []
    rng: list[Any] = [after_id, until_id]
    if RuleCode.SECOND_CORRECTION in rules:
        parts.append(
            (
                f"SELECT e.id, e.case_id, %s {base}AND e.action = %s "  # noqa: S608
                f"AND (SELECT COUNT(*) FROM {e} x WHERE x.case_id = e.case_id AND x.action = %s "
                f"AND x.seq <= e.seq) >= 2 {not_marked.format(period='e.seq')}",
                [
                    RuleCode.SECOND_CORRECTION,
                    *rng,
                    "request_correction",
                    "request_correction",
                    RuleCode.SECOND_CORRECTION,
                ],
            )
        )
    if RuleCode.NO_REASON in rules:
        parts.append(
            (
                f"SELECT e.id, e.case_id, %s {base}AND e.action IN (%s, %s) "
                f"{not_marked.format(period='e.seq')}",
                [RuleCode.NO_REASON, *rng, "refuse", "deny", RuleCode.NO_REASON],
            )
        )
    if RuleCode.FEE_MISMATCH in rules:
        parts.append(
            (
                f"SELECT e.id, e.case_id, %s FROM {e} e JOIN {c} c ON c.id = e.case_id "  # noqa: S608
                f"JOIN {v} v ON v.id = c.flow_version_id WHERE e.id > %s AND e.id <= %s "
                "AND e.action IN (%s, %s) AND c.fee_charged IS NOT NULL AND c.fee_charged <> v.fee_amount "
                f"{not_marked.format(period='0')}",
                [RuleCode.FEE_MISMATCH, *rng, "receive", "complete", RuleCode.FEE_MISMATCH],
            )
        )
    if RuleCode.OUT_OF_FLOW in rules:
        parts.append(
            (
                f"SELECT e.id, e.case_id, %s {base}AND e.action IN (%s, %s) "  # noqa: S608
                "AND (c.accepted_at IS NULL "
                f'OR EXISTS (SELECT 1 FROM {steps} s WHERE s.case_id = e.case_id AND s."order" < '
                "COALESCE(e.step_order, 0) AND (s.state <> %s OR s.finished_at IS NULL "
                "OR s.finished_at > e.at OR s.handled_by = ''))) "
                f"{not_marked.format(period='e.seq')}",
                [RuleCode.OUT_OF_FLOW, *rng, "approve", "deny", "done", RuleCode.OUT_OF_FLOW],
            )
        )
    if RuleCode.TIME_CONTRADICTION in rules:
        reported = " OR ".join(
            [
                "CAST(e.data AS TEXT) LIKE %s OR CAST(c.form_data AS TEXT) LIKE %s"
                for _ in REPORTED_TIME_FIELDS
            ]
        )
        likes: list[Any] = []
        for name in REPORTED_TIME_FIELDS:
            likes += [f'%"{name}"%', f'%"{name}"%']
        parts.append(
            (
                f"SELECT e.id, e.case_id, %s {base}AND c.channel = %s AND ({reported} "  # noqa: S608
                "OR c.accepted_at < c.received_at OR c.decided_at < c.accepted_at "
                "OR c.decided_at < c.received_at OR c.completed_at < c.decided_at "
                "OR c.completed_at < c.accepted_at OR c.completed_at < c.received_at "
                f"OR EXISTS (SELECT 1 FROM {e} x WHERE x.case_id = e.case_id AND x.seq < e.seq "
                f"AND x.at > e.at)) {not_marked.format(period='0')}",
                [RuleCode.TIME_CONTRADICTION, *rng, "api", *likes, RuleCode.TIME_CONTRADICTION],
            )
        )
    found: list[tuple[int, int, str]] = []
    with connection.cursor() as cursor:
        for sql, params in parts:
            cursor.execute(sql, params)
            found += [
                (int(event_id), int(case_id), str(rule)) for event_id, case_id, rule in cursor.fetchall()
            ]
    return sorted(set(found))
