"""The sharing API through Ninja's test client (the caller's actor as ``request.auth``) and refusals."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest
from ninja.testing import TestClient

from sanji.core import clock
from sanji.core.actors import Actor
from sanji.core.errors import SanjiError
from sanji.core.roles import Role
from sanji.sharing.api import router
from sanji.sharing.models import AccessRecord, SharingGrant
from sanji.sharing.tests.conftest import (
    CITY_CA,
    ID_SH,
    ID_UNKNOWN,
    SAIHAN_HEALTH,
    actor_at,
    admin,
    department_of,
    grant,
    reader,
)

pytestmark = pytest.mark.usefixtures("residents")
client = TestClient(router)


class _Refused:
    def __init__(self, exc: SanjiError) -> None:
        self.status_code = exc.status
        self.message = exc.message
        self.details = exc.details


def call(method: str, path: str, actor: Actor, **kw: Any) -> Any:
    try:
        return getattr(client, method)(path, auth=actor, **kw)
    except SanjiError as exc:
        return _Refused(exc)


def system(scopes: frozenset[str] | None = frozenset({"sharing:read"})) -> Actor:
    return dataclasses.replace(reader(role=Role.DEPARTMENT_SYSTEM, channel="api"), scopes=scopes)


def api_admin(scopes: frozenset[str] | None = None) -> Actor:
    return dataclasses.replace(admin(channel="api"), scopes=scopes)


def lookup(actor: Actor, **body: Any) -> Any:
    return call("post", "/people/lookup", actor, json={"id_number": ID_SH, "purpose": "低保复核", **body})


def test_lookup_returns_the_allowed_fields() -> None:
    g = grant()
    plain = lookup(system())
    assert plain.status_code == 200
    body = plain.json()
    assert (body["name"], body["id_number"], body["fields"], body["grant"]) == ("其其格", ID_SH, {}, None)
    granted = lookup(system(), grant=g.pk, fields=["sex", "residence"]).json()
    assert granted["fields"]["sex"] == "1"
    assert granted["labels"] == {"sex": "男"}
    assert set(granted["fields"]) == {"sex", "residence"}
    assert AccessRecord.objects.count() == 2


def test_lookup_refusals() -> None:
    g = grant(fields=("sex",))
    expired = grant(days=1)
    revoked = grant()
    call("post", f"/grants/{revoked.pk}/revoke", api_admin(), json={"reason": "停止"})
    cases = [
        (lookup(system(), purpose=""), 422),  # no purpose
        (lookup(system(), grant=g.pk, fields=["ethnicity"]), 403),  # no grant for a field
        (lookup(system(), fields=["sex"]), 403),  # fields without a grant
        (lookup(system(), grant=revoked.pk), 403),  # revoked grant
        (lookup(system(), id_number=ID_UNKNOWN), 404),  # unknown ID
        (lookup(system(), id_number=ID_SH[:-1] + ("1" if ID_SH[-1] == "0" else "0")), 422),  # check digit
        (lookup(actor_at(Role.POPULATION_OFFICER, SAIHAN_HEALTH, channel="api")), 403),  # wrong role
        (lookup(system(frozenset({"population:read"}))), 403),  # token scope
    ]
    with clock.frozen(clock.now() + dt.timedelta(days=2)):
        cases.append((lookup(system(), grant=expired.pk), 403))  # expired grant
    assert [status for res, status in cases] == [res.status_code for res, _ in cases]
    assert not AccessRecord.objects.exists()


def test_grants_crud_for_the_administrator() -> None:
    writer = api_admin(frozenset({"sharing:read", "sharing:write"}))
    body = {
        "department": department_of(CITY_CA),
        "fields": ["sex", "marital_status"],
        "purpose": "婚姻登记核对",
        "legal_basis": "《婚姻登记条例》",
        "valid_from": "2026-03-03",
        "valid_until": "2026-12-31",
    }
    created = call("post", "/grants", writer, json=body)
    assert created.status_code == 201
    grant_id = created.json()["id"]
    assert created.json()["department_code"]
    assert created.json()["fields"] == ["sex", "marital_status"]
    assert call("get", f"/grants/{grant_id}", writer).json()["purpose"] == "婚姻登记核对"
    assert [g["id"] for g in call("get", "/grants?active=true", system()).json()] == [grant_id]
    revoked = call("post", f"/grants/{grant_id}/revoke", writer, json={"reason": "停止"})
    assert revoked.json()["revoked_at"] is not None
    assert call("post", f"/grants/{grant_id}/revoke", writer, json={"reason": "again"}).status_code == 409
    assert call("get", "/grants?active=true", system()).json() == []
    assert {f["name"] for f in call("get", "/fields", system()).json()} >= {"sex", "residence"}


def test_grant_refusals() -> None:
    body = {
        "department": department_of(CITY_CA),
        "fields": ["sex"],
        "purpose": "p",
        "legal_basis": "b",
        "valid_from": "2026-03-03",
        "valid_until": "2026-12-31",
    }
    reader_only = api_admin(frozenset({"sharing:read"}))
    assert call("post", "/grants", reader_only, json=body).status_code == 403  # scope
    assert call("post", "/grants", system(scopes=None), json=body).status_code == 403
    assert call("post", "/grants", api_admin(), json={**body, "fields": ["password"]}).status_code == 422
    assert call("post", "/grants", api_admin(), json={**body, "department": 10**9}).status_code == 404
    assert not SharingGrant.objects.exists()
    g = grant()
    assert (
        call("post", f"/grants/{g.pk}/revoke", system(scopes=None), json={"reason": "x"}).status_code == 403
    )
    other = actor_at(Role.DEPARTMENT_DATA_OFFICER, "150100-DEPT-human_resources", channel="api")
    assert call("get", f"/grants/{g.pk}", other).status_code == 404
    clerk = actor_at(Role.WINDOW_CLERK, "150105-CSC-W-civil_affairs", channel="api")
    assert call("get", "/grants", clerk).status_code == 403
