"""gunicorn settings of ``sanji serve`` that the command line cannot give (``--config python:…``).

Each worker serves its requests on threads that share one interpreter lock (GIL). A thread that
comes back from the database waits for the lock until the running thread's switch interval ends
(5 ms by default). A request holding a database write lock (SQLite's, or PostgreSQL's audit chain
head row) makes several round trips before it commits, so every other writer would wait for those
switches too: a shorter interval keeps write transactions short under load.
"""

from __future__ import annotations

import os
import sys
from typing import Any

#: Seconds a thread runs before the interpreter lets another one in (Python's default: 0.005).
#: Measured on the cases API benchmark (2 cores, 16 clients): the CPU per request is the same from
#: 5 ms down to 0.05 ms, and the shortest interval gave the best rates and latencies.
SWITCH_INTERVAL = 0.00005

#: ``sanji serve`` defaults: worker processes per core (:func:`default_workers`), two threads each.
#: Threads of one process share the interpreter lock: more threads than a process can keep busy
#: only queue for it, and each switch costs CPU; more processes put the database server's
#: backends, or SQLite's write lock, between more competitors for two cores. Measured on the cases
#: API benchmark (``bench.bench_cases_api``, 16 clients, 2 cores, 2026-11-29, case transitions
#: per second and p99):
#:
#: - SQLite: 2 × 2: 555–719/s, p99 42–51 ms (7 runs); 4 × 2: 539–630/s, 45–52 ms; 3 × 2: 430/s, 50 ms;
#:   4 × 4 (the default before): 578/s, 46 ms.
#: - PostgreSQL on this machine: 2 × 2: 541–591/s, p99 41–49 ms; 2 × 1: 530/s, 45 ms; 3 × 2:
#:   548/s, 53 ms; 2 × 3: 487/s, 54 ms; 4 × 1: 464/s, 57 ms; 2 × 4 (the default before): 466/s,
#:   67 ms.
#:
#: Fewer threads also cost less CPU per transition (PostgreSQL: 2.3 ms in the workers at 2 × 2,
#: 2.7 ms at 2 × 4). Earlier, dearer transitions had measured best at 2 × 4 and 4 × 4: re-measure
#: when the cost of a request changes much.
WORKERS_PER_CORE = 1
#: A database on another machine keeps the workers' threads waiting longer on the network: two
#: workers per core keep the cores busy meanwhile (not measured here: no second machine).
WORKERS_PER_CORE_REMOTE_DATABASE = 2
#: Hosts that put the database server on this machine (an empty host or a path is a local socket).
LOCAL_HOSTS = frozenset({"", "localhost", "127.0.0.1", "::1"})


def default_workers(database: dict[str, Any], cores: int | None = None) -> int:
    """Worker processes for a Django ``DATABASES`` entry: one per core when the database is on this
    machine (SQLite, or a PostgreSQL server here), two per core for a database elsewhere; at least
    two, so that one worker's restart never leaves the platform unserved."""
    cores = cores or os.cpu_count() or 1
    host = str(database.get("HOST") or "")
    sqlite = "sqlite" in str(database.get("ENGINE", ""))
    local = sqlite or host in LOCAL_HOSTS or host.startswith("/")
    per_core = WORKERS_PER_CORE if local else WORKERS_PER_CORE_REMOTE_DATABASE
    return max(2, per_core * cores)


DEFAULT_THREADS = 2


#: Load the application (Django and every URL, ``sanji.wsgi``) once in the master, before it forks
#: the workers: each worker is ready as soon as it starts, instead of importing Django on its own
#: (on 2 cores, four workers importing at once took seconds, and the first worker up took every
#: connection that arrived meanwhile), and the workers share the loaded code's memory.
preload_app = True


#: gunicorn's control socket (``gunicornc``) is one path per user: several servers on a machine (the
#: platform, a benchmark, a test) would contend for it, and the platform does not use it.
control_socket_disable = True


def on_starting(server: Any) -> None:
    from sanji.ops.gunicorn_worker import create_counts

    create_counts()  # connection counts shared by the workers (sanji.ops.gunicorn_worker)


def pre_fork(server: Any, worker: Any) -> None:
    from sanji.ops.gunicorn_worker import assign_slot

    assign_slot(worker, list(server.WORKERS.values()))


def child_exit(server: Any, worker: Any) -> None:
    from sanji.ops.gunicorn_worker import release_slot

    release_slot(worker)


def post_worker_init(worker: Any) -> None:
    """Once the worker is ready: the objects loaded so far (Django, the URLs, the models) live as
    long as the process, so the cyclic garbage collector stops walking them (``gc.freeze``), and it
    runs less often. Measured in-process on the case transitions at Python's default thresholds: a
    young collection about once per request, and every 70 or so requests a full one that walked the
    whole loaded heap for 15–70 ms, inside some request's answer time."""
    import gc

    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


def post_fork(server: Any, worker: Any) -> None:
    from sanji.core.sqlite.base import checkpoint_in_background

    sys.setswitchinterval(SWITCH_INTERVAL)
    checkpoint_in_background()  # SQLite: WAL checkpoints off the commit path (sanji.core.sqlite)
