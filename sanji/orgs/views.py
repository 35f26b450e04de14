"""Organisation pages: the tree browser, unit details, region import, terminals.

Thin: parse, one selector or service call, render. Whole-page gates answer 403; a unit or terminal
outside the actor's reach answers 404 (:class:`NotFound`), as everywhere.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sanji.core.actors import Actor, actor_of
from sanji.core.errors import NotFound, ValidationFailed
from sanji.core.pages import gate
from sanji.orgs import policies, selectors, services
from sanji.orgs.forms import (
    UNIT_CHOICES_ID,
    RegionImportForm,
    TerminalRegisterForm,
    TerminalSearchForm,
    UnitRenameForm,
    WindowCreateForm,
)
from sanji.orgs.models import RegionLevel, Unit, UnitKind

#: Unit kinds that hold windows.
WINDOW_HOLDERS = frozenset(
    {
        UnitKind.SERVICE_CENTRE,
        UnitKind.PROFESSIONAL_HALL,
        UnitKind.TOWNSHIP_CENTRE,
        UnitKind.COMMUNITY_STATION,
    }
)


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    return response


# --- the tree ---------------------------------------------------------------------------------


@require_GET
@gate(policies.can_view_organisation)
def tree(request: HttpRequest) -> HttpResponse:
    roots = selectors.region_tree_for(actor_of(request))
    return render(
        request,
        "orgs/tree.html",
        {"regions": roots, "can_import": policies.can_import_regions(actor_of(request))},
    )


@require_GET
@gate(policies.can_view_organisation)
def region_children(request: HttpRequest, code: str) -> HttpResponse:
    """HTMX fragment: the child nodes of one region."""
    return render(request, "orgs/_region_nodes.html", {"regions": selectors.region_children(code)})


@require_GET
@gate(policies.can_view_organisation)
def region_detail(request: HttpRequest, code: str) -> HttpResponse:
    actor = actor_of(request)
    region = selectors.region_get(code)
    units = list(selectors.units_in_region(actor, region).prefetch_related("children"))
    return render(
        request,
        "orgs/region_detail.html",
        {
            "region": region,
            "ancestors": selectors.region_ancestors(region),
            "regions": selectors.region_children(code),
            "departments": selectors.department_list(region.code)
            if region.level in (RegionLevel.CITY, RegionLevel.DISTRICT)
            else [],
            "units": units,
        },
    )


# --- units ------------------------------------------------------------------------------------


def _unit_page(request: HttpRequest, unit: Unit, **extra: Any) -> HttpResponse:
    actor = actor_of(request)
    can_edit = policies.can_edit_unit(actor, unit)
    context: dict[str, Any] = {
        "unit": unit,
        "ancestors": [*selectors.region_ancestors(unit.region), unit.region],
        "children": selectors.unit_children(unit),
        "can_edit": can_edit and unit.active,
        "can_add_window": can_edit and unit.active and unit.kind in WINDOW_HOLDERS,
        "can_register_terminal": policies.can_register_terminal_at(actor, unit) and unit.active,
        "terminals": selectors.terminal_list_for(actor, unit=unit)
        if policies.can_manage_terminals(actor)
        else None,
        "rename_form": UnitRenameForm(initial={"name": unit.name}),
        "window_form": WindowCreateForm(departments=selectors.departments_serving(unit.region)),
    }
    context.update(extra)
    return render(request, "orgs/unit_detail.html", context)


@require_GET
@gate(policies.can_view_organisation)
def unit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _unit_page(request, selectors.unit_get_for(actor_of(request), pk))


@require_POST
@gate(policies.can_edit_units)
def unit_rename(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    unit = selectors.unit_get_for(actor, pk)
    form = UnitRenameForm(request.POST)
    if not form.is_valid():
        return _unit_page(request, unit, rename_form=form)
    try:
        services.unit_update(actor=actor, unit=unit, name=form.cleaned_data["name"])
    except ValidationFailed as exc:
        form.add_error("name", exc.message)
        return _unit_page(request, unit, rename_form=form)
    messages.success(request, _("已更名。"))
    return redirect("orgs:unit", pk=unit.pk)


@require_POST
@gate(policies.can_edit_units)
def unit_add_window(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    unit = selectors.unit_get_for(actor, pk)
    form = WindowCreateForm(request.POST, departments=selectors.departments_serving(unit.region))
    if not form.is_valid():
        return _unit_page(request, unit, window_form=form)
    try:
        window = services.unit_create(
            actor=actor,
            kind=UnitKind.WINDOW,
            name=form.cleaned_data["name"],
            parent=unit,
            department=form.cleaned_data["department"],
        )
    except ValidationFailed as exc:
        form.add_error(None, exc.message)
        return _unit_page(request, unit, window_form=form)
    messages.success(request, _("已添加窗口 %(name)s。") % {"name": window.name})
    return redirect("orgs:unit", pk=unit.pk)


@require_POST
@gate(policies.can_edit_units)
def unit_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    unit = selectors.unit_get_for(actor, pk)
    services.unit_deactivate(actor=actor, unit=unit)
    messages.success(request, _("已停用该单位及其下属窗口。"))
    return redirect("orgs:unit", pk=unit.pk)


# --- region import ----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@gate(policies.can_import_regions)
def region_import(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    form = RegionImportForm(request.POST or None, request.FILES or None)
    errors: list[dict[str, Any]] = []
    if request.method == "POST" and form.is_valid():
        try:
            result = services.region_import_bytes(actor=actor, data=form.cleaned_data["file"].read())
        except ValidationFailed as exc:
            errors = list(exc.details or [])
        else:
            messages.success(
                request,
                _("导入完成：新增 %(created)d，更新 %(updated)d，未变 %(unchanged)d。")
                % {"created": result.created, "updated": result.updated, "unchanged": result.unchanged},
            )
            return redirect("orgs:tree")
    return render(request, "orgs/region_import.html", {"form": form, "errors": errors})


# --- terminals --------------------------------------------------------------------------------


@require_GET
@gate(policies.can_manage_terminals)
def terminal_list(request: HttpRequest) -> HttpResponse:
    form = TerminalSearchForm(request.GET)
    q = form.cleaned_data["q"] if form.is_valid() else ""
    terminals = selectors.terminal_list_for(actor_of(request), q=q or None)[:500]
    return render(request, "orgs/terminal_list.html", {"form": form, "terminals": terminals})


def _terminal_units(actor: Actor, q: str = "") -> list[selectors.UnitLabel]:
    units = policies.scope_terminal_units(actor, Unit.objects.filter(active=True))
    return selectors.unit_choices(units, q.strip()[:100], limit=50)


@require_GET
@gate(policies.can_manage_terminals)
def terminal_unit_choices(request: HttpRequest) -> HttpResponse:
    """The terminal form's unit suggestions for what was typed (``q``, or the field's own ``unit``
    as htmx sends it): ``<option>`` rows for its ``<datalist>``."""
    q = request.GET.get("q") or request.GET.get("unit") or ""
    return render(request, "orgs/_unit_options.html", {"unit_choices": _terminal_units(actor_of(request), q)})


def _register_page(request: HttpRequest, form: TerminalRegisterForm) -> HttpResponse:
    choices = _terminal_units(actor_of(request))
    context = {"form": form, "unit_choices_id": UNIT_CHOICES_ID, "unit_choices": choices}
    return render(request, "orgs/terminal_register.html", context)


#: Session key: the registration forms already sent (form token → terminal id), the latest few.
SESSION_REGISTERED = "orgs.terminals_registered"
_REGISTERED_KEPT = 20


def _registered_before(request: HttpRequest, token: str) -> int | None:
    return dict(request.session.get(SESSION_REGISTERED, {})).get(token) if token else None


def _remember_registered(request: HttpRequest, token: str, terminal_id: int) -> None:
    if not token:
        return
    sent = dict(request.session.get(SESSION_REGISTERED, {}))
    sent[token] = terminal_id
    request.session[SESSION_REGISTERED] = dict(list(sent.items())[-_REGISTERED_KEPT:])


@require_http_methods(["GET", "POST"])
@gate(policies.can_manage_terminals)
def terminal_register(request: HttpRequest) -> HttpResponse:
    """Register a terminal and show its enrolment code once (in the answer to the POST, which is
    not cached, so the secret is kept nowhere). A form sent again — the result page reloaded, a
    double click — registers nothing more: it leads to the terminal list with the terminal the form
    registered (a new code for it is 重置密钥, "reset key")."""
    actor = actor_of(request)
    if request.method != "POST":
        initial = {"unit": request.GET.get("unit", ""), "form_token": secrets.token_urlsafe(16)}
        return _register_page(request, TerminalRegisterForm(initial=initial))
    form = TerminalRegisterForm(request.POST)
    token = str(request.POST.get("form_token", ""))[:64]
    earlier = _registered_before(request, token)
    if earlier is not None:
        done = selectors.terminal_list_for(actor).filter(pk=earlier).first()
        if done is not None:
            messages.info(
                request,
                _("此表单已提交过，终端 %(code)s 已登记，未再登记。如需新的登记码，请对该终端“重置密钥”。")
                % {"code": done.code},
            )
            return redirect(f"{reverse('orgs:terminal_list')}?q={done.code}")
    if form.is_valid():
        data = form.cleaned_data
        try:
            # The code, or the whole label as the chooser shows it (名称 · 区划 · 编码).
            unit = selectors.unit_get_by_code_for(actor, data["unit"].rsplit("·", 1)[-1].strip())
            terminal, enrolment = services.terminal_register(
                actor=actor,
                unit=unit,
                name=data["name"],
                ip_address=data["ip_address"] or None,
                code=data["code"].strip() or None,
            )
        except NotFound:
            form.add_error(
                "unit",
                _("找不到该单位，或不在您的管理范围内。请输入单位名称、所在区划或编码搜索，并从列表中选择。"),
            )
        except ValidationFailed as exc:
            form.add_error(None, exc.message)
        else:
            _remember_registered(request, token, terminal.pk)
            return _no_store(
                render(
                    request, "orgs/terminal_enrolment.html", {"terminal": terminal, "enrolment": enrolment}
                )
            )
    return _register_page(request, form)


@require_POST
@gate(policies.can_manage_terminals)
def terminal_rekey(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    terminal = selectors.terminal_get_for(actor, pk)
    terminal, enrolment = services.terminal_rekey(actor=actor, terminal=terminal)
    return _no_store(
        render(
            request,
            "orgs/terminal_enrolment.html",
            {"terminal": terminal, "enrolment": enrolment, "rekeyed": True},
        )
    )


@require_POST
@gate(policies.can_manage_terminals)
def terminal_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    terminal = selectors.terminal_get_for(actor, pk)
    services.terminal_deactivate(actor=actor, terminal=terminal)
    messages.success(request, _("终端 %(code)s 已停用。") % {"code": terminal.code})
    return redirect("orgs:terminal_list")
