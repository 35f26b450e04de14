"""Attach ``request.actor`` to every request (anonymous when nobody is logged in)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from sanji.accounts import selectors
from sanji.core.actors import ANONYMOUS, Actor
from sanji.orgs.models import Terminal


def client_ip(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR", ""))


class ActorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        actor: Actor = ANONYMOUS
        user = request.user
        if user.is_authenticated:
            terminal_id = request.session.get("terminal_id")
            terminal = Terminal.objects.filter(pk=terminal_id, active=True).first() if terminal_id else None
            actor = selectors.actor_for(user, terminal=terminal, ip=client_ip(request))  # type: ignore[arg-type]
        request.actor = actor  # type: ignore[attr-defined]
        return self.get_response(request)
