"""What every app's pages share: a selector's NotFound becomes the page's 404.

Outside the actor's reach a single object is "not found" (STYLE.md, convention 2); the pages answer
that with Django's 404, the same page for "missing" and "not yours".
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse

from sanji.core.actors import Actor, actor_of
from sanji.core.errors import Forbidden, NotFound, SanjiError

R = TypeVar("R")
View = Callable[..., HttpResponse]


def found(fn: Callable[[], R]) -> R:
    """``fn()``, with :class:`~sanji.core.errors.NotFound` raised as :class:`~django.http.Http404`."""
    try:
        return fn()
    except NotFound:
        raise Http404 from None


def attempt(request: HttpRequest, fn: Callable[[], object], *, success: str) -> bool:
    """Run a page's service call: NotFound is the page's 404, any other refusal a message on the next page.

    Returns whether the call succeeded (its success message is then queued).
    """
    try:
        fn()
    except NotFound:
        raise Http404 from None
    except SanjiError as exc:
        messages.error(request, exc.message)
        return False
    messages.success(request, success)
    return True


def gate(allowed: Callable[[Actor], bool]) -> Callable[[View], View]:
    """A whole page behind a policy: signed in, else the login page; ``allowed(actor)``, else 403.

    Inside, :class:`~sanji.core.errors.NotFound` is the page's 404 and
    :class:`~sanji.core.errors.Forbidden` its 403, GET and POST alike.
    """

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not allowed(actor_of(request)):
                raise PermissionDenied
            try:
                return view(request, *args, **kwargs)
            except NotFound:
                raise Http404 from None
            except Forbidden as exc:
                raise PermissionDenied(exc.message) from None

        return login_required(wrapper)

    return decorate
