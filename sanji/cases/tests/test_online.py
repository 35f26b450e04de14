"""Online applications (网上申报): who the applicant is (oneself by account, or somebody else through
an agent, 代办), who sees and acts on the case, the supplement (补正) that carries its files, and the
materials a correction notice (一次性告知) suggests asking for."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from sanji.accounts import services as accounts
from sanji.audit.models import Entry
from sanji.audit.services import record as audit_record
from sanji.cases import selectors, services
from sanji.cases.models import Attachment, Case, CaseEvent
from sanji.cases.tests.conftest import ID_A, ID_B, ID_C, SAIHAN_CA_WINDOW, SYSTEM, actor_at, upload_required
from sanji.core import crypto
from sanji.core.actors import Actor
from sanji.core.errors import Conflict, NotFound, ValidationFailed
from sanji.core.roles import Role

pytestmark = pytest.mark.usefixtures("org", "frozen_now")

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
PASSWORD = "Qingcheng#2024x"


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def citizen(username: str, id_number: str, full_name: str = "李四") -> Actor:
    """A person registered on the portal (their ID number kept as blind index and masked form)."""
    user = accounts.applicant_register(
        username=username,
        full_name=full_name,
        id_number=id_number,
        phone="13900000000",
        password=PASSWORD,
        ip="",
    )
    return Actor(user_id=user.pk, username=user.username, channel="web")


def clerk() -> Actor:
    return actor_at(Role.WINDOW_CLERK, SAIHAN_CA_WINDOW)


def draft(actor: Actor, **kw: Any) -> Case:
    case, _code = services.case_create_draft(
        actor=actor, matter_code="T-PRO", region_code="150105001001", **kw
    )
    return case


def act(actor: Actor, case: Case, action: str, **fields: Any) -> Case:
    case.refresh_from_db()
    return services.case_act(
        actor=actor, case_id=case.pk, action=action, expected_version=case.version, **fields
    )


def written() -> dict[str, int]:
    return {
        "cases": Case.objects.count(),
        "events": CaseEvent.objects.count(),
        "attachments": Attachment.objects.count(),
        "audit": Entry.objects.filter(action__startswith="cases.").count(),
    }


def stored(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def correcting(applicant: Actor, items: list[str]) -> Case:
    """The applicant's submitted draft, pre-checked and sent back for correction of ``items``."""
    case = draft(applicant)
    upload_required(applicant, case)
    case = act(applicant, case, "submit")
    act(clerk(), case, "precheck_pass")
    return act(clerk(), case, "request_correction", missing_items=items)


# --- who the applicant is ------------------------------------------------------------------------------


def test_applying_for_oneself_takes_the_identity_from_the_account(applicant: Actor) -> None:
    case = draft(applicant, applicant_name="别人", applicant_phone="")
    assert (case.applicant_id, case.agent_id, case.agent_relation) == (applicant.user_id, None, "")
    assert (case.applicant_name, case.applicant_id_masked) == ("张三", "150105********3212")
    assert case.applicant_id_index == services.applicant_index(ID_C)
    # The account's own number may be given (the API's clients send it): it is then kept encrypted.
    confirmed = draft(applicant, applicant_id_number=ID_C)
    assert crypto.decrypt(confirmed.applicant_id_encrypted) == ID_C


def test_somebody_elses_id_number_without_choosing_an_agent_application_is_refused(applicant: Actor) -> None:
    before = written()
    with pytest.raises(ValidationFailed) as err:
        draft(applicant, applicant_name="李四", applicant_id_number=ID_A)
    assert err.value.details == [{"field": "applicant_id_number", "reason": "not_account_holder"}]
    assert "代办" in err.value.message
    assert written() == before


def test_an_account_without_a_registered_id_number_cannot_apply_for_itself() -> None:
    user = get_user_model().objects.create_user(username="staffmade", password="x", full_name="王五")
    actor = Actor(user_id=user.pk, username=user.username, channel="web")
    with pytest.raises(ValidationFailed) as err:
        draft(actor, applicant_name="王五", applicant_id_number=ID_A)
    assert err.value.details[0]["reason"] == "not_registered"
    # As an agent, for somebody else, it may.
    case = draft(
        actor, on_behalf=True, applicant_name="张三", applicant_id_number=ID_A, agent_relation="邻居，受托"
    )
    assert (case.agent_id, case.applicant_name) == (user.pk, "张三")


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"applicant_name": " "}, "applicant_name", "required"),
        ({"applicant_id_number": ""}, "applicant_id_number", "invalid"),
        ({"applicant_id_number": "110105194912310021"}, "applicant_id_number", "invalid"),
        ({"applicant_id_number": ID_C}, "applicant_id_number", "self"),  # the agent's own number
        ({"agent_relation": "  "}, "agent_relation", "required"),
    ],
)
def test_an_agent_application_needs_the_applicant_and_the_relation(
    applicant: Actor, change: dict[str, str], field: str, reason: str
) -> None:
    values = {"applicant_name": "李四", "applicant_id_number": ID_A, "agent_relation": "父子", **change}
    before = written()
    with pytest.raises(ValidationFailed) as err:
        draft(applicant, on_behalf=True, **values)
    assert [(d["field"], d["reason"]) for d in err.value.details] == [(field, reason)]
    assert written() == before


def test_an_agent_application_records_the_agent_apart_from_the_applicant(applicant: Actor) -> None:
    registered = citizen("lisi", ID_A)
    case = draft(
        applicant,
        on_behalf=True,
        applicant_name="李四",
        applicant_id_number=ID_A,
        applicant_phone="13911111111",
        agent_relation="李四之妻，受其书面委托",
    )
    assert (case.applicant_name, case.applicant_id_masked, case.applicant_phone) == (
        "李四",
        "110105********002X",
        "13911111111",
    )
    assert crypto.decrypt(case.applicant_id_encrypted) == ID_A
    # The application belongs to the applicant's own account, and names the agent.
    assert (case.applicant_id, case.agent_id) == (registered.user_id, applicant.user_id)
    assert case.agent_relation == "李四之妻，受其书面委托"
    event = CaseEvent.objects.get(case=case)
    assert event.data == {
        "agent": "citizen",
        "agent_name": "张三",
        "agent_relation": "李四之妻，受其书面委托",
    }
    entry = Entry.objects.get(action="cases.draft_created")
    assert entry.data["agent"] == "citizen"


# --- who sees it, who acts ----------------------------------------------------------------------------


def test_the_agent_and_the_applicant_by_id_number_both_see_and_act_on_the_case(applicant: Actor) -> None:
    case = draft(
        applicant, on_behalf=True, applicant_name="李四", applicant_id_number=ID_A, agent_relation="父子"
    )
    assert case.applicant_id is None  # 李四 has no account yet
    window_case, _code = services.case_receive(
        actor=clerk(), matter_code="T-PRO", applicant_name="李四", applicant_id_number=ID_A
    )
    mine = [c.number for c in selectors.case_list_of_applicant(applicant)]
    assert mine == [case.number]  # the agent: their application, not the applicant's other cases
    # 李四 registers afterwards: every case under their ID number is theirs, whoever filed it.
    lisi = citizen("lisi", ID_A)
    assert {c.number for c in selectors.case_list_of_applicant(lisi)} == {case.number, window_case.number}
    assert selectors.own_case_for(lisi, case.pk).case.agent_id == applicant.user_id
    assert "submit" in selectors.own_case_for(lisi, case.pk).actions
    assert selectors.case_get_for(lisi, case.pk).pk == case.pk
    # A stranger sees neither.
    stranger = citizen("wangwu", ID_B, "王五")
    assert list(selectors.case_list_of_applicant(stranger)) == []
    with pytest.raises(NotFound):
        selectors.own_case_for(stranger, case.pk)
    with pytest.raises(NotFound):
        act(stranger, case, "submit")
    # Not without the required materials; the agent uploads them and submits; the applicant withdraws.
    with pytest.raises(ValidationFailed, match="尚缺：申请书、居民身份证复印件") as refused:
        act(applicant, case, "submit")
    assert refused.value.details == [
        {"field": "attachments", "reason": "missing", "items": ["申请书", "居民身份证复印件"]}
    ]
    assert Case.objects.get(pk=case.pk).state == "draft"
    upload_required(applicant, case)
    case = act(applicant, case, "submit")
    assert case.state == "submitted"
    case = act(lisi, case, "withdraw")
    assert case.state == "withdrawn"


# --- the supplement (补正) carries its files ------------------------------------------------------------


def test_a_supplement_must_carry_a_file_for_every_item_of_the_notice(
    applicant: Actor, tmp_path: Path
) -> None:
    case = correcting(applicant, ["居民身份证复印件", "户口簿复印件"])
    before, files = written(), stored(tmp_path)  # the draft's two uploads
    for uploads in (
        [],
        [("居民身份证复印件", "id.png", PNG)],
        [("居民身份证复印件", "id.png", PNG), ("其他材料", "other.pdf", PDF)],
    ):
        with pytest.raises(ValidationFailed) as err:
            services.case_supplement(
                actor=applicant, case_id=case.pk, expected_version=case.version, uploads=uploads
            )
        assert "户口簿复印件" in err.value.message
        assert err.value.details[0]["items"][-1] == "户口簿复印件"
        assert written() == before
        assert stored(tmp_path) == files
    # Nor may the applicant supplement through the plain action, without files.
    with pytest.raises(ValidationFailed):
        act(applicant, case, "supplement")
    case.refresh_from_db()
    assert case.state == "correction_requested"

    case = services.case_supplement(
        actor=applicant,
        case_id=case.pk,
        expected_version=case.version,
        uploads=[
            ("居民身份证复印件", "正面.png", PNG),
            ("居民身份证复印件", "反面.png", PNG),
            ("户口簿复印件", "户口簿.pdf", PDF),
        ],
        opinion="已补齐",
    )
    assert case.state == "received"
    event = CaseEvent.objects.get(case=case, seq=case.version)
    assert (event.action, event.opinion) == ("supplement", "已补齐")
    assert event.data["materials_supplied"] == ["居民身份证复印件", "户口簿复印件"]
    rows = list(Attachment.objects.filter(case=case, event=event).order_by("id"))
    assert [(a.material_name, a.original_filename, a.event_id) for a in rows] == [
        ("居民身份证复印件", "正面.png", event.pk),
        ("居民身份证复印件", "反面.png", event.pk),
        ("户口簿复印件", "户口簿.pdf", event.pk),
    ]
    assert stored(tmp_path) == sorted([*files, *(tmp_path / a.storage_path for a in rows)])
    assert Entry.objects.filter(action="cases.attachment_added").count() == 2 + 3
    assert Entry.objects.filter(action="cases.supplement").count() == 1


def test_a_forged_file_refuses_the_whole_supplement(applicant: Actor, tmp_path: Path) -> None:
    case = correcting(applicant, ["居民身份证复印件", "户口簿复印件"])
    before, files = written(), stored(tmp_path)
    with pytest.raises(ValidationFailed, match=r"fake\.pdf"):
        services.case_supplement(
            actor=applicant,
            case_id=case.pk,
            expected_version=case.version,
            uploads=[("居民身份证复印件", "id.png", PNG), ("户口簿复印件", "fake.pdf", PNG)],
        )
    assert (written(), stored(tmp_path)) == (before, files)


class _Boom(Exception):
    pass


def test_a_failure_after_some_files_were_written_leaves_none_of_them(
    applicant: Actor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = correcting(applicant, ["居民身份证复印件", "户口簿复印件"])
    before, files = written(), stored(tmp_path)
    calls: list[str] = []

    def record(**kwargs: Any) -> Any:
        if kwargs.get("action") == "cases.attachment_added":
            calls.append("added")
            if len(calls) == 2:  # the second file is on disk, its audit entry fails
                raise _Boom("the audit entry failed")
        return audit_record(**kwargs)

    monkeypatch.setattr("sanji.cases.services.record", record)
    with pytest.raises(_Boom):
        services.case_supplement(
            actor=applicant,
            case_id=case.pk,
            expected_version=case.version,
            uploads=[("居民身份证复印件", "id.png", PNG), ("户口簿复印件", "hukou.pdf", PDF)],
        )
    monkeypatch.undo()
    assert (written(), stored(tmp_path)) == (before, files)
    case.refresh_from_db()
    assert case.state == "correction_requested"


def test_a_stale_supplement_is_a_conflict_and_keeps_no_file(applicant: Actor, tmp_path: Path) -> None:
    case = correcting(applicant, ["户口簿复印件"])
    files = stored(tmp_path)
    with pytest.raises(Conflict):
        services.case_supplement(
            actor=applicant,
            case_id=case.pk,
            expected_version=case.version - 1,
            uploads=[("户口簿复印件", "hukou.pdf", PDF)],
        )
    assert stored(tmp_path) == files
    assert not Attachment.objects.filter(event__action="supplement").exists()


def test_the_window_supplements_papers_handed_in_with_or_without_scans(
    applicant: Actor, tmp_path: Path
) -> None:
    case, _code = services.case_receive(
        actor=clerk(), matter_code="T-PRO", applicant_name="张三", applicant_id_number=ID_A
    )
    act(clerk(), case, "request_correction", missing_items=["申请书", "户口簿复印件"])
    case = act(clerk(), case, "supplement", opinion="纸质材料已收")
    assert case.state == "received"
    other, _code = services.case_receive(
        actor=clerk(), matter_code="T-PRO", applicant_name="张三", applicant_id_number=ID_A
    )
    act(clerk(), other, "request_correction", missing_items=["申请书"])
    other.refresh_from_db()
    other = services.case_supplement(
        actor=clerk(), case_id=other.pk, expected_version=other.version, uploads=[("申请书", "scan.pdf", PDF)]
    )
    assert other.state == "received"
    assert [a.material_name for a in Attachment.objects.filter(case=other)] == ["申请书"]


# --- what a correction notice suggests -----------------------------------------------------------------


def test_the_correction_notice_suggests_the_required_materials_not_in_yet(applicant: Actor) -> None:
    online = draft(applicant)
    services.attachment_add(
        actor=applicant, case_id=online.pk, material_name="申请书", filename="a.pdf", content=PDF
    )
    detail = selectors.own_case_for(applicant, online.pk)
    assert (detail.materials_received, detail.missing_materials) == (["申请书"], ["居民身份证复印件"])
    services.attachment_add(
        actor=applicant, case_id=online.pk, material_name="居民身份证复印件", filename="id.png", content=PNG
    )
    online = act(applicant, online, "submit")
    online = act(clerk(), online, "precheck_pass")
    detail = selectors.case_detail_for(clerk(), online.pk)
    assert (detail.materials_received, detail.missing_materials) == (["申请书", "居民身份证复印件"], [])
    # At the window: ticked as received, or scanned.
    window, _code = services.case_receive(
        actor=clerk(),
        matter_code="T-PRO",
        applicant_name="张三",
        applicant_id_number=ID_A,
        materials_received=["证明材料"],
    )
    services.attachment_add(
        actor=clerk(), case_id=window.pk, material_name="居民身份证复印件", filename="id.png", content=PNG
    )
    detail = selectors.case_detail_for(clerk(), window.pk)
    assert detail.materials_received == ["居民身份证复印件", "证明材料"]
    assert detail.missing_materials == ["申请书"]


# --- the API ------------------------------------------------------------------------------------------

BASE = "/api/v1/cases"


def bearer(actor: Actor) -> str:
    assert actor.user_id is not None
    user = get_user_model().objects.get(pk=actor.user_id)
    _token, raw = accounts.api_token_create(
        actor=SYSTEM, user=user, name="test", scopes=["cases:read", "cases:write"], days=1
    )
    return f"Bearer {raw}"


def test_the_api_applies_as_an_agent_and_supplements_with_files(tmp_path: Path) -> None:
    agent = citizen("agent", ID_B, "王五")
    auth = bearer(agent)
    body = {
        "matter_code": "T-PRO",
        "region_code": "150105001001",
        "on_behalf": True,
        "applicant_name": "张三",
        "applicant_id_number": ID_A,
        "agent_relation": "张三之子",
    }
    res = Client().post(f"{BASE}/drafts", data=body, content_type="application/json", HTTP_AUTHORIZATION=auth)
    assert res.status_code == 201, res.content
    out = res.json()["case"]
    assert (out["applicant_name"], out["on_behalf"], out["agent_relation"]) == ("张三", True, "张三之子")
    case = Case.objects.get(pk=out["id"])
    upload_required(agent, case)
    files = stored(tmp_path)
    case = act(agent, case, "submit")
    act(clerk(), case, "precheck_pass")
    case = act(clerk(), case, "request_correction", missing_items=["申请书", "户口簿复印件"])
    # The plain action does not supplement for the applicant's side: the files must come with it.
    res = Client().post(
        f"{BASE}/{case.pk}/actions/supplement",
        data={"expected_version": case.version},
        content_type="application/json",
        HTTP_AUTHORIZATION=auth,
    )
    assert res.status_code == 422, res.content
    url = f"{BASE}/{case.pk}/supplement"
    partial = {
        "expected_version": case.version,
        "material_name": ["申请书"],
        "file": [SimpleUploadedFile("申请书.pdf", PDF)],
    }
    res = Client().post(url, data=partial, HTTP_AUTHORIZATION=auth)
    assert res.status_code == 422, res.content
    assert res.json()["details"][0]["items"] == ["户口簿复印件"]
    assert stored(tmp_path) == files
    res = Client().post(
        url,
        data={
            "expected_version": case.version,
            "material_name": ["申请书", "户口簿复印件"],
            "file": [SimpleUploadedFile("申请书.pdf", PDF), SimpleUploadedFile("户口簿.png", PNG)],
        },
        HTTP_AUTHORIZATION=auth,
    )
    assert res.status_code == 200, res.content
    assert res.json()["state"] == "received"
    assert Attachment.objects.filter(case=case, event__action="supplement").count() == 2
