"""Organisation structure seeding: counts, names, links, idempotence, audit."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from sanji.audit.models import Entry
from sanji.core.actors import Actor, Grant
from sanji.core.errors import Forbidden, NotFound
from sanji.core.roles import Role
from sanji.orgs import services, structure
from sanji.orgs.models import Department, DepartmentKind, Unit, UnitKind
from sanji.orgs.tests.conftest import SMALL_CSV, SYSTEM

pytestmark = pytest.mark.django_db

KINDS = len(DepartmentKind)
WINDOW_KINDS = len(structure.WINDOW_NAMES)
HALL_WINDOWS = sum(len(h.windows) for h in structure.CITY_HALLS)


def _expected_units(districts: int, townships: int, communities: int) -> dict[str, int]:
    return {
        UnitKind.SERVICE_CENTRE: 1 + districts,
        UnitKind.PROFESSIONAL_HALL: len(structure.CITY_HALLS),
        UnitKind.WINDOW: WINDOW_KINDS * (1 + districts) + HALL_WINDOWS + townships,
        UnitKind.TOWNSHIP_CENTRE: townships,
        UnitKind.COMMUNITY_STATION: communities,
        UnitKind.DEPARTMENT_OFFICE: KINDS * (1 + districts),
        UnitKind.SUPERVISION_OFFICE: 1 + districts,
        UnitKind.OPERATOR: 1,
    }


def test_seed_of_the_small_city(small_regions):
    summary = services.org_structure_seed(actor=SYSTEM, city_code="150100")
    assert summary.departments_created == KINDS * 3
    assert summary.units_created == _expected_units(2, 3, 4)
    for kind, n in _expected_units(2, 3, 4).items():
        assert Unit.objects.filter(kind=kind).count() == n


def test_seed_of_hohhot_from_the_shipped_file(db):
    services.region_import_path(actor=SYSTEM)
    summary = services.org_structure_seed(actor=SYSTEM, city_code="150100")
    assert summary.departments_created == KINDS * 11
    assert summary.units_created == _expected_units(10, 99, 1396)
    assert Unit.objects.filter(kind=UnitKind.COMMUNITY_STATION).count() == 1396


def test_seed_is_idempotent_and_keeps_renamed_units(small_regions):
    services.org_structure_seed(actor=SYSTEM, city_code="150100")
    before = list(Unit.objects.order_by("code").values_list("id", "code", "parent_id", "department_id"))
    Unit.objects.filter(code="150105-CSC").update(name="赛罕区政务服务中心")
    again = services.org_structure_seed(actor=SYSTEM, city_code="150100")
    assert again.departments_created == 0
    assert again.departments_existing == KINDS * 3
    assert again.units_created == {}
    assert again.units_existing == len(before)
    assert (
        list(Unit.objects.order_by("code").values_list("id", "code", "parent_id", "department_id")) == before
    )
    assert Unit.objects.get(code="150105-CSC").name == "赛罕区政务服务中心"


def test_seed_fills_in_what_is_missing(small_regions):
    services.org_structure_seed(actor=SYSTEM, city_code="150100")
    services.region_import_csv(actor=SYSTEM, text=SMALL_CSV + "150105002002,新村村委会,community,150105002\n")
    again = services.org_structure_seed(actor=SYSTEM, city_code="150100")
    assert again.units_created == {UnitKind.COMMUNITY_STATION: 1}
    station = Unit.objects.get(code="150105002002-CS")
    assert station.name == "新村村便民服务站"
    assert station.parent is not None
    assert station.parent.code == "150105002-TC"


def test_department_names_and_counterparts(small_org):
    city_civil = Department.objects.get(code="150100-civil_affairs")
    assert city_civil.name == "呼和浩特市民政局"
    assert city_civil.counterpart_of is None
    saihan_civil = Department.objects.get(code="150105-civil_affairs")
    assert saihan_civil.name == "赛罕区民政局"
    assert saihan_civil.counterpart_of == city_civil
    assert saihan_civil.region_path == "150100/150105/"
    assert Department.objects.get(code="150105-public_security").name == "呼和浩特市公安局赛罕区分局"
    assert Department.objects.get(code="150100-health").name == "呼和浩特市卫生健康委员会"
    assert not Department.objects.filter(region__code="150105", counterpart_of__isnull=True).exists()


def test_county_departments_are_not_branches():
    assert (
        structure.department_name(
            kind=DepartmentKind.PUBLIC_SECURITY, region_name="托克托县", city_name="呼和浩特市", at_city=False
        )
        == "托克托县公安局"
    )
    assert (
        structure.department_name(
            kind=DepartmentKind.PUBLIC_SECURITY,
            region_name="呼和浩特经济技术开发区",
            city_name="呼和浩特市",
            at_city=False,
        )
        == "呼和浩特经济技术开发区公安局"
    )


@pytest.mark.parametrize(
    ("name", "station"),
    [
        ("东风路社区居委会", "东风路社区公共服务站"),
        ("太平庄村民委员会", "太平庄村便民服务站"),
        ("东瓦窑村委会", "东瓦窑村便民服务站"),
        ("光明居民委员会", "光明社区公共服务站"),
        ("金川开发区虚拟社区", "金川开发区虚拟社区公共服务站"),
    ],
)
def test_community_station_names(name, station):
    assert structure.community_station_name(name) == station


def _facts(code: str) -> tuple[str, str, str | None, str | None, str]:
    """(name, kind, parent code, department code, region path) of one unit."""
    return Unit.objects.values_list("name", "kind", "parent__code", "department__code", "region_path").get(
        code=code
    )


def test_units_carry_region_department_and_parent(small_org):
    assert _facts("150100-GSC") == ("呼和浩特市政务服务中心", UnitKind.SERVICE_CENTRE, None, None, "150100/")
    assert _facts("150100-GSC-W-civil_affairs") == (
        "民政窗口",
        UnitKind.WINDOW,
        "150100-GSC",
        "150100-civil_affairs",
        "150100/",
    )
    assert _facts("150105-CSC-W-civil_affairs")[2:4] == ("150105-CSC", "150105-civil_affairs")
    assert Unit.objects.get(code="150105-CSC").name == "赛罕区市民服务中心"
    assert _facts("150100-HALL-realestate")[:4] == (
        "呼和浩特市不动产登记大厅",
        UnitKind.PROFESSIONAL_HALL,
        None,
        "150100-natural_resources",
    )
    assert Unit.objects.filter(parent__code="150100-HALL-realestate", kind=UnitKind.WINDOW).count() == 2
    assert _facts("150105001002-CS") == (
        "太平庄村便民服务站",
        UnitKind.COMMUNITY_STATION,
        "150105001-TC",
        None,
        "150100/150105/150105001/150105001002/",
    )
    assert _facts("150105-DEPT-civil_affairs")[1:4] == (
        UnitKind.DEPARTMENT_OFFICE,
        None,
        "150105-civil_affairs",
    )
    assert _facts("150105-SUP")[1:4] == (UnitKind.SUPERVISION_OFFICE, None, "150105-supervision")
    operator = Unit.objects.get(code="150100-OPS")
    assert (operator.kind, operator.region_path) == (UnitKind.OPERATOR, "150100/")
    tc_window = Unit.objects.get(code="150105001-TC-W")
    assert (tc_window.name, tc_window.department) == ("综合窗口", None)


def test_seed_is_audited_once_with_counts(small_regions):
    services.org_structure_seed(actor=SYSTEM, city_code="150100")
    entries = Entry.objects.filter(action="orgs.structure_seeded")
    assert entries.count() == 1
    assert entries[0].data["units_created"]["community_station"] == 4
    assert entries[0].region_path == "150100/"


def test_unknown_city_is_not_found(small_regions):
    with pytest.raises(NotFound):
        services.org_structure_seed(actor=SYSTEM, city_code="150105")  # a district, not a city
    with pytest.raises(NotFound):
        services.org_structure_seed(actor=SYSTEM, city_code="999999")


def test_only_a_system_administrator_of_the_city_seeds(small_regions):
    district_admin = Actor(user_id=3, username="d", grants=(Grant(Role.SYSTEM_ADMIN, 1, "150100/150105/"),))
    with pytest.raises(Forbidden):
        services.org_structure_seed(actor=district_admin, city_code="150100")
    secadmin = Actor(user_id=4, username="s", grants=(Grant(Role.SECURITY_ADMIN, 1, "150100/"),))
    with pytest.raises(Forbidden):
        services.org_structure_seed(actor=secadmin, city_code="150100")
    city_admin = Actor(user_id=5, username="c", grants=(Grant(Role.SYSTEM_ADMIN, 1, "150100/"),))
    assert services.org_structure_seed(actor=city_admin, city_code="150100").departments_created == KINDS * 3


def test_seed_command(small_regions, capsys):
    call_command("orgs", "seed", "150100")
    assert "departments created" in capsys.readouterr().out
    assert Unit.objects.filter(kind=UnitKind.COMMUNITY_STATION).count() == 4
