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

#: ``sanji serve`` defaults: worker processes per core (:func:`default_workers`), four threads each.
#: Threads of one process share the interpreter lock, so many threads in few processes queue for
#: it; many single-threaded processes pass the database write queue between processes, which
#: costs more. On SQLite, 4 × 4 served the most case transitions on 2 cores (measured against
#: 2 × 8, 8 × 2, 16 × 1).
WORKERS_PER_CORE = 2
#: With a PostgreSQL server on the same machine its backends need the cores too: one worker per
#: core served about 15 % more case transitions on 2 cores than two per core (2 × 4: 334–342/s,
#: 4 × 4: 294/s, 8 × 2: 305/s, 2 × 8: 273/s; ``bench.bench_cases_api``, 2026-11-27), with less CPU
#: per transition in both the workers and the database server. Once transitions were cheaper, 2 × 4
#: still had the shortest tail at the same rate (2 × 4: 390/s, p99 69 ms; 3 × 4: 396/s, p99 88 ms;
#: 2 × 8: 330/s, p99 119 ms).
WORKERS_PER_CORE_LOCAL_POSTGRESQL = 1
#: Hosts that put the database server on this machine (an empty host or a path is a local socket).
LOCAL_HOSTS = frozenset({"", "localhost", "127.0.0.1", "::1"})


def default_workers(database: dict[str, Any], cores: int | None = None) -> int:
    """Worker processes for a Django ``DATABASES`` entry: one per core when the database is a
    PostgreSQL server on this machine, two per core otherwise (SQLite, or a database elsewhere); at
    least two, so that one worker's restart never leaves the platform unserved."""
    cores = cores or os.cpu_count() or 1
    host = str(database.get("HOST") or "")
    local = host in LOCAL_HOSTS or host.startswith("/")
    postgresql = "postgresql" in str(database.get("ENGINE", ""))
    per_core = WORKERS_PER_CORE_LOCAL_POSTGRESQL if postgresql and local else WORKERS_PER_CORE
    return max(2, per_core * cores)


DEFAULT_THREADS = 4


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
