"""The supervision API through Ninja's test client, the caller's actor as ``request.auth``."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest
from ninja.testing import TestClient

from sanji.cases.tests.conftest import SAIHAN_CA_OFFICE, XINCHENG_CA_OFFICE, XINCHENG_SUP
from sanji.core import clock
from sanji.core.actors import Actor, system_actor
from sanji.core.errors import SanjiError
from sanji.core.roles import Role
from sanji.supervision import services
from sanji.supervision.api import router
from sanji.supervision.models import Mark
from sanji.supervision.tests.conftest import accepted, actor_at, supervisor

pytestmark = pytest.mark.usefixtures("org", "frozen_now")
client = TestClient(router)


class _Refused:
    def __init__(self, exc: SanjiError) -> None:
        self.status_code = exc.status
        self.message = exc.message


def call(method: str, path: str, actor: Actor, **kw: Any) -> Any:
    try:
        return getattr(client, method)(path, auth=actor, **kw)
    except SanjiError as exc:
        return _Refused(exc)


def yellow() -> Mark:
    case = accepted()
    with clock.frozen(dt.datetime(2026, 3, 18, 2, tzinfo=dt.UTC)):
        services.supervision_sweep(actor=system_actor("t"))
    return Mark.objects.get(case=case, rule="yellow_card")


def test_list_get_act_and_refusals() -> None:
    mark = yellow()
    sup = supervisor()
    page = call("get", "/marks?rule=yellow_card", sup).json()
    assert [m["id"] for m in page["items"]] == [mark.pk]
    assert page["items"][0]["case_number"] == mark.case.number
    unit = actor_at(Role.REVIEWER, SAIHAN_CA_OFFICE, user_id=9101, channel="api")
    res = call("post", f"/marks/{mark.pk}/actions/explain", unit, json={"text": "说明"})
    assert res.status_code == 200
    assert res.json()["state"] == "explained"
    res = call("post", f"/marks/{mark.pk}/actions/explain", unit, json={"text": "again"})
    assert res.status_code == 409
    other = actor_at(Role.REVIEWER, XINCHENG_CA_OFFICE, user_id=9500, channel="api")
    assert call("post", f"/marks/{mark.pk}/actions/appeal", other, json={"text": "x"}).status_code == 404
    assert (
        call("get", f"/marks/{mark.pk}", actor_at(Role.SUPERVISOR, XINCHENG_SUP, user_id=9600)).status_code
        == 404
    )
    res = call("post", f"/marks/{mark.pk}/actions/escalate", sup, json={"text": "督办", "days": 5})
    assert res.json()["state"] == "escalated"


def test_token_scope_is_required() -> None:
    mark = yellow()
    limited = dataclasses.replace(supervisor(), scopes=frozenset({"cases:read"}))
    assert call("get", f"/marks/{mark.pk}", limited).status_code == 403
    reader = dataclasses.replace(supervisor(), scopes=frozenset({"supervision:read"}))
    assert call("get", f"/marks/{mark.pk}", reader).status_code == 200
    assert call("post", f"/marks/{mark.pk}/actions/uphold", reader, json={}).status_code == 403
