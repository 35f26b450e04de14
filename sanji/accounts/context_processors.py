from __future__ import annotations

from django.http import HttpRequest

from sanji.accounts import policies
from sanji.core.actors import ANONYMOUS, Actor


def actor(request: HttpRequest) -> dict[str, object]:
    """``actor`` for every template, and whether to offer the user administration link."""
    current: Actor = getattr(request, "actor", ANONYMOUS)
    return {"actor": current, "can_manage_users": policies.can_manage_users(current)}
