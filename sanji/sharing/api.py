"""API operations of sharing (thin). Mounted at ``/api/v1/sharing``.

The look-up is a POST so that ID numbers never travel in a URL (access logs, proxies, browser
history keep URLs). Scopes: ``sharing:read`` (look-ups, grants list), ``sharing:write`` (grants).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from sanji.accounts.scopes import require_scope
from sanji.core.actors import Actor
from sanji.sharing import selectors, services
from sanji.sharing.models import ShareableField
from sanji.sharing.schemas import (
    ChangeIdNumbersOut,
    FieldOut,
    GrantIn,
    GrantOut,
    GrantRevokeIn,
    LookupIn,
    SharedPersonOut,
)

router = Router(tags=["sharing"])


def _actor(request: HttpRequest, scope: str) -> Actor:
    actor: Actor = request.auth  # type: ignore[attr-defined]
    require_scope(actor, scope)
    return actor


@router.post(
    "/people/lookup",
    response=SharedPersonOut,
    summary="Shared read of one person by ID number, for a stated purpose (recorded for the resident)",
)
def person_lookup(request: HttpRequest, payload: LookupIn) -> dict[str, Any]:
    shared = selectors.person_get_for(
        _actor(request, "sharing:read"),
        payload.id_number,
        payload.purpose,
        grant_id=payload.grant,
        fields=payload.fields,
    )
    return {
        "id_number": shared.id_number,
        "id_masked": shared.id_masked,
        "name": shared.name,
        "fields": shared.fields,
        "labels": shared.labels,
        "grant": shared.grant_id,
        "access_record": shared.access_id,
        "read_at": shared.read_at,
        "corrected_from": shared.corrected_from,
    }


@router.post(
    "/changes/{change_id}/id-numbers",
    response=ChangeIdNumbersOut,
    summary="The clear ID numbers before and after a correction, for its police verifier (recorded)",
)
def change_id_numbers(request: HttpRequest, change_id: int) -> dict[str, Any]:
    """For the police verifier deciding a correction of the ID number, while it waits: both numbers in
    full with the positions and parts that change. Each number shown leaves an access record the
    resident sees and the audit entry ``population.id_unmasked`` (scope ``population:read``: part of
    the verification)."""
    numbers = services.change_id_unmask(actor=_actor(request, "population:read"), change_id=change_id)
    return {
        "change_id": numbers.change.pk,
        "before": numbers.before,
        "after": numbers.after,
        "changed_positions": list(numbers.changed_positions),
        "changed_parts": list(numbers.changed_parts),
    }


@router.get("/fields", response=list[FieldOut], summary="The fields a grant may name")
def field_list(request: HttpRequest) -> list[dict[str, str]]:
    _actor(request, "sharing:read")
    return [{"name": value, "label": str(label)} for value, label in ShareableField.choices]


@router.get(
    "/grants", response=list[GrantOut], summary="Grants: all in reach (administrator), else your department's"
)
def grant_list(request: HttpRequest, active: bool = False) -> Any:
    return list(selectors.grant_list_for(_actor(request, "sharing:read"), active_only=active)[:500])


@router.get("/grants/{grant_id}", response=GrantOut, summary="One grant")
def grant_get(request: HttpRequest, grant_id: int) -> Any:
    return selectors.grant_get_for(_actor(request, "sharing:read"), grant_id)


@router.post("/grants", response={201: GrantOut}, summary="Issue a grant (system administrator)")
def grant_create(request: HttpRequest, payload: GrantIn) -> Any:
    actor = _actor(request, "sharing:write")
    grant = services.grant_create(
        actor=actor,
        department_id=payload.department,
        fields=payload.fields,
        purpose=payload.purpose,
        legal_basis=payload.legal_basis,
        valid_from=payload.valid_from,
        valid_until=payload.valid_until,
    )
    return Status(201, selectors.grant_get_for(actor, grant.pk))


@router.post("/grants/{grant_id}/revoke", response=GrantOut, summary="Revoke a grant at once")
def grant_revoke(request: HttpRequest, grant_id: int, payload: GrantRevokeIn) -> Any:
    actor = _actor(request, "sharing:write")
    services.grant_revoke(actor=actor, grant_id=grant_id, reason=payload.reason)
    return selectors.grant_get_for(actor, grant_id)
