"""The SQLite backend's writer queue (sanji.core.sqlite), with audited writes: every writer gets through, in
turn, and a transaction that fails releases the queue at once."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction

from sanji.audit import services
from sanji.audit.models import Entry
from sanji.audit.verify import verify_chain
from sanji.core.actors import Actor

pytestmark = pytest.mark.skipif(connection.vendor != "sqlite", reason="the queue is SQLite's")

THREADS = 6
PER_THREAD = 10


def _threads(work: list[threading.Thread]) -> None:
    for t in work:
        t.start()
    for t in work:
        t.join(timeout=60)


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_all_get_through_in_turn() -> None:
    errors: list[BaseException] = []
    barrier = threading.Barrier(THREADS)

    def writer(n: int) -> None:
        from django.db import connection as own

        actor = Actor(user_id=n, username=f"writer{n}", unit_id=n)
        try:
            barrier.wait()
            for i in range(PER_THREAD):
                with transaction.atomic():
                    services.record(actor=actor, action="test.queued", data={"i": i})
        except BaseException as exc:
            errors.append(exc)
        finally:
            own.close()

    _threads([threading.Thread(target=writer, args=(n,)) for n in range(THREADS)])
    assert errors == []
    seqs = list(Entry.objects.filter(action="test.queued").values_list("seq", flat=True))
    assert len(seqs) == THREADS * PER_THREAD
    assert verify_chain().ok


@pytest.mark.django_db(transaction=True)
def test_a_failed_transaction_releases_the_queue() -> None:
    class Boom(Exception):
        pass

    def failing_write() -> None:
        with transaction.atomic():
            services.record(actor=Actor(user_id=1, username="a"), action="test.failed")
            raise Boom

    with pytest.raises(Boom):
        failing_write()
    waited: list[float] = []

    def other_writer() -> None:
        from django.db import connection as own

        began = time.monotonic()
        with transaction.atomic():
            services.record(actor=Actor(user_id=2, username="b"), action="test.after")
        waited.append(time.monotonic() - began)
        own.close()

    _threads([threading.Thread(target=other_writer)])
    assert len(waited) == 1
    assert waited[0] < 2  # not the 30 s timeout of a queue left taken
    assert not Entry.objects.filter(action="test.failed").exists()
    assert Entry.objects.filter(action="test.after").count() == 1
