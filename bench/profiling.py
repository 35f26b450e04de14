"""The set-up the in-process profilers share (``bench.profile_cases_api``, ``bench.profile_lookup``).

:func:`django_in_fresh_database` gives a block a fresh database of the engine (as ``bench.run``
makes one), Django configured on it with the schema migrated and ``SANJI_BENCH=1``, and yields a
working folder; afterwards the connections are closed, the database dropped and the folder removed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def django_in_fresh_database(engine: str) -> Iterator[Path]:
    from bench.run import drop_database, fresh_database

    name = f"sanji_profile_{os.getpid()}"
    workdir = Path(tempfile.mkdtemp(prefix="sanji-profile-"))
    os.environ["DATABASE_URL"] = fresh_database(engine, workdir, name)
    os.environ["SANJI_DATA_DIR"] = str(workdir / "data")
    os.environ["DJANGO_SETTINGS_MODULE"] = "sanji.settings"
    os.environ.setdefault("SANJI_BENCH", "1")
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        yield workdir
    finally:
        from django.db import connections

        connections.close_all()
        drop_database(engine, name)
        shutil.rmtree(workdir, ignore_errors=True)
