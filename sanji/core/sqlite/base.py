"""Django's SQLite backend, with writers queued instead of polling the database lock.

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
"""

from __future__ import annotations

import datetime as dt
import fcntl
import functools
import os
import threading
from typing import Any

from django.conf import settings
from django.db.backends.sqlite3 import base, operations

_WRITING_MODES = frozenset({"IMMEDIATE", "EXCLUSIVE"})


class _WriterQueue:
    """The queue of one database file's writers, shared by this process's connections."""

    def __init__(self, path: str) -> None:
        self.thread_lock = threading.Lock()
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
