import pytest

from sanji.core.actors import Actor, Grant, system_actor

CITY = "150100/"
SAIHAN = "150100/150105/"
XINCHENG = "150100/150102/"


@pytest.mark.parametrize(
    ("grant", "region_path", "department_id", "expected"),
    [
        (Grant("supervisor", 1, CITY), SAIHAN + "150105001/", None, True),
        (Grant("supervisor", 1, SAIHAN), SAIHAN, None, True),
        (Grant("supervisor", 1, SAIHAN), XINCHENG, None, False),
        (Grant("supervisor", 1, SAIHAN), CITY, None, False),  # a district grant does not reach up
        (Grant("reviewer", 1, SAIHAN, department_id=7), SAIHAN, 7, True),
        (Grant("reviewer", 1, SAIHAN, department_id=7), SAIHAN, 8, False),
        (Grant("reviewer", 1, SAIHAN, department_id=7), SAIHAN, None, False),
        # "150100/15010" must not reach "150100/150105/" by string accident: paths end with "/"
        (Grant("supervisor", 1, "150100/150105/"), "150100/1501050/", None, False),
    ],
)
def test_grant_reaches(grant, region_path, department_id, expected):
    assert grant.reaches(region_path, department_id) is expected


def test_actor_roles_and_scopes():
    actor = Actor(
        user_id=1,
        username="u",
        grants=(Grant("reviewer", 1, SAIHAN, 3), Grant("approver", 2, CITY, 4)),
        scopes=frozenset({"cases:read"}),
    )
    assert actor.roles == {"reviewer", "approver"}
    assert actor.has_role("approver", "supervisor")
    assert not actor.has_role("supervisor")
    assert [g.unit_id for g in actor.grants_for("approver")] == [2]
    assert actor.allows_scope("cases:read")
    assert not actor.allows_scope("cases:write")
    assert not actor.is_anonymous
    assert not system_actor().is_anonymous
    assert Actor(user_id=None, username="anonymous").is_anonymous
