"""What every app's pages share: a selector's NotFound becomes the page's 404.

Outside the actor's reach a single object is "not found" (STYLE.md, convention 2); the pages answer
that with Django's 404, the same page for "missing" and "not yours".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.contrib import messages
from django.http import Http404, HttpRequest

from sanji.core.errors import NotFound, SanjiError

R = TypeVar("R")


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
