from typing import Any

import pytest

from sanji.audit.tests.conftest import newest
from sanji.core.roles import Role

pytestmark = pytest.mark.django_db

BASE = "/api/v1/audit"


def get(client: Any, path: str, token: str, **params: Any) -> Any:
    return client.get(BASE + path, params, HTTP_AUTHORIZATION=f"Bearer {token}")


@pytest.fixture
def auditor_token(make_user, make_token):
    return make_token(make_user("auditor", Role.SECURITY_AUDITOR), ["audit:read"])


def test_entries_list_and_filter(client, auditor_token, trail):
    body = get(client, "/entries", auditor_token, action="cases.").json()
    assert body["count"] == 4
    assert [item["seq"] for item in body["items"]] == [trail[i].seq for i in (6, 2, 1, 0)]
    assert body["items"][0]["hash"] == trail[6].hash


def test_entry_get(client, auditor_token, trail):
    body = get(client, f"/entries/{trail[3].seq}", auditor_token).json()
    assert body["action"] == "population.change_submitted"
    assert body["data"]["big"] == 10**20


def test_entry_out_of_scope_is_404(client, make_user, make_token, trail):
    token = make_token(make_user("d-auditor", Role.SECURITY_AUDITOR, district=True), ["audit:read"])
    assert get(client, f"/entries/{trail[0].seq}", token).status_code == 200
    assert get(client, f"/entries/{trail[2].seq}", token).status_code == 404
    assert get(client, "/entries", token).json()["count"] == 4


def test_verify(client, auditor_token, trail):
    body = get(client, "/verify", auditor_token).json()
    assert body["ok"] is True
    assert body["problem"] is None
    assert newest().action == "audit.verified"


@pytest.mark.parametrize("role", [Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.DEPARTMENT_SYSTEM, None])
def test_other_roles_are_refused(client, make_user, make_token, trail, role):
    token = make_token(make_user("other", role), ["audit:read"])
    for path in ("/entries", f"/entries/{trail[0].seq}", "/verify"):
        assert get(client, path, token).status_code == 403, path


def test_token_without_scope_is_refused(client, make_user, make_token, trail):
    token = make_token(make_user("auditor", Role.SECURITY_AUDITOR), ["cases:read"])
    assert get(client, "/entries", token).status_code == 403


def test_no_token(client, trail):
    assert client.get(BASE + "/entries").status_code == 401
