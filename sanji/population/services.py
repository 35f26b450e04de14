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
        raise NotFound(f"No city with code {city_code}.")
    require(policies.can_configure_places(actor, city.path), "Only the system administrator seeds places.")
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
            "The file is not valid JSON; nothing was imported.",
            details=[_feature_error(exc.lineno, "file", f"invalid JSON: {exc.msg}")],
        ) from None
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise ValidationFailed(
            "Expected a GeoJSON FeatureCollection; nothing was imported.",
            details=[_feature_error(0, "type", "the top level must be a FeatureCollection")],
        )
    features = document.get("features") or []
    errors: list[dict[str, Any]] = []
    parsed: list[tuple[str, str, str, Any, str, int]] = []  # (level, code, name, shape, geojson, feature no.)
    for n, feature in enumerate(features, start=1):
        props = (feature or {}).get("properties") or {}
        level = str(props.get("level", "")).strip()
        code = str(props.get("code", "")).strip()
        if level not in ("community", "grid"):
            errors.append(_feature_error(n, "level", f"level must be community or grid, not {level!r}"))
            continue
        want = 12 if level == "community" else 12 + layout.GRID_CODE_DIGITS
        if not (code.isdigit() and len(code) == want):
            errors.append(_feature_error(n, "code", f"a {level} code has {want} digits, not {code!r}"))
            continue
        geometry = (feature or {}).get("geometry") or {}
        if geometry.get("type") not in ("Polygon", "MultiPolygon"):
            errors.append(_feature_error(n, "geometry", "the geometry must be a Polygon or MultiPolygon"))
            continue
        try:
            geom = shape(geometry)
        except Exception as exc:  # shapely raises several types for malformed coordinates
            errors.append(_feature_error(n, "geometry", f"malformed coordinates: {exc}"))
            continue
        if geom.is_empty or not geom.is_valid:
            reason = "empty polygon" if geom.is_empty else explain_validity(geom)
            errors.append(_feature_error(n, "geometry", f"invalid polygon: {reason}"))
            continue
        min_lon, min_lat, max_lon, max_lat = geom.bounds
        if not (coords.in_city(min_lon, min_lat) and coords.in_city(max_lon, max_lat)):
            errors.append(_feature_error(n, "geometry", "coordinates outside the city"))
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
    file_shapes = {code: geom for lv, code, _, geom, *_ in parsed if lv == "community"}
    stored_shapes = dict(
        CommunityBoundary.objects.filter(region__code__in=community_codes).values_list(
            "region__code", "geometry"
        )
    )
    for level, code, name, geom, _, n in parsed:
        community = code[:12]
        if community not in regions:
            errors.append(_feature_error(n, "code", f"no community with code {community}"))
            continue
        if level == "grid":
            if not name:
                errors.append(_feature_error(n, "name", "a grid needs a name"))
            outer = file_shapes.get(community)
            if outer is None and community in stored_shapes:
                outer = shape(json.loads(stored_shapes[community]))
            if outer is not None and not outer.buffer(1e-6).contains(geom):
                errors.append(
                    _feature_error(n, "geometry", f"the grid lies outside community {community}'s boundary")
                )
    for i, (level, code, *_rest, n) in enumerate(parsed):
        if any(p[0] == level and p[1] == code for p in parsed[:i]):
            errors.append(_feature_error(n, "code", f"{code} appears twice"))
    if errors:
        raise ValidationFailed(
            f"{len(errors)} problems in the boundary file; nothing was imported.", details=errors
        )

    for _, code, *_ in parsed:
        require(
            policies.can_configure_places(actor, regions[code[:12]][1]),
            "Only the system administrator imports boundaries, within their area.",
        )
    now = clock.now()
    created = updated = communities = 0
    with transaction.atomic():
        for level, code, name, geom, text_geom, _ in parsed:
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
                _, was_created = Grid.objects.update_or_create(
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
    resident counts of the load (``counts``, or recounted when a killed load left them unknown)."""
    with transaction.atomic():
        bulk.apply_counts(counts)
        removed = bulk.create_indexes(saved)
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
    require(policies.can_import(actor), "Only the population data officer imports people.")
    started = time.perf_counter()
    source_path = Path(path)
    sha = bulk.file_sha256(source_path)
    try:
        source = bulk.open_source(source_path, batch_rows)
    except (ValueError, KeyError) as exc:
        raise ValidationFailed(
            f"Cannot read {source_path.name}: {exc}",
            details=[{"line": 1, "field": "file", "reason": str(exc)}],
        ) from None
    try:
        try:
            index = records.header_index(source.header)
        except records.HeaderError as exc:
            raise ValidationFailed(
                f"The header of {source_path.name} is unusable: {exc}",
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
        job, _ = ImportJob.objects.select_for_update().get_or_create(
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
                f"{source_path.name} cannot be read past row {job.rows_seen} ({type(exc).__name__}: {exc}); "
                f"the {job.imported} rows before it are imported. Repair the file and import it again.",
                details=[{"line": line, "field": "file", "reason": f"{type(exc).__name__}: {exc}"}],
            ) from None
        raise
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
        if saved:
            _rebuild_indexes(actor, job.pk, saved, counts)
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
    require(policies.can_rekey(actor), "Only the platform rotates keys (sanji rekey).")
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
        ("id_number_encrypted",),
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
        raise ValidationFailed("A new version cannot start before the current one.")
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
        problem("household_code", f"household {code} is not in your area")
        return None, None
    if household is not None:
        building: Building | None = household.building
        if values.get("building_code") not in (None, household.building.code):
            problem("building_code", f"household {code} lives in building {household.building.code}")
        for key in ("unit_number", "room_number", "lon", "lat"):
            if key in values:
                problem(key, f"household {code} exists; its {key.replace('_', ' ')} is not changed here")
        values["building_code"] = household.building.code
        return household, building
    if "building_code" not in values:
        problem("household_code", f"unknown household {code}: give the building code to create it")
        return None, None
    building = (
        policies.scope_places(actor, Building.objects.all()).filter(code=values["building_code"]).first()
    )
    if building is None or not policies.can_submit_change_at(actor, building.region_path):
        problem("building_code", f"unknown building {values['building_code']} in your area")
        return None, None
    return None, building


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

    ``person_id`` names the person changed (None for a birth or the move-in of someone new);
    ``values`` the proposed values by field key (:data:`sanji.population.change_values.KIND_FIELDS`).
    A person outside the submitter's area is :class:`NotFound`; bad values are
    :class:`ValidationFailed` listing every problem (``details``: field, reason); nothing is
    stored unless everything is right.
    """
    require(
        policies.can_submit_changes(actor)
        and transitions.may_perform(transitions.Action.SUBMIT, roles=actor.roles),
        "Only the population data officer and community or grid workers submit changes.",
    )
    transitions.check(transitions.Action.SUBMIT, None)
    today = clock.today()
    person: Person | None = None
    if kind in K.values and kind not in change_values.NEW_PERSON_KINDS:
        if person_id is None:
            raise ValidationFailed(
                "This kind of change names the person.",
                details=[{"field": "person_id", "reason": "required"}],
            )
        person = get_in_scope(
            _submittable_people(actor).select_related("building", "household"), pk=person_id
        )
    cleaned = change_values.clean(kind, values, today=today, regions=_region_codes())
    errors = list(cleaned.errors)
    if kind in change_values.NEW_PERSON_KINDS and person_id is not None:
        errors.append({"field": "person_id", "reason": f"a {kind} creates the person: name nobody"})

    def problem(field: str, reason: str) -> None:
        errors.append({"field": field, "reason": reason})

    new_values = dict(cleaned.values)
    household, building = _resolve_place(actor, new_values, problem)
    ident = cleaned.ident
    index = crypto.blind_digest(ident.number, purpose=PERSON_INDEX_PURPOSE) if ident is not None else b""
    if ident is not None:
        holders = Person.objects.filter(id_index=index)
        if person is not None:
            holders = holders.exclude(pk=person.pk)
        if holders.exists():
            problem("id_number", "this ID number is already in the registry")
        elif (
            person is None
            and PersonChange.objects.filter(id_index=index, state=ChangeState.SUBMITTED).exists()
        ):
            problem("id_number", "a change for this ID number is already waiting for verification")
        elif person is not None and index == person.id_index:
            problem("id_number", "the ID number is the one registered")
    if kind in change_values.REASON_KINDS and not reason.strip():
        problem("reason", f"a {kind} change states its reason")
    if person is not None:
        if kind in _LIVING_ONLY and person.status != PersonStatus.LIVING:
            problem("person_id", f"the person's status is {person.get_status_display()}; no {kind} change")
        if kind == K.RESTORE and person.status == PersonStatus.LIVING:
            problem("person_id", "the person's record is current; there is nothing to restore")
        if cleaned.effective_date is not None and cleaned.effective_date < person.birth_date:
            problem("effective_date", "the date is before the person's birth date")
        for key in (
            "name",
            "ethnicity",
            "marital_status",
            "relation",
            "registered_code",
            "registered_address",
        ):
            if key in new_values and new_values[key] == getattr(person, key):
                problem(key, "the value is the one registered")
        if household is not None and household.code == person.household_id:
            problem("household_code", "the person already lives in this household")
    if errors:
        raise ValidationFailed(
            f"{len(errors)} problems in the change; nothing was submitted.", details=errors
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
    region_path = person.region_path if person is not None else building.region_path if building else ""
    effective = cleaned.effective_date or today
    new_values["effective_date"] = effective.isoformat()
    with transaction.atomic():
        change = PersonChange.objects.create(
            kind=kind,
            person=person,
            values=new_values,
            before=before,
            fields=change_values.person_fields(kind, cleaned.values),
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
            data={"kind": kind, "person": person.pk if person else None, "fields": change.fields},
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
            f"Change {change.pk} is {change.state}, not {expected_state}; reload it.",
            details={"state": change.state},
        )
    return target


def _feed_append(change: PersonChange, person: Person, now: dt.datetime) -> ChangeFeedEntry:
    """Append the verified change to the feed, numbered under the head row's lock (commit order)."""
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
        published_at=now,
    )


def _household_for(change: PersonChange, now: dt.datetime) -> Household:
    values = change.values
    household = Household.objects.filter(code=values["household_code"]).select_related("building").first()
    if household is not None:
        if household.building.code != values["building_code"]:
            raise Conflict(
                f"Household {household.code} was registered in another building after this change was "
                "submitted; nothing was applied.",
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
            "This ID number entered the registry after the change was submitted; nothing was applied.",
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
    if change.id_number_encrypted:
        if Person.objects.filter(id_index=change.id_index).exclude(pk=person.pk).exists():
            raise Conflict(
                "The corrected ID number entered the registry meanwhile; nothing was applied.",
                details={"field": "id_number"},
            )
        ident = _clear_id(change)
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
            "Only a police verifier of the person's area decides a change, never their own submission.",
        )
        now = clock.now()
        buildings: set[int] = set()
        if change.kind in change_values.NEW_PERSON_KINDS:
            person = _person_create(change, now)
        else:
            person = Person.objects.select_for_update().get(pk=change.person_id or 0)
            if person.version != change.person_version:
                raise Conflict(
                    f"The person changed since this change was submitted (now version {person.version}, "
                    f"submitted against {change.person_version}); nothing was applied. Reject it and "
                    "submit it again against the current facts.",
                    details={"person_version": person.version, "submitted_against": change.person_version},
                )
            if person.building_id is not None:
                buildings.add(person.building_id)
            person_version_close(
                actor=actor, person=person, at=now, reason=f"change {change.pk}: {change.kind}"
            )
            _apply(change, person, now)
            person.save()
        if person.building_id is not None:
            buildings.add(person.building_id)
        building_recount(building_ids=sorted(buildings))
        change.person = person
        change.state = ChangeState.VERIFIED
        change.decided_by_id = actor.user_id
        change.decided_by_name = actor.username
        change.decided_at = now
        change.save(update_fields=["person", "state", "decided_by", "decided_by_name", "decided_at"])
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
        _feed_append(change, person, now)
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
            "Only a police verifier of the person's area decides a change, never their own submission.",
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
            raise Forbidden("Only the submitter withdraws a change.")
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
            "Only the system administrator assigns grid workers.",
        )
        if worker_id is not None:
            user = User.objects.filter(pk=worker_id, is_active=True).first()
            grants = account_selectors.grants_for_user(user.pk) if user is not None else ()
            if user is None or not any(
                g.role == Role.COMMUNITY_WORKER and g.reaches(grid.region_path) for g in grants
            ):
                raise ValidationFailed(
                    "The grid worker must be a community worker whose unit covers the grid."
                )
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
