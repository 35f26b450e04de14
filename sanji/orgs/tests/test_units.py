"""Unit services: add a window, rename, deactivate — system administrator only, within reach."""

from __future__ import annotations

import pytest

from sanji.audit.models import Entry
from sanji.core.errors import Forbidden, NotFound, ValidationFailed
from sanji.core.roles import Role
from sanji.orgs import services
from sanji.orgs.models import Department, Region, Unit, UnitKind
from sanji.orgs.tests.conftest import actor_with

pytestmark = pytest.mark.django_db


def test_add_a_window_to_a_centre(city_sysadmin):
    centre = Unit.objects.get(code="150105-CSC")
    civil = Department.objects.get(code="150105-civil_affairs")
    window = services.unit_create(
        actor=city_sysadmin, kind=UnitKind.WINDOW, name="民政窗口二", parent=centre, department=civil
    )
    assert window.code == "150105-CSC-W-civil_affairs-2"
    assert (window.region_id, window.region_path, window.parent) == (
        centre.region_id,
        centre.region_path,
        centre,
    )
    third = services.unit_create(
        actor=city_sysadmin, kind=UnitKind.WINDOW, name="民政窗口三", parent=centre, department=civil
    )
    assert third.code == "150105-CSC-W-civil_affairs-3"
    general = services.unit_create(actor=city_sysadmin, kind=UnitKind.WINDOW, name="综合窗口", parent=centre)
    assert general.code == "150105-CSC-W"
    hall = Unit.objects.get(code="150100-HALL-realestate")
    housing = Department.objects.get(code="150100-housing")
    hall_window = services.unit_create(
        actor=city_sysadmin, kind=UnitKind.WINDOW, name="商品房备案窗口", parent=hall, department=housing
    )
    assert hall_window.code == "150100-HALL-realestate-W-housing"
    office = services.unit_create(
        actor=city_sysadmin,
        kind=UnitKind.DEPARTMENT_OFFICE,
        name="科室",
        region=Region.objects.get(code="150105"),
    )
    assert office.code == "150105-DEPT"
    assert Entry.objects.filter(action="orgs.unit_created").count() == 5


def test_window_must_fit_its_centre(city_sysadmin):
    centre = Unit.objects.get(code="150105-CSC")
    xincheng = Department.objects.get(code="150102-civil_affairs")
    with pytest.raises(ValidationFailed):
        services.unit_create(
            actor=city_sysadmin, kind=UnitKind.WINDOW, name="x", parent=centre, department=xincheng
        )
    with pytest.raises(ValidationFailed):
        services.unit_create(actor=city_sysadmin, kind=UnitKind.WINDOW, name="  ", parent=centre)
    with pytest.raises(ValidationFailed):
        services.unit_create(actor=city_sysadmin, kind="castle", name="x", parent=centre)
    with pytest.raises(ValidationFailed):
        services.unit_create(
            actor=city_sysadmin,
            kind=UnitKind.WINDOW,
            name="x",
            region=Region.objects.get(code="150102"),
            parent=centre,
        )
    with pytest.raises(ValidationFailed):
        services.unit_create(
            actor=city_sysadmin, kind=UnitKind.WINDOW, name="x", parent=centre, code="150105-CSC"
        )


def test_rename_is_audited(city_sysadmin):
    unit = Unit.objects.get(code="150105-CSC")
    services.unit_update(actor=city_sysadmin, unit=unit, name="赛罕区政务服务中心")
    assert Unit.objects.get(pk=unit.pk).name == "赛罕区政务服务中心"
    entry = Entry.objects.get(action="orgs.unit_renamed")
    assert entry.data == {"from": "赛罕区市民服务中心", "to": "赛罕区政务服务中心"}
    services.unit_update(actor=city_sysadmin, unit=unit, name="赛罕区政务服务中心")  # no change: no entry
    assert Entry.objects.filter(action="orgs.unit_renamed").count() == 1


def test_deactivate_closes_nested_units(city_sysadmin):
    tc = Unit.objects.get(code="150105001-TC")
    services.unit_deactivate(actor=city_sysadmin, unit=tc)
    assert not Unit.objects.get(code="150105001-TC").active
    assert not Unit.objects.get(code="150105001-TC-W").active
    assert not Unit.objects.get(code="150105001001-CS").active
    assert Unit.objects.get(code="150105002-TC").active
    entry = Entry.objects.get(action="orgs.unit_deactivated")
    assert entry.data["deactivated"] == 4
    services.unit_deactivate(actor=city_sysadmin, unit=tc)
    assert Entry.objects.filter(action="orgs.unit_deactivated").count() == 1


def test_security_admin_may_see_but_not_edit(city_secadmin):
    unit = Unit.objects.get(code="150105-CSC")
    with pytest.raises(Forbidden):
        services.unit_update(actor=city_secadmin, unit=unit, name="x")
    with pytest.raises(Forbidden):
        services.unit_deactivate(actor=city_secadmin, unit=unit)
    with pytest.raises(Forbidden):
        services.unit_create(actor=city_secadmin, kind=UnitKind.WINDOW, name="x", parent=unit)
    assert Unit.objects.get(pk=unit.pk).active


def test_out_of_reach_system_admin_gets_not_found(small_org):
    xincheng_admin = actor_with(Role.SYSTEM_ADMIN, "150102-CSC")
    unit = Unit.objects.get(code="150105-CSC")
    with pytest.raises(NotFound):
        services.unit_update(actor=xincheng_admin, unit=unit, name="x")
    with pytest.raises(NotFound):
        services.unit_deactivate(actor=xincheng_admin, unit=unit)
    with pytest.raises(Forbidden):
        services.unit_create(actor=xincheng_admin, kind=UnitKind.WINDOW, name="x", parent=unit)
