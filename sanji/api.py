"""The ``/api/v1`` surface: one Ninja API, one router per app, one error translation."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI

from sanji.accounts.api import router as accounts_router
from sanji.accounts.auth import TokenAuth
from sanji.audit.api import router as audit_router
from sanji.calendar.api import router as calendar_router
from sanji.cases.api import router as cases_router
from sanji.catalog.api import router as catalog_router
from sanji.core.errors import SanjiError
from sanji.evaluation.api import router as evaluation_router
from sanji.orgs.api import router as orgs_router
from sanji.population.api import router as population_router
from sanji.population.api_places import router as population_places_router
from sanji.sharing.api import router as sharing_router
from sanji.supervision.api import router as supervision_router

api = NinjaAPI(
    title="Sanji API",
    version="1",
    description="The data-exchange and operations API of the Sanji three-level public service platform.",
    auth=TokenAuth(),
    urls_namespace="api-v1",
)


@api.exception_handler(SanjiError)
def _sanji_error(request: HttpRequest, exc: SanjiError) -> HttpResponse:
    body: dict[str, object] = {"error": exc.code, "message": exc.message}
    if exc.details is not None:
        body["details"] = exc.details
    return api.create_response(request, body, status=exc.status)


api.add_router("/accounts", accounts_router)
api.add_router("/orgs", orgs_router)
api.add_router("/audit", audit_router)
api.add_router("/calendar", calendar_router)
api.add_router("/catalog", catalog_router)
api.add_router("/cases", cases_router)
api.add_router("/supervision", supervision_router)
api.add_router("/evaluation", evaluation_router)
api.add_router("/population", population_router)
api.add_router("/population/places", population_places_router)
api.add_router("/sharing", sharing_router)
