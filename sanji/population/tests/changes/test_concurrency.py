"""Concurrent submissions and decisions (real threads on PostgreSQL): one wins, the rest see a clear
refusal or conflict, nothing is half-applied, and feed numbers stay distinct and gapless."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections

from sanji.core.errors import Conflict, ValidationFailed
from sanji.population import services
from sanji.population.models import ChangeFeedEntry, ChangeState, Person, PersonChange, PersonVersion
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


def test_two_changes_for_one_person_submitted_at_once_one_is_refused(world: World) -> None:
    """One open change per person holds under concurrency: the submissions queue on the person's
    row, and the second sees the first waiting."""
    person = world.person(0)
    results, errors = _race(
        [
            functools.partial(
                services.change_submit,
                actor=world.officer,
                kind="name",
                person_id=person.pk,
                values={"name": "张卫"},
            ),
            functools.partial(
                services.change_submit,
                actor=world.worker,
                kind="marriage_status",
                person_id=person.pk,
                values={"marital_status": "40"},
            ),
        ]
    )
    assert len(results) == 1
    assert len(errors) == 1
    assert isinstance(errors[0], ValidationFailed)
    assert [d["code"] for d in errors[0].details] == ["change_waiting"]
    assert errors[0].details[0]["change_id"] == results[0].pk
    assert list(PersonChange.objects.filter(person=person).values_list("pk", flat=True)) == [results[0].pk]
    services.change_verify(actor=world.police, change_id=results[0].pk, expected_state=S)
    assert Person.objects.get(pk=person.pk).version == 2
    assert PersonVersion.objects.filter(person=person).count() == 1
    assert ChangeFeedEntry.objects.count() == 1


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
