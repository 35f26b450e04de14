"""Benchmark-only views, mounted by :mod:`sanji.urls` only when ``SANJI_BENCH=1``.

:func:`anchor` is the "bare Django view that inserts one row" of the API benchmark
(``bench/bench_cases_api.py``): the same server, middleware and database settings as the case
API, with none of the domain work, so the ratio between the two says how much of the bare rate
the domain keeps. The table ``bench_anchor`` is created by the benchmark itself, never by a
migration: it does not exist in a real deployment.
"""

from __future__ import annotations

from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from sanji.core import clock


@csrf_exempt
def anchor(request: HttpRequest) -> HttpResponse:
    """POST: insert one row into ``bench_anchor`` in its own transaction; answer 201."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("INSERT INTO bench_anchor (at) VALUES (%s)", [clock.now().isoformat()])
    return JsonResponse({"ok": True}, status=201)
