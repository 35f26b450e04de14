"""CPU time and queries per case transition through the API, in-process (no server, no load).

``python -m bench.profile_cases_api [--engine sqlite|postgresql] [--walks N] [--profile]``: a fresh
database (as ``bench.run`` makes one), the reference data and the bench clerk of
:mod:`bench.bench_cases_api`, then ``N`` immediate cases walked through the API with Django's test
client (the whole middleware stack and token authentication, no HTTP server). Prints, per action,
the mean thread CPU time and the number of queries; ``--profile`` adds a cProfile of the walks
(cumulative, top 40). Evidence for tuning on a shared, loaded machine, where CPU time and query
counts mean more than wall-clock rates. Not a benchmark of ``bench.run`` (no ``NAME``).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import random
import time
from collections import defaultdict
from pathlib import Path
from typing import Any


def _walk(
    client: Any, headers: dict[str, str], rng: random.Random, stats: dict[str, list[Any]], *, count: bool
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from bench.bench_cases_api import MATERIALS, MATTER, citizen_id, walk_steps

    def post(name: str, path: str, body: dict[str, Any]) -> Any:
        data = json.dumps(body)
        if count:
            with CaptureQueriesContext(connection) as queries:
                response = client.post(path, data=data, content_type="application/json", **headers)
            stats[name].append(len(queries))
        else:
            began = time.thread_time()
            response = client.post(path, data=data, content_type="application/json", **headers)
            stats[name].append(time.thread_time() - began)
        if response.status_code >= 300:
            raise RuntimeError(f"{path}: {response.status_code} {response.content[:300]!r}")
        return response.json()

    body = post(
        "receive",
        "/api/v1/cases",
        {
            "matter_code": MATTER,
            "applicant_name": "王小明",
            "applicant_id_number": citizen_id(rng),
            "applicant_phone": "13800471234",
            "materials_received": MATERIALS,
        },
    )
    case_id, version = body["case"]["id"], body["case"]["version"]
    for action, fields in walk_steps(case_id):
        body = post(
            action, f"/api/v1/cases/{case_id}/actions/{action}", {"expected_version": version, **fields}
        )
        version = body["version"]


def anchor(client: Any) -> None:
    """CPU time of the bare one-row INSERT view (/api/bench/anchor), when mounted (SANJI_BENCH=1)."""
    from bench.bench_cases_api import create_anchor_table

    path = "/api/bench/anchor"
    create_anchor_table()
    if client.post(path).status_code != 201:
        print("anchor: /api/bench/anchor not mounted (run with SANJI_BENCH=1)")
        return
    began = time.thread_time()
    for _ in range(500):
        client.post(path)
    print(f"{'anchor':10s} {(time.thread_time() - began) / 500 * 1000:6.2f} ms CPU")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--walks", type=int, default=100)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--sort", default="cumulative", help="cProfile order (cumulative, tottime, ncalls)")
    parser.add_argument("--dump", help="also write the cProfile stats to this file (pstats format)")
    parser.add_argument("--show-queries", action="store_true", help="print the queries of one walk")
    args = parser.parse_args()

    from bench.profiling import django_in_fresh_database

    with django_in_fresh_database(args.engine):
        from django.db import connection
        from django.test import Client
        from django.test.utils import CaptureQueriesContext

        from bench.bench_cases_api import clerk_token, seed_reference

        seed_reference()
        token = clerk_token()
        client = Client(REMOTE_ADDR="127.0.0.1")
        headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
        rng = random.Random(1)
        for _ in range(5):
            _walk(client, headers, rng, defaultdict(list), count=False)
        if args.show_queries:
            with CaptureQueriesContext(connection) as captured:
                _walk(client, headers, rng, defaultdict(list), count=False)
            for q in captured.captured_queries:
                print(q["sql"][:300] + (" ... " + q["sql"][-400:] if len(q["sql"]) > 300 else ""))
        queries: dict[str, list[Any]] = defaultdict(list)
        for _ in range(10):
            _walk(client, headers, rng, queries, count=True)
        cpu: dict[str, list[Any]] = defaultdict(list)
        profiler = cProfile.Profile() if args.profile else None
        if profiler is not None:
            profiler.enable()
        for _ in range(args.walks):
            _walk(client, headers, rng, cpu, count=False)
        if profiler is not None:
            profiler.disable()
        for name, rows in cpu.items():
            mean_cpu = sum(rows) / len(rows) * 1000
            mean_queries = sum(queries[name]) / len(queries[name])
            print(f"{name:10s} {mean_cpu:6.2f} ms CPU  {mean_queries:5.1f} queries")
        all_cpu = [x for rows in cpu.values() for x in rows]
        all_q = [x for rows in queries.values() for x in rows]
        load = Path("/proc/loadavg").read_text().split()[0]
        mean_cpu = sum(all_cpu) / len(all_cpu) * 1000
        mean_queries = sum(all_q) / len(all_q)
        print(
            f"{'all':10s} {mean_cpu:6.2f} ms CPU  {mean_queries:5.1f} queries ({args.engine}; loadavg {load})"
        )
        anchor(client)
        if profiler is not None:
            pstats.Stats(profiler).sort_stats(args.sort).print_stats(40)
            if args.dump:
                profiler.dump_stats(args.dump)


if __name__ == "__main__":
    main()
