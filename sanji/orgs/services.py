"""Writes to the organisation: region import, structure seeding, units and terminals.

Every function is keyword-only, checks its policy, runs in one transaction and records one audit
entry in it. The platform itself (``system_actor()``, ``sanji orgs`` on the command line) may
configure; see :mod:`sanji.orgs.policies`.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import re
import secrets
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from sanji.audit.services import record
from sanji.core import clock
from sanji.core.actors import Actor
from sanji.core.authz import require
from sanji.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from sanji.orgs import divisions, policies, structure
from sanji.orgs.models import (
    Department,
    DepartmentKind,
    Region,
    RegionLevel,
    Terminal,
    Unit,
    UnitKind,
)

T = TypeVar("T")

_CHUNK = 500


def _chunks(items: Sequence[T], size: int = _CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _ids_by_code(model: type[Region] | type[Unit] | type[Department], codes: Iterable[str]) -> dict[str, int]:
    """``code → id`` for the given codes, in chunks (SQLite limits the parameters of one query)."""
    wanted = sorted(set(codes))
    found: dict[str, int] = {}
    for chunk in _chunks(wanted):
        found.update(model.objects.filter(code__in=chunk).values_list("code", "id"))
    return found


# --- regions ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RegionImportResult:
    """What a region import did. ``by_level`` counts the file's rows per level."""

    created: int
    updated: int
    unchanged: int
    by_level: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged

    def summary(self) -> str:
        levels = ", ".join(f"{level} {self.by_level.get(level, 0)}" for level in divisions.LEVEL_ORDER)
        return (
            f"{self.total} divisions ({levels}): "
            f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged"
        )


def region_import_csv(*, actor: Actor, text: str) -> RegionImportResult:
    """Import a division-code file (see ``data/SOURCE.md``): all rows or none.

    Every row is checked first — the rules of :func:`sanji.orgs.divisions.parse`, then a parent
    that must exist in the file or the database with the level above, and a stored code that may
    not change its level or parent. All problems are reported together as
    ``ValidationFailed(details=[{"line", "field", "reason"}, ...])`` and nothing is written.
    Otherwise rows are upserted by code in one transaction (a changed name is updated; paths are
    derived from the parents), so importing the same file again changes nothing.
    """
    try:
        return _region_import(actor=actor, text=text)
    except IntegrityError:
        # Only a concurrent import of the same codes gets here; this one was rolled back whole.
        raise Conflict(_("另一次导入同时修改了相同的区划，请重新导入。")) from None


def _region_import(*, actor: Actor, text: str) -> RegionImportResult:
    require(policies.can_import_regions(actor), _("只有系统管理员可以导入行政区划代码。"))
    parsed = divisions.parse(text)
    errors = list(parsed.errors)
    rows = parsed.rows

    with transaction.atomic():
        lookup_codes = {r.code for r in rows} | {r.parent_code for r in rows if r.parent_code}
        stored: dict[str, tuple[int, str, str, str, str]] = {}  # code → (id, name, level, path, parent code)
        for chunk in _chunks(sorted(lookup_codes)):
            for pk, code, name, level, path, parent_code in Region.objects.filter(code__in=chunk).values_list(
                "id", "code", "name", "level", "path", "parent__code"
            ):
                stored[code] = (pk, name, level, path, parent_code or "")

        in_file = {r.code: r for r in rows}
        good: list[divisions.DivisionRow] = []
        for row in rows:
            row_ok = True
            if row.code in stored:
                stored_level, stored_parent = stored[row.code][2], stored[row.code][4]
                if stored_level != row.level:
                    errors.append(
                        divisions.row_error(row.line, "level", f"{row.code} is stored as a {stored_level}")
                    )
                    row_ok = False
                elif stored_parent != row.parent_code:
                    errors.append(
                        divisions.row_error(
                            row.line,
                            "parent_code",
                            f"{row.code} is stored under {stored_parent or 'no parent'}; "
                            "moving a division is not done by import",
                        )
                    )
                    row_ok = False
            if row.level != RegionLevel.CITY:
                expected = divisions.PARENT_LEVEL[row.level]
                if row.parent_code in in_file:
                    parent_level = in_file[row.parent_code].level
                elif row.parent_code in stored:
                    parent_level = stored[row.parent_code][2]
                elif row.parent_code in parsed.codes:
                    parent_level = expected  # the parent's own line is wrong and already reported
                    row_ok = False
                else:
                    errors.append(
                        divisions.row_error(
                            row.line,
                            "parent_code",
                            f"unknown parent {row.parent_code} (not in the file or the database)",
                        )
                    )
                    parent_level = expected
                    row_ok = False
                if parent_level != expected:
                    errors.append(
                        divisions.row_error(
                            row.line,
                            "parent_code",
                            f"the parent of a {row.level} must be a {expected}; "
                            f"{row.parent_code} is a {parent_level}",
                        )
                    )
                    row_ok = False
            if row_ok:
                good.append(row)

        if errors:
            errors.sort(key=lambda e: (e["line"], e["field"]))
            raise ValidationFailed(
                _("区划文件有错误（%(n)d 处），未导入任何内容。") % {"n": len(errors)}, details=errors
            )

        path_by_code = {code: values[3] for code, values in stored.items()}
        id_by_code = {code: values[0] for code, values in stored.items()}
        created = updated = unchanged = 0
        for level in divisions.LEVEL_ORDER:
            level_rows = [r for r in good if r.level == level]
            to_create: list[Region] = []
            to_update: list[Region] = []
            for row in level_rows:
                if row.code in stored:
                    pk, name = stored[row.code][:2]
                    if name != row.name:
                        to_update.append(Region(pk=pk, name=row.name))
                    else:
                        unchanged += 1
                    continue
                parent_path = path_by_code[row.parent_code] if row.parent_code else ""
                path = f"{parent_path}{row.code}/"
                path_by_code[row.code] = path
                to_create.append(
                    Region(
                        code=row.code,
                        name=row.name,
                        level=row.level,
                        parent_id=id_by_code[row.parent_code] if row.parent_code else None,
                        path=path,
                    )
                )
            Region.objects.bulk_create(to_create, batch_size=_CHUNK)
            if any(r.pk is None for r in to_create):  # backends that do not return ids
                id_by_code.update(_ids_by_code(Region, (r.code for r in to_create)))
            else:
                id_by_code.update((r.code, r.pk) for r in to_create)
            Region.objects.bulk_update(to_update, ["name"], batch_size=_CHUNK)
            created += len(to_create)
            updated += len(to_update)

        result = RegionImportResult(
            created=created,
            updated=updated,
            unchanged=unchanged,
            by_level=dict(Counter(r.level for r in good)),
        )
        roots = sorted({path_by_code[r.code].split("/", 1)[0] for r in good})
        record(
            actor=actor,
            action="orgs.regions_imported",
            target_label=f"{result.total} divisions",
            region_path=f"{roots[0]}/" if len(roots) == 1 else "",
            data={
                "created": created,
                "updated": updated,
                "unchanged": unchanged,
                "by_level": result.by_level,
                "roots": roots,
            },
        )
    return result


def region_import_bytes(*, actor: Actor, data: bytes) -> RegionImportResult:
    """Import a division file given as bytes: UTF-8 (BOM or not) or GB18030 (Excel's "CSV")."""
    try:
        text = divisions.decode(data)
    except UnicodeDecodeError:
        raise ValidationFailed(
            _("文件既不是 UTF-8 也不是 GB18030 编码的文本，未导入任何内容。"),
            details=[divisions.row_error(1, "file", "not UTF-8 or GB18030 text")],
        ) from None
    return region_import_csv(actor=actor, text=text)


def region_import_path(
    *, actor: Actor, path: str | os.PathLike[str] = divisions.SHIPPED_DIVISIONS_CSV
) -> RegionImportResult:
    """Import a division file from disk; by default the Hohhot file shipped with the project."""
    return region_import_bytes(actor=actor, data=Path(path).read_bytes())


# --- the organisation structure ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrgSeedSummary:
    """What :func:`org_structure_seed` created; ``*_existing`` were already there and left alone."""

    departments_created: int
    departments_existing: int
    units_created: dict[str, int]  # by UnitKind
    units_existing: int

    @property
    def units_created_total(self) -> int:
        return sum(self.units_created.values())


@dataclass(slots=True)
class _PlannedUnit:
    code: str
    name: str
    kind: str
    region_id: int
    region_path: str
    department_code: str | None = None
    parent_code: str | None = None


def org_structure_seed(*, actor: Actor, city_code: str) -> OrgSeedSummary:
    """Create the standard departments and units of a city (see :mod:`sanji.orgs.structure`).

    Idempotent: departments are keyed by (region, kind), units by their deterministic code; what
    exists is left as it is (a renamed unit keeps its new name), what is missing is created. The
    city's regions must have been imported first.
    """
    try:
        return _org_structure_seed(actor=actor, city_code=city_code)
    except IntegrityError:
        raise Conflict(_("此城市的机构初始化正在同时进行，请重新运行。")) from None


def _org_structure_seed(*, actor: Actor, city_code: str) -> OrgSeedSummary:
    city = Region.objects.filter(code=city_code, level=RegionLevel.CITY).first()
    if city is None:
        raise NotFound(_("没有代码为 %(code)s 的城市。") % {"code": city_code})
    require(policies.can_configure_region(actor, city.path), _("只有系统管理员可以配置城市。"))

    with transaction.atomic():
        districts = list(Region.objects.filter(parent=city, level=RegionLevel.DISTRICT).order_by("code"))
        townships = list(
            Region.objects.filter(path__startswith=city.path, level=RegionLevel.TOWNSHIP)
            .order_by("code")
            .values_list("id", "code", "name", "path")
        )
        communities = list(
            Region.objects.filter(path__startswith=city.path, level=RegionLevel.COMMUNITY)
            .order_by("code")
            .values_list("id", "code", "name", "path")
        )

        dept_created, dept_existing, dept_by_code = _seed_departments(city, districts)

        plan_top: list[_PlannedUnit] = []
        plan_inner: list[_PlannedUnit] = []
        kinds = list(DepartmentKind)

        # The city: government service centre with windows, professional halls, offices.
        gsc = structure.city_centre_code(city.code)
        plan_top.append(
            _PlannedUnit(
                gsc, structure.city_centre_name(city.name), UnitKind.SERVICE_CENTRE, city.pk, city.path
            )
        )
        for kind in kinds:
            if kind in structure.WINDOW_NAMES:
                plan_inner.append(
                    _PlannedUnit(
                        structure.window_code(gsc, kind),
                        structure.WINDOW_NAMES[kind],
                        UnitKind.WINDOW,
                        city.pk,
                        city.path,
                        structure.department_code(city.code, kind),
                        gsc,
                    )
                )
        for hall in structure.CITY_HALLS:
            code = structure.hall_code(city.code, hall.slug)
            dept = structure.department_code(city.code, hall.kind)
            plan_top.append(
                _PlannedUnit(
                    code, f"{city.name}{hall.name}", UnitKind.PROFESSIONAL_HALL, city.pk, city.path, dept
                )
            )
            for number, window_name in enumerate(hall.windows, start=1):
                plan_inner.append(
                    _PlannedUnit(
                        structure.hall_window_code(code, number),
                        window_name,
                        UnitKind.WINDOW,
                        city.pk,
                        city.path,
                        dept,
                        code,
                    )
                )
        plan_top.append(
            _PlannedUnit(
                structure.operator_code(city.code),
                structure.operator_name(city.name),
                UnitKind.OPERATOR,
                city.pk,
                city.path,
            )
        )

        # The city and every district: department offices and the supervision office.
        for region in [city, *districts]:
            for kind in kinds:
                plan_top.append(
                    _PlannedUnit(
                        structure.department_office_code(region.code, kind),
                        dept_by_code[structure.department_code(region.code, kind)][1],
                        UnitKind.DEPARTMENT_OFFICE,
                        region.pk,
                        region.path,
                        structure.department_code(region.code, kind),
                    )
                )
            plan_top.append(
                _PlannedUnit(
                    structure.supervision_office_code(region.code),
                    structure.supervision_office_name(region.name),
                    UnitKind.SUPERVISION_OFFICE,
                    region.pk,
                    region.path,
                    structure.department_code(region.code, DepartmentKind.SUPERVISION),
                )
            )

        # Every district: the citizen service centre with one window per department.
        for district in districts:
            csc = structure.district_centre_code(district.code)
            plan_top.append(
                _PlannedUnit(
                    csc,
                    structure.district_centre_name(district.name),
                    UnitKind.SERVICE_CENTRE,
                    district.pk,
                    district.path,
                )
            )
            for kind in kinds:
                if kind in structure.WINDOW_NAMES:
                    plan_inner.append(
                        _PlannedUnit(
                            structure.window_code(csc, kind),
                            structure.WINDOW_NAMES[kind],
                            UnitKind.WINDOW,
                            district.pk,
                            district.path,
                            structure.department_code(district.code, kind),
                            csc,
                        )
                    )

        # Townships: public service centre with a general window; communities: a station.
        for pk, code, name, path in townships:
            tc = structure.township_centre_code(code)
            plan_top.append(
                _PlannedUnit(tc, structure.township_centre_name(name), UnitKind.TOWNSHIP_CENTRE, pk, path)
            )
            plan_inner.append(
                _PlannedUnit(
                    structure.general_window_code(tc),
                    structure.GENERAL_WINDOW_NAME,
                    UnitKind.WINDOW,
                    pk,
                    path,
                    None,
                    tc,
                )
            )
        for pk, code, name, path in communities:
            plan_inner.append(
                _PlannedUnit(
                    structure.community_station_code(code),
                    structure.community_station_name(name),
                    UnitKind.COMMUNITY_STATION,
                    pk,
                    path,
                    None,
                    structure.township_centre_code(code[:9]),
                )
            )

        all_codes = [u.code for u in plan_top] + [u.code for u in plan_inner]
        existing = _ids_by_code(Unit, all_codes)
        dept_ids = {code: pk for code, (pk, _) in dept_by_code.items()}
        created: Counter[str] = Counter()
        unit_ids = dict(existing)
        for wave in (plan_top, plan_inner):
            new_units = [
                Unit(
                    code=u.code,
                    name=u.name,
                    kind=u.kind,
                    region_id=u.region_id,
                    region_path=u.region_path,
                    department_id=dept_ids[u.department_code] if u.department_code else None,
                    parent_id=unit_ids[u.parent_code] if u.parent_code else None,
                )
                for u in wave
                if u.code not in existing
            ]
            Unit.objects.bulk_create(new_units, batch_size=_CHUNK)
            unit_ids.update(_ids_by_code(Unit, (u.code for u in new_units)))
            created.update(str(u.kind) for u in new_units)

        summary = OrgSeedSummary(
            departments_created=dept_created,
            departments_existing=dept_existing,
            units_created=dict(created),
            units_existing=len(existing),
        )
        record(
            actor=actor,
            action="orgs.structure_seeded",
            target=city,
            region_path=city.path,
            data={
                "departments_created": dept_created,
                "departments_existing": dept_existing,
                "units_created": summary.units_created,
                "units_existing": summary.units_existing,
            },
        )
    return summary


def _seed_departments(city: Region, districts: list[Region]) -> tuple[int, int, dict[str, tuple[int, str]]]:
    """Create the missing departments; district ones point to the city's of the same kind.

    Returns (created, existing, ``department code → (id, name)`` for every department of the city).
    """
    regions = [city, *districts]
    current = {
        (d.region_id, d.kind): d
        for d in Department.objects.filter(region__in=regions).select_related("region")
    }
    created = 0
    for level_regions in ([city], districts):
        new: list[Department] = []
        for region in level_regions:
            for kind in DepartmentKind:
                if (region.pk, kind) in current:
                    continue
                at_city = region.pk == city.pk
                new.append(
                    Department(
                        code=structure.department_code(region.code, kind),
                        name=structure.department_name(
                            kind=kind, region_name=region.name, city_name=city.name, at_city=at_city
                        ),
                        kind=kind,
                        region=region,
                        region_path=region.path,
                        counterpart_of=None if at_city else current[(city.pk, kind)],
                    )
                )
        Department.objects.bulk_create(new, batch_size=_CHUNK)
        created += len(new)
        for dept in Department.objects.filter(region__in=level_regions).select_related("region"):
            current[(dept.region_id, dept.kind)] = dept
    # Departments made by hand before seeding get their counterpart link too.
    unlinked = [
        d for (region_id, _), d in current.items() if region_id != city.pk and d.counterpart_of_id is None
    ]
    for dept in unlinked:
        city_dept = current.get((city.pk, dept.kind))
        if city_dept is not None:
            dept.counterpart_of = city_dept
    Department.objects.bulk_update([d for d in unlinked if d.counterpart_of_id], ["counterpart_of"])
    region_by_id = {r.pk: r for r in regions}
    by_code = {
        structure.department_code(region_by_id[region_id].code, kind): (d.pk, d.name)
        for (region_id, kind), d in current.items()
    }
    return created, len(regions) * len(DepartmentKind) - created, by_code


# --- units ------------------------------------------------------------------------------------

_CODE_RE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
_KIND_ABBREVIATION: dict[str, str] = {
    UnitKind.GOVERNMENT: "GOV",
    UnitKind.DEPARTMENT_OFFICE: "DEPT",
    UnitKind.SERVICE_CENTRE: "SC",
    UnitKind.PROFESSIONAL_HALL: "HALL",
    UnitKind.TOWNSHIP_CENTRE: "TC",
    UnitKind.COMMUNITY_STATION: "CS",
    UnitKind.WINDOW: "W",
    UnitKind.SUPERVISION_OFFICE: "SUP",
    UnitKind.OPERATOR: "OPS",
}


def _free_code(base: str) -> str:
    if not Unit.objects.filter(code=base).exists():
        return base
    taken = set(Unit.objects.filter(code__startswith=f"{base}-").values_list("code", flat=True))
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


def _clean_name(name: str, *, max_length: int = 120) -> str:
    name = name.strip()
    if not name:
        raise ValidationFailed(_("名称不能为空。"), details=[{"field": "name", "reason": "empty"}])
    if len(name) > max_length:
        raise ValidationFailed(
            _("名称不能超过 %(n)d 个字符。") % {"n": max_length},
            details=[{"field": "name", "reason": "too long"}],
        )
    return name


def unit_create(
    *,
    actor: Actor,
    kind: str,
    name: str,
    region: Region | None = None,
    parent: Unit | None = None,
    department: Department | None = None,
    code: str | None = None,
) -> Unit:
    """Add a unit — typically a window (窗口) in a centre: ``kind=UnitKind.WINDOW, parent=centre``.

    ``region`` defaults to the parent's. The parent and the department must lie at or above the
    unit's region. ``code`` defaults to ``<parent code>-W-<department kind>`` for a window, else
    ``<parent or region code>-<kind abbreviation>``, numbered ``-2``, ``-3`` … when taken.
    """
    if kind not in UnitKind.values:
        raise ValidationFailed(
            _("没有“%(kind)s”这种单位类型。") % {"kind": kind},
            details=[{"field": "kind", "reason": "unknown"}],
        )
    if region is None:
        if parent is None:
            raise ValidationFailed(
                _("单位须有所属地区或上级单位。"), details=[{"field": "region", "reason": "missing"}]
            )
        region = parent.region
    require(policies.can_configure_region(actor, region.path), _("只有系统管理员可以修改此处的单位。"))
    name = _clean_name(name)
    if parent is not None:
        if not region.path.startswith(parent.region_path):
            raise ValidationFailed(
                _("单位须位于上级单位所在的地区内。"),
                details=[{"field": "parent", "reason": "outside"}],
            )
        if not parent.active:
            raise ValidationFailed(_("上级单位已停用。"), details=[{"field": "parent", "reason": "inactive"}])
    if department is not None and not region.path.startswith(department.region_path):
        raise ValidationFailed(
            _("部门须位于单位所在地区或其上级地区。"),
            details=[{"field": "department", "reason": "outside"}],
        )

    with transaction.atomic():
        if code is None:
            if kind == UnitKind.WINDOW and parent is not None and department is not None:
                base = structure.window_code(parent.code, department.kind)
            else:
                base = f"{parent.code if parent is not None else region.code}-{_KIND_ABBREVIATION[kind]}"
            code = _free_code(base)
        elif not _CODE_RE.match(code):
            raise ValidationFailed(
                _("单位代码由 1 至 40 个字母、数字、“-”或“_”组成。"),
                details=[{"field": "code", "reason": "format"}],
            )
        elif Unit.objects.filter(code=code).exists():
            raise ValidationFailed(
                _("单位代码 %(code)s 已被使用。") % {"code": code},
                details=[{"field": "code", "reason": "taken"}],
            )
        unit = Unit.objects.create(
            code=code,
            name=name,
            kind=kind,
            region=region,
            region_path=region.path,
            department=department,
            parent=parent,
        )
        record(
            actor=actor,
            action="orgs.unit_created",
            target=unit,
            region_path=unit.region_path,
            data={
                "code": unit.code,
                "kind": unit.kind,
                "parent": parent.code if parent is not None else None,
                "department": department.code if department is not None else None,
            },
        )
    return unit


def _require_editable(actor: Actor, unit: Unit) -> None:
    if not policies.scope_units(actor, Unit.objects.filter(pk=unit.pk)).exists():
        raise NotFound()
    require(policies.can_edit_unit(actor, unit), _("只有系统管理员可以修改单位。"))


def unit_update(*, actor: Actor, unit: Unit, name: str) -> Unit:
    """Rename a unit."""
    _require_editable(actor, unit)
    name = _clean_name(name)
    with transaction.atomic():
        unit = Unit.objects.select_for_update().get(pk=unit.pk)
        old = unit.name
        if old == name:
            return unit
        unit.name = name
        unit.save(update_fields=["name"])
        record(
            actor=actor,
            action="orgs.unit_renamed",
            target=unit,
            region_path=unit.region_path,
            data={"from": old, "to": name},
        )
    return unit


def unit_deactivate(*, actor: Actor, unit: Unit) -> Unit:
    """Close a unit and every unit nested in it (a centre's windows, a township's stations).

    Terminals bound to a closed unit stop authenticating (:func:`terminal_authenticate`); the
    security administrator decides whether to deactivate them for good.
    """
    _require_editable(actor, unit)
    with transaction.atomic():
        unit = Unit.objects.select_for_update().get(pk=unit.pk)
        closed: list[int] = []
        frontier = [unit.pk] if unit.active else []
        frontier += list(Unit.objects.filter(parent=unit, active=True).values_list("id", flat=True))
        seen: set[int] = set()
        while frontier:
            batch = [pk for pk in frontier if pk not in seen]
            seen.update(batch)
            closed += batch
            frontier = list(
                Unit.objects.filter(parent_id__in=batch, active=True).values_list("id", flat=True)
            )
        if not closed:
            return unit
        codes = list(Unit.objects.filter(pk__in=closed).order_by("code").values_list("code", flat=True))
        Unit.objects.filter(pk__in=closed).update(active=False)
        unit.refresh_from_db()
        record(
            actor=actor,
            action="orgs.unit_deactivated",
            target=unit,
            region_path=unit.region_path,
            data={"deactivated": len(closed), "codes": codes[:100]},
        )
    return unit


# --- terminals --------------------------------------------------------------------------------

_TERMINAL_CODE_RE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
#: A workstation that was seen less than this long ago from the same address is not written again.
TOUCH_INTERVAL_SECONDS = 60


def terminal_secret_hash(secret: str) -> str:
    """Hex SHA-256 of a terminal secret (see :class:`sanji.orgs.models.Terminal`)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def _new_secret() -> str:
    return secrets.token_urlsafe(24)  # 192 random bits; URL-safe, so never contains ':'


def _clean_ip(ip_address: str | None) -> str | None:
    if ip_address is None or not ip_address.strip():
        return None
    try:
        return str(ipaddress.ip_address(ip_address.strip()))
    except ValueError:
        raise ValidationFailed(
            _("“%(ip)s”不是 IP 地址。") % {"ip": ip_address},
            details=[{"field": "ip_address", "reason": "format"}],
        ) from None


def _next_terminal_code(region_code: str) -> str:
    prefix = f"T{region_code}-"
    numbers = [
        int(code[len(prefix) :])
        for code in Terminal.objects.filter(code__startswith=prefix).values_list("code", flat=True)
        if code[len(prefix) :].isdigit()
    ]
    return f"{prefix}{max(numbers, default=0) + 1:04d}"


def terminal_register(
    *,
    actor: Actor,
    unit: Unit,
    name: str,
    ip_address: str | None = None,
    code: str | None = None,
) -> tuple[Terminal, str]:
    """Register a workstation or front-end processor (终端 / 前置机) at a unit.

    Only the security administrator, at a unit within reach (otherwise :class:`NotFound`).
    Returns the terminal and its enrolment code ``"<code>:<secret>"`` — shown once, never stored.
    The default code is ``T<region code>-<4-digit number>`` (``T150105-0001``).
    """
    if not policies.can_register_terminal_at(actor, unit):
        raise NotFound()
    name = _clean_name(name)
    ip = _clean_ip(ip_address)
    with transaction.atomic():
        # Lock the region row: registrations in one region take numbers one at a time.
        region = Region.objects.select_for_update().get(pk=unit.region_id)
        unit = Unit.objects.get(pk=unit.pk)
        if not unit.active:
            raise ValidationFailed(_("该单位已停用。"), details=[{"field": "unit", "reason": "inactive"}])
        if code is None:
            code = _next_terminal_code(region.code)
        elif not _TERMINAL_CODE_RE.match(code):
            raise ValidationFailed(
                _("终端代码由 1 至 40 个字母、数字、“-”或“_”组成。"),
                details=[{"field": "code", "reason": "format"}],
            )
        elif Terminal.objects.filter(code=code).exists():
            raise ValidationFailed(
                _("终端代码 %(code)s 已被使用。") % {"code": code},
                details=[{"field": "code", "reason": "taken"}],
            )
        secret = _new_secret()
        terminal = Terminal.objects.create(
            code=code,
            name=name,
            unit=unit,
            region_path=unit.region_path,
            ip_address=ip,
            secret_hash=terminal_secret_hash(secret),
            active=True,
            registered_at=clock.now(),
        )
        record(
            actor=actor,
            action="orgs.terminal_registered",
            target=terminal,
            region_path=terminal.region_path,
            data={"code": terminal.code, "unit": unit.code, "ip_address": ip},
        )
    return terminal, f"{terminal.code}:{secret}"


def _require_terminal(actor: Actor, terminal: Terminal) -> Terminal:
    if not policies.can_manage_terminal(actor, terminal):
        raise NotFound()
    return Terminal.objects.select_for_update().select_related("unit").get(pk=terminal.pk)


def terminal_rekey(*, actor: Actor, terminal: Terminal) -> tuple[Terminal, str]:
    """Give a terminal a new secret; the old enrolment stops working. Returns the new enrolment code."""
    with transaction.atomic():
        terminal = _require_terminal(actor, terminal)
        secret = _new_secret()
        terminal.secret_hash = terminal_secret_hash(secret)
        terminal.save(update_fields=["secret_hash"])
        record(
            actor=actor,
            action="orgs.terminal_rekeyed",
            target=terminal,
            region_path=terminal.region_path,
            data={"code": terminal.code},
        )
    return terminal, f"{terminal.code}:{secret}"


def terminal_deactivate(*, actor: Actor, terminal: Terminal) -> Terminal:
    """Stop a terminal for good (a rekey does not bring it back; register a new one)."""
    with transaction.atomic():
        terminal = _require_terminal(actor, terminal)
        if not terminal.active:
            return terminal
        terminal.active = False
        terminal.save(update_fields=["active"])
        record(
            actor=actor,
            action="orgs.terminal_deactivated",
            target=terminal,
            region_path=terminal.region_path,
            data={"code": terminal.code},
        )
    return terminal


def terminal_authenticate(*, code: str, secret: str, ip: str) -> Terminal:
    """Check an enrolment ``code`` and ``secret`` presented from ``ip``; return the terminal.

    Unknown code, inactive terminal or unit, and wrong secret all raise the same
    :class:`NotFound`; the secret is compared in constant time (a dummy hash is compared when the
    code is unknown, so timing does not tell codes apart). With the right secret from another
    address than the registered one: :class:`Forbidden`. Updates ``last_seen_at``/``last_seen_ip``.

    Not audited here: the caller (the login) records the authentication with the terminal's code.
    """
    terminal = Terminal.objects.select_related("unit").filter(code=code).first()
    expected = terminal.secret_hash if terminal is not None else terminal_secret_hash("-")
    matches = hmac.compare_digest(expected, terminal_secret_hash(secret))
    if terminal is None or not matches or not terminal.active or not terminal.unit.active:
        raise NotFound(_("终端未登记或密钥错误。"))
    if terminal.ip_address and not _same_ip(terminal.ip_address, ip):
        raise Forbidden(_("此终端只能在其登记的地址上使用。"))
    now = clock.now()
    # In a transaction: on SQLite it queues with the other writers instead of polling the lock.
    with transaction.atomic():
        Terminal.objects.filter(pk=terminal.pk).update(last_seen_at=now, last_seen_ip=ip[:45])
    terminal.last_seen_at = now
    terminal.last_seen_ip = ip[:45]
    return terminal


def _same_ip(registered: str, ip: str) -> bool:
    try:
        return ipaddress.ip_address(registered) == ipaddress.ip_address(ip)
    except ValueError:
        return False


def terminal_touch(*, terminal: Terminal, ip: str) -> None:
    """Record that a terminal is in use (monitoring: 最近在线). Cheap enough to call per request.

    Skipped when the terminal was seen from the same address within ``TOUCH_INTERVAL_SECONDS``.
    Monitoring data, not an action: not audited.
    """
    now = clock.now()
    recent = (
        terminal.last_seen_at is not None
        and (now - terminal.last_seen_at).total_seconds() < TOUCH_INTERVAL_SECONDS
    )
    if recent and terminal.last_seen_ip == ip[:45]:
        return
    # In a transaction: on SQLite it queues with the other writers instead of polling the lock.
    with transaction.atomic():
        Terminal.objects.filter(pk=terminal.pk).update(last_seen_at=now, last_seen_ip=ip[:45])
    terminal.last_seen_at = now
    terminal.last_seen_ip = ip[:45]
