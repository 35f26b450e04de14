"""Pages of the audit trail: search, entry detail, CSV/Excel export, chain verification.

Only the security auditor uses these pages (see :mod:`sanji.audit.policies`); anyone else gets
403 for the page as a whole, and an entry outside the auditor's reach is 404.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sanji.audit import exports, names, policies, selectors, services
from sanji.audit.forms import EntrySearchForm
from sanji.audit.selectors import EntryFilter
from sanji.audit.services import ExportFormat
from sanji.core import clock
from sanji.core.actors import Actor
from sanji.core.errors import SanjiError
from sanji.core.pages import found

PAGE_SIZE = 50

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _auditor(request: HttpRequest) -> Actor:
    actor: Actor = request.actor  # type: ignore[attr-defined]
    if not policies.can_read(actor):
        raise PermissionDenied
    return actor


def _filters(form: EntrySearchForm) -> EntryFilter:
    return form.to_filter() if form.is_bound and form.is_valid() else EntryFilter()


@login_required
@require_GET
def search(request: HttpRequest) -> HttpResponse:
    actor = _auditor(request)
    form = EntrySearchForm(request.GET or None)
    filters = _filters(form)
    entries = selectors.entry_filtered_for(actor, filters)
    refused = form.is_bound and not form.is_valid()
    if refused:  # a filter that cannot be applied lists nothing rather than everything
        entries = entries.none()
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "refused": refused,
        "page_obj": page,
        "rows": names.named(page.object_list),
        "action_choices": names.action_choices(),
        "unit_filter": names.unit(filters.unit_id),
        "checkpoint": selectors.checkpoint_latest_for(actor),
        "xlsx_max_rows": services.XLSX_MAX_ROWS,
    }
    template = "audit/search.html#results" if request.headers.get("HX-Request") else "audit/search.html"
    return render(request, template, context)


@login_required
@require_GET
def entry_detail(request: HttpRequest, seq: int) -> HttpResponse:
    actor = _auditor(request)
    entry = found(lambda: selectors.entry_get_for(actor, seq))
    data_json = json.dumps(entry.data, ensure_ascii=False, indent=2, sort_keys=True)
    (row,) = names.named([entry])
    return render(request, "audit/entry_detail.html", {"entry": entry, "row": row, "data_json": data_json})


@login_required
@require_POST
def export(request: HttpRequest, format: ExportFormat) -> HttpResponseBase:
    actor: Actor = request.actor  # type: ignore[attr-defined]
    if not policies.can_export(actor):
        raise PermissionDenied
    form = EntrySearchForm(request.POST)
    back = (
        reverse("audit:search") + "?" + urlencode({k: v for k, v in request.POST.items() if k in form.fields})
    )
    if not form.is_valid():
        messages.error(request, str(form.errors.as_text()))
        return redirect(back)
    try:
        result = services.audit_export(actor=actor, filters=form.to_filter(), format=format)
    except SanjiError as exc:
        messages.error(request, exc.message)
        return redirect(back)
    stamp = clock.now().astimezone(clock.CITY_TZ).strftime("%Y%m%d-%H%M%S")
    if result.format == "xlsx":
        response = HttpResponse(exports.xlsx_bytes(result.rows), content_type=XLSX_CONTENT_TYPE)
        response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.xlsx"'
        return response
    streamed = StreamingHttpResponse(exports.csv_lines(result.rows), content_type="text/csv; charset=utf-8")
    streamed["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
    return streamed


@login_required
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    actor = _auditor(request)
    result = services.audit_verify(actor=actor) if request.method == "POST" else None
    return render(
        request,
        "audit/verify.html",
        {"result": result, "checkpoint": selectors.checkpoint_latest_for(actor)},
    )
