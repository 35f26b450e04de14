"""API schemas of the population app (changes and the change feed)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Field, Schema


class ChangeSubmitIn(Schema):
    kind: str = Field(
        description="birth, death, move_in, move_out, marriage_status, address, name, correction"
    )
    person_id: int | None = Field(None, description="the person changed; none for a birth or a move-in")
    values: dict[str, Any] = Field(default_factory=dict, description="proposed values by field key")
    reason: str = ""
    evidence: str = ""


class DecisionIn(Schema):
    expected_state: str = "submitted"


class RejectIn(DecisionIn):
    reason: str


class WithdrawIn(DecisionIn):
    reason: str = ""


class ChangeOut(Schema):
    id: int
    kind: str
    person_id: int | None
    person_masked: str
    values: dict[str, Any]
    fields: list[str]
    effective_date: dt.date
    region_path: str
    state: str
    reason: str
    evidence: str
    submitted_by: str
    submitted_at: dt.datetime
    decided_by: str
    decided_at: dt.datetime | None
    decision_reason: str
    person_version: int | None

    @staticmethod
    def resolve_values(obj: Any) -> dict[str, Any]:
        return {k: v for k, v in obj.values.items() if k != "id_original"}

    @staticmethod
    def resolve_person_masked(obj: Any) -> str:
        return str(obj.person.id_masked) if obj.person is not None else str(obj.values.get("id_number", ""))

    @staticmethod
    def resolve_submitted_by(obj: Any) -> str:
        return str(obj.submitted_by_name)

    @staticmethod
    def resolve_decided_by(obj: Any) -> str:
        return str(obj.decided_by_name)


class ChangePageOut(Schema):
    items: list[ChangeOut]
    page: int
    has_next: bool
    queue: bool


class DiffRowOut(Schema):
    field: str
    label: str
    before: str
    after: str
    current: str
    changed: bool
    changed_positions: list[int] = Field(
        default_factory=list, description="for the ID number: the 0-based positions of the digits that change"
    )
    derived: bool = Field(
        False, description="follows from the proposed ID number (birth date, sex, birthplace)"
    )


class ChangeDetailOut(Schema):
    change: ChangeOut
    rows: list[DiffRowOut]
    can_verify: bool
    can_reject: bool
    can_withdraw: bool
    id_changed_parts: list[str] = Field(
        default_factory=list,
        description="parts of the ID number that change: address_code, birth_date, sequence, check",
    )
    can_unmask_id_numbers: bool = Field(
        False,
        description="may read the clear numbers before and after (POST /sharing/changes/{id}/id-numbers)",
    )


class FeedItemOut(Schema):
    seq: int
    change_id: int
    kind: str
    person_id: int
    name: str
    id_number: str
    effective_date: dt.date
    fields: list[str]
    published_at: dt.datetime
    region_path: str
    left_region_path: str


class FeedOut(Schema):
    items: list[FeedItemOut]
    next_cursor: int
    has_more: bool
