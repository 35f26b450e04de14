import os

from django.urls import include, path

from sanji.api import api
from sanji.ops import benchviews

urlpatterns = [
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("sanji.accounts.urls")),
    path("orgs/", include("sanji.orgs.urls")),
    path("audit/", include("sanji.audit.urls")),
    path("calendar/", include("sanji.calendar.urls")),
    path("catalog/", include("sanji.catalog.urls")),
    path("cases/", include("sanji.cases.urls")),
    path("portal/", include("sanji.cases.portal_urls")),
    path("supervision/", include("sanji.supervision.urls")),
    path("evaluation/", include("sanji.evaluation.urls")),
    path("population/", include("sanji.population.urls")),
    path("sharing/", include("sanji.sharing.urls")),
    path("", include("sanji.web.urls")),
]

# Benchmark-only endpoint (bench/bench_cases_api.py): a bare one-row INSERT, the anchor of the API
# benchmark, under /api/ so that it runs the same middleware as the API. Mounted only when the
# benchmark starts the server with SANJI_BENCH=1.
if os.environ.get("SANJI_BENCH") == "1":
    urlpatterns.append(path("api/bench/anchor", benchviews.anchor))  # type: ignore[arg-type]
