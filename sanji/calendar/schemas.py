"""API schemas of the working-day calendar."""

from __future__ import annotations

import datetime as dt
import uuid

from ninja import Field, Schema

from sanji.calendar.models import CalendarDay, CalendarYear

#: The longest period the API computes; longer requests are a typo, not a time limit.
MAX_WORKDAYS = 2000


class YearOut(Schema):
    year: int
    source: str
    notice: str
    revision: uuid.UUID  # changes on every write: a client may cache the year until it does
    holiday_count: int
    workday_count: int
    created_at: dt.datetime
    updated_at: dt.datetime


class DayOut(Schema):
    date: dt.date
    kind: str  # holiday | workday (a make-up working day, 调休上班日)
    name: str


class YearDetailOut(YearOut):
    days: list[DayOut]

    @staticmethod
    def resolve_days(obj: CalendarYear) -> list[CalendarDay]:
        return list(obj.days.all())


class AddQuery(Schema):
    start: dt.date = Field(description="the day of acceptance (not counted), YYYY-MM-DD")
    n: int = Field(ge=0, le=MAX_WORKDAYS, description="number of working days")


class AddOut(Schema):
    start: dt.date
    n: int
    due: dt.date  # the last day of the period; the deadline is the end of this day, city time


class CountQuery(Schema):
    start: dt.date = Field(description="not counted, YYYY-MM-DD")
    end: dt.date = Field(description="counted, YYYY-MM-DD")


class CountOut(Schema):
    start: dt.date
    end: dt.date
    count: int


class ErrorOut(Schema):
    error: str
    message: str
    details: object | None = None
