"""Population changes: submit and verify (applied with history, audit and feed), the police queue, the feed.

Set-up (not timed): Hohhot's divisions, the synthetic places and ``SANJI_BENCH_CHANGES_RESIDENTS``
synthetic residents imported through ``population_import``; a population data officer and a police
verifier of 赛罕区 (real accounts).

Timed, ``SANJI_BENCH_CHANGES_N`` changes (name changes of distinct residents of 赛罕区):

1. ``change_submit`` per change (checks, encryption, audit): mean wall and CPU ms, queries per call.
2. ``change_verify`` per change (lock, version check, history row, person update, building
   recount, audit, feed entry — one transaction): mean wall and CPU ms, queries per call. Anchor:
   the same name written with a bare one-row ``UPDATE`` in its own transaction (no checks, no
   history, no audit, no feed); ratio = verify / bare update.
3. The verifier's queue, first page of 50 (one query), with all N waiting: median ms.
4. The feed: all N entries read in pages of 1000 (ID numbers decrypted): ms per 1000 entries.

The machine's load average is recorded in the notes (other work on this shared 2-core machine slows
both sides of a ratio alike; the CPU time and query counts do not depend on it).
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

NAME = "population_changes"
RESIDENTS = int(os.environ.get("SANJI_BENCH_CHANGES_RESIDENTS", "50000"))
N = int(os.environ.get("SANJI_BENCH_CHANGES_N", "500"))
NAMES = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂"


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores"


def _timed(calls: list[Any]) -> tuple[float, float, float]:
    """(mean wall ms, mean CPU ms, queries per call) of running each call once."""
    from django.db import connection

    count = 0

    def counted(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        nonlocal count
        count += 1
        return execute(sql, params, many, context)

    wall = cpu = 0.0
    with connection.execute_wrapper(counted):
        for call in calls:
            w, c = time.perf_counter(), time.process_time()
            call()
            wall += time.perf_counter() - w
            cpu += time.process_time() - c
    n = len(calls)
    return round(wall / n * 1000, 2), round(cpu / n * 1000, 2), round(count / n, 1)


def run(engine: str) -> list[dict[str, Any]]:
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from sanji.core import clock
    from sanji.core.actors import Actor, Grant, system_actor
    from sanji.orgs import services as org_services
    from sanji.orgs.models import Region
    from sanji.population import generator, selectors, services
    from sanji.population.models import Person

    platform = system_actor("bench", channel="cli")
    org_services.region_import_path(actor=platform)
    services.population_seed_places(actor=platform, city_code="150100")
    work = Path(tempfile.mkdtemp(prefix="sanji-bench-changes-"))
    csv_path = work / "residents.csv"
    generator.generate(residents=RESIDENTS, out=csv_path, seed=2, today=clock.today())
    services.population_import(actor=platform, path=csv_path)
    csv_path.unlink()
    work.rmdir()

    saihan = Region.objects.get(code="150105").path
    user_model = get_user_model()

    def staff(username: str, role: str) -> Actor:
        user = user_model.objects.create(username=username, full_name=username)
        return Actor(user_id=user.pk, username=username, grants=(Grant(role, 0, saihan),), channel="web")

    officer = staff("bench.population", "population_officer")
    police = staff("bench.police", "police_verifier")
    city = Region.objects.get(code="150100").path
    system = Actor(user_id=None, username="bench.system", grants=(Grant("department_system", 0, city),))
    people = list(
        Person.objects.filter(region_path__startswith=saihan, status="living")
        .order_by("id")
        .values_list("id", "name")[:N]
    )
    if len(people) < N:
        raise RuntimeError(f"only {len(people)} residents in 赛罕区; raise SANJI_BENCH_CHANGES_RESIDENTS")

    def new_name(i: int, old: str) -> str:
        name = old[:1] + NAMES[i % len(NAMES)] + NAMES[(i // len(NAMES)) % len(NAMES)]
        return name if name != old else old[:1] + "新" + NAMES[i % len(NAMES)]

    load_before = _load()
    changes: list[int] = []
    submit = _timed(
        [
            lambda pid=pid, i=i, old=old: changes.append(
                services.change_submit(
                    actor=officer, kind="name", person_id=pid, values={"name": new_name(i, old)}
                ).pk
            )
            for i, (pid, old) in enumerate(people)
        ]
    )
    queue_ms = []
    for _ in range(5):
        started = time.perf_counter()
        page = selectors.change_list_for(police)
        queue_ms.append((time.perf_counter() - started) * 1000)
    assert len(page.items) == 50
    verify = _timed(
        [
            lambda cid=cid: services.change_verify(actor=police, change_id=cid, expected_state="submitted")
            for cid in changes
        ]
    )
    table = Person._meta.db_table

    def bare_update(pid: int, i: int) -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"UPDATE {table} SET name = %s WHERE id = %s", [f"测试{i % 10}", pid])

    bare = _timed([lambda pid=pid, i=i: bare_update(pid, i) for i, (pid, _old) in enumerate(people)])
    started, started_cpu = time.perf_counter(), time.process_time()
    cursor, read = 0, 0
    while True:
        feed = selectors.feed_read(system, after=cursor, limit=1000)
        read += len(feed.items)
        cursor = feed.next_cursor
        if not feed.has_more:
            break
    feed_ms = (time.perf_counter() - started) * 1000
    feed_cpu_ms = (time.process_time() - started_cpu) * 1000
    if read != N:
        raise RuntimeError(f"the feed has {read} entries, expected {N}")
    loads = f"before: {load_before}; after: {_load()}"
    return [
        {
            "name": "population_change_verify",
            "value": verify[0],
            "unit": "ms",
            "size": N,
            "anchor": {
                "name": "bare one-row UPDATE of the name, own transaction",
                "value": bare[0],
                "unit": "ms",
            },
            "notes": (
                f"change_verify() mean over {N} changes ({RESIDENTS} residents): CPU {verify[1]} ms, "
                f"{verify[2]} queries per change (bare update: CPU {bare[1]} ms, {bare[2]} queries); {loads}"
            ),
        },
        {
            "name": "population_change_submit",
            "value": submit[0],
            "unit": "ms",
            "size": N,
            "anchor": None,
            "notes": f"change_submit() mean: CPU {submit[1]} ms, {submit[2]} queries per change; {loads}",
        },
        {
            "name": "population_change_queue_page",
            "value": round(statistics.median(queue_ms), 2),
            "unit": "ms",
            "size": N,
            "anchor": None,
            "notes": f"change_list_for(verifier) first page of 50 with {N} waiting, median of 5; {loads}",
        },
        {
            "name": "population_change_feed_per_1000",
            "value": round(feed_ms / N * 1000, 2),
            "unit": "ms",
            "size": N,
            "anchor": None,
            "notes": (
                "feed_read() in pages of 1000, ID numbers decrypted: "
                f"CPU {round(feed_cpu_ms / N * 1000, 2)} ms per 1000; {loads}"
            ),
        },
    ]
