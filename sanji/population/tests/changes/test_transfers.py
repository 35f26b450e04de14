"""The move-in (迁入) of someone already in the registry: a transfer within the city, end to end.

A resident of 新城区 moves to 赛罕区: the 赛罕区 officer submits the move-in by the person's ID number,
the 赛罕区 police verifier verifies it, and the person's residence and registration change with the
history kept — visible in the new area, gone from the old one's lists. The same after a move-out
(迁出) recorded in the old area. Refused, each with a clear reason: the dead, the cancelled, someone
already living registered at that place, facts that disagree with the registry, a second open change.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from sanji.audit.models import Entry
from sanji.core import crypto
from sanji.core.errors import NotFound, ValidationFailed
from sanji.population import selectors, services
from sanji.population.models import (
    Building,
    ChangeFeedEntry,
    ChangeState,
    Person,
    PersonChange,
    PersonStatus,
    PersonVersion,
)
from sanji.population.tests.changes.conftest import SAIHAN_COMMUNITY, XINCHENG_COMMUNITY, World

pytestmark = pytest.mark.django_db
S = ChangeState.SUBMITTED


def _number(person: Person) -> str:
    return crypto.decrypt(person.id_number_encrypted)


def _move_in(world: World, person: Person, actor: Any = None, **overrides: str) -> PersonChange:
    target = world.buildings[SAIHAN_COMMUNITY][4]
    values = {
        "id_number": _number(person),
        "name": person.name,
        "ethnicity": person.ethnicity,
        "registered_code": SAIHAN_COMMUNITY,
        "registered_address": "赛罕区南二环路 8 号",
        "household_code": "H-TR-1",
        "building_code": target.code,
        "relation": "02",
        "effective_date": "2025-06-01",
        **overrides,
    }
    return services.change_submit(actor=actor or world.officer, kind="move_in", person_id=None, values=values)


def _verify(world: World, change: PersonChange) -> PersonChange:
    return services.change_verify(actor=world.police, change_id=change.pk, expected_state=S)


def test_a_resident_of_another_district_moves_in_with_history_kept(world: World) -> None:
    li = world.xincheng
    old_building = li.building_id or 0
    old_count = Building.objects.get(pk=old_building).resident_count
    assert selectors.person_get_for(world.officer_xc, li.pk).pk == li.pk
    with pytest.raises(NotFound):  # not (yet) the Saihan officer's resident
        selectors.person_get_for(world.officer, li.pk)

    change = _move_in(world, li)
    # The change is the person's: submitted against their facts, verified by the new area's police.
    assert (change.person_id, change.person_version) == (li.pk, 1)
    assert change.region_path == world.regions[SAIHAN_COMMUNITY].path
    assert change.before["region_path"] == li.region_path
    assert change.fields == [
        "status", "status_date", "household", "building", "region_path", "relation",
        "registered_code", "registered_address", "registered_locally",
    ]  # fmt: skip
    with pytest.raises(NotFound):  # the old area's verifier does not decide it
        services.change_verify(actor=world.police_xc, change_id=change.pk, expected_state=S)
    rows = {r.field: r for r in selectors.change_detail_for(world.police, change.pk).rows}
    assert (rows["household_code"].before, rows["household_code"].after) == ("H-XC-1", "H-TR-1")
    assert (rows["registered_code"].before, rows["registered_code"].after) == (
        XINCHENG_COMMUNITY,
        SAIHAN_COMMUNITY,
    )
    assert (rows["status"].before, rows["status"].after) == ("正常", "正常")
    assert not rows["id_number"].changed

    _verify(world, change)
    li.refresh_from_db()
    target = world.buildings[SAIHAN_COMMUNITY][4]
    assert (li.status, li.status_date, li.version) == (PersonStatus.LIVING, None, 2)
    assert (li.household_id, li.building_id, li.region_path) == ("H-TR-1", target.pk, target.region_path)
    assert (li.registered_code, li.registered_address, li.registered_locally) == (
        SAIHAN_COMMUNITY,
        "赛罕区南二环路 8 号",
        True,
    )
    assert li.verified
    # Visible in the new area, gone from the old one's lists; the counts follow.
    assert li.pk in {p.pk for p in selectors.residents_of_community(world.officer, SAIHAN_COMMUNITY)}
    assert li.pk not in {p.pk for p in selectors.residents_of_community(world.officer_xc, XINCHENG_COMMUNITY)}
    with pytest.raises(NotFound):
        selectors.person_get_for(world.officer_xc, li.pk)
    assert Building.objects.get(pk=old_building).resident_count == old_count - 1
    assert Building.objects.get(pk=target.pk).resident_count == 1
    # What was true when: the old residence is the closed version.
    [old] = PersonVersion.objects.filter(person=li)
    assert (old.snapshot["region_path"], old.snapshot["household_id"]) == (
        world.regions[XINCHENG_COMMUNITY].path,
        "H-XC-1",
    )
    then = old.valid_from + (old.valid_to - old.valid_from) / 2
    assert selectors.person_as_of(world.officer, li.pk, then) == {
        "version": 1,
        **old.snapshot,
    }
    entry = ChangeFeedEntry.objects.get(change=change)
    assert (entry.kind, entry.person_id, entry.region_path) == ("move_in", li.pk, target.region_path)
    submitted = Entry.objects.get(action="population.change_submitted", target_id=str(change.pk))
    assert submitted.data["transfer_from"] == world.regions[XINCHENG_COMMUNITY].path
    assert Person.objects.count() == 5  # the same person, not a second record


def test_after_a_move_out_the_move_in_brings_the_record_back_to_current(world: World) -> None:
    li = world.xincheng
    out = services.change_submit(
        actor=world.officer_xc, kind="move_out", person_id=li.pk, values={"effective_date": "2025-05-20"}
    )
    services.change_verify(actor=world.police_xc, change_id=out.pk, expected_state=S)
    li.refresh_from_db()
    assert (li.status, li.status_date) == (PersonStatus.MOVED_OUT, dt.date(2025, 5, 20))

    with pytest.raises(ValidationFailed) as early:  # not before the move-out it follows
        _move_in(world, li, effective_date="2025-05-19")
    assert [(d["field"], d["reason"]) for d in early.value.details] == [
        ("effective_date", "迁入日期早于此人的迁出日期 2025-05-20")
    ]
    change = _move_in(world, li, actor=world.worker, marital_status="20", relation="户主")
    rows = {r.field: r for r in selectors.change_detail_for(world.police, change.pk).rows}
    assert (rows["status"].before, rows["status"].after) == ("迁出", "正常")
    assert (rows["status_date"].before, rows["status_date"].after) == ("2025-05-20", "")
    _verify(world, change)
    li.refresh_from_db()
    assert (li.status, li.status_date, li.region_path) == (
        PersonStatus.LIVING,
        None,
        world.regions[SAIHAN_COMMUNITY].path,
    )
    history = list(PersonVersion.objects.filter(person=li).order_by("version"))
    assert [(v.snapshot["status"], v.snapshot["region_path"]) for v in history] == [
        ("living", world.regions[XINCHENG_COMMUNITY].path),
        ("moved_out", world.regions[XINCHENG_COMMUNITY].path),
    ]
    assert "marital_status" in ChangeFeedEntry.objects.get(change=change).fields


@pytest.mark.parametrize(
    ("setup", "overrides", "field", "code", "words"),
    [
        ("deceased", {}, "id_number", "deceased", "已登记死亡，不能迁入"),
        ("cancelled", {}, "id_number", "cancelled", "户籍已注销，不能迁入"),
        ("same_household", {}, "household_code", "already_here", "已在该户登记居住"),
        ("same_community", {}, "household_code", "already_here", "同一社区内换户请申报住址变更"),
        ("", {"name": "李刚"}, "name", "mismatch", "姓名不一致"),
        ("", {"ethnicity": "02"}, "ethnicity", "mismatch", "民族不一致"),
        ("waiting", {}, "id_number", "change_waiting", "此人已有一项待核查的人口变动"),
    ],
)
def test_a_move_in_that_cannot_be_is_refused_clearly(
    world: World, setup: str, overrides: dict[str, str], field: str, code: str, words: str
) -> None:
    person = world.xincheng
    if setup in ("deceased", "cancelled"):
        kind = "death" if setup == "deceased" else "cancel"
        ended = services.change_submit(
            actor=world.officer_xc,
            kind=kind,
            person_id=person.pk,
            values={"effective_date": "2025-05-01"},
            reason="重复登记",
        )
        services.change_verify(actor=world.police_xc, change_id=ended.pk, expected_state=S)
    elif setup == "waiting":
        services.change_submit(
            actor=world.officer_xc, kind="name", person_id=person.pk, values={"name": "李刚"}
        )
    elif setup.startswith("same_"):
        person = world.person(0)  # lives in H-SA-1 in the Saihan community, registered there
        if setup == "same_household":
            overrides = {"household_code": "H-SA-1", "building_code": ""}
    before = PersonChange.objects.count()
    with pytest.raises(ValidationFailed) as refused:
        _move_in(world, person, **overrides)
    found = [d for d in refused.value.details if d["field"] == field]
    assert found, refused.value.details
    assert found[0].get("code") == code
    assert words in found[0]["reason"]
    assert PersonChange.objects.count() == before


def test_a_move_in_of_someone_new_still_creates_the_person(world: World) -> None:
    from sanji.population.tests.changes.conftest import new_id

    number = new_id(dt.date(1990, 1, 2), seq=91, address="150102")
    change = services.change_submit(
        actor=world.officer,
        kind="move_in",
        person_id=None,
        values={
            "id_number": number,
            "name": "刘洋",
            "ethnicity": "01",
            "registered_code": "150102001001",
            "household_code": "H-SA-1",
            "relation": "99",
            "effective_date": "2025-06-01",
        },
    )
    assert (change.person_id, change.before, change.fields) == (None, {}, ["created"])
    _verify(world, change)
    newcomer = Person.objects.get(id_index=crypto.blind_digest(number, purpose="person"))
    assert (newcomer.household_id, newcomer.registered_locally) == ("H-SA-1", False)


def test_the_old_areas_systems_read_the_transfer_as_the_person_leaving(world: World) -> None:
    """A transfer's feed entry is filed under the new area and, as the area left, the old one: a
    新城区 department system learns that 李强 left; a change that moves nobody stays in its area."""
    from sanji.core.actors import Actor, Grant
    from sanji.core.roles import Role

    def system(code: str) -> Actor:
        grant = Grant(Role.DEPARTMENT_SYSTEM, 0, world.regions[code].path)
        return Actor(user_id=None, username=f"system-{code}", grants=(grant,), channel="api")

    li = world.xincheng
    old_path = li.region_path
    _verify(world, _move_in(world, li))
    li.refresh_from_db()
    [new_side] = selectors.feed_read(system("150105")).items
    [old_side] = selectors.feed_read(system("150102")).items
    assert new_side == old_side
    assert (old_side.person_id, old_side.kind) == (li.pk, "move_in")
    assert (old_side.region_path, old_side.left_region_path) == (li.region_path, old_path)
    # A change that moves nobody between areas names no area left.
    name = services.change_submit(
        actor=world.officer, kind="name", person_id=world.saihan[0].pk, values={"name": "张卫"}
    )
    _verify(world, name)
    latest = selectors.feed_read(system("150105")).items[-1]
    assert (latest.change_id, latest.left_region_path) == (name.pk, "")
    assert selectors.feed_read(system("150102")).items == [old_side]
