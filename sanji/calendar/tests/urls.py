"""The project's URLs plus the calendar's pages and API, for the calendar tests.

The integrator mounts ``sanji.calendar.urls`` at ``calendar/`` and the router at ``/api/v1/calendar``;
until then (and unchanged after), these tests mount both themselves. The test API is built like
``sanji.api.api``: the same token authentication and the same SanjiError → JSON translation.
"""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, include, path
from ninja import NinjaAPI

from sanji import urls as project_urls
from sanji.accounts.auth import TokenAuth
from sanji.api import _sanji_error
from sanji.calendar.api import router
from sanji.core.errors import SanjiError

API_PREFIX = "/api/calendar-test/calendar"

api = NinjaAPI(title="calendar tests", auth=TokenAuth(), urls_namespace="calendar-test-api")
api.exception_handler(SanjiError)(_sanji_error)
api.add_router("/calendar", router)


def _not_calendar(pattern: URLPattern | URLResolver) -> bool:
    return getattr(pattern, "namespace", None) != "calendar"


urlpatterns = [
    path("api/calendar-test/", api.urls),
    path("calendar/", include("sanji.calendar.urls")),
    *filter(_not_calendar, project_urls.urlpatterns),
]
