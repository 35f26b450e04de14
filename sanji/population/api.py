"""API operations of the population app (thin: parse, one service or selector call, schema).

Mounted with ``api.add_router("/population", sanji.population.api.router)`` behind token
authentication. Changes (人口变动): submit, list, detail, verify, reject, withdraw — scopes
``population:read`` / ``population:write``; the change feed (``GET /population/feed``) for
department systems and data officers — scope ``population:read`` (the token scopes of
:mod:`sanji.accounts.scopes`).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Status

from sanji.core.actors import Actor
from sanji.core.errors import Forbidden
from sanji.population import selectors, services
from sanji.population.schemas import (
    ChangeDetailOut,
    ChangeOut,
    ChangePageOut,
    ChangeSubmitIn,
    DecisionIn,
    FeedOut,
    RejectIn,
    WithdrawIn,
)

router = Router(tags=["population"])

READ_SCOPE = "population:read"
WRITE_SCOPE = "population:write"


def _actor(request: HttpRequest, scope: str) -> Actor:
    actor: Actor = request.auth  # type: ignore[attr-defined]
    if not actor.allows_scope(scope):
        raise Forbidden(_("此令牌缺少权限范围“%(scope)s”。") % {"scope": scope})
    return actor


# --- changes (人口变动) ---------------------------------------------------------------------------


@router.post("/changes", response={201: ChangeOut}, summary="Submit a change for police verification")
def submit_change(request: HttpRequest, payload: ChangeSubmitIn) -> Status[Any]:
    actor = _actor(request, WRITE_SCOPE)
    change = services.change_submit(actor=actor, **payload.dict())
    return Status(201, selectors.change_get_for(actor, change.pk))


@router.get("/changes", response=ChangePageOut, summary="The verification queue, or my submissions")
def list_changes(
    request: HttpRequest, state: str = "", page: int = 1, mine: bool | None = None
) -> selectors.ChangePage:
    actor = _actor(request, READ_SCOPE)
    return selectors.change_list_for(actor, state=state or None, page=page, mine=mine)


@router.get("/changes/{change_id}", response=ChangeDetailOut, summary="One change, before and after")
def get_change(request: HttpRequest, change_id: int) -> selectors.ChangeDetail:
    return selectors.change_detail_for(_actor(request, READ_SCOPE), change_id)


@router.post("/changes/{change_id}/verify", response=ChangeOut, summary="Verify and apply a change")
def verify_change(request: HttpRequest, change_id: int, payload: DecisionIn) -> Any:
    actor = _actor(request, WRITE_SCOPE)
    services.change_verify(actor=actor, change_id=change_id, expected_state=payload.expected_state)
    return selectors.change_get_for(actor, change_id)


@router.post("/changes/{change_id}/reject", response=ChangeOut, summary="Reject a change with the reason")
def reject_change(request: HttpRequest, change_id: int, payload: RejectIn) -> Any:
    actor = _actor(request, WRITE_SCOPE)
    services.change_reject(
        actor=actor, change_id=change_id, reason=payload.reason, expected_state=payload.expected_state
    )
    return selectors.change_get_for(actor, change_id)


@router.post("/changes/{change_id}/withdraw", response=ChangeOut, summary="Withdraw one's own change")
def withdraw_change(request: HttpRequest, change_id: int, payload: WithdrawIn) -> Any:
    actor = _actor(request, WRITE_SCOPE)
    services.change_withdraw(
        actor=actor, change_id=change_id, reason=payload.reason, expected_state=payload.expected_state
    )
    return selectors.change_get_for(actor, change_id)


@router.get("/feed", response=FeedOut, summary="Verified changes after a cursor, in order")
def read_feed(request: HttpRequest, after: int = 0, limit: int = 100) -> selectors.FeedPage:
    return selectors.feed_read(_actor(request, READ_SCOPE), after=after, limit=limit)
