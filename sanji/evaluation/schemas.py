"""API schemas of evaluation."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ninja import Schema


class RatingIn(Schema):
    level: int
    comment: str = ""


class RatingOut(Schema):
    id: int
    case_id: int
    level: int
    comment: str
    channel: str
    rated_at: dt.datetime
    unit: str
    staff_username: str
    follow_up_id: int | None

    @staticmethod
    def resolve_unit(obj: Any) -> str:
        return str(obj.unit.code)

    @staticmethod
    def resolve_follow_up_id(obj: Any) -> int | None:
        follow_up = getattr(obj, "follow_up", None)
        return follow_up.pk if follow_up is not None else None


class ScoreItemOut(Schema):
    kind: str
    points: Decimal
    note: str
    case_id: int | None
    mark_id: int | None
    rating_id: int | None
    order_id: int | None


class ScoreOut(Schema):
    id: int
    month: dt.date
    subject_kind: str
    subject_id: int
    subject_name: str
    total: Decimal
    rank: int
    on_time_rate: float | None
    handling_ratio: float | None
    satisfaction_avg: float | None
    marks_count: int
    orders_count: int


class ScoreDetailOut(ScoreOut):
    items: list[ScoreItemOut]

    @staticmethod
    def resolve_items(obj: Any) -> Any:
        return obj.evidence
