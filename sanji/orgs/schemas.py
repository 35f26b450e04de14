"""API schemas of the organisation (resolved from the model rows the selectors return)."""

from __future__ import annotations

from ninja import Schema

from sanji.orgs.models import Department, Region, Unit


class RegionOut(Schema):
    code: str
    name: str
    level: str
    parent_code: str | None
    path: str

    @staticmethod
    def resolve_parent_code(obj: Region) -> str | None:
        return obj.parent.code if obj.parent is not None else None


class DepartmentOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    region_code: str
    counterpart_code: str | None

    @staticmethod
    def resolve_region_code(obj: Department) -> str:
        return obj.region.code

    @staticmethod
    def resolve_counterpart_code(obj: Department) -> str | None:
        return obj.counterpart_of.code if obj.counterpart_of is not None else None


class UnitOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    region_code: str
    region_path: str
    department_code: str | None
    parent_code: str | None
    active: bool

    @staticmethod
    def resolve_region_code(obj: Unit) -> str:
        return obj.region.code

    @staticmethod
    def resolve_department_code(obj: Unit) -> str | None:
        return obj.department.code if obj.department is not None else None

    @staticmethod
    def resolve_parent_code(obj: Unit) -> str | None:
        return obj.parent.code if obj.parent is not None else None
