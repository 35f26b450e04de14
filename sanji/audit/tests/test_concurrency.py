"""Concurrent appends never fork the chain: seqs stay contiguous and the chain verifies.

PostgreSQL: threads, each with its own connection, in real transactions. SQLite: the same in a
child process on a database file (the in-memory test database cannot be shared by connections).
"""

import json
import os
import subprocess
import sys
import textwrap
import threading

import pytest
from django.conf import settings
from django.db import connection, transaction

from sanji.audit import services
from sanji.audit.models import Entry
from sanji.audit.verify import verify_chain
from sanji.core.actors import Actor

THREADS = 6
PER_THREAD = 15


def append_from_threads() -> list[BaseException]:
    errors: list[BaseException] = []
    barrier = threading.Barrier(THREADS)

    def worker(n: int) -> None:
        from django.db import connection as thread_connection

        actor = Actor(user_id=n, username=f"worker{n}", unit_id=n)
        try:
            barrier.wait()
            for i in range(PER_THREAD):
                with transaction.atomic():
                    services.record(
                        actor=actor, action="test.concurrent", region_path="150100/", data={"i": i}
                    )
        except BaseException as exc:
            errors.append(exc)
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("threads with their own connections: PostgreSQL (SQLite: see the next test)")
    errors = append_from_threads()
    assert errors == []
    seqs = list(Entry.objects.filter(action="test.concurrent").order_by("seq").values_list("seq", flat=True))
    assert len(seqs) == THREADS * PER_THREAD
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    result = verify_chain()
    assert result.ok, result.message


CHILD = textwrap.dedent(
    """
    import json, django
    django.setup()
    from django.core.management import call_command
    call_command("migrate", verbosity=0)
    from sanji.audit.tests.test_concurrency import append_from_threads
    from sanji.audit.models import Entry
    from sanji.audit.verify import verify_chain
    errors = append_from_threads()
    seqs = list(Entry.objects.order_by("seq").values_list("seq", flat=True))
    print(json.dumps({"errors": [repr(e) for e in errors], "seqs": seqs, "verify": verify_chain().message}))
    """
)


def test_concurrent_appends_sqlite_file(tmp_path):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'concurrent.sqlite3'}",
        "SANJI_DATA_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": settings.SETTINGS_MODULE,
    }
    done = subprocess.run(
        [sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["errors"] == []
    assert out["seqs"] == list(range(1, THREADS * PER_THREAD + 1))
    assert out["verify"].startswith("audit chain intact")
