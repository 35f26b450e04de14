"""Worklists: whose "to receive" / "to handle" a case is, one query per page, scope as index ranges."""

from __future__ import annotations

import dataclasses
import datetime as dt

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
from sanji.core import clock
from sanji.core.actors import Actor, system_actor
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


def test_a_step_the_flow_gives_the_window_clerk_waits_at_the_window() -> None:
    """即办件 (decided on the spot by the window clerk): the decision step is the clerk's, so the
    case stays at the window and in the clerk's 待办理, not at the department office's."""
    case = act(clerk(), receive("T-IMW"), "accept")
    assert case.current_unit.code == SAIHAN_CA_WINDOW
    assert listed(clerk(), "to_handle") == [case.number]
    assert listed(approver(), "to_handle") == []
    act(clerk(), case, "approve", opinion="当场办结")
    assert listed(clerk(), "to_handle") == [case.number]


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


# --- overdue and due soon judge the deadline the remaining days count to ---------------------------


def at(day: int) -> dt.datetime:
    """10:00 Beijing time on a day of March 2026 (no holidays that month)."""
    return dt.datetime(2026, 3, day, 2, tzinfo=dt.UTC)


def refreshed(day: int) -> None:
    with clock.frozen(at(day)):
        services.case_deadlines_refresh(actor=system_actor("test-sweep"))


def decided_on_the_spot(day: int) -> Case:
    """An immediate case (promised: the same day) accepted and decided on ``day``, not yet delivered."""
    with clock.frozen(at(day)):
        case = receive("T-IMM")
        act(clerk(), case, "accept")
        case = act(approver(), case, "approve", opinion="符合条件，准予")
    assert case.decided_at is not None
    return case


def test_a_case_decided_on_time_is_not_overdue_until_its_delivery_deadline_passes() -> None:
    case = decided_on_the_spot(3)  # promised 03-03, delivery due 10 working days later: 03-17
    supervisor = actor_at(Role.SUPERVISOR, SAIHAN_SUP)
    with clock.frozen(at(10)):
        refreshed(10)
        assert listed(supervisor, "overdue") == []
        (row,) = selectors.case_list_for(supervisor, worklist="all").rows
        assert row[1] == selectors.WorkingDeadline(
            "delivery", Case.objects.get(pk=case.pk).step_due, 5, False
        )
        assert row[1].due is not None
        assert row[1].due.astimezone(clock.CITY_TZ).date() == dt.date(2026, 3, 17)
    with clock.frozen(at(13)):  # Friday: two working days to the delivery deadline
        refreshed(13)
        assert listed(supervisor, "due_soon") == [case.number]
        assert listed(supervisor, "overdue") == []
    with clock.frozen(at(18)):
        refreshed(18)
        assert listed(supervisor, "overdue") == [case.number]
        assert listed(supervisor, "due_soon") == []


def test_a_deadline_passed_on_friday_is_overdue_not_due_soon_on_saturday() -> None:
    with clock.frozen(at(6)):  # Friday: promised 10 working days → Friday 03-20
        undecided = receive("T-PRO")
        act(clerk(), undecided, "accept")
    undecided.refresh_from_db()
    assert undecided.promised_due is not None
    assert undecided.promised_due.astimezone(clock.CITY_TZ).date() == dt.date(2026, 3, 20)
    decided = decided_on_the_spot(6)  # delivery due Friday 03-20 too
    supervisor = actor_at(Role.SUPERVISOR, SAIHAN_SUP)
    with clock.frozen(at(21)):  # Saturday: 0 working days left, but both deadlines have passed
        refreshed(21)
        assert set(Case.objects.values_list("remaining_days", flat=True)) == {0}
        assert listed(supervisor, "due_soon") == []
        assert set(listed(supervisor, "overdue")) == {undecided.number, decided.number}
        keys = {
            c.number: (d.key, d.passed)
            for c, d in selectors.case_list_for(supervisor, worklist="overdue").rows
        }
        assert keys == {undecided.number: ("promised", True), decided.number: ("delivery", True)}
