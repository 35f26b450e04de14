"""Permission matrix: every role × every orgs action × inside/outside the grant's reach."""

from __future__ import annotations

import pytest

from sanji.core.actors import Actor, Grant, system_actor
from sanji.core.authz import is_platform
from sanji.core.roles import Role
from sanji.orgs import policies
from sanji.orgs.models import Terminal, Unit

SAIHAN = "150100/150105/"
XINCHENG = "150100/150102/"

INSIDE = Unit(code="u", name="u", kind="window", region_path=SAIHAN + "150105001/")
OUTSIDE = Unit(code="v", name="v", kind="window", region_path=XINCHENG)
TERMINAL_INSIDE = Terminal(code="t", name="t", region_path=SAIHAN)
TERMINAL_OUTSIDE = Terminal(code="s", name="s", region_path=XINCHENG)

VIEWERS = {Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN}
EDITORS = {Role.SYSTEM_ADMIN}
TERMINAL_ADMINS = {Role.SECURITY_ADMIN}


def _actor(role: str) -> Actor:
    return Actor(user_id=1, username=role, grants=(Grant(role=role, unit_id=1, region_path=SAIHAN),))


@pytest.mark.parametrize("role", list(Role))
def test_matrix(role):
    actor = _actor(role)
    assert policies.can_view_organisation(actor) is (role in VIEWERS)
    assert policies.can_import_regions(actor) is (role in EDITORS)
    assert policies.can_edit_units(actor) is (role in EDITORS)
    assert policies.can_edit_unit(actor, INSIDE) is (role in EDITORS)
    assert policies.can_edit_unit(actor, OUTSIDE) is False
    assert policies.can_manage_terminals(actor) is (role in TERMINAL_ADMINS)
    assert policies.can_register_terminal_at(actor, INSIDE) is (role in TERMINAL_ADMINS)
    assert policies.can_register_terminal_at(actor, OUTSIDE) is False
    assert policies.can_manage_terminal(actor, TERMINAL_INSIDE) is (role in TERMINAL_ADMINS)
    assert policies.can_manage_terminal(actor, TERMINAL_OUTSIDE) is False
    assert policies.can_read_reference(actor) is (role != Role.APPLICANT)


def test_the_platform_configures_but_holds_no_terminal_rights():
    for actor in (system_actor(), Actor(user_id=None, username="cli:root", channel="cli")):
        assert policies.can_import_regions(actor)
        assert policies.can_edit_unit(actor, OUTSIDE)
        assert policies.can_view_organisation(actor)
        assert not policies.can_manage_terminals(actor)
        assert not policies.can_manage_terminal(actor, TERMINAL_INSIDE)


def test_anonymous_web_actor_is_nobody():
    anonymous = Actor(user_id=None, username="anonymous", channel="web")
    assert not policies.can_import_regions(anonymous)
    assert not policies.can_view_organisation(anonymous)
    assert not policies.can_read_reference(anonymous)
    assert not is_platform(anonymous)
