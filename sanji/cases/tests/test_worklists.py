"""Worklists: whose "to receive" / "to handle" a case is, one query per page, scope as index ranges."""

from __future__ import annotations

import dataclasses

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sanji.cases import selectors, services
from sanji.cases.models import Case
from sanji.cases.tests.conftest import (
    CA,
    CITY_CA_OFFICE,
    COMM,
    COMMUNITY,
    ID_A,
    MATERIALS,
    SAIHAN_CA_OFFICE,
    SAIHAN_CA_WINDOW,
    SAIHAN_HOUSING_OFFICE,
    SAIHAN_SUP,
    SYSTEM,
    D,
    _step,
    actor_at,
)
from sanji.catalog import services as catalog
from sanji.catalog.flows import MatterTerms
from sanji.catalog.models import MatterKind, MatterType, StepCode
from sanji.core.actors import Actor
from sanji.core.authz import prefix_q
from sanji.core.roles import Role
from sanji.orgs.models import Department, Unit

pytestmark = pytest.mark.usefixtures("org", "frozen_now")


def clerk() -> Actor:
    return actor_at(Role.WINDOW_CLERK, SAIHAN_CA_WINDOW)


def worker() -> Actor:
    return actor_at(Role.COMMUNITY_WORKER, COMMUNITY)


def reviewer() -> Actor:
    return actor_at(Role.REVIEWER, SAIHAN_CA_OFFICE)


def approver() -> Actor:
    return actor_at(Role.APPROVER, SAIHAN_CA_OFFICE)


def head() -> Actor:
    return actor_at(Role.DEPARTMENT_HEAD, SAIHAN_CA_OFFICE)


def receive(matter: str = "T-PRO", actor: Actor | None = None) -> Case:
    case, _ = services.case_receive(
        actor=actor or clerk(), matter_code=matter, applicant_name="王小明", applicant_id_number=ID_A
    )
    return case


def act(actor: Actor, case: Case, action: str, **fields: object) -> Case:
    case.refresh_from_db()
    return services.case_act(
        actor=actor, case_id=case.pk, action=action, expected_version=case.version, **fields
    )


def listed(actor: Actor, worklist: str) -> list[str]:
    return [c.number for c in selectors.case_list_for(actor, worklist=worklist).items]


def publish_delivered_at_community() -> None:
    """A matter received at a community station, decided at the district, delivered back at the station."""
    matter = catalog.matter_create(
        actor=SYSTEM,
        code="T-CDL",
        details=catalog.MatterDetails(
            name="测试事项 社区送达", matter_type=MatterType.LICENSING, legal_basis="测试依据"
        ),
        terms=MatterTerms(MatterKind.REPORTED, CA, (COMM,), D, legal_limit_days=20, promised_limit_days=15),
    )
    catalog.flow_version_publish(
        actor=SYSTEM,
        matter=matter,
        steps=[
            _step(1, StepCode.RECEIVE, COMM, Role.COMMUNITY_WORKER, 1, report_up=True),
            _step(2, StepCode.ACCEPT, D, Role.WINDOW_CLERK, 1),
            _step(3, StepCode.REVIEW, D, Role.REVIEWER, 3),
            _step(4, StepCode.DECIDE, D, Role.APPROVER, 2),
            _step(5, StepCode.DELIVER, COMM, Role.COMMUNITY_WORKER, 1),
        ],
        materials=MATERIALS,
    )


def test_to_receive_is_the_actors_own_level_not_the_stations_below() -> None:
    case = receive("T-REP", actor=worker())
    # At the station, of the district's civil-affairs line: the station's, not the district window's.
    assert case.current_department is not None
    assert case.current_department.kind == CA
    assert listed(worker(), "to_receive") == [case.number]
    assert listed(clerk(), "to_receive") == []
    act(worker(), case, "report_up", opinion="报区")
    assert listed(clerk(), "to_receive") == [case.number]
    assert listed(worker(), "to_receive") == []


def test_to_handle_only_for_the_role_that_answers_the_current_step() -> None:
    case = receive()
    act(clerk(), case, "accept")  # → review (reviewer) at the district office
    assert listed(reviewer(), "to_handle") == [case.number]
    assert listed(approver(), "to_handle") == []
    assert listed(head(), "to_handle") == [case.number]  # the head answers any step of the department
    assert listed(clerk(), "to_handle") == []
    act(reviewer(), case, "complete_step", opinion="初审通过")  # → decide (approver)
    assert listed(reviewer(), "to_handle") == []
    assert listed(approver(), "to_handle") == [case.number]
    assert listed(head(), "to_handle") == [case.number]
    act(approver(), case, "approve", opinion="准予")  # → delivery at the district window
    assert listed(clerk(), "to_handle") == [case.number]
    assert listed(approver(), "to_handle") == []
    act(clerk(), case, "deliver", delivery_method="window", certificate_no="Z-1")
    assert listed(clerk(), "to_handle") == [case.number]  # delivered: the window completes it
    act(clerk(), case, "complete")
    assert listed(clerk(), "to_handle") == []


def test_to_handle_parallel_stage_for_each_department() -> None:
    case = receive("T-JNT")
    act(clerk(), case, "accept")  # → civil affairs and housing give opinions side by side
    housing = actor_at(Role.REVIEWER, SAIHAN_HOUSING_OFFICE)
    assert listed(housing, "to_handle") == [case.number]
    assert listed(reviewer(), "to_handle") == [case.number]
    act(housing, case, "complete_step", opinion="住建意见")
    assert listed(housing, "to_handle") == []  # answered: the stage waits for civil affairs
    assert listed(reviewer(), "to_handle") == [case.number]


def test_district_window_does_not_list_results_waiting_at_a_community_station() -> None:
    publish_delivered_at_community()
    case = receive("T-CDL", actor=worker())
    act(worker(), case, "report_up", opinion="报区")
    act(clerk(), case, "take_over")
    act(clerk(), case, "accept")
    act(reviewer(), case, "complete_step", opinion="初审通过")
    case = act(approver(), case, "approve", opinion="准予")
    if case.current_unit.code != COMMUNITY:  # the result goes back down to the station
        assert listed(approver(), "to_handle") == [case.number]
        case = act(approver(), case, "return_down")
    assert case.current_unit.code == COMMUNITY
    # The result waits at the station, for the district's line: the station delivers it.
    assert case.current_department is not None
    assert case.current_department.kind == CA
    assert listed(worker(), "to_handle") == [case.number]
    assert listed(clerk(), "to_handle") == []
    assert listed(reviewer(), "to_handle") == []
    # Everyone of the line still sees it, and it is due like any other case.
    assert case.number in listed(clerk(), "all")


def test_staff_own_application_is_not_in_their_worklists() -> None:
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user(username="xc-clerk", password="x", full_name="李四")
    case, _ = services.case_receive(
        actor=clerk(),
        matter_code="T-PRO",
        applicant_name="李四",
        applicant_id_number=ID_A,
        applicant_user_id=user.pk,
    )
    # A clerk of another district applied in Saihan: their staff worklists are their district's.
    staff = actor_at(Role.WINDOW_CLERK, "150102-CSC-W-civil_affairs", user_id=user.pk)
    assert listed(staff, "all") == []
    assert listed(staff, "due_soon") == []
    # The same person as an applicant (the portal) sees their own case.
    applicant = Actor(user_id=user.pk, username=user.username, channel="web")
    assert [c.pk for c in selectors.case_list_of_applicant(applicant)] == [case.pk]
    assert listed(applicant, "all") == [case.number]


def fully_resolved(actor: Actor) -> Actor:
    """As :func:`sanji.accounts.selectors.actor_for` builds it: grants carry their line."""
    grants = []
    for grant in actor.grants:
        kind = None
        if grant.department_id is not None:
            kind = Department.objects.get(pk=grant.department_id).kind
        grants.append(dataclasses.replace(grant, department_kind=kind))
    return dataclasses.replace(actor, grants=tuple(grants))


PLACE_TABS = ("to_receive", "to_handle", "returned")


@pytest.mark.parametrize(
    ("role", "unit"),
    [
        (Role.WINDOW_CLERK, SAIHAN_CA_WINDOW),
        (Role.REVIEWER, SAIHAN_CA_OFFICE),
        (Role.COMMUNITY_WORKER, COMMUNITY),
        (Role.SUPERVISOR, SAIHAN_SUP),
        (Role.APPROVER, CITY_CA_OFFICE),
    ],
)
def test_a_worklist_page_is_one_query_without_count(role: str, unit: str) -> None:
    for matter in ("T-PRO", "T-JNT", "T-IMM"):
        case = receive(matter)
        act(clerk(), case, "accept")
    receive("T-REP", actor=worker())
    actor = fully_resolved(actor_at(role, unit))
    for worklist in selectors.WORKLISTS:
        for page in (1, 2):
            with CaptureQueriesContext(connection) as ctx:
                result = selectors.case_list_for(actor, worklist=worklist, page=page, page_size=2)
                # The page's rows carry what the worklist template shows (no query per row).
                for c in result.items:
                    _ = (c.matter.name, c.current_unit.name, c.accepting_unit.name)
            sqls = [q["sql"] for q in ctx.captured_queries]
            # One query, or none when the actor has no such worklist (a supervisor's "to receive").
            # A window's place is the windows at its level: one more (small) query to list them.
            expected = 1
            if worklist in PLACE_TABS:
                expected = {"supervisor": 0, "window_clerk": 2, "community_worker": 2}.get(str(role), 1)
            assert len(sqls) == expected, sqls
            for sql in sqls:
                assert "COUNT(" not in sql.upper()
                assert "LIKE" not in sql.upper()  # region prefixes are index ranges


def test_prefix_q_is_startswith() -> None:
    district = Unit.objects.get(code=SAIHAN_CA_WINDOW).region_path
    for prefix in ("", "150100/", district, district + "150105001/", "150105", "9"):
        by_range = set(Unit.objects.filter(prefix_q("region_path", prefix)).values_list("pk", flat=True))
        by_like = set(Unit.objects.filter(region_path__startswith=prefix).values_list("pk", flat=True))
        assert by_range == by_like, prefix
    assert Unit.objects.filter(prefix_q("region_path", district)).exists()
    assert not Unit.objects.filter(prefix_q("region_path", district)).filter(region_path="150100/").exists()
