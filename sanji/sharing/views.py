"""Sharing pages (thin): the shared read, grants, person search and page, the resident's access log.

ID numbers are posted, never put in a URL (server logs and browser history keep URLs); the full
number of a person is shown only in the answer to the post that read or unmasked it.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sanji.core.actors import Actor, actor_of
from sanji.core.errors import Forbidden, NotFound, SanjiError
from sanji.core.pages import attempt, found
from sanji.orgs.models import Department
from sanji.population import policies as population_policies
from sanji.population import selectors as population_selectors
from sanji.sharing import policies, selectors, services
from sanji.sharing.forms import GrantForm, SharedReadForm, UnmaskForm
from sanji.sharing.models import ShareableField


def _nav(actor: Actor) -> dict[str, Any]:
    return {
        "can_read_shared": policies.can_read_shared(actor),
        "can_view_grants": policies.can_view_grants(actor),
        "can_manage_grants": policies.can_manage_grants(actor),
        "can_search_people": policies.can_search_people(actor),
        **population_policies.nav(actor),
    }


def _int(value: str | None, default: int = 1) -> int:
    try:
        return int(value or default)
    except ValueError:
        return default


# --- the shared read -----------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def shared_read(request: HttpRequest) -> HttpResponse:
    """共享查询: a department data officer reads a person by ID number for a stated purpose."""
    actor = actor_of(request)
    if not policies.can_read_shared(actor):
        raise Http404
    grants = selectors.grants_usable_by(actor)
    form = SharedReadForm(request.POST or None, grants=grants)
    result = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            result = selectors.person_get_for(
                actor,
                data["id_number"],
                data["purpose"],
                grant_id=int(data["grant"]) if data["grant"] else None,
            )
        except NotFound:
            form.add_error("id_number", _("人口基础信息库中没有这个身份证号码。"))
        except SanjiError as exc:
            form.add_error(None, exc.message)
    labels = dict(ShareableField.choices)
    rows = []
    if result is not None:
        for key, value in result.fields.items():
            label = labels.get(key) or {"status_date": _("状态日期"), "verified_at": _("核验时间")}.get(
                key, key
            )
            shown = result.labels.get(key)
            rows.append((label, f"{shown} ({value})" if shown else value))
    context = {"form": form, "grants": grants, "result": result, "rows": rows, **_nav(actor)}
    return render(request, "sharing/read.html", context)


# --- grants --------------------------------------------------------------------------------------


def _departments_for(actor: Actor) -> list[Department]:
    return [
        d
        for d in Department.objects.order_by("region_path", "kind")
        if policies.can_manage_grant_in(actor, d.region_path)
    ]


@login_required
@require_http_methods(["GET", "POST"])
def grants(request: HttpRequest) -> HttpResponse:
    """共享授权: the list (administrator: all in reach; readers: their department's) and the create form."""
    actor = actor_of(request)
    if not policies.can_view_grants(actor):
        raise Http404
    form = None
    if policies.can_manage_grants(actor):
        form = GrantForm(request.POST or None, departments=_departments_for(actor))
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                grant = services.grant_create(
                    actor=actor,
                    department_id=int(data["department"]),
                    fields=data["shared_fields"],
                    purpose=data["purpose"],
                    legal_basis=data["legal_basis"],
                    valid_from=data["valid_from"],
                    valid_until=data["valid_until"],
                )
            except SanjiError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("已发放共享授权 #%(id)s。") % {"id": grant.pk})
                return redirect("sharing:grants")
    elif request.method == "POST":
        raise Http404
    page = Paginator(selectors.grant_list_for(actor), 50).get_page(request.GET.get("page"))
    return render(request, "sharing/grants.html", {"page": page, "form": form, **_nav(actor)})


@login_required
@require_POST
def grant_revoke(request: HttpRequest, grant_id: int) -> HttpResponse:
    actor = actor_of(request)
    attempt(
        request,
        lambda: services.grant_revoke(actor=actor, grant_id=grant_id, reason=request.POST.get("reason", "")),
        success=_("已撤销共享授权 #%(id)s。") % {"id": grant_id},
    )
    return redirect("sharing:grants")


# --- person search and the person page -----------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def person_search(request: HttpRequest) -> HttpResponse:
    """人员查询: by ID number (exact, posted) or by name (prefix, within reach), masked IDs."""
    actor = actor_of(request)
    if not policies.can_search_people(actor):
        raise Http404
    params = request.POST if request.method == "POST" else request.GET
    q = params.get("q", "").strip()
    result = None
    error = ""
    if q:
        try:
            result = selectors.person_search_for(actor, q, page=_int(params.get("page")))
        except SanjiError as exc:
            error = exc.message
    context = {"q": q, "result": result, "error": error, **_nav(actor)}
    return render(request, "sharing/people.html", context)


def _person_page(request: HttpRequest, actor: Actor, person_id: int, **extra: Any) -> HttpResponse:
    page = found(lambda: selectors.person_page_for(actor, person_id))
    context = {"p": page, "person": page.person, **_nav(actor), **extra}
    context.setdefault("unmask_form", UnmaskForm())
    return render(request, "sharing/person.html", context)


@login_required
@require_GET
def person_detail(request: HttpRequest, person_id: int) -> HttpResponse:
    """人员详情: facts with source and verification, household, location, history, who read it."""
    return _person_page(request, actor_of(request), person_id)


@login_required
@require_POST
def person_unmask(request: HttpRequest, person_id: int) -> HttpResponse:
    """查看完整身份证号: for a stated purpose; recorded for the resident and audited."""
    actor = actor_of(request)
    form = UnmaskForm(request.POST)
    unmasked = ""
    if form.is_valid():
        try:
            unmasked = services.person_id_unmask(
                actor=actor, person_id=person_id, purpose=form.cleaned_data["purpose"]
            )
        except NotFound:
            raise Http404 from None
        except SanjiError as exc:
            form.add_error("purpose", exc.message)
    return _person_page(request, actor, person_id, unmasked=unmasked, unmask_form=form)


# --- the ID numbers of a correction, for its police verifier ----------------------------------------


@login_required
@require_POST
def change_unmask(request: HttpRequest, change_id: int) -> HttpResponse:
    """更正前后的完整公民身份号码: the population change page again, with the clear numbers before and
    after a correction of the number and the changed digits marked, for the verifier deciding it.
    Recorded for the resident and audited (:func:`sanji.sharing.services.change_id_unmask`)."""
    actor = actor_of(request)
    numbers = None
    error = ""
    status = 200
    try:
        numbers = services.change_id_unmask(actor=actor, change_id=change_id)
    except NotFound:
        raise Http404 from None
    except Forbidden:
        raise PermissionDenied from None
    except SanjiError as exc:
        error, status = exc.message, exc.status
    detail = found(lambda: population_selectors.change_detail_for(actor, change_id))
    context = {
        "d": detail,
        "change": detail.change,
        "error": error,
        "id_numbers": numbers,
        "can_submit": population_policies.can_submit_changes(actor),
        "can_verify": population_policies.can_verify_changes(actor),
    }
    return render(request, "population/change_detail.html", context, status=status)


# --- the resident's own access log ---------------------------------------------------------------


@login_required
@require_GET
def my_reads(request: HttpRequest) -> HttpResponse:
    """谁查询了我的信息: reads of the signed-in resident's own record, newest first."""
    actor = actor_of(request)
    page = Paginator(selectors.access_records_of_resident(actor), 30).get_page(request.GET.get("page"))
    return render(request, "sharing/my_reads.html", {"page": page, "labels": dict(ShareableField.choices)})
