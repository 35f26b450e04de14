"""The load generator and server harness shared by the HTTP API benchmarks.

Two halves:

- **In the benchmark process** (Django configured): :func:`serving` runs ``sanji serve``
  (gunicorn threads, :func:`server_shape`, connections balanced over the workers) on a free
  loopback port with ``SANJI_BENCH=1``
  (which mounts ``/api/bench/anchor``), :func:`run_load` runs a load generator in its own process and
  answers its JSON summary, :func:`loadavg` notes how busy the machine was.
- **In the load-generator process** (stdlib only, no Django): :func:`load_main` drives ``clients``
  threads, each with one keep-alive connection (:class:`Connection`), for ``seconds`` after ``warmup``.
  What a client sends is the benchmark's ``work(client)`` function, called again and again; it
  sends requests with :meth:`Client.post`.

Two ways to load (:func:`load_main` ``rate``):

- **Closed loop** (``rate`` None): each client sends its next request as soon as the previous one
  is answered. This measures saturation throughput; the latency it reports is clients /
  throughput (Little's law), not the latency a caller sees at a given demand. A request counts if
  it ends inside the window; its latency is from send to answer.
- **Open loop, paced** (``rate`` R requests/s in all): client ``i`` of ``C`` has send slots at
  ``start + i/R + k*C/R``, so together they offer R/s evenly spread. A client waits for its next
  slot; when it is late (the previous answer came after the slot) it sends at once. Latency is
  measured from the *scheduled* slot, not from the actual send, so time spent queued behind a slow
  answer is counted (no coordinated omission, as in wrk2 / HdrHistogram's corrected mode). A
  request counts if its slot is inside the window; the run goes on past the window until every
  counted request is answered. With only ``C`` connections, R above what the server sustains
  shows as latencies that grow with the run's length: the report gives the achieved rate beside
  the offered one.
"""

from __future__ import annotations

import argparse
import contextlib
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
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sanji.ops.gunicorn_config import DEFAULT_THREADS, default_workers

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parent.parent

Work = Callable[["Client"], None]


# --- the server and the load-generator process, seen from the benchmark --------------------------


def server_shape() -> tuple[int, int]:
    """``(workers, threads)`` of the benchmarked server: as ``sanji serve`` runs by default against
    the bench database (Django configured), unless ``SANJI_BENCH_WORKERS`` / ``SANJI_BENCH_THREADS``
    say otherwise."""
    from django.conf import settings

    workers = os.environ.get("SANJI_BENCH_WORKERS") or default_workers(settings.DATABASES["default"])
    threads = os.environ.get("SANJI_BENCH_THREADS") or DEFAULT_THREADS
    return int(workers), int(threads)


def server_setting() -> str:
    """The server's shape as the benchmarks' notes give it."""
    workers, threads = server_shape()
    return f"sanji serve {workers}x{threads} threads"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def start_server(port: int, log: Path) -> subprocess.Popen[bytes]:
    """``sanji serve`` with the bench database (inherited environment) and ``SANJI_BENCH=1``."""
    sanji = Path(sys.executable).with_name("sanji")
    cmd = [str(sanji), "serve", "--host", HOST, "--port", str(port)]
    workers, threads = server_shape()
    cmd += ["--workers", str(workers), "--threads", str(threads)]
    env = {**os.environ, "SANJI_BENCH": "1"}
    out = log.open("wb")
    proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"sanji serve exited ({proc.returncode}); see {log}")
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=2)
            conn.request("GET", "/api/bench/anchor")
            status = conn.getresponse().status
            conn.close()
            if status == 405:  # up, and the bench endpoint is mounted
                return proc
            raise RuntimeError(f"/api/bench/anchor answered {status}: is SANJI_BENCH honoured?")
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


#: The process id of the server :func:`serving` runs (for :func:`server_cpu`).
_serving_pid: list[int] = []


@contextlib.contextmanager
def serving() -> Iterator[int]:
    """``sanji serve`` on a free port for the block (log: ``$SANJI_DATA_DIR/serve.log``); the port."""
    data_dir = Path(os.environ.get("SANJI_DATA_DIR", "var"))
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    server = start_server(port, data_dir / "serve.log")
    _serving_pid[:] = [server.pid]
    try:
        yield port
    finally:
        _serving_pid.clear()
        stop_server(server)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_cpu() -> tuple[float, float]:
    """CPU seconds so far of the running server (gunicorn's master and workers) and of the
    PostgreSQL backends serving the benchmark's database (found by their process title, which
    names the database, so other users of the server do not count; 0 for SQLite, which runs
    inside the workers). Differences over a run divided by its requests give the CPU per request,
    a figure far less sensitive to other load than a rate. The server keeps its connections
    (``CONN_MAX_AGE``), so no backend of the run exits before the last reading."""
    from django.db import connection

    database_name = f" {connection.settings_dict['NAME']} " if connection.vendor == "postgresql" else None
    root = _serving_pid[0] if _serving_pid else -1
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
        elif name.startswith("postgres") and database_name is not None:
            try:
                title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if database_name in title:
                database += _cpu_seconds(pid)
    return server, database


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def run_load(
    module: str,
    mode: str,
    port: int,
    token: str,
    *,
    clients: int,
    seconds: float,
    warmup: float,
    rate: float | None = None,
    extra: list[str] | None = None,
) -> dict[str, Any]:
    """Run ``python -m <module> --load <mode> ...`` (a load generator) and answer its JSON summary."""
    cmd = [sys.executable, "-m", module, "--load", mode, "--port", str(port)]
    cmd += ["--clients", str(clients), "--seconds", str(seconds), "--warmup", str(warmup)]
    if rate is not None:
        cmd += ["--rate", str(rate)]
    cmd += extra or []
    env = {**os.environ, "SANJI_BENCH_TOKEN": token}
    done = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, check=True)
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def cli(
    argv: list[str] | None,
    *,
    description: str,
    mode: str,
    work: Callable[[argparse.Namespace], Work],
    arguments: Callable[[argparse.ArgumentParser], None] | None = None,
) -> None:
    """A load generator's command line: ``--load <mode>|anchor`` and the load options; JSON to stdout.

    ``work(args)`` answers the benchmark's work function; ``arguments`` adds the benchmark's options.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--load", choices=(mode, "anchor"), required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--clients", type=int, required=True)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--warmup", type=float, required=True)
    parser.add_argument("--rate", type=float, default=None, help="offered requests/s in all (open loop)")
    if arguments is not None:
        arguments(parser)
    args = parser.parse_args(argv)
    result = load_main(
        anchor_work if args.load == "anchor" else work(args),
        args.load,
        args.port,
        clients=args.clients,
        seconds=args.seconds,
        warmup=args.warmup,
        rate=args.rate,
    )
    sys.stdout.write(json.dumps(result, ensure_ascii=False))


# --- the load generator (its own process; stdlib only) --------------------------------------------


class Connection:
    """A minimal HTTP/1.1 keep-alive client connection: POST, then read the status line, the
    headers up to the blank line and a ``Content-Length`` body.

    ``http.client`` parses every answer's headers with the ``email`` package, which cost the
    load generator several times the CPU of its requests; on this 2-core machine that CPU is taken
    from the server under test (and sixteen client threads queue for one interpreter lock before
    they can stamp an answer's time). Only what ``sanji serve`` answers is handled: a body with a
    ``Content-Length``; ``Connection: close`` closes the connection after the answer."""

    def __init__(self, port: int, timeout: float = 60) -> None:
        self.port = port
        self.sock = socket.create_connection((HOST, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""
        self.open = True

    def post(self, path: str, body: bytes, headers: bytes) -> tuple[int, bytes]:
        """Send ``POST path`` (``headers``: ready-made header lines) and answer (status, body)."""
        request = b"POST %s HTTP/1.1\r\nHost: %s:%d\r\n%sContent-Length: %d\r\n\r\n" % (
            path.encode(),
            HOST.encode(),
            self.port,
            headers,
            len(body),
        )
        self.sock.sendall(request + body)
        buffer = self.buffer
        end = buffer.find(b"\r\n\r\n")
        while end < 0:
            buffer += self._receive()
            end = buffer.find(b"\r\n\r\n")
        head = buffer[:end].lower()
        status = int(head[9:12])
        length = 0
        at = head.find(b"\r\ncontent-length:")
        if at >= 0:
            stop = head.find(b"\r\n", at + 2)
            length = int(head[at + 17 : stop if stop >= 0 else len(head)])
        elif b"\r\ntransfer-encoding:" in head:
            raise http.client.HTTPException("chunked answers are not handled")
        start = end + 4
        while len(buffer) < start + length:
            buffer += self._receive()
        self.buffer = buffer[start + length :]
        if b"\r\nconnection: close" in head:
            self.close()
        return status, buffer[start : start + length]

    def _receive(self) -> bytes:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        return chunk

    def close(self) -> None:
        self.open = False
        self.sock.close()


class Client(threading.Thread):
    """One client: a keep-alive connection, a random stream, and the latencies of its answers."""

    def __init__(
        self,
        work: Work,
        port: int,
        token: str,
        *,
        start: float,
        stop: float,
        seed: int,
        interval: float | None = None,
        first_slot: float = 0.0,
    ) -> None:
        super().__init__(daemon=True)
        self.work, self.port, self.start_at, self.stop_at = work, port, start, stop
        self.headers = f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n".encode()
        self.rng = random.Random(seed)
        self.interval = interval  # None: closed loop; else seconds between this client's slots
        self.next_slot = first_slot
        self.latencies: list[float] = []  # of the OK requests counted in the window
        self.by_kind: dict[str, list[float]] = {}  # the same, by the last segment of the path
        self.ok_total = 0  # every OK answer, warm-up included (the benchmarks' bookkeeping)
        self.errors = 0
        self.error_samples: list[str] = []
        self.conn: Connection | None = None

    @property
    def done(self) -> bool:
        """No more requests to send: past the window (closed loop) or no slot left in it (paced)."""
        if self.interval is None:
            return time.perf_counter() >= self.stop_at
        return self.next_slot >= self.stop_at

    def post(self, path: str, body: dict[str, Any] | None) -> tuple[int, Any]:
        """POST ``body`` (JSON) to ``path``, at the next slot when paced; (status, JSON answer or None)."""
        payload = json.dumps(body).encode() if body is not None else b""
        if self.interval is None:
            began = time.perf_counter()
        else:
            began = self.next_slot  # latency counts from the slot, even when we are late for it
            self.next_slot += self.interval
            wait = began - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
        try:
            if self.conn is None or not self.conn.open:
                self.conn = Connection(self.port)
            status, raw = self.conn.post(path, payload, self.headers)
        except (OSError, ValueError, http.client.HTTPException) as exc:
            if self.conn is not None:
                self.conn.close()
            self.conn = None
            status, raw = 0, repr(exc).encode()
        ended = time.perf_counter()
        counted_at = ended if self.interval is None else began
        in_window = self.start_at <= counted_at <= self.stop_at
        ok = 200 <= status < 300
        if ok:
            self.ok_total += 1
            if in_window:
                self.latencies.append(ended - began)
                self.by_kind.setdefault(path.rsplit("/", 1)[-1], []).append(ended - began)
        elif in_window or counted_at < self.start_at:
            self.errors += 1
            if len(self.error_samples) < 5:
                self.error_samples.append(f"{path} {status} {raw[:200].decode(errors='replace')}")
        if not ok:
            return status, None
        return status, json.loads(raw) if raw else None

    def run(self) -> None:
        while not self.done:
            self.work(self)
        if self.conn is not None:
            self.conn.close()


def percentile(sorted_values: list[float], q: float) -> float:
    """The ``q`` quantile of already sorted values (nearest rank); NaN when there are none."""
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[k]


def load_main(
    work: Work, mode: str, port: int, *, clients: int, seconds: float, warmup: float, rate: float | None
) -> dict[str, Any]:
    """Drive ``clients`` threads doing ``work``; the summary the benchmarks report."""
    token = os.environ["SANJI_BENCH_TOKEN"]
    began = time.perf_counter()
    start = began + warmup
    stop = start + seconds
    threads = []
    for i in range(clients):
        if rate is None:
            client = Client(work, port, token, start=start, stop=stop, seed=i)
        else:  # slots of all clients interleave evenly: client i starts i/R after client 0
            interval = clients / rate
            client = Client(
                work,
                port,
                token,
                start=start,
                stop=stop,
                seed=i,
                interval=interval,
                first_slot=began + i / rate,
            )
        threads.append(client)
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    latencies = sorted(x for t in threads for x in t.latencies)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    ms = 1000.0
    kinds: dict[str, list[float]] = {}
    for t in threads:
        for kind, values in t.by_kind.items():
            kinds.setdefault(kind, []).extend(values)
    by_kind = {
        kind: {
            "n": len(values),
            "p50_ms": round(percentile(sorted(values), 0.50) * ms, 2),
            "p99_ms": round(percentile(sorted(values), 0.99) * ms, 2),
        }
        for kind, values in sorted(kinds.items())
    }
    return {
        "mode": mode,
        "loop": "closed" if rate is None else "paced",
        "offered_rate": rate,
        "ok": len(latencies),
        "ok_total": sum(t.ok_total for t in threads),
        "rate": round(len(latencies) / seconds, 1),
        "errors": sum(t.errors for t in threads),
        "error_samples": [s for t in threads for s in t.error_samples][:5],
        "p50_ms": round(percentile(latencies, 0.50) * ms, 2),
        "p99_ms": round(percentile(latencies, 0.99) * ms, 2),
        "max_ms": round(latencies[-1] * ms, 2) if latencies else None,
        "mean_ms": round(sum(latencies) / len(latencies) * ms, 2) if latencies else None,
        "client_cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
        "by_kind": by_kind,
    }


def anchor_work(client: Client) -> None:
    """The anchor's request: ``POST /api/bench/anchor`` (a bare one-row INSERT)."""
    client.post("/api/bench/anchor", None)
