"""Change services against the real database: each kind applied with history, the feed, refusals."""

from __future__ import annotations

import datetime as dt

import pytest

from sanji.audit.models import Entry
from sanji.core import crypto, idnumber
from sanji.core.errors import Conflict, Forbidden, IllegalTransition, NotFound, ValidationFailed
from sanji.population import selectors, services
from sanji.population.models import (
    Building,
    ChangeFeedEntry,
    ChangeState,
    Household,
    Person,
    PersonChange,
    PersonStatus,
    PersonVersion,
)
from sanji.population.tests.changes.conftest import World, new_id

pytestmark = pytest.mark.django_db
S = ChangeState.SUBMITTED


def submit(world: World, kind: str, person: Person | None, actor=None, **values):
    return services.change_submit(
        actor=actor or world.officer, kind=kind, person_id=person.pk if person else None, values=values
    )


def verify(world: World, change: PersonChange) -> PersonChange:
    return services.change_verify(actor=world.police, change_id=change.pk, expected_state=S)


def test_death_applies_with_history_feed_counts_and_audit(world: World) -> None:
    person = world.person(0)
    building = Building.objects.get(residents=person)
    count = building.resident_count
    before = person.snapshot()
    change = submit(world, "death", person, effective_date="2025-05-01")
    assert change.state == S
    assert change.person_version == 1
    assert change.region_path == person.region_path
    assert Person.objects.get(pk=person.pk).status == PersonStatus.LIVING  # nothing applied yet
    verify(world, change)
    person.refresh_from_db()
    assert (person.status, person.status_date) == (PersonStatus.DECEASED, dt.date(2025, 5, 1))
    assert person.version == 2
    assert person.verified
    assert person.source_ref == f"change:{change.pk}"
    old = PersonVersion.objects.get(person=person)
    assert old.version == 1
    assert old.snapshot == before
    assert old.valid_to == person.valid_from
    assert Building.objects.get(pk=building.pk).resident_count == count - 1
    entry = ChangeFeedEntry.objects.get(change=change)
    assert (entry.kind, entry.person_id, entry.fields) == ("death", person.pk, ["status", "status_date"])
    assert list(
        Entry.objects.filter(target_type="population.personchange", target_id=str(change.pk)).values_list(
            "action", flat=True
        )
    ) == [
        "population.change_submitted",
        "population.change_verified",
    ]
    change.refresh_from_db()
    assert change.state == ChangeState.VERIFIED
    assert change.decided_by_id == world.police.user_id


@pytest.mark.parametrize(
    ("kind", "values", "expected"),
    [
        ("marriage_status", {"marital_status": "离婚"}, {"marital_status": "40"}),
        ("name", {"name": "张卫"}, {"name": "张卫"}),
        ("move_out", {"effective_date": "2025-04-30"}, {"status": "moved_out"}),
        ("correction", {"ethnicity": "满族", "registered_address": "赛罕区某路1号"},
         {"ethnicity": "11", "registered_address": "赛罕区某路1号"}),
    ],
)  # fmt: skip
def test_each_kind_sets_its_fields(world: World, kind, values, expected) -> None:
    person = world.person(0)
    verify(world, submit(world, kind, person, **values))
    person.refresh_from_db()
    assert {k: getattr(person, k) for k in expected} == expected
    assert person.version == 2


def test_correction_of_the_id_number_reindexes(world: World) -> None:
    person = world.person(1)
    number = new_id(dt.date(1982, 3, 5), seq=44)
    verify(world, submit(world, "correction", person, id_number=number))
    person.refresh_from_db()
    assert person.id_index == crypto.blind_digest(number, purpose="person")
    assert person.birth_date == dt.date(1982, 3, 5)
    assert person.id_masked == idnumber.mask(number)
    assert selectors.person_find_by_id_number(world.officer, number).pk == person.pk


def test_a_corrected_number_is_kept_with_its_correction_and_still_leads_to_the_person(world: World) -> None:
    person = world.person(1)
    old = crypto.decrypt(person.id_number_encrypted)
    number = new_id(dt.date(1982, 3, 5), seq=45)
    change = verify(world, submit(world, "correction", person, id_number=number))
    change.refresh_from_db()
    assert crypto.decrypt(change.previous_id_encrypted) == old
    assert bytes(change.previous_id_index) == crypto.blind_digest(old, purpose="person")
    with pytest.raises(NotFound):
        selectors.person_find_by_id_number(world.officer, old)
    found, by = selectors.person_by_corrected_id_number(world.officer, old)
    assert (found.pk, by.pk) == (person.pk, change.pk)
    with pytest.raises(NotFound):  # a number never corrected away
        selectors.person_by_corrected_id_number(world.officer, new_id(dt.date(1982, 3, 5), seq=46))
    # Other changes keep nothing there.
    name = verify(world, submit(world, "name", world.person(2), name="王新名"))
    name.refresh_from_db()
    assert (name.previous_id_encrypted, bytes(name.previous_id_index)) == ("", b"")


def test_address_to_an_existing_and_to_a_new_household(world: World) -> None:
    person, other = world.person(0), world.person(2)
    old_building = person.building_id or 0
    verify(world, submit(world, "address", person, household_code=other.household_id, relation="99"))
    person.refresh_from_db()
    assert (person.household_id, person.building_id, person.relation) == (
        other.household_id,
        other.building_id,
        "99",
    )
    assert Building.objects.get(pk=old_building).resident_count == 1
    target = world.buildings["150105001001"][3]
    verify(
        world,
        submit(
            world, "address", person, household_code="H-NEW-9", building_code=target.code,
            unit_number="2", room_number="301", lon=target.lon, lat=target.lat,
        ),
    )  # fmt: skip
    person.refresh_from_db()
    household = Household.objects.get(code="H-NEW-9")
    assert (household.building_id, household.room_number, household.lon) == (target.pk, "301", target.lon)
    assert person.building_id == target.pk
    assert person.version == 3
    assert Building.objects.get(pk=target.pk).resident_count == 1


def test_birth_creates_a_person_in_the_household(world: World) -> None:
    mother = world.person(1)
    number = new_id(dt.date(2025, 3, 1), seq=51)
    change = submit(
        world, "birth", None, id_number=number, name="张小宝", ethnicity="汉族",
        household_code=mother.household_id, relation="子",
    )  # fmt: skip
    assert change.values["id_number"] == idnumber.mask(number)
    assert number not in str(change.values)
    verify(world, change)
    baby = Person.objects.get(id_index=crypto.blind_digest(number, purpose="person"))
    assert (baby.name, baby.sex, baby.birth_date, baby.marital_status) == (
        "张小宝",
        "1",
        dt.date(2025, 3, 1),
        "10",
    )
    assert baby.household_id == mother.household_id
    assert baby.relation == "20"
    assert baby.verified
    assert baby.registered_code == "150105001001"
    assert baby.registered_locally
    change.refresh_from_db()
    assert change.person_id == baby.pk
    assert ChangeFeedEntry.objects.get(change=change).fields == ["created"]


def test_move_in_of_someone_registered_elsewhere(world: World) -> None:
    number = idnumber.make("110105", dt.date(1995, 6, 6), 77)
    fifteen = idnumber.make("110105", dt.date(1965, 6, 6), 78)
    target = world.buildings["150105001001"][2]
    for n, (ident, household) in enumerate(((number, "H-MI-1"), (fifteen[:6] + fifteen[8:17], "H-MI-2"))):
        verify(
            world,
            submit(
                world, "move_in", None, actor=world.worker, id_number=ident, name="刘洋", ethnicity="01",
                registered_code="110105", registered_address="北京市朝阳区", household_code=household,
                building_code=target.code, relation="02", effective_date="2025-05-0" + str(n + 1),
            ),
        )  # fmt: skip
    newcomer = Person.objects.get(household_id="H-MI-1")
    assert not newcomer.registered_locally
    assert newcomer.region_path == target.region_path
    old = Person.objects.get(household_id="H-MI-2")
    assert crypto.decrypt(old.id_number_original_encrypted) == fifteen[:6] + fifteen[8:17]
    assert Building.objects.get(pk=target.pk).resident_count == 2


def test_reject_returns_with_reason_and_applies_nothing(world: World) -> None:
    person = world.person(0)
    change = submit(world, "name", person, name="张卫")
    with pytest.raises(ValidationFailed):
        services.change_reject(actor=world.police, change_id=change.pk, reason=" ")
    services.change_reject(actor=world.police, change_id=change.pk, reason="户口簿姓名未变更")
    change.refresh_from_db()
    assert (change.state, change.decision_reason) == (ChangeState.REJECTED, "户口簿姓名未变更")
    person.refresh_from_db()
    assert (person.name, person.version) == ("张伟", 1)
    assert not ChangeFeedEntry.objects.exists()


def test_withdraw_only_by_the_submitter(world: World) -> None:
    change = submit(world, "name", world.person(0), name="张卫")
    with pytest.raises(Forbidden):
        services.change_withdraw(actor=world.worker, change_id=change.pk)
    with pytest.raises(Forbidden):
        services.change_withdraw(actor=world.police, change_id=change.pk)
    services.change_withdraw(actor=world.officer, change_id=change.pk)
    assert PersonChange.objects.get(pk=change.pk).state == ChangeState.WITHDRAWN
    with pytest.raises(IllegalTransition):
        verify(world, change)


def test_deciding_twice_is_a_clear_conflict(world: World) -> None:
    change = submit(world, "name", world.person(0), name="张卫")
    verify(world, change)
    with pytest.raises(IllegalTransition, match="已核准"):
        verify(world, change)
    with pytest.raises(IllegalTransition):
        services.change_reject(actor=world.police, change_id=change.pk, reason="重复")
    other = submit(world, "name", world.person(1), name="王方")
    with pytest.raises(Conflict, match="请重新加载"):
        services.change_verify(actor=world.police, change_id=other.pk, expected_state="verified")
    assert ChangeFeedEntry.objects.count() == 1


def test_a_second_open_change_for_one_person_is_refused_at_submission(world: World) -> None:
    """One open change per person: each is verified against the facts the one before it left."""
    person = world.person(0)
    first = submit(world, "name", person, name="张卫")
    for actor in (world.officer, world.worker):  # whoever submits it
        with pytest.raises(ValidationFailed) as refused:
            submit(world, "address", person, actor=actor, household_code=world.person(2).household_id)
        [detail] = refused.value.details
        assert (detail["field"], detail["code"], detail["change_id"]) == (
            "person_id",
            "change_waiting",
            first.pk,
        )
        assert f"此人已有一项待核查的人口变动（第 {first.pk} 号，姓名变更，" in detail["reason"]
        assert "核查完毕或撤回后再申报" in detail["reason"]
    assert PersonChange.objects.count() == 1
    # A correction to a number for which a birth waits is refused the same way (by the number).
    born = new_id(dt.date(2025, 1, 9), seq=61)
    birth = submit(
        world, "birth", None, id_number=born, name="张小宝", ethnicity="01",
        household_code="H-SA-1", relation="20",
    )  # fmt: skip
    with pytest.raises(ValidationFailed) as by_number:
        submit(world, "correction", world.person(2), id_number=born)
    assert [(d["field"], d["change_id"]) for d in by_number.value.details] == [("id_number", birth.pk)]
    # Once the first is decided (or withdrawn), the next one goes through.
    verify(world, first)
    second = submit(world, "address", person, household_code=world.person(2).household_id)
    services.change_withdraw(actor=world.officer, change_id=second.pk)
    third = submit(world, "address", person, household_code=world.person(2).household_id)
    verify(world, third)
    person.refresh_from_db()
    assert (person.name, person.household_id, person.version) == ("张卫", "H-SA-2", 3)


def test_a_change_submitted_against_older_facts_is_refused_at_verification(world: World) -> None:
    """The version check stays as the last guard (e.g. changes left waiting from before the one-open-
    change rule): nothing of a stale change is applied, and it says why in the verifier's language."""
    person = world.person(0)
    stale = submit(world, "address", person, household_code=world.person(2).household_id)
    verify(world, submit(world, "name", world.person(1), name="王方"))
    PersonChange.objects.filter(pk=stale.pk).update(person_version=0)  # as if submitted before
    counts = (PersonVersion.objects.count(), ChangeFeedEntry.objects.count(), Household.objects.count())
    building_counts = list(Building.objects.order_by("pk").values_list("resident_count", flat=True))
    with pytest.raises(Conflict, match="申报后已有变更") as conflict:
        verify(world, stale)
    assert conflict.value.details == {"person_version": 1, "submitted_against": 0}
    person.refresh_from_db()
    assert (person.version, person.household_id) == (1, "H-SA-1")
    assert counts == (
        PersonVersion.objects.count(),
        ChangeFeedEntry.objects.count(),
        Household.objects.count(),
    )
    assert building_counts == list(Building.objects.order_by("pk").values_list("resident_count", flat=True))
    assert PersonChange.objects.get(pk=stale.pk).state == S  # still waiting: to be rejected
    services.change_reject(actor=world.police, change_id=stale.pk, reason="人员信息已变更，请重新申报")


def test_out_of_area_is_not_found(world: World) -> None:
    with pytest.raises(NotFound):
        submit(world, "name", world.xincheng, name="李墙")
    with pytest.raises(NotFound):  # the grid worker reaches one community only
        submit(world, "name", world.village, actor=world.worker, name="赵明")
    change = submit(world, "name", world.person(0), name="张卫")
    for outsider in (world.police_xc, world.officer_xc, world.department, world.clerk):
        with pytest.raises(NotFound):
            services.change_verify(actor=outsider, change_id=change.pk, expected_state=S)
        with pytest.raises(NotFound):
            services.change_reject(actor=outsider, change_id=change.pk, reason="x")
        with pytest.raises(NotFound):
            selectors.change_get_for(outsider, change.pk)
    assert PersonChange.objects.get(pk=change.pk).state == S


def test_nobody_verifies_their_own_submission(world: World) -> None:
    from sanji.core.actors import Actor

    both = Actor(
        user_id=world.officer.user_id,
        username="officer",
        grants=world.officer.grants + world.police.grants,
    )
    change = submit(world, "name", world.person(0), actor=both, name="张卫")
    with pytest.raises(Forbidden):
        services.change_verify(actor=both, change_id=change.pk, expected_state=S)
    with pytest.raises(Forbidden):  # a submitter may see the change but not decide it
        services.change_verify(actor=world.worker, change_id=change.pk, expected_state=S)
    verify(world, change)


def test_who_may_submit(world: World) -> None:
    for actor in (world.police, world.clerk, world.department):
        with pytest.raises((Forbidden, NotFound)):
            submit(world, "name", world.person(0), actor=actor, name="张卫")
    assert not PersonChange.objects.exists()


@pytest.mark.parametrize(
    ("kind", "values", "field"),
    [
        ("name", {"name": "张伟"}, "name"),  # the registered value
        ("name", {"name": "Zhang Wei"}, "name"),
        ("marriage_status", {"marital_status": "20"}, "marital_status"),
        ("death", {"effective_date": "1970-01-01"}, "effective_date"),
        ("death", {"effective_date": "2999-01-01"}, "effective_date"),
        ("address", {"household_code": "H-SA-1"}, "household_code"),  # already lives there
        ("address", {"household_code": "H-NOWHERE"}, "household_code"),
        ("address", {"household_code": "H-NEW", "building_code": "999999999999999"}, "building_code"),
        ("address", {"household_code": "H-XC-1"}, "household_code"),  # another district's household
        ("address", {"household_code": "H-SA-2", "lon": "111.7", "lat": "40.8"}, "lon"),
        ("correction", {"id_number": "same"}, "id_number"),
        ("correction", {"id_number": "taken"}, "id_number"),
        ("death", {"name": "张卫", "effective_date": "2025-01-01"}, "name"),
        ("birth", {"name": "张卫"}, "person_id"),
    ],
)
def test_bad_input_is_refused_and_nothing_stored(world: World, kind, values, field) -> None:
    person = world.person(0)
    number = crypto.decrypt(person.id_number_encrypted)
    if values.get("id_number") == "same":
        values = {"id_number": number}
    elif values.get("id_number") == "taken":
        values = {"id_number": crypto.decrypt(world.person(1).id_number_encrypted)}
    with pytest.raises(ValidationFailed) as exc:
        submit(world, kind, person, **values)
    assert field in {d["field"] for d in exc.value.details}, exc.value.details
    assert not PersonChange.objects.exists()


def test_new_person_refusals(world: World) -> None:
    registered = crypto.decrypt(world.person(0).id_number_encrypted)
    with pytest.raises(ValidationFailed, match="处问题") as exc:
        submit(
            world, "birth", None, id_number=registered, name="张小宝", ethnicity="01",
            household_code="H-SA-1", relation="20",
        )  # fmt: skip
    assert exc.value.details == [
        {"field": "id_number", "reason": "此公民身份号码已在人口库中登记", "code": "registered"}
    ]
    number = new_id(dt.date(2025, 1, 9), seq=61)
    values = {
        "id_number": number,
        "name": "张小宝",
        "ethnicity": "01",
        "household_code": "H-SA-1",
        "relation": "20",
    }
    submit(world, "birth", None, **values)
    with pytest.raises(ValidationFailed, match="处问题") as twice:
        submit(world, "birth", None, **values)  # the same birth twice while the first waits
    assert twice.value.details[0]["code"] == "change_waiting"
    assert "此公民身份号码已有一项待核查的人口变动" in twice.value.details[0]["reason"]
    with pytest.raises(ValidationFailed):
        submit(world, "death", None, effective_date="2025-01-01")  # a death names the person


def test_feed_numbers_follow_commit_order(world: World) -> None:
    changes = [
        submit(world, "name", world.person(i), name=n) for i, n in enumerate(["张卫", "王方", "其其格"])
    ]
    for change in reversed(changes):
        verify(world, change)
    entries = list(ChangeFeedEntry.objects.order_by("seq"))
    assert [e.seq for e in entries] == [1, 2, 3]
    assert [e.change_id for e in entries] == [c.pk for c in reversed(changes)]


def test_a_new_household_taken_meanwhile_in_another_building_conflicts(world: World) -> None:
    person, other = world.person(0), world.person(2)
    b1, b2 = world.buildings["150105001001"][4], world.buildings["150105001001"][5]
    first = submit(world, "address", person, household_code="H-NEW-X", building_code=b1.code)
    second = submit(world, "address", other, household_code="H-NEW-X", building_code=b2.code)
    verify(world, first)
    with pytest.raises(Conflict, match="另一楼栋"):
        verify(world, second)
    other.refresh_from_db()
    assert (other.household_id, other.version) == ("H-SA-2", 1)


def test_cancel_ends_a_record_and_restore_undoes_a_status_recorded_in_error(world: World) -> None:
    person = world.person(0)
    building = Building.objects.get(residents=person)
    living = building.resident_count
    with pytest.raises(ValidationFailed) as no_reason:
        submit(world, "cancel", person, effective_date="2025-05-01")
    assert {"field": "reason", "reason": "注销登记须写明原因", "code": "required"} in no_reason.value.details
    with pytest.raises(ValidationFailed) as nothing_to_restore:
        services.change_submit(
            actor=world.officer, kind="restore", person_id=person.pk, values={}, reason="误录"
        )
    assert nothing_to_restore.value.details[0]["field"] == "person_id"

    cancel = services.change_submit(
        actor=world.officer,
        kind="cancel",
        person_id=person.pk,
        values={"effective_date": "2025-05-01"},
        reason="重复登记（同一人两条户籍记录）",
    )
    verify(world, cancel)
    person.refresh_from_db()
    assert (person.status, person.status_date) == (PersonStatus.CANCELLED, dt.date(2025, 5, 1))
    assert Building.objects.get(pk=building.pk).resident_count == living - 1
    assert ChangeFeedEntry.objects.get(change=cancel).fields == ["status", "status_date"]
    with pytest.raises(ValidationFailed):  # a cancelled record takes no everyday change
        submit(world, "name", person, name="张卫")

    restore = services.change_submit(
        actor=world.officer, kind="restore", person_id=person.pk, values={}, reason="注销有误，经核实恢复"
    )
    verify(world, restore)
    person.refresh_from_db()
    assert (person.status, person.status_date) == (PersonStatus.LIVING, None)
    assert Building.objects.get(pk=building.pk).resident_count == living
    history = list(PersonVersion.objects.filter(person=person).order_by("version"))
    assert [v.snapshot["status"] for v in history] == ["living", "cancelled"]
    assert ChangeFeedEntry.objects.get(change=restore).kind == "restore"
