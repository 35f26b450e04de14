"""Ratings (好差评): who may rate what, and the follow-up of a bad review."""

from __future__ import annotations

import datetime as dt

import pytest

from sanji.audit.models import Entry
from sanji.cases.tests.conftest import SAIHAN_CA_WINDOW, XINCHENG_CA_WINDOW
from sanji.core import clock
from sanji.core.actors import system_actor
from sanji.core.errors import Conflict, Forbidden, IllegalTransition, NotFound, ValidationFailed
from sanji.core.roles import Role
from sanji.evaluation import selectors, services
from sanji.evaluation.models import FollowUp, FollowUpState, Rating
from sanji.evaluation.tests.conftest import completed, make_applicant, receive
from sanji.supervision import services as supervision
from sanji.supervision.models import Mark
from sanji.supervision.tests.conftest import actor_at, clerk, reviewer, supervisor

pytestmark = pytest.mark.usefixtures("org", "frozen_now")


def at(day: str, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), tzinfo=clock.CITY_TZ)


def test_applicant_rates_a_completed_case_once(citizen: object) -> None:
    case = completed(citizen)  # type: ignore[arg-type]
    rating = services.rating_submit(actor=citizen, case_id=case.pk, level=5, comment="很快")  # type: ignore[arg-type]
    assert rating.unit.code == SAIHAN_CA_WINDOW  # the delivering window
    assert rating.step is not None
    assert rating.step.flow_step.code == "deliver"
    assert rating.staff_username == clerk().username
    assert not FollowUp.objects.exists()
    with pytest.raises(Conflict, match="每件办件只能评价一次"):
        services.rating_submit(actor=citizen, case_id=case.pk, level=4)  # type: ignore[arg-type]
    assert Entry.objects.filter(action="evaluation.rated").count() == 1


def test_not_completed_is_refused(citizen: object) -> None:
    from django.contrib.auth import get_user_model

    from sanji.cases import services as cases
    from sanji.cases.tests.conftest import ID_A

    case, _ = cases.case_receive(
        actor=clerk(),
        matter_code="T-PRO",
        applicant_name="张三",
        applicant_id_number=ID_A,
        applicant_user_id=citizen.user_id,  # type: ignore[attr-defined]
    )
    with pytest.raises(Conflict, match="此办件尚未办结"):
        services.rating_submit(actor=citizen, case_id=case.pk, level=5)  # type: ignore[arg-type]
    assert get_user_model().objects.count() == 1


def test_someone_else_is_refused(citizen: object) -> None:
    case = completed(citizen)  # type: ignore[arg-type]
    stranger = make_applicant("stranger")
    with pytest.raises(NotFound):
        services.rating_submit(actor=stranger, case_id=case.pk, level=1)
    with pytest.raises(Forbidden, match="只有办件的申请人可以评价"):
        services.rating_submit(actor=clerk(), case_id=case.pk, level=5)  # staff who can see the case
    assert not Rating.objects.exists()


def test_level_must_be_one_of_five(citizen: object) -> None:
    case = completed(citizen)  # type: ignore[arg-type]
    with pytest.raises(ValidationFailed):
        services.rating_submit(actor=citizen, case_id=case.pk, level=6)  # type: ignore[arg-type]


def test_window_device_with_the_query_code() -> None:
    case, code = completed(None, with_code=True)
    with pytest.raises(NotFound):
        services.rating_submit_at_window(
            actor=clerk(), case_number=case.number, query_code="WRONG123", level=5
        )
    other_window = actor_at(Role.WINDOW_CLERK, XINCHENG_CA_WINDOW, user_id=9800)
    with pytest.raises(Forbidden):
        services.rating_submit_at_window(
            actor=other_window, case_number=case.number, query_code=code, level=5
        )
    rating = services.rating_submit_at_window(
        actor=clerk(), case_number=case.number, query_code=code, level=4
    )
    assert rating.channel == "device"
    assert rating.entered_by == clerk().username


def test_bad_review_opens_a_follow_up_and_the_unit_replies(citizen: object) -> None:
    case = completed(citizen)  # type: ignore[arg-type]
    services.rating_submit(actor=citizen, case_id=case.pk, level=1, comment="态度差")  # type: ignore[arg-type]
    follow_up = FollowUp.objects.get()
    # 15 working days from Tue 2026-03-03 → Tue 03-24 (end of day).
    assert follow_up.due == dt.datetime.combine(dt.date(2026, 3, 24), dt.time.max, tzinfo=clock.CITY_TZ)
    assert follow_up.unit.code == SAIHAN_CA_WINDOW
    other = actor_at(Role.WINDOW_CLERK, XINCHENG_CA_WINDOW, user_id=9800)
    with pytest.raises(NotFound):
        services.follow_up_reply(
            actor=other, follow_up_id=follow_up.pk, finding="verified", action_taken="x", reply="x"
        )
    with pytest.raises(ValidationFailed):
        services.follow_up_reply(
            actor=clerk(), follow_up_id=follow_up.pk, finding="verified", action_taken="", reply=""
        )
    follow_up = services.follow_up_reply(
        actor=clerk(),
        follow_up_id=follow_up.pk,
        finding="verified",
        action_taken="窗口人员已批评教育",
        reply="已整改，致歉",
    )
    assert follow_up.state == FollowUpState.REPLIED
    assert follow_up in selectors.follow_up_list_for(supervisor())


def test_follow_up_overdue_becomes_a_supervision_mark(citizen: object) -> None:
    case = completed(citizen)  # type: ignore[arg-type]
    services.rating_submit(actor=citizen, case_id=case.pk, level=2)  # type: ignore[arg-type]
    follow_up = FollowUp.objects.get()
    with clock.frozen(at("2026-03-24", 20)):
        supervision.supervision_sweep(actor=system_actor("t"))
    assert not Mark.objects.filter(rule="follow_up_overdue").exists()
    with clock.frozen(at("2026-03-25")):
        result = supervision.supervision_sweep(actor=system_actor("t"))
    mark = Mark.objects.get(rule="follow_up_overdue")
    assert result.per_rule["follow_up_overdue"] == 1
    assert (mark.case_id, mark.period, mark.became_at) == (case.pk, follow_up.pk, follow_up.due)
    with clock.frozen(at("2026-03-26")):
        assert supervision.supervision_sweep(actor=system_actor("t")).per_rule["follow_up_overdue"] == 0


def test_malicious_rating_appeal(citizen: object) -> None:
    case = completed(citizen)  # type: ignore[arg-type]
    rating = services.rating_submit(actor=citizen, case_id=case.pk, level=1)  # type: ignore[arg-type]
    follow_up = FollowUp.objects.get()
    follow_up = services.follow_up_appeal(
        actor=clerk(), follow_up_id=follow_up.pk, reason="申请人因未获准予而恶意差评"
    )
    assert follow_up.state == FollowUpState.APPEALED
    with pytest.raises(Forbidden):
        services.follow_up_decide_appeal(actor=clerk(), follow_up_id=follow_up.pk, accept=True, note="x")
    follow_up = services.follow_up_decide_appeal(
        actor=supervisor(), follow_up_id=follow_up.pk, accept=True, note="经核实属恶意评价"
    )
    assert follow_up.state == FollowUpState.CLOSED
    rating.refresh_from_db()
    assert rating.excluded
    with pytest.raises(IllegalTransition):
        services.follow_up_appeal(actor=clerk(), follow_up_id=follow_up.pk, reason="again")


def test_rejected_appeal_goes_back_to_the_unit(citizen: object) -> None:
    case = completed(citizen)  # type: ignore[arg-type]
    services.rating_submit(actor=citizen, case_id=case.pk, level=2)  # type: ignore[arg-type]
    follow_up = FollowUp.objects.get()
    services.follow_up_appeal(actor=clerk(), follow_up_id=follow_up.pk, reason="恶意")
    follow_up = services.follow_up_decide_appeal(
        actor=supervisor(), follow_up_id=follow_up.pk, accept=False, note="理由不足"
    )
    assert follow_up.state == FollowUpState.OPEN


def test_follow_up_limit_is_configurable(citizen: object) -> None:
    from sanji.supervision.tests.conftest import CITY_SUP

    city = actor_at(Role.SUPERVISOR, CITY_SUP, user_id=9601)
    with pytest.raises(Forbidden):
        services.weight_set(actor=reviewer(), key="follow_up_days", value="5")
    services.weight_set(actor=city, key="follow_up_days", value="5")
    with pytest.raises(ValidationFailed):
        services.weight_set(actor=city, key="follow_up_days", value="0")
    case = completed(citizen)  # type: ignore[arg-type]
    services.rating_submit(actor=citizen, case_id=case.pk, level=1)  # type: ignore[arg-type]
    assert FollowUp.objects.get().due.astimezone(clock.CITY_TZ).date() == dt.date(2026, 3, 10)


def test_receive_helper_is_importable() -> None:
    assert callable(receive)
