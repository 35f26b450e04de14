"""Sharing pages through the test client, signed in as real users (every sign-in step done)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from sanji.accounts.models import User
from sanji.accounts.testing import sign_in
from sanji.audit.models import Entry
from sanji.core.roles import Role
from sanji.sharing.models import AccessKind, AccessRecord, SharingGrant
from sanji.sharing.tests.conftest import (
    CITY_CA,
    ID_SH,
    ID_UNKNOWN,
    ID_XC_HEAD,
    OPS,
    XINCHENG_HEALTH,
    MakeUser,
    department_of,
    grant,
    resident_user,
)

pytestmark = pytest.mark.usefixtures("residents")
Login = Callable[..., Client]


@pytest.fixture
def login(make_user: MakeUser) -> Login:
    def make(role: str | None, unit: str | None, user: User | None = None) -> Client:
        if user is None:
            user = make_user(f"{role}-{unit}".replace("_", "-").lower(), role, unit)
        client = Client()
        sign_in(client, user)
        return client

    return make


def test_data_officer_reads_a_person_for_a_purpose(login: Login) -> None:
    g = grant()
    officer = login(Role.DEPARTMENT_DATA_OFFICER, CITY_CA)
    page = officer.get(reverse("sharing:read"))
    assert page.status_code == 200
    assert g.purpose in page.content.decode()  # the department's grants are listed to choose from
    res = officer.post(
        reverse("sharing:read"), {"id_number": ID_SH, "purpose": "低保复核", "grant": str(g.pk)}
    )
    body = res.content.decode()
    assert "其其格" in body
    assert "150105********" in body  # masked by default, the full number behind a disclosure
    assert "1单元101室" in body
    access = AccessRecord.objects.get()
    assert access.purpose == "低保复核"
    assert access.channel == "page"


def test_shared_read_page_refusals(login: Login) -> None:
    officer = login(Role.DEPARTMENT_DATA_OFFICER, CITY_CA)
    no_purpose = officer.post(reverse("sharing:read"), {"id_number": ID_SH, "purpose": ""})
    assert no_purpose.status_code == 200
    assert "其其格" not in no_purpose.content.decode()
    unknown = officer.post(reverse("sharing:read"), {"id_number": ID_UNKNOWN, "purpose": "核对"})
    assert "没有这个身份证号码" in unknown.content.decode()
    bad = officer.post(reverse("sharing:read"), {"id_number": "12345", "purpose": "核对"})
    assert "不是有效的公民身份号码。" in bad.content.decode()
    assert not AccessRecord.objects.exists()
    # Other staff do not have the page at all.
    clerk = login(Role.POPULATION_OFFICER, XINCHENG_HEALTH)
    assert clerk.get(reverse("sharing:read")).status_code == 404
    assert clerk.post(reverse("sharing:read"), {"id_number": ID_SH, "purpose": "x"}).status_code == 404


def test_administrator_issues_and_revokes_grants(login: Login) -> None:
    admin = login(Role.SYSTEM_ADMIN, OPS)
    assert admin.get(reverse("sharing:grants")).status_code == 200
    res = admin.post(
        reverse("sharing:grants"),
        {
            "department": str(department_of(CITY_CA)),
            "shared_fields": ["sex", "residence"],
            "purpose": "高龄津贴核对",
            "legal_basis": "自治区高龄津贴制度",
            "valid_from": "2026-03-03",
            "valid_until": "2026-12-31",
        },
    )
    assert res.status_code == 302
    g = SharingGrant.objects.get()
    assert g.fields == ["sex", "residence"]
    bad = admin.post(reverse("sharing:grants"), {"department": str(department_of(CITY_CA)), "purpose": "x"})
    assert bad.status_code == 200
    assert SharingGrant.objects.count() == 1
    admin.post(reverse("sharing:grant_revoke", args=[g.pk]), {"reason": "停止发放"})
    g.refresh_from_db()
    assert g.revoked_at is not None
    # A reader sees the list, without the form; a clerk sees nothing; nobody else revokes.
    officer = login(Role.DEPARTMENT_DATA_OFFICER, CITY_CA)
    listing = officer.get(reverse("sharing:grants")).content.decode()
    assert "高龄津贴核对" in listing
    assert 'id="grant-form"' not in listing
    assert officer.post(reverse("sharing:grants"), {}).status_code == 404
    assert officer.post(reverse("sharing:grant_revoke", args=[g.pk]), {"reason": "x"}).status_code == 302
    assert Entry.objects.filter(action="sharing.grant_revoked").count() == 1
    clerk = login(Role.WINDOW_CLERK, "150105-CSC-W-civil_affairs")
    assert clerk.get(reverse("sharing:grants")).status_code == 404


def test_person_search_page_and_unmask(login: Login, residents) -> None:
    officer = login(Role.POPULATION_OFFICER, XINCHENG_HEALTH)
    by_id = officer.post(reverse("sharing:people"), {"q": ID_XC_HEAD}).content.decode()
    assert "王建国" in by_id
    results = by_id.split('id="people"', 1)[1]
    assert "150102********1237" in results
    assert ID_XC_HEAD not in results  # the list shows masked numbers only
    by_name = officer.post(reverse("sharing:people"), {"q": "王"}).content.decode()
    assert "王丽" in by_name
    head = residents["王建国"]
    page = officer.get(reverse("sharing:person", args=[head.pk])).content.decode()
    assert "150102********1237" in page
    assert ID_XC_HEAD not in page
    assert "/population/map/?building=" in page
    members = page.split('id="members"', 1)[1].split("</table>", 1)[0]
    assert "户主" in members  # the relation's name (GB/T 4761), not its code
    assert "<td>02</td>" not in members
    refused = officer.post(reverse("sharing:person_unmask", args=[head.pk]), {"purpose": ""})
    assert ID_XC_HEAD not in refused.content.decode()
    unmasked = officer.post(reverse("sharing:person_unmask", args=[head.pk]), {"purpose": "核对户籍"})
    assert ID_XC_HEAD in unmasked.content.decode()
    assert AccessRecord.objects.get().kind == AccessKind.ID_UNMASKED
    assert Entry.objects.filter(action="population.id_unmasked").count() == 1
    # Outside reach: 404, never 403.
    other = login(Role.POPULATION_OFFICER, "150105-DEPT-health")
    assert other.get(reverse("sharing:person", args=[head.pk])).status_code == 404
    assert other.post(reverse("sharing:person_unmask", args=[head.pk]), {"purpose": "x"}).status_code == 404
    officer_ca = login(Role.DEPARTMENT_DATA_OFFICER, CITY_CA)
    assert officer_ca.get(reverse("sharing:people")).status_code == 404
    assert officer_ca.get(reverse("sharing:person", args=[head.pk])).status_code == 404


def test_resident_sees_who_read_their_record(login: Login) -> None:
    officer = login(Role.DEPARTMENT_DATA_OFFICER, CITY_CA)
    officer.post(reverse("sharing:read"), {"id_number": ID_XC_HEAD, "purpose": "低保复核"})
    resident = login(None, None, user=resident_user(ID_XC_HEAD))
    page = resident.get(reverse("sharing:my_reads")).content.decode()
    assert "低保复核" in page
    assert "民政局" in page  # the organ that read
    assert "共享查询：姓名、身份证号码" in page  # what was read, by the fields' names
    assert "department-data-officer" not in page  # not the clerk's own account
    other = login(None, None, user=resident_user(ID_SH, username="other"))
    assert "低保复核" not in other.get(reverse("sharing:my_reads")).content.decode()
    assert Client().get(reverse("sharing:my_reads")).status_code == 302  # sign in first
