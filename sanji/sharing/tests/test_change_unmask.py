"""A correction of an ID number (信息更正 of the 公民身份号码) before its police verifier.

The side-by-side page shows the numbers masked with the changed digits marked, and the birth date,
sex and birthplace that follow from the new number. The verifier who decides the change may show
both numbers in full: the existing unmasking — an access record for each number (the resident sees
it) and the audit entry ``population.id_unmasked`` — on the page and through the API. Nobody else
may, and not once the change is decided.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from ninja.testing import TestClient

from sanji.accounts import selectors as account_selectors
from sanji.accounts.testing import sign_in
from sanji.audit.models import Entry
from sanji.core import idnumber
from sanji.core.errors import NotFound, SanjiError
from sanji.core.roles import Role
from sanji.population import services as population
from sanji.population.models import Person, PersonChange
from sanji.sharing import selectors
from sanji.sharing.api import router
from sanji.sharing.models import AccessKind, AccessRecord
from sanji.sharing.tests.conftest import ID_XC_WIFE, XINCHENG_HEALTH, MakeUser, reader, resident_user

pytestmark = pytest.mark.usefixtures("residents")

XC_POLICE = "150102-DEPT-public_security"
SH_POLICE = "150105-DEPT-public_security"
#: 王丽's number with the birth day corrected (08-08 → 08-09) and another sequence number.
CORRECTED = idnumber.make("150102", dt.date(1992, 8, 9), 26)


def _text(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html)


@pytest.fixture
def correction(make_user: MakeUser) -> PersonChange:
    officer = make_user("xc-officer", Role.POPULATION_OFFICER, XINCHENG_HEALTH)
    wife = Person.objects.get(name="王丽")
    return population.change_submit(
        actor=account_selectors.actor_for(officer),
        kind="correction",
        person_id=wife.pk,
        values={"id_number": CORRECTED},
        reason="出生日期登记错误",
        evidence="出生医学证明",
    )


def _client(make_user: MakeUser, username: str, role: str, unit: str) -> Client:
    client = Client()
    sign_in(client, make_user(username, role, unit))
    return client


def test_the_verifier_compares_masked_then_in_full_and_the_look_is_recorded(
    correction: PersonChange, make_user: MakeUser
) -> None:
    police = _client(make_user, "xc-police", Role.POLICE_VERIFIER, XC_POLICE)
    detail = reverse("population:change_detail", args=[correction.pk])
    page = police.get(detail).content.decode()
    # Masked: the numbers are not on the page, but the changed digits are marked and named, and the
    # facts that follow from the number are listed before and after.
    assert ID_XC_WIFE not in page
    assert CORRECTED not in _text(page)
    assert page.count('class="digit-changed"') >= 2
    assert "出生日期码" in _text(page)
    assert "顺序码" in _text(page)
    assert "地址码" not in _text(page).split("公民身份号码变动部分：")[1].split("。")[0]
    for fact, before, after in (("birth_date", "1992-08-08", "1992-08-09"), ("sex", "2 女", "2 女")):
        row = re.search(rf'<tr class="diff-row field-{fact}[^"]*">(.*?)</tr>', page, re.S)
        assert row is not None, fact
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)
        assert [c.strip() for c in cells] == [before, after]
    assert "150102 内蒙古自治区呼和浩特市新城区" in page  # the birthplace, by the ID's address code
    unmask = reverse("sharing:change_unmask", args=[correction.pk])
    assert f'action="{unmask}"' in page
    assert not AccessRecord.objects.exists()

    shown = police.post(unmask)
    assert shown.status_code == 200
    text = _text(shown.content.decode())
    assert ID_XC_WIFE in text
    assert CORRECTED in text
    assert "此次查看已记录" in text
    assert "decision-verify" in shown.content.decode()  # and decide from there
    records = list(AccessRecord.objects.order_by("id"))
    assert [(r.kind, r.fields, r.person_id) for r in records] == [
        (AccessKind.ID_UNMASKED, ["id_number"], correction.person_id)
    ] * 2
    assert all(f"第 {correction.pk} 号信息更正" in r.purpose for r in records)
    assert Entry.objects.filter(action="population.id_unmasked").count() == 2
    # The resident sees the look, whichever of the two numbers their account carries.
    resident = resident_user(CORRECTED)
    mine = selectors.access_records_of_resident(account_selectors.actor_for(resident))
    assert [r.kind for r in mine] == [AccessKind.ID_UNMASKED]

    # Verified: the number and what follows from it applied together; no more unmasking here.
    verified = police.post(
        reverse("population:change_decide", args=[correction.pk, "verify"]), {"expected_state": "submitted"}
    )
    assert verified.status_code == 302
    wife = Person.objects.get(pk=correction.person_id or 0)
    assert (wife.birth_date, wife.sex, wife.birthplace_code) == (dt.date(1992, 8, 9), "2", "150102")
    assert police.post(unmask).status_code == 403
    assert AccessRecord.objects.count() == 2


def test_nobody_else_sees_the_numbers(correction: PersonChange, make_user: MakeUser) -> None:
    unmask = reverse("sharing:change_unmask", args=[correction.pk])
    nobody = Client()
    sign_in(nobody, make_user("no-role"))
    own = _client(make_user, "xc-officer3", Role.POPULATION_OFFICER, XINCHENG_HEALTH)
    page = own.get(reverse("population:change_detail", args=[correction.pk])).content.decode()
    assert f'action="{unmask}"' not in page  # the submitter's side: masked, no unmasking
    assert own.post(unmask).status_code == 403
    elsewhere = _client(make_user, "sh-police", Role.POLICE_VERIFIER, SH_POLICE)
    assert elsewhere.post(unmask).status_code == 404
    assert nobody.post(unmask).status_code == 404  # no role at all: the change is not there
    assert not AccessRecord.objects.exists()
    assert not Entry.objects.filter(action="population.id_unmasked").exists()


def test_the_api_gives_the_verifier_both_numbers_and_records_it(
    correction: PersonChange, make_user: MakeUser
) -> None:
    client = TestClient(router)
    police = dataclasses.replace(
        account_selectors.actor_for(make_user("xc-police-api", Role.POLICE_VERIFIER, XC_POLICE)),
        channel="api",
    )

    def call(actor: Any) -> Any:
        try:
            return client.post(f"/changes/{correction.pk}/id-numbers", auth=actor)
        except SanjiError as exc:
            return exc

    body = call(police).json()
    assert (body["before"], body["after"]) == (ID_XC_WIFE, CORRECTED)
    assert body["changed_parts"][0] == "birth_date"
    assert "address_code" not in body["changed_parts"]
    assert all(ID_XC_WIFE[i] != CORRECTED[i] for i in body["changed_positions"])
    assert AccessRecord.objects.filter(channel="api").count() == 2
    no_scope = call(dataclasses.replace(police, scopes=frozenset({"sharing:read"})))
    assert no_scope.status == 403
    assert AccessRecord.objects.count() == 2


def test_once_verified_the_old_number_still_finds_the_person_with_a_word_on_the_correction(
    correction: PersonChange, make_user: MakeUser
) -> None:
    police = account_selectors.actor_for(make_user("xc-police-v", Role.POLICE_VERIFIER, XC_POLICE))
    population.change_verify(actor=police, change_id=correction.pk, expected_state="submitted")
    officer = _client(make_user, "xc-officer4", Role.POPULATION_OFFICER, XINCHENG_HEALTH)
    page = officer.post(reverse("sharing:people"), {"q": ID_XC_WIFE}).content.decode()
    assert f"变动 #{correction.pk}" in _text(page)
    assert "王丽" in page
    assert ID_XC_WIFE not in page.split('id="people"')[1]  # the results show masked numbers only
    found = officer.post(reverse("sharing:people"), {"q": CORRECTED}).content.decode()
    assert "王丽" in found
    assert "经公安核验更正" not in found
    # The history keeps what was true before: the earlier masked number in the versions table.
    person = officer.get(reverse("sharing:person", args=[correction.person_id])).content.decode()
    versions = person.split('id="versions"')[1]
    assert idnumber.mask(ID_XC_WIFE) in versions
    # Out of reach, the old number finds nobody.
    elsewhere = _client(make_user, "sh-officer", Role.POPULATION_OFFICER, "150105-DEPT-health")
    assert "王丽" not in elsewhere.post(reverse("sharing:people"), {"q": ID_XC_WIFE}).content.decode()


def test_a_shared_read_by_the_corrected_number_answers_the_number_held_now(
    correction: PersonChange, make_user: MakeUser
) -> None:
    before = selectors.person_get_for(reader(), ID_XC_WIFE, "低保复核")
    assert (before.id_number, before.corrected_from) == (ID_XC_WIFE, "")
    police = account_selectors.actor_for(make_user("xc-police-s", Role.POLICE_VERIFIER, XC_POLICE))
    population.change_verify(actor=police, change_id=correction.pk, expected_state="submitted")

    shared = selectors.person_get_for(reader(), ID_XC_WIFE, "低保复核")
    assert (shared.name, shared.id_number, shared.corrected_from) == ("王丽", CORRECTED, ID_XC_WIFE)
    assert shared.id_masked == idnumber.mask(CORRECTED)
    latest = AccessRecord.objects.order_by("-id").first()
    assert latest is not None
    assert latest.person_id == correction.person_id
    # Recorded under the number the resident holds now: their account (registered with it) sees it.
    mine = selectors.access_records_of_resident(account_selectors.actor_for(resident_user(CORRECTED)))
    assert [r.pk for r in mine][:1] == [latest.pk]

    body = (
        TestClient(router)
        .post(
            "/people/lookup",
            json={"id_number": ID_XC_WIFE, "purpose": "低保复核"},
            auth=dataclasses.replace(reader(), channel="api"),
        )
        .json()
    )
    assert (body["id_number"], body["corrected_from"]) == (CORRECTED, ID_XC_WIFE)
    with pytest.raises(NotFound):  # a number nobody held stays unknown
        selectors.person_get_for(reader(), idnumber.make("150102", dt.date(1992, 8, 9), 27), "低保复核")
