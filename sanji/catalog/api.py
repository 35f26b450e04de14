"""API operations of the catalogue (thin: parse, one selector call, schema).

Mounted at ``/api/v1/catalog``. The list and a matter's guide are public like the portal pages;
flow versions are for department systems and staff (token).
"""

from django.http import HttpRequest
from ninja import Query, Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate

from sanji.catalog import selectors
from sanji.catalog.models import FlowVersion, Matter
from sanji.catalog.schemas import FlowVersionOut, MatterDetailOut, MatterOut
from sanji.core.actors import ANONYMOUS, Actor

router = Router(tags=["catalog"])


def _actor(request: HttpRequest) -> Actor:
    actor: Actor = getattr(request, "actor", ANONYMOUS)
    return actor


class MatterFilters(Schema):
    q: str | None = None
    department_kind: str | None = None
    level: str | None = None
    matter_type: str | None = None
    kind: str | None = None


@router.get("/matters", response=list[MatterOut], auth=None, summary="List the public matter catalogue")
@paginate(LimitOffsetPagination)
def matter_list(request: HttpRequest, filters: Query[MatterFilters]) -> list[Matter]:
    return selectors.matter_list(actor=_actor(request), **filters.dict())  # type: ignore[return-value]


@router.get("/matters/{code}", response=MatterDetailOut, auth=None, summary="A matter's service guide")
def matter_get(request: HttpRequest, code: str) -> Matter:
    return selectors.matter_get(code, actor=_actor(request))


@router.get(
    "/flow-versions/{version_id}", response=FlowVersionOut, summary="One flow version, steps and materials"
)
def flow_version_get(request: HttpRequest, version_id: int) -> FlowVersion:
    return selectors.flow_version_get(version_id, actor=_actor(request))
