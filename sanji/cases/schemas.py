"""API schemas of the cases app."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Schema
from pydantic import ConfigDict


class CaseOut(Schema):
    id: int
    number: str
    matter_code: str
    title: str
    applicant_name: str
    applicant_id_masked: str
    on_behalf: bool
    agent_relation: str
    channel: str
    state: str
    current_step_order: int | None
    accepting_unit: str
    current_unit: str
    region_path: str
    received_at: dt.datetime | None
    accepted_at: dt.datetime | None
    decided_at: dt.datetime | None
    completed_at: dt.datetime | None
    acceptance_due: dt.datetime | None
    promised_due: dt.datetime | None
    legal_due: dt.datetime | None
    step_due: dt.datetime | None
    remaining_days: int | None
    calendar_problem: str
    extension_days: int
    corrections_count: int
    certificate_no: str
    version: int

    @staticmethod
    def resolve_matter_code(obj: Any) -> str:
        return str(obj.matter.code)

    @staticmethod
    def resolve_on_behalf(obj: Any) -> bool:
        """Applied for online by an agent (代办); the create_draft event names them."""
        return obj.agent_id is not None

    @staticmethod
    def resolve_accepting_unit(obj: Any) -> str:
        return str(obj.accepting_unit.code)

    @staticmethod
    def resolve_current_unit(obj: Any) -> str:
        return str(obj.current_unit.code)


class CaseCreatedOut(Schema):
    case: CaseOut
    query_code: str


class CaseReceiveIn(Schema):
    matter_code: str
    applicant_name: str
    applicant_id_number: str
    applicant_phone: str = ""
    title: str = ""
    form_data: dict[str, Any] = {}
    materials_received: list[str] = []
    fee_charged: str | None = None


class CaseDraftIn(Schema):
    """An online application (网上申报); ``region_code``: where the applicant applies (a district,
    township or community at or below the matter's acceptance level).

    By default the token's holder applies for themselves: their account's name and registered ID
    number are the applicant's (an ``applicant_id_number`` given must be that number). With
    ``on_behalf`` they apply as an agent (代办) for the person named by ``applicant_name`` and
    ``applicant_id_number``, stating their relation or authorisation in ``agent_relation``."""

    matter_code: str
    region_code: str
    applicant_name: str = ""
    applicant_id_number: str = ""
    on_behalf: bool = False
    agent_relation: str = ""
    applicant_phone: str = ""
    title: str = ""
    form_data: dict[str, Any] = {}


class ReportedTimesIn(Schema):
    """Times a department system reports for its case (ISO 8601 with offset); stored in the event's
    data and checked against each other and the platform's record by supervision (报送时间矛盾)."""

    model_config = ConfigDict(extra="forbid")

    applied_at: dt.datetime | None = None
    received_at: dt.datetime | None = None
    accepted_at: dt.datetime | None = None
    decided_at: dt.datetime | None = None
    completed_at: dt.datetime | None = None


class ActionIn(Schema):
    """``expected_version`` and the action's fields (opinion, reason, legal_basis, missing_items, days …)."""

    expected_version: int
    opinion: str | None = None
    reason: str | None = None
    legal_basis: str | None = None
    missing_items: list[str] | None = None
    days: int | None = None
    duration_days: int | None = None
    delivery_method: str | None = None
    certificate_no: str | None = None
    reported_times: ReportedTimesIn | None = None


class CasePageOut(Schema):
    items: list[CaseOut]
    page: int
    page_size: int
    has_next: bool


class EventOut(Schema):
    seq: int
    action: str
    from_state: str
    to_state: str
    at: dt.datetime
    actor_username: str
    channel: str
    step_order: int | None
    opinion: str
    reason: str
    legal_basis: str
    data: dict[str, Any]


class CaseDetailOut(CaseOut):
    events: list[EventOut]

    @staticmethod
    def resolve_events(obj: Any) -> Any:
        return obj.history


class AttachmentOut(Schema):
    id: int
    material_name: str
    original_filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: dt.datetime


class ProgressOut(Schema):
    number: str
    matter_name: str
    applicant: str
    state: str
    state_label: str
    received_at: dt.datetime | None
    promised_due: dt.datetime | None
    remaining_days: int | None
    calendar_problem: str
    events: list[tuple[str, dt.datetime]]
