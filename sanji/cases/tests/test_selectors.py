"""Worklists, visibility, history and the anonymous progress query."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sanji.cases import selectors, services
from sanji.cases.models import Case
from sanji.cases.tests.conftest import (
    COMMUNITY,
    ID_A,
    SAIHAN_CA_OFFICE,
    SAIHAN_CA_WINDOW,
    SAIHAN_SUP,
    T0,
    XINCHENG_CA_WINDOW,
    actor_at,
)
from sanji.core import clock
from sanji.core.actors import Actor
from sanji.core.errors import NotFound
from sanji.core.roles import Role

pytestmark = pytest.mark.usefixtures("org", "frozen_now")


def clerk() -> Actor:
    return actor_at(Role.WINDOW_CLERK, SAIHAN_CA_WINDOW)


def receive(matter: str = "T-PRO", actor: Actor | None = None) -> tuple[Case, str]:
    return services.case_receive(
        actor=actor or clerk(), matter_code=matter, applicant_name="王小明", applicant_id_number=ID_A
    )


def act(actor: Actor, case: Case, action: str, **fields: object) -> Case:
    case.refresh_from_db()
    return services.case_act(
        actor=actor, case_id=case.pk, action=action, expected_version=case.version, **fields
    )


def numbers(page: selectors.CasePage) -> list[str]:
    return [c.number for c in page.items]


def test_worklists_follow_the_case() -> None:
    a, _ = receive()
    b, _ = receive()
    act(clerk(), b, "accept")
    reviewer = actor_at(Role.REVIEWER, SAIHAN_CA_OFFICE)
    assert numbers(selectors.case_list_for(clerk(), worklist="to_receive")) == [a.number]
    assert numbers(selectors.case_list_for(reviewer, worklist="to_handle")) == [b.number]
    assert numbers(selectors.case_list_for(clerk(), worklist="to_handle")) == []
    assert set(numbers(selectors.case_list_for(reviewer, worklist="all"))) == {a.number, b.number}
    other = actor_at(Role.WINDOW_CLERK, XINCHENG_CA_WINDOW)
    assert numbers(selectors.case_list_for(other, worklist="all")) == []


def test_reported_up_worklist_and_visibility_upwards() -> None:
    worker = actor_at(Role.COMMUNITY_WORKER, COMMUNITY)
    case, _ = receive("T-REP", actor=worker)
    act(worker, case, "report_up", opinion="报区")
    assert numbers(selectors.case_list_for(clerk(), worklist="to_receive")) == [case.number]
    assert numbers(
        selectors.case_list_for(actor_at(Role.SUPERVISOR, SAIHAN_SUP), worklist="reported_up")
    ) == [case.number]
    assert numbers(selectors.case_list_for(worker, worklist="to_receive")) == []


def test_due_soon_ordered_by_remaining_days_and_overdue() -> None:
    early, _ = receive()
    act(clerk(), early, "accept")  # 10 working days promised
    with clock.frozen(T0 + dt.timedelta(days=7)):  # 03-10
        late, _ = receive()
        act(clerk(), late, "accept")
    reviewer = actor_at(Role.REVIEWER, SAIHAN_CA_OFFICE)
    with clock.frozen(dt.datetime(2026, 3, 16, 2, tzinfo=dt.UTC)):
        services.case_deadlines_refresh(actor=services_system())
        page = selectors.case_list_for(reviewer, worklist="due_soon")
        assert numbers(page) == [early.number]
    with clock.frozen(dt.datetime(2026, 3, 23, 2, tzinfo=dt.UTC)):
        services.case_deadlines_refresh(actor=services_system())
        assert numbers(selectors.case_list_for(reviewer, worklist="overdue")) == [early.number]
        assert numbers(selectors.case_list_for(reviewer, worklist="due_soon")) == [late.number]


def test_due_soon_lists_the_fewest_remaining_working_days_first() -> None:
    """Three cases due soon, received in the reverse of their urgency: the list follows the
    remaining working days, not the receipt order (id) nor the promised deadline (none yet for a
    case awaiting acceptance, so it would come last)."""

    def at(day: int) -> dt.datetime:
        return dt.datetime(2026, 3, day, 2, tzinfo=dt.UTC)

    with clock.frozen(at(3)):  # joint: promised 20 working days → 03-31
        two, _ = receive("T-JNT")
        act(clerk(), two, "accept")
    with clock.frozen(at(16)):  # promised 10 working days → 03-30
        one, _ = receive("T-PRO")
        act(clerk(), one, "accept")
    with clock.frozen(at(20)):  # not accepted: acceptance due in 5 working days → 03-27
        zero, _ = receive("T-PRO")
    supervisor = actor_at(Role.SUPERVISOR, SAIHAN_SUP)
    with clock.frozen(at(27)):  # Friday
        services.case_deadlines_refresh(actor=services_system())
        remaining = dict(Case.objects.values_list("number", "remaining_days"))
        assert remaining == {zero.number: 0, one.number: 1, two.number: 2}
        page = selectors.case_list_for(supervisor, worklist="due_soon")
    assert numbers(page) == [zero.number, one.number, two.number]
    assert [c.remaining_days for c in page.items] == [0, 1, 2]


def services_system() -> Actor:
    from sanji.core.actors import system_actor

    return system_actor("sweep")


def test_pagination_without_count() -> None:
    for _ in range(5):
        receive()
    first = selectors.case_list_for(clerk(), worklist="all", page=1, page_size=2)
    assert len(first.items) == 2
    assert first.has_next
    third = selectors.case_list_for(clerk(), worklist="all", page=3, page_size=2)
    assert len(third.items) == 1
    assert not third.has_next
    with CaptureQueriesContext(connection) as ctx:
        selectors.case_list_for(clerk(), worklist="to_receive", page=1, page_size=50)
    assert not any("COUNT(" in q["sql"].upper() for q in ctx.captured_queries)


def test_case_get_for_and_history_queries() -> None:
    case, _ = receive()
    act(clerk(), case, "accept")
    with pytest.raises(NotFound):
        selectors.case_get_for(actor_at(Role.WINDOW_CLERK, XINCHENG_CA_WINDOW), case.pk)
    with pytest.raises(NotFound):
        selectors.case_get_for(clerk(), 987654)
    got = selectors.case_get_for(clerk(), case.pk)
    with CaptureQueriesContext(connection) as ctx:
        history = selectors.case_history(got)
        _ = [list(e.attachments.all()) for e in history]
    assert [e.action for e in history] == ["receive", "accept"]
    assert len(ctx.captured_queries) == 2


def test_public_lookup() -> None:
    cache.clear()
    case, code = receive()
    progress = selectors.case_lookup_public(case.number, code.lower(), ip="1.2.3.4")
    assert progress.state == "received"
    assert progress.applicant == "王**"
    assert [a for a, _ in progress.events] == ["receive"]
    with pytest.raises(NotFound) as wrong_code:
        selectors.case_lookup_public(case.number, "AAAAAAAA", ip="1.2.3.4")
    with pytest.raises(NotFound) as wrong_number:
        selectors.case_lookup_public("150105-20260303-9999", code, ip="1.2.3.4")
    assert wrong_code.value.message == wrong_number.value.message


def test_public_lookup_is_throttled() -> None:
    cache.clear()
    case, code = receive()
    for _ in range(selectors.PUBLIC_QUERY_LIMIT):
        with pytest.raises(NotFound):
            selectors.case_lookup_public(case.number, "WRONG123", ip="9.9.9.9")
    with pytest.raises(selectors.TooManyQueries):
        selectors.case_lookup_public(case.number, code, ip="9.9.9.9")
    assert selectors.case_lookup_public(case.number, code, ip="8.8.8.8").number == case.number
