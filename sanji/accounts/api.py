"""API operations of the accounts app (thin: parse, one service or selector call, schema).

``GET /me`` needs no scope (any valid token may ask who it is); token management needs
``accounts:write``. Tokens for department systems are issued by the security administrator (on the
page, or here with ``user_id``); a staff member may issue a short-lived token for their own scripts.
"""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Router, Schema, Status

from sanji.accounts import selectors, services
from sanji.accounts.models import User
from sanji.accounts.scopes import require_scope
from sanji.core.actors import Actor
from sanji.orgs.models import Terminal

router = Router(tags=["accounts"])


class GrantOut(Schema):
    role: str
    unit_id: int
    region_path: str
    department_id: int | None


class MeOut(Schema):
    id: int | None
    username: str
    full_name: str
    channel: str
    roles: list[GrantOut]
    unit_id: int | None
    terminal: str | None
    scopes: list[str] | None


class TokenIn(Schema):
    name: str
    scopes: list[str]
    days: int
    user_id: int | None = None  # someone else's (security administrator only); default: myself
    terminal_code: str | None = None


class TokenOut(Schema):
    id: int
    user_id: int
    name: str
    prefix: str
    scopes: list[str]
    created_at: dt.datetime
    expires_at: dt.datetime
    revoked_at: dt.datetime | None
    terminal: str | None


class TokenCreatedOut(TokenOut):
    token: str  # shown once


class ErrorOut(Schema):
    error: str
    message: str


def _actor(request: HttpRequest) -> Actor:
    actor = request.auth  # type: ignore[attr-defined]
    assert isinstance(actor, Actor)
    return actor


def _me(actor: Actor) -> User:
    assert actor.user_id is not None
    return User.objects.get(pk=actor.user_id)


def _token_out(token: object, raw: str | None = None) -> dict[str, object]:
    from sanji.accounts.models import ApiToken

    assert isinstance(token, ApiToken)
    out: dict[str, object] = {
        "id": token.pk,
        "user_id": token.user_id,
        "name": token.name,
        "prefix": token.prefix,
        "scopes": list(token.scopes),
        "created_at": token.created_at,
        "expires_at": token.expires_at,
        "revoked_at": token.revoked_at,
        "terminal": token.terminal.code if token.terminal_id and token.terminal else None,
    }
    if raw is not None:
        out["token"] = raw
    return out


@router.get("/me", response=MeOut, summary="Who am I: user, roles, terminal, token scopes")
def me(request: HttpRequest) -> dict[str, object]:
    actor = _actor(request)
    user = _me(actor)
    return {
        "id": actor.user_id,
        "username": actor.username,
        "full_name": user.full_name,
        "channel": actor.channel,
        "roles": [
            {
                "role": g.role,
                "unit_id": g.unit_id,
                "region_path": g.region_path,
                "department_id": g.department_id,
            }
            for g in actor.grants
        ],
        "unit_id": actor.unit_id,
        "terminal": actor.terminal_code or None,
        "scopes": sorted(actor.scopes) if actor.scopes is not None else None,
    }


@router.get("/tokens", response=list[TokenOut], summary="My API tokens")
def token_list(request: HttpRequest) -> list[dict[str, object]]:
    actor = _actor(request)
    require_scope(actor, "accounts:read")
    user = _me(actor)
    return [_token_out(t) for t in selectors.token_list_for(actor, user)]


@router.post(
    "/tokens",
    response={201: TokenCreatedOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="Issue a token (raw value returned once)",
)
def token_create(request: HttpRequest, body: TokenIn) -> Status[dict[str, object]]:
    actor = _actor(request)
    require_scope(actor, "accounts:write")
    if body.user_id is None or body.user_id == actor.user_id:
        user = _me(actor)
    else:
        user = selectors.user_get_for(actor, body.user_id)
    terminal: Terminal | None = None
    if body.terminal_code:
        terminal = selectors.terminal_for_token(actor, body.terminal_code)
    token, raw = services.api_token_create(
        actor=actor, user=user, name=body.name, scopes=body.scopes, days=body.days, terminal=terminal
    )
    return Status(201, _token_out(token, raw))


@router.delete(
    "/tokens/{token_id}", response={204: None, 403: ErrorOut, 404: ErrorOut}, summary="Revoke a token"
)
def token_revoke(request: HttpRequest, token_id: int) -> Status[None]:
    actor = _actor(request)
    require_scope(actor, "accounts:write")
    token = selectors.token_get_for(actor, token_id)
    services.api_token_revoke(actor=actor, token=token)
    return Status(204, None)
