"""API operations of the working-day calendar (thin: parse, one selector call, schema).

Read-only. Staff tokens with the scope ``calendar:read``. A computation that needs a year not yet
configured answers 409 ``calendar_not_configured`` (the API maps every SanjiError to JSON).
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router

from sanji.accounts.scopes import require_scope
from sanji.calendar import policies, selectors
from sanji.calendar.models import CalendarYear
from sanji.calendar.schemas import (
    AddOut,
    AddQuery,
    CountOut,
    CountQuery,
    ErrorOut,
    YearDetailOut,
    YearOut,
)
from sanji.core.actors import Actor
from sanji.core.errors import Forbidden

router = Router(tags=["calendar"])

READ_SCOPE = "calendar:read"


def _reader(request: HttpRequest) -> Actor:
    actor: Actor = request.auth  # type: ignore[attr-defined]
    require_scope(actor, READ_SCOPE)
    if not policies.can_view(actor):
        raise Forbidden(_("此操作需要带有 %(scope)s 权限范围的工作人员令牌。") % {"scope": READ_SCOPE})
    return actor


@router.get("/years", response=list[YearOut], summary="Configured years, oldest first")
def list_years(request: HttpRequest) -> models.QuerySet[CalendarYear]:
    _reader(request)
    return selectors.calendar_year_list()


@router.get(
    "/years/{year}",
    response={200: YearDetailOut, 404: ErrorOut},
    summary="One year's statutory holidays and make-up working days",
)
def get_year(request: HttpRequest, year: int) -> CalendarYear:
    _reader(request)
    return selectors.calendar_year_get(year)


@router.get(
    "/workdays/add",
    response={200: AddOut, 409: ErrorOut},
    summary="The last day of a period of N working days after START (START not counted)",
)
def workdays_add(request: HttpRequest, query: Query[AddQuery]) -> dict[str, Any]:
    _reader(request)
    due = selectors.workdays_add(start=query.start, n=query.n)
    return {"start": query.start, "n": query.n, "due": due}


@router.get(
    "/workdays/count",
    response={200: CountOut, 409: ErrorOut},
    summary="Working days after START up to and including END",
)
def workdays_count(request: HttpRequest, query: Query[CountQuery]) -> dict[str, Any]:
    _reader(request)
    count = selectors.workdays_count(start=query.start, end=query.end)
    return {"start": query.start, "end": query.end, "count": count}
