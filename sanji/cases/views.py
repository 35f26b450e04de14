"""Case pages: the window (接件, accept / correct / refuse, deliver), worklists, the case page with its
history and actions, printed notices, and the citizen portal (网上办事大厅).

Thin: parse a form, call one service or selector, render. A :class:`NotFound` becomes a 404 (outside
the actor's scope looks exactly like missing); a stale ``expected_version`` (:class:`Conflict`) is
shown as "someone else acted first — reload"; other domain errors are shown on the page.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sanji.accounts.services import applicant_register
from sanji.cases import forms, policies, selectors, services
from sanji.cases.templatetags.cases_tags import WORKLIST_LABELS
from sanji.cases.transitions import ACTION_LABELS, Action, State
from sanji.core.actors import Actor, actor_of
from sanji.core.errors import Conflict, IllegalTransition, NotFound, SanjiError
from sanji.core.pages import attempt, found
from sanji.core.roles import Role
from sanji.orgs.models import RegionLevel

#: Session key: query codes (查询码) not yet shown, by case id — printed once, then forgotten.
SESSION_QUERY_CODES = "cases_query_codes"
#: What the applicant does on the portal with a plain form (a supplement carries files: its own view).
PORTAL_ACTIONS = frozenset({Action.SUBMIT, Action.WITHDRAW})
#: Notices that carry the one-time query code when printed first.
CODE_NOTICES = frozenset({"receipt", "acceptance", "correction", "refusal"})
PAGE_SIZE = 50


def _staff(request: HttpRequest) -> Actor:
    """Staff who see cases; anybody else signed in is refused (403)."""
    actor = actor_of(request)
    if not policies.can_use_worklists(actor):
        raise PermissionDenied
    return actor


def _window(request: HttpRequest) -> Actor:
    actor = actor_of(request)
    if not policies.can_receive(actor):
        raise PermissionDenied
    return actor


def _int(raw: str | None, default: int) -> int:
    try:
        return max(1, int(raw or default))
    except ValueError:
        return default


def _nav(actor: Actor) -> dict[str, Any]:
    return {"can_receive": policies.can_receive(actor)}


# --- the one-time query code ------------------------------------------------------------------------


def _remember_code(request: HttpRequest, case_id: int, code: str) -> None:
    codes = dict(request.session.get(SESSION_QUERY_CODES, {}))
    codes[str(case_id)] = code
    request.session[SESSION_QUERY_CODES] = codes


def _code_pending(request: HttpRequest, case_id: int) -> bool:
    return str(case_id) in request.session.get(SESSION_QUERY_CODES, {})


def _take_code(request: HttpRequest, case_id: int) -> str:
    codes = dict(request.session.get(SESSION_QUERY_CODES, {}))
    code = str(codes.pop(str(case_id), ""))
    request.session[SESSION_QUERY_CODES] = codes
    return code


# --- worklists --------------------------------------------------------------------------------------


def _default_worklist(actor: Actor) -> str:
    if policies.can_receive(actor):
        return "to_receive"
    if actor.has_role(Role.REVIEWER, Role.APPROVER, Role.DEPARTMENT_HEAD):
        return "to_handle"
    return "due_soon"


@login_required
@require_GET
def worklist(request: HttpRequest) -> HttpResponse:
    """A worklist tab: paged with next/previous (no total count), remaining working days as badges."""
    actor = _staff(request)
    tab = request.GET.get("tab") or _default_worklist(actor)
    tabs = selectors.worklists_for(actor)
    if tab not in tabs:
        raise Http404
    result = selectors.case_list_for(
        actor, worklist=tab, page=_int(request.GET.get("page"), 1), page_size=PAGE_SIZE
    )
    return render(
        request,
        "cases/worklist.html",
        {"tabs": [t for t in WORKLIST_LABELS if t in tabs], "tab": tab, "result": result, **_nav(actor)},
    )


# --- receiving a walk-in (接件) -----------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def receive(request: HttpRequest) -> HttpResponse:
    """接件 at a window or community station: find the applicant, choose the matter, tick the materials."""
    actor = _window(request)
    matters = selectors.receivable_matters(actor)
    params = request.POST if request.method == "POST" else request.GET
    code = params.get("matter_code", "")
    chosen = selectors.matter_for_receipt(code) if code in {m.code for m in matters} else None
    materials = chosen[1] if chosen is not None else []
    id_number = params.get("id_number", "").strip()
    prefill = None
    lookup_error = ""
    if id_number:
        try:
            prefill = selectors.applicant_lookup(actor, id_number)
        except SanjiError as exc:
            lookup_error = exc.message
    problems: list[str] = []
    if request.method == "POST":
        form = forms.ReceiveForm(request.POST, request.FILES, materials=materials)
        if chosen is None:
            problems.append(_("请选择本窗口受理的事项。"))
        elif form.is_valid():
            data = form.cleaned_data
            try:
                case, query_code = services.case_receive(
                    actor=actor,
                    matter_code=chosen[0].code,
                    applicant_name=data["applicant_name"],
                    applicant_id_number=data["id_number"],
                    applicant_phone=data["applicant_phone"],
                    applicant_user_id=prefill.user_id if prefill is not None else None,
                    title=data["title"],
                    materials_received=data["materials_received"],
                    fee_charged=data["fee_charged"],
                )
            except SanjiError as exc:
                problems.append(exc.message)
            else:
                _remember_code(request, case.pk, query_code)
                for material, filename, content in data["scans"]:
                    try:
                        services.attachment_add(
                            actor=actor,
                            case_id=case.pk,
                            material_name=material,
                            filename=filename,
                            content=content,
                        )
                    except SanjiError as exc:
                        messages.error(request, f"{filename}: {exc.message}")
                messages.success(request, _("已接件，办件编号 %(number)s。") % {"number": case.number})
                return redirect("cases:detail", case_id=case.pk)
    else:
        initial: dict[str, Any] = {"matter_code": code, "id_number": id_number}
        if prefill is not None:
            initial.update(
                id_number=prefill.id_number, applicant_name=prefill.name, applicant_phone=prefill.phone
            )
        if chosen is not None:
            initial["title"] = chosen[0].name
        form = forms.ReceiveForm(initial=initial, materials=materials)
    return render(
        request,
        "cases/receive.html",
        {
            "matters": matters,
            "chosen": chosen[0] if chosen is not None else None,
            "id_number": id_number,
            "prefill": prefill,
            "lookup_error": lookup_error,
            "form": form,
            "problems": problems,
            **_nav(actor),
        },
    )


# --- the case page ----------------------------------------------------------------------------------


def _detail(actor: Actor, case_id: int) -> selectors.CaseDetail:
    return found(lambda: selectors.case_detail_for(actor, case_id))


def _initial(action: str, detail: selectors.CaseDetail) -> dict[str, Any]:
    if action == Action.REQUEST_CORRECTION:
        return {"missing_items": detail.missing_materials}
    if action == Action.DELIVER:
        return {"delivery_method": "window"}
    return {}


def _render_case(
    request: HttpRequest,
    actor: Actor,
    detail: selectors.CaseDetail,
    *,
    bound: forms.ActionForm | None = None,
    bound_action: str = "",
    error: str = "",
    conflict: bool = False,
    status: int = 200,
) -> HttpResponse:
    case = detail.case
    action_forms = [
        (
            action,
            bound
            if action == bound_action and bound is not None
            else forms.action_form(
                action,
                version=case.version,
                materials=detail.materials,
                received=detail.materials_received,
                initial=_initial(action, detail),
            ),
        )
        for action in detail.actions
        if action != Action.DEEM_ACCEPT
    ]
    return render(
        request,
        "cases/detail.html",
        {
            "d": detail,
            "case": case,
            "action_forms": action_forms,
            "upload_form": forms.UploadForm(materials=detail.materials),
            "can_upload": case.state not in {State.COMPLETED, State.REFUSED, State.WITHDRAWN, State.VOIDED},
            "notices": selectors.notices_available(detail.events),
            "code_pending": _code_pending(request, case.pk),
            "error": error,
            "conflict": conflict,
            **_nav(actor),
        },
        status=status,
    )


def _case_act(actor: Actor, case_id: int, action: str, form: forms.ActionForm) -> None:
    """The transitions table's ``action`` on the case, with what its validated form carries."""
    services.case_act(
        actor=actor,
        case_id=case_id,
        action=action,
        expected_version=form.cleaned_data["expected_version"],
        **form.service_fields(),
    )


@login_required
@require_GET
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    """Summary, deadlines, steps (parallel ones side by side), full history, and the allowed actions."""
    actor = actor_of(request)
    if not policies.can_use_worklists(actor) and actor.user_id is not None:
        return redirect("portal:case", case_id=case_id)  # applicants follow their cases on the portal
    actor = _staff(request)
    return _render_case(request, actor, _detail(actor, case_id))


@login_required
@require_POST
def case_act(request: HttpRequest, case_id: int, action: str) -> HttpResponse:
    """Perform one action of the transitions table from the case page."""
    actor = _staff(request)
    detail = _detail(actor, case_id)
    if action not in forms.ACTION_FORMS:
        raise Http404
    form = forms.action_form(
        action,
        version=detail.case.version,
        data=request.POST,
        materials=detail.materials,
        received=detail.materials_received,
    )
    if not form.is_valid():
        return _render_case(request, actor, detail, bound=form, bound_action=action, status=422)
    try:
        _case_act(actor, case_id, action, form)
    except NotFound:
        raise Http404 from None
    except Conflict as exc:
        if isinstance(exc, IllegalTransition):
            return _render_case(request, actor, _detail(actor, case_id), error=exc.message, status=exc.status)
        return _render_case(request, actor, _detail(actor, case_id), conflict=True, status=409)
    except SanjiError as exc:
        return _render_case(
            request, actor, detail, bound=form, bound_action=action, error=exc.message, status=exc.status
        )
    messages.success(request, _("已完成：%(action)s。") % {"action": ACTION_LABELS.get(action, action)})
    return redirect("cases:detail", case_id=case_id)


@login_required
@require_POST
def case_upload(request: HttpRequest, case_id: int) -> HttpResponse:
    """Add a scanned material to the case (community stations scan for the district window)."""
    actor = _staff(request)
    detail = _detail(actor, case_id)
    return _upload(request, actor, detail, redirect_to=reverse("cases:detail", args=[case_id]))


def _upload(
    request: HttpRequest, actor: Actor, detail: selectors.CaseDetail, *, redirect_to: str
) -> HttpResponse:
    form = forms.UploadForm(request.POST, request.FILES, materials=detail.materials)
    if not form.is_valid():
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, str(message))
        return HttpResponseRedirect(redirect_to)
    filename, content = form.cleaned_data["file"]
    attempt(
        request,
        lambda: services.attachment_add(
            actor=actor,
            case_id=detail.case.pk,
            material_name=form.cleaned_data["material_name"],
            filename=filename,
            content=content,
        ),
        success=_("材料已上传。"),
    )
    return HttpResponseRedirect(redirect_to)


@login_required
@require_GET
def attachment_download(request: HttpRequest, attachment_id: int) -> HttpResponse:
    """Download one material of a case the actor may see (audited by the service)."""
    attachment, content = found(
        lambda: services.attachment_open(actor=actor_of(request), attachment_id=attachment_id)
    )
    response = HttpResponse(content, content_type=attachment.content_type)
    disposition = content_disposition_header(as_attachment=True, filename=attachment.original_filename)
    response["Content-Disposition"] = disposition or "attachment"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def case_print(request: HttpRequest, case_id: int, kind: str) -> HttpResponse:
    """A printable notice (受理通知书, 一次性告知书, 不予受理通知书, 许可决定书, 收件回执)."""
    actor = actor_of(request)
    notice = found(lambda: selectors.case_notice_for(actor, case_id, kind))
    query_code = _take_code(request, case_id) if kind in CODE_NOTICES else ""
    staff = policies.can_use_worklists(actor)
    back_url = reverse("cases:detail" if staff else "portal:case", args=[case_id])
    return render(
        request,
        f"cases/print/{kind}.html",
        {
            "notice": notice,
            "case": notice.case,
            "query_code": query_code,
            "query_url": request.build_absolute_uri(reverse("portal:query")),
            "back_url": back_url,
        },
    )


# --- the citizen portal (网上办事大厅) -----------------------------------------------------------------


def _applicant(request: HttpRequest) -> Actor:
    """A signed-in applicant; staff accounts do not apply online (403)."""
    actor = actor_of(request)
    if not policies.can_apply_online(actor):
        raise PermissionDenied
    return actor


@require_GET
def portal_home(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/home.html", {"signed_in": actor_of(request).user_id is not None})


@require_http_methods(["GET", "POST"])
def portal_register(request: HttpRequest) -> HttpResponse:
    """Citizens register themselves; then they sign in on the ordinary login page (no terminal)."""
    if actor_of(request).user_id is not None:
        return redirect("portal:home")
    form = forms.RegisterForm(request.POST or None)
    problems: list[str] = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            applicant_register(
                username=data["username"],
                full_name=data["full_name"],
                id_number=data["id_number"],
                phone=data["phone"],
                password=data["password"],
                ip=str(request.META.get("REMOTE_ADDR", "")),
            )
        except SanjiError as exc:
            problems = [str(m) for m in exc.details] if isinstance(exc.details, list) else [exc.message]
        else:
            messages.success(request, _("注册成功，请登录。"))
            return HttpResponseRedirect(f"{reverse('accounts:login')}?next={reverse('portal:my_cases')}")
    return render(request, "portal/register.html", {"form": form, "problems": problems})


@require_GET
def portal_matters(request: HttpRequest) -> HttpResponse:
    """Matters that may be applied for online, with their service guides in the catalogue."""
    page = Paginator(selectors.online_matters(), 30).get_page(request.GET.get("page"))
    return render(request, "portal/matters.html", {"page": page})


#: The service's field names (``ValidationFailed.details``) → the apply form's.
_APPLY_FIELDS = {
    "applicant_name": "applicant_name",
    "applicant_id_number": "id_number",
    "agent_relation": "agent_relation",
    "region_code": "region_code",
}


def _error_field(exc: SanjiError) -> str:
    """The field a refusal names first (``details=[{"field": …}]``), or ""."""
    details = exc.details
    if isinstance(details, list) and details and isinstance(details[0], dict):
        return str(details[0].get("field", ""))
    return ""


@login_required
@require_http_methods(["GET", "POST"])
def portal_apply(request: HttpRequest, code: str) -> HttpResponse:
    """网上申报: create a draft; materials are uploaded and the application submitted on its page."""
    actor = _applicant(request)
    matter = selectors.online_matters().filter(code=code).first()
    if matter is None:
        raise Http404
    accept_level = selectors.online_accept_level(matter)
    places = selectors.apply_regions(accept_level)
    regions = [(r.code, f"{'　' * (len(r.path.split('/')) - 3)}{r.name}") for r in places]
    me = selectors.portal_account(actor)
    # Preselected: the applicant's own county (the first six digits of their ID number), if listed.
    home = next((r.code for r in places if me.id_masked[:6] and r.code == me.id_masked[:6]), None)
    form = forms.ApplyForm(
        request.POST or None,
        request.FILES or None,
        initial={"on_behalf": "", "applicant_phone": me.phone, "title": matter.name, "region_code": home},
        regions=regions,
        authorisation_material=selectors.authorisation_material(matter),
    )
    if accept_level:
        form.fields["region_code"].help_text = _(
            "本事项由%(level)s一级的窗口受理：申请送到您所选地区的该级窗口。"
        ) % {"level": RegionLevel(accept_level).label}
    problems: list[str] = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            case, query_code = services.case_create_draft(
                actor=actor,
                matter_code=matter.code,
                region_code=data["region_code"],
                on_behalf=data["on_behalf"],
                applicant_name=data["applicant_name"] if data["on_behalf"] else "",
                applicant_id_number=data["id_number"] if data["on_behalf"] else "",
                agent_relation=data["agent_relation"] if data["on_behalf"] else "",
                applicant_phone=data["applicant_phone"],
                title=data["title"],
            )
        except SanjiError as exc:
            # Beside the field it is about (the agent's fields stay open), else above the form.
            field = _APPLY_FIELDS.get(_error_field(exc), "")
            if field in form.fields:
                form.add_error(field, exc.message)
            else:
                problems = [exc.message]
        else:
            _remember_code(request, case.pk, query_code)
            letter = data.get("authorisation") if data["on_behalf"] else None
            if letter is not None:
                filename, content = letter
                attempt(
                    request,
                    lambda: services.attachment_add(
                        actor=actor,
                        case_id=case.pk,
                        material_name=form.authorisation_material,
                        filename=filename,
                        content=content,
                    ),
                    success=_("%(material)s已上传。") % {"material": form.authorisation_material},
                )
            messages.success(request, _("申请已保存为草稿，请上传材料后提交。"))
            return redirect("portal:case", case_id=case.pk)
    return render(
        request, "portal/apply.html", {"matter": matter, "form": form, "me": me, "problems": problems}
    )


@login_required
@require_GET
def portal_my_cases(request: HttpRequest) -> HttpResponse:
    actor = _applicant(request)
    page = Paginator(selectors.case_list_of_applicant(actor), 20).get_page(request.GET.get("page"))
    return render(request, "portal/my_cases.html", {"page": page})


def _own(actor: Actor, case_id: int) -> selectors.CaseDetail:
    return found(lambda: selectors.own_case_for(actor, case_id))


def _render_own(
    request: HttpRequest,
    detail: selectors.CaseDetail,
    *,
    error: str = "",
    status: int = 200,
    supplement: forms.SupplementForm | None = None,
) -> HttpResponse:
    case = detail.case
    actions = [a for a in detail.actions if a in PORTAL_ACTIONS]
    if supplement is None and Action.SUPPLEMENT in detail.actions:
        supplement = forms.SupplementForm(
            initial={"expected_version": case.version}, items=detail.notice_items, prefix="supplement"
        )
    return render(
        request,
        "portal/case.html",
        {
            "d": detail,
            "case": case,
            "action_forms": [(a, forms.action_form(a, version=case.version)) for a in actions],
            "supplement_form": supplement if Action.SUPPLEMENT in detail.actions else None,
            "upload_form": forms.UploadForm(materials=detail.materials),
            "can_upload": case.state in {State.DRAFT, State.RETURNED},
            "notices": [n for n in selectors.notices_available(detail.events) if n != "receipt"],
            "query_code": _take_code(request, case.pk),
            "error": error,
        },
        status=status,
    )


@login_required
@require_GET
def portal_case(request: HttpRequest, case_id: int) -> HttpResponse:
    """The applicant's case: progress, correction notice, materials, submit / supplement / withdraw."""
    actor = _applicant(request)
    return _render_own(request, _own(actor, case_id))


@login_required
@require_POST
def portal_act(request: HttpRequest, case_id: int, action: str) -> HttpResponse:
    actor = _applicant(request)
    detail = _own(actor, case_id)
    if action not in PORTAL_ACTIONS:
        raise Http404
    form = forms.action_form(action, version=detail.case.version, data=request.POST)
    if not form.is_valid():
        return _render_own(request, detail, error=_("表单有误，请重试。"), status=422)
    try:
        _case_act(actor, case_id, action, form)
    except SanjiError as exc:
        return _portal_refused(request, actor, detail, exc)
    messages.success(request, _("已完成：%(action)s。") % {"action": ACTION_LABELS.get(action, action)})
    return redirect("portal:case", case_id=case_id)


def _portal_refused(
    request: HttpRequest, actor: Actor, detail: selectors.CaseDetail, exc: SanjiError, **extra: Any
) -> HttpResponse:
    """The applicant's case page again, saying why their action was refused: a case that changed
    meanwhile is shown as it is now (an illegal action says what is allowed)."""
    if isinstance(exc, NotFound):
        raise Http404 from None
    if isinstance(exc, Conflict):
        message = (
            exc.message if isinstance(exc, IllegalTransition) else _("办件状态已变化，请刷新页面后重试。")
        )
        return _render_own(request, _own(actor, detail.case.pk), error=message, status=exc.status)
    return _render_own(request, detail, error=exc.message, status=exc.status, **extra)


@login_required
@require_POST
def portal_supplement(request: HttpRequest, case_id: int) -> HttpResponse:
    """补正: the files for every item of the correction notice, with the supplement itself (all or
    nothing: a refused supplement keeps none of them)."""
    actor = _applicant(request)
    detail = _own(actor, case_id)
    form = forms.SupplementForm(request.POST, request.FILES, items=detail.notice_items, prefix="supplement")
    if not form.is_valid():
        return _render_own(request, detail, error=_("表单有误，请重试。"), status=422, supplement=form)
    try:
        services.case_supplement(
            actor=actor,
            case_id=case_id,
            expected_version=form.cleaned_data["expected_version"],
            uploads=form.cleaned_data["uploads"],
            opinion=form.cleaned_data["opinion"],
        )
    except SanjiError as exc:
        return _portal_refused(request, actor, detail, exc, supplement=form)
    messages.success(request, _("补正材料已提交。"))
    return redirect("portal:case", case_id=case_id)


@login_required
@require_POST
def portal_upload(request: HttpRequest, case_id: int) -> HttpResponse:
    actor = _applicant(request)
    detail = _own(actor, case_id)
    return _upload(request, actor, detail, redirect_to=reverse("portal:case", args=[case_id]))


@require_http_methods(["GET", "POST"])
def portal_query(request: HttpRequest) -> HttpResponse:
    """Anonymous progress query by case number and query code (same answer for either being wrong)."""
    form = forms.QueryForm(request.POST or None)
    progress = None
    error = ""
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            progress = selectors.case_lookup_public(
                form.cleaned_data["number"],
                form.cleaned_data["code"],
                ip=str(request.META.get("REMOTE_ADDR", "")),
            )
        except selectors.TooManyQueries:
            error, status = _("查询次数过多，请稍后再试。"), 429
        except NotFound:
            error, status = _("办件编号或查询码不正确。"), 404
    return render(
        request, "portal/query.html", {"form": form, "progress": progress, "error": error}, status=status
    )
