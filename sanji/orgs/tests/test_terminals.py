"""Terminals (终端): register, authenticate, re-key, deactivate, reach."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest

from sanji.audit.models import Entry
from sanji.core import clock
from sanji.core.errors import Forbidden, NotFound, ValidationFailed
from sanji.core.roles import Role
from sanji.orgs import selectors, services
from sanji.orgs.models import Terminal, Unit
from sanji.orgs.tests.conftest import SYSTEM, actor_with

pytestmark = pytest.mark.django_db


def _window(code: str = "150105-CSC-W-civil_affairs") -> Unit:
    return Unit.objects.get(code=code)


def test_register_returns_a_one_time_enrolment_code(saihan_secadmin):
    terminal, enrolment = services.terminal_register(
        actor=saihan_secadmin, unit=_window(), name="民政窗口1号机"
    )
    code, secret = enrolment.split(":")
    assert code == terminal.code == "T150105-0001"
    assert len(secret) >= 32
    assert terminal.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in terminal.secret_hash
    assert terminal.region_path == "150100/150105/"
    assert terminal.registered_at is not None
    entry = Entry.objects.get(action="orgs.terminal_registered")
    assert secret not in str(entry.data)
    assert entry.data["unit"] == "150105-CSC-W-civil_affairs"


def test_codes_are_numbered_per_region(saihan_secadmin, city_secadmin):
    codes = [
        services.terminal_register(actor=saihan_secadmin, unit=_window(), name=f"机{i}")[0].code
        for i in range(3)
    ]
    assert codes == ["T150105-0001", "T150105-0002", "T150105-0003"]
    station, _ = services.terminal_register(
        actor=city_secadmin, unit=_window("150105001001-CS"), name="社区机"
    )
    assert station.code == "T150105001001-0001"


def test_explicit_code_is_checked(saihan_secadmin):
    services.terminal_register(actor=saihan_secadmin, unit=_window(), name="a", code="FEP-CIVIL-1")
    with pytest.raises(ValidationFailed) as taken:
        services.terminal_register(actor=saihan_secadmin, unit=_window(), name="b", code="FEP-CIVIL-1")
    # For people in the active language (zh-hans by default); for programs the stable codes.
    assert taken.value.message == "终端代码 FEP-CIVIL-1 已被使用。"
    assert taken.value.details == [{"field": "code", "reason": "taken"}]
    with pytest.raises(ValidationFailed):
        services.terminal_register(actor=saihan_secadmin, unit=_window(), name="b", code="bad code:x")
    with pytest.raises(ValidationFailed):
        services.terminal_register(actor=saihan_secadmin, unit=_window(), name="b", ip_address="not-an-ip")


def test_authenticate_with_the_enrolment_code(saihan_secadmin):
    terminal, enrolment = services.terminal_register(actor=saihan_secadmin, unit=_window(), name="a")
    code, secret = enrolment.split(":")
    at = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    with clock.frozen(at):
        found = services.terminal_authenticate(code=code, secret=secret, ip="10.1.2.3")
    assert found.pk == terminal.pk
    terminal.refresh_from_db()
    assert (terminal.last_seen_at, terminal.last_seen_ip) == (at, "10.1.2.3")


def test_wrong_secret_and_unknown_code_raise_the_same_error(saihan_secadmin):
    terminal, _ = services.terminal_register(actor=saihan_secadmin, unit=_window(), name="a")
    with pytest.raises(NotFound) as wrong:
        services.terminal_authenticate(code=terminal.code, secret="guess", ip="10.0.0.1")
    with pytest.raises(NotFound) as unknown:
        services.terminal_authenticate(code="T999999-0001", secret="guess", ip="10.0.0.1")
    assert wrong.value.message == unknown.value.message
    terminal.refresh_from_db()
    assert terminal.last_seen_at is None


def test_ip_bound_terminal_refuses_another_address(saihan_secadmin):
    _, enrolment = services.terminal_register(
        actor=saihan_secadmin, unit=_window(), name="a", ip_address="10.1.2.3"
    )
    code, secret = enrolment.split(":")
    with pytest.raises(Forbidden):
        services.terminal_authenticate(code=code, secret=secret, ip="10.9.9.9")
    assert services.terminal_authenticate(code=code, secret=secret, ip="10.1.2.3").code == code


def test_rekey_invalidates_the_old_enrolment(saihan_secadmin):
    terminal, old = services.terminal_register(actor=saihan_secadmin, unit=_window(), name="a")
    _, new = services.terminal_rekey(actor=saihan_secadmin, terminal=terminal)
    assert new.split(":")[0] == old.split(":")[0]
    with pytest.raises(NotFound):
        services.terminal_authenticate(code=terminal.code, secret=old.split(":")[1], ip="10.0.0.1")
    assert services.terminal_authenticate(code=terminal.code, secret=new.split(":")[1], ip="10.0.0.1")
    assert Entry.objects.filter(action="orgs.terminal_rekeyed").count() == 1


def test_deactivated_terminal_no_longer_authenticates(saihan_secadmin):
    terminal, enrolment = services.terminal_register(actor=saihan_secadmin, unit=_window(), name="a")
    services.terminal_deactivate(actor=saihan_secadmin, terminal=terminal)
    services.terminal_deactivate(actor=saihan_secadmin, terminal=terminal)  # twice: no second entry
    with pytest.raises(NotFound):
        services.terminal_authenticate(code=terminal.code, secret=enrolment.split(":")[1], ip="10.0.0.1")
    assert Entry.objects.filter(action="orgs.terminal_deactivated").count() == 1


def test_terminal_of_a_closed_unit_no_longer_authenticates(saihan_secadmin, city_sysadmin):
    terminal, enrolment = services.terminal_register(actor=saihan_secadmin, unit=_window(), name="a")
    services.unit_deactivate(actor=city_sysadmin, unit=Unit.objects.get(code="150105-CSC"))
    with pytest.raises(NotFound):
        services.terminal_authenticate(code=terminal.code, secret=enrolment.split(":")[1], ip="10.0.0.1")


def test_out_of_reach_security_admin_gets_not_found(saihan_secadmin, xincheng_secadmin):
    with pytest.raises(NotFound):
        services.terminal_register(actor=xincheng_secadmin, unit=_window(), name="a")
    terminal, _ = services.terminal_register(actor=saihan_secadmin, unit=_window(), name="a")
    with pytest.raises(NotFound):
        services.terminal_rekey(actor=xincheng_secadmin, terminal=terminal)
    with pytest.raises(NotFound):
        services.terminal_deactivate(actor=xincheng_secadmin, terminal=terminal)
    with pytest.raises(NotFound):
        selectors.terminal_get_for(xincheng_secadmin, terminal.pk)
    assert list(selectors.terminal_list_for(xincheng_secadmin)) == []
    assert Terminal.objects.get(pk=terminal.pk).active


@pytest.mark.parametrize(
    "role", [Role.SYSTEM_ADMIN, Role.SECURITY_AUDITOR, Role.WINDOW_CLERK, Role.SUPERVISOR]
)
def test_other_roles_cannot_manage_terminals(small_org, saihan_secadmin, role):
    actor = actor_with(role, "150100-OPS")
    with pytest.raises(NotFound):
        services.terminal_register(actor=actor, unit=_window(), name="a")
    terminal, _ = services.terminal_register(actor=saihan_secadmin, unit=_window(), name="a")
    with pytest.raises(NotFound):
        services.terminal_rekey(actor=actor, terminal=terminal)
    assert list(selectors.terminal_list_for(actor)) == []


def test_the_platform_does_not_register_terminals_either(small_org):
    with pytest.raises(NotFound):
        services.terminal_register(actor=SYSTEM, unit=_window(), name="a")


def test_city_security_admin_sees_every_district(saihan_secadmin, city_secadmin):
    services.terminal_register(actor=saihan_secadmin, unit=_window(), name="a")
    services.terminal_register(actor=city_secadmin, unit=_window("150102-CSC-W-civil_affairs"), name="b")
    assert selectors.terminal_list_for(city_secadmin).count() == 2
    assert selectors.terminal_list_for(saihan_secadmin).count() == 1
    assert [t.name for t in selectors.terminal_list_for(city_secadmin, q="150102")] == ["b"]


def test_inactive_unit_cannot_get_a_terminal(saihan_secadmin, city_sysadmin):
    window = _window()
    services.unit_deactivate(actor=city_sysadmin, unit=window)
    with pytest.raises(ValidationFailed):
        services.terminal_register(actor=saihan_secadmin, unit=window, name="a")


def test_touch_updates_last_seen_but_not_too_often(saihan_secadmin):
    terminal, _ = services.terminal_register(actor=saihan_secadmin, unit=_window(), name="a")
    t0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    with clock.frozen(t0):
        services.terminal_touch(terminal=terminal, ip="10.0.0.1")
    with clock.frozen(t0 + dt.timedelta(seconds=10)):
        services.terminal_touch(terminal=terminal, ip="10.0.0.1")
    terminal.refresh_from_db()
    assert terminal.last_seen_at == t0
    with clock.frozen(t0 + dt.timedelta(seconds=20)):
        services.terminal_touch(terminal=terminal, ip="10.0.0.2")  # another address: written at once
    terminal.refresh_from_db()
    assert (terminal.last_seen_at, terminal.last_seen_ip) == (t0 + dt.timedelta(seconds=20), "10.0.0.2")
