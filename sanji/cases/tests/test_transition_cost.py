"""What keeps a transition cheap stays correct: event numbers from the version, the optimistic
write (compare-and-set of the version), the per-actor compiled visibility check, the query budget."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sanji.audit.models import ChainHead, Entry
from sanji.audit.verify import verify_chain
from sanji.cases import services
from sanji.cases.models import Case, CaseEvent, CaseStep
from sanji.cases.tests.conftest import ID_A, SAIHAN_CA_WINDOW, XINCHENG_CA_WINDOW, actor_at
from sanji.core.errors import Conflict, NotFound
from sanji.core.roles import Role
from sanji.orgs.models import Department

pytestmark = pytest.mark.usefixtures("org", "frozen_now")


def _received() -> tuple[Any, Case]:
    clerk = actor_at(Role.WINDOW_CLERK, SAIHAN_CA_WINDOW)
    case, _ = services.case_receive(
        actor=clerk, matter_code="T-PRO", applicant_name="张三", applicant_id_number=ID_A
    )
    return clerk, case


def test_event_numbers_follow_the_version() -> None:
    clerk, case = _received()
    for action, fields in (
        ("request_correction", {"missing_items": ["身份证复印件"]}),
        ("supplement", {}),
        ("accept", {}),
    ):
        case = services.case_act(
            actor=clerk, case_id=case.pk, action=action, expected_version=case.version, **fields
        )
    stored = Case.objects.get(pk=case.pk)
    seqs = list(CaseEvent.objects.filter(case=case).order_by("seq").values_list("seq", flat=True))
    assert seqs == [1, 2, 3, 4] == list(range(1, stored.version + 1))
    assert case.version == stored.version == 4
    # What the service answers is what it stored (the API serialises it without reading again).
    for name in (
        "state",
        "current_unit_id",
        "current_step_order",
        "acceptance_due",
        "promised_due",
        "legal_due",
    ):
        assert getattr(case, name) == getattr(stored, name), name


def test_a_change_committed_between_read_and_write_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    """The service reads and works out the change before its write transaction; a change that
    commits in between (here: the same service, called from inside that window) bumps the version,
    so the late writer's compare-and-set matches no row: Conflict, and nothing of it is written."""
    clerk, case = _received()
    real = services._recompute
    interleaved: list[str] = []

    def recompute_then_let_another_request_in(target: Case, *, new: bool) -> None:
        real(target, new=new)
        if not interleaved:
            interleaved.append("in")
            services.case_act(actor=clerk, case_id=case.pk, action="accept", expected_version=case.version)

    monkeypatch.setattr(services, "_recompute", recompute_then_let_another_request_in)
    with pytest.raises(Conflict):
        services.case_act(actor=clerk, case_id=case.pk, action="accept", expected_version=case.version)
    assert list(CaseEvent.objects.filter(case=case).values_list("action", flat=True)) == ["receive", "accept"]
    assert Case.objects.get(pk=case.pk).version == case.version + 1
    assert CaseStep.objects.filter(case=case, state="active").count() == 1
    # One audit entry per transition that happened, and the chain intact.
    assert Entry.objects.filter(target_type="cases.case", target_id=str(case.pk)).count() == 2
    assert verify_chain().ok


def test_visibility_is_checked_per_actor() -> None:
    clerk, case = _received()
    outsider = actor_at(Role.WINDOW_CLERK, XINCHENG_CA_WINDOW)
    for _ in range(2):  # the second time from the compiled check of each actor
        with pytest.raises(NotFound):
            services.case_act(actor=outsider, case_id=case.pk, action="accept", expected_version=case.version)
    with pytest.raises(NotFound):
        services.case_act(actor=clerk, case_id=case.pk + 1000, action="accept", expected_version=1)
    done = services.case_act(actor=clerk, case_id=case.pk, action="accept", expected_version=case.version)
    assert done.state == "handling"


def test_a_transition_stays_within_its_query_budget() -> None:
    """Reads (the scoped case, its steps, pause events, calendar), then one write transaction (the
    case, the steps changed, the event, the audit entry and chain head); it was 23–37 before. The
    after-commit hook does not run inside the test's transaction. A regression that adds per-step
    or per-field queries fails."""
    clerk, case = _received()
    # As accounts builds actors: each department-bound grant carries its line (so the visibility
    # check is compiled once per actor, here by the first transition).
    kinds = dict(Department.objects.values_list("pk", "kind"))
    clerk = dataclasses.replace(
        clerk,
        grants=tuple(
            dataclasses.replace(g, department_kind=kinds.get(g.department_id or 0)) for g in clerk.grants
        ),
    )
    case = services.case_act(
        actor=clerk,
        case_id=case.pk,
        action="request_correction",
        expected_version=case.version,
        missing_items=["x"],
    )
    case = services.case_act(actor=clerk, case_id=case.pk, action="supplement", expected_version=case.version)
    with CaptureQueriesContext(connection) as queries:
        services.case_act(actor=clerk, case_id=case.pk, action="accept", expected_version=case.version)
    statements = [
        q["sql"] for q in queries.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))
    ]
    # accept: case, steps, the office the case moves to, pause events, calendar; then the write:
    # on PostgreSQL one statement (case, 2 steps, event, entry and chain head: prepared.Chain), on
    # SQLite case, 2 steps, event, chain head, entry, chain head.
    reads = 5
    writes = 1 if connection.vendor == "postgresql" else 7
    assert len(statements) <= reads + writes, "\n".join(statements)


def test_a_transition_after_a_lost_chain_head_row_continues_the_chain() -> None:
    """The write (one statement on PostgreSQL) finds no chain head row (a flushed test database):
    the entry is still appended in the same transaction, after the last one, and the chain verifies."""
    clerk, case = _received()
    ChainHead.objects.filter(pk=1).delete()
    done = services.case_act(actor=clerk, case_id=case.pk, action="accept", expected_version=case.version)
    entries = Entry.objects.filter(target_type="cases.case", target_id=str(case.pk)).order_by("seq")
    assert [e.action for e in entries] == ["cases.receive", "cases.accept"]
    assert ChainHead.objects.get(pk=1).seq == entries.last().seq  # type: ignore[union-attr]
    assert done.version == Case.objects.get(pk=case.pk).version == case.version + 1
    assert verify_chain().ok


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_write_commits_as_one_statement() -> None:
    """On PostgreSQL a transition outside any transaction writes with one statement that commits by
    itself (no BEGIN, no COMMIT); elsewhere its writes run in one transaction."""
    clerk, case = _received()
    with CaptureQueriesContext(connection) as queries:
        done = services.case_act(actor=clerk, case_id=case.pk, action="accept", expected_version=case.version)
    statements = [q["sql"] for q in queries.captured_queries]
    if connection.vendor == "postgresql":
        assert "BEGIN" not in statements, statements
        assert "COMMIT" not in statements, statements
        assert sum(s.startswith("WITH g AS (UPDATE") for s in statements) == 1
    assert Case.objects.get(pk=case.pk).version == done.version == case.version + 1
    assert [e.action for e in CaseEvent.objects.filter(case=case).order_by("seq")] == ["receive", "accept"]
    assert verify_chain().ok


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_a_lost_chain_head_row_is_restored_before_the_write() -> None:
    """The one statement finds no chain head row: it fails whole (nothing written), and the writes
    run again one by one in a transaction that re-creates the head from the last entry."""
    clerk, case = _received()
    ChainHead.objects.filter(pk=1).delete()
    with CaptureQueriesContext(connection) as queries:
        done = services.case_act(actor=clerk, case_id=case.pk, action="accept", expected_version=case.version)
    if connection.vendor == "postgresql":  # the one statement failed whole; the writes ran again
        statements = [q["sql"] for q in queries.captured_queries]
        first = next(i for i, s in enumerate(statements) if s.startswith("WITH g AS (UPDATE"))
        assert statements[first + 1 :][:1] == ["BEGIN"], statements
    entries = Entry.objects.filter(target_type="cases.case", target_id=str(case.pk)).order_by("seq")
    assert [e.action for e in entries] == ["cases.receive", "cases.accept"]
    assert ChainHead.objects.get(pk=1).seq == entries.last().seq  # type: ignore[union-attr]
    assert done.version == Case.objects.get(pk=case.pk).version == case.version + 1
    assert list(CaseEvent.objects.filter(case=case).values_list("seq", flat=True)) == [1, 2]
    assert verify_chain().ok
