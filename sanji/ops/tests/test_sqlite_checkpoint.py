"""Background WAL checkpoints of the SQLite backend (sanji.core.sqlite): one process copies the log
back into the database, off the writers' path, and the server's connections stop checkpointing on
commit."""

from __future__ import annotations

import os
import sqlite3
import sys
import threading
import time
from pathlib import Path

import pytest
from django.db import connection, connections

from sanji.core.sqlite import base
from sanji.ops import gunicorn_config


def _database(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA wal_autocheckpoint=0")
    db.execute("CREATE TABLE t (x TEXT)")
    for n in range(50):
        db.execute("INSERT INTO t VALUES (?)", ["x" * 2000 + str(n)])
    return db


def test_a_checkpoint_copies_the_whole_log_back(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    writer = _database(path)
    checkpointer = base.Checkpointer(str(path))
    busy, frames, copied = checkpointer.checkpoint() or (1, 0, 0)
    assert busy == 0
    assert frames > 50  # every commit left pages in the log
    assert copied == frames
    # The next write starts the log again from its beginning: it no longer grows.
    writer.execute("INSERT INTO t VALUES ('after')")
    assert (checkpointer.checkpoint() or (1, 0, 0))[1] < frames
    assert writer.execute("SELECT count(*) FROM t").fetchone() == (51,)


def test_one_checkpointer_per_database_file(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    _database(path)
    first, second = base.Checkpointer(str(path)), base.Checkpointer(str(path))
    assert first.checkpoint() is not None
    assert second.checkpoint() is None  # the file's checkpoint lock is taken
    assert first.checkpoint() is not None  # and kept by its holder


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's WAL")
@pytest.mark.django_db
def test_server_connections_leave_checkpoints_to_the_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    assert connection.cursor().execute("PRAGMA wal_autocheckpoint").fetchone() == (1000,)
    monkeypatch.setattr(base, "_background_checkpoints", False)
    interval = sys.getswitchinterval()
    try:
        gunicorn_config.post_fork(None, None)  # what each server worker runs after the fork
    finally:
        sys.setswitchinterval(interval)
    assert base._background_checkpoints
    fresh = connections.create_connection("default")
    try:
        with fresh.cursor() as cursor:
            cursor.execute("PRAGMA wal_autocheckpoint")
            assert cursor.fetchone() == (0,)
    finally:
        fresh.close()
    path = os.path.abspath(str(connection.settings_dict["NAME"]))
    thread = base._checkpointers[path].thread
    assert thread is not None
    assert thread.is_alive()


def test_the_writer_queue_hands_over_in_arrival_order() -> None:
    lock = base._HandOverLock()
    assert lock.acquire(timeout=1)
    order: list[int] = []

    def writer(n: int) -> None:
        assert lock.acquire(timeout=10)
        order.append(n)
        lock.release()

    threads = []
    for n in range(4):
        thread = threading.Thread(target=writer, args=(n,))
        thread.start()
        threads.append(thread)
        deadline = time.monotonic() + 10
        while len(lock._waiters) < n + 1:  # each is queued before the next one comes
            assert time.monotonic() < deadline
            time.sleep(0.001)
    lock.release()
    for thread in threads:
        thread.join(timeout=10)
    assert order == [0, 1, 2, 3]
    assert lock.acquire(timeout=0.1)  # free again once the last one let go


def test_a_writer_that_waits_too_long_leaves_the_queue() -> None:
    lock = base._HandOverLock()
    assert lock.acquire(timeout=1)
    assert not lock.acquire(timeout=0.05)
    assert not lock._waiters
    lock.release()
    assert lock.acquire(timeout=0.05)
