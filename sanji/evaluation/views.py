"""Evaluation pages: the applicant's rating form, the window rating device, the follow-up worklist,
monthly scores with ranking, trend and evidence, the community ranking and the weights."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sanji.core import clock
from sanji.core.actors import Actor, actor_of
from sanji.core.errors import SanjiError
from sanji.core.pages import attempt, found
from sanji.evaluation import policies, selectors, services
from sanji.evaluation.models import FollowUpFinding, FollowUpState, RatingLevel, SubjectKind
from sanji.supervision import policies as supervision_policies


def _nav(actor: Actor) -> dict[str, Any]:
    return {
        "can_rank": policies.can_read_rankings(actor),
        "can_configure": policies.can_configure(actor),
        "is_supervisor": supervision_policies.is_supervisor(actor),
    }


def _month(raw: str | None) -> dt.date:
    try:
        return dt.date.fromisoformat(f"{raw}-01") if raw else clock.today().replace(day=1)
    except ValueError:
        return clock.today().replace(day=1)


def _level(raw: str | None) -> int:
    try:
        return int(raw or "")
    except ValueError:
        return 0


@login_required
@require_GET
def my_ratings(request: HttpRequest) -> HttpResponse:
    """The applicant's completed cases waiting for a rating (portal)."""
    return render(
        request, "evaluation/my_ratings.html", {"cases": selectors.applicant_cases_to_rate(actor_of(request))}
    )


@login_required
@require_http_methods(["GET", "POST"])
def rate(request: HttpRequest, case_id: int) -> HttpResponse:
    """The portal's rating form (好差评) for the applicant's own completed case."""
    actor = actor_of(request)
    case, rating = found(lambda: selectors.rateable_case_for(actor, case_id))
    if request.method == "POST":
        try:
            services.rating_submit(
                actor=actor,
                case_id=case.pk,
                level=_level(request.POST.get("level")),
                comment=request.POST.get("comment", ""),
            )
        except SanjiError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("感谢您的评价。"))
        return redirect("evaluation:rate", case_id=case.pk)
    return render(
        request, "evaluation/rate.html", {"case": case, "rating": rating, "levels": RatingLevel.choices}
    )


@login_required
@require_http_methods(["GET", "POST"])
def device(request: HttpRequest) -> HttpResponse:
    """The window rating device (窗口评价器): the applicant rates with the case number and query code."""
    actor = actor_of(request)
    if request.method == "POST":
        try:
            services.rating_submit_at_window(
                actor=actor,
                case_number=request.POST.get("number", ""),
                query_code=request.POST.get("code", ""),
                level=_level(request.POST.get("level")),
                comment=request.POST.get("comment", ""),
            )
        except SanjiError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("评价已提交，感谢您的评价。"))
        return redirect("evaluation:device")
    return render(request, "evaluation/device.html", {"levels": RatingLevel.choices})


@login_required
@require_GET
def rating_list(request: HttpRequest) -> HttpResponse:
    """Satisfaction ratings (好差评记录) of the unit or the supervisor's region: level, unit, month."""
    actor = actor_of(request)
    if not policies.can_list_ratings(actor):
        raise Http404
    params = request.GET
    level = _level(params.get("level"))
    month = _month(params.get("month")) if params.get("month") else None
    ratings = selectors.rating_list_for(
        actor,
        level=level if level in RatingLevel.values else None,
        unit=params.get("unit") or None,
        month=month,
    )
    page = Paginator(ratings, 50).get_page(params.get("page"))
    query = params.copy()
    query.pop("page", None)
    return render(
        request,
        "evaluation/ratings.html",
        {
            "page": page,
            "params": params,
            "query": query.urlencode(),
            "levels": RatingLevel.choices,
            "month": month,
            **_nav(actor),
        },
    )


@login_required
@require_GET
def follow_up_list(request: HttpRequest) -> HttpResponse:
    """The bad-review follow-up worklist (差评整改): the unit's own, or a supervisor's region."""
    actor = actor_of(request)
    items = selectors.follow_up_list_for(actor, state=request.GET.get("state") or None)
    page = Paginator(items, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "evaluation/follow_ups.html",
        {
            "page": page,
            "states": FollowUpState.choices,
            "params": request.GET,
            "now": clock.now(),
            **_nav(actor),
        },
    )


@login_required
@require_GET
def follow_up_detail(request: HttpRequest, follow_up_id: int) -> HttpResponse:
    actor = actor_of(request)
    follow_up = found(lambda: selectors.follow_up_get_for(actor, follow_up_id))
    return render(
        request,
        "evaluation/follow_up_detail.html",
        {
            "follow_up": follow_up,
            "actions": selectors.follow_up_actions_for(actor, follow_up),
            "findings": FollowUpFinding.choices,
            **_nav(actor),
        },
    )


@login_required
@require_POST
def follow_up_act(request: HttpRequest, follow_up_id: int, action: str) -> HttpResponse:
    actor = actor_of(request)
    post = request.POST
    attempt(
        request,
        lambda: services.follow_up_act(
            actor=actor,
            follow_up_id=follow_up_id,
            action=action,
            finding=post.get("finding", ""),
            action_taken=post.get("action_taken", ""),
            reply=post.get("reply", ""),
            text=post.get("text", ""),
        ),
        success=_("已处理。"),
    )
    return redirect("evaluation:follow_up_detail", follow_up_id=follow_up_id)


@login_required
@require_GET
def score_list(request: HttpRequest) -> HttpResponse:
    """Monthly scores with ranking, by kind (unit, window, department, staff)."""
    actor = actor_of(request)
    raw = request.GET.get("month")
    month = _month(raw) if raw else selectors.latest_score_month()
    kind = request.GET.get("kind") or SubjectKind.UNIT
    if kind not in SubjectKind.values:
        kind = SubjectKind.UNIT
    rows = selectors.score_ranking(actor, month=month, kind=kind)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "evaluation/scores.html",
        {"page": page, "month": month, "kind": kind, "kinds": SubjectKind.choices, **_nav(actor)},
    )


@login_required
@require_GET
def score_detail(request: HttpRequest, score_id: int) -> HttpResponse:
    """One score: its items, each linking to the mark, case, rating or order behind it; and the trend."""
    actor = actor_of(request)
    score = found(lambda: selectors.score_get_for(actor, score_id))
    return render(
        request,
        "evaluation/score_detail.html",
        {
            "score": score,
            "items": selectors.score_items(score),
            "trend": selectors.score_trend(actor, score),
            **_nav(actor),
        },
    )


@login_required
@require_GET
def community(request: HttpRequest) -> HttpResponse:
    """社区综合考评: the community stations ranked within each district."""
    actor = actor_of(request)
    if not policies.can_read_rankings(actor):
        raise Http404
    raw = request.GET.get("month")
    month = _month(raw) if raw else selectors.latest_community_month()
    districts = selectors.community_districts(actor, month=month)
    district = request.GET.get("district") or ""
    if district not in dict(districts):
        district = ""
    rows = selectors.community_ranking(actor, month=month, district_path=district)
    return render(
        request,
        "evaluation/community.html",
        {
            "page": Paginator(rows, 100).get_page(request.GET.get("page")),
            "month": month,
            "district": district,
            "districts": districts,
            "district_names": dict(districts),
            **_nav(actor),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def weights(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    if not policies.can_read_rankings(actor):
        raise Http404
    if request.method == "POST":
        try:
            services.weight_set(
                actor=actor, key=request.POST.get("key", ""), value=request.POST.get("value", "")
            )
        except SanjiError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("权重已更新。"))
        return redirect("evaluation:weights")
    return render(request, "evaluation/weights.html", {"rows": selectors.weights_list(), **_nav(actor)})


@login_required
@require_POST
def compute(request: HttpRequest) -> HttpResponse:
    """Recompute a month's scores and community evaluation (the supervisor in charge)."""
    actor = actor_of(request)
    month = _month(request.POST.get("month"))
    try:
        scores = services.scores_compute(actor=actor, month=month)
        stations = services.community_compute(actor=actor, month=month)
    except SanjiError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已计算 %(s)d 项得分、%(c)d 个社区。") % {"s": scores, "c": stations})
    return redirect(f"{reverse('evaluation:scores')}?month={month:%Y-%m}")
