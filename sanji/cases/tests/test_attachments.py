"""Uploads: sniffed by content, size-limited, stored outside the web root, downloads scoped and audited."""

from __future__ import annotations

import io
import os
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.db import DatabaseError, IntegrityError, OperationalError, connection, transaction

from sanji.audit.models import Entry
from sanji.audit.services import record as audit_record
from sanji.cases import files, services
from sanji.cases.models import Attachment, Case
from sanji.cases.tests.conftest import COMMUNITY, ID_A, SAIHAN_CA_WINDOW, XINCHENG_CA_WINDOW, actor_at
from sanji.core.actors import Actor, system_actor
from sanji.core.errors import Forbidden, NotFound, ValidationFailed
from sanji.core.roles import Role

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
EXE = b"MZ\x90\x00" + b"\x00" * 64


def received(actor: Actor, matter_code: str) -> Case:
    """A case received at ``actor``'s window for the tests' applicant (张三)."""
    case, _code = services.case_receive(
        actor=actor, matter_code=matter_code, applicant_name="张三", applicant_id_number=ID_A
    )
    return case


def ofd(root: str = "OFD.xml") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr(root, "<ofd:OFD/>")
    return buf.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "kind"),
    [
        ("a.pdf", PDF, "pdf"),
        ("b.PNG", PNG, "png"),
        ("c.jpg", JPEG, "jpeg"),
        ("d.jpeg", JPEG, "jpeg"),
        ("e.ofd", ofd(), "ofd"),
    ],
)
def test_accepted_kinds(name: str, content: bytes, kind: str) -> None:
    assert files.check_upload(name, content).name == kind


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("virus.pdf", EXE, "type"),  # an .exe renamed .pdf
        ("scan.pdf", PNG, "extension_mismatch"),  # a PNG named .pdf
        ("doc.ofd", ofd("Doc_0/Content.xml"), "type"),  # a zip without OFD.xml at the root
        ("plain.zip", ofd(), "extension_mismatch"),
        ("empty.pdf", b"", "empty"),
        ("big.pdf", b"%PDF-" + b"0" * files.MAX_BYTES, "size"),
    ],
)
def test_refused_uploads(name: str, content: bytes, reason: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        files.check_upload(name, content)
    assert err.value.details[0]["reason"] == reason


@pytest.mark.usefixtures("org", "frozen_now")
def test_community_uploads_scan_for_district_and_download_is_scoped(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path
    worker = actor_at(Role.COMMUNITY_WORKER, COMMUNITY)
    case = received(worker, "T-REP")
    att = services.attachment_add(
        actor=worker, case_id=case.pk, material_name="申请书", filename="申请书.pdf", content=PDF
    )
    assert att.sha256 == __import__("hashlib").sha256(PDF).hexdigest()
    stored = tmp_path / att.storage_path
    assert stored.read_bytes() == PDF
    assert "申请书" not in stored.name  # random name
    district = actor_at(Role.WINDOW_CLERK, SAIHAN_CA_WINDOW)
    _att, content = services.attachment_open(actor=district, attachment_id=att.pk)
    assert content == PDF
    assert Entry.objects.filter(action="cases.attachment_downloaded").count() == 1
    with pytest.raises(NotFound):
        services.attachment_open(actor=actor_at(Role.WINDOW_CLERK, XINCHENG_CA_WINDOW), attachment_id=att.pk)
    with pytest.raises(NotFound):
        services.attachment_add(
            actor=actor_at(Role.WINDOW_CLERK, XINCHENG_CA_WINDOW),
            case_id=case.pk,
            material_name="x",
            filename="x.pdf",
            content=PDF,
        )


@pytest.mark.usefixtures("org", "frozen_now")
def test_applicant_uploads_to_a_window_case_only_with_the_supplement(
    applicant: Any, settings: Any, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = tmp_path
    clerk = actor_at(Role.WINDOW_CLERK, SAIHAN_CA_WINDOW)
    case, _ = services.case_receive(
        actor=clerk,
        matter_code="T-PRO",
        applicant_name="张三",
        applicant_id_number=ID_A,
        applicant_user_id=applicant.user_id,
    )
    with pytest.raises(Forbidden):
        services.attachment_add(
            actor=applicant, case_id=case.pk, material_name="x", filename="x.png", content=PNG
        )
    services.case_act(
        actor=clerk, case_id=case.pk, action="request_correction", expected_version=1, missing_items=["照片"]
    )
    # During a correction the materials come with the supplement, not one by one.
    with pytest.raises(Forbidden, match="补正材料"):
        services.attachment_add(
            actor=applicant, case_id=case.pk, material_name="照片", filename="photo.png", content=PNG
        )
    case = services.case_supplement(
        actor=applicant,
        case_id=case.pk,
        expected_version=2,
        uploads=[("照片", "photo.png", PNG)],
    )
    (att,) = Attachment.objects.filter(case=case)
    assert att.event is not None
    assert (att.material_name, att.content_type, att.event.action) == ("照片", "image/png", "supplement")


class _Boom(Exception):
    pass


def _fail_insert(monkeypatch: pytest.MonkeyPatch) -> None:
    def save(self: Attachment, *args: Any, **kwargs: Any) -> None:
        raise IntegrityError("the insert failed")

    monkeypatch.setattr(Attachment, "save", save)


def _fail_audit(monkeypatch: pytest.MonkeyPatch) -> None:
    def record(**kwargs: Any) -> Any:
        if kwargs.get("action") == "cases.attachment_added":
            raise _Boom("the audit entry failed")
        return audit_record(**kwargs)

    monkeypatch.setattr("sanji.cases.services.record", record)


def _fail_write(monkeypatch: pytest.MonkeyPatch) -> None:
    def fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", fsync)


@pytest.mark.usefixtures("org", "frozen_now")
@pytest.mark.parametrize(
    ("fail", "error"),
    [(_fail_insert, IntegrityError), (_fail_audit, _Boom), (_fail_write, OSError)],
    ids=["insert", "audit", "write"],
)
def test_a_failed_upload_leaves_neither_file_nor_row(
    fail: Any, error: type[Exception], monkeypatch: pytest.MonkeyPatch, settings: Any, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = tmp_path
    clerk = actor_at(Role.WINDOW_CLERK, SAIHAN_CA_WINDOW)
    case = received(clerk, "T-PRO")
    fail(monkeypatch)
    with pytest.raises(error):
        services.attachment_add(
            actor=clerk, case_id=case.pk, material_name="申请书", filename="申请书.pdf", content=PDF
        )
    monkeypatch.undo()
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []
    assert not Attachment.objects.exists()
    assert not Entry.objects.filter(action="cases.attachment_added").exists()
    # The case is untouched: the next upload succeeds and is the only file.
    att = services.attachment_add(
        actor=clerk, case_id=case.pk, material_name="申请书", filename="申请书.pdf", content=PDF
    )
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == [tmp_path / att.storage_path]


@pytest.mark.usefixtures("org", "frozen_now")
def test_an_upload_is_never_part_of_a_callers_transaction(settings: Any, tmp_path: Path) -> None:
    """A caller's transaction could roll the row back after the upload kept its file: refused."""
    settings.MEDIA_ROOT = tmp_path
    clerk = actor_at(Role.WINDOW_CLERK, SAIHAN_CA_WINDOW)
    case = received(clerk, "T-PRO")
    with transaction.atomic(), pytest.raises(RuntimeError, match="durable"):
        services.attachment_add(
            actor=clerk, case_id=case.pk, material_name="申请书", filename="申请书.pdf", content=PDF
        )
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []
    assert not Attachment.objects.exists()


@pytest.mark.django_db(transaction=True)  # the upload's own transaction really commits here
@pytest.mark.usefixtures("org", "frozen_now")
@pytest.mark.parametrize("committed", [False, True], ids=["commit-failed", "commit-answer-lost"])
def test_a_failed_commit_removes_the_file_unless_the_row_was_committed(
    committed: bool, monkeypatch: pytest.MonkeyPatch, settings: Any, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = tmp_path
    clerk = actor_at(Role.WINDOW_CLERK, SAIHAN_CA_WINDOW)
    case = received(clerk, "T-PRO")
    commit = connection.commit

    def failing_commit() -> None:
        if committed:  # the COMMIT went through, its answer did not (a connection lost)
            commit()
            raise OperationalError("server closed the connection unexpectedly")
        raise DatabaseError("could not commit")

    monkeypatch.setattr(connection, "commit", failing_commit)
    with pytest.raises(DatabaseError):
        services.attachment_add(
            actor=clerk, case_id=case.pk, material_name="申请书", filename="申请书.pdf", content=PDF
        )
    monkeypatch.undo()
    rows = list(Attachment.objects.all())
    kept = [p for p in tmp_path.rglob("*") if p.is_file()]
    if committed:  # a committed row keeps its file, and it is served
        assert kept == [tmp_path / rows[0].storage_path]
        assert services.attachment_open(actor=clerk, attachment_id=rows[0].pk)[1] == PDF
    else:
        assert (rows, kept) == ([], [])


@pytest.mark.usefixtures("org", "frozen_now")
def test_the_sweep_removes_old_files_that_no_attachment_names(settings: Any, tmp_path: Path) -> None:
    """A crash between an upload's file write and its commit leaves a file without a row: the daily
    sweep removes it once it is an hour old, and keeps every file a row names and any younger one."""
    settings.MEDIA_ROOT = tmp_path
    clerk = actor_at(Role.WINDOW_CLERK, SAIHAN_CA_WINDOW)
    case = received(clerk, "T-PRO")
    kept = services.attachment_add(
        actor=clerk, case_id=case.pk, material_name="申请书", filename="申请书.pdf", content=PDF
    )
    folder = (tmp_path / kept.storage_path).parent
    orphan = folder / "0123456789abcdef0123456789abcdef.pdf"  # as a crash mid-upload leaves it
    orphan.write_bytes(PDF)
    young = folder / "fedcba9876543210fedcba9876543210.pdf"  # an upload that may still commit
    young.write_bytes(PDF)
    two_hours_ago = time.time() - 7200
    for path in (orphan, tmp_path / kept.storage_path):
        os.utime(path, (two_hours_ago, two_hours_ago))

    platform = system_actor("sweep", channel="cli")
    with pytest.raises(Forbidden):
        services.attachment_orphans_remove(actor=clerk)
    removed = services.attachment_orphans_remove(actor=platform)

    assert removed == [str(orphan.relative_to(tmp_path))]
    assert not orphan.exists()
    assert young.exists()
    assert (tmp_path / kept.storage_path).read_bytes() == PDF
    entry = Entry.objects.get(action="cases.attachment_orphans_removed")
    assert entry.data == {"count": 1, "files": removed}
    assert services.attachment_orphans_remove(actor=platform) == []  # a second run finds nothing
