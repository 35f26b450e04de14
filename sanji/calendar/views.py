"""Working-day calendar pages: the configured years with a calculator, one year's months, and the
system administrator's ways to add a year (from the notice, a CSV file, or the chinesecalendar package).

Thin: parse, one selector or service call, render. Every staff member may look (``can_view``); the
edit pages answer 403 as a whole to anyone else, GET and POST alike.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sanji.calendar import grid, policies, selectors, services
from sanji.calendar.forms import CalculatorForm, ImportForm, YearForm
from sanji.calendar.workdays import CalendarNotConfigured
from sanji.core import clock
from sanji.core.actors import actor_of
from sanji.core.errors import Conflict, NotFound, ValidationFailed
from sanji.core.pages import gate


def _not_configured(exc: CalendarNotConfigured) -> str:
    return _("%(year)d 年的工作日历尚未配置，无法计算。") % {"year": exc.year}


# --- reading ----------------------------------------------------------------------------------


@require_GET
@gate(policies.can_view)
def year_list(request: HttpRequest) -> HttpResponse:
    """The configured years, and the calculator (GET start + n → the last day of the period)."""
    form = CalculatorForm(request.GET if "start" in request.GET else None)
    due = None
    problem = ""
    if form.is_bound and form.is_valid():
        try:
            due = selectors.workdays_add(start=form.cleaned_data["start"], n=form.cleaned_data["n"])
        except CalendarNotConfigured as exc:
            problem = _not_configured(exc)
    years = list(selectors.calendar_year_list())
    next_year = clock.today().year + 1
    return render(
        request,
        "calendar/year_list.html",
        {
            "years": years,
            "form": form,
            "due": due,
            "problem": problem,
            "next_year": next_year,
            "next_year_configured": any(row.year == next_year for row in years),
            "can_edit": policies.can_edit(actor_of(request)),
            "can_seed": policies.can_seed(actor_of(request)),
        },
    )


@require_GET
@gate(policies.can_view)
def year_detail(request: HttpRequest, year: int) -> HttpResponse:
    row = selectors.calendar_year_get(year)
    days = list(row.days.all())
    return render(
        request,
        "calendar/year_detail.html",
        {
            "row": row,
            "days": days,
            "months": grid.year_grid(year, {d.date: (d.kind, d.name) for d in days}),
            "can_edit": policies.can_edit(actor_of(request)),
        },
    )


# --- editing (system administrator) -----------------------------------------------------------


@require_http_methods(["GET", "POST"])
@gate(policies.can_edit)
def year_edit(request: HttpRequest) -> HttpResponse:
    """Add a year, or replace one (``?year=2026`` fills the form with what it holds now)."""
    errors: list[dict[str, Any]] = []
    if request.method != "POST":
        initial: dict[str, object] = {}
        wanted = request.GET.get("year", "")
        if wanted.isdigit():
            try:
                initial = YearForm.initial_for(selectors.calendar_year_get(int(wanted)))
            except NotFound:
                initial = {"year": int(wanted)}
        form = YearForm(initial=initial)
    else:
        form = YearForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                row = services.calendar_year_set_from_text(
                    actor=actor_of(request), year=data["year"], text=data["lines"], notice=data["notice"]
                )
            except ValidationFailed as exc:
                errors = list(exc.details or [])
            except Conflict as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("已保存 %(year)d 年的工作日历。") % {"year": row.year})
                return redirect("calendar:year_detail", year=row.year)
    return render(request, "calendar/year_edit.html", {"form": form, "errors": errors})


@require_http_methods(["GET", "POST"])
@gate(policies.can_edit)
def calendar_import(request: HttpRequest) -> HttpResponse:
    form = ImportForm(request.POST or None, request.FILES or None)
    errors: list[dict[str, Any]] = []
    if request.method == "POST" and form.is_valid():
        try:
            rows = services.calendar_import_bytes(
                actor=actor_of(request),
                data=form.cleaned_data["file"].read(),
                notice=form.cleaned_data["notice"],
            )
        except ValidationFailed as exc:
            errors = list(exc.details or [])
        except Conflict as exc:
            form.add_error(None, exc.message)
        else:
            years = "、".join(str(r.year) for r in rows)
            messages.success(request, _("导入完成，已替换：%(years)s 年。") % {"years": years})
            return redirect("calendar:year_list")
    return render(request, "calendar/import.html", {"form": form, "errors": errors})


@require_POST
@gate(policies.can_seed)
def seed(request: HttpRequest) -> HttpResponse:
    """Copy every year the installed chinesecalendar package covers; administrators' years are kept."""
    try:
        result = services.calendar_seed_from_chinesecalendar(actor=actor_of(request))
    except (ValidationFailed, Conflict) as exc:
        messages.error(request, exc.message)
        return redirect("calendar:year_list")

    def joined(years: tuple[int, ...]) -> str:
        return "、".join(str(y) for y in years) or "—"

    messages.success(
        request,
        _(
            "已从 chinesecalendar 导入。新增：%(created)s；更新：%(updated)s；未变：%(unchanged)s；"
            "保留管理员录入：%(kept)s。"
        )
        % {
            "created": joined(result.created),
            "updated": joined(result.updated),
            "unchanged": joined(result.unchanged),
            "kept": joined(result.kept),
        },
    )
    return redirect("calendar:year_list")
