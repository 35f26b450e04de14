"""Case transitions through the HTTP API under load, against a bare one-row INSERT view.

Per engine (fresh database from ``bench.run``): the reference data is seeded through the real
services (regions, organisation, calendar, catalogue); a window clerk at the Saihan district
civil-affairs window (赛罕区民政窗口) gets a registered terminal (127.0.0.1) and an API token
(``cases:read``/``cases:write``) bound to it. ``sanji serve`` (gunicorn gthread, ``WORKERS`` ×
``THREADS``) runs on a free loopback port with ``SANJI_BENCH=1``, which mounts ``/bench/anchor``.

A separate load-generator process (this module run as ``python -m bench.bench_cases_api --load``;
stdlib only, ``http.client`` keep-alive connections, one thread per client) drives ``CLIENTS``
concurrent clients for ``SECONDS`` s after a short warm-up. Each client walks an immediate matter
(即办件, 结婚登记 MZ-0003 received at the district) through the API: ``POST /api/v1/cases`` (接件),
then ``accept``, ``approve``, ``deliver``, ``complete`` with ``expected_version``. Every successful
write is one transition (audit entry and deadline recomputation included). Then the same clients,
same server, POST ``/bench/anchor`` for the same time: the anchor rate.

Environment: ``SANJI_BENCH_SECONDS`` (30), ``SANJI_BENCH_CLIENTS`` (16), ``SANJI_BENCH_WORKERS`` (2),
``SANJI_BENCH_THREADS`` (8), ``SANJI_BENCH_WARMUP`` (3 s).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import resource
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

NAME = "cases_api"
SECONDS = float(os.environ.get("SANJI_BENCH_SECONDS", "30"))
WARMUP = float(os.environ.get("SANJI_BENCH_WARMUP", "3"))
CLIENTS = int(os.environ.get("SANJI_BENCH_CLIENTS", "16"))
WORKERS = int(os.environ.get("SANJI_BENCH_WORKERS", "2"))
THREADS = int(os.environ.get("SANJI_BENCH_THREADS", "8"))
HOST = "127.0.0.1"

CITY_CODE = "150100"
MATTER = "MZ-0003"  # 结婚登记: 即办件 accepted, decided and delivered at the district
WINDOW_UNIT = "150105-CSC-W-civil_affairs"  # 赛罕区市民服务中心 民政窗口
#: Roles of the bench clerk. The window clerk alone cannot record the on-the-spot decision of an
#: immediate matter (the transitions table lets only approver / department head / department
#: system ``approve``), so the person also holds the approver role at the same window.
CLERK_ROLES = ("window_clerk", "approver")
TARGET_RATE = 400.0
TARGET_P99_MS = 50.0


# --- set-up (in the bench child process, Django configured) -------------------------------------


def seed_reference() -> None:
    """Regions, organisation, calendar and catalogue through their services (as the platform)."""
    from sanji.calendar.services import calendar_seed_from_chinesecalendar
    from sanji.catalog.services import catalog_seed
    from sanji.core.actors import system_actor
    from sanji.orgs import services as orgs

    platform = system_actor("bench", channel="system")
    orgs.region_import_path(actor=platform)
    orgs.org_structure_seed(actor=platform, city_code=CITY_CODE)
    calendar_seed_from_chinesecalendar(actor=platform)
    catalog_seed(actor=platform)


def staff_user(username: str, full_name: str, unit_code: str, roles: tuple[str, ...]) -> Any:
    """A staff account with ``roles`` in the unit (created by the platform, as the demo seeder does)."""
    from sanji.accounts import services as accounts
    from sanji.core.actors import system_actor
    from sanji.orgs.models import Unit

    platform = system_actor("bench", channel="system")
    unit = Unit.objects.get(code=unit_code)
    user, _ = accounts.user_create(
        actor=platform,
        username=username,
        full_name=full_name,
        password="Bench-Passw0rd!2026",
        must_change_password=False,
    )
    for role in roles:
        accounts.role_grant(actor=platform, user=user, role=role, unit=unit)
    return user


def clerk_token(unit_code: str = WINDOW_UNIT) -> str:
    """The bench clerk, a terminal at the window (127.0.0.1) and a token bound to it; the raw token."""
    from sanji.accounts import selectors as account_selectors
    from sanji.accounts import services as accounts
    from sanji.core.actors import system_actor
    from sanji.orgs import services as orgs
    from sanji.orgs.models import Unit

    platform = system_actor("bench", channel="system")
    unit = Unit.objects.get(code=unit_code)
    admin = staff_user("bench-secadmin", "基准安全管理员", f"{CITY_CODE}-OPS", ("security_admin",))
    admin_actor = account_selectors.actor_for(admin, channel="cli")
    clerk = staff_user("bench-clerk", "基准窗口受理员", unit_code, CLERK_ROLES)
    terminal, _ = orgs.terminal_register(actor=admin_actor, unit=unit, name="基准负载终端", ip_address=HOST)
    _, raw = accounts.api_token_create(
        actor=admin_actor,
        user=clerk,
        name="bench",
        scopes=["cases:read", "cases:write"],
        days=30,
        terminal=terminal,
    )
    del platform
    return raw


def create_anchor_table() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("CREATE TABLE IF NOT EXISTS bench_anchor (id bigserial PRIMARY KEY, at text)")
        else:
            cursor.execute("CREATE TABLE IF NOT EXISTS bench_anchor (id integer PRIMARY KEY, at text)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def start_server(port: int, log: Path) -> subprocess.Popen[bytes]:
    """``sanji serve`` with the bench database (inherited environment) and ``SANJI_BENCH=1``."""
    sanji = Path(sys.executable).with_name("sanji")
    cmd = [str(sanji), "serve", "--host", HOST, "--port", str(port)]
    cmd += ["--workers", str(WORKERS), "--threads", str(THREADS)]
    env = {**os.environ, "SANJI_BENCH": "1"}
    out = log.open("wb")
    proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"sanji serve exited ({proc.returncode}); see {log}")
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=2)
            conn.request("GET", "/bench/anchor")
            status = conn.getresponse().status
            conn.close()
            if status == 405:  # up, and the bench endpoint is mounted
                return proc
            raise RuntimeError(f"/bench/anchor answered {status}: is SANJI_BENCH honoured?")
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("sanji serve did not come up within 60 s")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def run_load(mode: str, port: int, token: str) -> dict[str, Any]:
    """The load generator in its own process; answers its JSON summary."""
    cmd = [sys.executable, "-m", "bench.bench_cases_api", "--load", mode, "--port", str(port)]
    cmd += ["--clients", str(CLIENTS), "--seconds", str(SECONDS), "--warmup", str(WARMUP)]
    env = {**os.environ, "SANJI_BENCH_TOKEN": token}
    done = subprocess.run(
        cmd, env=env, cwd=Path(__file__).resolve().parent.parent, capture_output=True, check=True
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_cpu(root: int) -> tuple[float, float]:
    """CPU seconds so far of the server (``root`` and its worker processes) and of the database
    server's processes (PostgreSQL backends; 0 for SQLite, which runs inside the workers)."""
    server = database = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        pid = int(entry.name)
        if pid == root or ppid == root:
            server += _cpu_seconds(pid)
        elif name.startswith("postgres"):
            database += _cpu_seconds(pid)
    return server, database


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def run(engine: str) -> list[dict[str, Any]]:
    from django.db import connections

    from sanji.audit.models import Entry
    from sanji.cases.models import Case, CaseEvent

    seed_reference()
    token = clerk_token()
    create_anchor_table()
    audit_before = Entry.objects.count()
    connections.close_all()

    data_dir = Path(os.environ.get("SANJI_DATA_DIR", "var"))
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    server = start_server(port, data_dir / "serve.log")
    try:
        load_before = loadavg()
        cpu_before = process_cpu(server.pid)
        cases = run_load("cases", port, token)
        cpu_after = process_cpu(server.pid)
        load_mid = loadavg()
        anchor = run_load("anchor", port, token)
        cpu_anchor = process_cpu(server.pid)
        load_after = loadavg()
    finally:
        stop_server(server)

    from sanji.audit.verify import verify_chain

    chain = verify_chain()
    events = CaseEvent.objects.count()
    audit_added = Entry.objects.count() - audit_before
    completed = Case.objects.filter(state="completed").count()
    bookkeeping = (
        f"{cases['ok_total']} writes answered OK = {events} case events = {audit_added} audit entries"
        if cases["ok_total"] == events == audit_added
        else f"MISMATCH: {cases['ok_total']} writes answered OK, {events} case events, "
        f"{audit_added} audit entries"
    )
    rate = cases["rate"]
    anchor_rate = anchor["rate"]
    served = max(1, cases["ok_total"])
    server_ms = (cpu_after[0] - cpu_before[0]) / served * 1000
    database_ms = (cpu_after[1] - cpu_before[1]) / served * 1000
    anchor_ms = (cpu_anchor[0] - cpu_after[0]) / max(1, anchor["ok_total"]) * 1000
    setting = f"sanji serve gthread {WORKERS}x{THREADS}, {CLIENTS} clients x {SECONDS:g} s"
    common = (
        f"{setting}; {cases['ok']} transitions in the window ({completed} cases completed in all), "
        f"errors {cases['errors']}; client CPU {cases['client_cpu_s']} s; "
        f"CPU per transition: server {server_ms:.2f} ms, database server {database_ms:.2f} ms; "
        f"loadavg before/after {load_before} / {load_mid}; {bookkeeping}; "
        f"audit chain {'verifies' if chain.ok else 'BROKEN: ' + chain.message}"
    )
    if cases["error_samples"]:
        common += f"; first errors: {cases['error_samples'][:3]}"
    anchor_ref = {
        "name": "bare Django view, one INSERT (POST /bench/anchor)",
        "value": anchor_rate,
        "unit": "/s",
    }
    return [
        {
            "name": "cases_api_transitions",
            "value": rate,
            "unit": "/s",
            "size": CLIENTS,
            "anchor": anchor_ref,
            "notes": (
                f"{common}; anchor: {anchor['ok']} inserts, errors {anchor['errors']}, "
                f"p50 {anchor['p50_ms']} ms p99 {anchor['p99_ms']} ms, "
                f"server CPU {anchor_ms:.2f} ms per insert, "
                f"loadavg after {load_after}; "
                f"target >= {TARGET_RATE:g}/s and ratio >= 0.25"
            ),
        },
        {
            "name": "cases_api_p99",
            "value": cases["p99_ms"],
            "unit": "ms",
            "size": CLIENTS,
            "anchor": {"name": "target", "value": TARGET_P99_MS, "unit": "ms"},
            "notes": f"per-request latency of the transitions run (max {cases['max_ms']} ms); {setting}",
        },
        {
            "name": "cases_api_p50",
            "value": cases["p50_ms"],
            "unit": "ms",
            "size": CLIENTS,
            "anchor": None,
            "notes": f"per-request latency of the transitions run (mean {cases['mean_ms']} ms); {setting}",
        },
    ]


# --- the load generator (its own process; stdlib only, no Django) --------------------------------

MATERIALS = ["男女双方居民身份证", "双方近期半身免冠合影照片", "申请结婚登记声明书"]
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def citizen_id(rng: random.Random) -> str:
    """A valid 18-digit citizen ID (GB 11643, ISO 7064 MOD 11-2 check digit) of a Saihan resident."""
    year = rng.randint(1984, 2004)  # 150105 (赛罕区) is a valid birthplace code from 1984
    body = f"150105{year}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(0, 999):03d}"
    total = sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True))
    return body + "10X98765432"[total % 11]


class _Client(threading.Thread):
    def __init__(self, mode: str, port: int, token: str, start: float, stop: float, seed: int) -> None:
        super().__init__(daemon=True)
        self.mode, self.port, self.start_at, self.stop_at = mode, port, start, stop
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.rng = random.Random(seed)
        self.latencies: list[float] = []  # of OK requests finished inside the window
        self.ok_total = 0
        self.errors = 0
        self.error_samples: list[str] = []
        self.conn = http.client.HTTPConnection(HOST, port, timeout=60)

    def _post(self, path: str, body: dict[str, Any] | None) -> tuple[int, Any]:
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
        ok = 200 <= status < 300
        in_window = self.start_at <= ended <= self.stop_at
        if ok:
            self.ok_total += 1
            if in_window:
                self.latencies.append(ended - began)
        elif in_window or ended < self.start_at:
            self.errors += 1
            if len(self.error_samples) < 5:
                self.error_samples.append(f"{path} {status} {raw[:200].decode(errors='replace')}")
        if not ok:
            return status, None
        return status, json.loads(raw) if raw else None

    def _walk_case(self) -> None:
        _status, body = self._post(
            "/api/v1/cases",
            {
                "matter_code": MATTER,
                "applicant_name": "王小明",
                "applicant_id_number": citizen_id(self.rng),
                "applicant_phone": "13800471234",
                "materials_received": [
                    "男女双方居民身份证",
                    "双方近期半身免冠合影照片",
                    "申请结婚登记声明书",
                ],
            },
        )
        if body is None:
            return
        case_id, version = body["case"]["id"], body["case"]["version"]
        steps: list[tuple[str, dict[str, Any]]] = [
            ("accept", {}),
            ("approve", {"opinion": "双方自愿，符合结婚条件，准予登记"}),
            ("deliver", {"delivery_method": "window", "certificate_no": f"J150105-{case_id:08d}"}),
            ("complete", {}),
        ]
        for action, fields in steps:
            if time.perf_counter() > self.stop_at:
                return
            _status, body = self._post(
                f"/api/v1/cases/{case_id}/actions/{action}", {"expected_version": version, **fields}
            )
            if body is None:
                return
            version = body["version"]

    def run(self) -> None:
        while time.perf_counter() < self.stop_at:
            if self.mode == "cases":
                self._walk_case()
            else:
                self._post("/bench/anchor", None)
        self.conn.close()


def _percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[k]


def load_main(mode: str, port: int, clients: int, seconds: float, warmup: float) -> dict[str, Any]:
    token = os.environ["SANJI_BENCH_TOKEN"]
    began = time.perf_counter()
    start = began + warmup
    stop = start + seconds
    threads = [_Client(mode, port, token, start, stop, seed=i) for i in range(clients)]
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
        "rate": round(len(latencies) / seconds, 1),
        "errors": sum(t.errors for t in threads),
        "error_samples": [s for t in threads for s in t.error_samples][:5],
        "p50_ms": round(_percentile(latencies, 0.50) * ms, 2),
        "p99_ms": round(_percentile(latencies, 0.99) * ms, 2),
        "max_ms": round(latencies[-1] * ms, 2) if latencies else None,
        "mean_ms": round(sum(latencies) / len(latencies) * ms, 2) if latencies else None,
        "client_cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="load generator of the cases API benchmark")
    parser.add_argument("--load", choices=("cases", "anchor"), required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--clients", type=int, default=CLIENTS)
    parser.add_argument("--seconds", type=float, default=SECONDS)
    parser.add_argument("--warmup", type=float, default=WARMUP)
    args = parser.parse_args(argv)
    result = load_main(args.load, args.port, args.clients, args.seconds, args.warmup)
    sys.stdout.write(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
