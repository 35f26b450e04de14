"""CPU time and queries per shared read of one person through the API, in-process (no server, no load).

``python -m bench.profile_lookup [--engine sqlite|postgresql] [--residents N] [--reads N] [--profile]
[--show-queries]``: a fresh database (as ``bench.run`` makes one), the reference data, ``N``
synthetic residents (default 20,000: the read is one probe of a unique index, so size barely
matters) and the department system, terminal, token and grant of
:mod:`bench.bench_population_lookup`; then ``--reads`` look-ups of random residents through the
API with Django's test client (the whole middleware stack and token authentication, no HTTP
server). Prints the mean thread CPU time and the number of queries per look-up, and the same for
the bare one-row INSERT view (``/api/bench/anchor``); ``--profile`` adds a cProfile of the reads
(cumulative, top 40), saved whole to the file ``SANJI_PROFILE_OUT`` names, if set (for ``pstats``);
``--show-queries`` prints the queries of one read. Evidence for tuning on a
shared, loaded machine, where CPU time and query counts mean more than wall-clock rates. Not a
benchmark of ``bench.run`` (no ``NAME``).
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import json
import os
import pstats
import random
import time
from pathlib import Path
from typing import Any


def _reads(
    client: Any, headers: dict[str, str], ids: list[str], grant: int, n: int, rng: random.Random
) -> None:
    from bench.bench_population_lookup import PATH, PURPOSE

    for _ in range(n):
        body = {"id_number": ids[rng.randrange(len(ids))], "purpose": PURPOSE, "grant": grant}
        response = client.post(PATH, data=json.dumps(body), content_type="application/json", **headers)
        if response.status_code != 200:
            raise RuntimeError(f"{PATH}: {response.status_code} {response.content[:300]!r}")


def _cpu_ms(fn: Any, n: int) -> float:
    began = time.thread_time()
    fn(n)
    return (time.thread_time() - began) / n * 1000


def _queries(fn: Any, n: int) -> float:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        fn(n)
    return len(captured) / n


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--residents", type=int, default=20_000)
    parser.add_argument("--reads", type=int, default=1000)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--show-queries", action="store_true", help="print the queries of one read")
    args = parser.parse_args()

    from bench.profiling import django_in_fresh_database

    with django_in_fresh_database(args.engine) as workdir:
        from django.db import connection
        from django.test import Client
        from django.test.utils import CaptureQueriesContext

        from bench.bench_cases_api import create_anchor_table
        from bench.bench_population_lookup import _sample_ids, _setup
        from sanji.core import clock
        from sanji.core.actors import system_actor
        from sanji.orgs import services as org_services
        from sanji.population import generator, services

        actor = system_actor("bench", channel="cli")
        org_services.region_import_path(actor=actor)
        org_services.org_structure_seed(actor=actor, city_code="150100")
        services.population_seed_places(actor=actor, city_code="150100")
        csv_path = workdir / "residents.csv"
        generator.generate(residents=args.residents, out=csv_path, seed=1, today=clock.today())
        services.population_import(actor=actor, path=csv_path)
        ids = _sample_ids(csv_path, 5000)
        token, grant = _setup()
        create_anchor_table()

        client = Client(REMOTE_ADDR="127.0.0.1")
        headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
        rng = random.Random(1)

        def lookups(n: int) -> None:
            _reads(client, headers, ids, grant, n, rng)

        def anchors(n: int) -> None:
            for _ in range(n):
                if client.post("/api/bench/anchor").status_code != 201:
                    raise RuntimeError("/api/bench/anchor not mounted (SANJI_BENCH=1)")

        lookups(50)  # warm-up: imports, compiled statements, connection
        anchors(50)
        if args.show_queries:
            with CaptureQueriesContext(connection) as captured:
                lookups(1)
            for q in captured.captured_queries:
                print(q["sql"][:400] + (" ... " + q["sql"][-300:] if len(q["sql"]) > 400 else ""))
        # Past the token's once-a-minute "last used" touch, so it is counted as it falls in use.
        query_count = _queries(lookups, 100)
        cpu = _cpu_ms(lookups, args.reads)
        anchor_cpu = _cpu_ms(anchors, min(args.reads, 500))
        anchor_queries = _queries(anchors, 50)
        load = Path("/proc/loadavg").read_text().split()[0]
        stamp = dt.datetime.now(dt.UTC).strftime("%H:%M:%S")
        print(f"{'lookup':8s} {cpu:6.2f} ms CPU  {query_count:5.2f} queries")
        print(f"{'anchor':8s} {anchor_cpu:6.2f} ms CPU  {anchor_queries:5.2f} queries")
        print(
            f"({args.engine}; {args.residents} residents; {args.reads} reads; loadavg {load} at {stamp} UTC)"
        )
        if args.profile:  # a separate run: the profiler's own overhead is not in the figures above
            profiler = cProfile.Profile(time.thread_time)  # CPU, not wall: the machine is shared
            profiler.enable()
            lookups(args.reads)
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
            pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
            if os.environ.get("SANJI_PROFILE_OUT"):
                profiler.dump_stats(os.environ["SANJI_PROFILE_OUT"])


if __name__ == "__main__":
    main()
