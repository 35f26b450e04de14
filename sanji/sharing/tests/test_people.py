"""Person search (ID number exact, name prefix within reach, paged) and the person page's parts."""

from __future__ import annotations

import datetime as dt

import pytest

from sanji.core import clock, idnumber
from sanji.core.actors import Actor
from sanji.core.errors import Forbidden, NotFound, ValidationFailed
from sanji.core.roles import Role
from sanji.orgs.selectors import region_names
from sanji.population import services as population
from sanji.population.models import Building, Person
from sanji.population.tests.conftest import person_row
from sanji.sharing import selectors, services
from sanji.sharing.tests.conftest import (
    ID_SH,
    ID_UNKNOWN,
    ID_XC_HEAD,
    SAIHAN_HEALTH,
    XINCHENG_HEALTH,
    actor_at,
    import_people,
    reader,
)

pytestmark = pytest.mark.usefixtures("residents")


def officer(unit: str = XINCHENG_HEALTH) -> Actor:
    return actor_at(Role.POPULATION_OFFICER, unit)


def test_search_by_id_number_is_exact_and_scoped() -> None:
    found = selectors.person_search_for(officer(), ID_XC_HEAD)
    assert found.by_id_number
    assert [p.name for p in found.items] == ["王建国"]
    assert found.items[0].id_masked == "150102********1237"
    elsewhere = selectors.person_search_for(officer(), ID_SH)
    assert elsewhere.items == []  # lives in 赛罕区: as if absent
    assert selectors.person_search_for(officer(), ID_UNKNOWN).items == []
    with pytest.raises(ValidationFailed):
        selectors.person_search_for(officer(), "150102199003071238")


def test_search_by_name_prefix_within_reach_and_paged() -> None:
    names = [p.name for p in selectors.person_search_for(officer(), "王").items]
    assert names == ["王丽", "王建国"]
    assert selectors.person_search_for(officer(), "其其格").items == []
    community = actor_at(Role.COMMUNITY_WORKER, "150105001001-CS")
    assert [p.name for p in selectors.person_search_for(community, "其").items] == ["其其格"]
    first = selectors.person_search_for(officer(), "王", page_size=1)
    second = selectors.person_search_for(officer(), "王", page=2, page_size=1)
    assert (first.has_next, second.has_next) == (True, False)
    assert [p.name for p in first.items + second.items] == ["王丽", "王建国"]
    assert selectors.person_search_for(officer(), "").items == []


def test_only_registry_readers_search() -> None:
    with pytest.raises(Forbidden):
        selectors.person_search_for(reader(), "王")
    with pytest.raises(Forbidden):
        selectors.person_search_for(actor_at(Role.WINDOW_CLERK, "150102-CSC-W-civil_affairs"), "王")


def test_the_person_page_has_facts_household_location_history_and_reads(residents) -> None:
    head = residents["王建国"]
    selectors.person_get_for(reader(), ID_XC_HEAD, "低保复核")
    population.person_version_close(
        actor=actor_at(Role.POPULATION_OFFICER, XINCHENG_HEALTH),
        person=Person.objects.get(pk=head.pk),
        at=clock.now() + dt.timedelta(minutes=1),
        reason="婚姻状况变更",
    )
    page = selectors.person_page_for(officer(), head.pk)
    facts = {f.label: f.value for f in page.facts}
    assert facts["民族"] == "汉族"  # names, not codes (GB/T 3304, GB/T 4761)
    assert facts["与户主关系"] == "户主"
    registered = Person.objects.get(pk=head.pk).registered_code
    names = region_names([registered])
    assert registered in names  # the fixture's residents are registered in regions of the city
    assert facts["户籍地区划"] == f"{names[registered]}（{registered}）"
    assert facts["实际居住地址"].endswith("1单元101室")
    assert page.location is not None
    assert page.location.building_id == head.building_id
    assert [m.name for m in page.members] == ["王建国", "王丽"]
    assert [v.version for v in page.versions] == [1]
    assert page.versions[0].reason == "婚姻状况变更"
    assert [r.purpose for r in page.reads] == ["低保复核"]
    with pytest.raises(NotFound):
        selectors.person_page_for(officer(SAIHAN_HEALTH), head.pk)


def test_a_birthplace_elsewhere_in_china_is_named(residents, tmp_path) -> None:
    building = Building.objects.get(pk=residents["王建国"].building_id)
    row = person_row(building, number=idnumber.make("110105", dt.date(1975, 3, 3), 12), name="刘京生")
    import_people([row], tmp_path / "born-in-beijing.csv")
    person = Person.objects.get(name="刘京生")
    facts = {f.label: f.value for f in selectors.person_page_for(officer(), person.pk).facts}
    assert facts["出生地"] == "北京市朝阳区（110105）"


def test_unmasked_reads_show_on_the_person_page(residents) -> None:
    head = residents["王建国"]
    services.person_id_unmask(actor=officer(), person_id=head.pk, purpose="核对")
    assert [r.kind for r in selectors.person_page_for(officer(), head.pk).reads] == ["id_unmasked"]
