"""API operations of the orgs app (thin: parse, one service or selector call, schema).

Read-only. Staff tokens with the scope ``orgs:read``; regions and departments are reference data,
units are limited to the caller's reach.
"""

from __future__ import annotations

from django.db import models
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router
from ninja.pagination import LimitOffsetPagination, paginate

from sanji.core.actors import Actor
from sanji.core.errors import Forbidden
from sanji.orgs import policies, selectors
from sanji.orgs.models import Department, Region, Unit
from sanji.orgs.schemas import DepartmentOut, RegionOut, UnitOut

router = Router(tags=["orgs"])

READ_SCOPE = "orgs:read"


def _reader(request: HttpRequest) -> Actor:
    actor: Actor = request.auth  # type: ignore[attr-defined]
    if not actor.allows_scope(READ_SCOPE) or not policies.can_read_reference(actor):
        raise Forbidden(_("此操作需要带有 %(scope)s 权限范围的工作人员令牌。") % {"scope": READ_SCOPE})
    return actor


@router.get(
    "/regions", response=list[RegionOut], summary="Regions one level below a parent (default: the cities)"
)
@paginate(LimitOffsetPagination)
def list_regions(request: HttpRequest, parent: str | None = None) -> models.QuerySet[Region]:
    _reader(request)
    return selectors.region_list(parent).select_related("parent")


@router.get("/regions/{code}", response=RegionOut, summary="One region by its division code")
def get_region(request: HttpRequest, code: str) -> Region:
    _reader(request)
    return selectors.region_get(code)


@router.get("/units", response=list[UnitOut], summary="Units in the caller's reach, by kind and region")
@paginate(LimitOffsetPagination)
def list_units(
    request: HttpRequest, kind: str | None = None, region: str | None = None, descendants: bool = False
) -> models.QuerySet[Unit]:
    actor = _reader(request)
    return selectors.unit_list_for(actor, kind=kind, region_code=region, descendants=descendants)


@router.get("/departments", response=list[DepartmentOut], summary="Departments, of one region or all")
def list_departments(request: HttpRequest, region: str | None = None) -> models.QuerySet[Department]:
    _reader(request)
    return selectors.department_list(region)
