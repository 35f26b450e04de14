"""The catalogue API, mounted here exactly as the integrator mounts it (/api/v1/catalog, token auth)."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.testing import TestClient

from sanji.accounts.auth import TokenAuth
from sanji.accounts.models import ApiToken, User
from sanji.catalog import services
from sanji.catalog.api import router
from sanji.catalog.models import Matter
from sanji.catalog.seed_matters import THREE_LEVEL_MATTER_CODE
from sanji.catalog.tests.conftest import current
from sanji.core import clock
from sanji.core.actors import Actor, system_actor
from sanji.core.errors import SanjiError

api = NinjaAPI(auth=TokenAuth(), urls_namespace="catalog-api-test")


@api.exception_handler(SanjiError)
def _sanji_error(request: HttpRequest, exc: SanjiError) -> HttpResponse:
    return api.create_response(request, {"error": exc.code, "message": exc.message}, status=exc.status)


api.add_router("/catalog", router)
client = TestClient(api)


@pytest.fixture
def seeded(db: None) -> None:
    services.catalog_seed(actor=system_actor())


@pytest.fixture
def token(clerk_user: User) -> str:
    raw = "cat12345.secret-value"
    ApiToken.objects.create(
        user=clerk_user,
        name="t",
        prefix="cat12345",
        token_hash=hashlib.sha256(raw.encode()).hexdigest(),
        scopes=[],
        created_at=clock.now(),
        expires_at=clock.now() + dt.timedelta(days=1),
    )
    return raw


@pytest.mark.usefixtures("seeded")
class TestPublic:
    def test_list_is_public_and_paginated(self) -> None:
        body = client.get("/catalog/matters?limit=5").json()
        assert body["count"] >= 30
        assert len(body["items"]) == 5
        first = body["items"][0]
        assert first["code"] == "CL-0001"
        assert first["current_version_number"] == 1

    def test_list_filters(self) -> None:
        body = client.get("/catalog/matters?level=community&department_kind=housing").json()
        assert [m["code"] for m in body["items"]] == [THREE_LEVEL_MATTER_CODE]

    def test_matter_guide_is_public(self) -> None:
        body = client.get(f"/catalog/matters/{THREE_LEVEL_MATTER_CODE}").json()
        version = body["current_version"]
        assert body["deciding_level"] == "city"
        assert version["matter_code"] == THREE_LEVEL_MATTER_CODE
        assert [s["level"] for s in version["steps"]] == [
            "community",
            "district",
            "district",
            "city",
            "city",
            "city",
            "community",
        ]
        assert all(s["department_kind"] == "housing" for s in version["steps"])
        assert len(version["materials"]) == 7

    def test_fee_is_a_decimal_string(self) -> None:
        assert client.get("/catalog/matters/ZR-0002").json()["fee_amount"] in ("80.00", "80.0", 80.0)

    def test_unknown_and_inactive_matters_are_404(self, admin: Actor) -> None:
        assert client.get("/catalog/matters/XX-0001").status_code == 404
        services.matter_deactivate(actor=admin, matter=Matter.objects.get(code="MZ-0003"))
        assert client.get("/catalog/matters/MZ-0003").status_code == 404
        codes = [m["code"] for m in client.get("/catalog/matters?limit=100").json()["items"]]
        assert "MZ-0003" not in codes


@pytest.mark.usefixtures("seeded")
class TestFlowVersions:
    def test_needs_a_token(self) -> None:
        version_id = current(Matter.objects.get(code="MZ-0008")).pk
        assert client.get(f"/catalog/flow-versions/{version_id}").status_code == 401

    def test_returns_steps_with_parallel_departments(self, token: str) -> None:
        version_id = current(Matter.objects.get(code="MZ-0008")).pk
        response = client.get(
            f"/catalog/flow-versions/{version_id}", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 200
        steps = response.json()["steps"]
        parallel = [
            (s["order"], s["department_kind"], s["parallel_group"]) for s in steps if s["parallel_group"]
        ]
        assert parallel == [(4, "civil_affairs", 1), (4, "disabled_persons", 1)]

    def test_unknown_version_is_404(self, token: str) -> None:
        response = client.get("/catalog/flow-versions/999999", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 404
