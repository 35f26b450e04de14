"""The write of a shared read: its access record and the audit entry that targets it, as one chain
(sanji.core.prepared.Chain.start). On PostgreSQL outside a transaction that is one statement that
commits by itself; the entry's target key, which only the database knows, is filled in there and
must hash exactly as the verifier recomputes it."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from sanji.audit import services as audit_services
from sanji.audit.chain import body_after_seq
from sanji.audit.models import ChainHead, Entry
from sanji.audit.verify import verify_chain
from sanji.core import clock, prepared
from sanji.population.models import Person
from sanji.sharing import selectors
from sanji.sharing.models import AccessRecord
from sanji.sharing.tests.conftest import ID_SH, ID_XC_HEAD, ID_XC_WIFE, grant, reader

pytestmark = pytest.mark.usefixtures("residents")
PURPOSE = "核对低保申请人身份"


def _entry_of(access_id: int) -> Entry:
    return Entry.objects.get(target_type="sharing.accessrecord", target_id=str(access_id))


@pytest.mark.parametrize(
    "purpose",
    ["核对低保申请人身份", 'quotes " and \\ backslash', "emoji 🙂 and ·", "x" * 200, ""],
)
@pytest.mark.parametrize("key", ["1", "987654321987"])
def test_the_body_cut_around_the_target_is_the_body_with_the_key(purpose: str, key: str) -> None:
    values = audit_services._values(
        reader(), "sharing.person_read", None, "person 7", "150105", purpose, {"fields": ["a", '"b"']}
    )
    around = audit_services._body_around_target(values)
    assert around is not None
    before, after = around
    assert before + key + after == body_after_seq({**values, "target_id": key})


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_record_and_its_entry_are_one_statement() -> None:
    g = grant()
    with CaptureQueriesContext(connection) as queries:
        shared = selectors.person_get_for(reader(), ID_SH, PURPOSE, grant_id=g.pk)
    statements = [q["sql"] for q in queries.captured_queries]
    if connection.vendor == "postgresql":
        assert "BEGIN" not in statements, statements
        assert "COMMIT" not in statements, statements
        writes = [s for s in statements if not s.startswith("SELECT")]
        assert len(writes) == 1, writes
        assert writes[0].startswith('WITH g AS (INSERT INTO "sharing_accessrecord"')
    access = AccessRecord.objects.get(pk=shared.access_id)
    entry = _entry_of(access.pk)
    assert (entry.action, entry.target_label, entry.purpose) == (
        "sharing.person_read",
        f"person {access.person_id}",
        PURPOSE,
    )
    assert ChainHead.objects.get(pk=1).seq == entry.seq
    assert verify_chain().ok  # the key the database filled in hashes as the verifier reads it


@pytest.mark.django_db(transaction=True)
def test_the_chain_answers_the_row_and_the_entry_as_stored() -> None:
    """``Chain.start`` sets the new row's key; ``record_in``'s ``entry`` is the entry as stored."""
    g = grant()
    person = Person.objects.get(name="其其格")
    chain = prepared.Chain()
    access = chain.start(
        AccessRecord(
            at=clock.now(), kind="shared_read", username="t", channel="api", person_id=person.pk,
            subject_index="x" * 64, purpose=PURPOSE, grant_id=g.pk, fields=["name"],
        )
    )  # fmt: skip
    recorded = audit_services.record_in(
        chain, actor=reader(), action="sharing.person_read", target=access, target_label="p", purpose=PURPOSE
    )
    assert chain.run() is True
    assert access.pk is not None
    assert not access._state.adding
    stored = Entry.objects.get(seq=ChainHead.objects.get(pk=1).seq)
    assert recorded.entry is not None
    assert (recorded.entry.pk, recorded.entry.seq, recorded.entry.hash, recorded.entry.target_id) == (
        stored.pk, stored.seq, stored.hash, str(access.pk),
    )  # fmt: skip
    assert verify_chain().ok


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_a_lost_chain_head_row_is_restored_and_nothing_is_written_twice() -> None:
    g = grant()
    first = selectors.person_get_for(reader(), ID_SH, PURPOSE, grant_id=g.pk)
    ChainHead.objects.filter(pk=1).delete()
    second = selectors.person_get_for(reader(), ID_XC_HEAD, PURPOSE, grant_id=g.pk)
    assert AccessRecord.objects.count() == 2
    entries = list(Entry.objects.filter(action="sharing.person_read").order_by("seq"))
    assert [e.target_id for e in entries] == [str(first.access_id), str(second.access_id)]
    assert ChainHead.objects.get(pk=1).seq == entries[-1].seq
    assert verify_chain().ok


def test_inside_a_transaction_the_record_joins_it_and_goes_with_it() -> None:
    g = grant()
    records, entries = AccessRecord.objects.count(), Entry.objects.count()

    class Undo(Exception):
        pass

    def read_then_fail() -> None:
        with transaction.atomic():
            selectors.person_get_for(reader(), ID_SH, PURPOSE, grant_id=g.pk)
            assert AccessRecord.objects.count() == records + 1
            raise Undo

    with pytest.raises(Undo):
        read_then_fail()
    assert (AccessRecord.objects.count(), Entry.objects.count()) == (records, entries)
    shared = selectors.person_get_for(reader(), ID_SH, PURPOSE, grant_id=g.pk)
    assert _entry_of(shared.access_id).seq == ChainHead.objects.get(pk=1).seq
    assert verify_chain().ok


@pytest.mark.django_db(transaction=True)
def test_an_entry_that_cannot_be_completed_in_the_database_is_written_one_by_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Should the body ever not be cut around the key, the chain writes the record, then the entry
    with the key it now knows, in one transaction: the same rows."""
    g = grant()
    monkeypatch.setattr(audit_services, "_body_around_target", lambda values: None)
    shared = selectors.person_get_for(reader(), ID_SH, PURPOSE, grant_id=g.pk)
    entry = _entry_of(shared.access_id)
    assert entry.seq == ChainHead.objects.get(pk=1).seq
    assert AccessRecord.objects.count() == 1
    assert verify_chain().ok


@pytest.mark.django_db(transaction=True)
def test_concurrent_reads_append_one_unbroken_chain() -> None:
    """Readers on their own connections, each read committing by itself: every read has its record
    and its entry, the entries follow each other without gap or fork, and the chain verifies."""
    g = grant()
    numbers = [ID_SH, ID_XC_HEAD, ID_XC_WIFE]
    errors: list[BaseException] = []
    now = clock.now()

    def read(worker: int) -> None:
        try:
            with clock.frozen(now):
                for i in range(8):
                    selectors.person_get_for(reader(), numbers[(worker + i) % 3], PURPOSE, grant_id=g.pk)
        except BaseException as error:  # reported by the main thread
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=read, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    records = AccessRecord.objects.count()
    entries: list[Any] = list(
        Entry.objects.filter(action="sharing.person_read").values_list("seq", "target_id")
    )
    assert records == len(entries) == 32
    assert {int(t) for _, t in entries} == set(AccessRecord.objects.values_list("pk", flat=True))
    seqs = sorted(s for s, _ in entries)
    assert seqs == list(range(seqs[0], seqs[0] + 32))  # only reads were written meanwhile
    assert verify_chain().ok
