"""API operations of supervision (thin). Mounted at ``/api/v1/supervision``; scopes ``supervision:read`` /
``supervision:write``. A mark outside the caller's scope is 404, as on the pages."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router

from sanji.accounts.scopes import require_scope
from sanji.core.actors import Actor
from sanji.supervision import selectors, services
from sanji.supervision.schemas import MarkActionIn, MarkOut, MarkPageOut

router = Router(tags=["supervision"])

MAX_PAGE_SIZE = 200


def _actor(request: HttpRequest, scope: str) -> Actor:
    actor: Actor = request.auth  # type: ignore[attr-defined]
    require_scope(actor, scope)
    return actor


@router.get("/marks", response=MarkPageOut, summary="Marks in the caller's scope, newest first")
def mark_list(
    request: HttpRequest,
    state: str | None = None,
    rule: str | None = None,
    mine: bool = False,
    page: int = 1,
    page_size: int = 50,
) -> dict[str, Any]:
    actor = _actor(request, "supervision:read")
    page = max(1, page)
    page_size = max(1, min(page_size, MAX_PAGE_SIZE))
    rows = list(
        selectors.mark_list_for(actor, state=state, rule=rule, mine=mine)[
            (page - 1) * page_size : page * page_size + 1
        ]
    )
    return {
        "items": rows[:page_size],
        "page": page,
        "page_size": page_size,
        "has_next": len(rows) > page_size,
    }


@router.get("/marks/{mark_id}", response=MarkOut, summary="One mark")
def mark_get(request: HttpRequest, mark_id: int) -> Any:
    return selectors.mark_get_for(_actor(request, "supervision:read"), mark_id)


@router.post(
    "/marks/{mark_id}/actions/{action}",
    response=MarkOut,
    summary="confirm | explain | appeal | cancel | uphold | escalate",
)
def mark_act(request: HttpRequest, mark_id: int, action: str, payload: MarkActionIn) -> Any:
    actor = _actor(request, "supervision:write")
    services.mark_act(
        actor=actor,
        mark_id=mark_id,
        action=action,
        text=payload.text,
        days=payload.days,
        expected_version=payload.expected_version,
    )
    return selectors.mark_get_for(actor, mark_id)
