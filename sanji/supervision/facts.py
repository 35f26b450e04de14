"""The fixed SQL reads of the after-commit hook, so that evaluating a case event costs a few indexed
look-ups and no ORM query compilation (it runs after every transition; the budget is 5 ms).

:func:`event_facts` reads one event with the columns of its case and flow version the event-driven
rules need; :func:`late_step` the step of that event that finished after its own deadline, if any;
:func:`event_times` the times of a case's events; :func:`rule_rows` the rule configuration.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sanji.cases.models import Case, CaseEvent, CaseStep
from sanji.catalog.models import FlowVersion
from sanji.core import prepared
from sanji.supervision.models import RuleConfig


def aware(value: Any) -> dt.datetime | None:
    """A datetime from a raw row (SQLite: naive UTC or text; PostgreSQL: aware)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value  # type: ignore[no-any-return]


def as_dict(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    if isinstance(value, str | bytes):
        try:
            loaded = json.loads(value)
        except ValueError:
            return {}
        return loaded if isinstance(loaded, dict) else {}
    return {}


def as_decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


@dataclass(frozen=True, slots=True)
class EventFacts:
    """One case event and what the event-driven rules need of its case."""

    event_id: int
    seq: int
    action: str
    at: dt.datetime
    unit_id: int | None
    actor_id: int | None
    actor_username: str
    reason: str
    legal_basis: str
    step_order: int | None
    data: dict[str, Any]
    case_id: int
    channel: str
    corrections_count: int
    fee_charged: Decimal | None
    fee_amount: Decimal
    received_at: dt.datetime | None
    accepted_at: dt.datetime | None
    decided_at: dt.datetime | None
    completed_at: dt.datetime | None
    current_unit_id: int
    region_path: str
    form_data: dict[str, Any]
    #: The case's steps as the case service wrote them (:func:`from_committed`); None: read them.
    steps: tuple[StepRow, ...] | None = None
    #: The times of the case's events, this one included, in order, as the case service handed
    #: them over (:func:`from_committed`); None: read them (:func:`event_times`).
    event_times: tuple[dt.datetime, ...] | None = None


#: A step as the case service hands it over: order, state, unit_id, due, finished_at,
#: handled_by_id, handled_by, id.
StepRow = tuple[int, str, int | None, dt.datetime | None, dt.datetime | None, int | None, str, int]


def from_committed(committed: Mapping[str, Any]) -> EventFacts:
    """The facts of an event from what the case service wrote (``sanji.core.hooks.case_event_committed``),
    the same as :func:`event_facts` reads back, without the read."""
    names = {f for f in EventFacts.__dataclass_fields__ if f not in ("steps", "event_times")}
    values = {name: committed[name] for name in names}
    values["fee_amount"] = values["fee_amount"] or Decimal("0")
    values["actor_username"] = values["actor_username"] or ""
    times = committed.get("event_times")
    return EventFacts(
        **values, steps=tuple(committed["steps"]), event_times=tuple(times) if times is not None else None
    )


def event_facts(case_id: int, event_id: int) -> EventFacts | None:
    e, c, v = CaseEvent._meta.db_table, Case._meta.db_table, FlowVersion._meta.db_table
    sql = (
        "SELECT e.id, e.seq, e.action, e.at, e.unit_id, e.actor_id, e.actor_username, e.reason, "  # noqa: S608
        "e.legal_basis, e.step_order, e.data, c.id, c.channel, c.corrections_count, c.fee_charged, "
        "v.fee_amount, c.received_at, c.accepted_at, c.decided_at, c.completed_at, c.current_unit_id, "
        f"c.region_path, c.form_data FROM {e} e JOIN {c} c ON c.id = e.case_id "
        f"JOIN {v} v ON v.id = c.flow_version_id WHERE e.id = %s AND e.case_id = %s"
    )
    rows = prepared.query(sql, [event_id, case_id])
    if not rows:
        return None
    row = rows[0]
    at = aware(row[3])
    if at is None:
        return None
    return EventFacts(
        event_id=row[0],
        seq=row[1],
        action=row[2],
        at=at,
        unit_id=row[4],
        actor_id=row[5],
        actor_username=row[6] or "",
        reason=row[7] or "",
        legal_basis=row[8] or "",
        step_order=row[9],
        data=as_dict(row[10]),
        case_id=row[11],
        channel=row[12],
        corrections_count=row[13],
        fee_charged=as_decimal(row[14]),
        fee_amount=as_decimal(row[15]) or Decimal("0"),
        received_at=aware(row[16]),
        accepted_at=aware(row[17]),
        decided_at=aware(row[18]),
        completed_at=aware(row[19]),
        current_unit_id=row[20],
        region_path=row[21],
        form_data=as_dict(row[22]),
    )


@dataclass(frozen=True, slots=True)
class LateStep:
    order: int
    unit_id: int | None
    due: dt.datetime
    finished_at: dt.datetime
    handled_by_id: int | None
    handled_by: str


def late_step_of(steps: tuple[StepRow, ...], order: int) -> LateStep | None:
    """:func:`late_step` over the steps the case service handed over."""
    for step_order, state, unit_id, due, finished, handled_by_id, handled_by, _id in sorted(
        steps, key=lambda s: s[7]
    ):
        late = due is not None and finished is not None and finished > due
        if step_order == order and state == "done" and late:
            assert due is not None
            assert finished is not None
            return LateStep(step_order, unit_id, due, finished, handled_by_id, handled_by or "")
    return None


def step_rows_of(steps: tuple[StepRow, ...]) -> list[tuple[int, str, dt.datetime | None, str]]:
    """:func:`step_rows` over the steps the case service handed over."""
    return [(s[0], s[1], s[4], s[6] or "") for s in sorted(steps, key=lambda s: (s[0], s[7]))]


def late_step(case_id: int, order: int) -> LateStep | None:
    """The done step of ``order`` on the case that finished after its own deadline, if any."""
    table = CaseStep._meta.db_table
    sql = (
        f'SELECT "order", unit_id, due, finished_at, handled_by_id, handled_by FROM {table} '  # noqa: S608
        'WHERE case_id = %s AND "order" = %s AND state = %s AND due IS NOT NULL '
        "AND finished_at IS NOT NULL AND finished_at > due ORDER BY id LIMIT 1"
    )
    rows = prepared.query(sql, [case_id, order, "done"])
    if not rows:
        return None
    row = rows[0]
    due, finished = aware(row[2]), aware(row[3])
    if due is None or finished is None:
        return None
    return LateStep(row[0], row[1], due, finished, row[4], row[5] or "")


def step_rows(case_id: int) -> list[tuple[int, str, dt.datetime | None, str]]:
    """The case's steps as ``(order, state, finished_at, handled_by)`` (the 体外循环 rule's input)."""
    table = CaseStep._meta.db_table
    sql = (
        f'SELECT "order", state, finished_at, handled_by FROM {table} WHERE case_id = %s ORDER BY "order", id'  # noqa: S608
    )
    return [(row[0], row[1], aware(row[2]), row[3] or "") for row in prepared.query(sql, [case_id])]


def event_times(case_id: int) -> list[dt.datetime]:
    """The times of the case's events, in order."""
    table = CaseEvent._meta.db_table
    rows = prepared.query(f'SELECT "at" FROM {table} WHERE case_id = %s ORDER BY seq', [case_id])  # noqa: S608
    return [t for t in (aware(row[0]) for row in rows) if t is not None]


def rule_rows() -> list[tuple[str, bool, int, bool, Decimal]]:
    table = RuleConfig._meta.db_table
    rows = prepared.query(f"SELECT code, enabled, threshold, auto_issue, points FROM {table}")  # noqa: S608
    return [(code, bool(en), int(th), bool(auto), Decimal(str(pts))) for code, en, th, auto, pts in rows]
