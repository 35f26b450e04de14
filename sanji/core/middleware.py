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

import csp.constants
import csp.middleware
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase
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


class CSPMiddleware(csp.middleware.CSPMiddleware):
    """django-csp's middleware, with the API's headers built once per process.

    An API response is JSON: it has no nonce (nothing in it is a script) and no view sets a policy
    of its own, so its Content-Security-Policy header is the configured policy, the same on every
    response; django-csp would rebuild it from the settings on each one. Pages, and any response
    that carries a policy of its own, go through django-csp unchanged.
    """

    _PER_RESPONSE = (
        "_csp_exempt",
        "_csp_exempt_ro",
        "_csp_config",
        "_csp_update",
        "_csp_replace",
        "_csp_config_ro",
        "_csp_update_ro",
        "_csp_replace_ro",
    )

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        super().__init__(get_response)
        self._api_headers: dict[str, str] | None = None

    def process_request(self, request: HttpRequest) -> None:
        if not is_api(request):
            super().process_request(request)

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if (
            not is_api(request)
            or settings.DEBUG  # django-csp leaves some error pages alone then
            or any(hasattr(response, name) for name in self._PER_RESPONSE)
            or any(
                (getattr(settings, name, None) or {}).get("EXCLUDE_URL_PREFIXES")
                for name in ("CONTENT_SECURITY_POLICY", "CONTENT_SECURITY_POLICY_REPORT_ONLY")
            )
        ):
            return super().process_response(request, response)
        headers = self._api_headers
        if headers is None:
            # What django-csp writes on a plain response to a request without a nonce.
            probe = super().process_response(request, HttpResponse())
            names = (csp.constants.HEADER, csp.constants.HEADER_REPORT_ONLY)
            headers = {name: probe[name] for name in names if name in probe}
            self._api_headers = headers
        for header, value in headers.items():
            if header not in response:
                response[header] = value
        return response
