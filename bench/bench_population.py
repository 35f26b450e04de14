"""Population import and spatial reads with Hohhot's 3.5 million residents (``SANJI_BENCH_POP_N``).

1. Set-up (not timed as the import): Hohhot's divisions, the synthetic places
   (``population_seed_places``) and a synthetic resident file (``sanji population generate``; its
   time is reported too).
2. ``population_import`` of that file into the empty registry: parsed, checked, encrypted and
   indexed by 2 worker processes; on SQLite the workers stage each batch in a scratch file that the
   writer copies with ``INSERT … SELECT``, on PostgreSQL they format ``COPY`` text.
3. Spatial reads on the loaded registry (median of 5 runs): the residents inside one community
   polygon (the most populous community; ids, masked ID and name fetched), and population per
   grid for a whole district (赛罕区, the largest).
4. Anchor: the raw engine loading the *same rows* (dumped from the table after step 2) with the
   same indexes under the same rule (secondary indexes and the unique blind index dropped,
   re-created after the load) and
   the same session settings (``bulk.prepare_session``: SQLite page cache and in-memory sorts,
   PostgreSQL index-build memory), no checks, no encryption: ``executemany`` in 50,000-row
   transactions on SQLite, ``COPY`` on PostgreSQL. ratio = import / raw.

The machine's load average is recorded in the notes: other work on this 2-core machine slows both.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

NAME = "population"
SIZE = int(os.environ.get("SANJI_BENCH_POP_N", "3500000"))
IMPORT_BUDGET = {"sqlite": 60.0, "postgresql": 40.0}
QUERY_BUDGET_MS = 200.0
RAW_BATCH = 50_000


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores"


def _median_ms(fn: Any, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 1)


def _dump(path: Path, table: str, columns: tuple[str, ...]) -> None:
    from django.db import connection

    cols = ", ".join(columns)
    with connection.cursor() as cursor:
        raw = cursor.cursor
        if connection.vendor == "postgresql":
            with path.open("wb") as fh, raw.copy(f"COPY {table} ({cols}) TO STDOUT") as copy:
                for block in copy:
                    fh.write(block)
            return
        raw.execute(f"SELECT {cols} FROM {table} ORDER BY id")
        with path.open("w", encoding="utf-8") as fh:
            while rows := raw.fetchmany(50_000):
                fh.writelines("\t".join("\\N" if v is None else str(v) for v in row) + "\n" for row in rows)


def _raw_load(path: Path, table: str, columns: tuple[str, ...]) -> None:
    from django.db import connection, transaction

    cols = ", ".join(columns)
    raw = connection.connection
    if connection.vendor == "postgresql":
        with (
            transaction.atomic(),
            raw.cursor() as cur,
            path.open("rb") as fh,
            cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy,
        ):
            while block := fh.read(1 << 20):
                copy.write(block)
        return
    marks = ", ".join("?" * len(columns))
    sql = f"INSERT INTO {table} ({cols}) VALUES ({marks})"
    with path.open(encoding="utf-8") as fh:
        batch: list[list[str | None]] = []
        for line in fh:
            batch.append([None if v == "\\N" else v for v in line.rstrip("\n").split("\t")])
            if len(batch) == RAW_BATCH:
                with transaction.atomic():
                    raw.executemany(sql, batch)
                batch = []
        if batch:
            with transaction.atomic():
                raw.executemany(sql, batch)


def run(engine: str) -> list[dict[str, Any]]:
    from django.db import connection
    from django.db.models import Count

    from sanji.core import clock
    from sanji.core.actors import system_actor
    from sanji.orgs import services as org_services
    from sanji.population import bulk, generator, selectors, services
    from sanji.population.models import Building, Household, Person

    actor = system_actor("bench", channel="cli")
    org_services.region_import_path(actor=actor)
    services.population_seed_places(actor=actor, city_code="150100")
    work = Path(tempfile.mkdtemp(prefix="sanji-bench-population-"))
    csv_path = work / "residents.csv"

    load_before = _load()
    started = time.perf_counter()
    generator.generate(residents=SIZE, out=csv_path, seed=1, today=clock.today())
    generate_seconds = time.perf_counter() - started

    started = time.perf_counter()
    report = services.population_import(actor=actor, path=csv_path)
    import_seconds = time.perf_counter() - started
    if report.imported != SIZE:
        raise RuntimeError(f"import lost rows: {report.summary()}")
    load_import = _load()

    top = (
        Person.objects.values("region_path")
        .annotate(n=Count("id"))
        .order_by("-n")
        .values_list("region_path", "n")[:1]
    )
    community_path, community_people = top[0]
    code = community_path.rstrip("/").rsplit("/", 1)[-1]

    def polygon() -> int:
        return len(
            list(
                selectors.residents_in_community_boundary(actor, code).values_list("id", "id_masked", "name")
            )
        )

    def per_grid() -> int:
        return len(selectors.population_per_grid(actor, "150105"))

    inside = polygon()
    polygon_ms = _median_ms(polygon)
    grids = per_grid()
    per_grid_ms = _median_ms(per_grid)

    # The anchor: the same rows, same indexes, same rule, through the raw engine.
    person_file, household_file = work / "person.tsv", work / "household.tsv"
    _dump(person_file, bulk.PERSON_TABLE, ("id", *bulk.PERSON_COLUMNS))
    _dump(household_file, bulk.HOUSEHOLD_TABLE, ("id", *bulk.HOUSEHOLD_COLUMNS))
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {bulk.PERSON_TABLE}")
        cursor.execute(f"DELETE FROM {bulk.HOUSEHOLD_TABLE}")
    if engine == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM {bulk.PERSON_TABLE}")
            cursor.execute(f"VACUUM {bulk.HOUSEHOLD_TABLE}")
    started = time.perf_counter()
    bulk.prepare_session()  # the import's session settings: page cache, index-build memory
    saved = bulk.drop_indexes([bulk.PERSON_TABLE, bulk.HOUSEHOLD_TABLE])
    _raw_load(household_file, bulk.HOUSEHOLD_TABLE, ("id", *bulk.HOUSEHOLD_COLUMNS))
    _raw_load(person_file, bulk.PERSON_TABLE, ("id", *bulk.PERSON_COLUMNS))
    bulk.create_indexes(saved, parallel=True)  # as the import builds them after its load
    raw_seconds = time.perf_counter() - started
    bulk.end_session()
    if Person.objects.count() != SIZE:
        raise RuntimeError("raw load lost rows")
    load_after = _load()
    households = Household.objects.count()
    buildings = Building.objects.count()
    for path in work.iterdir():
        path.unlink()
    work.rmdir()

    loads = f"before: {load_before}; after import: {load_import}; after raw: {load_after}"
    return [
        {
            "name": "population_import",
            "value": round(import_seconds, 2),
            "unit": "s",
            "size": SIZE,
            "anchor": {
                "name": "raw engine, same rows and indexes (executemany / COPY, no checks)",
                "value": round(raw_seconds, 2),
                "unit": "s",
            },
            "notes": (
                f"population_import(): 2 workers parse+check+encrypt, {report.summary().split(';')[0]}; "
                f"{households} households; budget {IMPORT_BUDGET[engine]} s; goal ratio <= 2.2; {loads}"
            ),
        },
        {
            "name": "population_import_budget",
            "value": round(import_seconds, 2),
            "unit": "s",
            "size": SIZE,
            "anchor": {"name": "issue budget", "value": IMPORT_BUDGET[engine], "unit": "s"},
            "notes": "ratio < 1 meets the budget",
        },
        {
            "name": "population_residents_in_polygon",
            "value": polygon_ms,
            "unit": "ms",
            "size": SIZE,
            "anchor": {"name": "issue budget", "value": QUERY_BUDGET_MS, "unit": "ms"},
            "notes": (
                f"residents inside community {code}'s polygon ({inside} people, "
                f"{community_people} living in it; box prefilter on building lon/lat + shapely "
                "contains_xy, rows fetched), median of 5"
            ),
        },
        {
            "name": "population_per_grid_district",
            "value": per_grid_ms,
            "unit": "ms",
            "size": SIZE,
            "anchor": {"name": "issue budget", "value": QUERY_BUDGET_MS, "unit": "ms"},
            "notes": f"per grid, 赛罕区 ({grids} grids; {buildings} buildings in all), median of 5",
        },
        {
            "name": "population_generate",
            "value": round(generate_seconds, 2),
            "unit": "s",
            "size": SIZE,
            "anchor": {"name": "issue: well under a minute", "value": 60.0, "unit": "s"},
            "notes": "sanji population generate (numpy + 2 forked writers)",
        },
    ]
