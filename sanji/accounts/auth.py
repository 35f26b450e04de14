"""API authentication: ``Authorization: Bearer <prefix>.<secret>``; its actor becomes ``request.auth``.

A token is refused (401) when unknown, wrong, expired, revoked, its owner is deactivated, or it is
bound to a terminal that is deactivated or used from another address than the terminal's registered
one. The actor carries the token's scopes (``Actor.allows_scope``; names in :mod:`sanji.accounts.scopes`).
"""

from __future__ import annotations

import hmac

from django.http import HttpRequest
from ninja.security import HttpBearer

from sanji.accounts import selectors, services, terminals
from sanji.accounts.middleware import client_ip
from sanji.core import clock
from sanji.core.actors import Actor
from sanji.orgs import services as orgs_services


def token_hash(raw: str) -> str:
    return services.token_hash(raw)


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Actor | None:
        prefix, sep, _ = token.partition(".")
        if not sep or not prefix:
            return None
        found = selectors.api_token_lookup(prefix)
        if found is None or not hmac.compare_digest(found.token.token_hash, services.token_hash(token)):
            return None
        row = found.token
        assert row.expires_at is not None
        if row.revoked_at is not None or row.expires_at <= clock.now() or not found.user_active:
            return None
        ip = client_ip(request)
        terminal = found.terminal
        if terminal is not None and (not terminal.active or not terminals.ip_allowed(terminal, ip)):
            return None
        services.api_token_touch(token=row)  # at most once a minute
        if terminal is not None:
            orgs_services.terminal_touch(terminal=terminal, ip=ip)  # likewise
        actor = selectors.actor_of_grants(
            found.user_id,
            found.username,
            found.grants,
            terminal=terminal,
            ip=ip,
            channel="api",
            scopes=row.scopes,
        )
        request.actor = actor  # type: ignore[attr-defined]
        return actor
