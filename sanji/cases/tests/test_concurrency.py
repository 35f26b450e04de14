"""Concurrent double submits: exactly one wins (real threads on PostgreSQL; the version check on both)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection, connections

from sanji.cases import services
from sanji.cases.models import Case, CaseEvent
from sanji.cases.tests.conftest import ID_A, SAIHAN_CA_WINDOW, actor_at
from sanji.core.errors import Conflict, SanjiError
from sanji.core.roles import Role


def _race(n: int, work: Any) -> tuple[list[Any], list[BaseException]]:
    results: list[Any] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(n)

    def run() -> None:
        try:
            barrier.wait()
            results.append(work())
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, errors


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="real concurrent transactions need PostgreSQL")
def test_double_accept_exactly_one_wins(org: None) -> None:
    clerk = actor_at(Role.WINDOW_CLERK, SAIHAN_CA_WINDOW)
    case, _ = services.case_receive(
        actor=clerk, matter_code="T-PRO", applicant_name="张三", applicant_id_number=ID_A
    )
    version = case.version

    results, errors = _race(
        4, lambda: services.case_act(actor=clerk, case_id=case.pk, action="accept", expected_version=version)
    )
    assert len(results) == 1
    assert len(errors) == 3
    assert all(isinstance(e, Conflict) for e in errors), errors
    assert list(CaseEvent.objects.filter(case=case).values_list("action", flat=True)) == ["receive", "accept"]
    assert Case.objects.get(pk=case.pk).version == version + 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="real concurrent transactions need PostgreSQL")
def test_concurrent_receipts_get_distinct_numbers(org: None) -> None:
    clerk = actor_at(Role.WINDOW_CLERK, SAIHAN_CA_WINDOW)
    results, errors = _race(
        4,
        lambda: (
            services.case_receive(
                actor=clerk, matter_code="T-PRO", applicant_name="张三", applicant_id_number=ID_A
            )[0].number
        ),
    )
    assert not errors, errors
    # Distinct, and without gaps: the counter is taken last in each transaction, but still taken.
    assert sorted(n.rsplit("-", 1)[1] for n in results) == ["0001", "0002", "0003", "0004"]
    assert sorted(Case.objects.values_list("number", flat=True)) == sorted(results)


@pytest.mark.django_db
def test_stale_second_submit_conflicts(org: None) -> None:
    clerk = actor_at(Role.WINDOW_CLERK, SAIHAN_CA_WINDOW)
    case, _ = services.case_receive(
        actor=clerk, matter_code="T-PRO", applicant_name="张三", applicant_id_number=ID_A
    )
    services.case_act(actor=clerk, case_id=case.pk, action="accept", expected_version=case.version)
    with pytest.raises(SanjiError) as err:
        services.case_act(actor=clerk, case_id=case.pk, action="accept", expected_version=case.version)
    assert isinstance(err.value, Conflict)
