"""Fixtures of the evaluation tests: the cases app's small city (reused) and completed cases with a real
applicant, driven through the real case services."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model

from sanji.cases.models import Case
from sanji.cases.tests.conftest import (  # noqa: F401  (fixtures re-exported for this package)
    SAIHAN_CA_OFFICE,
    SAIHAN_CA_WINDOW,
    SAIHAN_SUP,
    T0,
    XINCHENG_CA_WINDOW,
    XINCHENG_SUP,
    actor_at,
    frozen_now,
    org,
)
from sanji.core.actors import Actor
from sanji.supervision.tests.conftest import act, approver, clerk, receive, reviewer


def make_applicant(username: str = "citizen") -> Actor:
    user = get_user_model().objects.create_user(username=username, password="x", full_name="张三")
    return Actor(user_id=user.pk, username=user.username, channel="web")


def completed(applicant: Actor | None, *, with_code: bool = False, **kw: Any) -> Any:
    from django.test import TestCase

    from sanji.cases import services as cases
    from sanji.cases.tests.conftest import ID_A

    with TestCase.captureOnCommitCallbacks(execute=True):
        case, code = cases.case_receive(
            actor=clerk(),
            matter_code="T-PRO",
            applicant_name="张三",
            applicant_id_number=ID_A,
            applicant_user_id=applicant.user_id if applicant is not None else None,
            **kw,
        )
    case = act(clerk(), case, "accept")
    case = act(reviewer(), case, "complete_step", opinion="同意")
    case = act(approver(), case, "approve", opinion="准予许可")
    case = act(clerk(), case, "deliver", delivery_method="window", certificate_no="NO-1")
    case = act(clerk(), case, "complete")
    return (case, code) if with_code else case


@pytest.fixture
def citizen(org: None) -> Actor:  # noqa: F811  (the org fixture, requested by name)
    return make_applicant()


__all__ = ["Case", "completed", "make_applicant", "receive"]
