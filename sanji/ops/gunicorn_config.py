"""gunicorn settings of ``sanji serve`` that the command line cannot give (``--config python:…``).

Each worker serves its requests on threads that share one interpreter lock (GIL). A thread that
comes back from the database waits for the lock until the running thread's switch interval ends
(5 ms by default). A request holding a database write lock (SQLite's, or PostgreSQL's audit chain
head row) makes several round trips before it commits, so every other writer would wait for those
switches too: a shorter interval keeps write transactions short under load.
"""

from __future__ import annotations

import sys
from typing import Any

#: Seconds a thread runs before the interpreter lets another one in (Python's default: 0.005).
SWITCH_INTERVAL = 0.00005


def post_fork(server: Any, worker: Any) -> None:
    sys.setswitchinterval(SWITCH_INTERVAL)
