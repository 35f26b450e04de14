"""Catalogue pages: the public catalogue and service guides, and the administrator's editors."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sanji.catalog import forms, policies, selectors, services
from sanji.catalog.models import Matter, MatterKind, MatterType
from sanji.core.actors import Actor, actor_of
from sanji.core.errors import SanjiError
from sanji.core.pages import attempt, found
from sanji.orgs.models import DepartmentKind, RegionLevel


def _matter(request: HttpRequest, code: str) -> Matter:
    return found(lambda: selectors.matter_get(code, actor=actor_of(request)))


def _editor(request: HttpRequest) -> Actor:
    """The acting system administrator; anybody else is refused."""
    actor = actor_of(request)
    if not policies.can_edit(actor):
        raise PermissionDenied
    return actor


def _problems(exc: SanjiError) -> list[str]:
    details = exc.details if isinstance(exc.details, list) else []
    return [str(d.get("message", "")) for d in details if isinstance(d, dict) and d.get("message")] or [
        exc.message
    ]


@require_GET
def matter_list(request: HttpRequest) -> HttpResponse:
    """The public catalogue: browse and search (anonymous visitors welcome)."""
    actor = actor_of(request)
    params = request.GET
    show_all = params.get("all") == "1" and policies.can_edit(actor)
    matters = selectors.matter_list(
        actor=actor,
        q=params.get("q") or None,
        department_kind=params.get("department_kind") or None,
        level=params.get("level") or None,
        matter_type=params.get("matter_type") or None,
        kind=params.get("kind") or None,
        active_only=not show_all,
    )
    page = Paginator(matters, 30).get_page(params.get("page"))
    query = params.copy()
    query.pop("page", None)
    return render(
        request,
        "catalog/list.html",
        {
            "page": page,
            "params": params,
            "query": query.urlencode(),
            "show_all": show_all,
            "can_edit": policies.can_edit(actor),
            "department_kinds": DepartmentKind.choices,
            "levels": RegionLevel.choices,
            "matter_types": MatterType.choices,
            "kinds": MatterKind.choices,
        },
    )


@require_GET
def matter_detail(request: HttpRequest, code: str) -> HttpResponse:
    """The service guide (办事指南): conditions, materials, fees, limits, flow, legal basis."""
    matter = _matter(request, code)
    version = matter.current_version
    return render(
        request,
        "catalog/detail.html",
        {
            "matter": matter,
            "version": version,
            "stages": selectors.stages_for(version) if version else [],
            "materials": selectors.materials_for(version) if version else [],
            "can_edit": policies.can_edit(actor_of(request)),
        },
    )


@require_GET
def blank_form(request: HttpRequest, code: str, material_id: int) -> HttpResponse:
    """Download a material's blank form (空白表格)."""
    material = found(lambda: selectors.blank_form_get(code, material_id, actor=actor_of(request)))
    head = '<!doctype html><html lang="zh-CN"><meta charset="utf-8">'
    body = f"{head}<body>{material.blank_form_template}</body></html>"
    response = HttpResponse(body, content_type="text/html; charset=utf-8")
    disposition = content_disposition_header(
        as_attachment=True, filename=material.blank_form_name or f"{material.name}.html"
    )
    response["Content-Disposition"] = disposition or "attachment"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def matter_create(request: HttpRequest) -> HttpResponse:
    actor = _editor(request)
    form = forms.MatterCreateForm(request.POST or None, initial={"fee_amount": 0})
    problems: list[str] = []
    if request.method == "POST" and form.is_valid():
        try:
            matter = services.matter_create(
                actor=actor, code=form.cleaned_data["code"], details=form.to_details(), terms=form.to_terms()
            )
        except SanjiError as exc:
            problems = _problems(exc)
        else:
            messages.success(request, _("事项已创建，请发布办理流程。"))
            return redirect("catalog:flow_edit", code=matter.code)
    return render(request, "catalog/matter_form.html", {"form": form, "problems": problems, "matter": None})


@login_required
@require_http_methods(["GET", "POST"])
def matter_edit(request: HttpRequest, code: str) -> HttpResponse:
    matter = _matter(request, code)
    actor = _editor(request)
    initial = {
        "name": matter.name,
        "matter_type": matter.matter_type,
        "legal_basis": matter.legal_basis,
        "online": matter.online,
        "conditions": matter.conditions,
        "procedure": matter.procedure,
        "contact": matter.contact,
    }
    form = forms.MatterDetailsForm(request.POST or None, initial=initial)
    problems: list[str] = []
    if request.method == "POST" and form.is_valid():
        try:
            services.matter_update(actor=actor, matter=matter, details=form.to_details())
        except SanjiError as exc:
            problems = _problems(exc)
        else:
            messages.success(request, _("事项信息已保存。"))
            return redirect("catalog:detail", code=matter.code)
    return render(request, "catalog/matter_form.html", {"form": form, "problems": problems, "matter": matter})


@login_required
@require_POST
def matter_set_active(request: HttpRequest, code: str, active: bool) -> HttpResponse:
    matter = _matter(request, code)
    actor = _editor(request)
    if active:
        attempt(
            request,
            lambda: services.matter_activate(actor=actor, matter=matter),
            success=_("事项已启用。"),
        )
    else:
        attempt(
            request,
            lambda: services.matter_deactivate(actor=actor, matter=matter),
            success=_("事项已停用。"),
        )
    return redirect("catalog:edit", code=matter.code)


@login_required
@require_http_methods(["GET", "POST"])
def flow_edit(request: HttpRequest, code: str) -> HttpResponse:
    """Publish a new flow version: terms, steps and materials, starting from the current version."""
    matter = _matter(request, code)
    actor = _editor(request)
    steps, materials = selectors.specs_from(matter.current_version) if matter.current_version else ([], [])
    data = request.POST if request.method == "POST" else None
    terms_form = forms.TermsForm(data, initial=forms.terms_initial(selectors.terms_from(matter)))
    step_set = forms.StepFormSet(data, initial=forms.step_initial(steps), prefix="steps")
    material_set = forms.MaterialFormSet(data, initial=forms.material_initial(materials), prefix="materials")
    note_form = forms.VersionNoteForm(data)
    problems: list[str] = []
    valid = all(f.is_valid() for f in (terms_form, step_set, material_set, note_form))
    if request.method == "POST" and valid:
        try:
            version = services.flow_version_publish(
                actor=actor,
                matter=matter,
                terms=terms_form.to_terms(),
                steps=[f.to_spec() for f in forms.filled(step_set)],
                materials=[f.to_spec() for f in forms.filled(material_set)],
                note=note_form.cleaned_data["note"],
            )
        except SanjiError as exc:
            problems = _problems(exc)
        else:
            messages.success(request, _("已发布第 %(n)s 版办理流程。") % {"n": version.number})
            return redirect("catalog:versions", code=matter.code)
    context: dict[str, Any] = {
        "matter": matter,
        "terms_form": terms_form,
        "step_set": step_set,
        "material_set": material_set,
        "note_form": note_form,
        "problems": problems,
    }
    return render(request, "catalog/flow_form.html", context)


@require_GET
def version_list(request: HttpRequest, code: str) -> HttpResponse:
    matter = _matter(request, code)
    actor = actor_of(request)
    return render(
        request,
        "catalog/versions.html",
        {
            "matter": matter,
            "versions": selectors.versions_for(matter, actor=actor),
            "can_edit": policies.can_edit(actor),
        },
    )


@require_GET
def version_detail(request: HttpRequest, code: str, number: int) -> HttpResponse:
    matter = _matter(request, code)
    version = found(lambda: selectors.flow_version_of(matter, number, actor=actor_of(request)))
    return render(
        request,
        "catalog/version_detail.html",
        {
            "matter": matter,
            "version": version,
            "stages": selectors.stages_for(version),
            "materials": selectors.materials_for(version),
        },
    )
