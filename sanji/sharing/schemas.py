"""API schemas of sharing."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Field, Schema


class LookupIn(Schema):
    id_number: str = Field(description="citizen ID number, 18 digits (15-digit numbers are upgraded)")
    purpose: str = Field(description="why this person is read; shown to the resident (required)")
    grant: int | None = Field(
        None, description="id of your department's grant, for fields beyond name and ID"
    )
    fields: list[str] | None = Field(None, description="fields of the grant to return (default: all of them)")


class SharedPersonOut(Schema):
    id_number: str
    id_masked: str
    name: str
    fields: dict[str, Any] = Field(
        description="the granted fields asked for; codes per GB/T 2261, 3304, 4761"
    )
    labels: dict[str, str] = Field(description="names of the coded fields' codes")
    grant: int | None
    access_record: int
    read_at: dt.datetime
    corrected_from: str = Field(
        "",
        description="the number asked for, when public security has since corrected it "
        "(id_number is then the number the person holds now); empty otherwise",
    )


class GrantIn(Schema):
    department: int = Field(description="department id")
    fields: list[str]
    purpose: str
    legal_basis: str
    valid_from: dt.date
    valid_until: dt.date = Field(description="last day of validity, inclusive")


class GrantRevokeIn(Schema):
    reason: str


class GrantOut(Schema):
    id: int
    department: int
    department_code: str
    department_name: str
    fields: list[str]
    purpose: str
    legal_basis: str
    valid_from: dt.date
    valid_until: dt.date
    granted_by: str
    granted_at: dt.datetime
    revoked_at: dt.datetime | None
    revoke_reason: str

    @staticmethod
    def resolve_department(obj: Any) -> int:
        return int(obj.department_id)

    @staticmethod
    def resolve_department_code(obj: Any) -> str:
        return str(obj.department.code)

    @staticmethod
    def resolve_department_name(obj: Any) -> str:
        return str(obj.department.name)

    @staticmethod
    def resolve_granted_by(obj: Any) -> str:
        return str(obj.granted_by_username)


class FieldOut(Schema):
    name: str
    label: str


class ChangeIdNumbersOut(Schema):
    change_id: int
    before: str = Field(description="the registered number, in full")
    after: str = Field(description="the corrected number, in full")
    changed_positions: list[int] = Field(description="0-based positions of the digits that change")
    changed_parts: list[str] = Field(description="address_code, birth_date, sequence, check")
