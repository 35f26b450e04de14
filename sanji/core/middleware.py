"""Middleware that the pages need and the API does not.

The pages sign people in with a session cookie, so they need sessions, CSRF protection, the
signed-in user and flash messages. The API (``/api/``) authenticates every request with a bearer
token (:mod:`sanji.accounts.auth`) and answers JSON: none of those four applies to it, and each
costs on every request (the API carries the platform's heaviest traffic: department systems and
their case transitions). Each class here is one of Django's, run for pages only; an API request
goes straight on to the next middleware. Security headers, language and CSP still apply to all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from django.http import HttpRequest, HttpResponse
from django.utils.module_loading import import_string

#: The path prefix of the token-authenticated API (``sanji.urls``).
API_PREFIX = "/api/"


def is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


class _PagesOnly:
    """Runs the middleware named by ``inner`` for pages; API requests skip it.

    Django collects a middleware's ``process_view``, ``process_exception`` and
    ``process_template_response`` hooks separately from its ``__call__`` (CSRF protection is a
    ``process_view``), so the ones the inner middleware has are passed on too, for pages only.
    """

    inner: ClassVar[str]

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.pages = import_string(self.inner)(get_response)
        if hasattr(self.pages, "process_view"):
            self.process_view = self._process_view
        if hasattr(self.pages, "process_exception"):
            self.process_exception = self._process_exception
        if hasattr(self.pages, "process_template_response"):
            self.process_template_response = self._process_template_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if is_api(request):
            return self.get_response(request)
        response: HttpResponse = self.pages(request)
        return response

    def _process_view(self, request: HttpRequest, view: Any, args: Any, kwargs: Any) -> HttpResponse | None:
        return None if is_api(request) else self.pages.process_view(request, view, args, kwargs)

    def _process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        return None if is_api(request) else self.pages.process_exception(request, exception)

    def _process_template_response(self, request: HttpRequest, response: Any) -> Any:
        return response if is_api(request) else self.pages.process_template_response(request, response)


class SessionMiddleware(_PagesOnly):
    inner = "django.contrib.sessions.middleware.SessionMiddleware"


class CsrfViewMiddleware(_PagesOnly):
    inner = "django.middleware.csrf.CsrfViewMiddleware"


class AuthenticationMiddleware(_PagesOnly):
    inner = "django.contrib.auth.middleware.AuthenticationMiddleware"


class MessageMiddleware(_PagesOnly):
    inner = "django.contrib.messages.middleware.MessageMiddleware"
