"""Template context shared by every page of the shell."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme


def language_next(request: HttpRequest) -> dict[str, str]:
    """``language_next``: where the language switch returns to.

    A page rendered for a GET returns to itself. A page rendered in answer to a POST (a form sent
    back with its errors, a refused action) has a URL that only takes POSTs: the switch returns to
    the page the form was sent from (the Referer, when it is one of ours), else to the home page,
    instead of leading the reader to "405 Method Not Allowed".
    """
    if request.method in ("GET", "HEAD"):
        return {"language_next": request.get_full_path()}
    referer = request.META.get("HTTP_REFERER", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        parts = urlsplit(referer)
        return {"language_next": parts.path + (f"?{parts.query}" if parts.query else "")}
    return {"language_next": "/"}
