"""The change feed written as signed packages for a front-end processor (前置机): contents equal the
API's items, signatures and digests check out, the platform keeps the cursor, scope, crash safety,
refusals, the command and the audit entry per package. Changes reach the feed through the real
submit → verify."""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from django.core.management import call_command
from django.core.management.base import CommandError
from ninja.testing import TestClient

from sanji.accounts import services as accounts
from sanji.audit.models import Entry
from sanji.core import durable, signing
from sanji.core.actors import Actor
from sanji.core.errors import Conflict, Forbidden, ValidationFailed
from sanji.core.packages import Package, package_read
from sanji.core.roles import Role
from sanji.orgs import services as org_services
from sanji.orgs.models import Unit
from sanji.population import feed_packages, selectors, services
from sanji.population.api import router
from sanji.population.models import ChangeState, FeedPackage, PersonChange
from sanji.population.tests.changes.conftest import World, make_actor
from sanji.population.tests.conftest import SYSTEM

pytestmark = pytest.mark.django_db
api = TestClient(router)
ACTION = "population.feed_exported"


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """The outbox directory of one department system (empty)."""
    directory = tmp_path / "outbox"
    directory.mkdir()
    return directory


def _renamed(world: World, person_index: int, name: str) -> PersonChange:
    change = services.change_submit(
        actor=world.officer, kind="name", person_id=world.person(person_index).pk, values={"name": name}
    )
    return services.change_verify(
        actor=world.police, change_id=change.pk, expected_state=ChangeState.SUBMITTED
    )


def _renamed_xincheng(world: World, name: str) -> PersonChange:
    change = services.change_submit(
        actor=world.officer_xc, kind="name", person_id=world.xincheng.pk, values={"name": name}
    )
    return services.change_verify(
        actor=world.police_xc, change_id=change.pk, expected_state=ChangeState.SUBMITTED
    )


def _api_items(actor: Actor) -> list[dict[str, Any]]:
    response = api.get("/feed?after=0&limit=1000", auth=dataclasses.replace(actor, channel="api"))
    assert response.status_code == 200
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def _read(path: Path) -> Package:
    """The package at ``path``, checked with the public key a receiver is given (``feed-key``)."""
    _key_id, pem = services.feed_public_key()
    key = load_pem_public_key(pem.encode())
    return package_read(path.read_bytes(), public_key=key)  # type: ignore[arg-type]


def _lines(package: Package) -> list[dict[str, Any]]:
    text = package.entries[feed_packages.ENTRY_NAME].decode("utf-8")
    return [json.loads(line) for line in text.splitlines()]


def _zips(directory: Path) -> list[Path]:
    return sorted(directory.glob("popfeed-*.zip"))


def _all_seqs(directory: Path) -> list[int]:
    return [item["seq"] for path in _zips(directory) for item in _lines(_read(path))]


def _temporary(directory: Path) -> list[Path]:
    return list(directory.glob(".popfeed-*"))


def _exports() -> list[Entry]:
    return list(Entry.objects.filter(action=ACTION).order_by("seq"))


def _id(actor: Actor, after: int, last: int) -> str:
    assert actor.user_id is not None
    return feed_packages.package_id(actor.user_id, after, last)


def test_export_writes_signed_packages_of_the_api_items_and_audits_each(world: World, out: Path) -> None:
    for i, name in enumerate(["张卫", "王方", "其其格"]):
        _renamed(world, i, name)
    _renamed_xincheng(world, "李墙")
    report = services.feed_export(actor=world.department, out_dir=out, batch=3, operator="cli:ops")

    ids = (_id(world.department, 0, 3), _id(world.department, 3, 4))
    assert report.packages == ids
    assert (report.entries, report.first_cursor, report.last_cursor, report.resumed) == (4, 0, 4, 0)
    assert report.summary() == f"{out}: 2 packages, 4 entries, cursor 0 → 4"
    assert [p.name for p in _zips(out)] == [f"{i}.zip" for i in ids]
    # Every line is the API's item: same keys, values and formats.
    written = [item for path in _zips(out) for item in _lines(_read(path))]
    assert written == _api_items(world.department)
    selected = selectors.feed_read(world.department, after=0, limit=10).items
    assert [(i["seq"], i["id_number"], i["effective_date"]) for i in written] == [
        (s.seq, s.id_number, s.effective_date.isoformat()) for s in selected
    ]
    first = _read(out / f"{ids[0]}.zip")
    text = first.entries["changes.jsonl"].decode("utf-8")
    assert "其其格" in text  # UTF-8, not \\u escapes
    manifest = first.manifest
    assert (manifest["package_id"], manifest["type"], manifest["sender"], manifest["recipient"]) == (
        ids[0],
        "population.feed",
        "sanji",
        "dept-system",
    )
    assert manifest["records"] == {"changes.jsonl": 3}
    assert manifest["cursor"] == {"after": 0, "last": 3}
    assert not _temporary(out)

    rows = list(FeedPackage.objects.order_by("after"))
    assert [(r.package_id, r.after, r.last, r.entries, r.published_at is not None) for r in rows] == [
        (ids[0], 0, 3, 3, True),
        (ids[1], 3, 4, 1, True),
    ]
    assert [r.sha256 for r in rows] == [
        hashlib.sha256((out / f"{i}.zip").read_bytes()).hexdigest() for i in ids
    ]
    entries = _exports()
    assert [
        (e.target_label, e.data["after"], e.data["last"], e.data["entries"], e.data["sha256"])
        for e in entries
    ] == [(r.package_id, r.after, r.last, r.entries, r.sha256) for r in rows]
    assert {(e.actor_username, e.region_path, e.data["directory"], e.data["operator"]) for e in entries} == {
        ("dept-system", world.regions["150100"].path, str(out), "cli:ops")
    }


def test_the_platform_keeps_the_cursor_so_the_processor_may_take_the_packages_away(
    world: World, out: Path
) -> None:
    _renamed(world, 0, "张卫")
    _renamed(world, 1, "王方")
    first = services.feed_export(actor=world.department, out_dir=out)
    assert first.packages == (_id(world.department, 0, 2),)

    again = services.feed_export(actor=world.department, out_dir=out)
    assert (again.packages, again.entries, again.first_cursor, again.last_cursor) == ((), 0, 2, 2)
    assert again.summary() == f"{out}: nothing new after cursor 2"
    assert len(_exports()) == 1

    for path in _zips(out):  # the front-end processor forwards what it found
        path.unlink()
    _renamed(world, 2, "其其格")
    _renamed_xincheng(world, "李墙")
    later = services.feed_export(actor=world.department, out_dir=out)
    assert later.packages == (_id(world.department, 2, 4),)
    assert _all_seqs(out) == [3, 4]
    assert [i["name"] for i in _lines(_read(_zips(out)[0]))] == ["其其格", "李墙"]
    assert len(_exports()) == 2


def test_a_district_system_gets_its_district_only_and_each_account_has_its_cursor(
    world: World, tmp_path: Path
) -> None:
    saihan_system = make_actor("saihan-system", (Role.DEPARTMENT_SYSTEM, world.regions["150105"]))
    _renamed(world, 0, "张卫")  # seq 1
    _renamed_xincheng(world, "李墙")  # seq 2: another district
    _renamed(world, 1, "王方")  # seq 3
    saihan_dir, city_dir = tmp_path / "saihan", tmp_path / "city"
    saihan_dir.mkdir()
    city_dir.mkdir()

    saihan = services.feed_export(actor=saihan_system, out_dir=saihan_dir)
    assert saihan.packages == (_id(saihan_system, 0, 3),)
    assert [(i["seq"], i["name"]) for i in _lines(_read(_zips(saihan_dir)[0]))] == [(1, "张卫"), (3, "王方")]
    city = services.feed_export(actor=world.department, out_dir=city_dir, batch=2)
    assert city.packages == (_id(world.department, 0, 2), _id(world.department, 2, 3))
    assert _all_seqs(city_dir) == [1, 2, 3]
    audit = {e.actor_username: e.region_path for e in _exports()}
    assert audit == {
        "saihan-system": world.regions["150105"].path,
        "dept-system": world.regions["150100"].path,
    }


class SimulatedCrash(Exception):
    pass


@pytest.mark.parametrize("step", ["audit", "write", "rename", "mark published"])
def test_a_crash_leaves_a_state_the_rerun_completes_exactly_once(
    world: World, out: Path, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    """The crash hits the second package; the rerun writes it (again, the same bytes) and goes on."""
    for i, name in enumerate(["张卫", "王方", "其其格"]):
        _renamed(world, i, name)
    _renamed_xincheng(world, "李墙")
    _renamed(world, 0, "巴特尔")  # the same person again: a fifth entry
    calls = {"audit": 0, "write": 0, "rename": 0, "mark published": 0}
    real_audit, real_replace, real_sync = feed_packages._audit, os.replace, durable.fsync_directory
    real_fsync = os.fsync

    def crash_on_second(which: str) -> None:
        calls[which] += 1
        if step == which and calls[which] == 2:
            raise SimulatedCrash(step)

    def audit(*args: Any, **kwargs: Any) -> None:
        crash_on_second("audit")
        real_audit(*args, **kwargs)

    def fsync(fd: int) -> None:
        if not os.path.isdir(f"/proc/self/fd/{fd}"):
            crash_on_second("write")
        real_fsync(fd)

    def replace(source: Any, target: Any) -> None:
        crash_on_second("rename")
        real_replace(source, target)

    def sync_directory(directory: Path) -> None:
        real_sync(directory)
        crash_on_second("mark published")  # after the rename, before the row is marked

    monkeypatch.setattr(feed_packages, "_audit", audit)
    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    monkeypatch.setattr(durable, "fsync_directory", sync_directory)
    with pytest.raises(SimulatedCrash):
        services.feed_export(actor=world.department, out_dir=out, batch=2)
    monkeypatch.undo()
    assert _all_seqs(out) == ([1, 2, 3, 4] if step == "mark published" else [1, 2])
    recorded = list(FeedPackage.objects.order_by("after").values_list("after", "published_at"))
    assert [after for after, _ in recorded] == ([0] if step == "audit" else [0, 2])

    rerun = services.feed_export(actor=world.department, out_dir=out, batch=2)

    interrupted = 0 if step == "audit" else 1
    assert rerun.resumed == interrupted
    assert rerun.first_cursor == (2 if step == "audit" else 4)
    assert rerun.last_cursor == 5
    ids = [_id(world.department, 0, 2), _id(world.department, 2, 4), _id(world.department, 4, 5)]
    assert [p.name for p in _zips(out)] == [f"{i}.zip" for i in ids]
    assert _all_seqs(out) == [1, 2, 3, 4, 5]  # every entry exactly once, in chained ranges
    assert not _temporary(out)
    rows = list(FeedPackage.objects.order_by("after"))
    assert all(r.published_at is not None for r in rows)
    # The package written again is byte for byte what was recorded (and audited) before the crash.
    assert [r.sha256 for r in rows] == [
        hashlib.sha256((out / f"{i}.zip").read_bytes()).hexdigest() for i in ids
    ]
    assert [e.target_label for e in _exports()] == ids  # one entry each: nothing rebuilt differently


def test_a_package_rebuilt_differently_is_audited_again_with_its_new_digest(
    world: World, out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _renamed(world, 0, "张卫")
    _renamed(world, 1, "王方")

    def replace(source: Any, target: Any) -> None:
        raise SimulatedCrash("before the rename")

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(SimulatedCrash):
        services.feed_export(actor=world.department, out_dir=out)
    monkeypatch.undo()
    signing.key_path(feed_packages.EXCHANGE_KEY).unlink()  # the exchange key was replaced meanwhile

    rerun = services.feed_export(actor=world.department, out_dir=out)

    assert rerun.resumed == 1
    row = FeedPackage.objects.get()
    assert row.sha256 == hashlib.sha256(_zips(out)[0].read_bytes()).hexdigest()
    first, second = _exports()
    assert (first.data["rebuilt"], second.data["rebuilt"]) == (False, True)
    assert second.data["sha256"] == row.sha256 != first.data["sha256"]
    assert _all_seqs(out) == [1, 2]


def test_refusals(world: World, out: Path, settings: Any) -> None:
    _renamed(world, 0, "张卫")
    for outsider in (world.officer, world.police, world.clerk, SYSTEM):
        with pytest.raises(Forbidden):
            services.feed_export(actor=outsider, out_dir=out)
    assert list(out.iterdir()) == []  # a refused reader leaves nothing, not even the lock
    with pytest.raises(ValidationFailed, match="does not exist"):
        services.feed_export(actor=world.department, out_dir=out / "missing")
    a_file = out / "a-file"
    a_file.write_text("x")
    with pytest.raises(ValidationFailed, match="not a directory"):
        services.feed_export(actor=world.department, out_dir=a_file)
    for batch in (0, selectors.FEED_MAX_LIMIT + 1):
        with pytest.raises(ValidationFailed, match="batch"):
            services.feed_export(actor=world.department, out_dir=out, batch=batch)
    # Another run holding the directory: refused, nothing written.
    fd = os.open(out / feed_packages.LOCK_FILE, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with pytest.raises(Conflict):
            services.feed_export(actor=world.department, out_dir=out)
    finally:
        os.close(fd)
    assert _zips(out) == []
    assert _exports() == []
    assert not FeedPackage.objects.exists()


def test_command_acts_as_the_user_prints_one_line_and_refuses_clearly(
    world: World, out: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    org_services.org_structure_seed(actor=SYSTEM, city_code="150100")
    system, _ = accounts.user_create(
        actor=SYSTEM, username="civil-saihan", full_name="赛罕区民政业务系统", password="Qingcheng#2024x"
    )
    accounts.role_grant(
        actor=SYSTEM,
        user=system,
        role=Role.DEPARTMENT_SYSTEM,
        unit=Unit.objects.get(code="150105-DEPT-civil_affairs"),
    )
    accounts.user_create(actor=SYSTEM, username="no-role", full_name="无角色", password="Qingcheng#2024x")
    _renamed(world, 0, "张卫")
    _renamed_xincheng(world, "李墙")

    call_command("population", "feed-key")
    key_lines = capsys.readouterr().out.splitlines()
    key_id = signing.key_id(signing.public_key(feed_packages.EXCHANGE_KEY))
    assert key_lines[0] == f"key id {key_id}"
    assert key_lines[1] == "-----BEGIN PUBLIC KEY-----"

    call_command("population", "feed-export", "--user", "civil-saihan", "--out", str(out), "--batch", "10")
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines == [f"{out}: 1 package, 1 entry, cursor 0 → 1"]
    package = _read(out / f"{feed_packages.package_id(system.pk, 0, 1)}.zip")
    assert [i["name"] for i in _lines(package)] == ["张卫"]
    assert package.manifest["key_id"] == key_id
    (entry,) = _exports()
    assert (entry.actor_id, entry.actor_username, entry.channel) == (system.pk, "civil-saihan", "cli")
    assert entry.data["operator"].startswith("cli:")

    call_command("population", "feed-export", "--user", "civil-saihan", "--out", str(out))
    assert capsys.readouterr().out.strip() == f"{out}: nothing new after cursor 1"

    refusals = [
        (["--user", "nobody", "--out", str(out)], "No active user 'nobody'"),
        (["--user", "no-role", "--out", str(out)], "Only department systems"),
        (["--user", "civil-saihan", "--out", str(out / "missing")], "does not exist"),
        (["--user", "civil-saihan", "--out", str(out), "--batch", "0"], "The batch is 1 to"),
    ]
    for args, message in refusals:
        with pytest.raises(CommandError, match=message) as refused:
            call_command("population", "feed-export", *args)
        assert refused.value.returncode == 1
    assert len(_exports()) == 1
