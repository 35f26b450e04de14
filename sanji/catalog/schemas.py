"""API schemas of the catalogue."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ninja import Schema

from sanji.catalog.models import FlowStep, FlowVersion, Matter


class StepOut(Schema):
    id: int
    order: int
    code: str
    name: str
    level: str
    role: str
    department_kind: str  # effective: the step's own, else the version's
    limit_days: int
    parallel_group: int | None
    report_up: bool

    @staticmethod
    def resolve_department_kind(obj: FlowStep) -> str:
        return obj.effective_department_kind


class MaterialOut(Schema):
    id: int
    order: int
    name: str
    form: str
    count: int
    required: bool
    blank_form_name: str
    notes: str


class FlowVersionOut(Schema):
    id: int
    matter_code: str
    number: int
    published: bool
    created_at: dt.datetime
    created_by: str
    note: str
    kind: str
    department_kind: str
    accepting_levels: list[str]
    deciding_level: str
    legal_limit_days: int
    promised_limit_days: int
    fee_amount: Decimal
    fee_basis: str
    steps: list[StepOut]
    materials: list[MaterialOut]

    @staticmethod
    def resolve_matter_code(obj: FlowVersion) -> str:
        return obj.matter.code


class MatterOut(Schema):
    code: str
    name: str
    matter_type: str
    department_kind: str
    accepting_levels: list[str]
    deciding_level: str
    kind: str
    legal_limit_days: int
    promised_limit_days: int
    fee_amount: Decimal
    online: bool
    active: bool
    current_version_id: int | None
    current_version_number: int | None

    @staticmethod
    def resolve_current_version_number(obj: Matter) -> int | None:
        return obj.current_version.number if obj.current_version is not None else None


class MatterDetailOut(MatterOut):
    legal_basis: str
    fee_basis: str
    conditions: str
    procedure: str
    contact: str
    current_version: FlowVersionOut | None
