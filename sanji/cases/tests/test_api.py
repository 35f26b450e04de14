"""The cases API, driven through Ninja's test client with the caller's actor as ``request.auth``.

The integrator mounts the router at /api/v1/cases behind token authentication; most tests exercise
the router directly (token authentication is the accounts app's and tested there). Online
applications and attachments go through the mounted API (``/api/v1/cases``) with real tokens issued
by the accounts services, so that the bearer's own account, multipart parsing and the project's
error translation are part of what is tested.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from ninja.testing import TestClient

from sanji.accounts import services as accounts
from sanji.accounts.models import User
from sanji.audit.models import Entry
from sanji.cases.api import router
from sanji.cases.models import Attachment, Case, CaseEvent, CaseStep
from sanji.cases.tests.conftest import (
    ID_A,
    ID_B,
    SAIHAN_CA_OFFICE,
    SAIHAN_CA_WINDOW,
    SYSTEM,
    XINCHENG_CA_WINDOW,
    actor_at,
)
from sanji.core import clock
from sanji.core.actors import Actor
from sanji.core.errors import SanjiError
from sanji.core.roles import Role
from sanji.orgs.models import Unit

pytestmark = pytest.mark.usefixtures("org", "frozen_now")

client = TestClient(router)


class _Refused:
    """A SanjiError as the project's API maps it (sanji.api's handler is not attached to a bare router)."""

    def __init__(self, exc: SanjiError) -> None:
        self.status_code = exc.status
        self.message = exc.message


def call(method: str, path: str, actor: Actor | None, **kw: Any) -> Any:
    try:
        return getattr(client, method)(path, auth=actor, **kw)
    except SanjiError as exc:
        return _Refused(exc)


def test_receive_act_list_get_and_refusals() -> None:
    clerk = actor_at(Role.WINDOW_CLERK, SAIHAN_CA_WINDOW, channel="api")
    body = {"matter_code": "T-PRO", "applicant_name": "张三", "applicant_id_number": ID_A}
    res = call("post", "", clerk, json=body)
    assert res.status_code == 201, res.content
    case = res.json()["case"]
    assert len(res.json()["query_code"]) == 8
    assert case["state"] == "received"
    res = call("post", f"/{case['id']}/actions/accept", clerk, json={"expected_version": case["version"]})
    assert res.status_code == 200, res.content
    assert res.json()["state"] == "handling"
    stale = call("post", f"/{case['id']}/actions/accept", clerk, json={"expected_version": case["version"]})
    assert stale.status_code == 409
    page = call("get", "?worklist=all", clerk).json()
    assert [c["number"] for c in page["items"]] == [case["number"]]
    assert page["has_next"] is False
    detail = call("get", f"/{case['id']}", clerk).json()
    assert [e["action"] for e in detail["events"]] == ["receive", "accept"]
    outsider = actor_at(Role.WINDOW_CLERK, XINCHENG_CA_WINDOW, channel="api")
    assert call("get", f"/{case['id']}", outsider).status_code == 404
    assert (
        call(
            "post", f"/{case['id']}/actions/deny", outsider, json={"expected_version": 2, "reason": "x"}
        ).status_code
        == 404
    )


def test_scopes_are_enforced() -> None:
    base = actor_at(Role.WINDOW_CLERK, SAIHAN_CA_WINDOW, channel="api")
    read_only = Actor(
        user_id=base.user_id,
        username=base.username,
        grants=base.grants,
        unit_id=base.unit_id,
        channel="api",
        scopes=frozenset({"cases:read"}),
    )
    body = {"matter_code": "T-PRO", "applicant_name": "张三", "applicant_id_number": ID_A}
    assert call("post", "", read_only, json=body).status_code == 403
    assert call("get", "", read_only).status_code == 200


def test_public_progress_is_anonymous() -> None:
    from django.core.cache import cache

    cache.clear()
    clerk = actor_at(Role.WINDOW_CLERK, SAIHAN_CA_WINDOW, channel="api")
    body = {"matter_code": "T-PRO", "applicant_name": "张三", "applicant_id_number": ID_A}
    created = call("post", "", clerk, json=body).json()
    number, code = created["case"]["number"], created["query_code"]
    res = call("get", f"/public/progress?number={number}&code={code}", None)
    assert res.status_code == 200, res.content
    assert res.json()["applicant"] == "张*"
    assert call("get", f"/public/progress?number={number}&code=WRONG", None).status_code == 404


# --- the mounted API with real tokens -------------------------------------------------------------

BASE = "/api/v1/cases"
PASSWORD = "Qingcheng#2024x"
BOTH = ("cases:read", "cases:write")

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
EXE = b"MZ\x90\x00" + b"\x00" * 64


def bearer(user: User, scopes: tuple[str, ...] = BOTH) -> str:
    """A token of ``user``'s own, issued as the platform issues it (accounts services)."""
    _token, raw = accounts.api_token_create(actor=SYSTEM, user=user, name="test", scopes=list(scopes), days=1)
    return f"Bearer {raw}"


def staff_token(username: str, role: str, unit_code: str, scopes: tuple[str, ...] = BOTH) -> str:
    user, _password = accounts.user_create(
        actor=SYSTEM, username=username, full_name=username, password=PASSWORD
    )
    accounts.role_grant(actor=SYSTEM, user=user, role=role, unit=Unit.objects.get(code=unit_code))
    return bearer(user, scopes)


def applicant_user(username: str = "citizen", id_number: str = ID_B) -> User:
    return accounts.applicant_register(
        username=username, full_name="张三", id_number=id_number, phone="", password=PASSWORD, ip="127.0.0.1"
    )


def post_json(path: str, auth: str | None, body: dict[str, Any]) -> Any:
    headers = {"Authorization": auth} if auth else {}
    return Client().post(BASE + path, data=body, content_type="application/json", headers=headers)


def get(path: str, auth: str) -> Any:
    return Client().get(BASE + path, HTTP_AUTHORIZATION=auth)


def upload(case_id: int, auth: str, filename: str, content: bytes, material: str = "申请书") -> Any:
    return Client().post(
        f"{BASE}/{case_id}/attachments",
        data={"material_name": material, "file": SimpleUploadedFile(filename, content)},
        HTTP_AUTHORIZATION=auth,
    )


def cases_written() -> dict[str, int]:
    """Everything an application writes: the case, its steps and events, its audit entries."""
    return {
        "cases": Case.objects.count(),
        "steps": CaseStep.objects.count(),
        "events": CaseEvent.objects.count(),
        "audit": Entry.objects.filter(action__startswith="cases.").count(),
    }


NOTHING = {"cases": 0, "steps": 0, "events": 0, "audit": 0}
DRAFT = {
    "matter_code": "T-PRO",
    "region_code": "150105001001",
    "applicant_name": "张三",
    "applicant_id_number": ID_B,
}


def test_an_applicant_applies_online_with_their_own_token_and_submits(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path
    user = applicant_user()
    auth = bearer(user)
    res = post_json(
        "/drafts", auth, {**DRAFT, "applicant_phone": "13800000000", "form_data": {"用途": "自住"}}
    )
    assert res.status_code == 201, res.content
    created = res.json()
    case = created["case"]
    assert len(created["query_code"]) == 8
    assert (case["state"], case["channel"], case["matter_code"]) == ("draft", "online", "T-PRO")
    assert case["accepting_unit"] == case["current_unit"] == SAIHAN_CA_WINDOW
    assert case["applicant_id_masked"] == "150102********1237"
    assert case["received_at"] is None
    row = Case.objects.get(pk=case["id"])
    assert row.applicant_id == user.pk
    assert row.form_data == {"用途": "自住"}
    assert Entry.objects.filter(action="cases.draft_created", actor_username="citizen").count() == 1

    # Submitted only with a file for every required material.
    assert upload(case["id"], auth, "a.pdf", PDF).status_code == 201
    res = post_json(f"/{case['id']}/actions/submit", auth, {"expected_version": case["version"]})
    assert res.status_code == 422, res.content
    assert res.json()["details"] == [
        {"field": "attachments", "reason": "missing", "items": ["居民身份证复印件"]}
    ]
    assert upload(case["id"], auth, "id.pdf", PDF, material="居民身份证复印件").status_code == 201
    res = post_json(f"/{case['id']}/actions/submit", auth, {"expected_version": case["version"]})
    assert res.status_code == 200, res.content
    submitted = res.json()
    assert submitted["state"] == "submitted"
    assert dt.datetime.fromisoformat(submitted["received_at"]) == clock.now()
    assert submitted["acceptance_due"] is not None  # the 5 working days run from the submission

    detail = get(f"/{case['id']}", auth).json()
    assert [(e["action"], e["channel"], e["actor_username"]) for e in detail["events"]] == [
        ("create_draft", "api", "citizen"),
        ("submit", "api", "citizen"),
    ]
    # The query code given once works for the anonymous progress query.
    progress = Client().get(
        f"{BASE}/public/progress", {"number": submitted["number"], "code": created["query_code"]}
    )
    assert progress.status_code == 200, progress.content
    assert progress.json()["state"] == "submitted"
    # Another applicant does not see the draft at all.
    stranger = bearer(applicant_user("other", ID_A))
    assert get(f"/{case['id']}", stranger).status_code == 404


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"matter_code": "NOPE"}, 404, None),  # unknown matter
        ({"matter_code": "T-JNT"}, 422, "matter_code"),  # not applied for online
        ({"applicant_id_number": "110105194912310021"}, 422, "applicant_id_number"),  # bad check digit
        ({"applicant_id_number": "123"}, 422, "applicant_id_number"),
        ({"region_code": "150100"}, 422, "region_code"),  # the city: above the district acceptance
        ({"region_code": "999999"}, 422, "region_code"),  # no such region
        # For oneself only the account's own ID number; for somebody else only as an agent (代办) …
        ({"applicant_id_number": ID_A}, 422, "applicant_id_number"),
        # … naming the applicant, who is not the agent, and stating the relation or authorisation.
        (
            {"on_behalf": True, "applicant_id_number": ID_A, "agent_relation": "父子", "applicant_name": " "},
            422,
            "applicant_name",
        ),
        ({"on_behalf": True, "applicant_id_number": ID_A, "agent_relation": " "}, 422, "agent_relation"),
        ({"on_behalf": True, "agent_relation": "本人"}, 422, "applicant_id_number"),  # ID_B: the agent's own
        (
            {"on_behalf": True, "applicant_id_number": "", "agent_relation": "父子"},
            422,
            "applicant_id_number",
        ),
        ({"region_code": None}, 422, None),  # missing: refused by the schema
    ],
)
def test_bad_draft_input_is_refused_and_writes_nothing(
    change: dict[str, Any], status: int, field: str | None
) -> None:
    auth = bearer(applicant_user())
    body = {k: v for k, v in {**DRAFT, **change}.items() if v is not None}
    res = post_json("/drafts", auth, body)
    assert res.status_code == status, res.content
    if field is not None:
        assert [d["field"] for d in res.json()["details"]] == [field]
    assert cases_written() == NOTHING


def test_a_role_that_may_not_apply_online_is_refused() -> None:
    clerk = staff_token("clerk", Role.WINDOW_CLERK, SAIHAN_CA_WINDOW)
    system = staff_token("civil-system", Role.DEPARTMENT_SYSTEM, SAIHAN_CA_OFFICE)
    read_only = bearer(applicant_user(), scopes=("cases:read",))
    for auth in (clerk, system, read_only):
        assert post_json("/drafts", auth, DRAFT).status_code == 403
    assert post_json("/drafts", None, DRAFT).status_code == 401
    assert cases_written() == NOTHING
    # Nor does staff submit an applicant's draft for them.
    auth = bearer(applicant_user("applicant2", ID_A))
    case = post_json("/drafts", auth, {**DRAFT, "applicant_id_number": ID_A}).json()["case"]
    refused = post_json(f"/{case['id']}/actions/submit", clerk, {"expected_version": case["version"]})
    assert refused.status_code == 403
    assert Case.objects.get(pk=case["id"]).state == "draft"


def test_an_illegal_action_is_refused_in_chinese_naming_the_state_and_allowed_actions_with_codes() -> None:
    clerk = staff_token("clerk", Role.WINDOW_CLERK, SAIHAN_CA_WINDOW)
    case = _received_case(clerk)
    res = post_json(
        f"/{case['id']}/actions/approve", clerk, {"expected_version": case["version"], "opinion": "同意"}
    )
    assert res.status_code == 409, res.content
    # The message is for people, in the request's language (zh-hans unless the client asks otherwise);
    # the details keep the codes for programs to branch on.
    assert res.json() == {
        "error": "illegal_transition",
        "message": "此办件当前不能准予（办件状态：已接件；可执行的操作："
        "一次性告知补正、准予再次补正、受理、不予受理、逾期视为受理、上报、撤回、作废）。",
        "details": {
            "state": "received",
            "allowed": [
                "request_correction",
                "allow_second_correction",
                "accept",
                "refuse",
                "deem_accept",
                "report_up",
                "withdraw",
                "void",
            ],
        },
    }
    assert Case.objects.get(pk=case["id"]).state == "received"


def _received_case(auth: str) -> dict[str, Any]:
    body = {"matter_code": "T-PRO", "applicant_name": "张三", "applicant_id_number": ID_A}
    res = post_json("", auth, body)
    assert res.status_code == 201, res.content
    case: dict[str, Any] = res.json()["case"]
    return case


def files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


@pytest.mark.parametrize(
    ("filename", "content"),
    [
        ("scan.png", PDF),  # a PDF named .png
        ("scan.pdf", PNG),  # a PNG named .pdf
        ("scan.pdf", EXE),  # an executable renamed .pdf
        ("photo.png", b"not an image at all"),
        ("empty.pdf", b""),
    ],
)
def test_api_upload_of_a_forged_file_is_refused_and_stores_nothing(
    filename: str, content: bytes, settings: Any, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = tmp_path
    clerk = staff_token("clerk", Role.WINDOW_CLERK, SAIHAN_CA_WINDOW)
    case = _received_case(clerk)
    res = upload(case["id"], clerk, filename, content)
    assert 400 <= res.status_code < 500, res.content
    assert not Attachment.objects.exists()
    assert files_under(tmp_path) == []
    assert not Entry.objects.filter(action="cases.attachment_added").exists()


def test_api_upload_stores_the_file_with_its_sha256_and_downloads_are_scoped_and_audited(
    settings: Any, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = tmp_path
    clerk = staff_token("clerk", Role.WINDOW_CLERK, SAIHAN_CA_WINDOW)
    case = _received_case(clerk)
    res = upload(case["id"], clerk, "申请书.pdf", PDF)
    assert res.status_code == 201, res.content
    out = res.json()
    digest = hashlib.sha256(PDF).hexdigest()
    assert (out["sha256"], out["size"], out["content_type"]) == (digest, len(PDF), "application/pdf")
    assert out["original_filename"] == "申请书.pdf"
    row = Attachment.objects.get(pk=out["id"])
    assert row.sha256 == digest
    assert files_under(tmp_path) == [tmp_path / row.storage_path]
    assert hashlib.sha256((tmp_path / row.storage_path).read_bytes()).hexdigest() == digest

    # Someone who may see the case (the district office's reviewer) downloads it; it is audited.
    reviewer = staff_token("reviewer", Role.REVIEWER, SAIHAN_CA_OFFICE)
    res = get(f"/attachments/{out['id']}", reviewer)
    assert res.status_code == 200
    assert res.content == PDF
    assert res["Content-Type"] == "application/pdf"
    assert res["X-Content-Type-Options"] == "nosniff"
    assert res["Cache-Control"] == "no-store"
    downloads = Entry.objects.filter(action="cases.attachment_downloaded")
    assert [(e.actor_username, e.data["attachment"]) for e in downloads] == [("reviewer", out["id"])]

    # Outside the case's scope: 404, as for an attachment that does not exist; nothing audited.
    outsider = staff_token("outsider", Role.WINDOW_CLERK, XINCHENG_CA_WINDOW)
    assert get(f"/attachments/{out['id']}", outsider).status_code == 404
    assert get(f"/attachments/{out['id'] + 1000}", reviewer).status_code == 404
    assert upload(case["id"], outsider, "x.pdf", PDF).status_code == 404
    read_only = staff_token("reader", Role.WINDOW_CLERK, SAIHAN_CA_WINDOW, scopes=("cases:read",))
    assert upload(case["id"], read_only, "x.pdf", PDF).status_code == 403
    assert downloads.count() == 1
    assert Attachment.objects.count() == 1
    assert len(files_under(tmp_path)) == 1


def test_case_output_shows_remaining_days_and_an_unconfigured_calendar_year() -> None:
    clerk = actor_at(Role.WINDOW_CLERK, SAIHAN_CA_WINDOW, channel="api")
    with clock.frozen(dt.datetime(2026, 12, 15, 2, tzinfo=dt.UTC)):  # 2027 is not configured
        ids = {}
        for matter in ("T-PRO", "T-JNT"):
            body = {"matter_code": matter, "applicant_name": "张三", "applicant_id_number": ID_A}
            case = call("post", "", clerk, json=body).json()["case"]
            assert (case["calendar_problem"], case["remaining_days"]) == ("", 5)  # acceptance: 12-22
            res = call("post", f"/{case['id']}/actions/accept", clerk, json={"expected_version": 1})
            assert res.status_code == 200, res.content
            ids[matter] = case["id"]
        promised = call("get", f"/{ids['T-PRO']}", clerk).json()
        joint = call("get", f"/{ids['T-JNT']}", clerk).json()
        listed = {c["id"]: c for c in call("get", "?worklist=all", clerk).json()["items"]}
    # 10 working days fit in 2026 (12-29); the 20-day legal limit does not.
    assert promised["calendar_problem"] == "calendar for 2027 not configured"
    assert promised["remaining_days"] == 10
    assert promised["promised_due"] is not None
    assert promised["legal_due"] is None
    # The joint case's promised 20 working days end in 2027: no remaining days, and the reason why.
    assert joint["calendar_problem"] == "calendar for 2027 not configured"
    assert joint["remaining_days"] is None
    assert joint["promised_due"] is None
    for one in (promised, joint):
        assert (listed[one["id"]]["calendar_problem"], listed[one["id"]]["remaining_days"]) == (
            one["calendar_problem"],
            one["remaining_days"],
        )


def test_the_draft_operation_is_in_the_openapi_document() -> None:
    paths = Client().get("/api/v1/openapi.json").json()["paths"]
    draft = paths[f"{BASE}/drafts"]["post"]
    body = draft["requestBody"]["content"]["application/json"]["schema"]
    created = draft["responses"]["201"]["content"]["application/json"]["schema"]
    assert (body["$ref"], created["$ref"]) == (
        "#/components/schemas/CaseDraftIn",
        "#/components/schemas/CaseCreatedOut",
    )
    assert draft["security"] == [{"TokenAuth": []}]
