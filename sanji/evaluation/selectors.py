"""Reads of evaluation, scoped by the actor (:mod:`sanji.evaluation.policies`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import models

from sanji.cases.models import Case
from sanji.cases.transitions import State
from sanji.core import clock
from sanji.core.actors import Actor
from sanji.core.authz import get_in_scope
from sanji.core.errors import NotFound
from sanji.evaluation import policies, scoring, services
from sanji.evaluation.models import CommunityScore, FollowUp, MonthlyScore, Rating, ScoreItem
from sanji.orgs.models import Region


def rateable_case_for(actor: Actor, case_id: int) -> tuple[Case, Rating | None]:
    """The applicant's own case and its rating, if any (for the portal's rating form); else NotFound."""
    if actor.user_id is None:
        raise NotFound()
    case = Case.objects.filter(pk=case_id, applicant_id=actor.user_id).select_related("matter").first()
    if case is None:
        raise NotFound()
    return case, Rating.objects.filter(case=case).first()


def applicant_cases_to_rate(actor: Actor) -> list[Case]:
    """The applicant's completed cases not rated yet, newest first."""
    if actor.user_id is None:
        return []
    rated = Rating.objects.values("case_id")
    return list(
        Case.objects.filter(applicant_id=actor.user_id, state=State.COMPLETED)
        .exclude(pk__in=rated)
        .select_related("matter")
        .order_by("-completed_at", "-id")[:50]
    )


def rating_list_for(
    actor: Actor,
    *,
    bad_only: bool = False,
    level: int | None = None,
    unit: str | None = None,
    month: dt.date | None = None,
) -> models.QuerySet[Rating]:
    """Ratings in the actor's scope, newest first; filters: one level, the unit's code or a part of its
    name, the calendar month (city time) of the rating."""
    queryset = policies.scope_ratings(actor, Rating.objects.all())
    if bad_only:
        queryset = queryset.filter(level__lte=2)
    if level is not None:
        queryset = queryset.filter(level=level)
    if unit:
        term = unit.strip()
        queryset = queryset.filter(models.Q(unit__code=term) | models.Q(unit__name__contains=term))
    if month is not None:
        start = dt.datetime.combine(month.replace(day=1), dt.time.min, tzinfo=clock.CITY_TZ)
        following = (month.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
        end = dt.datetime.combine(following, dt.time.min, tzinfo=clock.CITY_TZ)
        queryset = queryset.filter(rated_at__gte=start, rated_at__lt=end)
    return queryset.select_related("case", "unit").order_by("-rated_at", "-id")


def rating_get_for(actor: Actor, rating_id: int) -> Rating:
    return get_in_scope(
        policies.scope_ratings(actor, Rating.objects.select_related("case", "unit")), pk=rating_id
    )


def follow_up_list_for(actor: Actor, *, state: str | None = None) -> models.QuerySet[FollowUp]:
    queryset = policies.scope_follow_ups(actor, FollowUp.objects.all())
    if state:
        queryset = queryset.filter(state=state)
    return queryset.select_related("case", "unit", "rating").order_by("due", "id")


def follow_up_get_for(actor: Actor, follow_up_id: int) -> FollowUp:
    return get_in_scope(
        policies.scope_follow_ups(actor, FollowUp.objects.select_related("case", "unit", "rating")),
        pk=follow_up_id,
    )


def follow_up_actions_for(actor: Actor, follow_up: FollowUp) -> list[str]:
    from sanji.evaluation.transitions import FOLLOW_UP_TABLE, allowed

    return [
        a
        for a in allowed(FOLLOW_UP_TABLE, follow_up.state)
        if policies.can_act_on_follow_up(actor, follow_up, a)
    ]


def score_ranking(actor: Actor, *, month: dt.date, kind: str) -> models.QuerySet[MonthlyScore]:
    """The month's scores of one kind the actor may see, best first."""
    return policies.scope_scores(
        actor, MonthlyScore.objects.filter(month=month.replace(day=1), subject_kind=kind)
    ).order_by("rank", "subject_name")


def latest_score_month() -> dt.date:
    """The month the scores page opens on (:func:`_latest_month`)."""
    return _latest_month(MonthlyScore.objects.all())


def latest_community_month() -> dt.date:
    """The month the community evaluation page opens on (:func:`_latest_month`)."""
    return _latest_month(CommunityScore.objects.all())


def _latest_month(queryset: models.QuerySet[Any]) -> dt.date:
    """The latest month assessed (a month is assessed after it ends), else the month before the
    current one: the current month has no results yet."""
    latest: dt.date | None = queryset.filter(month__lte=clock.today()).aggregate(m=models.Max("month"))["m"]
    return latest or (clock.today().replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def score_get_for(actor: Actor, score_id: int) -> MonthlyScore:
    return get_in_scope(policies.scope_scores(actor, MonthlyScore.objects.all()), pk=score_id)


def score_items(score: MonthlyScore) -> list[ScoreItem]:
    """The evidence behind each point: the case, mark, rating or order of every item."""
    return list(
        ScoreItem.objects.filter(score=score)
        .select_related("case", "mark", "rating", "order")
        .order_by("kind", "id")
    )


def score_trend(
    actor: Actor, score: MonthlyScore, months: int = 6
) -> list[tuple[dt.date, MonthlyScore | None]]:
    """The subject's scores over the last ``months`` months (None where it had none)."""
    wanted = months_back(score.month, months)
    found = {
        s.month: s
        for s in policies.scope_scores(
            actor,
            MonthlyScore.objects.filter(
                subject_kind=score.subject_kind, subject_id=score.subject_id, month__in=wanted
            ),
        )
    }
    return [(m, found.get(m)) for m in wanted]


def community_ranking(
    actor: Actor, *, month: dt.date, district_path: str = ""
) -> models.QuerySet[CommunityScore]:
    """Community stations of the month in the actor's region (in one district, if given), by
    district and rank."""
    queryset = CommunityScore.objects.filter(month=month.replace(day=1)).select_related("station")
    if district_path:
        queryset = queryset.filter(district_path=district_path)
    if not policies.can_read_rankings(actor):
        return queryset.none()
    from sanji.core.authz import is_platform
    from sanji.core.roles import Role

    if not is_platform(actor):
        q = models.Q(pk__in=[])
        for grant in actor.grants_for(Role.SUPERVISOR, Role.ANALYST):
            q |= models.Q(region_path__startswith=grant.region_path)
        queryset = queryset.filter(q)
    return queryset.order_by("district_path", "rank_in_district")


def community_districts(actor: Actor, *, month: dt.date) -> list[tuple[str, str]]:
    """(path, name) of the districts (旗县区) with community evaluations of the month in the
    actor's region, in code order."""
    rows = community_ranking(actor, month=month).order_by().values_list("district_path", flat=True)
    paths = set(rows.distinct())
    names = dict(Region.objects.filter(path__in=paths).values_list("path", "name"))
    return [(path, names.get(path, path)) for path in sorted(paths)]


def weights_list() -> list[tuple[str, str, object]]:
    current = services.weights()
    return [(key, scoring.WEIGHT_LABELS.get(key, key), current[key]) for key in scoring.DEFAULT_WEIGHTS]


def months_back(month: dt.date, count: int) -> list[dt.date]:
    """``count`` first-days of months ending with ``month``'s, oldest first."""
    first = month.replace(day=1)
    result = [first]
    for _ in range(count - 1):
        first = (first - dt.timedelta(days=1)).replace(day=1)
        result.append(first)
    return list(reversed(result))
