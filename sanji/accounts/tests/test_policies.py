import itertools

import pytest

from sanji.accounts import policies, selectors, services
from sanji.accounts.models import RoleAssignment
from sanji.core.actors import Actor, Grant
from sanji.core.authz import is_platform
from sanji.core.errors import Forbidden, NotFound, ValidationFailed
from sanji.core.roles import ADMIN_TRIAD, Role

ALL_ROLES = [r.value for r in Role]
HUMAN_ROLES = [r for r in ALL_ROLES if r != Role.DEPARTMENT_SYSTEM]


def expected_conflict(existing: str, new: str) -> bool:
    if existing == new:
        return False
    return existing in ADMIN_TRIAD or new in ADMIN_TRIAD


@pytest.mark.parametrize(("existing", "new"), list(itertools.product(HUMAN_ROLES, HUMAN_ROLES)))
def test_separation_matrix_pure(existing, new):
    """三员分立: every ordered pair of roles for one person."""
    conflict = policies.role_conflict([existing], new, is_system_account=False)
    assert (conflict is not None) == expected_conflict(existing, new)


def test_system_accounts_hold_only_the_department_system_role():
    assert policies.role_conflict([], Role.DEPARTMENT_SYSTEM, is_system_account=True) is None
    assert policies.role_conflict([], Role.WINDOW_CLERK, is_system_account=True)


@pytest.mark.parametrize(
    ("existing", "new"),
    [
        (a, b)
        for a, b in itertools.product(HUMAN_ROLES, HUMAN_ROLES)
        if a != b and (a in ADMIN_TRIAD or b in ADMIN_TRIAD)
    ],
)
def test_separation_enforced_by_role_grant(existing, new, security_admin, platform, units):
    admin = selectors.actor_for(security_admin)
    person, _ = services.user_create(actor=admin, username="person", full_name="某人")
    services.role_grant(actor=admin, user=person, role=existing, unit=units["saihan"])
    with pytest.raises(ValidationFailed, match="三员"):
        services.role_grant(actor=admin, user=person, role=new, unit=units["saihan"])
    with pytest.raises(ValidationFailed, match="三员"):
        services.role_grant(actor=platform, user=person, role=new, unit=units["city"])
    assert list(RoleAssignment.objects.filter(user=person).values_list("role", flat=True)) == [existing]


def test_same_admin_role_in_a_second_unit_is_allowed(security_admin, units):
    admin = selectors.actor_for(security_admin)
    person, _ = services.user_create(actor=admin, username="auditor2", full_name="审计")
    services.role_grant(actor=admin, user=person, role=Role.SECURITY_AUDITOR, unit=units["saihan"])
    services.role_grant(actor=admin, user=person, role=Role.SECURITY_AUDITOR, unit=units["xincheng"])


def test_nobody_grants_or_revokes_on_themselves(security_admin, units):
    admin = selectors.actor_for(security_admin)
    with pytest.raises(ValidationFailed, match="自己"):
        services.role_grant(actor=admin, user=security_admin, role=Role.SECURITY_ADMIN, unit=units["saihan"])
    own = RoleAssignment.objects.get(user=security_admin)
    with pytest.raises(ValidationFailed, match="自己"):
        services.role_revoke(actor=admin, assignment=own)
    with pytest.raises(ValidationFailed):
        services.user_password_reset(actor=admin, user=security_admin)
    assert not policies.can_grant_role(admin, security_admin, Role.SECURITY_ADMIN, units["saihan"])
    assert not policies.can_revoke_role(admin, own)


NON_SECURITY_ROLES = [r for r in ALL_ROLES if r not in (Role.SECURITY_ADMIN, Role.DEPARTMENT_SYSTEM)]


@pytest.mark.parametrize("role", NON_SECURITY_ROLES)
def test_only_the_security_admin_manages_users(role, make_user, units, security_admin):
    actor_user = make_user(f"actor-{role}", (role, "city"))
    actor = selectors.actor_for(actor_user)
    assert not policies.can_manage_users(actor)
    target, _ = services.user_create(
        actor=selectors.actor_for(security_admin), username="target", full_name="目标"
    )
    services.role_grant(
        actor=selectors.actor_for(security_admin), user=target, role=Role.REVIEWER, unit=units["saihan"]
    )
    assignment = RoleAssignment.objects.get(user=target)
    with pytest.raises(Forbidden):
        services.user_create(actor=actor, username="sneaky", full_name="x")
    with pytest.raises(Forbidden):
        services.role_grant(actor=actor, user=target, role=Role.ANALYST, unit=units["saihan"])
    with pytest.raises(Forbidden):
        services.role_revoke(actor=actor, assignment=assignment)
    for call in (
        services.user_password_reset,
        services.user_unlock,
        services.user_deactivate,
        services.user_totp_reset,
    ):
        with pytest.raises(Forbidden):
            call(actor=actor, user=target)
    with pytest.raises((Forbidden, NotFound)):
        services.api_token_create(actor=actor, user=target, name="x", scopes=["cases:read"], days=1)
    with pytest.raises(Forbidden):
        selectors.user_list_for(actor)
    with pytest.raises(NotFound):
        selectors.user_get_for(actor, target.pk)


def test_platform_may_do_everything_but_has_no_user():
    from sanji.core.actors import system_actor

    assert policies.can_manage_users(system_actor())
    assert not policies.can_manage_users(Actor(user_id=None, username="anonymous"))
    assert not is_platform(Actor(user_id=None, username="x", channel="web"))


def test_reach_of_grants_for_units(units):
    district = Actor(
        user_id=99, username="d", grants=(Grant("security_admin", units["saihan"].pk, "150100/150105/"),)
    )
    from sanji.orgs.models import Unit

    reachable = set(policies.units_for_granting(district, Unit.objects.all()).values_list("code", flat=True))
    assert reachable == {"SC-150105"}


@pytest.mark.parametrize(
    ("roles", "needs"),
    [((), False), (("applicant",), False), (("window_clerk",), True), (("applicant", "analyst"), True)],
)
def test_needs_terminal(roles, needs, settings):
    settings.SANJI_REQUIRE_TERMINAL = True
    assert policies.needs_terminal(roles) is needs


@pytest.mark.parametrize("role", ALL_ROLES)
def test_second_factor_roles(role):
    expected = role in {"supervisor", "system_admin", "security_admin", "security_auditor"}
    assert policies.needs_second_factor([role]) is expected
