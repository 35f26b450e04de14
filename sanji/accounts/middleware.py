"""Attach ``request.actor`` to every request and hold a signed-in person to the sign-in rules.

For a signed-in session, in order:

1. **Idle timeout** — the session ends after ``SESSION_COOKIE_AGE`` (30 minutes) without a request.
   The cookie's age already does this in the browser; the last activity is also kept in the session
   and checked here, so a replayed or kept cookie does not outlive it.
2. **Terminal** — a session started on a terminal ends when that terminal is deactivated, re-keyed
   or used from another address than the one it is registered for.
3. **Steps still owed** — until they are done, only their own page (plus logout, language switch and
   static files) is served; everything else redirects to it:
   the TOTP step when a second factor is enrolled and not yet passed in this session (``mfa_ok``);
   the password change when it is the first login, after a reset, or the password is older than
   90 days; TOTP enrolment when one of the person's roles requires a second factor.

The API (``/api/``) authenticates with bearer tokens only (:mod:`sanji.accounts.auth`) and is not gated.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from sanji.accounts import policies, selectors, services, terminals
from sanji.accounts.models import User
from sanji.accounts.passwords import password_change_required
from sanji.core import clock
from sanji.core.actors import ANONYMOUS, Actor
from sanji.core.middleware import is_api
from sanji.orgs import services as orgs_services

SESSION_TERMINAL = "terminal_id"
SESSION_TERMINAL_BINDING = "terminal_binding"
SESSION_LAST_ACTIVITY = "last_activity"
SESSION_MFA_OK = "mfa_ok"


def client_ip(request: HttpRequest) -> str:
    """The peer address. Behind a reverse proxy, the proxy must set REMOTE_ADDR (not X-Forwarded-For)."""
    return str(request.META.get("REMOTE_ADDR", ""))


def _always_allowed(path: str) -> bool:
    return path.startswith(settings.STATIC_URL) or path in {
        reverse("accounts:logout"),
        reverse("set_language"),
    }


def pending_step(request: HttpRequest, user: User, actor: Actor) -> str | None:
    """The URL name of the sign-in step this session still owes, if any."""
    if user.totp_confirmed_at is not None and not request.session.get(SESSION_MFA_OK):
        return "accounts:totp_verify"
    if password_change_required(user):
        return "accounts:password_change"
    if user.totp_confirmed_at is None and policies.needs_second_factor(actor.roles):
        return "accounts:totp_enrol"
    return None


def _redirect(request: HttpRequest, url: str) -> HttpResponse:
    response = HttpResponseRedirect(url)
    if request.headers.get("HX-Request"):
        response["HX-Redirect"] = url  # htmx would otherwise swap the target page into a fragment
    return response


class ActorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.actor = ANONYMOUS  # type: ignore[attr-defined]
        if is_api(request):  # token-authenticated (sanji.accounts.auth); no session, no user
            return self.get_response(request)
        user = request.user
        if isinstance(user, User) and user.is_authenticated:
            response = self._signed_in(request, user)
            if response is not None:
                return response
        return self.get_response(request)

    def _signed_in(self, request: HttpRequest, user: User) -> HttpResponse | None:
        session = request.session
        ip = client_ip(request)
        now = clock.now().timestamp()
        terminal = None
        terminal_id = session.get(SESSION_TERMINAL)
        if terminal_id is not None:
            terminal = terminals.session_binding_valid(
                int(terminal_id), str(session.get(SESSION_TERMINAL_BINDING, ""))
            )
        actor = selectors.actor_for(user, terminal=terminal, ip=ip)

        last = session.get(SESSION_LAST_ACTIVITY)
        reason = ""
        if last is not None and now - float(last) > settings.SESSION_COOKIE_AGE:
            reason = "idle"
        elif terminal_id is not None and (terminal is None or not terminals.ip_allowed(terminal, ip)):
            reason = "terminal_invalid"
        if reason:
            services.session_end(actor=actor, reason=reason)
            logout(request)
            return None

        session[SESSION_LAST_ACTIVITY] = now
        if terminal is not None:
            orgs_services.terminal_touch(terminal=terminal, ip=ip)  # 最近在线, at most once a minute
        request.actor = actor  # type: ignore[attr-defined]
        if _always_allowed(request.path_info):
            return None
        step = pending_step(request, user, actor)
        if step is not None and request.path_info != reverse(step):
            return _redirect(request, reverse(step))
        return None
