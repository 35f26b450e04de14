"""Fixtures of the supervision tests: the cases app's small city, calendar and matters (reused), plus
helpers that drive cases through the real case services."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import TestCase

from sanji.cases import services as cases
from sanji.cases.models import Case
from sanji.cases.tests.conftest import (  # noqa: F401  (fixtures re-exported for this package)
    ID_A,
    SAIHAN_CA_OFFICE,
    SAIHAN_CA_WINDOW,
    SAIHAN_SUP,
    T0,
    XINCHENG_CA_WINDOW,
    XINCHENG_SUP,
    actor_at,
    applicant,
    frozen_now,
    make_actor,
    org,
)
from sanji.core.actors import Actor
from sanji.core.roles import Role

CITY_SUP = "150100-SUP"


@pytest.fixture(autouse=True)
def _rule_configs(request: pytest.FixtureRequest) -> None:
    """The rule rows the migration seeds; re-seeded (idempotent) because a transactional test of
    another app run earlier in the session flushes every table, seeded rows included."""
    if "org" in request.fixturenames or "db" in request.fixturenames:
        request.getfixturevalue("db")
        from sanji.core.actors import system_actor
        from sanji.supervision.services import rule_configs_seed

        rule_configs_seed(actor=system_actor("test-seed"))


def clerk(unit: str = SAIHAN_CA_WINDOW, **kw: Any) -> Actor:
    return actor_at(Role.WINDOW_CLERK, unit, **kw)


def reviewer() -> Actor:
    return actor_at(Role.REVIEWER, SAIHAN_CA_OFFICE, user_id=9101)


def approver() -> Actor:
    return actor_at(Role.APPROVER, SAIHAN_CA_OFFICE, user_id=9102)


def supervisor(unit: str = SAIHAN_SUP) -> Actor:
    return actor_at(Role.SUPERVISOR, unit, user_id=9200)


def committed() -> Any:
    """Run the on-commit callbacks (the supervision hook) as a real commit would, inside the test's
    transaction."""
    return TestCase.captureOnCommitCallbacks(execute=True)


def act(actor: Actor, case: Case, action: str, **fields: Any) -> Case:
    case.refresh_from_db()
    with committed():
        return cases.case_act(
            actor=actor, case_id=case.pk, action=action, expected_version=case.version, **fields
        )


def receive(matter: str = "T-PRO", actor: Actor | None = None, **kw: Any) -> Case:
    with committed():
        case, _code = cases.case_receive(
            actor=actor or clerk(), matter_code=matter, applicant_name="张三", applicant_id_number=ID_A, **kw
        )
    return case


def accepted(matter: str = "T-PRO", **kw: Any) -> Case:
    case = receive(matter, **kw)
    return act(clerk(), case, "accept")


__all__ = [
    "CITY_SUP",
    "ID_A",
    "SAIHAN_CA_OFFICE",
    "SAIHAN_CA_WINDOW",
    "SAIHAN_SUP",
    "T0",
    "XINCHENG_CA_WINDOW",
    "XINCHENG_SUP",
    "accepted",
    "act",
    "actor_at",
    "approver",
    "clerk",
    "committed",
    "receive",
    "reviewer",
    "supervisor",
]
