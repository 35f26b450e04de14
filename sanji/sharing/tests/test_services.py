"""Grants (issue, revoke, refusals), unmasking an ID number, and the resident's own access log."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from sanji.audit.models import Entry
from sanji.core import clock
from sanji.core.actors import Grant
from sanji.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from sanji.core.roles import Role
from sanji.population.models import Person
from sanji.sharing import selectors, services
from sanji.sharing.models import AccessKind, AccessRecord, SharingGrant
from sanji.sharing.tests.conftest import (
    CITY_CA,
    ID_SH,
    ID_XC_HEAD,
    ID_XC_WIFE,
    SAIHAN_HEALTH,
    XINCHENG_HEALTH,
    actor_at,
    admin,
    department_of,
    grant,
    reader,
    resident_user,
)

pytestmark = pytest.mark.usefixtures("residents")


def _create(**overrides: object) -> SharingGrant:
    values: dict[str, object] = {
        "actor": admin(),
        "department_id": department_of(CITY_CA),
        "fields": ["sex", "residence"],
        "purpose": "高龄津贴发放核对",
        "legal_basis": "《内蒙古自治区高龄津贴制度》",
        "valid_from": clock.today(),
        "valid_until": clock.today() + dt.timedelta(days=90),
    }
    values.update(overrides)
    return services.grant_create(**values)  # type: ignore[arg-type]


# --- grants --------------------------------------------------------------------------------------


def test_the_system_administrator_issues_a_grant_audited() -> None:
    g = _create(fields=["residence", "sex", "sex"])
    assert g.fields == ["sex", "residence"]  # deduplicated, in the catalogue's order
    assert g.granted_by_username == admin().username
    assert g.revoked_at is None
    entry = Entry.objects.get(action="sharing.grant_created")
    assert entry.target_id == str(g.pk)
    assert entry.data["fields"] == ["sex", "residence"]


@pytest.mark.parametrize(
    ("role", "unit"),
    [
        (Role.DEPARTMENT_HEAD, CITY_CA),
        (Role.DEPARTMENT_DATA_OFFICER, CITY_CA),
        (Role.SECURITY_ADMIN, "150100-OPS"),
        (Role.POPULATION_OFFICER, SAIHAN_HEALTH),
    ],
)
def test_only_the_system_administrator_issues_grants(role: str, unit: str) -> None:
    with pytest.raises(Forbidden):
        _create(actor=actor_at(role, unit))
    assert not SharingGrant.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"fields": []}, "fields"),
        ({"fields": ["sex", "id_number_encrypted"]}, "fields"),
        ({"purpose": "  "}, "purpose"),
        ({"legal_basis": ""}, "legal_basis"),
        ({"valid_until": dt.date(2026, 3, 1)}, "valid_until"),  # before valid_from (2026-03-03)
        ({"valid_from": dt.date(2025, 1, 1), "valid_until": dt.date(2025, 12, 31)}, "valid_until"),  # past
        ({"valid_until": dt.date(2030, 1, 1)}, "valid_until"),  # longer than three years
    ],
)
def test_bad_grants_are_refused_whole(overrides: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        _create(**overrides)
    assert field in {d["field"] for d in err.value.details}
    assert not SharingGrant.objects.exists()
    assert not Entry.objects.filter(action="sharing.grant_created").exists()


def test_a_department_out_of_reach_is_not_found() -> None:
    district_admin = dataclasses.replace(
        admin(), grants=(Grant(role=Role.SYSTEM_ADMIN, unit_id=1, region_path="150100/150102/"),)
    )
    with pytest.raises(NotFound):
        _create(actor=district_admin)
    with pytest.raises(NotFound):
        _create(department_id=999_999)


def test_revoke_once_with_a_reason() -> None:
    g = grant()
    with pytest.raises(ValidationFailed):
        services.grant_revoke(actor=admin(), grant_id=g.pk, reason=" ")
    with pytest.raises(Forbidden):
        services.grant_revoke(actor=reader(), grant_id=g.pk, reason="自行撤销")
    revoked = services.grant_revoke(actor=admin(), grant_id=g.pk, reason="用途已完成")
    assert revoked.revoked_at == clock.now()
    assert revoked.revoke_reason == "用途已完成"
    with pytest.raises(Conflict):
        services.grant_revoke(actor=admin(), grant_id=g.pk, reason="again")
    assert Entry.objects.filter(action="sharing.grant_revoked").count() == 1


def test_readers_see_their_departments_grants_only() -> None:
    own = grant(CITY_CA)
    other = grant("150100-DEPT-human_resources")
    assert list(selectors.grant_list_for(reader())) == [own]
    assert set(selectors.grant_list_for(admin())) == {own, other}
    assert [g.pk for g in selectors.grants_usable_by(reader())] == [own.pk]
    with pytest.raises(NotFound):
        selectors.grant_get_for(reader(), other.pk)
    with pytest.raises(Forbidden):
        selectors.grant_list_for(actor_at(Role.WINDOW_CLERK, "150105-CSC-W-civil_affairs"))
    services.grant_revoke(actor=admin(), grant_id=own.pk, reason="停止")
    assert selectors.grants_usable_by(reader()) == []
    assert list(selectors.grant_list_for(reader(), active_only=True)) == []


# --- unmasking -----------------------------------------------------------------------------------


def test_population_staff_unmask_an_id_for_a_purpose(residents) -> None:
    officer = actor_at(Role.POPULATION_OFFICER, XINCHENG_HEALTH)
    person = residents["王丽"]
    assert services.person_id_unmask(actor=officer, person_id=person.pk, purpose="核对出生登记") == ID_XC_WIFE
    access = AccessRecord.objects.get()
    assert access.kind == AccessKind.ID_UNMASKED
    assert access.fields == ["id_number"]
    assert access.purpose == "核对出生登记"
    assert access.person_id == person.pk
    entry = Entry.objects.get(action="population.id_unmasked")
    assert entry.purpose == "核对出生登记"
    assert ID_XC_WIFE not in str(entry.data)


def test_unmasking_needs_a_purpose_and_the_person_in_reach(residents) -> None:
    person = residents["王丽"]  # lives in 新城区
    with pytest.raises(ValidationFailed):
        services.person_id_unmask(
            actor=actor_at(Role.POPULATION_OFFICER, XINCHENG_HEALTH), person_id=person.pk, purpose=""
        )
    for outsider in (
        actor_at(Role.POPULATION_OFFICER, SAIHAN_HEALTH),  # another district
        reader(),  # a data officer reads shared data, not the registry
        actor_at(Role.WINDOW_CLERK, "150102-CSC-W-civil_affairs"),
    ):
        with pytest.raises(NotFound):
            services.person_id_unmask(actor=outsider, person_id=person.pk, purpose="看看")
    with pytest.raises(NotFound):
        services.person_id_unmask(
            actor=actor_at(Role.POPULATION_OFFICER, XINCHENG_HEALTH), person_id=10**9, purpose="x"
        )
    assert not AccessRecord.objects.exists()
    assert not Entry.objects.filter(action="population.id_unmasked").exists()


# --- the resident's access log -------------------------------------------------------------------


def test_the_resident_sees_who_read_their_record(make_user) -> None:
    g = grant()
    selectors.person_get_for(reader(), ID_XC_HEAD, "低保复核", grant_id=g.pk)
    selectors.person_get_for(reader(), ID_SH, "别人的记录")
    officer = actor_at(Role.POPULATION_OFFICER, XINCHENG_HEALTH)
    head = Person.objects.get(name="王建国")
    with clock.frozen(clock.now() + dt.timedelta(hours=1)):
        services.person_id_unmask(actor=officer, person_id=head.pk, purpose="户籍核对")
    user = resident_user(ID_XC_HEAD)
    from sanji.accounts.selectors import actor_for

    rows = list(selectors.access_records_of_resident(actor_for(user)))
    assert [(r.kind, r.purpose) for r in rows] == [
        (AccessKind.ID_UNMASKED, "户籍核对"),
        (AccessKind.SHARED_READ, "低保复核"),
    ]
    assert rows[1].department is not None
    assert rows[1].department.name
    assert rows[1].grant == g
    # Someone else, or an account without an ID number, sees nothing of it.
    other = resident_user(ID_XC_WIFE, username="wife")
    assert not selectors.access_records_of_resident(actor_for(other)).exists()
    staff = make_user("clerk", Role.WINDOW_CLERK, "150105-CSC-W-civil_affairs")
    assert not selectors.access_records_of_resident(actor_for(staff)).exists()
    assert not selectors.access_records_of_resident(
        dataclasses.replace(actor_for(user), user_id=None)
    ).exists()


def test_staff_see_who_read_a_person_they_may_read(residents) -> None:
    selectors.person_get_for(reader(), ID_SH, "低保复核")
    person = residents["其其格"]
    officer = actor_at(Role.POPULATION_OFFICER, SAIHAN_HEALTH)
    assert [r.purpose for r in selectors.access_records_of_person(officer, person.pk)] == ["低保复核"]
    with pytest.raises(NotFound):
        selectors.access_records_of_person(actor_at(Role.POPULATION_OFFICER, XINCHENG_HEALTH), person.pk)
