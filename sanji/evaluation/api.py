"""API operations of evaluation (thin). Mounted at ``/api/v1/evaluation``; scopes ``evaluation:read`` /
``evaluation:write``. ``POST /cases/{id}/rating`` is for the case's applicant (their own token)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Status

from sanji.accounts.scopes import require_scope
from sanji.core.actors import Actor
from sanji.core.errors import ValidationFailed
from sanji.evaluation import selectors, services
from sanji.evaluation.schemas import RatingIn, RatingOut, ScoreDetailOut, ScoreOut

router = Router(tags=["evaluation"])


def _actor(request: HttpRequest, scope: str) -> Actor:
    actor: Actor = request.auth  # type: ignore[attr-defined]
    require_scope(actor, scope)
    return actor


@router.post(
    "/cases/{case_id}/rating", response={201: RatingOut}, summary="Rate a completed case (applicant)"
)
def rate(request: HttpRequest, case_id: int, payload: RatingIn) -> Status[Any]:
    actor = _actor(request, "evaluation:write")
    rating = services.rating_submit(
        actor=actor, case_id=case_id, level=payload.level, comment=payload.comment, channel="api"
    )
    return Status(201, rating)


@router.get("/scores", response=list[ScoreOut], summary="A month's scores of one kind, ranked")
def scores(request: HttpRequest, month: str, kind: str = "unit") -> Any:
    actor = _actor(request, "evaluation:read")
    try:
        first = dt.date.fromisoformat(f"{month}-01") if len(month) == 7 else dt.date.fromisoformat(month)
    except ValueError:
        raise ValidationFailed(
            _("月份格式须为 YYYY-MM。"), details=[{"field": "month", "reason": "format"}]
        ) from None
    return list(selectors.score_ranking(actor, month=first, kind=kind)[:500])


@router.get("/scores/{score_id}", response=ScoreDetailOut, summary="One score with the evidence of each item")
def score(request: HttpRequest, score_id: int) -> Any:
    actor = _actor(request, "evaluation:read")
    row = selectors.score_get_for(actor, score_id)
    row.evidence = selectors.score_items(row)  # type: ignore[attr-defined]
    return row
