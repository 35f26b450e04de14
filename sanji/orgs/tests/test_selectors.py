"""Organisation reads: regions, departments and counterparts, units in scope."""

from __future__ import annotations

import pytest

from sanji.core.actors import Actor, Grant
from sanji.core.errors import NotFound
from sanji.core.roles import Role
from sanji.orgs import selectors, services
from sanji.orgs.models import Department, DepartmentKind, Region, RegionLevel, Unit, UnitKind
from sanji.orgs.tests.conftest import SYSTEM, actor_with

pytestmark = pytest.mark.django_db


def test_region_get_and_children(small_regions):
    assert selectors.region_get("150105").name == "赛罕区"
    with pytest.raises(NotFound):
        selectors.region_get("999999")
    children = list(selectors.region_children("150105"))
    assert [r.code for r in children] == ["150105001", "150105002"]
    assert [r.child_count for r in children] == [2, 1]  # type: ignore[attr-defined]
    assert [r.code for r in selectors.region_list()] == ["150100"]
    with pytest.raises(NotFound):
        list(selectors.region_children("999999"))


def test_region_ancestors(small_regions):
    community = selectors.region_get("150105001002")
    assert [r.code for r in selectors.region_ancestors(community)] == ["150100", "150105", "150105001"]


def test_region_tree_starts_at_the_actors_reach(small_org):
    assert [r.code for r in selectors.region_tree_for(SYSTEM)] == ["150100"]
    city = actor_with(Role.SYSTEM_ADMIN, "150100-OPS")
    assert [r.code for r in selectors.region_tree_for(city)] == ["150100"]
    saihan = actor_with(Role.SECURITY_ADMIN, "150105-CSC")
    assert [r.code for r in selectors.region_tree_for(saihan)] == ["150105"]
    clerk = actor_with(Role.WINDOW_CLERK, "150105-CSC-W-civil_affairs")
    assert selectors.region_tree_for(clerk) == []


def test_department_list_and_get(small_org):
    assert selectors.department_list("150105").count() == len(DepartmentKind)
    assert selectors.department_list().count() == 3 * len(DepartmentKind)
    assert selectors.department_get(region_code="150105", kind="civil_affairs").name == "赛罕区民政局"
    with pytest.raises(NotFound):
        selectors.department_get(region_code="150105001", kind="civil_affairs")


def test_department_counterpart_across_levels(small_org):
    city_civil = Department.objects.get(code="150100-civil_affairs")
    saihan_civil = Department.objects.get(code="150105-civil_affairs")
    saihan = Region.objects.get(code="150105")
    city = Region.objects.get(code="150100")
    assert selectors.department_counterpart_at(city_civil, saihan) == saihan_civil
    assert selectors.department_counterpart_at(saihan_civil, city) == city_civil
    assert selectors.department_counterpart_at(city_civil, city) == city_civil
    township = Region.objects.get(code="150105001")
    community = Region.objects.get(code="150105001002")
    assert selectors.department_counterpart_at(city_civil, township) == saihan_civil
    assert selectors.department_counterpart_at(city_civil, community) == saihan_civil
    # a district imported after seeding has no departments yet: the city's serves it
    services.region_import_csv(
        actor=SYSTEM, text="code,name,level,parent_code\n150125,武川县,district,150100\n"
    )
    wuchuan = Region.objects.get(code="150125")
    assert selectors.department_counterpart_at(saihan_civil, wuchuan) == city_civil
    services.region_import_csv(actor=SYSTEM, text="code,name,level,parent_code\n150200,包头市,city,\n")
    assert selectors.department_counterpart_at(city_civil, Region.objects.get(code="150200")) is None


def test_departments_serving_a_district_include_the_citys(small_org):
    codes = set(
        selectors.departments_serving(Region.objects.get(code="150105")).values_list("code", flat=True)
    )
    assert "150105-civil_affairs" in codes
    assert "150100-civil_affairs" in codes
    assert "150102-civil_affairs" not in codes


def test_unit_list_is_scoped_by_reach(small_org):
    everything = selectors.unit_list_for(SYSTEM).count()
    assert everything == Unit.objects.count()
    saihan_clerk = actor_with(Role.WINDOW_CLERK, "150105-CSC-W-civil_affairs")
    paths = set(selectors.unit_list_for(saihan_clerk).values_list("region_path", flat=True))
    assert paths
    assert all(p.startswith("150100/150105/") for p in paths)
    # department-bound roles still see every unit of their district (places, not cases)
    assert selectors.unit_list_for(saihan_clerk, kind=UnitKind.WINDOW, region_code="150105").count() == 10
    applicant = Actor(user_id=9, username="citizen", grants=(Grant(Role.APPLICANT, 1, "150100/"),))
    assert selectors.unit_list_for(applicant).count() == 0


def test_unit_list_filters(small_org):
    city_admin = actor_with(Role.SYSTEM_ADMIN, "150100-OPS")
    at_saihan = selectors.unit_list_for(city_admin, region_code="150105")
    assert all(u.region.code == "150105" for u in at_saihan)
    below = selectors.unit_list_for(city_admin, region_code="150105", descendants=True)
    assert below.filter(kind=UnitKind.COMMUNITY_STATION).count() == 3
    assert [u.code for u in selectors.unit_list_for(city_admin, q="太平庄")] == ["150105001002-CS"]
    with pytest.raises(NotFound):
        selectors.unit_list_for(city_admin, region_code="999999")


def test_unit_list_query_count_is_fixed(small_org, django_assert_num_queries):
    city_admin = actor_with(Role.SYSTEM_ADMIN, "150100-OPS")
    with django_assert_num_queries(1):
        rows = [
            (u.region.code, u.department and u.department.name, u.parent and u.parent.code)
            for u in selectors.unit_list_for(city_admin)
        ]
    assert len(rows) == Unit.objects.count()


def test_unit_get_for_out_of_reach_is_not_found(small_org):
    xincheng = actor_with(Role.SECURITY_ADMIN, "150102-CSC")
    saihan_unit = Unit.objects.get(code="150105-CSC")
    with pytest.raises(NotFound):
        selectors.unit_get_for(xincheng, saihan_unit.pk)
    with pytest.raises(NotFound):
        selectors.unit_get_by_code_for(xincheng, "150105-CSC")
    saihan = actor_with(Role.SECURITY_ADMIN, "150105-CSC")
    assert selectors.unit_get_for(saihan, saihan_unit.pk) == saihan_unit


def test_units_in_region_put_windows_under_their_centre(small_org):
    city_admin = actor_with(Role.SYSTEM_ADMIN, "150100-OPS")
    codes = {u.code for u in selectors.units_in_region(city_admin, Region.objects.get(code="150105"))}
    assert "150105-CSC" in codes
    assert "150105-CSC-W-civil_affairs" not in codes
    community = {
        u.code for u in selectors.units_in_region(city_admin, Region.objects.get(code="150105001002"))
    }
    assert community == {"150105001002-CS"}


def test_region_level_counts(db):
    services.region_import_path(actor=SYSTEM)
    counts = selectors.region_level_counts(Region.objects.get(code="150100"))
    assert counts == {
        RegionLevel.CITY: 1,
        RegionLevel.DISTRICT: 10,
        RegionLevel.TOWNSHIP: 99,
        RegionLevel.COMMUNITY: 1396,
    }
