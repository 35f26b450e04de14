"""The worker class of ``sanji serve``: gunicorn's threaded worker, with connections balanced.

gunicorn's workers all listen on one socket, and whichever is first to call ``accept`` takes the
connection. A worker that happens to be idle when clients connect takes most of them, and keeps
them for as long as they stay alive (keep-alive). Each process gets about the same share of the
CPUs, so the clients of a crowded worker wait several times longer than those of a quiet one: on
the cases API benchmark (16 clients, 4 workers) one worker held 10 connections and another 1, and
the slowest requests took five times the median.

:class:`BalancedThreadWorker` listens only while it holds no more open connections than the least
busy worker (least-connections, as a load balancer would do it). The counts live in shared memory
that the master process creates before it forks (:func:`create_counts`) and hands out one slot per
worker (:func:`assign_slot`, :func:`release_slot`; called by the hooks in
:mod:`sanji.ops.gunicorn_config`). Each worker writes only its own slot and reads the others. The
least busy worker always listens, so a new connection is never left waiting; a worker at its
``worker_connections`` cap stops listening as before.
"""

from __future__ import annotations

import multiprocessing
from typing import Any

from gunicorn.workers.gthread import ThreadWorker

#: Slots for workers alive at once (gunicorn can add workers at run time, on TTIN).
MAX_WORKERS = 256
#: A slot no live worker holds.
FREE = -1

_counts: Any = None  # multiprocessing RawArray of int, MAX_WORKERS slots, created in the master
_slots_used: Any = None  # RawValue: one past the highest slot ever handed out (slots below it are read)


def create_counts() -> None:
    """In the master, before any worker is forked: the shared connection counts, all free."""
    global _counts, _slots_used
    _counts = multiprocessing.RawArray("i", [FREE] * MAX_WORKERS)
    _slots_used = multiprocessing.RawValue("i", 0)


def assign_slot(worker: Any, live: list[Any]) -> None:
    """In the master, before ``worker`` is forked: a slot that none of the ``live`` workers holds."""
    if _counts is None:
        return
    taken = {getattr(w, "sanji_slot", None) for w in live}
    slot = next((i for i in range(MAX_WORKERS) if i not in taken), None)
    worker.sanji_slot = slot
    if slot is not None:
        _counts[slot] = 0
        _slots_used.value = max(_slots_used.value, slot + 1)


def release_slot(worker: Any) -> None:
    """In the master, once ``worker`` has exited: its slot is free again."""
    slot = getattr(worker, "sanji_slot", None)
    if _counts is not None and slot is not None:
        _counts[slot] = FREE


def least_busy(slot: int, mine: int) -> bool:
    """Whether the worker in ``slot``, holding ``mine`` connections, holds no more than any other."""
    counts = _counts[: _slots_used.value]  # every turn of every worker's loop: keep it short
    counts[slot] = FREE
    others = [n for n in counts if n >= 0]
    return not others or mine <= min(others)


class BalancedThreadWorker(ThreadWorker):
    """gunicorn's ``gthread`` worker that accepts a connection only while it is among the least
    busy workers (see the module's docstring). Without shared counts (a worker started outside
    ``sanji serve``'s hooks) it behaves exactly as ``gthread``."""

    sanji_slot: int | None = None

    def _publish(self) -> None:
        if _counts is not None and self.sanji_slot is not None:
            _counts[self.sanji_slot] = self.nr_conns

    def set_accept_enabled(self, enabled: bool) -> None:
        if enabled and _counts is not None and self.sanji_slot is not None:
            enabled = least_busy(self.sanji_slot, self.nr_conns)
        super().set_accept_enabled(enabled)

    def accept(self, listener: Any) -> None:
        super().accept(listener)
        self._publish()
        if self._accepting:
            self.set_accept_enabled(True)  # stop listening at once if no longer the least busy

    def wait_for_and_dispatch_events(self, timeout: float) -> None:
        # Once per turn of the event loop: publish this worker's count (connections close in
        # several places) and listen or not by the latest counts of all workers.
        self._publish()
        if self.alive and self.nr_conns < self.worker_connections:
            self.set_accept_enabled(True)
        # A worker not listening learns of other workers' changes at its next event; under load
        # that is within milliseconds, idle within this bound.
        super().wait_for_and_dispatch_events(min(timeout, 0.05) if not self._accepting else timeout)
