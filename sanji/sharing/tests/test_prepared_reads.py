"""The shared read runs statements compiled once (sanji.core.prepared): what it answers and writes must
be what the ORM reads and writes, on every engine, for every field and every person."""

from __future__ import annotations

import datetime as dt

import pytest

from sanji.audit.models import Entry
from sanji.audit.verify import verify_chain
from sanji.core.appendonly import AppendOnlyError
from sanji.core.errors import NotFound
from sanji.population import codes
from sanji.population.models import Person
from sanji.sharing import selectors
from sanji.sharing.models import AccessRecord, ShareableField
from sanji.sharing.tests.conftest import ID_SH, ID_XC_HEAD, ID_XC_WIFE, grant, reader

pytestmark = pytest.mark.usefixtures("residents")
PURPOSE = "核对低保申请人身份"


def _iso(value: object) -> object:
    return value.isoformat() if isinstance(value, dt.date) else value


def _expected(person: Person) -> dict[str, object]:
    """Every shareable field of ``person``, read through ORM model instances."""
    household = person.household
    assert person.building is not None
    residence = person.building.address
    if household is not None:
        residence += f"{household.unit_number}单元" if household.unit_number else ""
        residence += f"{household.room_number}室" if household.room_number else ""
    return {
        "sex": person.sex,
        "ethnicity": person.ethnicity,
        "birth_date": person.birth_date.isoformat(),
        "birthplace_code": person.birthplace_code,
        "marital_status": person.marital_status,
        "registered_code": person.registered_code,
        "registered_address": person.registered_address,
        "registered_locally": person.registered_locally,
        "residence": residence,
        "household": person.household_id,
        "relation": person.relation,
        "status": person.status,
        "status_date": _iso(person.status_date),
        "verified": person.verified,
        "verified_at": _iso(person.verified_at),
    }


def test_every_field_is_answered_as_the_orm_reads_it(residents: dict[str, Person]) -> None:
    every = grant(fields=tuple(ShareableField.values))
    for number, name in ((ID_SH, "其其格"), (ID_XC_HEAD, "王建国"), (ID_XC_WIFE, "王丽")):
        person = Person.objects.select_related("building", "household").get(pk=residents[name].pk)
        shared = selectors.person_get_for(reader(), number, PURPOSE, grant_id=every.pk)
        assert shared.name == name  # the same statement, run again with another person's index
        assert shared.fields == _expected(person)
        assert shared.labels["ethnicity"] == codes.ETHNICITY[person.ethnicity]
    assert isinstance(shared.fields["verified"], bool)
    assert shared.fields["verified_at"] is not None  # imported as verified: an aware timestamp
    assert dt.datetime.fromisoformat(str(shared.fields["verified_at"])).tzinfo is not None


def test_field_sets_are_compiled_apart() -> None:
    g = grant(fields=("sex", "residence", "status"))
    narrow = selectors.person_get_for(reader(), ID_SH, PURPOSE, grant_id=g.pk, fields=["sex"])
    wide = selectors.person_get_for(reader(), ID_SH, PURPOSE, grant_id=g.pk)
    again = selectors.person_get_for(reader(), ID_SH, PURPOSE, grant_id=g.pk, fields=["sex"])
    assert set(narrow.fields) == set(again.fields) == {"sex"}
    assert set(wide.fields) == {"sex", "residence", "status", "status_date"}


def test_the_records_written_read_back_as_written() -> None:
    g = grant()
    shared = selectors.person_get_for(reader(), ID_SH, PURPOSE, grant_id=g.pk)
    access = AccessRecord.objects.get(pk=shared.access_id)
    assert access.at == shared.read_at
    assert access.grant_id == g.pk
    assert access.fields == ["name", "id_number", "sex", "birth_date", "marital_status", "residence"]
    entry = Entry.objects.get(action="sharing.person_read")
    assert entry.target_type == "sharing.accessrecord"
    assert entry.target_id == str(access.pk)
    assert entry.data == {"kind": "shared_read", "fields": access.fields, "grant": g.pk}
    assert verify_chain().ok  # the entry written by the prepared INSERT hashes as it reads back
    # The resident's record of who read them is never rewritten nor removed through the ORM.
    access.purpose = "another purpose"
    with pytest.raises(AppendOnlyError, match="shared-read records are append-only"):
        access.save()
    with pytest.raises(AppendOnlyError):
        access.delete()
    with pytest.raises(AppendOnlyError):
        AccessRecord.objects.filter(pk=access.pk).update(purpose="x")
    with pytest.raises(AppendOnlyError):
        AccessRecord.objects.filter(pk=access.pk).delete()
    assert AccessRecord.objects.get(pk=access.pk).purpose == PURPOSE


@pytest.mark.parametrize("grant_id", [0, -1, 2**63, 10**30])
def test_a_grant_id_out_of_range_is_no_grant(grant_id: int) -> None:
    grant()
    with pytest.raises(NotFound):
        selectors.person_get_for(reader(), ID_SH, PURPOSE, grant_id=grant_id)
    assert not AccessRecord.objects.exists()
