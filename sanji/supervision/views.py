"""Supervision pages: the live board, marks and their lifecycle, supervision orders, rule configuration."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sanji.core.actors import Actor, actor_of
from sanji.core.errors import SanjiError
from sanji.core.pages import attempt, found
from sanji.supervision import policies, selectors, services
from sanji.supervision.rules import THRESHOLD_MEANING, RuleCode, Severity
from sanji.supervision.transitions import MarkState, OrderState


def _nav(actor: Actor) -> dict[str, Any]:
    return {
        "is_supervisor": policies.is_supervisor(actor),
        "can_configure": policies.can_configure_rules(actor),
    }


@login_required
@require_GET
def board(request: HttpRequest) -> HttpResponse:
    """The live board (实时监察): refreshed by htmx every 30 seconds; drill down by place."""
    actor = actor_of(request)
    data = found(lambda: selectors.board_for(actor, region_path=request.GET.get("path") or None))
    context = {"board": data, "last_sweep": selectors.last_sweep(), **_nav(actor)}
    if request.headers.get("HX-Request"):
        return render(request, "supervision/_board.html", context)
    return render(request, "supervision/board.html", context)


@login_required
@require_GET
def board_unit(request: HttpRequest, unit_id: int) -> HttpResponse:
    actor = actor_of(request)
    try:
        page = int(request.GET.get("page", "1"))
    except ValueError:
        page = 1
    data = found(
        lambda: selectors.board_unit_cases(
            actor, unit_id=unit_id, region_path=request.GET.get("path"), page=page
        )
    )
    return render(request, "supervision/board_unit.html", {"data": data, **_nav(actor)})


def _mark_page(request: HttpRequest, *, mine: bool) -> HttpResponse:
    actor = actor_of(request)
    params = request.GET
    marks = selectors.mark_list_for(
        actor,
        state=params.get("state") or None,
        rule=params.get("rule") or None,
        severity=params.get("severity") or None,
        unit=params.get("unit") or None,
        mine=mine,
    )
    page = Paginator(marks, 50).get_page(params.get("page"))
    query = params.copy()
    query.pop("page", None)
    return render(
        request,
        "supervision/marks.html",
        {
            "page": page,
            "params": params,
            "query": query.urlencode(),
            "mine": mine,
            "states": MarkState.choices,
            "rules": RuleCode.choices,
            "severities": Severity.choices,
            **_nav(actor),
        },
    )


@login_required
@require_GET
def mark_list(request: HttpRequest) -> HttpResponse:
    return _mark_page(request, mine=False)


@login_required
@require_GET
def my_marks(request: HttpRequest) -> HttpResponse:
    """The responsible unit's own marks (本单位监察事项): explain or appeal."""
    return _mark_page(request, mine=True)


@login_required
@require_GET
def mark_detail(request: HttpRequest, mark_id: int) -> HttpResponse:
    actor = actor_of(request)
    mark = found(lambda: selectors.mark_get_for(actor, mark_id))
    return render(
        request,
        "supervision/mark_detail.html",
        {
            "mark": mark,
            "order": selectors.mark_order(mark),
            "actions": selectors.mark_actions_for(actor, mark),
            **_nav(actor),
        },
    )


@login_required
@require_POST
def mark_act(request: HttpRequest, mark_id: int, action: str) -> HttpResponse:
    actor = actor_of(request)
    days_raw = request.POST.get("days") or ""
    try:
        version = int(request.POST.get("version", ""))
        days = int(days_raw) if days_raw else None
    except ValueError:
        messages.error(request, _("请输入有效的数字。"))
        return redirect("supervision:mark_detail", mark_id=mark_id)
    attempt(
        request,
        lambda: services.mark_act(
            actor=actor,
            mark_id=mark_id,
            action=action,
            text=request.POST.get("text", ""),
            days=days,
            expected_version=version,
        ),
        success=_("已处理。"),
    )
    return redirect("supervision:mark_detail", mark_id=mark_id)


@login_required
@require_GET
def sweep_list(request: HttpRequest) -> HttpResponse:
    """The sweep history (巡检记录): when each sweep ran, how long, marks created per rule."""
    actor = actor_of(request)
    runs = found(lambda: selectors.sweep_list_for(actor))
    page = Paginator(runs, 50).get_page(request.GET.get("page"))
    labels = dict(RuleCode.choices)
    rows = [
        {
            "run": run,
            "seconds": (run.finished_at - run.started_at).total_seconds(),
            "per_rule": [(labels.get(code, code), n) for code, n in sorted(run.per_rule.items()) if n],
        }
        for run in page
    ]
    return render(request, "supervision/sweeps.html", {"page": page, "rows": rows, **_nav(actor)})


@login_required
@require_GET
def order_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    orders = selectors.order_list_for(actor, state=request.GET.get("state") or None)
    page = Paginator(orders, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "supervision/orders.html",
        {"page": page, "states": OrderState.choices, "params": request.GET, **_nav(actor)},
    )


@login_required
@require_GET
def order_detail(request: HttpRequest, order_id: int) -> HttpResponse:
    actor = actor_of(request)
    order = found(lambda: selectors.order_get_for(actor, order_id))
    return render(
        request,
        "supervision/order_detail.html",
        {"order": order, "actions": selectors.order_actions_for(actor, order), **_nav(actor)},
    )


@login_required
@require_POST
def order_act(request: HttpRequest, order_id: int, action: str) -> HttpResponse:
    actor = actor_of(request)
    attempt(
        request,
        lambda: services.order_act(
            actor=actor, order_id=order_id, action=action, text=request.POST.get("text", "")
        ),
        success=_("已处理。"),
    )
    return redirect("supervision:order_detail", order_id=order_id)


@login_required
@require_http_methods(["GET", "POST"])
def rules(request: HttpRequest) -> HttpResponse:
    """Rule configuration: every supervisor reads it; the supervisor in charge edits it."""
    actor = actor_of(request)
    if not (policies.is_supervisor(actor) or policies.can_configure_rules(actor)):
        raise Http404
    if request.method == "POST":
        code = request.POST.get("code", "")
        try:
            services.rule_config_update(
                actor=actor,
                code=code,
                enabled=request.POST.get("enabled") == "1",
                threshold=int(request.POST.get("threshold") or 0),
                auto_issue=request.POST.get("auto_issue") == "1",
                points=request.POST.get("points", "0"),
            )
        except ValueError:
            messages.error(request, _("阈值须为整数。"))
        except SanjiError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("规则已更新。"))
        return redirect("supervision:rules")
    settings = selectors.rule_settings_list()
    configured = selectors.rule_config_updated()
    rows = [
        {
            "setting": s,
            "label": RuleCode(s.code).label,
            "severity": Severity(s.severity).label,
            "threshold_meaning": THRESHOLD_MEANING.get(s.code, ""),
            "row": configured.get(s.code),
        }
        for s in settings
    ]
    return render(request, "supervision/rules.html", {"rows": rows, **_nav(actor)})
