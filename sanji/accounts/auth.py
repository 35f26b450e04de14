"""API authentication: ``Authorization: Bearer <token>``; the token's actor becomes ``request.auth``."""

from __future__ import annotations

import hashlib
import hmac

from django.http import HttpRequest
from ninja.security import HttpBearer

from sanji.accounts import selectors
from sanji.accounts.middleware import client_ip
from sanji.accounts.models import ApiToken
from sanji.core import clock
from sanji.core.actors import Actor


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Actor | None:
        prefix = token.split(".", 1)[0]
        row = ApiToken.objects.select_related("user", "terminal").filter(prefix=prefix).first()
        if row is None or not hmac.compare_digest(row.token_hash, token_hash(token)):
            return None
        now = clock.now()
        if row.revoked_at is not None or row.expires_at <= now or not row.user.is_active:
            return None
        actor = selectors.actor_for(
            row.user, terminal=row.terminal, ip=client_ip(request), channel="api", scopes=row.scopes
        )
        request.actor = actor  # type: ignore[attr-defined]
        return actor
