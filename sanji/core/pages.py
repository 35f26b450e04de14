"""What every app's pages share: a selector's NotFound becomes the page's 404.

Outside the actor's reach a single object is "not found" (STYLE.md, convention 2); the pages answer
that with Django's 404, the same page for "missing" and "not yours".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.http import Http404

from sanji.core.errors import NotFound

R = TypeVar("R")


def found(fn: Callable[[], R]) -> R:
    """``fn()``, with :class:`~sanji.core.errors.NotFound` raised as :class:`~django.http.Http404`."""
    try:
        return fn()
    except NotFound:
        raise Http404 from None
