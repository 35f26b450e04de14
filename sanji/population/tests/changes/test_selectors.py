"""Reads of changes: the queue and my submissions, the side-by-side detail, the feed, the station
indicator; and the permission matrix (role × action × inside/outside the area)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sanji.core import clock, crypto, idnumber
from sanji.core.actors import Actor, Grant
from sanji.core.errors import Forbidden, NotFound, ValidationFailed
from sanji.core.roles import Role
from sanji.population import policies, selectors, services
from sanji.population.models import ChangeState, Person, PersonChange
from sanji.population.tests.changes.conftest import World

pytestmark = pytest.mark.django_db
S = ChangeState.SUBMITTED


def _name(world: World, i: int, name: str, actor: Actor | None = None) -> PersonChange:
    return services.change_submit(
        actor=actor or world.officer, kind="name", person_id=world.person(i).pk, values={"name": name}
    )


def test_queue_oldest_first_and_my_submissions_newest_first(world: World) -> None:
    t0 = dt.datetime(2027, 3, 2, 2, tzinfo=dt.UTC)  # after the import (at the real present)
    made = []
    for n, (i, name, actor) in enumerate(
        [(0, "张卫", world.officer), (1, "王方", world.worker), (2, "其其格", world.officer)]
    ):
        with clock.frozen(t0 + dt.timedelta(hours=n)):
            made.append(_name(world, i, name, actor))
    queue = selectors.change_list_for(world.police)
    assert queue.queue
    assert [c.pk for c in queue.items] == [c.pk for c in made]
    mine = selectors.change_list_for(world.officer)
    assert not mine.queue
    assert [c.pk for c in mine.items] == [made[2].pk, made[0].pk]
    assert [c.pk for c in selectors.change_list_for(world.worker).items] == [made[1].pk]
    assert selectors.change_list_for(world.police_xc).items == []
    assert selectors.change_list_for(world.clerk).items == []
    services.change_verify(actor=world.police, change_id=made[0].pk, expected_state=S)
    assert [c.pk for c in selectors.change_list_for(world.police).items] == [made[1].pk, made[2].pk]
    verified = selectors.change_list_for(world.police, state="verified")
    assert [c.pk for c in verified.items] == [made[0].pk]
    page = selectors.change_list_for(world.police, page_size=1)
    assert page.has_next
    assert not page.has_previous
    page2 = selectors.change_list_for(world.police, page=2, page_size=1)
    assert [c.pk for c in page2.items] == [made[2].pk]
    assert not page2.has_next
    with pytest.raises(ValidationFailed):
        selectors.change_list_for(world.police, state="nonsense")


def test_queue_query_count_is_fixed(world: World) -> None:
    for i, name in enumerate(["张卫", "王方", "其其格"]):
        _name(world, i, name)
    with CaptureQueriesContext(connection) as queries:
        page = selectors.change_list_for(world.police)
        assert [c.person.name for c in page.items if c.person]
    assert len(queries) == 1


def test_detail_rows_side_by_side(world: World) -> None:
    person = world.person(0)
    target = world.person(2)
    change = services.change_submit(
        actor=world.officer,
        kind="address",
        person_id=person.pk,
        values={"household_code": target.household_id, "relation": "99"},
    )
    detail = selectors.change_detail_for(world.police, change.pk)
    rows = {r.field: r for r in detail.rows}
    assert (rows["household_code"].before, rows["household_code"].after) == ("H-SA-1", "H-SA-2")
    assert (rows["relation"].before, rows["relation"].after) == ("02 户主", "99 非亲属")
    assert rows["building_code"].changed
    assert (detail.can_verify, detail.can_reject, detail.can_withdraw) == (True, True, False)
    own = selectors.change_detail_for(world.officer, change.pk)
    assert (own.can_verify, own.can_withdraw) == (False, True)
    services.change_verify(actor=world.police, change_id=change.pk, expected_state=S)
    after = selectors.change_detail_for(world.officer, change.pk)
    assert {r.field: r.current for r in after.rows}["household_code"] == "H-SA-2"
    assert not after.can_withdraw
    death = services.change_submit(
        actor=world.officer,
        kind="death",
        person_id=world.person(1).pk,
        values={"effective_date": "2025-05-01"},
    )
    rows = {r.field: r for r in selectors.change_detail_for(world.police, death.pk).rows}
    assert (rows["status"].before, rows["status"].after) == ("正常", "死亡")
    assert rows["status_date"].after == "2025-05-01"


def test_feed_in_order_scoped_with_cursor(world: World) -> None:
    changes = [_name(world, i, n) for i, n in enumerate(["张卫", "王方", "其其格"])]
    xc = services.change_submit(
        actor=world.officer_xc, kind="name", person_id=world.xincheng.pk, values={"name": "李墙"}
    )
    for c in changes:
        services.change_verify(actor=world.police, change_id=c.pk, expected_state=S)
    services.change_verify(actor=world.police_xc, change_id=xc.pk, expected_state=S)
    first = selectors.feed_read(world.department, after=0, limit=2)
    assert [i.name for i in first.items] == ["张卫", "王方"]
    assert first.has_more
    rest = selectors.feed_read(world.department, after=first.next_cursor, limit=10)
    assert [i.name for i in rest.items] == ["其其格", "李墙"]
    assert not rest.has_more
    assert len(rest.items[0].id_number) == 18
    saihan_system = Actor(
        user_id=None,
        username="saihan-system",
        grants=(Grant(Role.DEPARTMENT_SYSTEM, 0, world.regions["150105"].path),),
        channel="api",
    )
    assert [i.name for i in selectors.feed_read(saihan_system).items] == ["张卫", "王方", "其其格"]
    for outsider in (world.officer, world.police, world.clerk):
        with pytest.raises(Forbidden):
            selectors.feed_read(outsider)
    with pytest.raises(ValidationFailed):
        selectors.feed_read(world.department, after=-1)
    with pytest.raises(ValidationFailed):
        selectors.feed_read(world.department, limit=0)


def test_station_indicator(world: World) -> None:
    path = world.regions["150105001001"].path
    start = dt.datetime(2027, 3, 1, tzinfo=dt.UTC)
    end = dt.datetime(2027, 4, 1, tzinfo=dt.UTC)
    assert selectors.change_stats_for_station(path, start, end) is None
    with clock.frozen(dt.datetime(2027, 3, 2, 2, tzinfo=dt.UTC)):
        withdrawn = services.change_submit(
            actor=world.officer,
            kind="death",
            person_id=world.person(0).pk,
            values={"effective_date": "2027-03-01"},
        )
        services.change_withdraw(actor=world.officer, change_id=withdrawn.pk)
        made = [_name(world, i, n) for i, n in enumerate(["张卫", "王方", "其其格"])]
    with clock.frozen(dt.datetime(2027, 3, 4, 2, tzinfo=dt.UTC)):
        services.change_verify(actor=world.police, change_id=made[0].pk, expected_state=S)
    with clock.frozen(dt.datetime(2027, 3, 5, 2, tzinfo=dt.UTC)):
        services.change_reject(actor=world.police, change_id=made[1].pk, reason="材料不全")
    assert selectors.change_stats_for_station(path, start, end) == (3, round(1 / 3, 4), 2.5)
    assert selectors.change_stats_for_station(world.regions["150102001001"].path, start, end) is None
    assert selectors.change_stats_for_station(path, end, end + dt.timedelta(days=30)) is None


# --- the permission matrix: role × action × inside/outside the person's area -----------------------

ACTIONS = ("submit", "decide", "withdraw_own", "read_feed", "see")
EXPECTED: dict[str, set[str]] = {
    Role.POPULATION_OFFICER: {"submit", "withdraw_own", "see"},
    Role.COMMUNITY_WORKER: {"submit", "withdraw_own", "see"},
    Role.POLICE_VERIFIER: {"decide", "see"},
    Role.DEPARTMENT_SYSTEM: {"read_feed"},
    Role.DEPARTMENT_DATA_OFFICER: {"read_feed"},
}


@pytest.mark.parametrize("role", [r.value for r in Role])
@pytest.mark.parametrize("inside", [True, False])
def test_permission_matrix(role: str, inside: bool) -> None:
    area = "150100/150105/150105001/150105001001/"
    grant_path = "150100/150105/" if inside else "150100/150102/"
    actor = Actor(user_id=7, username="x", grants=(Grant(role, 0, grant_path),))
    allowed = {
        "submit": policies.can_submit_changes(actor) and policies.can_submit_change_at(actor, area),
        "decide": policies.can_decide_change(actor, region_path=area, submitted_by_id=8),
        "withdraw_own": policies.can_withdraw_change(actor, submitted_by_id=7)
        and policies.can_submit_changes(actor),
        "read_feed": policies.can_read_feed(actor),
        "see": policies.can_use_changes(actor) and any(area.startswith(g.region_path) for g in actor.grants),
    }
    expected = EXPECTED.get(role, set())
    if not inside:
        expected = expected - {"submit", "decide", "see"}
    assert {a for a, ok in allowed.items() if ok} == expected
    # Nobody decides their own submission.
    assert not policies.can_decide_change(actor, region_path=area, submitted_by_id=7)


def test_out_of_scope_detail_is_not_found(world: World) -> None:
    change = _name(world, 0, "张卫")
    for outsider in (world.police_xc, world.officer_xc, world.department, world.clerk):
        with pytest.raises(NotFound):
            selectors.change_detail_for(outsider, change.pk)
    with pytest.raises(NotFound):
        selectors.change_detail_for(world.police, 10**9)


def test_an_id_correction_is_compared_digit_by_digit_with_the_facts_that_follow(world: World) -> None:
    """The birth date, sex and birthplace come from the ID number (GB 11643): the comparison lists
    them, marks the changed digits (masked), and verification applies them together."""
    wang = world.person(1)  # 王芳, a woman born 1982-03-04 (150105)
    before = crypto.decrypt(wang.id_number_encrypted)
    after = idnumber.make("150102", dt.date(1982, 3, 14), 45)  # another day, place and sex (odd)
    change = services.change_submit(
        actor=world.officer, kind="correction", person_id=wang.pk, values={"id_number": after}
    )
    detail = selectors.change_detail_for(world.police, change.pk)
    rows = {r.field: r for r in detail.rows}
    assert [r.field for r in detail.rows] == ["id_number", "birth_date", "sex", "birthplace_code"]
    id_row = rows["id_number"]
    assert (id_row.before, id_row.after) == (wang.id_masked, idnumber.mask(after))
    assert set(id_row.changed_positions) == {i for i in range(18) if before[i] != after[i]}
    assert id_row.changed
    masked = idnumber.mask(after)
    assert [c for c, changed in id_row.after_marks if changed] == [
        masked[i] for i in id_row.changed_positions
    ]
    assert set(detail.id_changed_parts) >= {"address_code", "birth_date", "sequence"}
    assert detail.id_changed_part_labels[:2] == ["地址码", "出生日期码"]
    assert (rows["birth_date"].before, rows["birth_date"].after) == ("1982-03-04", "1982-03-14")
    assert (rows["sex"].before, rows["sex"].after) == ("2 女", "1 男")
    assert rows["birthplace_code"].after == "150102 内蒙古自治区呼和浩特市新城区"
    assert all(rows[f].derived for f in ("birth_date", "sex", "birthplace_code"))
    assert detail.can_unmask_id_numbers
    assert not selectors.change_detail_for(world.officer, change.pk).can_unmask_id_numbers  # submitter
    with pytest.raises(Forbidden):
        selectors.change_id_numbers_for(world.officer, change.pk)
    numbers = selectors.change_id_numbers_for(world.police, change.pk)
    assert (numbers.before, numbers.after) == (before, after)

    services.change_verify(actor=world.police, change_id=change.pk, expected_state=S)
    wang = Person.objects.get(pk=wang.pk)
    assert (wang.birth_date, wang.sex, wang.birthplace_code) == (dt.date(1982, 3, 14), "1", "150102")
    assert wang.id_masked == idnumber.mask(after)
    after_rows = {r.field: r for r in selectors.change_detail_for(world.officer, change.pk).rows}
    assert after_rows["sex"].current == "1 男"
    assert not selectors.change_detail_for(world.police, change.pk).can_unmask_id_numbers
