"""API operations of the audit app (thin: parse, one service or selector call, schema).

Security auditors only, with a token carrying the ``audit:read`` scope.
"""

from typing import Any

from django.db import models
from django.http import HttpRequest
from ninja import Query, Router
from ninja.pagination import PageNumberPagination, paginate

from sanji.audit import selectors, services
from sanji.audit.models import Entry
from sanji.audit.schemas import EntryOut, EntryQuery, VerifyOut
from sanji.core.actors import Actor

router = Router(tags=["audit"])


def _actor(request: HttpRequest) -> Actor:
    actor: Actor = request.auth  # type: ignore[attr-defined]
    return actor


@router.get("/entries", response=list[EntryOut], summary="Search the audit trail (newest first)")
@paginate(PageNumberPagination, page_size=50)
def entry_list(request: HttpRequest, filters: Query[EntryQuery]) -> models.QuerySet[Entry]:
    return selectors.entry_list_for(_actor(request), **filters.dict())


@router.get("/entries/{seq}", response=EntryOut, summary="One audit entry")
def entry_get(request: HttpRequest, seq: int) -> Entry:
    return selectors.entry_get_for(_actor(request), seq)


@router.get("/verify", response=VerifyOut, summary="Verify the hash chain (recorded as audit.verified)")
def verify(request: HttpRequest) -> dict[str, Any]:
    return services.audit_verify(actor=_actor(request)).as_dict()
