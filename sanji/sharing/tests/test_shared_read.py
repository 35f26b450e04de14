"""The shared read (person_get_for): unconditional items, granted fields, refusals, the records it leaves."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from sanji.audit.models import Entry
from sanji.core import clock, crypto, idnumber
from sanji.core.errors import Forbidden, NotFound, ValidationFailed
from sanji.core.roles import Role
from sanji.population.models import Person
from sanji.sharing import selectors, services
from sanji.sharing.models import AccessChannel, AccessKind, AccessRecord
from sanji.sharing.tests.conftest import (
    CITY_CA,
    CITY_HR,
    ID_SH,
    ID_UNKNOWN,
    ID_XC_HEAD,
    SAIHAN_HEALTH,
    admin,
    department_of,
    grant,
    reader,
)

pytestmark = pytest.mark.usefixtures("residents")
PURPOSE = "核对低保申请人身份"


def test_name_and_id_number_need_no_grant_and_the_read_is_recorded(residents) -> None:
    shared = selectors.person_get_for(reader(), ID_XC_HEAD, PURPOSE)
    assert (shared.name, shared.id_number, shared.id_masked) == ("王建国", ID_XC_HEAD, "150102********1237")
    assert shared.fields == {}
    assert shared.grant_id is None
    access = AccessRecord.objects.get()
    assert access.pk == shared.access_id
    assert access.person_id == residents["王建国"].pk
    assert access.kind == AccessKind.SHARED_READ
    assert access.channel == AccessChannel.PAGE
    assert access.purpose == PURPOSE
    assert access.fields == ["name", "id_number"]
    assert access.department_id == department_of(CITY_CA)
    assert access.username == reader().username
    # The portal finds it from the digest accounts keeps of an applicant's ID number.
    assert access.subject_index == crypto.blind_index(ID_XC_HEAD, purpose="applicant")
    entry = Entry.objects.filter(action="sharing.person_read").get()
    assert entry.purpose == PURPOSE
    assert entry.target_id == str(access.pk)
    assert ID_XC_HEAD not in str(entry.data)
    assert "王建国" not in entry.target_label


def test_granted_fields_are_returned_with_labels() -> None:
    g = grant()
    shared = selectors.person_get_for(reader(), ID_SH, PURPOSE, grant_id=g.pk)
    assert shared.grant_id == g.pk
    assert shared.fields["sex"] == "1"
    assert shared.labels["sex"] == "男"
    assert shared.fields["birth_date"] == "1985-01-20"
    assert shared.fields["marital_status"] == "20"
    assert shared.labels["marital_status"] == "已婚"
    assert shared.fields["residence"].endswith("1单元101室")
    assert "ethnicity" not in shared.fields
    assert "relation" not in shared.fields
    access = AccessRecord.objects.get()
    assert access.grant_id == g.pk
    assert access.fields == ["name", "id_number", "sex", "birth_date", "marital_status", "residence"]


def test_a_subset_of_the_grant_may_be_asked_for() -> None:
    g = grant()
    shared = selectors.person_get_for(reader(), ID_SH, PURPOSE, grant_id=g.pk, fields=["sex", " sex"])
    assert shared.fields == {"sex": "1"}
    assert AccessRecord.objects.get().fields == ["name", "id_number", "sex"]


def test_a_field_without_a_grant_is_refused_and_nothing_is_read() -> None:
    g = grant(fields=("sex",))
    with pytest.raises(Forbidden, match="本部门没有以下项目的共享授权：民族。") as refused:
        selectors.person_get_for(reader(), ID_SH, PURPOSE, grant_id=g.pk, fields=["sex", "ethnicity"])
    assert refused.value.details == [{"field": "fields", "reason": "not_granted", "values": ["ethnicity"]}]
    with pytest.raises(Forbidden):
        selectors.person_get_for(reader(), ID_SH, PURPOSE, fields=["sex"])  # no grant cited at all
    assert not AccessRecord.objects.exists()
    assert not Entry.objects.filter(action="sharing.person_read").exists()


def test_expired_revoked_and_future_grants_are_refused() -> None:
    g = grant(days=10)
    expired = pytest.raises(Forbidden, match=r"已于 \d{4}-\d{2}-\d{2} 到期")
    with clock.frozen(clock.now() + dt.timedelta(days=12)), expired:
        selectors.person_get_for(reader(), ID_SH, PURPOSE, grant_id=g.pk)
    # The last day is still valid (inclusive).
    with clock.frozen(clock.now() + dt.timedelta(days=10)):
        assert selectors.person_get_for(reader(), ID_SH, PURPOSE, grant_id=g.pk).fields
    later = grant(valid_from=clock.today() + dt.timedelta(days=3))
    with pytest.raises(Forbidden, match=r"自 \d{4}-\d{2}-\d{2} 起生效"):
        selectors.person_get_for(reader(), ID_SH, PURPOSE, grant_id=later.pk)
    services.grant_revoke(actor=admin(), grant_id=g.pk, reason="用途已完成")
    with pytest.raises(Forbidden, match=r"已于 \d{4}-\d{2}-\d{2} 撤销"):
        selectors.person_get_for(reader(), ID_SH, PURPOSE, grant_id=g.pk)
    assert AccessRecord.objects.count() == 1  # only the read on the last valid day


def test_another_departments_grant_is_not_found() -> None:
    other = grant(CITY_HR)
    with pytest.raises(NotFound):
        selectors.person_get_for(reader(), ID_SH, PURPOSE, grant_id=other.pk)
    assert selectors.person_get_for(reader(CITY_HR, user_id=7002), ID_SH, PURPOSE, grant_id=other.pk).fields
    assert AccessRecord.objects.get().department_id == department_of(CITY_HR)


@pytest.mark.parametrize("purpose", ["", "   ", "\n"])
def test_a_purpose_is_required(purpose: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        selectors.person_get_for(reader(), ID_SH, purpose)
    assert err.value.details == [{"field": "purpose", "reason": "required"}]
    assert not AccessRecord.objects.exists()


def test_an_overlong_purpose_is_refused() -> None:
    with pytest.raises(ValidationFailed):
        selectors.person_get_for(reader(), ID_SH, "用" * 201)


@pytest.mark.parametrize(
    ("role", "unit"),
    [
        (Role.POPULATION_OFFICER, SAIHAN_HEALTH),
        (Role.WINDOW_CLERK, "150105-CSC-W-civil_affairs"),
        (Role.DEPARTMENT_HEAD, CITY_CA),
        (Role.SYSTEM_ADMIN, "150100-OPS"),
    ],
)
def test_other_roles_may_not_read_shared_data(role: str, unit: str) -> None:
    with pytest.raises(Forbidden):
        selectors.person_get_for(reader(unit, role=role), ID_SH, PURPOSE)
    assert not AccessRecord.objects.exists()


def test_a_department_system_reads_through_the_api_channel() -> None:
    system = reader(role=Role.DEPARTMENT_SYSTEM, channel="api")
    selectors.person_get_for(system, ID_SH, PURPOSE)
    assert AccessRecord.objects.get().channel == AccessChannel.API


def test_an_unknown_id_number_is_not_found_and_records_nothing_personal() -> None:
    with pytest.raises(NotFound):
        selectors.person_get_for(reader(), ID_UNKNOWN, PURPOSE)
    assert not AccessRecord.objects.exists()
    miss = Entry.objects.get(action="sharing.person_not_found")
    assert ID_UNKNOWN not in f"{miss.data} {miss.target_label} {miss.target_id}"
    assert miss.target_type == ""


@pytest.mark.parametrize("raw", ["150102199003071238", "1501021990030712", "abc", "15010219900230123X"])
def test_a_malformed_id_number_is_refused_clearly(raw: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        selectors.person_get_for(reader(), raw, PURPOSE)
    assert err.value.details == [{"field": "id_number", "reason": "invalid"}]


def test_presented_forms_are_normalised() -> None:
    spaced = f" {ID_XC_HEAD[:6]} {ID_XC_HEAD[6:14]} {ID_XC_HEAD[14:]} "
    assert selectors.person_get_for(reader(), spaced, PURPOSE).name == "王建国"
    fifteen = ID_SH[:6] + ID_SH[8:17]  # the old 15-digit form of the same person
    assert idnumber.upgrade(fifteen) == ID_SH
    assert selectors.person_get_for(reader(), fifteen, PURPOSE).id_number == ID_SH


def test_the_read_is_not_limited_by_region_but_by_department() -> None:
    district = reader("150105-DEPT-civil_affairs", user_id=7003)
    assert selectors.person_get_for(district, ID_XC_HEAD, PURPOSE).name == "王建国"  # lives in 新城区
    city_grant = grant(CITY_CA)
    with pytest.raises(NotFound):  # a district bureau is its own department, with its own grants
        selectors.person_get_for(district, ID_XC_HEAD, PURPOSE, grant_id=city_grant.pk)


def test_the_lookup_is_a_handful_of_queries(django_assert_max_num_queries) -> None:
    g = grant()
    actor = dataclasses.replace(reader(), channel="api")
    # grant, person (one indexed query with the residence join), the access record, the audit
    # append (head, entry, head), and the savepoints of the two nested atomic blocks in a test.
    with django_assert_max_num_queries(10):
        selectors.person_get_for(actor, ID_SH, PURPOSE, grant_id=g.pk)


def test_every_read_is_another_record() -> None:
    for _ in range(3):
        selectors.person_get_for(reader(), ID_SH, PURPOSE)
    person = Person.objects.get(name="其其格")
    assert AccessRecord.objects.filter(person=person).count() == 3
    assert Entry.objects.filter(action="sharing.person_read").count() == 3
