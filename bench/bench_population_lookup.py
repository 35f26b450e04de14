"""Shared read of one person by ID number through the API, with Hohhot's 3.5 million residents loaded.

Per engine (fresh database from ``bench.run``): divisions, organisation and synthetic places through
their services; ``SANJI_BENCH_LOOKUP_N`` synthetic residents (default 3,500,000) generated and loaded
by ``population_import`` (the set-up, timed and reported but not the figure). A department system
(部门业务系统) of the city civil-affairs bureau gets a terminal (127.0.0.1) and a ``sharing:read``
token; the platform grants its department sex, birth date, marital status and residence for a
purpose. ``sanji serve`` (gunicorn gthread, ``WORKERS`` x ``THREADS``) runs on a loopback port with
``SANJI_BENCH=1``.

A separate load-generator process (stdlib only, keep-alive connections, one thread per client)
drives ``CLIENTS`` concurrent clients for ``SECONDS`` s after a warm-up: each request is
``POST /api/v1/sharing/people/lookup`` with a random ID number drawn from the generated file, the
purpose and the grant — the full shared read: token check, blind-index look-up with the residence
join, the access record and its audit entry, in one transaction. Then the same clients POST
``/bench/anchor`` (a bare one-row INSERT) for the same time on the same server: the floor of a
write request on this machine, under the same load.

Environment: ``SANJI_BENCH_LOOKUP_N`` (3500000), ``SANJI_BENCH_SECONDS`` (20),
``SANJI_BENCH_CLIENTS`` (16), ``SANJI_BENCH_WORKERS`` (2), ``SANJI_BENCH_THREADS`` (8),
``SANJI_BENCH_WARMUP`` (3 s), ``SANJI_BENCH_CSV`` (reuse a generated file instead of generating).
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

NAME = "population_lookup"
SIZE = int(os.environ.get("SANJI_BENCH_LOOKUP_N", "3500000"))
SECONDS = float(os.environ.get("SANJI_BENCH_SECONDS", "20"))
WARMUP = float(os.environ.get("SANJI_BENCH_WARMUP", "3"))
CLIENTS = int(os.environ.get("SANJI_BENCH_CLIENTS", "16"))
HOST = "127.0.0.1"
SAMPLE = 20_000
TARGET_P99_MS = 15.0
UNIT = "150100-DEPT-civil_affairs"
PURPOSE = "最低生活保障资格复核"
PATH = "/api/v1/sharing/people/lookup"


def _sample_ids(path: Path, n: int) -> list[str]:
    """``n`` ID numbers spread over the whole file (every k-th row), shuffled."""
    with path.open(encoding="utf-8") as fh:
        fh.readline()
        lines = sum(1 for _ in fh)
    step = max(1, lines // n)
    ids = []
    with path.open(encoding="utf-8") as fh:
        fh.readline()
        for i, line in enumerate(fh):
            if i % step == 0:
                ids.append(line.split(",", 1)[0].strip('"'))
    random.Random(7).shuffle(ids)
    return ids[:n]


def _setup() -> tuple[str, int]:
    """The department system's token and the grant id (after the reference data exists)."""
    from bench.bench_cases_api import staff_user
    from sanji.accounts import selectors as account_selectors
    from sanji.accounts import services as accounts
    from sanji.core import clock
    from sanji.core.actors import system_actor
    from sanji.orgs import services as orgs
    from sanji.orgs.models import Unit
    from sanji.sharing import services as sharing

    platform = system_actor("bench", channel="system")
    unit = Unit.objects.get(code=UNIT)
    admin = staff_user("bench-secadmin", "基准安全管理员", "150100-OPS", ("security_admin",))
    admin_actor = account_selectors.actor_for(admin, channel="cli")
    system = staff_user("bench-ca-system", "民政业务系统", UNIT, ("department_system",))
    terminal, _ = orgs.terminal_register(actor=admin_actor, unit=unit, name="民政前置机", ip_address=HOST)
    _, raw = accounts.api_token_create(
        actor=admin_actor, user=system, name="bench", scopes=["sharing:read"], days=30, terminal=terminal
    )
    assert unit.department_id is not None
    grant = sharing.grant_create(
        actor=platform,
        department_id=unit.department_id,
        fields=["sex", "birth_date", "marital_status", "residence"],
        purpose=PURPOSE,
        legal_basis="《社会救助暂行办法》第十一条",
        valid_from=clock.today(),
        valid_until=clock.today() + dt.timedelta(days=365),
    )
    return raw, grant.pk


def run(engine: str) -> list[dict[str, Any]]:
    from django.db import connections

    from bench.bench_cases_api import create_anchor_table, free_port, loadavg, start_server, stop_server
    from sanji.audit.models import Entry
    from sanji.core import clock
    from sanji.core.actors import system_actor
    from sanji.orgs import services as org_services
    from sanji.population import generator, services
    from sanji.population.models import Person
    from sanji.sharing.models import AccessRecord

    actor = system_actor("bench", channel="cli")
    org_services.region_import_path(actor=actor)
    org_services.org_structure_seed(actor=actor, city_code="150100")
    services.population_seed_places(actor=actor, city_code="150100")
    work = Path(tempfile.mkdtemp(prefix="sanji-bench-lookup-"))
    given = os.environ.get("SANJI_BENCH_CSV")
    csv_path = Path(given) if given else work / "residents.csv"
    started = time.perf_counter()
    if not given:
        generator.generate(residents=SIZE, out=csv_path, seed=1, today=clock.today())
    report = services.population_import(actor=actor, path=csv_path)
    load_seconds = time.perf_counter() - started
    people = Person.objects.count()
    ids = _sample_ids(csv_path, SAMPLE)
    ids_file = work / "ids.json"
    ids_file.write_text(json.dumps(ids))
    token, grant_id = _setup()
    create_anchor_table()
    if engine == "postgresql":
        with connections["default"].cursor() as cursor:
            cursor.execute("ANALYZE")
    records_before = AccessRecord.objects.count()
    audit_before = Entry.objects.count()
    connections.close_all()

    data_dir = Path(os.environ.get("SANJI_DATA_DIR", "var"))
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    server = start_server(port, data_dir / "serve.log")
    try:
        load_before = loadavg()
        lookups = _run_load("lookup", port, token, grant_id, ids_file)
        load_mid = loadavg()
        anchor = _run_load("anchor", port, token, grant_id, ids_file)
        load_after = loadavg()
    finally:
        stop_server(server)
    records = AccessRecord.objects.count() - records_before
    audit_added = Entry.objects.count() - audit_before
    for path in work.iterdir():
        path.unlink()
    work.rmdir()

    from bench.bench_cases_api import THREADS, WORKERS

    setting = f"sanji serve gthread {WORKERS}x{THREADS}, {CLIENTS} clients x {SECONDS:g} s"
    bookkeeping = (
        f"{lookups['ok_total']} reads answered = {records} access records = {audit_added} audit entries"
        if lookups["ok_total"] == records == audit_added
        else f"MISMATCH: {lookups['ok_total']} reads answered, {records} access records, {audit_added} audit"
    )
    notes = (
        f"{setting}; {people} people loaded ({report.summary().split(';')[0]}, set-up {load_seconds:.0f} s); "
        f"{lookups['ok']} reads in the window, errors {lookups['errors']}; p50 {lookups['p50_ms']} ms, "
        f"max {lookups['max_ms']} ms; {bookkeeping}; loadavg before/mid/after {load_before} / {load_mid} / "
        f"{load_after}; anchor (bare INSERT) p50 {anchor['p50_ms']} ms p99 {anchor['p99_ms']} ms "
        f"{anchor['rate']}/s"
    )
    if lookups["error_samples"]:
        notes += f"; first errors: {lookups['error_samples'][:3]}"
    return [
        {
            "name": "population_lookup_p99",
            "value": lookups["p99_ms"],
            "unit": "ms",
            "size": people,
            "anchor": {"name": "issue budget", "value": TARGET_P99_MS, "unit": "ms"},
            "notes": notes,
        },
        {
            "name": "population_lookup_p50",
            "value": lookups["p50_ms"],
            "unit": "ms",
            "size": people,
            "anchor": {"name": "bare INSERT view p50, same server", "value": anchor["p50_ms"], "unit": "ms"},
            "notes": f"{setting}; mean {lookups['mean_ms']} ms",
        },
        {
            "name": "population_lookup_rate",
            "value": lookups["rate"],
            "unit": "/s",
            "size": people,
            "anchor": {"name": "bare INSERT view, same server", "value": anchor["rate"], "unit": "/s"},
            "notes": f"{setting}; client CPU {lookups['client_cpu_s']} s",
        },
    ]


def _run_load(mode: str, port: int, token: str, grant_id: int, ids_file: Path) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "bench.bench_population_lookup", "--load", mode, "--port", str(port)]
    cmd += ["--grant", str(grant_id), "--ids", str(ids_file)]
    env = {**os.environ, "SANJI_BENCH_TOKEN": token}
    done = subprocess.run(
        cmd, env=env, cwd=Path(__file__).resolve().parent.parent, capture_output=True, check=True
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


# --- the load generator (its own process; stdlib only, no Django) --------------------------------


class _Client(threading.Thread):
    def __init__(
        self,
        mode: str,
        port: int,
        token: str,
        grant: int,
        ids: list[str],
        start: float,
        stop: float,
        seed: int,
    ) -> None:
        super().__init__(daemon=True)
        self.mode, self.port, self.grant, self.ids = mode, port, grant, ids
        self.start_at, self.stop_at = start, stop
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.rng = random.Random(seed)
        self.latencies: list[float] = []
        self.ok_total = 0
        self.errors = 0
        self.error_samples: list[str] = []
        self.conn = http.client.HTTPConnection(HOST, port, timeout=60)

    def _post(self, path: str, body: dict[str, Any] | None) -> None:
        payload = json.dumps(body).encode() if body is not None else b""
        began = time.perf_counter()
        try:
            self.conn.request("POST", path, body=payload, headers=self.headers)
            response = self.conn.getresponse()
            raw = response.read()
            status = response.status
        except (OSError, http.client.HTTPException) as exc:
            self.conn.close()
            self.conn = http.client.HTTPConnection(HOST, self.port, timeout=60)
            status, raw = 0, repr(exc).encode()
        ended = time.perf_counter()
        if 200 <= status < 300:
            self.ok_total += 1
            if self.start_at <= ended <= self.stop_at:
                self.latencies.append(ended - began)
        else:
            self.errors += 1
            if len(self.error_samples) < 5:
                self.error_samples.append(f"{path} {status} {raw[:200].decode(errors='replace')}")

    def run(self) -> None:
        while time.perf_counter() < self.stop_at:
            if self.mode == "lookup":
                number = self.ids[self.rng.randrange(len(self.ids))]
                self._post(PATH, {"id_number": number, "purpose": PURPOSE, "grant": self.grant})
            else:
                self._post("/bench/anchor", None)
        self.conn.close()


def _percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[k]


def load_main(mode: str, port: int, grant: int, ids_file: Path) -> dict[str, Any]:
    token = os.environ["SANJI_BENCH_TOKEN"]
    ids = json.loads(ids_file.read_text())
    start = time.perf_counter() + WARMUP
    stop = start + SECONDS
    threads = [_Client(mode, port, token, grant, ids, start, stop, seed=i) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    latencies = sorted(x for t in threads for x in t.latencies)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    ms = 1000.0
    return {
        "mode": mode,
        "ok": len(latencies),
        "ok_total": sum(t.ok_total for t in threads),
        "rate": round(len(latencies) / SECONDS, 1),
        "errors": sum(t.errors for t in threads),
        "error_samples": [s for t in threads for s in t.error_samples][:5],
        "p50_ms": round(_percentile(latencies, 0.50) * ms, 2),
        "p99_ms": round(_percentile(latencies, 0.99) * ms, 2),
        "max_ms": round(latencies[-1] * ms, 2) if latencies else None,
        "mean_ms": round(sum(latencies) / len(latencies) * ms, 2) if latencies else None,
        "client_cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="load generator of the population look-up benchmark")
    parser.add_argument("--load", choices=("lookup", "anchor"), required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--grant", type=int, required=True)
    parser.add_argument("--ids", type=Path, required=True)
    args = parser.parse_args(argv)
    sys.stdout.write(json.dumps(load_main(args.load, args.port, args.grant, args.ids), ensure_ascii=False))


if __name__ == "__main__":
    main()
