"""Django's SQLite backend, with writers queued instead of polling the database lock, and (in the
server) WAL checkpoints taken off the writers' path.

SQLite has one write lock per database. With ``transaction_mode = "IMMEDIATE"`` a transaction takes
it at ``BEGIN``; a second writer then waits in SQLite's busy handler, which sleeps 1, 2, 5, 10, 15,
20, 25 … 100 ms between attempts. Under many concurrent writers (gunicorn threads × processes) the
lock is often free while every waiter sleeps, and a few unlucky requests wait for seconds.

Here each write transaction first takes a queue: a thread lock (the threads of this process wait
in the kernel and wake, in turn, as soon as the holder commits or rolls back) and then an exclusive
``flock`` on ``<database>.writers``, which the writers of the other processes wait for in the kernel
too, so SQLite's own lock is found free. (Polling the flock instead let the threads of one process
hand it on among themselves while another process slept between polls, for seconds under load.)
The queue is released at commit, rollback or close, and the kernel releases a dead process's flock.
A writer waits for the queue as long as the holder's transaction lasts (holding SQLite's lock, a
stuck holder would block it anyway); only the thread lock's wait is bounded by the timeout, after
which the writer falls back to SQLite's waiting. A process that does not use the queue (the sqlite3
shell, another program) is still kept out by SQLite's lock and busy timeout, as before.

**Checkpoints.** In WAL mode a commit appends pages to the ``-wal`` file; by default the commit
that takes the log past 1,000 pages also copies them back into the database (a checkpoint, with two
``fsync``), while it still holds the write lock. Measured on the case transitions: 1.9 ms of
commit time on average instead of 0.3 ms, in bursts that stall every writer behind it. In the
server's worker processes (:func:`checkpoint_in_background`, called by ``sanji serve``) connections
turn automatic checkpoints off, and one thread per database (in whichever worker holds the
``<database>.checkpoint`` lock) runs a ``PASSIVE`` checkpoint every :data:`CHECKPOINT_INTERVAL`
seconds: it copies what no reader still needs without taking the write lock, so writers do not
wait for it. Other processes (commands, tests, imports) keep SQLite's automatic checkpoints.
Durability is unchanged: a commit is in the WAL either way.
"""

from __future__ import annotations

import collections
import datetime as dt
import fcntl
import functools
import logging
import os
import sqlite3
import threading
import time
from typing import Any

from django.conf import settings
from django.db.backends.sqlite3 import base, operations

_WRITING_MODES = frozenset({"IMMEDIATE", "EXCLUSIVE"})

#: Seconds between two background checkpoints (at ~400 transitions/s the log grows ~15 MB a second).
CHECKPOINT_INTERVAL = 0.5

log = logging.getLogger(__name__)


class _HandOverLock:
    """A lock that passes, when released, to the thread that has waited longest.

    A ``threading.Lock`` goes to whichever thread asks first once it is free, often one that just
    came along, so under load some writers wait many turns while others wait none."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._held = False
        self._waiters: collections.deque[threading.Lock] = collections.deque()

    def acquire(self, timeout: float) -> bool:
        with self._mutex:
            if not self._held:
                self._held = True
                return True
            waiter = threading.Lock()
            waiter.acquire()
            self._waiters.append(waiter)
        if waiter.acquire(timeout=timeout):
            return True  # handed over by release(): the lock stayed held
        with self._mutex:
            try:
                self._waiters.remove(waiter)
            except ValueError:
                return True  # handed over as the wait timed out
        return False

    def release(self) -> None:
        with self._mutex:
            if self._waiters:
                self._waiters.popleft().release()
            else:
                self._held = False


class _WriterQueue:
    """The queue of one database file's writers, shared by this process's connections."""

    def __init__(self, path: str) -> None:
        self.thread_lock = _HandOverLock()
        self.fd = os.open(f"{path}.writers", os.O_RDWR | os.O_CREAT, 0o600)

    def acquire(self, timeout: float) -> bool:
        """Take the queue (False when this process's writers did not let go within ``timeout``
        seconds: the caller proceeds without it)."""
        if not self.thread_lock.acquire(timeout=timeout):
            return False
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX)  # the GIL is released while the kernel waits
        except BaseException:
            self.thread_lock.release()
            raise
        return True

    def release(self) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        self.thread_lock.release()


_queues: dict[str, _WriterQueue] = {}
_queues_lock = threading.Lock()


def _queue_for(path: str) -> _WriterQueue:
    with _queues_lock:
        queue = _queues.get(path)
        if queue is None:
            queue = _queues[path] = _WriterQueue(path)
        return queue


class Checkpointer:
    """Checkpoints one database file's WAL from a thread of this process, while this process holds
    the file's checkpoint lock (one process at a time does it; the kernel frees a dead one's lock)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.fd = os.open(f"{path}.checkpoint", os.O_RDWR | os.O_CREAT, 0o600)
        self.connection: sqlite3.Connection | None = None
        self.thread: threading.Thread | None = None

    def holds_lock(self) -> bool:
        """Take the checkpoint lock if free (kept from then on); False while another process has it."""
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def checkpoint(self) -> tuple[int, int, int] | None:
        """One PASSIVE checkpoint if this process holds the lock: (busy, frames in the log, frames
        copied back), as SQLite reports it; None when another process does the checkpoints."""
        if not self.holds_lock():
            return None
        if self.connection is None:
            self.connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        busy, frames, copied = self.connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return int(busy), int(frames), int(copied)

    def start(self) -> None:
        self.thread = threading.Thread(target=self._run, name="sanji-sqlite-checkpoint", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            time.sleep(CHECKPOINT_INTERVAL)
            try:
                self.checkpoint()
            except Exception:  # a failed round is retried; the next commits still land in the WAL
                log.exception("WAL checkpoint of %s failed", self.path)


_background_checkpoints = False
_checkpointers: dict[str, Checkpointer] = {}


def checkpoint_in_background() -> None:
    """From now on this process's new connections do not checkpoint on commit; a thread does."""
    global _background_checkpoints
    _background_checkpoints = True


def _checkpoint_in_background(path: str) -> None:
    with _queues_lock:
        if path not in _checkpointers:
            _checkpointers[path] = Checkpointer(path)
            _checkpointers[path].start()


# django-stubs does not declare the transaction internals overridden here.
_SQLiteWrapper: Any = base.DatabaseWrapper


_SQLiteOperations: Any = operations.DatabaseOperations


class DatabaseOperations(_SQLiteOperations):
    def convert_datetimefield_value(self, value: Any, expression: Any, connection: Any) -> Any:
        """As Django's, with Python's C parser: SQLite gives datetimes back as ISO 8601 text (as
        Django wrote them), and reading one case parses a dozen (Django's regex parser is slower)."""
        if value is None:
            return None
        if not isinstance(value, dt.datetime):
            value = dt.datetime.fromisoformat(value)
        if settings.USE_TZ and value.tzinfo is None:
            value = value.replace(tzinfo=self.connection.timezone)
        return value


@functools.lru_cache(maxsize=4096)
def _qmark(query: str) -> str:
    """Django's "format" → "qmark" conversion (``SQLiteCursorWrapper.convert_query``)."""
    return str(base.FORMAT_QMARK_REGEX.sub("?", query)).replace("%%", "%")


_SQLiteCursor: Any = base.SQLiteCursorWrapper


class CursorWrapper(_SQLiteCursor):
    """As Django's, with the "format" → "qmark" conversion of each SQL text done once.

    Django converts ``%s`` to ``?`` with a regular expression on every ``execute``; a service
    runs the same few statement texts again and again (compiled once: :mod:`sanji.core.prepared`),
    so the converted text is kept (bounded: texts with inline values are many and each different).
    """

    def convert_query(self, query: str, *, param_names: list[str] | None = None) -> str:
        if param_names is None:
            return _qmark(query)
        return str(super().convert_query(query, param_names=param_names))


class DatabaseWrapper(_SQLiteWrapper):
    ops_class = DatabaseOperations
    _queued: _WriterQueue | None = None

    def create_cursor(self, name: str | None = None) -> Any:
        return self.connection.cursor(factory=CursorWrapper)

    def get_new_connection(self, conn_params: Any) -> Any:
        conn = super().get_new_connection(conn_params)
        if _background_checkpoints and not self.is_in_memory_db():
            conn.execute("PRAGMA wal_autocheckpoint=0")
            _checkpoint_in_background(os.path.abspath(str(self.settings_dict["NAME"])))
        return conn

    def _queue(self) -> _WriterQueue | None:
        if self.transaction_mode not in _WRITING_MODES or self.is_in_memory_db():
            return None
        return _queue_for(os.path.abspath(str(self.settings_dict["NAME"])))

    def _start_transaction_under_autocommit(self) -> None:
        queue = self._queue()
        if queue is not None and self._queued is None:
            timeout = float(self.settings_dict.get("OPTIONS", {}).get("timeout", 5))
            if queue.acquire(timeout):
                self._queued = queue
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._leave_queue()
            raise

    def _leave_queue(self) -> None:
        queue, self._queued = self._queued, None
        if queue is not None:
            queue.release()

    def _commit(self) -> Any:
        try:
            return super()._commit()
        finally:
            self._leave_queue()

    def _rollback(self) -> Any:
        try:
            return super()._rollback()
        finally:
            self._leave_queue()

    def _close(self) -> Any:
        try:
            return super()._close()
        finally:
            self._leave_queue()
