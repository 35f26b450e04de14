import datetime as dt
import itertools
import os
import stat

import pytest
from django.db import DataError, connection, transaction
from django.test.utils import CaptureQueriesContext

from sanji.audit import services, signing
from sanji.audit.chain import HASHED_FIELDS, entry_hash
from sanji.audit.models import ChainHead, Checkpoint, Entry
from sanji.audit.selectors import EntryFilter
from sanji.audit.tests.conftest import SAIHAN, auditor_at, make_trail, newest
from sanji.audit.verify import verify_chain
from sanji.core import clock
from sanji.core.actors import Actor, system_actor
from sanji.core.appendonly import AppendOnlyError
from sanji.core.errors import Conflict, Forbidden, ValidationFailed

pytestmark = pytest.mark.django_db


def test_record_appends_contiguous_linked_entries(trail):
    seqs = [e.seq for e in trail]
    assert seqs == list(range(seqs[0], seqs[0] + len(trail)))
    for earlier, later in itertools.pairwise(trail):
        assert later.prev_hash == earlier.hash
    head = ChainHead.objects.get(pk=1)
    assert (head.seq, head.hash) == (trail[-1].seq, trail[-1].hash)


def test_record_keeps_actor_and_target_fields(trail):
    entry = Entry.objects.get(seq=trail[0].seq)
    assert (entry.actor_id, entry.actor_username, entry.unit_id, entry.terminal, entry.ip) == (
        5,
        "zhang",
        11,
        "T-001",
        "10.0.0.5",
    )
    assert entry.data == {"case": 1}


def test_record_target_object_and_truncation():
    make_trail(1)
    head = ChainHead.objects.get(pk=1)
    entry = services.record(actor=system_actor(), action="audit.test", target=head, purpose="p" * 300)
    assert (entry.target_type, entry.target_id, entry.target_label) == ("audit.chainhead", "1", str(head))
    assert len(entry.purpose) == 200


def test_entries_are_append_only_in_the_orm(trail):
    entry = Entry.objects.get(seq=trail[0].seq)
    entry.action = "x"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        Entry.objects.filter(seq=trail[0].seq).update(action="x")
    with pytest.raises(AppendOnlyError):
        Entry.objects.all().delete()
    assert verify_chain().ok


# --- purge ------------------------------------------------------------------------------------


def old_and_new(n_old: int = 5, n_new: int = 3, days_old: int = 400) -> dt.datetime:
    start = clock.now() - dt.timedelta(days=days_old)
    make_trail(n_old, start=start, step=dt.timedelta(days=1))
    make_trail(n_new)
    return start + dt.timedelta(days=n_old)


def test_purge_refuses_a_cutoff_younger_than_the_retention(system):
    old_and_new()
    with pytest.raises(ValidationFailed, match="审计日志至少保留 180 天") as refused:
        services.audit_purge(actor=system, before=clock.now() - dt.timedelta(days=179))
    assert refused.value.details["code"] == "retention"
    assert refused.value.details["min_days"] == 180
    assert Entry.objects.count() == 8
    assert not Checkpoint.objects.exists()


def test_purge_refuses_naive_cutoff(system):
    with pytest.raises(ValidationFailed):
        services.audit_purge(actor=system, before=dt.datetime(2020, 1, 1))


@pytest.mark.parametrize(
    "actor",
    [
        auditor_at("150100/"),
        Actor(user_id=1, username="admin", channel="cli"),
        system_actor(channel="web"),
    ],
)
def test_only_the_platform_purges(actor):
    with pytest.raises(Forbidden):
        services.audit_purge(actor=actor, before=clock.now() - dt.timedelta(days=400))


def test_purge_removes_the_old_prefix_and_leaves_a_signed_checkpoint(system, settings):
    cutoff = old_and_new()
    fifth_hash = Entry.objects.get(seq=5).hash
    checkpoint = services.audit_purge(actor=system, before=cutoff)
    assert checkpoint is not None
    assert (checkpoint.seq, checkpoint.hash, checkpoint.purged_count) == (5, fifth_hash, 5)
    assert checkpoint.purged_before == cutoff
    assert list(Entry.objects.order_by("seq").values_list("seq", flat=True)) == [6, 7, 8, 9]
    purged = Entry.objects.get(seq=9)
    assert purged.action == "audit.purged"
    assert purged.data["purged_count"] == 5
    assert purged.data["last_seq"] == 5
    assert purged.target_type == "audit.checkpoint"
    result = verify_chain()
    assert result.ok, result.message
    assert result.count == 4
    # The key file: 0600, id = first 16 hex of sha256(raw public key)
    path = signing.key_path()
    assert path.parent == settings.KEY_DIR
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert checkpoint.key_id == signing.key_id(signing.public_key())
    assert len(checkpoint.key_id) == 16


def test_purge_stops_at_the_first_younger_entry(system):
    """Only a contiguous prefix goes: an old entry after a young one stays."""
    start = clock.now() - dt.timedelta(days=400)
    make_trail(2, start=start)
    make_trail(1, start=start + dt.timedelta(days=300))  # young-ish
    make_trail(1, start=start)  # clock went back: old again, but after a kept entry
    checkpoint = services.audit_purge(actor=system, before=start + dt.timedelta(days=200))
    assert checkpoint is not None
    assert checkpoint.seq == 2
    assert Entry.objects.filter(seq=4).exists()
    assert verify_chain().ok


def test_purge_with_nothing_old_enough(system):
    make_trail(3)
    assert services.audit_purge(actor=system, before=clock.now() - dt.timedelta(days=200)) is None
    assert Entry.objects.count() == 3


def test_second_purge_continues_from_the_first_checkpoint(system):
    start = clock.now() - dt.timedelta(days=600)
    make_trail(6, start=start, step=dt.timedelta(days=30))
    make_trail(2)
    first = services.audit_purge(actor=system, before=start + dt.timedelta(days=65))
    second = services.audit_purge(actor=system, before=start + dt.timedelta(days=155))
    assert first is not None
    assert second is not None
    assert (first.seq, first.purged_count) == (3, 3)
    assert (second.seq, second.purged_count) == (6, 3)
    result = verify_chain()
    assert result.ok, result.message
    assert result.checkpoint_seq == 6


def test_purge_refuses_a_broken_chain(system):
    cutoff = old_and_new()
    from sanji.audit.tests.conftest import sql

    sql("UPDATE audit_entry SET action = 'x' WHERE seq = 2")
    with pytest.raises(Conflict, match="日志链已被破坏（#2）") as refused:
        services.audit_purge(actor=system, before=cutoff)
    assert refused.value.details["problem"].startswith("audit chain broken at entry #2")
    assert not Checkpoint.objects.exists()


# --- export -----------------------------------------------------------------------------------


def test_export_records_filter_and_row_count(trail, city_auditor):
    filters = EntryFilter(action="cases.", since=clock.now() - dt.timedelta(days=1))
    export = services.audit_export(actor=city_auditor, filters=filters, format="csv")
    assert export.count == 4
    entry = newest()
    assert entry.action == "audit.exported"
    assert entry.actor_username == city_auditor.username
    assert entry.region_path == "150100/"
    assert entry.data["format"] == "csv"
    assert entry.data["rows"] == 4
    assert entry.data["filter"]["action"] == "cases."
    assert "since" in entry.data["filter"]
    # The export entry itself is not in the exported rows (pinned to the head before it)
    assert (
        list(export.rows.values_list("seq", flat=True))
        == [e.seq for e in trail if e.action.startswith("cases.")][::-1]
    )


def test_export_is_scoped(trail, saihan_auditor):
    export = services.audit_export(actor=saihan_auditor, filters=EntryFilter(), format="csv")
    assert {e.region_path for e in export.rows} <= {SAIHAN, SAIHAN + "150105001/"}
    assert export.count == 4


def test_xlsx_export_is_capped(trail, city_auditor, monkeypatch):
    monkeypatch.setattr(services, "XLSX_MAX_ROWS", 3)
    before = Entry.objects.count()
    with pytest.raises(ValidationFailed, match="Excel 导出最多 3 条") as refused:
        services.audit_export(actor=city_auditor, filters=EntryFilter(), format="xlsx")
    assert refused.value.details == {"code": "too_many_rows", "rows": before, "max_rows": 3}
    assert Entry.objects.count() == before  # a refused export is not recorded


def test_export_refused_for_other_roles(trail):
    with pytest.raises(Forbidden):
        services.audit_export(
            actor=Actor(user_id=1, username="sysadmin"), filters=EntryFilter(), format="csv"
        )


def test_verify_service_records_the_check(trail, city_auditor):
    result = services.audit_verify(actor=city_auditor)
    assert result.ok
    entry = newest()
    assert entry.action == "audit.verified"
    assert entry.data["ok"] is True


def test_record_query_count():
    make_trail(1)
    with CaptureQueriesContext(connection) as ctx:
        services.record(actor=system_actor(), action="audit.test")
    statements = [q for q in ctx.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    # PostgreSQL: lock the head, insert and move the head in one statement; SQLite: three.
    assert len(statements) == (1 if connection.vendor == "postgresql" else 3)


def test_the_hash_the_database_completes_verifies():
    make_trail(1)
    before = ChainHead.objects.get(pk=1)
    entry = services.record(
        actor=Actor(user_id=None, username='王 "quoted"', unit_id=None, ip="::1"),
        action="audit.test",
        target_label="换行\n反斜杠\\ 😀",
        data={"nested": {"b": [1.5, None, True], "a": "中文"}, "big": 10**20},
    )
    stored = Entry.objects.get(seq=entry.seq)
    assert (stored.pk, stored.seq, stored.prev_hash, stored.hash) == (
        entry.pk,
        before.seq + 1,
        before.hash,
        entry.hash,
    )
    assert entry.hash == entry_hash(before.hash, {name: getattr(stored, name) for name in HASHED_FIELDS})
    assert verify_chain().ok


def test_an_overlong_value_is_refused_whole_not_cut():
    make_trail(1)
    head = ChainHead.objects.get(pk=1)
    if connection.vendor == "postgresql":
        with pytest.raises(DataError), transaction.atomic():
            services.record(actor=system_actor(), action="audit." + "x" * 80)
        assert ChainHead.objects.get(pk=1).seq == head.seq
        assert not Entry.objects.filter(seq=head.seq + 1).exists()
    else:  # SQLite keeps any length: stored whole, and the chain verifies
        entry = services.record(actor=system_actor(), action="audit." + "x" * 80)
        assert Entry.objects.get(seq=entry.seq).action == "audit." + "x" * 80
    assert verify_chain().ok
