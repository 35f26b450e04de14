"""Uploads: sniffed by content, size-limited, stored outside the web root, downloads scoped and audited."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest

from sanji.audit.models import Entry
from sanji.cases import files, services
from sanji.cases.tests.conftest import COMMUNITY, ID_A, SAIHAN_CA_WINDOW, XINCHENG_CA_WINDOW, actor_at
from sanji.core.errors import Forbidden, NotFound, ValidationFailed
from sanji.core.roles import Role

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
EXE = b"MZ\x90\x00" + b"\x00" * 64


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
    case, _ = services.case_receive(
        actor=worker, matter_code="T-REP", applicant_name="张三", applicant_id_number=ID_A
    )
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
def test_applicant_uploads_only_while_correcting(applicant: Any, settings: Any, tmp_path: Path) -> None:
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
    att = services.attachment_add(
        actor=applicant, case_id=case.pk, material_name="照片", filename="photo.png", content=PNG
    )
    assert att.content_type == "image/png"
