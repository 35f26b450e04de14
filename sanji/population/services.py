"""Writes to the population registry: places, boundaries, bulk import, key rotation, history.

Every function is keyword-only, checks its policy and records audit entries in the transaction
that changes the rows. The bulk import commits in batches (see :mod:`sanji.population.bulk`), each
batch with its own audit entry, so a crash leaves whole batches and a resumable job.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import shutil
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from sanji.audit.services import record
from sanji.core import clock, crypto, idnumber
from sanji.core.actors import Actor
from sanji.core.authz import get_in_scope, require, scope_filter
from sanji.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from sanji.core.rekey import rekey_model
from sanji.orgs.models import Region, RegionLevel
from sanji.population import bulk, change_values, coords, layout, policies, records, transitions
from sanji.population.models import (
    BoundarySource,
    Building,
    ChangeFeedEntry,
    ChangeFeedHead,
    ChangeKind,
    ChangeState,
    CommunityBoundary,
    Grid,
    Household,
    ImportJob,
    ImportRowError,
    ImportStatus,
    Person,
    PersonChange,
    PersonStatus,
    PersonVersion,
)

if TYPE_CHECKING:
    from sanji.population.feed_packages import FeedExportReport

FIELD_KEY = "field"


def previous_field_keys() -> tuple[str, ...]:
    """Key names still accepted for decryption during a rotation (``SANJI_PREVIOUS_FIELD_KEYS``)."""
    return crypto.previous_keys(FIELD_KEY)


# --- places --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlacesSeedSummary:
    communities: int
    boundaries_created: int
    grids_created: int
    buildings_created: int

    def summary(self) -> str:
        return (
            f"{self.communities} communities: {self.boundaries_created} boundaries, "
            f"{self.grids_created} grids, {self.buildings_created} buildings created (synthetic layout)"
        )


def _ring_json(ring: Sequence[tuple[float, float]]) -> str:
    return json.dumps({"type": "Polygon", "coordinates": [[list(p) for p in ring]]}, separators=(",", ":"))


def _ring_box(ring: Sequence[tuple[float, float]]) -> dict[str, float]:
    xs, ys = [p[0] for p in ring[:-1]], [p[1] for p in ring[:-1]]
    return {
        "min_lon": min(xs),
        "max_lon": max(xs),
        "min_lat": min(ys),
        "max_lat": max(ys),
        "centroid_lon": sum(xs) / len(xs),
        "centroid_lat": sum(ys) / len(ys),
    }


def population_seed_places(*, actor: Actor, city_code: str) -> PlacesSeedSummary:
    """Create synthetic boundaries, grids and buildings for every community of a city.

    The geometry is invented (:mod:`sanji.population.layout`): deterministic from the community
    codes, so the generator's building codes match. Idempotent: rows that exist (by region or
    code) are left as they are, missing ones are created.
    """
    city = Region.objects.filter(code=city_code, level=RegionLevel.CITY).first()
    if city is None:
        raise NotFound(_("没有代码为 %(code)s 的城市。") % {"code": city_code})
    require(policies.can_configure_places(actor, city.path), _("只有系统管理员可以生成地点数据。"))
    communities = {
        code: (pk, name, path)
        for pk, code, name, path in Region.objects.filter(
            path__startswith=city.path, level=RegionLevel.COMMUNITY
        ).values_list("id", "code", "name", "path")
    }
    now = clock.now()
    with transaction.atomic():
        have_boundary = set(
            CommunityBoundary.objects.filter(region_path__startswith=city.path).values_list(
                "region_id", flat=True
            )
        )
        have_grid = dict(Grid.objects.filter(region_path__startswith=city.path).values_list("code", "id"))
        have_building = set(
            Building.objects.filter(region_path__startswith=city.path).values_list("code", flat=True)
        )
        boundaries: list[CommunityBoundary] = []
        grids: list[Grid] = []
        planned_buildings: list[tuple[str, layout.BuildingPlan, str, int]] = []
        for plan in layout.plan((code, v[1]) for code, v in communities.items()):
            region_id, _name, path = communities[plan.code]
            if region_id not in have_boundary:
                boundaries.append(
                    CommunityBoundary(
                        region_id=region_id,
                        region_path=path,
                        geometry=_ring_json(plan.ring),
                        source=BoundarySource.SYNTHETIC,
                        updated_at=now,
                        **_ring_box(plan.ring),
                    )
                )
            for g_index, grid in enumerate(plan.grids, start=1):
                if grid.code not in have_grid:
                    grids.append(
                        Grid(
                            code=grid.code,
                            name=grid.name,
                            community_id=region_id,
                            region_path=path,
                            geometry=_ring_json(grid.ring),
                            source=BoundarySource.SYNTHETIC,
                            **_ring_box(grid.ring),
                        )
                    )
                for building in grid.buildings:
                    if building.code not in have_building:
                        planned_buildings.append((grid.code, building, path, g_index))
                        have_building.add(building.code)
        CommunityBoundary.objects.bulk_create(boundaries, batch_size=1000)
        Grid.objects.bulk_create(grids, batch_size=1000)
        grid_ids = dict(Grid.objects.filter(region_path__startswith=city.path).values_list("code", "id"))
        names = {v[2]: v[1] for v in communities.values()}
        Building.objects.bulk_create(
            [
                Building(
                    code=b.code,
                    grid_id=grid_ids[grid_code],
                    number=b.number,
                    address=layout.building_address(names[path], g_index, b.number),
                    lon=b.lon,
                    lat=b.lat,
                    region_path=path,
                )
                for grid_code, b, path, g_index in planned_buildings
            ],
            batch_size=2000,
        )
        summary = PlacesSeedSummary(
            communities=len(communities),
            boundaries_created=len(boundaries),
            grids_created=len(grids),
            buildings_created=len(planned_buildings),
        )
        record(
            actor=actor,
            action="population.places_seeded",
            target=city,
            region_path=city.path,
            data={
                "city": city_code,
                "boundaries": summary.boundaries_created,
                "grids": summary.grids_created,
                "buildings": summary.buildings_created,
                "synthetic": True,
            },
        )
    return summary


@dataclass(frozen=True, slots=True)
class BoundaryImportResult:
    communities: int
    grids_created: int
    grids_updated: int

    def summary(self) -> str:
        return (
            f"{self.communities} community boundaries, "
            f"{self.grids_created} grids created, {self.grids_updated} updated"
        )


def _feature_error(index: int, field: str, reason: str) -> dict[str, Any]:
    return {"line": index, "field": field, "reason": reason}


def boundary_import_geojson(*, actor: Actor, text: str) -> BoundaryImportResult:
    """Import community and grid boundaries from a GeoJSON FeatureCollection: all or nothing.

    Each feature has ``properties.level`` (``"community"`` or ``"grid"``), ``properties.code``
    (a stored community's 12-digit code, or a grid code: the community's code + 3 digits) and, for
    grids, ``properties.name``; its geometry is a Polygon or MultiPolygon in lon/lat. Problems are
    reported together as ``ValidationFailed(details=[{"line": feature number (1-based), "field",
    "reason"}])`` and nothing is written: bad JSON, unknown codes, invalid or empty polygons,
    coordinates outside the city, a grid outside its community's boundary.
    """
    from shapely.geometry import shape
    from shapely.validation import explain_validity

    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationFailed(
            _("文件不是有效的 JSON，未导入任何数据。"),
            details=[_feature_error(exc.lineno, "file", _("JSON 格式错误：%(error)s") % {"error": exc.msg})],
        ) from None
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise ValidationFailed(
            _("文件应为 GeoJSON FeatureCollection，未导入任何数据。"),
            details=[_feature_error(0, "type", _("顶层必须是 FeatureCollection"))],
        )
    features = document.get("features") or []
    errors: list[dict[str, Any]] = []
    parsed: list[tuple[str, str, str, Any, str, int]] = []  # (level, code, name, shape, geojson, feature no.)
    for n, feature in enumerate(features, start=1):
        props = (feature or {}).get("properties") or {}
        level = str(props.get("level", "")).strip()
        code = str(props.get("code", "")).strip()
        if level not in ("community", "grid"):
            errors.append(
                _feature_error(
                    n, "level", _("level 应为 community 或 grid，而不是“%(level)s”") % {"level": level}
                )
            )
            continue
        want = 12 if level == "community" else 12 + layout.GRID_CODE_DIGITS
        if not (code.isdigit() and len(code) == want):
            errors.append(
                _feature_error(
                    n,
                    "code",
                    _("%(level)s 代码应为 %(want)d 位数字，而不是“%(code)s”")
                    % {"level": level, "want": want, "code": code},
                )
            )
            continue
        geometry = (feature or {}).get("geometry") or {}
        if geometry.get("type") not in ("Polygon", "MultiPolygon"):
            errors.append(_feature_error(n, "geometry", _("几何图形必须是 Polygon 或 MultiPolygon")))
            continue
        try:
            geom = shape(geometry)
        except Exception as exc:  # shapely raises several types for malformed coordinates
            errors.append(_feature_error(n, "geometry", _("坐标格式错误：%(error)s") % {"error": exc}))
            continue
        if geom.is_empty or not geom.is_valid:
            reason = _("空多边形") if geom.is_empty else explain_validity(geom)
            errors.append(_feature_error(n, "geometry", _("无效的多边形：%(reason)s") % {"reason": reason}))
            continue
        min_lon, min_lat, max_lon, max_lat = geom.bounds
        if not (coords.in_city(min_lon, min_lat) and coords.in_city(max_lon, max_lat)):
            errors.append(_feature_error(n, "geometry", _("坐标不在本市范围内")))
            continue
        parsed.append(
            (
                level,
                code,
                str(props.get("name", "")).strip(),
                geom,
                json.dumps(geometry, separators=(",", ":")),
                n,
            )
        )

    community_codes = {c for lv, c, *_ in parsed if lv == "community"} | {
        c[:12] for lv, c, *_ in parsed if lv == "grid"
    }
    regions = {
        code: (pk, path)
        for pk, code, path in Region.objects.filter(
            code__in=community_codes, level=RegionLevel.COMMUNITY
        ).values_list("id", "code", "path")
    }
    file_shapes = {code: geom for lv, code, _name, geom, *_rest in parsed if lv == "community"}
    stored_shapes = dict(
        CommunityBoundary.objects.filter(region__code__in=community_codes).values_list(
            "region__code", "geometry"
        )
    )
    for level, code, name, geom, _text, n in parsed:
        community = code[:12]
        if community not in regions:
            errors.append(_feature_error(n, "code", _("没有代码为 %(code)s 的社区") % {"code": community}))
            continue
        if level == "grid":
            if not name:
                errors.append(_feature_error(n, "name", _("网格须有名称")))
            outer = file_shapes.get(community)
            if outer is None and community in stored_shapes:
                outer = shape(json.loads(stored_shapes[community]))
            if outer is not None and not outer.buffer(1e-6).contains(geom):
                errors.append(
                    _feature_error(n, "geometry", _("网格超出社区 %(code)s 的边界") % {"code": community})
                )
    for i, (level, code, *_rest, n) in enumerate(parsed):
        if any(p[0] == level and p[1] == code for p in parsed[:i]):
            errors.append(_feature_error(n, "code", _("%(code)s 出现了两次") % {"code": code}))
    if errors:
        raise ValidationFailed(
            _("边界文件有 %(count)d 处问题，未导入任何数据。") % {"count": len(errors)}, details=errors
        )

    for _level, code, *_rest in parsed:
        require(
            policies.can_configure_places(actor, regions[code[:12]][1]),
            _("只有系统管理员可以导入边界，且限于其辖区。"),
        )
    now = clock.now()
    created = updated = communities = 0
    with transaction.atomic():
        for level, code, name, geom, text_geom, _n in parsed:
            region_id, path = regions[code[:12]]
            box = dict(zip(("min_lon", "min_lat", "max_lon", "max_lat"), geom.bounds, strict=True))
            centroid = geom.centroid
            values = {
                "geometry": text_geom,
                "centroid_lon": centroid.x,
                "centroid_lat": centroid.y,
                "source": BoundarySource.IMPORTED,
                **box,
            }
            if level == "community":
                CommunityBoundary.objects.update_or_create(
                    region_id=region_id, defaults={**values, "region_path": path, "updated_at": now}
                )
                communities += 1
            else:
                _grid, was_created = Grid.objects.update_or_create(
                    code=code,
                    defaults={**values, "name": name, "community_id": region_id, "region_path": path},
                )
                created += was_created
                updated += not was_created
        result = BoundaryImportResult(communities=communities, grids_created=created, grids_updated=updated)
        record(
            actor=actor,
            action="population.boundaries_imported",
            data={"communities": communities, "grids_created": created, "grids_updated": updated},
        )
    return result


# --- bulk import ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import did (all runs of the same file together when it was resumed)."""

    job_id: int
    file_name: str
    sha256: str
    rows: int
    imported: int
    rejected: int
    duplicates: int
    report_path: str
    resumed_batches: int
    already_done: bool
    seconds: float

    def summary(self) -> str:
        state = " (already imported: nothing done)" if self.already_done else ""
        resumed = f", resumed after {self.resumed_batches} batches" if self.resumed_batches else ""
        return (
            f"{self.file_name}: {self.rows} rows, {self.imported} imported, {self.rejected} rejected "
            f"({self.duplicates} duplicates){resumed}{state}; error report: {self.report_path}"
        )


def _report_for(job: ImportJob, *, resumed: int, already: bool, seconds: float) -> ImportReport:
    return ImportReport(
        job_id=job.pk,
        file_name=job.file_name,
        sha256=job.sha256,
        rows=job.rows_seen,
        imported=job.imported,
        rejected=job.rejected,
        duplicates=job.duplicates,
        report_path=job.report_path,
        resumed_batches=resumed,
        already_done=already,
        seconds=seconds,
    )


def _region_codes() -> frozenset[str]:
    """The platform's division codes (a registered residence inside the city must be one)."""
    return frozenset(Region.objects.values_list("code", flat=True))


def _building_refs(actor: Actor) -> dict[str, records.PlaceRef]:
    rows = policies.scope_import_places(actor, Building.objects.all()).values_list(
        "code", "id", "region_path", "grid__community__code"
    )
    return {code: records.PlaceRef(pk, path, community) for code, pk, path, community in rows}


def _write_report(job: ImportJob) -> str:
    reports = Path(settings.DATA_DIR) / "reports"
    reports.mkdir(parents=True, exist_ok=True)
    path = reports / f"population-import-{job.sha256[:16]}.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["line", "field", "reason"])
        for row in (
            ImportRowError.objects.filter(job=job)
            .order_by("line", "id")
            .values_list("line", "field", "reason")
            .iterator(chunk_size=5000)
        ):
            writer.writerow(row)
    return str(path)


def _rebuild_indexes(
    actor: Actor, job_id: int, saved: Sequence[Sequence[str]], counts: Counter[int] | None = None
) -> None:
    """Re-create the indexes a load dropped (``bulk.create_indexes``), in one transaction with the
    removal of people stored twice meanwhile and its audit entries, and with the buildings'
    resident counts of the load (``counts``, or recounted when a killed load left them unknown).
    Outside a transaction the loaded rows are committed, and a second connection may build some
    of the indexes meanwhile (``bulk.create_indexes``)."""
    parallel = not connection.in_atomic_block
    with transaction.atomic():
        removed = bulk.create_indexes(saved, parallel=parallel, meanwhile=lambda: bulk.apply_counts(counts))
        ImportJob.objects.filter(pk=job_id).update(saved_indexes=[])
        for owner, count in removed.items():
            record(
                actor=actor,
                action="population.import_duplicates_removed",
                target=ImportJob.objects.get(pk=owner),
                data={"removed": count},
            )


def population_import(
    *,
    actor: Actor,
    path: str | os.PathLike[str],
    batch_rows: int = bulk.BATCH_ROWS,
    workers: int = bulk.WORKERS,
) -> ImportReport:
    """Import people from a CSV (UTF-8 or GB18030) or .xlsx file (``docs/population-import.md``).

    Good rows go in; bad rows are listed with line, field and reason in an error report under
    ``DATA_DIR/reports/``. The job is keyed by the file's SHA-256 and committed in batches: a
    rerun after a crash skips the committed batches, a rerun of a finished file does nothing, and
    the unique blind index turns away any person already stored (reported as a duplicate).
    Raises ``OSError`` when the file cannot be read and ``ValidationFailed`` when its header is
    unusable (nothing imported).
    """
    require(policies.can_import(actor), _("只有人口计生信息员可以导入人口数据。"))
    started = time.perf_counter()
    source_path = Path(path)
    sha = bulk.file_sha256(source_path)
    try:
        source = bulk.open_source(source_path, batch_rows)
    except (ValueError, KeyError) as exc:
        raise ValidationFailed(
            _("无法读取 %(file)s：%(error)s") % {"file": source_path.name, "error": exc},
            details=[{"line": 1, "field": "file", "reason": str(exc)}],
        ) from None
    try:
        try:
            index = records.header_index(source.header)
        except records.HeaderError as exc:
            raise ValidationFailed(
                _("%(file)s 的表头无法使用：%(error)s") % {"file": source_path.name, "error": exc},
                details=[{"line": 1, "field": "header", "reason": str(exc)}],
            ) from None
        return _run_import(actor, source_path, sha, source, index, batch_rows, workers, started)
    finally:
        source.close()


def _run_import(
    actor: Actor,
    source_path: Path,
    sha: str,
    source: bulk.Source,
    index: records.ColumnIndex,
    batch_rows: int,
    workers: int,
    started: float,
) -> ImportReport:
    now = clock.now()
    with transaction.atomic():
        job, _created = ImportJob.objects.select_for_update().get_or_create(
            sha256=sha,
            defaults={
                "file_name": source_path.name,
                "batch_size": batch_rows,
                "encoding": source.encoding,
                "started_by": actor.username,
                "started_at": now,
            },
        )
    if job.status == ImportStatus.DONE:
        return _report_for(job, resumed=0, already=True, seconds=time.perf_counter() - started)
    if job.batch_size != batch_rows:  # a resumed job cuts the file as its first run did
        source.batches = bulk.open_source(source_path, job.batch_size).batches
    resumed = job.done_batches

    # Indexes a killed load left dropped (this job's or another's) come back first.
    for dropped in ImportJob.objects.exclude(saved_indexes=[]).only("id", "saved_indexes"):
        _rebuild_indexes(actor, dropped.pk, dropped.saved_indexes)
    job.refresh_from_db()
    saved: list[list[str]] = []
    with transaction.atomic():
        if job.done_batches == 0 and bulk.person_table_empty():
            saved = bulk.drop_indexes([bulk.PERSON_TABLE, bulk.HOUSEHOLD_TABLE])
            ImportJob.objects.filter(pk=job.pk).update(saved_indexes=saved, status=ImportStatus.RUNNING)

    # SQLite: workers hand batches over as scratch files (see bulk._scratch_write), not pickles;
    # attaching a file needs the connection outside a transaction (always, but in tests).
    scratch: Path | None = None
    if connection.vendor == "sqlite" and workers > 0 and not connection.in_atomic_block:
        scratch = Path(settings.DATA_DIR) / "tmp" / f"population-import-{sha[:16]}"
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(parents=True)
    setup = bulk.WorkerSetup(
        engine=connection.vendor,
        encoding=source.encoding,
        index=index,
        context=records.Context(
            today=clock.today(), buildings=_building_refs(actor), regions=_region_codes()
        ),
        job_id=job.pk,
        source_ref=f"import:{source_path.name}:{sha[:12]}",
        now_db=bulk.db_time(now),
        now=now,
        scratch_dir=str(scratch) if scratch else "",
    )
    todo: Iterator[bulk.Batch] = (b for b in source.batches if b.number >= job.done_batches)
    committed = 0
    # A load into an empty registry counts its living people per building as it goes and adds
    # them to the buildings with its indexes (one statement instead of one per batch and building).
    counts: Counter[int] | None = Counter() if saved else None
    households_before: frozenset[str] | None = frozenset() if saved else None
    bulk.prepare_session()
    try:
        for result in bulk.run_batches(setup, todo, workers=workers):
            batch_counts: Counter[int] | None = Counter() if counts is not None else None
            with bulk.scratch_attached(result), transaction.atomic():
                inserted = bulk.write_batch(
                    result, job.pk, counts=batch_counts, households_before=households_before
                )
                ImportRowError.objects.bulk_create(
                    [
                        ImportRowError(job_id=job.pk, line=e.line, field=e.field, reason=e.reason[:300])
                        for e in result.errors
                    ],
                    batch_size=2000,
                )
                rejected_lines = len({e.line for e in result.errors})
                job.done_batches = result.number + 1
                job.rows_seen += result.rows
                job.imported += inserted
                job.rejected += rejected_lines
                job.duplicates += result.duplicates
                job.save(update_fields=["done_batches", "rows_seen", "imported", "rejected", "duplicates"])
                record(
                    actor=actor,
                    action="population.import_batch",
                    target=job,
                    data={
                        "batch": result.number,
                        "rows": result.rows,
                        "imported": inserted,
                        "rejected": rejected_lines,
                    },
                )
            committed += 1
            if counts is not None and batch_counts is not None:
                counts.update(batch_counts)  # committed: the batch's people are in
            if households_before is not None:
                households_before = result.household_codes
            if bulk.CRASH_AFTER_BATCHES is not None and committed >= bulk.CRASH_AFTER_BATCHES:
                raise bulk.SimulatedCrash(f"simulated crash after {committed} batches")
    except BaseException as exc:
        ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.FAILED, message=str(exc)[:1000])
        if isinstance(exc, bulk.UNREADABLE):  # damage past the header: a refusal, not a traceback
            line = job.rows_seen + 1 + (1 if source.header else 0)
            raise ValidationFailed(
                _(
                    "%(file)s 第 %(rows)d 行之后无法读取（%(error)s）；之前的 %(imported)d 行已导入。"
                    "请修复文件后重新导入。"
                )
                % {
                    "file": source_path.name,
                    "rows": job.rows_seen,
                    "error": f"{type(exc).__name__}: {exc}",
                    "imported": job.imported,
                },
                details=[{"line": line, "field": "file", "reason": f"{type(exc).__name__}: {exc}"}],
            ) from None
        raise
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
        try:
            if saved:
                _rebuild_indexes(actor, job.pk, saved, counts)
        except BaseException as exc:  # the indexes stay on the job for the next run
            ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.FAILED, message=str(exc)[:1000])
            raise
        finally:
            bulk.end_session()

    job.refresh_from_db()

    with transaction.atomic():
        job.report_path = _write_report(job)
        job.status = ImportStatus.DONE
        job.finished_at = clock.now()
        job.message = ""
        job.save(update_fields=["report_path", "status", "finished_at", "message"])
        record(
            actor=actor,
            action="population.imported",
            target=job,
            data={
                "file": job.file_name,
                "sha256": job.sha256,
                "rows": job.rows_seen,
                "imported": job.imported,
                "rejected": job.rejected,
                "duplicates": job.duplicates,
                "resumed_batches": resumed,
            },
        )
    return _report_for(job, resumed=resumed, already=False, seconds=time.perf_counter() - started)


# --- key rotation --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RekeyReport:
    examined: int
    reencrypted: int
    key_id: str
    changes_examined: int = 0
    changes_reencrypted: int = 0

    def summary(self) -> str:
        return (
            f"{self.examined} people examined, {self.reencrypted} re-encrypted; "
            f"{self.changes_examined} changes examined, {self.changes_reencrypted} re-encrypted; "
            f"key {self.key_id}"
        )


def population_rekey(*, actor: Actor, previous: Sequence[str], batch: int = 1000) -> RekeyReport:
    """Re-encrypt the population's ID numbers made with an older field key under the current one.

    Rotation without downtime (:mod:`sanji.core.rekey`): the operator installs a new current
    ``field`` key and names the old one in ``previous`` (and in ``SANJI_PREVIOUS_FIELD_KEYS`` for
    readers meanwhile). People (number and 15-digit original) and changes (the proposed number and
    the original inside ``values``: a change verified after the rotation still decrypts) are walked
    by id, each batch one short transaction holding its rows, so readers and writers carry on and
    an interrupted run simply continues on the next call. The blind index key never rotates: the
    unique constraint, every exact look-up and the digests other apps keep (e.g.
    ``accounts.User.id_number_index``) depend on it, and recomputing it would need every plaintext
    at once; it reveals nothing by itself. ``sanji rekey`` runs this with the other apps' rekeys.
    """
    require(policies.can_rekey(actor), _("只有平台可以轮换密钥（sanji rekey）。"))
    old = tuple(previous)
    people = rekey_model(
        Person, ("id_number_encrypted", "id_number_original_encrypted"), previous=old, batch=batch
    )

    def change_values(change: PersonChange) -> list[str]:
        original = change.values.get("id_original") if isinstance(change.values, dict) else None
        if not original:
            return []
        fresh = crypto.reencrypt(original, key=FIELD_KEY, previous=old)
        if fresh == original:
            return []
        change.values = {**change.values, "id_original": fresh}
        return ["values"]

    changes = rekey_model(
        PersonChange,
        ("id_number_encrypted", "previous_id_encrypted"),
        previous=old,
        batch=batch,
        extra=change_values,
        extra_fields=("values",),
    )
    current = crypto.key_id(crypto.secret_key(FIELD_KEY))
    with transaction.atomic():
        record(
            actor=actor,
            action="population.rekeyed",
            data={
                "examined": people.examined,
                "reencrypted": people.reencrypted,
                "changes_examined": changes.examined,
                "changes_reencrypted": changes.reencrypted,
                "key_id": current,
                "previous": list(old),
            },
        )
    return RekeyReport(
        examined=people.examined,
        reencrypted=people.reencrypted,
        key_id=current,
        changes_examined=changes.examined,
        changes_reencrypted=changes.reencrypted,
    )


# --- history and counts (for the change services built on these models) ---------------------------


def person_version_close(*, actor: Actor, person: Person, at: dt.datetime, reason: str = "") -> PersonVersion:
    """Close the person's current facts into a :class:`PersonVersion` valid until ``at``.

    Call it inside the change's transaction, *before* changing the person: it snapshots the
    current row, then moves ``person.version``/``valid_from`` on (saved); the caller applies the
    new facts and saves. ``at`` must not be before the current ``valid_from``.
    """
    if at < person.valid_from:
        raise ValidationFailed(_("新版本的开始时间不能早于当前版本。"))
    with transaction.atomic():
        version = PersonVersion.objects.create(
            person=person,
            version=person.version,
            valid_from=person.valid_from,
            valid_to=at,
            snapshot=person.snapshot(),
            region_path=person.region_path,
            closed_by=actor.username,
            reason=reason[:200],
        )
        person.version += 1
        person.valid_from = at
        person.save(update_fields=["version", "valid_from"])
    return version


def building_recount(*, building_ids: Sequence[int]) -> None:
    """Recompute ``resident_count`` (living people) of these buildings from the person table.

    For services that move people or change their status, in their own transaction.
    """
    counts = dict(
        Person.objects.filter(building_id__in=building_ids, status=PersonStatus.LIVING)
        .values_list("building_id")
        .annotate(n=Count("id"))
        .values_list("building_id", "n")
    )
    for building_id in building_ids:
        Building.objects.filter(pk=building_id).update(resident_count=counts.get(building_id, 0))


# --- changes (人口变动): submit → police verification → applied with history → the change feed ------
# The change services; the import functions above belong to the import work. A change is checked
# when submitted (the import's field checks, then the person, household and building against the
# database), decided by a police verifier within reach, and applied in the deciding transaction.

K = ChangeKind
PERSON_INDEX_PURPOSE = "person"
#: Person statuses in which the person's everyday facts may still change (corrections always may).
_LIVING_ONLY = frozenset({K.DEATH, K.MOVE_OUT, K.CANCEL, K.MARRIAGE_STATUS, K.ADDRESS, K.NAME})


def _community_code(region_path: str) -> str:
    return region_path.rstrip("/").rsplit("/", 1)[-1]


def _registered_locally(community_code: str, registered: str) -> bool:
    return community_code == registered or (len(registered) < 12 and community_code.startswith(registered))


def _submittable_people(actor: Actor) -> Any:
    return scope_filter(Person.objects.all(), actor, policies.CHANGE_SUBMITTER_ROLES, department_field=None)


def _resolve_place(
    actor: Actor, values: dict[str, Any], problem: Any
) -> tuple[Household | None, Building | None]:
    """The household (existing) or the building of a new one named by the values; reports problems."""
    code = values.get("household_code")
    if code is None:
        return None, None
    household = Household.objects.filter(code=code).select_related("building").first()
    if household is not None and not policies.can_submit_change_at(actor, household.region_path):
        household = None  # another area's household is not revealed: it is "unknown" here
        problem("household_code", _("户 %(code)s 不在您的辖区内") % {"code": code})
        return None, None
    if household is not None:
        building: Building | None = household.building
        if values.get("building_code") not in (None, household.building.code):
            problem(
                "building_code",
                _("户 %(code)s 登记在楼栋 %(building)s")
                % {"code": code, "building": household.building.code},
            )
        for key in ("unit_number", "room_number", "lon", "lat"):
            if key in values:
                problem(
                    key,
                    _("户 %(code)s 已存在，此处不变更其%(field)s")
                    % {"code": code, "field": change_values.LABELS.get(key, key)},
                )
        values["building_code"] = household.building.code
        return household, building
    if "building_code" not in values:
        problem("household_code", _("未知的户号 %(code)s：新立户请填写楼栋编码") % {"code": code})
        return None, None
    building = (
        policies.scope_places(actor, Building.objects.all()).filter(code=values["building_code"]).first()
    )
    if building is None or not policies.can_submit_change_at(actor, building.region_path):
        problem("building_code", _("您的辖区内没有楼栋 %(code)s") % {"code": values["building_code"]})
        return None, None
    return None, building


def _lock_person(person_id: int) -> Person:
    """The person, locked for the rest of the transaction (two submissions for one person queue)."""
    Person.objects.select_for_update().filter(pk=person_id).values_list("pk", flat=True).first()
    return Person.objects.select_related("building", "household").get(pk=person_id)


def waiting_change_problem(
    person: Person | None, index: bytes, *, person_field: str = "person_id"
) -> dict[str, Any] | None:
    """The problem when a change for this person (or this ID number) is still waiting: one open
    change per person, so each is verified against the facts the one before it left.
    ``person_field`` is the input the person was named by (``id_number`` for a move-in)."""
    waiting = PersonChange.objects.filter(state=ChangeState.SUBMITTED).order_by("submitted_at", "id")
    found = waiting.filter(person_id=person.pk).first() if person is not None else None
    field = person_field
    if found is None and index:
        found = waiting.filter(id_index=index).first()
        field = "id_number"
    if found is None:
        return None
    facts = {
        "id": found.pk,
        "kind": ChangeKind(found.kind).label,
        "date": timezone.localtime(found.submitted_at).date().isoformat(),
    }
    if person is not None and found.person_id == person.pk:
        reason = _(
            "此人已有一项待核查的人口变动（第 %(id)d 号，%(kind)s，%(date)s 申报）；一人同时只能有一项"
            "待核查的变动，请待其核查完毕或撤回后再申报。"
        )
    else:
        reason = _(
            "此公民身份号码已有一项待核查的人口变动（第 %(id)d 号，%(kind)s，%(date)s 申报）；请待其"
            "核查完毕或撤回后再申报。"
        )
    return {"field": field, "reason": reason % facts, "code": "change_waiting", "change_id": found.pk}


def _transfer_problems(
    person: Person,
    values: Mapping[str, Any],
    household: Household | None,
    building: Building | None,
    effective: dt.date | None,
    problem: Any,
) -> None:
    """The checks of a move-in (迁入) of someone already in the registry: moved out, or living and
    registered elsewhere in the city. Refused for the dead and the cancelled, and where the person
    already lives registered (a move within one community is an address change)."""
    if person.status == PersonStatus.DECEASED:
        problem(
            "id_number",
            _("此公民身份号码的人员已登记死亡，不能迁入；如死亡登记有误，请先申报恢复登记。"),
            "deceased",
        )
    elif person.status == PersonStatus.CANCELLED:
        problem(
            "id_number",
            _("此公民身份号码的人员户籍已注销，不能迁入；如注销有误，请先申报恢复登记。"),
            "cancelled",
        )
    elif (
        person.status == PersonStatus.LIVING
        and building is not None
        and person.region_path == building.region_path
        and values.get("registered_code") == person.registered_code
    ):
        if household is not None and household.code == person.household_id:
            problem("household_code", _("此人已在该户登记居住，户籍地相同，无须迁入。"), "already_here")
        else:
            problem(
                "household_code",
                _("此人已在本社区登记居住，户籍地相同：同一社区内换户请申报住址变更。"),
                "already_here",
            )
    if values.get("name", person.name) != person.name:
        problem(
            "name",
            _(
                "与人口库中此公民身份号码登记的姓名不一致：迁入不变更姓名，如需更名请先申报姓名变更或信息更正。"
            ),
            "mismatch",
        )
    if values.get("ethnicity", person.ethnicity) != person.ethnicity:
        problem(
            "ethnicity",
            _("与人口库中此公民身份号码登记的民族不一致：迁入不变更民族，如有错误请先申报信息更正。"),
            "mismatch",
        )
    if (
        effective is not None
        and person.status == PersonStatus.MOVED_OUT
        and person.status_date is not None
        and effective < person.status_date
    ):
        problem(
            "effective_date",
            _("迁入日期早于此人的迁出日期 %(date)s") % {"date": person.status_date.isoformat()},
        )


def change_submit(
    *,
    actor: Actor,
    kind: str,
    person_id: int | None,
    values: Mapping[str, Any],
    reason: str = "",
    evidence: str = "",
) -> PersonChange:
    """Submit a change for police verification (人口变动申报).

    ``person_id`` names the person changed (None for a birth or a move-in: these find the person by
    the ID number); ``values`` the proposed values by field key
    (:data:`sanji.population.change_values.KIND_FIELDS`). A move-in of someone already in the
    registry (moved out, or living and registered elsewhere in the city: a transfer, 迁移) becomes
    a change of that person's residence and registration. A person outside the submitter's area is
    :class:`NotFound`; bad values are :class:`ValidationFailed` listing every problem (``details``:
    field, reason, and a ``code`` for the refusals a client may act on), among them a second change
    for a person (or an ID number) whose change is still waiting: one open change per person.
    Nothing is stored unless everything is right.
    """
    require(
        policies.can_submit_changes(actor)
        and transitions.may_perform(transitions.Action.SUBMIT, roles=actor.roles),
        _("只有人口计生信息员和社区工作人员（网格员）可以申报人口变动。"),
    )
    transitions.check(transitions.Action.SUBMIT, None)
    today = clock.today()
    new_person_kind = kind in change_values.NEW_PERSON_KINDS
    if kind in K.values and not new_person_kind and person_id is None:
        raise ValidationFailed(
            _("此类变动须指明人员。"),
            details=[{"field": "person_id", "reason": _("必填"), "code": "required"}],
        )
    cleaned = change_values.clean(kind, values, today=today, regions=_region_codes())
    ident = cleaned.ident
    index = crypto.blind_digest(ident.number, purpose=PERSON_INDEX_PURPOSE) if ident is not None else b""
    with transaction.atomic():
        person: Person | None = None
        if kind in K.values and not new_person_kind:
            found = get_in_scope(_submittable_people(actor), pk=person_id)
            person = _lock_person(found.pk)
        errors = list(cleaned.errors)
        if new_person_kind and person_id is not None:
            errors.append(
                {
                    "field": "person_id",
                    "reason": _("%(kind)s按公民身份号码确定人员，不指明人员")
                    % {"kind": ChangeKind(kind).label},
                }
            )

        def problem(field: str, reason: str, code: str = "") -> None:
            errors.append({"field": field, "reason": reason, **({"code": code} if code else {})})

        new_values = dict(cleaned.values)
        household, building = _resolve_place(actor, new_values, problem)
        transfer = False
        if ident is not None:
            holder = Person.objects.filter(id_index=index).values_list("pk", flat=True).first()
            if holder is not None and kind == K.MOVE_IN and person_id is None:
                person, transfer = _lock_person(holder), True  # moving in again, or from elsewhere
            elif holder is not None and person is not None and holder == person.pk:
                problem("id_number", _("与登记的公民身份号码相同"))
            elif holder is not None:
                problem("id_number", _("此公民身份号码已在人口库中登记"), "registered")
        waiting = waiting_change_problem(person, index, person_field="id_number" if transfer else "person_id")
        if waiting is not None:
            errors.append(waiting)
        if kind in change_values.REASON_KINDS and not reason.strip():
            problem("reason", _("%(kind)s须写明原因") % {"kind": ChangeKind(kind).label}, "required")
        if transfer and person is not None:
            _transfer_problems(person, new_values, household, building, cleaned.effective_date, problem)
        elif person is not None:
            if kind in _LIVING_ONLY and person.status != PersonStatus.LIVING:
                problem(
                    "person_id",
                    _("此人的人员状态为“%(status)s”，不能申报%(kind)s")
                    % {"status": person.get_status_display(), "kind": ChangeKind(kind).label},
                )
            if kind == K.RESTORE and person.status == PersonStatus.LIVING:
                problem("person_id", _("此人的登记状态正常，无须恢复登记"))
            for key in (
                "name",
                "ethnicity",
                "marital_status",
                "relation",
                "registered_code",
                "registered_address",
            ):
                if key in new_values and new_values[key] == getattr(person, key):
                    problem(key, _("与登记的值相同"))
            if household is not None and household.code == person.household_id:
                problem("household_code", _("此人已在该户居住"))
        if (
            person is not None
            and cleaned.effective_date is not None
            and cleaned.effective_date < person.birth_date
        ):
            problem("effective_date", _("日期早于此人的出生日期"))
        marital = new_values.get("marital_status")
        born = ident if ident is not None else person
        if marital is not None and born is not None:
            too_young = change_values.marriage_age_problem(
                sex=born.sex,
                birth_date=born.birth_date,
                marital_status=marital,
                on=cleaned.effective_date or today,
            )
            if too_young:
                problem("marital_status", too_young, "under_marriage_age")
        if errors:
            raise ValidationFailed(
                _("人口变动有 %(count)d 处问题，未提交。") % {"count": len(errors)}, details=errors
            )

        if building is None and household is not None:
            building = household.building
        if kind == K.BIRTH and building is not None:
            new_values.setdefault("registered_code", _community_code(building.region_path))
            new_values.setdefault("marital_status", "10")
        if ident is not None and ident.upgraded:
            new_values["id_original"] = crypto.encrypt(ident.original, key=FIELD_KEY)
        before: dict[str, Any] = {}
        if person is not None:
            before = person.snapshot()
            before["building_code"] = person.building.code if person.building else ""
            before["unit_number"] = person.household.unit_number if person.household else ""
            before["room_number"] = person.household.room_number if person.household else ""
        # The area whose police verifies: where the person lives, or is to live (a birth, a move-in).
        if person is not None and not transfer:
            region_path = person.region_path
        else:
            region_path = building.region_path if building is not None else ""
        effective = cleaned.effective_date or today
        new_values["effective_date"] = effective.isoformat()
        change = PersonChange.objects.create(
            kind=kind,
            person=person,
            values=new_values,
            before=before,
            fields=change_values.person_fields(kind, cleaned.values, existing=person is not None),
            id_number_encrypted=crypto.encrypt(ident.number, key=FIELD_KEY) if ident is not None else "",
            id_index=index,
            effective_date=effective,
            reason=reason.strip()[:500],
            evidence=evidence.strip()[:500],
            region_path=region_path,
            person_version=person.version if person is not None else None,
            state=ChangeState.SUBMITTED,
            submitted_by_id=actor.user_id,
            submitted_by_name=actor.username,
            submitted_unit_id=actor.unit_id,
            submitted_terminal=actor.terminal_code,
            submitted_at=clock.now(),
        )
        record(
            actor=actor,
            action=transitions.AUDIT_ACTIONS[transitions.Action.SUBMIT],
            target=change,
            region_path=region_path,
            data={
                "kind": kind,
                "person": person.pk if person else None,
                "fields": change.fields,
                **({"transfer_from": person.region_path} if transfer and person is not None else {}),
            },
        )
    return change


def _locked_change(actor: Actor, change_id: int) -> PersonChange:
    change = (
        policies.scope_changes(actor, PersonChange.objects.select_for_update()).filter(pk=change_id).first()
    )
    if change is None:
        raise NotFound()
    return change


def _check_state(change: PersonChange, action: str, expected_state: str, fields: Mapping[str, Any]) -> str:
    target = transitions.check(action, change.state, fields=fields)  # a decided change: 409 here
    if change.state != expected_state:
        raise Conflict(
            _("变动 %(id)d 当前为“%(state)s”，不是“%(expected)s”，请重新加载。")
            % {
                "id": change.pk,
                "state": transitions.state_label(change.state),
                "expected": transitions.state_label(expected_state),
            },
            details={"state": change.state},
        )
    return target


def _feed_append(
    change: PersonChange, person: Person, now: dt.datetime, *, left_region_path: str = ""
) -> ChangeFeedEntry:
    """Append the verified change to the feed, numbered under the head row's lock (commit order).
    ``left_region_path``: the area the change moved the person out of, if it did."""
    head = ChangeFeedHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        try:
            with transaction.atomic():
                ChangeFeedHead.objects.get_or_create(pk=1, defaults={"seq": 0})
        except IntegrityError:  # created by a concurrent first append
            pass
        head = ChangeFeedHead.objects.select_for_update().get(pk=1)
        # A head re-created (a flushed test database) continues after the last entry.
        head.seq = max(
            head.seq, ChangeFeedEntry.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
        )
    head.seq += 1
    head.save(update_fields=["seq"])
    return ChangeFeedEntry.objects.create(
        seq=head.seq,
        change=change,
        kind=change.kind,
        person=person,
        name=person.name,
        fields=change.fields,
        effective_date=change.effective_date,
        region_path=person.region_path,
        left_region_path=left_region_path,
        published_at=now,
    )


def _household_for(change: PersonChange, now: dt.datetime) -> Household:
    values = change.values
    household = Household.objects.filter(code=values["household_code"]).select_related("building").first()
    if household is not None:
        if household.building.code != values["building_code"]:
            raise Conflict(
                _("户 %(code)s 在此变动申报后已登记在另一楼栋，未作任何变更。") % {"code": household.code},
                details={"field": "household_code"},
            )
        return household
    building = Building.objects.get(code=values["building_code"])
    return Household.objects.create(
        code=values["household_code"],
        building=building,
        unit_number=values.get("unit_number", ""),
        room_number=values.get("room_number", ""),
        region_path=building.region_path,
        lon=values.get("lon"),
        lat=values.get("lat"),
        created_at=now,
    )


def _clear_id(change: PersonChange) -> idnumber.IdNumber:
    number = crypto.decrypt(change.id_number_encrypted, key=FIELD_KEY, previous=previous_field_keys())
    return idnumber.parse(number, today=dt.date.max)


def _person_create(change: PersonChange, now: dt.datetime) -> Person:
    if Person.objects.filter(id_index=change.id_index).exists():
        raise Conflict(
            _(
                "此公民身份号码在申报后已登记入人口库，未作任何变更；请退回此变动，按当前登记情况重新申报"
                "（已登记人员的迁入按迁入申报即可）。"
            ),
            details={"field": "id_number"},
        )
    values = change.values
    ident = _clear_id(change)
    household = _household_for(change, now)
    building = Building.objects.get(pk=household.building_id)
    registered = values.get("registered_code") or _community_code(building.region_path)
    return Person.objects.create(
        id_index=change.id_index,
        # Under the current key: a change submitted before a rotation may still hold an old one.
        id_number_encrypted=crypto.reencrypt(change.id_number_encrypted, key=FIELD_KEY),
        id_number_original_encrypted=crypto.reencrypt(values.get("id_original", ""), key=FIELD_KEY),
        id_masked=ident.masked,
        name=values["name"],
        sex=ident.sex,
        ethnicity=values["ethnicity"],
        birth_date=ident.birth_date,
        birthplace_code=ident.address_code,
        marital_status=values.get("marital_status", "90"),
        registered_code=registered,
        registered_address=values.get("registered_address", ""),
        registered_locally=_registered_locally(_community_code(building.region_path), registered),
        household=household,
        relation=values["relation"],
        building=building,
        region_path=building.region_path,
        status=PersonStatus.LIVING,
        source="change",
        source_ref=f"change:{change.pk}",
        source_at=change.submitted_at,
        recorded_at=now,
        verified=True,
        verified_at=now,
        version=1,
        valid_from=now,
    )


def _apply(change: PersonChange, person: Person, now: dt.datetime) -> None:
    """Set the change's values on the (locked, version-closed) person; the caller saves."""
    values = change.values
    if change.kind == K.DEATH:
        person.status, person.status_date = PersonStatus.DECEASED, change.effective_date
    elif change.kind == K.MOVE_OUT:
        person.status, person.status_date = PersonStatus.MOVED_OUT, change.effective_date
    elif change.kind == K.CANCEL:
        person.status, person.status_date = PersonStatus.CANCELLED, change.effective_date
    elif change.kind == K.RESTORE:
        person.status, person.status_date = PersonStatus.LIVING, None
    elif change.kind == K.MOVE_IN:  # someone in the registry moves in (a transfer): current, here
        person.status, person.status_date = PersonStatus.LIVING, None
        person.registered_address = values.get("registered_address", "")
    for key in ("name", "ethnicity", "marital_status", "relation", "registered_code", "registered_address"):
        if key in values:
            setattr(person, key, values[key])
    if "household_code" in values:
        household = _household_for(change, now)
        person.household = household
        person.building_id = household.building_id
        person.region_path = household.region_path
    if "registered_code" in values or "household_code" in values:
        person.registered_locally = _registered_locally(
            _community_code(person.region_path), person.registered_code
        )
    if change.id_number_encrypted and bytes(change.id_index) != bytes(person.id_index):
        if Person.objects.filter(id_index=change.id_index).exclude(pk=person.pk).exists():
            raise Conflict(
                _("更正后的公民身份号码在申报后已登记入人口库，未作任何变更。"),
                details={"field": "id_number"},
            )
        # The birth date, sex and birthplace are the ID number's (GB 11643): they change with it.
        ident = _clear_id(change)
        change.previous_id_encrypted = crypto.reencrypt(person.id_number_encrypted, key=FIELD_KEY)
        change.previous_id_index = bytes(person.id_index)
        person.id_index = change.id_index
        person.id_number_encrypted = crypto.reencrypt(change.id_number_encrypted, key=FIELD_KEY)
        person.id_number_original_encrypted = crypto.reencrypt(values.get("id_original", ""), key=FIELD_KEY)
        person.id_masked = ident.masked
        person.birth_date, person.sex, person.birthplace_code = (
            ident.birth_date,
            ident.sex,
            ident.address_code,
        )
    person.source = "change"
    person.source_ref = f"change:{change.pk}"
    person.source_at = change.submitted_at
    person.recorded_at = now
    person.verified = True
    person.verified_at = now


def change_verify(*, actor: Actor, change_id: int, expected_state: str) -> PersonChange:
    """Verify a change (公安核查通过) and apply it, all in one transaction.

    The person's current facts are closed into a version (:func:`person_version_close`), the new
    facts set and marked verified by public security, the buildings' counts recomputed, the change
    published on the feed and the audit entry written. Raises :class:`NotFound` outside reach,
    :class:`Forbidden` for someone who may see but not decide it (their own submission),
    :class:`IllegalTransition` when it is already decided, :class:`Conflict` when
    ``expected_state`` is stale or the person changed since submission (another change was
    applied first): then nothing is applied and the change stays waiting, to be rejected.
    """
    with transaction.atomic():
        change = _locked_change(actor, change_id)
        _check_state(change, transitions.Action.VERIFY, expected_state, {})
        require(
            policies.can_decide_change(
                actor, region_path=change.region_path, submitted_by_id=change.submitted_by_id
            ),
            _("只有该人员所在辖区的公安核查员可以核查人口变动，且不能核查本人申报的变动。"),
        )
        now = clock.now()
        buildings: set[int] = set()
        left = ""
        if change.person_id is None:  # a birth, or the move-in of someone new to the registry
            person = _person_create(change, now)
        else:
            person = Person.objects.select_for_update().get(pk=change.person_id or 0)
            if person.version != change.person_version:
                raise Conflict(
                    _(
                        "此人的登记信息在申报后已有变更（当前为第 %(now)d 版，申报时为第 %(then)d 版），"
                        "未作任何变更；请退回此变动，按当前登记情况重新申报。"
                    )
                    % {"now": person.version, "then": change.person_version or 0},
                    details={"person_version": person.version, "submitted_against": change.person_version},
                )
            if person.building_id is not None:
                buildings.add(person.building_id)
            person_version_close(
                actor=actor, person=person, at=now, reason=f"change {change.pk}: {change.kind}"
            )
            before = person.region_path
            _apply(change, person, now)
            person.save()
            left = before if before != person.region_path else ""
        if person.building_id is not None:
            buildings.add(person.building_id)
        building_recount(building_ids=sorted(buildings))
        change.person = person
        change.state = ChangeState.VERIFIED
        change.decided_by_id = actor.user_id
        change.decided_by_name = actor.username
        change.decided_at = now
        change.save(
            update_fields=[
                "person",
                "state",
                "decided_by",
                "decided_by_name",
                "decided_at",
                "previous_id_encrypted",
                "previous_id_index",
            ]
        )
        record(
            actor=actor,
            action=transitions.AUDIT_ACTIONS[transitions.Action.VERIFY],
            target=change,
            region_path=change.region_path,
            data={
                "kind": change.kind,
                "person": person.pk,
                "version": person.version,
                "fields": change.fields,
            },
        )
        _feed_append(change, person, now, left_region_path=left)
    return change


def change_reject(
    *, actor: Actor, change_id: int, reason: str, expected_state: str = ChangeState.SUBMITTED
) -> PersonChange:
    """Reject a change (核查不通过): it returns to the submitter with the reason; nothing is applied."""
    with transaction.atomic():
        change = _locked_change(actor, change_id)
        _check_state(change, transitions.Action.REJECT, expected_state, {"reason": reason})
        require(
            policies.can_decide_change(
                actor, region_path=change.region_path, submitted_by_id=change.submitted_by_id
            ),
            _("只有该人员所在辖区的公安核查员可以核查人口变动，且不能核查本人申报的变动。"),
        )
        change.state = ChangeState.REJECTED
        change.decided_by_id = actor.user_id
        change.decided_by_name = actor.username
        change.decided_at = clock.now()
        change.decision_reason = reason.strip()[:500]
        change.save(update_fields=["state", "decided_by", "decided_by_name", "decided_at", "decision_reason"])
        record(
            actor=actor,
            action=transitions.AUDIT_ACTIONS[transitions.Action.REJECT],
            target=change,
            region_path=change.region_path,
            data={"kind": change.kind, "reason": change.decision_reason},
        )
    return change


def change_withdraw(
    *, actor: Actor, change_id: int, expected_state: str = ChangeState.SUBMITTED, reason: str = ""
) -> PersonChange:
    """The submitter takes back a change still waiting for verification."""
    with transaction.atomic():
        change = _locked_change(actor, change_id)
        _check_state(change, transitions.Action.WITHDRAW, expected_state, {})
        if not policies.can_withdraw_change(actor, submitted_by_id=change.submitted_by_id):
            raise Forbidden(_("只有申报人可以撤回人口变动。"))
        change.state = ChangeState.WITHDRAWN
        change.decided_at = clock.now()
        change.decision_reason = reason.strip()[:500]
        change.save(update_fields=["state", "decided_at", "decision_reason"])
        record(
            actor=actor,
            action=transitions.AUDIT_ACTIONS[transitions.Action.WITHDRAW],
            target=change,
            region_path=change.region_path,
            data={"kind": change.kind},
        )
    return change


# --- grid workers (网格员) -------------------------------------------------------------------------


def grid_worker_assign(*, actor: Actor, grid_id: int, worker_id: int | None) -> Grid:
    """Make a person the grid worker (网格员) of a grid, or clear it (``worker_id=None``).

    The system administrator within reach (or the platform) assigns; the worker must be an active
    person holding the community-worker role in a unit whose reach covers the grid.
    """
    # Imported here so that this block stays self-contained (merges with other population blocks).
    from sanji.accounts import selectors as account_selectors
    from sanji.accounts.models import User
    from sanji.core.roles import Role

    with transaction.atomic():
        grid = Grid.objects.select_for_update().filter(pk=grid_id).first()
        if grid is None or not policies.can_see_region(actor, grid.region_path):
            raise NotFound()
        require(
            policies.can_configure_places(actor, grid.region_path),
            _("只有系统管理员可以指定网格员。"),
        )
        if worker_id is not None:
            user = User.objects.filter(pk=worker_id, is_active=True).first()
            grants = account_selectors.grants_for_user(user.pk) if user is not None else ()
            if user is None or not any(
                g.role == Role.COMMUNITY_WORKER and g.reaches(grid.region_path) for g in grants
            ):
                raise ValidationFailed(_("网格员必须是所在单位辖区覆盖该网格的社区工作人员。"))
        previous = grid.worker_id
        grid.worker_id = worker_id
        grid.save(update_fields=["worker"])
        record(
            actor=actor,
            action="population.grid_worker_assigned",
            target=grid,
            region_path=grid.region_path,
            data={"grid": grid.code, "worker_id": worker_id, "previous_worker_id": previous},
        )
    return grid


# --- the change feed as packages (for a department's front-end processor, 前置机) ------------------


def feed_export(*, actor: Actor, out_dir: Path, batch: int = 1000, operator: str = "") -> FeedExportReport:
    """Write the verified changes the actor may read after its cursor to ``out_dir`` as signed
    packages, each recorded and audited before it is written.

    See :func:`sanji.population.feed_packages.feed_export` (names, format, crash behaviour, refusals).
    """
    # Imported here: feed_packages reads through the selectors, which import this module.
    from sanji.population import feed_packages

    return feed_packages.feed_export(actor=actor, out_dir=out_dir, batch=batch, operator=operator)


def feed_public_key() -> tuple[str, str]:
    """(key id, PEM) of the key that signs the feed packages (created on first use)."""
    from sanji.population import feed_packages

    return feed_packages.exchange_public_key()
