"""The deadlines of a case, computed from its events over the working-day calendar — pure, no database.

《行政许可法》:
- Art. 32: the applicant is told all corrections at once within 5 working days of receipt, otherwise
  the application counts as accepted on the day of receipt (the acceptance deadline);
- Art. 42: decision within 20 working days of acceptance, +10 with the agency head's approval (延期);
  joint handling (联合办理) 45, +15;
- Art. 44: the result is delivered within 10 working days of the decision;
- Art. 45: special procedures (特别程序: hearing, testing, appraisal, expert review) pause the clock;
  so does a correction request (补正) until the supplement arrives;
- Art. 82 / Civil Code Art. 201: working days, the starting day not counted.

A matter's limits in the catalogue (承诺时限 promised, 法定时限 legal) override the defaults. A pause
counts for every deadline whose period had started when the pause began; an open pause counts up to
``today`` (so the remaining working days stand still while the clock is paused).

When a deadline needs a year the calendar does not hold, that deadline is ``None`` and
``calendar_problem`` says which year ("calendar for 2027 not configured"); nothing is guessed and
nothing raises.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from sanji.calendar.workdays import (
    CalendarNotConfigured,
    WorkCalendar,
    count_workdays,
    deadline,
    remaining_workdays,
)
from sanji.core.clock import CITY_TZ

ACCEPTANCE_DAYS = 5  # Art. 32
LEGAL_DAYS = 20  # Art. 42
LEGAL_DAYS_JOINT = 45  # Art. 42 para. 2
DELIVERY_DAYS = 10  # Art. 44


@dataclass(frozen=True, slots=True)
class Pause:
    """A period the clock stood still: a correction (补正) or a special procedure (特别程序)."""

    start: dt.datetime
    end: dt.datetime | None = None  # None: still paused
    kind: str = "correction"


@dataclass(frozen=True, slots=True)
class StepClock:
    """The current stage: when it started and its limit (the longest of its parallel steps)."""

    started_at: dt.datetime
    limit_days: int


@dataclass(frozen=True, slots=True)
class CaseClock:
    """Everything the deadlines depend on, as read off the case's event log."""

    received_at: dt.datetime
    accepted_at: dt.datetime | None = None
    decided_at: dt.datetime | None = None
    closed: bool = False  # completed, refused, withdrawn, voided: no remaining days
    pauses: Sequence[Pause] = ()
    extension_days: int = 0
    promised_limit_days: int | None = None  # None: no promised limit beyond the legal one
    legal_limit_days: int | None = None  # None or 0: the statutory default
    joint: bool = False
    step: StepClock | None = None


@dataclass(frozen=True, slots=True)
class Deadlines:
    acceptance_due: dt.datetime | None = None
    promised_due: dt.datetime | None = None
    legal_due: dt.datetime | None = None
    step_due: dt.datetime | None = None
    delivery_due: dt.datetime | None = None
    remaining_days: int | None = None  # working days to the next relevant deadline
    calendar_problem: str = ""
    problems: tuple[str, ...] = field(default=())


def _local(instant: dt.datetime) -> dt.date:
    return instant.astimezone(CITY_TZ).date()


def pause_days(cal: WorkCalendar, pauses: Sequence[Pause], *, since: dt.datetime, today: dt.date) -> int:
    """Working days of the pauses that began at or after ``since`` (open ones counted up to ``today``)."""
    total = 0
    for pause in pauses:
        if pause.start < since:
            continue
        end = _local(pause.end) if pause.end is not None else today
        total += count_workdays(cal, _local(pause.start), end)
    return total


def legal_limit(clock: CaseClock) -> int:
    if clock.legal_limit_days:
        return clock.legal_limit_days
    return LEGAL_DAYS_JOINT if clock.joint else LEGAL_DAYS


def compute(cal: WorkCalendar, clock: CaseClock, *, today: dt.date) -> Deadlines:
    """All deadlines of the case and the remaining working days at ``today``."""
    problems: list[str] = []

    def attempt(start: dt.datetime | None, n: int | None) -> dt.datetime | None:
        if start is None or n is None:
            return None
        try:
            return deadline(cal, start, n, pauses=pause_days(cal, clock.pauses, since=start, today=today))
        except CalendarNotConfigured as exc:
            if exc.condition not in problems:
                problems.append(exc.condition)
            return None

    acceptance_due = attempt(clock.received_at, ACCEPTANCE_DAYS)
    promised_due = legal_due = None
    if clock.accepted_at is not None:
        legal_due = attempt(clock.accepted_at, legal_limit(clock) + clock.extension_days)
        if clock.promised_limit_days is not None:
            promised_due = attempt(clock.accepted_at, clock.promised_limit_days + clock.extension_days)
        else:
            promised_due = legal_due
    step_due = attempt(clock.step.started_at, clock.step.limit_days) if clock.step is not None else None
    delivery_due = attempt(clock.decided_at, DELIVERY_DAYS)

    remaining: int | None = None
    if not clock.closed:
        target = (
            delivery_due
            if clock.decided_at is not None
            else promised_due
            if clock.accepted_at is not None
            else acceptance_due
        )
        if target is not None:
            try:
                remaining = remaining_workdays(cal, today, target.astimezone(CITY_TZ).date())
            except CalendarNotConfigured as exc:
                if exc.condition not in problems:
                    problems.append(exc.condition)
    return Deadlines(
        acceptance_due=acceptance_due,
        promised_due=promised_due,
        legal_due=legal_due,
        step_due=step_due,
        delivery_due=delivery_due,
        remaining_days=remaining,
        # A closed case's deadlines no longer run: nothing to warn about on its pages.
        calendar_problem="" if clock.closed else "; ".join(problems),
        problems=tuple(problems),
    )
