"""API operations of the cases app (thin: parse, one service or selector call, schema).

Mount with ``api.add_router("/cases", sanji.cases.api.router)``. Department systems report the cases
they handle (channel "api") through the same services as the pages; applicants apply online with
their own token (``POST /drafts``, then ``submit`` and the rest through ``/{id}/actions/{action}``;
a supplement after a correction notice carries its files: ``POST /{id}/supplement``).
Scopes ``cases:read`` and ``cases:write``; ``GET /public/progress`` is anonymous and throttled.
The operations are listed in ``docs/cases-api.md``.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import File, Form, Router, Status
from ninja.files import UploadedFile

from sanji.cases import selectors, services
from sanji.cases.models import Case
from sanji.cases.schemas import (
    ActionIn,
    AttachmentOut,
    CaseCreatedOut,
    CaseDetailOut,
    CaseDraftIn,
    CaseOut,
    CasePageOut,
    CaseReceiveIn,
    ProgressOut,
)
from sanji.cases.selectors import PublicProgress
from sanji.core.actors import Actor
from sanji.core.errors import Forbidden, ValidationFailed

router = Router(tags=["cases"])

READ_SCOPE = "cases:read"
WRITE_SCOPE = "cases:write"


def _actor(request: HttpRequest, scope: str) -> Actor:
    actor: Actor = request.auth  # type: ignore[attr-defined]
    if not actor.allows_scope(scope):
        raise Forbidden(_("此令牌缺少 %(scope)s 权限范围。") % {"scope": scope})
    return actor


@router.post("", response={201: CaseCreatedOut}, summary="Receive a case (接件) at the caller's unit")
def receive_case(request: HttpRequest, payload: CaseReceiveIn) -> Status[dict[str, Any]]:
    actor = _actor(request, WRITE_SCOPE)
    case, code = services.case_receive(actor=actor, **payload.dict())
    return Status(201, {"case": case, "query_code": code})


@router.post(
    "/drafts", response={201: CaseCreatedOut}, summary="Apply online (网上申报): the applicant's draft"
)
def create_draft(request: HttpRequest, payload: CaseDraftIn) -> Status[dict[str, Any]]:
    actor = _actor(request, WRITE_SCOPE)
    case, code = services.case_create_draft(actor=actor, **payload.dict())
    return Status(201, {"case": case, "query_code": code})


@router.get("", response=CasePageOut, summary="A worklist page (no total count: use has_next)")
def list_cases(request: HttpRequest, worklist: str = "all", page: int = 1, page_size: int = 50) -> Any:
    actor = _actor(request, READ_SCOPE)
    return selectors.case_list_for(actor, worklist=worklist, page=page, page_size=page_size)


@router.get("/public/progress", response=ProgressOut, auth=None, summary="Anonymous progress query")
def public_progress(request: HttpRequest, number: str, code: str) -> PublicProgress:
    return selectors.case_lookup_public(number, code, ip=str(request.META.get("REMOTE_ADDR", "")))


@router.get("/{case_id}", response=CaseDetailOut, summary="One case with its history")
def get_case(request: HttpRequest, case_id: int) -> Any:
    actor = _actor(request, READ_SCOPE)
    case = selectors.case_get_for(actor, case_id)
    case.history = selectors.case_history(case)  # type: ignore[attr-defined]
    return case


@router.post(
    "/{case_id}/actions/{action}", response=CaseOut, summary="Perform an action of the transitions table"
)
def act(request: HttpRequest, case_id: int, action: str, payload: ActionIn) -> Case:
    actor = _actor(request, WRITE_SCOPE)
    fields = {k: v for k, v in payload.dict().items() if v is not None and k != "expected_version"}
    # The service answers the locked, updated case with what the schema reads already loaded.
    return services.case_act(
        actor=actor, case_id=case_id, action=action, expected_version=payload.expected_version, **fields
    )


@router.post(
    "/{case_id}/supplement",
    response=CaseOut,
    summary="Supplement (补正) with the files the correction asks for",
)
def supplement(
    request: HttpRequest,
    case_id: int,
    expected_version: Form[int],
    material_name: Form[list[str]],
    file: File[list[UploadedFile]],
    opinion: Form[str] = "",
) -> Case:
    actor = _actor(request, WRITE_SCOPE)
    if len(material_name) != len(file):
        raise ValidationFailed(
            _("每个文件须对应一个材料名称（material_name）。"),
            details=[{"field": "material_name", "reason": "count"}],
        )
    return services.case_supplement(
        actor=actor,
        case_id=case_id,
        expected_version=expected_version,
        uploads=[(m, f.name or "", f.read()) for m, f in zip(material_name, file, strict=True)],
        opinion=opinion,
    )


@router.post("/{case_id}/attachments", response={201: AttachmentOut}, summary="Upload one material")
def upload(
    request: HttpRequest, case_id: int, material_name: Form[str], file: File[UploadedFile]
) -> Status[Any]:
    actor = _actor(request, WRITE_SCOPE)
    attachment = services.attachment_add(
        actor=actor,
        case_id=case_id,
        material_name=material_name,
        filename=file.name or "",
        content=file.read(),
    )
    return Status(201, attachment)


@router.get("/attachments/{attachment_id}", summary="Download one material (audited)")
def download(request: HttpRequest, attachment_id: int) -> HttpResponse:
    actor = _actor(request, READ_SCOPE)
    attachment, content = services.attachment_open(actor=actor, attachment_id=attachment_id)
    response = HttpResponse(content, content_type=attachment.content_type)
    response["Content-Disposition"] = f'attachment; filename="attachment-{attachment.pk}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response
