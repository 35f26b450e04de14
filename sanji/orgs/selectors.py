"""Reads of the organisation, used by every other app.

Regions and departments are public reference data and are read without an actor; units and
terminals are read through the actor's scope (:mod:`sanji.orgs.policies`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import models
from django.db.models import Count, Q
from django.utils.translation import gettext as _

from sanji.core.actors import Actor
from sanji.core.authz import get_in_scope, is_platform
from sanji.core.errors import NotFound
from sanji.orgs import policies
from sanji.orgs.models import Department, DepartmentKind, Region, RegionLevel, Terminal, Unit

# --- regions ----------------------------------------------------------------------------------


def region_get(code: str) -> Region:
    """The region with this division code, or :class:`NotFound`."""
    region = Region.objects.filter(code=code).select_related("parent").first()
    if region is None:
        raise NotFound(_("没有代码为 %(code)s 的地区。") % {"code": code})
    return region


def region_names(codes: Iterable[str]) -> dict[str, str]:
    """``{code: name}`` of those division codes that are regions here (others are left out)."""
    wanted = {c for c in codes if c}
    return dict(Region.objects.filter(code__in=wanted).values_list("code", "name")) if wanted else {}


def region_children(code: str) -> models.QuerySet[Region]:
    """The regions one level below ``code`` (:class:`NotFound` if ``code`` is unknown), by code.

    Each carries ``child_count`` (how many regions lie one level below it).
    """
    parent = region_get(code)
    return Region.objects.filter(parent=parent).annotate(child_count=Count("children")).order_by("code")


def region_list(parent_code: str | None = None) -> models.QuerySet[Region]:
    """Children of ``parent_code``; without it, the roots (the cities)."""
    if parent_code:
        return region_children(parent_code)
    return Region.objects.filter(parent__isnull=True).annotate(child_count=Count("children")).order_by("code")


def region_ancestors(region: Region) -> list[Region]:
    """From the root down to ``region``'s parent (for breadcrumbs)."""
    codes = [c for c in region.path.split("/") if c][:-1]
    by_code = {r.code: r for r in Region.objects.filter(code__in=codes)}
    return [by_code[c] for c in codes if c in by_code]


def region_tree_for(actor: Actor) -> list[Region]:
    """Where the actor's organisation tree starts: the top regions of their reach.

    The platform (and a system administrator at the city) sees the cities; an administrator of
    a district sees that district. Nested grants collapse into the outermost one.
    """
    if is_platform(actor):
        return list(region_list())
    paths = sorted({g.region_path for g in actor.grants_for(*policies.ORG_VIEWER_ROLES)})
    tops: list[str] = []
    for path in paths:
        if not any(path.startswith(top) for top in tops):
            tops.append(path)
    return list(Region.objects.filter(path__in=tops).annotate(child_count=Count("children")).order_by("path"))


# --- departments ------------------------------------------------------------------------------


def department_list(region_code: str | None = None) -> models.QuerySet[Department]:
    """Departments of one region (city or district), or all of them."""
    queryset = Department.objects.select_related("region", "counterpart_of")
    if region_code:
        queryset = queryset.filter(region__code=region_code)
    return queryset.order_by("region_path", "kind")


def department_get(*, region_code: str, kind: str) -> Department:
    department = (
        Department.objects.filter(region__code=region_code, kind=kind).select_related("region").first()
    )
    if department is None:
        line = DepartmentKind(kind).label if kind in DepartmentKind.values else kind
        raise NotFound(_("%(region)s 没有%(kind)s部门。") % {"region": region_code, "kind": line})
    return department


def departments_serving(region: Region) -> models.QuerySet[Department]:
    """Departments at ``region`` or above it: those whose windows a unit there may hold."""
    codes = [c for c in region.path.split("/") if c]
    return (
        Department.objects.filter(region__code__in=codes)
        .select_related("region")
        .order_by("-region_path", "kind")
    )


def department_counterpart_at(department: Department, region: Region) -> Department | None:
    """The department of the same line (``kind``) that serves ``region`` (上下对口).

    City department → a district: that district's department; district → the city: the city's.
    For a township or community, the department of the nearest region above it that has one
    (its district's). ``None`` when that level has no department of this kind.
    """
    codes = [c for c in region.path.split("/") if c]
    candidates = {
        d.region.code: d
        for d in Department.objects.filter(kind=department.kind, region__code__in=codes).select_related(
            "region"
        )
    }
    for code in reversed(codes):
        if code in candidates:
            return candidates[code]
    return None


# --- units ------------------------------------------------------------------------------------


def unit_list_for(
    actor: Actor,
    *,
    kind: str | None = None,
    region_code: str | None = None,
    descendants: bool = False,
    q: str | None = None,
    active: bool | None = None,
) -> models.QuerySet[Unit]:
    """Units the actor may see, optionally of one kind and in one region.

    ``region_code`` alone means units located *in* that region; with ``descendants=True`` also
    those in the regions below it. ``q`` searches code and name.
    """
    queryset = policies.scope_units(actor, Unit.objects.select_related("region", "department", "parent"))
    if kind:
        queryset = queryset.filter(kind=kind)
    if region_code:
        region = region_get(region_code)
        if descendants:
            queryset = queryset.filter(region_path__startswith=region.path)
        else:
            queryset = queryset.filter(region=region)
    if q:
        queryset = queryset.filter(Q(code__icontains=q) | Q(name__icontains=q))
    if active is not None:
        queryset = queryset.filter(active=active)
    return queryset.order_by("region_path", "code")


def unit_get_for(actor: Actor, unit_id: int) -> Unit:
    """One unit within the actor's scope, or :class:`NotFound`."""
    queryset = policies.scope_units(actor, Unit.objects.select_related("region", "department", "parent"))
    return get_in_scope(queryset, pk=unit_id)


def unit_get_by_code_for(actor: Actor, code: str) -> Unit:
    queryset = policies.scope_units(actor, Unit.objects.select_related("region", "department", "parent"))
    return get_in_scope(queryset, code=code)


def unit_children(unit: Unit) -> models.QuerySet[Unit]:
    """Units nested in ``unit`` (a centre's windows); call after :func:`unit_get_for`."""
    return Unit.objects.filter(parent=unit).select_related("department").order_by("code")


def units_in_region(actor: Actor, region: Region) -> models.QuerySet[Unit]:
    """Top-level units located in ``region`` (windows are shown under their centre)."""
    return unit_list_for(actor, region_code=region.code).filter(
        Q(parent__isnull=True) | ~Q(parent__region=region)
    )


# --- terminals --------------------------------------------------------------------------------


def terminal_list_for(
    actor: Actor, unit: Unit | None = None, q: str | None = None
) -> models.QuerySet[Terminal]:
    """Terminals in the security administrator's reach; by unit, or searched by code/name/unit."""
    queryset = policies.scope_terminals(
        actor, Terminal.objects.select_related("unit", "unit__region", "unit__parent")
    )
    if unit is not None:
        queryset = queryset.filter(unit=unit)
    if q:
        queryset = queryset.filter(
            Q(code__icontains=q)
            | Q(name__icontains=q)
            | Q(unit__name__icontains=q)
            | Q(unit__code__icontains=q)
        )
    return queryset.order_by("region_path", "code")


def terminal_get_for(actor: Actor, terminal_id: int) -> Terminal:
    queryset = policies.scope_terminals(
        actor, Terminal.objects.select_related("unit", "unit__region", "unit__parent")
    )
    return get_in_scope(queryset, pk=terminal_id)


def region_level_counts(root: Region) -> dict[str, int]:
    """How many regions of each level lie in ``root``'s subtree (itself included)."""
    rows = Region.objects.filter(path__startswith=root.path).values_list("level").annotate(n=Count("id"))
    counts = dict.fromkeys(RegionLevel.values, 0)
    counts.update(dict(rows))
    return counts


# --- unit labels (for choosers and for naming units that records hold by id) --------------------


@dataclass(frozen=True, slots=True)
class UnitLabel:
    """How a unit is named where several share a name (each district has a 民政局 and a 民政窗口):
    its name, the centre it sits in (a window's), its region's name and its code."""

    id: int
    code: str
    name: str
    parent_name: str
    region_name: str
    active: bool

    @property
    def full_name(self) -> str:
        """The name with the centre a window sits in (赛罕区市民服务中心 民政窗口)."""
        return f"{self.parent_name} {self.name}" if self.parent_name else self.name

    def __str__(self) -> str:
        return f"{self.full_name} · {self.region_name} · {self.code}"


_LABEL_COLUMNS = ("id", "code", "name", "parent__name", "region__name", "active")


def _labels(rows: Iterable[tuple[int, str, str, str | None, str, bool]]) -> list[UnitLabel]:
    return [
        UnitLabel(pk, code, name, parent or "", region, active)
        for pk, code, name, parent, region, active in rows
    ]


def unit_labels(unit_ids: Iterable[int | None]) -> dict[int, UnitLabel]:
    """``{id: label}`` of those units that exist, in one query. For naming units that records the
    reader may already see hold by id (audit entries); not a way to list units (no scope)."""
    wanted = {pk for pk in unit_ids if pk is not None}
    if not wanted:
        return {}
    rows = Unit.objects.filter(pk__in=wanted).values_list(*_LABEL_COLUMNS)
    return {label.id: label for label in _labels(rows)}


def unit_id_by_code(code: str) -> int | None:
    """The id of the unit with ``code`` (None if there is none). For narrowing records the reader
    may already see by a unit they name (audit search); not a way to reach a unit (no scope)."""
    return Unit.objects.filter(code=code).values_list("pk", flat=True).first()


def unit_choices(units: models.QuerySet[Unit], q: str = "", *, limit: int = 50) -> list[UnitLabel]:
    """Labels of ``units`` (already scoped by the caller's policy) for a chooser, in tree order.

    ``q`` is split on spaces; every word must appear in the unit's code or name, its centre's name
    or its region's name ("赛罕 民政" finds 赛罕区民政局 and the 民政窗口 of 赛罕区市民服务中心).
    """
    for word in q.split()[:5]:
        units = units.filter(
            Q(code__icontains=word)
            | Q(name__icontains=word)
            | Q(parent__name__icontains=word)
            | Q(region__name__icontains=word)
        )
    rows = units.order_by("region_path", "code").values_list(*_LABEL_COLUMNS)[:limit]
    return _labels(rows)
