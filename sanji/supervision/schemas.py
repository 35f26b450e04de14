"""API schemas of supervision."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ninja import Schema


class MarkOut(Schema):
    id: int
    case_id: int
    case_number: str
    rule: str
    period: int
    severity: str
    state: str
    became_at: dt.datetime
    created_at: dt.datetime
    issued_at: dt.datetime | None
    unit: str
    region_path: str
    staff_username: str
    points: Decimal
    detail: dict[str, Any]
    explanation: str
    appeal_reason: str
    decision_note: str
    version: int

    @staticmethod
    def resolve_case_number(obj: Any) -> str:
        return str(obj.case.number)

    @staticmethod
    def resolve_unit(obj: Any) -> str:
        return str(obj.unit.code)


class MarkPageOut(Schema):
    items: list[MarkOut]
    page: int
    page_size: int
    has_next: bool


class MarkActionIn(Schema):
    """``text``: the explanation, appeal reason or supervisor's note; ``days``: an order's limit."""

    text: str = ""
    days: int | None = None
    expected_version: int | None = None
