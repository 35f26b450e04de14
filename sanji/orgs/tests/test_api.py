"""The read-only organisation API: scope ``orgs:read``, staff only, units within reach."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model

from sanji.core import clock
from sanji.core.roles import Role
from sanji.orgs.models import Unit

pytestmark = pytest.mark.django_db


def _token(role: str | None, unit_code: str = "150100-OPS", scopes: tuple[str, ...] = ("orgs:read",)) -> str:
    """A real token row for a real user holding ``role`` in the unit; returns the bearer header."""
    user = get_user_model().objects.create_user(username=f"api-{secrets.token_hex(4)}", password="x")
    if role is not None:
        unit = Unit.objects.get(code=unit_code)
        apps.get_model("accounts", "RoleAssignment").objects.create(
            user=user,
            role=role,
            unit=unit,
            region_path=unit.region_path,
            granted_at=clock.now(),
            granted_by="t",
        )
    token_model = apps.get_model("accounts", "ApiToken")
    prefix = secrets.token_hex(5)
    raw = f"{prefix}.{secrets.token_urlsafe(32)}"
    fields = {f.name for f in token_model._meta.get_fields()}
    extra = {"created_by": "test"} if "created_by" in fields else {}
    token_model.objects.create(
        user=user,
        name="t",
        prefix=prefix,
        token_hash=hashlib.sha256(raw.encode()).hexdigest(),
        scopes=list(scopes),
        created_at=clock.now(),
        expires_at=clock.now() + dt.timedelta(days=1),
        **extra,
    )
    return f"Bearer {raw}"


def test_regions_roots_children_and_one(small_org, client):
    auth = _token(Role.WINDOW_CLERK, "150105-CSC-W-civil_affairs")
    roots = client.get("/api/v1/orgs/regions", HTTP_AUTHORIZATION=auth).json()
    assert [r["code"] for r in roots["items"]] == ["150100"]
    children = client.get("/api/v1/orgs/regions?parent=150105", HTTP_AUTHORIZATION=auth).json()
    assert children["count"] == 2
    assert children["items"][0] == {
        "code": "150105001",
        "name": "人民路街道",
        "level": "township",
        "parent_code": "150105",
        "path": "150100/150105/150105001/",
    }
    one = client.get("/api/v1/orgs/regions/150105001002", HTTP_AUTHORIZATION=auth).json()
    assert one["name"] == "太平庄村民委员会"
    assert client.get("/api/v1/orgs/regions/999999", HTTP_AUTHORIZATION=auth).status_code == 404
    assert client.get("/api/v1/orgs/regions?parent=999999", HTTP_AUTHORIZATION=auth).status_code == 404


def test_departments(small_org, client):
    auth = _token(Role.REVIEWER, "150105-DEPT-civil_affairs")
    body = client.get("/api/v1/orgs/departments?region=150105", HTTP_AUTHORIZATION=auth).json()
    civil = next(d for d in body if d["kind"] == "civil_affairs")
    assert civil["name"] == "赛罕区民政局"
    assert civil["counterpart_code"] == "150100-civil_affairs"
    assert civil["region_code"] == "150105"


def test_units_are_limited_to_the_callers_reach(small_org, client):
    auth = _token(Role.SUPERVISOR, "150105-SUP")
    body = client.get(
        "/api/v1/orgs/units?kind=window&region=150105&limit=100", HTTP_AUTHORIZATION=auth
    ).json()
    assert body["count"] == 10
    window = next(u for u in body["items"] if u["code"] == "150105-CSC-W-civil_affairs")
    assert window["parent_code"] == "150105-CSC"
    assert window["department_code"] == "150105-civil_affairs"
    city = client.get("/api/v1/orgs/units?region=150100", HTTP_AUTHORIZATION=auth).json()
    assert city["count"] == 0
    below = client.get(
        "/api/v1/orgs/units?region=150105&descendants=true&kind=community_station", HTTP_AUTHORIZATION=auth
    ).json()
    assert below["count"] == 3


def test_token_without_the_scope_is_refused(small_org, client):
    auth = _token(Role.SYSTEM_ADMIN, scopes=("audit:read",))
    for url in (
        "/api/v1/orgs/regions",
        "/api/v1/orgs/regions/150100",
        "/api/v1/orgs/units",
        "/api/v1/orgs/departments",
    ):
        assert client.get(url, HTTP_AUTHORIZATION=auth).status_code == 403


def test_applicant_token_is_refused(small_org, client):
    auth = _token(Role.APPLICANT, "150105001001-CS")
    assert client.get("/api/v1/orgs/regions", HTTP_AUTHORIZATION=auth).status_code == 403
    assert client.get("/api/v1/orgs/units", HTTP_AUTHORIZATION=auth).status_code == 403
    no_role = _token(None)
    assert client.get("/api/v1/orgs/departments", HTTP_AUTHORIZATION=no_role).status_code == 403


def test_no_token_is_unauthorised(small_org, client):
    assert client.get("/api/v1/orgs/regions").status_code == 401
    assert client.get("/api/v1/orgs/regions", HTTP_AUTHORIZATION="Bearer nope.nope").status_code == 401


def test_the_operations_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert {
        "/api/v1/orgs/regions",
        "/api/v1/orgs/regions/{code}",
        "/api/v1/orgs/units",
        "/api/v1/orgs/departments",
    } <= set(paths)
