from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from sanji.accounts import selectors as account_selectors
from sanji.web.capabilities import capabilities_for


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """工作台: what this person can do, by asking each app's policy."""
    actor = request.actor  # type: ignore[attr-defined]
    context = {
        "capabilities": capabilities_for(actor),
        "assignments": account_selectors.assignments_of(request.user),  # type: ignore[arg-type]
    }
    return render(request, "web/home.html", context)
