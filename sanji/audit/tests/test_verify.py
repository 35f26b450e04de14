"""Verification against the database: tampering through raw SQL is detected and named."""

import datetime as dt

import pytest
from django.core.management import call_command

from sanji.audit import services, signing
from sanji.audit.chain import HASHED_FIELDS, row_hash
from sanji.audit.models import ChainHead, Checkpoint, Entry
from sanji.audit.tests.conftest import make_trail, sql
from sanji.audit.verify import Problem, verify_chain
from sanji.core import clock
from sanji.core.actors import Actor

pytestmark = pytest.mark.django_db


def broken() -> Problem:
    problem = verify_chain().problem
    assert problem is not None
    return problem


def last_seq() -> int:
    return ChainHead.objects.get(pk=1).seq


def test_intact_chain(trail):
    result = verify_chain()
    assert result.ok, result.message
    n = last_seq()
    assert result.count == n
    assert result.message == f"audit chain intact: {n} entries (#1–#{n}), from genesis"


def test_empty_chain_is_intact():
    assert verify_chain().ok


def test_changed_entry(trail):
    sql("UPDATE audit_entry SET actor_username = %s WHERE seq = %s", ["mallory", trail[3].seq])
    result = verify_chain()
    assert not result.ok
    assert result.message == f"audit chain broken at entry #{trail[3].seq}: entry changed (hash mismatch)"


def test_changed_data(trail):
    sql("UPDATE audit_entry SET at = %s WHERE seq = %s", [clock.now() - dt.timedelta(days=3), trail[5].seq])
    problem = broken()
    assert (problem.seq, problem.kind) == (trail[5].seq, "changed")


def test_changed_entry_with_recomputed_hash(trail):
    target = trail[2]
    values = [getattr(target, name) for name in HASHED_FIELDS]
    values[HASHED_FIELDS.index("action")] = "cases.withdrawn"
    forged = row_hash(target.prev_hash, values)
    sql(
        "UPDATE audit_entry SET action = %s, hash = %s WHERE seq = %s",
        ["cases.withdrawn", forged, target.seq],
    )
    problem = broken()
    assert (problem.seq, problem.kind) == (target.seq, "changed")


def test_deleted_middle_entry(trail):
    sql("DELETE FROM audit_entry WHERE seq = %s", [trail[4].seq])
    result = verify_chain()
    assert result.message.startswith(f"audit chain broken at entry #{trail[4].seq}: entry removed")


def test_deleted_first_entry(trail):
    sql("DELETE FROM audit_entry WHERE seq = %s", [trail[0].seq])
    problem = broken()
    assert (problem.seq, problem.kind) == (trail[0].seq, "removed")


def test_truncated_tail(trail):
    sql("DELETE FROM audit_entry WHERE seq >= %s", [trail[6].seq])
    result = verify_chain()
    assert (broken().seq, broken().kind) == (trail[6].seq, "removed")
    assert "truncated tail" in result.message


def test_inserted_entry_in_the_middle(trail):
    at = trail[4]  # a forged entry goes in after it; the later ones are renumbered
    sql("UPDATE audit_entry SET seq = seq + 1000000 WHERE seq > %s", [at.seq])
    sql("UPDATE audit_entry SET seq = seq - 999999 WHERE seq > 1000000")
    values = {name: getattr(at, name) for name in HASHED_FIELDS}
    values.update(seq=at.seq + 1, action="cases.approved", data={})
    forged_hash = row_hash(at.hash, [values[name] for name in HASHED_FIELDS])
    Entry.objects.create(prev_hash=at.hash, hash=forged_hash, **values)
    result = verify_chain()
    assert result.message == (
        f"audit chain broken at entry #{at.seq + 1}: entry inserted (entry #{at.seq + 2} links past it)"
    )


def test_inserted_entry_after_the_head(trail):
    tip = trail[-1]
    values = {name: getattr(tip, name) for name in HASHED_FIELDS}
    values.update(seq=tip.seq + 1, action="accounts.login")
    digest = row_hash(tip.hash, [values[name] for name in HASHED_FIELDS])
    Entry.objects.create(prev_hash=tip.hash, hash=digest, **values)
    problem = broken()
    assert (problem.seq, problem.kind) == (tip.seq + 1, "inserted")


def test_head_changed(trail):
    ChainHead.objects.filter(pk=1).update(hash="f" * 64)
    problem = broken()
    assert (problem.seq, problem.kind) == (trail[-1].seq, "changed")


def test_head_missing(trail):
    ChainHead.objects.filter(pk=1).delete()
    assert broken().kind == "head"


def test_appends_continue_after_a_lost_head_row(trail):
    ChainHead.objects.filter(pk=1).delete()
    make_trail(2)
    assert verify_chain().ok


def purge_old(system: Actor, days_old: int = 400, n: int = 5) -> Checkpoint:
    start = clock.now() - dt.timedelta(days=days_old)
    make_trail(n, start=start, step=dt.timedelta(days=1))
    make_trail(3)
    checkpoint = services.audit_purge(actor=system, before=start + dt.timedelta(days=n))
    assert checkpoint is not None
    return checkpoint


def test_purge_then_verify_starts_at_the_checkpoint(system):
    checkpoint = purge_old(system)
    result = verify_chain()
    assert result.ok, result.message
    assert result.checkpoint_seq == checkpoint.seq == 5
    assert result.first_seq == 6
    assert result.message.endswith("checkpoint #5")


def test_forged_checkpoint_field(system):
    checkpoint = purge_old(system)
    sql("UPDATE audit_checkpoint SET purged_count = purged_count + 1 WHERE id = %s", [checkpoint.pk])
    result = verify_chain()
    assert result.message == (
        f"audit chain broken at checkpoint #{checkpoint.seq}: "
        "signature invalid (forged or changed checkpoint)"
    )


def test_checkpoint_signed_with_another_key(system):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    checkpoint = purge_old(system)
    payload = signing.checkpoint_payload(
        seq=checkpoint.seq,
        hash=checkpoint.hash,
        purged_before=checkpoint.purged_before,
        purged_count=checkpoint.purged_count,
        created_at=checkpoint.created_at,
    )
    import base64

    forged = base64.b64encode(Ed25519PrivateKey.generate().sign(payload)).decode()
    Checkpoint.objects.filter(pk=checkpoint.pk).update(signature=forged)
    assert broken().kind == "checkpoint"


def test_checkpoint_hash_must_match_first_remaining_entry(system):
    checkpoint = purge_old(system)
    # A correctly signed checkpoint whose hash is not what the next entry links to.
    payload = signing.checkpoint_payload(
        seq=checkpoint.seq,
        hash="e" * 64,
        purged_before=checkpoint.purged_before,
        purged_count=checkpoint.purged_count,
        created_at=checkpoint.created_at,
    )
    key_id, signature = signing.sign(payload)
    Checkpoint.objects.filter(pk=checkpoint.pk).update(hash="e" * 64, signature=signature, key_id=key_id)
    problem = broken()
    assert (problem.seq, problem.kind) == (checkpoint.seq + 1, "changed")
    assert f"checkpoint #{checkpoint.seq}" in problem.detail


def test_missing_signing_key(system):
    purge_old(system)
    signing.key_path().rename(signing.key_path().with_suffix(".moved"))
    try:
        assert "cannot check the signature" in verify_chain().message
    finally:
        signing.key_path().with_suffix(".moved").rename(signing.key_path())


def test_entry_older_than_the_checkpoint_is_an_insertion(system):
    checkpoint = purge_old(system)
    first = Entry.objects.order_by("seq").first()
    values = {name: getattr(first, name) for name in HASHED_FIELDS}
    values["seq"] = checkpoint.seq - 1
    Entry.objects.create(prev_hash="0" * 64, hash="1" * 64, **values)
    problem = broken()
    assert (problem.seq, problem.kind) == (checkpoint.seq - 1, "inserted")


def test_verify_command_exit_codes(trail, capsys):
    call_command("audit", "verify")
    assert "audit chain intact" in capsys.readouterr().out
    sql("UPDATE audit_entry SET ip = '6.6.6.6' WHERE seq = %s", [trail[1].seq])
    with pytest.raises(SystemExit) as exc:
        call_command("audit", "verify")
    assert exc.value.code == 1
    assert (
        f"audit chain broken at entry #{trail[1].seq}: entry changed (hash mismatch)"
        in capsys.readouterr().err
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-03-01 08:30:00.123456", "2026-03-01T08:30:00.123456Z"),
        ("2026-03-01 08:30:00", "2026-03-01T08:30:00.000000Z"),
        ("2026-03-01T16:30:00.5+08:00", "2026-03-01T08:30:00.500000Z"),
        (dt.datetime(2026, 3, 1, 8, 30), "2026-03-01T08:30:00.000000Z"),
        (dt.datetime(2026, 3, 1, 16, 30, tzinfo=clock.CITY_TZ), "2026-03-01T08:30:00.000000Z"),
    ],
)
def test_database_times_are_read_canonically(raw, expected):
    from sanji.audit.verify import _canonical_db_time

    assert _canonical_db_time(raw) == expected


def test_whole_second_timestamps_verify():
    with clock.frozen(dt.datetime(2026, 3, 1, 8, 30, tzinfo=dt.UTC)):
        make_trail(2, step=dt.timedelta(seconds=1))
    assert verify_chain().ok
