"""Concurrent decisions (real threads on PostgreSQL): one wins, the rest see a clear conflict, nothing
is half-applied, and feed numbers stay distinct and gapless."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections

from sanji.core.errors import Conflict
from sanji.population import services
from sanji.population.models import ChangeFeedEntry, ChangeState, Person, PersonVersion
from sanji.population.tests.changes.conftest import World

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="real concurrent transactions need PostgreSQL"
    ),
]
S = ChangeState.SUBMITTED


def _race(works: list[Callable[[], Any]]) -> tuple[list[Any], list[BaseException]]:
    results: list[Any] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(works))

    def run(work: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results.append(work())
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(w,)) for w in works]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, errors


def test_two_changes_to_one_person_the_second_conflicts(world: World) -> None:
    person = world.person(0)
    first = services.change_submit(
        actor=world.officer, kind="name", person_id=person.pk, values={"name": "张卫"}
    )
    second = services.change_submit(
        actor=world.officer, kind="marriage_status", person_id=person.pk, values={"marital_status": "40"}
    )
    results, errors = _race(
        [
            functools.partial(services.change_verify, actor=world.police, change_id=c.pk, expected_state=S)
            for c in (first, second)
        ]
    )
    assert len(results) == 1
    assert len(errors) == 1
    assert isinstance(errors[0], Conflict)
    assert "changed since this change was submitted" in str(errors[0])
    person.refresh_from_db()
    assert person.version == 2
    assert PersonVersion.objects.filter(person=person).count() == 1
    assert ChangeFeedEntry.objects.count() == 1
    applied = results[0]
    assert (person.name == "张卫") == (applied.pk == first.pk)
    assert (person.marital_status == "40") == (applied.pk == second.pk)


def test_one_change_decided_by_four_verifiers_at_once(world: World) -> None:
    change = services.change_submit(
        actor=world.officer,
        kind="death",
        person_id=world.person(1).pk,
        values={"effective_date": "2025-05-01"},
    )
    results, errors = _race(
        [lambda: services.change_verify(actor=world.police, change_id=change.pk, expected_state=S)] * 4
    )
    assert len(results) == 1
    assert len(errors) == 3
    assert all(isinstance(e, Conflict) for e in errors), errors
    assert ChangeFeedEntry.objects.filter(change=change).count() == 1
    assert Person.objects.get(pk=world.person(1).pk).version == 2


def test_concurrent_verifications_get_distinct_gapless_feed_numbers(world: World) -> None:
    people = [world.person(i) for i in range(3)] + [world.village]
    changes = [
        services.change_submit(
            actor=world.officer, kind="name", person_id=p.pk, values={"name": f"{p.name[:1]}新名"}
        )
        for p in people
    ]
    _results, errors = _race(
        [
            functools.partial(services.change_verify, actor=world.police, change_id=c.pk, expected_state=S)
            for c in changes
        ]
    )
    assert not errors, errors
    assert sorted(ChangeFeedEntry.objects.values_list("seq", flat=True)) == [1, 2, 3, 4]
