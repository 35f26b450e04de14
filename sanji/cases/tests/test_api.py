"""The cases API, driven through Ninja's test client with the caller's actor as ``request.auth``.

The integrator mounts the router at /api/v1/cases behind token authentication; here the router is
exercised directly (token authentication is the accounts app's and tested there).
"""

from __future__ import annotations

from typing import Any

import pytest
from ninja.testing import TestClient

from sanji.cases.api import router
from sanji.cases.tests.conftest import ID_A, SAIHAN_CA_WINDOW, XINCHENG_CA_WINDOW, actor_at
from sanji.core.actors import Actor
from sanji.core.errors import SanjiError
from sanji.core.roles import Role

pytestmark = pytest.mark.usefixtures("org", "frozen_now")

client = TestClient(router)


class _Refused:
    """A SanjiError as the project's API maps it (sanji.api's handler is not attached to a bare router)."""

    def __init__(self, exc: SanjiError) -> None:
        self.status_code = exc.status
        self.message = exc.message


def call(method: str, path: str, actor: Actor | None, **kw: Any) -> Any:
    try:
        return getattr(client, method)(path, auth=actor, **kw)
    except SanjiError as exc:
        return _Refused(exc)


def test_receive_act_list_get_and_refusals() -> None:
    clerk = actor_at(Role.WINDOW_CLERK, SAIHAN_CA_WINDOW, channel="api")
    body = {"matter_code": "T-PRO", "applicant_name": "张三", "applicant_id_number": ID_A}
    res = call("post", "", clerk, json=body)
    assert res.status_code == 201, res.content
    case = res.json()["case"]
    assert len(res.json()["query_code"]) == 8
    assert case["state"] == "received"
    res = call("post", f"/{case['id']}/actions/accept", clerk, json={"expected_version": case["version"]})
    assert res.status_code == 200, res.content
    assert res.json()["state"] == "handling"
    stale = call("post", f"/{case['id']}/actions/accept", clerk, json={"expected_version": case["version"]})
    assert stale.status_code == 409
    page = call("get", "?worklist=all", clerk).json()
    assert [c["number"] for c in page["items"]] == [case["number"]]
    assert page["has_next"] is False
    detail = call("get", f"/{case['id']}", clerk).json()
    assert [e["action"] for e in detail["events"]] == ["receive", "accept"]
    outsider = actor_at(Role.WINDOW_CLERK, XINCHENG_CA_WINDOW, channel="api")
    assert call("get", f"/{case['id']}", outsider).status_code == 404
    assert (
        call(
            "post", f"/{case['id']}/actions/deny", outsider, json={"expected_version": 2, "reason": "x"}
        ).status_code
        == 404
    )


def test_scopes_are_enforced() -> None:
    base = actor_at(Role.WINDOW_CLERK, SAIHAN_CA_WINDOW, channel="api")
    read_only = Actor(
        user_id=base.user_id,
        username=base.username,
        grants=base.grants,
        unit_id=base.unit_id,
        channel="api",
        scopes=frozenset({"cases:read"}),
    )
    body = {"matter_code": "T-PRO", "applicant_name": "张三", "applicant_id_number": ID_A}
    assert call("post", "", read_only, json=body).status_code == 403
    assert call("get", "", read_only).status_code == 200


def test_public_progress_is_anonymous() -> None:
    from django.core.cache import cache

    cache.clear()
    clerk = actor_at(Role.WINDOW_CLERK, SAIHAN_CA_WINDOW, channel="api")
    body = {"matter_code": "T-PRO", "applicant_name": "张三", "applicant_id_number": ID_A}
    created = call("post", "", clerk, json=body).json()
    number, code = created["case"]["number"], created["query_code"]
    res = call("get", f"/public/progress?number={number}&code={code}", None)
    assert res.status_code == 200, res.content
    assert res.json()["applicant"] == "张*"
    assert call("get", f"/public/progress?number={number}&code=WRONG", None).status_code == 404
