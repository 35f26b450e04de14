"""The change pages through the Django test client: submit → queue → side by side → verify; reject;
withdraw; refusals (404 outside the area, 403 for people with no part in changes, 409 on a lost race)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from sanji.accounts import services as accounts
from sanji.accounts.testing import sign_in
from sanji.audit.models import Entry
from sanji.core import crypto
from sanji.core.roles import Role
from sanji.orgs import services as org_services
from sanji.orgs.models import Unit
from sanji.population.models import ChangeState, Person, PersonChange
from sanji.population.tests.changes.conftest import World, new_id
from sanji.population.tests.conftest import SYSTEM

pytestmark = pytest.mark.django_db


@pytest.fixture
def clients(world: World) -> dict[str, Client]:
    org_services.org_structure_seed(actor=SYSTEM, city_code="150100")
    made = {}
    for name, role, unit in (
        ("officer", Role.POPULATION_OFFICER, "150105-DEPT-health"),
        ("police", Role.POLICE_VERIFIER, "150105-DEPT-public_security"),
        ("police-xc", Role.POLICE_VERIFIER, "150102-DEPT-public_security"),
        ("clerk", Role.WINDOW_CLERK, "150105-CSC-W-civil_affairs"),
    ):
        user, _ = accounts.user_create(
            actor=SYSTEM,
            username=f"v-{name}",
            full_name=name,
            password="Qingcheng#2024x",
            must_change_password=False,
        )
        accounts.role_grant(actor=SYSTEM, user=user, role=role, unit=Unit.objects.get(code=unit))
        client = Client()
        sign_in(client, user)
        made[name] = client
    return made


def _submit(client: Client, kind: str, person: Person | None = None, **values: str) -> Any:
    body = {"kind": kind, "step": "submit", **values}
    if person is not None:
        body["person_id"] = str(person.pk)
    return client.post(reverse("population:change_new"), body)


def _find(client: Client, kind: str, number: str) -> Any:
    return client.post(reverse("population:change_new"), {"kind": kind, "step": "find", "lookup": number})


def test_submit_verify_and_see_the_new_value(world: World, clients: dict[str, Client]) -> None:
    officer, police = clients["officer"], clients["police"]
    person = world.person(0)
    number = crypto.decrypt(person.id_number_encrypted)
    page = _find(officer, "name", f" {number[:6]} {number[6:].lower()} ")
    assert page.status_code == 200
    html = page.content.decode()
    assert person.id_masked in html
    assert number not in html  # the ID number is shown masked only
    assert 'name="name"' in html
    assert '<small class="muted current-value">现登记：张伟</small>' in html  # what the registry holds
    res = _submit(officer, "name", person, name="张卫", reason="更名", evidence="户口簿")
    assert res.status_code == 302, res.content.decode()[:2000]
    change = PersonChange.objects.get()
    # While it waits, finding the person again says so at once, with no form to fill in vain.
    again = _find(officer, "marriage_status", number).content.decode()
    assert "此人已有一项待核查的人口变动" in again
    assert reverse("population:change_detail", args=[change.pk]) in again
    assert 'name="marital_status"' not in again
    assert res["Location"] == reverse("population:change_detail", args=[change.pk])
    mine = officer.get(reverse("population:change_list")).content.decode()
    assert "张伟" in mine
    assert "待核查" in mine
    queue = police.get(reverse("population:change_list")).content.decode()
    assert reverse("population:change_detail", args=[change.pk]) in queue
    detail = police.get(reverse("population:change_detail", args=[change.pk])).content.decode()
    assert "变动前后对照" in detail
    assert "张伟" in detail
    assert "张卫" in detail
    assert "decision-verify" in detail
    assert (
        "decision-verify"
        not in officer.get(reverse("population:change_detail", args=[change.pk])).content.decode()
    )
    url = reverse("population:change_decide", args=[change.pk, "verify"])
    res = police.post(url, {"expected_state": "submitted"})
    assert res.status_code == 302
    assert Person.objects.get(pk=person.pk).name == "张卫"
    again = police.post(url, {"expected_state": "submitted"})
    assert again.status_code == 409
    assert "verified" in again.content.decode()
    after = officer.get(reverse("population:change_detail", args=[change.pk])).content.decode()
    assert "当前登记" in after


def test_birth_reject_and_withdraw(world: World, clients: dict[str, Client]) -> None:
    officer, police = clients["officer"], clients["police"]
    res = _submit(
        officer, "birth", id_number=new_id(dt.date(2025, 2, 2), seq=71), name="张小宝", ethnicity="01",
        household_code="H-SA-1", relation="20",
    )  # fmt: skip
    assert res.status_code == 302
    birth = PersonChange.objects.get(kind="birth")
    url = reverse("population:change_decide", args=[birth.pk, "reject"])
    assert police.post(url, {"expected_state": "submitted", "reason": ""}).status_code == 422
    assert (
        police.post(url, {"expected_state": "submitted", "reason": "出生医学证明不清晰"}).status_code == 302
    )
    page = officer.get(reverse("population:change_detail", args=[birth.pk])).content.decode()
    assert "出生医学证明不清晰" in page
    _submit(officer, "death", world.person(1), effective_date="2025-05-01")
    death = PersonChange.objects.get(kind="death")
    res = officer.post(
        reverse("population:change_decide", args=[death.pk, "withdraw"]), {"expected_state": "submitted"}
    )
    assert res.status_code == 302
    assert PersonChange.objects.get(pk=death.pk).state == ChangeState.WITHDRAWN


def test_bad_input_is_shown_beside_the_inputs(world: World, clients: dict[str, Client]) -> None:
    officer = clients["officer"]
    res = _submit(
        officer, "birth", id_number="150105202502021234", name="Baby", ethnicity="01", household_code="H-SA-1"
    )
    assert res.status_code == 422
    html = res.content.decode()
    assert "校验码" in html
    assert "姓名含有汉字和“·”以外的字符" in html
    assert not PersonChange.objects.exists()
    # A person outside the officer's district is not found (the page says so, nothing more).
    number = crypto.decrypt(world.xincheng.id_number_encrypted)
    page = _find(officer, "name", f" {number[:6]} {number[6:].lower()} ").content.decode()
    assert "未找到" in page
    assert 'name="name"' not in page


def test_refusals(world: World, clients: dict[str, Client]) -> None:
    officer = clients["officer"]
    _submit(officer, "name", world.person(0), name="张卫")
    change = PersonChange.objects.get()
    detail = reverse("population:change_detail", args=[change.pk])
    verify = reverse("population:change_decide", args=[change.pk, "verify"])
    assert clients["police-xc"].get(detail).status_code == 404
    assert clients["police-xc"].post(verify, {"expected_state": "submitted"}).status_code == 404
    assert clients["clerk"].get(detail).status_code == 403
    assert clients["clerk"].get(reverse("population:change_list")).status_code == 403
    assert clients["police"].get(reverse("population:change_new")).status_code == 403
    assert officer.post(verify, {"expected_state": "submitted"}).status_code == 403
    assert officer.post(reverse("population:change_decide", args=[change.pk, "explode"])).status_code == 404
    assert Client().get(detail).status_code == 302  # to the login page
    assert PersonChange.objects.get().state == ChangeState.SUBMITTED


@pytest.mark.parametrize(
    ("kind", "values"),
    [("name", {"name": "李刚", "reason": "更名"}), ("death", {"effective_date": "2025-05-01"})],
)
def test_submitting_a_change_for_a_person_outside_the_area_is_not_found(
    world: World, clients: dict[str, Client], kind: str, values: dict[str, str]
) -> None:
    officer = clients["officer"]  # 赛罕区
    outside = world.xincheng  # a resident of 新城区
    audit = Entry.objects.count()
    res = _submit(officer, kind, outside, **values)
    assert res.status_code == 404
    html = res.content.decode()
    assert "未找到此身份号码的人员" in html
    assert outside.name not in html
    assert outside.id_masked not in html
    assert f'name="{next(iter(values))}"' not in html  # no inputs: no person is shown
    # The same answer as for a person who does not exist, a malformed id or none at all.
    unknown = str(Person.objects.order_by("-pk").values_list("pk", flat=True)[0] + 1000)
    for person_id in (unknown, "x", ""):
        missing = _submit(officer, kind, None, person_id=person_id, **values)
        assert missing.status_code == 404
        assert "未找到此身份号码的人员" in missing.content.decode()
    assert not PersonChange.objects.exists()
    assert Entry.objects.count() == audit
    after = Person.objects.get(pk=outside.pk)
    assert (after.name, after.status, after.version) == (outside.name, outside.status, outside.version)
    # The same form for a resident of the officer's own district goes through.
    assert _submit(officer, kind, world.person(0), **values).status_code == 302
    assert PersonChange.objects.get().person_id == world.person(0).pk


def test_a_transfer_from_another_district_through_the_pages(world: World, clients: dict[str, Client]) -> None:
    """迁入 of a 新城区 resident by the 赛罕区 officer: submitted by ID number, verified by the 赛罕区
    police on the side-by-side page, then found in 赛罕区 and no longer in 新城区."""
    officer, police = clients["officer"], clients["police"]
    li = world.xincheng
    number = crypto.decrypt(li.id_number_encrypted)
    target = world.buildings["150105001001"][4]
    values = {
        "id_number": number,
        "name": "李强",
        "ethnicity": "01",
        "registered_code": "150105001001",
        "household_code": "H-TR-9",
        "building_code": target.code,
        "relation": "02",
        "effective_date": "2025-06-01",
    }
    refused = _submit(officer, "move_in", None, **{**values, "name": "李刚"})
    assert refused.status_code == 422
    assert "迁入不变更姓名" in refused.content.decode()
    res = _submit(officer, "move_in", None, **values)
    assert res.status_code == 302, res.content.decode()[:2000]
    change = PersonChange.objects.get()
    assert change.person_id == li.pk
    page = police.get(reverse("population:change_detail", args=[change.pk])).content.decode()
    assert "H-XC-1" in page
    assert "H-TR-9" in page
    assert number not in page
    assert clients["police-xc"].get(reverse("population:change_detail", args=[change.pk])).status_code == 404
    done = police.post(
        reverse("population:change_decide", args=[change.pk, "verify"]), {"expected_state": "submitted"}
    )
    assert done.status_code == 302
    found = _find(officer, "name", number).content.decode()
    assert "H-TR-9" in found
    org_user, _ = accounts.user_create(
        actor=SYSTEM, username="v-officer-xc", full_name="xc", password="Qingcheng#2024x",
        must_change_password=False,
    )  # fmt: skip
    accounts.role_grant(
        actor=SYSTEM,
        user=org_user,
        role=Role.POPULATION_OFFICER,
        unit=Unit.objects.get(code="150102-DEPT-health"),
    )
    xincheng = Client()
    sign_in(xincheng, org_user)
    assert "未找到此身份号码的人员" in _find(xincheng, "name", number).content.decode()
