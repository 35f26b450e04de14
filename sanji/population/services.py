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
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count

from sanji.audit.services import record
from sanji.core import clock, crypto
from sanji.core.actors import Actor
from sanji.core.authz import require
from sanji.core.errors import NotFound, ValidationFailed
from sanji.orgs.models import Region, RegionLevel
from sanji.population import bulk, coords, layout, policies, records
from sanji.population.models import (
    BoundarySource,
    Building,
    CommunityBoundary,
    Grid,
    ImportJob,
    ImportRowError,
    ImportStatus,
    Person,
    PersonStatus,
    PersonVersion,
)

FIELD_KEY = "field"


def previous_field_keys() -> tuple[str, ...]:
    """Key names still accepted for decryption during a rotation (``SANJI_PREVIOUS_FIELD_KEYS``)."""
    raw = getattr(settings, "SANJI_PREVIOUS_FIELD_KEYS", None) or os.environ.get(
        "SANJI_PREVIOUS_FIELD_KEYS", ""
    )
    if isinstance(raw, str):
        return tuple(name.strip() for name in raw.split(",") if name.strip())
    return tuple(raw)


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

    bulk.restore_indexes()
    saved: list[list[str]] = []
    with transaction.atomic():
        if job.done_batches == 0 and bulk.person_table_empty():
            saved = bulk.drop_indexes([bulk.PERSON_TABLE, bulk.HOUSEHOLD_TABLE])
            ImportJob.objects.filter(pk=job.pk).update(saved_indexes=saved, status=ImportStatus.RUNNING)

    setup = bulk.WorkerSetup(
        engine=connection.vendor,
        encoding=source.encoding,
        index=index,
        context=records.Context(today=clock.today(), buildings=_building_refs(actor)),
        job_id=job.pk,
        source_ref=f"import:{source_path.name}:{sha[:12]}",
        now_db=bulk.db_time(now),
        now=now,
    )
    todo: Iterator[bulk.Batch] = (b for b in source.batches if b.number >= job.done_batches)
    committed = 0
    bulk.prepare_session()
    try:
        for result in bulk.run_batches(setup, todo, workers=workers):
            with transaction.atomic():
                inserted = bulk.write_batch(result, job.pk)
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
            if bulk.CRASH_AFTER_BATCHES is not None and committed >= bulk.CRASH_AFTER_BATCHES:
                raise bulk.SimulatedCrash(f"simulated crash after {committed} batches")
    except BaseException as exc:
        ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.FAILED, message=str(exc)[:1000])
        raise
    finally:
        if saved:
            bulk.create_indexes(saved)
            ImportJob.objects.filter(pk=job.pk).update(saved_indexes=[])

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


@dataclass(frozen=True, slots=True)
class RekeyReport:
    examined: int
    reencrypted: int
    key_id: str

    def summary(self) -> str:
        return f"{self.examined} people examined, {self.reencrypted} re-encrypted with key {self.key_id}"


def population_rekey(*, actor: Actor, previous: Sequence[str], batch: int = 5000) -> RekeyReport:
    """Re-encrypt ID numbers made with an older field key under the current one, in batches.

    Rotation without downtime: the operator installs a new current ``field`` key and names the
    old one in ``previous`` (and in ``SANJI_PREVIOUS_FIELD_KEYS`` for readers meanwhile); rows are
    walked by id, each batch in its own short transaction, so readers and writers carry on and an
    interrupted run simply continues on the next call (rows already under the current key are
    skipped). The blind index key never rotates: the unique constraint, every exact look-up and
    the digests other apps keep (e.g. ``accounts.User.id_number_index``) depend on it, and
    recomputing it would need every plaintext at once; it reveals nothing by itself.
    """
    require(policies.can_rekey(actor), "Only the platform rotates keys (sanji population rekey).")
    crypto.clear_cache()
    current = crypto.key_id(crypto.secret_key(FIELD_KEY))
    previous = tuple(previous)
    marker = f"v1.{current}."
    examined = changed = 0
    last_id = 0
    table = Person._meta.db_table
    while True:
        rows = list(
            Person.objects.filter(id__gt=last_id)
            .order_by("id")
            .values_list("id", "id_number_encrypted", "id_number_original_encrypted")[:batch]
        )
        if not rows:
            break
        last_id = rows[-1][0]
        examined += len(rows)
        updates = []
        for pk, number, original in rows:
            if number.startswith(marker) and (not original or original.startswith(marker)):
                continue
            new_number = crypto.encrypt(
                crypto.decrypt(number, key=FIELD_KEY, previous=previous), key=FIELD_KEY
            )
            new_original = (
                crypto.encrypt(crypto.decrypt(original, key=FIELD_KEY, previous=previous), key=FIELD_KEY)
                if original
                else ""
            )
            updates.append((new_number, new_original, pk))
        if updates:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.executemany(
                    f"UPDATE {table} SET id_number_encrypted = %s, "  # noqa: S608
                    "id_number_original_encrypted = %s WHERE id = %s",
                    updates,
                )
            changed += len(updates)
    with transaction.atomic():
        record(
            actor=actor,
            action="population.rekeyed",
            data={
                "examined": examined,
                "reencrypted": changed,
                "key_id": current,
                "previous": list(previous),
            },
        )
    return RekeyReport(examined=examined, reencrypted=changed, key_id=current)


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
