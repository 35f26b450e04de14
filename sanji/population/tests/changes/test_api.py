"""The population change API and the change feed through Ninja's test client (``request.auth`` is the
caller's actor; token authentication is the accounts app's and tested there)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest
from ninja.testing import TestClient

from sanji.core import crypto
from sanji.core.actors import Actor
from sanji.core.errors import SanjiError
from sanji.population.api import router
from sanji.population.models import Person, PersonChange
from sanji.population.tests.changes.conftest import World, new_id

pytestmark = pytest.mark.django_db
client = TestClient(router)


class _Refused:
    """A SanjiError as the project's API maps it (sanji.api's handler is not on a bare router)."""

    def __init__(self, exc: SanjiError) -> None:
        self.status_code = exc.status
        self.details = exc.details


def call(method: str, path: str, actor: Actor, **kw: Any) -> Any:
    try:
        return getattr(client, method)(path, auth=dataclasses.replace(actor, channel="api"), **kw)
    except SanjiError as exc:
        return _Refused(exc)


def test_submit_list_detail_verify_and_feed(world: World) -> None:
    person = world.person(0)
    res = call(
        "post",
        "/changes",
        world.officer,
        json={"kind": "name", "person_id": person.pk, "values": {"name": "张卫"}, "reason": "更名"},
    )
    assert res.status_code == 201, res.content
    change = res.json()
    assert (change["state"], change["person_masked"], change["values"]["name"]) == (
        "submitted",
        person.id_masked,
        "张卫",
    )
    assert [c["id"] for c in call("get", "/changes", world.officer).json()["items"]] == [change["id"]]
    queue = call("get", "/changes", world.police).json()
    assert queue["queue"] is True
    assert [c["id"] for c in queue["items"]] == [change["id"]]
    detail = call("get", f"/changes/{change['id']}", world.police).json()
    assert detail["can_verify"] is True
    assert detail["can_withdraw"] is False
    assert [(r["field"], r["before"], r["after"]) for r in detail["rows"]] == [("name", "张伟", "张卫")]
    res = call("post", f"/changes/{change['id']}/verify", world.police, json={"expected_state": "submitted"})
    assert res.status_code == 200, res.content
    assert res.json()["state"] == "verified"
    again = call(
        "post", f"/changes/{change['id']}/verify", world.police, json={"expected_state": "submitted"}
    )
    assert again.status_code == 409
    feed = call("get", "/feed?after=0&limit=10", world.department).json()
    number = crypto.decrypt(person.id_number_encrypted)
    assert [(i["name"], i["id_number"], i["kind"], i["fields"]) for i in feed["items"]] == [
        ("张卫", number, "name", ["name"])
    ]
    assert feed["next_cursor"] == feed["items"][0]["seq"]
    assert feed["has_more"] is False
    empty = call("get", f"/feed?after={feed['next_cursor']}", world.department).json()
    assert (empty["items"], empty["next_cursor"]) == ([], feed["next_cursor"])


def test_reject_and_withdraw(world: World) -> None:
    ids = []
    for i in range(2):
        body = {"kind": "death", "person_id": world.person(i).pk, "values": {"effective_date": "2025-05-01"}}
        ids.append(call("post", "/changes", world.officer, json=body).json()["id"])
    no_reason = call("post", f"/changes/{ids[0]}/reject", world.police, json={"reason": ""})
    assert no_reason.status_code == 422
    res = call("post", f"/changes/{ids[0]}/reject", world.police, json={"reason": "无死亡证明"})
    assert (res.status_code, res.json()["decision_reason"]) == (200, "无死亡证明")
    assert call("post", f"/changes/{ids[1]}/withdraw", world.worker, json={}).status_code == 403
    res = call("post", f"/changes/{ids[1]}/withdraw", world.officer, json={})
    assert res.json()["state"] == "withdrawn"
    mine = call("get", "/changes?mine=true&state=rejected", world.officer).json()["items"]
    assert [c["id"] for c in mine] == [ids[0]]
    assert Person.objects.filter(status="living").count() == Person.objects.count()


def test_refusals(world: World) -> None:
    person = world.person(0)
    body = {"kind": "name", "person_id": person.pk, "values": {"name": "张卫"}}
    # Out of area: 404, never 403. Not a submitter at all: 403. Bad values: 422 with each field.
    assert call("post", "/changes", world.officer_xc, json=body).status_code == 404
    assert call("post", "/changes", world.police, json=body).status_code == 403
    bad = call("post", "/changes", world.officer, json={**body, "values": {"name": "Zhang3"}})
    assert (bad.status_code, [d["field"] for d in bad.details]) == (422, ["name"])
    birth = {
        "kind": "birth",
        "values": {"id_number": new_id(dt.date(2099, 1, 1)), "name": "张", "ethnicity": "x"},
    }
    bad = call("post", "/changes", world.officer, json=birth)
    assert {d["field"] for d in bad.details} >= {"id_number", "name", "ethnicity", "relation"}
    assert not PersonChange.objects.exists()
    change_id = call("post", "/changes", world.officer, json=body).json()["id"]
    for path in (f"/changes/{change_id}", "/changes/999999"):
        assert call("get", path, world.police_xc).status_code == 404
    for action, payload in (("verify", {}), ("reject", {"reason": "x"}), ("withdraw", {})):
        res = call("post", f"/changes/{change_id}/{action}", world.police_xc, json=payload)
        assert res.status_code == 404
    assert call("post", f"/changes/{change_id}/verify", world.officer, json={}).status_code == 403
    assert call("post", f"/changes/{change_id}/verify", world.worker, json={}).status_code == 403
    stale = call("post", f"/changes/{change_id}/verify", world.police, json={"expected_state": "verified"})
    assert stale.status_code == 409
    assert call("get", "/changes?state=nonsense", world.police).status_code == 422
    # The feed: department systems only; the cursor and limit are checked.
    for outsider in (world.officer, world.police, world.clerk):
        assert call("get", "/feed", outsider).status_code == 403
    assert call("get", "/feed?after=-1", world.department).status_code == 422
    assert call("get", "/feed?limit=0", world.department).status_code == 422
    assert call("get", "/feed?limit=100000", world.department).status_code == 422
    # Token scopes.
    read_only = dataclasses.replace(world.police, scopes=frozenset({"population:read"}))
    assert call("post", f"/changes/{change_id}/verify", read_only, json={}).status_code == 403
    no_feed = dataclasses.replace(world.department, scopes=frozenset({"cases:read"}))
    assert call("get", "/feed", no_feed).status_code == 403
    assert PersonChange.objects.get(pk=change_id).state == "submitted"


def test_mounted_behind_token_authentication(world: World, settings: Any) -> None:
    """Through /api/v1 with a real bearer token: the feed for a department system, 401 without one."""
    from django.test import Client

    from sanji.accounts import selectors as account_selectors
    from sanji.accounts import services as accounts
    from sanji.orgs import services as org_services
    from sanji.orgs.models import Unit
    from sanji.population import services
    from sanji.population.tests.conftest import SYSTEM

    org_services.org_structure_seed(actor=SYSTEM, city_code="150100")
    user, _ = accounts.user_create(
        actor=SYSTEM, username="civil-system", full_name="民政业务系统", password="Qingcheng#2024x"
    )
    accounts.role_grant(
        actor=SYSTEM,
        user=user,
        role="department_system",
        unit=Unit.objects.get(code="150100-DEPT-civil_affairs"),
    )
    admin, _ = accounts.user_create(
        actor=SYSTEM, username="secadmin", full_name="安全管理员", password="Qingcheng#2024x"
    )
    accounts.role_grant(
        actor=SYSTEM, user=admin, role="security_admin", unit=Unit.objects.get(code="150100-OPS")
    )
    _token, raw = accounts.api_token_create(
        actor=account_selectors.actor_for(admin), user=user, name="feed", scopes=["population:read"], days=1
    )
    change = services.change_submit(
        actor=world.officer, kind="name", person_id=world.person(0).pk, values={"name": "张卫"}
    )
    services.change_verify(actor=world.police, change_id=change.pk, expected_state="submitted")
    http = Client()
    assert http.get("/api/v1/population/feed").status_code == 401
    res = http.get("/api/v1/population/feed?after=0&limit=5", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert res.status_code == 200, res.content
    assert [i["name"] for i in res.json()["items"]] == ["张卫"]
    refused = http.post(
        f"/api/v1/population/changes/{change.pk}/verify",
        data={"expected_state": "submitted"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )
    assert refused.status_code == 403  # the token lacks population:write
    assert "/population/feed" in http.get("/api/v1/openapi.json").content.decode()


def test_detail_of_an_id_correction_lists_the_changed_digits_and_what_follows(world: World) -> None:
    person = world.person(1)
    after = new_id(dt.date(1982, 3, 5), seq=44)
    body = {"kind": "correction", "person_id": person.pk, "values": {"id_number": after}}
    change_id = call("post", "/changes", world.officer, json=body).json()["id"]
    detail = call("get", f"/changes/{change_id}", world.police).json()
    rows = {r["field"]: r for r in detail["rows"]}
    assert list(rows) == ["id_number", "birth_date", "sex", "birthplace_code"]
    assert rows["id_number"]["changed"] is True
    assert rows["id_number"]["changed_positions"]
    assert (rows["birth_date"]["before"], rows["birth_date"]["after"], rows["birth_date"]["derived"]) == (
        "1982-03-04",
        "1982-03-05",
        True,
    )
    assert "birth_date" in detail["id_changed_parts"]
    assert detail["can_unmask_id_numbers"] is True
    assert call("get", f"/changes/{change_id}", world.officer).json()["can_unmask_id_numbers"] is False
    number = crypto.decrypt(person.id_number_encrypted)
    assert number not in str(detail)  # masked here
    assert after not in str(detail)
