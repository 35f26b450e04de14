"""``sanji serve``'s worker class: keep-alive connections spread evenly over the worker processes
(least-connections), and the shared counts behind it."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from sanji.ops import gunicorn_worker
from sanji.ops.management.commands.serve import gunicorn_argv


@pytest.fixture
def counts(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(gunicorn_worker, "_counts", None)
    monkeypatch.setattr(gunicorn_worker, "_slots_used", None)
    gunicorn_worker.create_counts()
    return gunicorn_worker._counts


def test_slots_are_handed_out_and_freed(counts: Any) -> None:
    first, second, third = (SimpleNamespace() for _ in range(3))
    gunicorn_worker.assign_slot(first, [])
    gunicorn_worker.assign_slot(second, [first])
    assert (first.sanji_slot, second.sanji_slot) == (0, 1)
    assert counts[0] == counts[1] == 0
    assert counts[2] == gunicorn_worker.FREE
    gunicorn_worker.release_slot(first)
    assert counts[0] == gunicorn_worker.FREE
    gunicorn_worker.assign_slot(third, [second])  # a replacement takes the freed slot
    assert third.sanji_slot == 0


def test_only_the_least_busy_workers_listen(counts: Any) -> None:
    workers = [SimpleNamespace() for _ in range(3)]
    for i, worker in enumerate(workers):
        gunicorn_worker.assign_slot(worker, workers[:i])
    counts[0], counts[1], counts[2] = 3, 2, 2
    assert not gunicorn_worker.least_busy(0, 3)
    assert gunicorn_worker.least_busy(1, 2)  # ties all listen
    assert gunicorn_worker.least_busy(2, 2)
    gunicorn_worker.release_slot(workers[1])
    gunicorn_worker.release_slot(workers[2])
    assert gunicorn_worker.least_busy(0, 3)  # free slots do not count


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _connections_by_process(pids: list[int], port: int) -> dict[int, int]:
    """How many established TCP connections to ``port`` each process holds (from /proc)."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            if local_port == port and fields[3] == "01":  # 01: ESTABLISHED
                inodes.add(fields[9])
    found = {}
    for pid in pids:
        links = []
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                links.append(os.readlink(fd))
            except OSError:
                continue
        found[pid] = sum(1 for link in links if link.startswith("socket:[") and link[8:-1] in inodes)
    return found


def _children(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(c) for c in children]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_connections_are_spread_evenly_over_the_workers(tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "SANJI_DATA_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",  # the page asked for reads no table
    }
    # Keep-alive well past the test's length: gunicorn's 2 s default let a slow machine close the
    # first connections (idle while the others were opened) before they were counted.
    argv = [*gunicorn_argv(host="127.0.0.1", port=port, workers=4, threads=1), "--keep-alive", "120"]
    server = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    clients: list[http.client.HTTPConnection] = []
    try:
        deadline = time.monotonic() + 60
        while len(_children(server.pid)) < 4 or not _answers(port):
            assert server.poll() is None, "sanji serve exited"
            assert time.monotonic() < deadline, "sanji serve did not come up"
            time.sleep(0.2)
        # One after another, each kept open: stock gunicorn lets whichever worker is first to
        # accept take each (evenly by chance only: 1.5 % for 16 over 4); balanced, 4 each.
        for _ in range(16):
            client = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            client.request("GET", "/api/v1/openapi.json")
            response = client.getresponse()
            response.read()
            assert response.status == 200
            clients.append(client)
        workers = _children(server.pid)
        held = _connections_by_process(workers, port)
        assert sorted(held.values()) == [4, 4, 4, 4], held
    finally:
        for client in clients:
            client.close()
        server.terminate()
        server.wait(timeout=30)


def _answers(port: int) -> bool:
    try:
        client = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        client.request("GET", "/api/v1/openapi.json")
        ok = client.getresponse().status == 200
        client.close()
        return ok
    except OSError:
        return False
