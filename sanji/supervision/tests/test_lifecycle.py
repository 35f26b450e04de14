"""The lifecycle of marks and supervision orders, scope, and the audit trail they leave."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from sanji.audit.models import Entry
from sanji.cases.tests.conftest import SAIHAN_CA_OFFICE, XINCHENG_CA_OFFICE, XINCHENG_SUP
from sanji.core import clock
from sanji.core.actors import system_actor
from sanji.core.errors import Forbidden, IllegalTransition, NotFound, ValidationFailed
from sanji.core.roles import Role
from sanji.supervision import selectors, services
from sanji.supervision.models import Mark, RuleConfig, SupervisionOrder
from sanji.supervision.tests.conftest import CITY_SUP, accepted, actor_at, receive, reviewer, supervisor
from sanji.supervision.transitions import MarkState, OrderState

pytestmark = pytest.mark.usefixtures("org", "frozen_now")


def at(day: str, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), tzinfo=clock.CITY_TZ)


def yellow() -> Mark:
    case = accepted()
    with clock.frozen(at("2026-03-18")):
        services.supervision_sweep(actor=system_actor("t"))
    return Mark.objects.get(case=case, rule="yellow_card")


def held_mark() -> Mark:
    case = receive(fee_charged="30")
    return Mark.objects.get(case=case, rule="fee_mismatch")


def other_unit() -> object:
    return actor_at(Role.REVIEWER, XINCHENG_CA_OFFICE, user_id=9500)


def test_confirm_once_then_conflict() -> None:
    mark = held_mark()
    assert mark.state == MarkState.HELD
    mark = services.mark_confirm(actor=supervisor(), mark_id=mark.pk)
    assert mark.state == MarkState.ISSUED
    assert mark.issued_at is not None
    with pytest.raises(IllegalTransition, match="此监察标记已确认发出。") as exc:
        services.mark_confirm(actor=supervisor(), mark_id=mark.pk)
    assert exc.value.status == 409
    assert exc.value.details["allowed"] == ["explain", "appeal", "cancel", "uphold", "escalate"]


def test_unit_explains_appeals_supervisor_upholds_and_escalates() -> None:
    mark = yellow()
    unit = reviewer()  # the case sits at the district civil-affairs office (its current unit)
    assert mark.unit.code == SAIHAN_CA_OFFICE
    mark = services.mark_explain(actor=unit, mark_id=mark.pk, text="审查人员病假")
    assert mark.state == MarkState.EXPLAINED
    mark = services.mark_appeal(actor=unit, mark_id=mark.pk, text="已按时办结，系统未及时记录")
    assert mark.state == MarkState.APPEALED
    mark = services.mark_uphold(actor=supervisor(), mark_id=mark.pk, text="记录显示确实超期")
    assert mark.state == MarkState.UPHELD
    with clock.frozen(at("2026-03-19")):
        mark = services.mark_escalate(actor=supervisor(), mark_id=mark.pk, text="限期办结", days=3)
    assert mark.state == MarkState.ESCALATED
    order = SupervisionOrder.objects.get(mark=mark)
    assert order.due == dt.datetime.combine(dt.date(2026, 3, 24), dt.time.max, tzinfo=clock.CITY_TZ)
    actions = list(Entry.objects.filter(target_type="supervision.mark").values_list("action", flat=True))
    assert actions == [
        "supervision.mark_explain",
        "supervision.mark_appeal",
        "supervision.mark_uphold",
        "supervision.mark_escalate",
    ]
    assert Entry.objects.filter(action="supervision.order_issued").count() == 1


def test_cancel_needs_a_reason_and_ends_the_mark() -> None:
    mark = yellow()
    with pytest.raises(ValidationFailed):
        services.mark_cancel(actor=supervisor(), mark_id=mark.pk, text="")
    mark = services.mark_cancel(actor=supervisor(), mark_id=mark.pk, text="系统日历错误")
    assert mark.state == MarkState.CANCELLED
    with pytest.raises(IllegalTransition):
        services.mark_appeal(actor=reviewer(), mark_id=mark.pk, text="x")


def test_another_unit_appealing_is_not_found() -> None:
    mark = yellow()
    with pytest.raises(NotFound):
        services.mark_appeal(actor=other_unit(), mark_id=mark.pk, text="不是我们的")  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        selectors.mark_get_for(other_unit(), mark.pk)  # type: ignore[arg-type]


def test_the_sides_do_not_swap() -> None:
    mark = yellow()
    with pytest.raises(Forbidden):
        services.mark_appeal(actor=supervisor(), mark_id=mark.pk, text="x")
    with pytest.raises(NotFound):  # the unit cannot even see held marks of others; its own: forbidden
        services.mark_cancel(actor=other_unit(), mark_id=mark.pk, text="x")  # type: ignore[arg-type]
    with pytest.raises(Forbidden):
        services.mark_cancel(actor=reviewer(), mark_id=mark.pk, text="x")


def test_supervisor_outside_the_district_sees_nothing() -> None:
    mark = yellow()
    xincheng = actor_at(Role.SUPERVISOR, XINCHENG_SUP, user_id=9600)
    with pytest.raises(NotFound):
        selectors.mark_get_for(xincheng, mark.pk)
    with pytest.raises(NotFound):
        services.mark_confirm(actor=xincheng, mark_id=mark.pk)
    assert not selectors.mark_list_for(xincheng).exists()
    city = actor_at(Role.SUPERVISOR, CITY_SUP, user_id=9601)
    assert selectors.mark_get_for(city, mark.pk) == mark
    assert mark in selectors.mark_list_for(supervisor())


def test_my_marks_lists_only_the_units_own() -> None:
    mark = yellow()
    assert mark in selectors.mark_list_for(reviewer(), mine=True)
    assert list(selectors.mark_list_for(other_unit(), mine=True)) == []  # type: ignore[arg-type]


def test_stale_version_is_a_conflict() -> None:
    from sanji.core.errors import Conflict

    mark = yellow()
    with pytest.raises(Conflict):
        services.mark_act(
            actor=supervisor(), mark_id=mark.pk, action="uphold", expected_version=mark.version + 1
        )


def test_order_answered_late_and_open_orders_are_watched() -> None:
    mark = yellow()
    with clock.frozen(at("2026-03-19")):
        services.mark_escalate(actor=supervisor(), mark_id=mark.pk, text="限期办结", days=2)  # due 03-23
    order = SupervisionOrder.objects.get(mark=mark)
    with clock.frozen(at("2026-03-23", 20)):
        services.supervision_sweep(actor=system_actor("t"))
    assert not Mark.objects.filter(rule="order_overdue").exists()
    with clock.frozen(at("2026-03-24")):
        services.supervision_sweep(actor=system_actor("t"))
    overdue = Mark.objects.get(rule="order_overdue")
    assert overdue.period == order.pk
    assert overdue.became_at == order.due
    with clock.frozen(at("2026-03-25")):
        order = services.order_answer(actor=reviewer(), order_id=order.pk, text="已办结")
    assert order.state == OrderState.ANSWERED
    order = services.order_close(actor=supervisor(), order_id=order.pk)
    assert order.state == OrderState.CLOSED
    with pytest.raises(NotFound):
        services.order_answer(actor=other_unit(), order_id=order.pk, text="x")  # type: ignore[arg-type]


def test_rules_are_configured_by_the_supervisor_in_charge() -> None:
    with pytest.raises(Forbidden):
        services.rule_config_update(
            actor=supervisor(), code="warning", enabled=True, threshold=3, auto_issue=True, points="0"
        )
    admin = actor_at(Role.SYSTEM_ADMIN, "150100-OPS", user_id=9700)
    with pytest.raises(Forbidden):
        services.rule_config_update(
            actor=admin, code="warning", enabled=True, threshold=3, auto_issue=True, points="0"
        )
    city = actor_at(Role.SUPERVISOR, CITY_SUP, user_id=9601)
    row = services.rule_config_update(
        actor=city, code="warning", enabled=True, threshold=3, auto_issue=False, points="-1"
    )
    assert (row.threshold, row.auto_issue) == (3, False)
    assert services.rule_settings()["warning"].threshold == 3
    assert Entry.objects.filter(action="supervision.rule_configured").count() == 1
    with pytest.raises(ValidationFailed):
        services.rule_config_update(
            actor=city, code="warning", enabled=True, threshold=0, auto_issue=True, points="0"
        )
    with pytest.raises(NotFound):
        services.rule_config_update(
            actor=city, code="nope", enabled=True, threshold=0, auto_issue=True, points="0"
        )
    assert RuleConfig.objects.count() == 13


def test_a_rule_change_counts_at_once_in_the_process_that_made_it(settings: Any) -> None:
    """Workers check the rules against the database at most once per interval (another process's
    change counts within it); the process that changed them sees the change at once."""
    settings.SANJI_CONFIG_RECHECK_SECONDS = 3600
    services._settings._eager_until = 0.0  # no write of this process in the last minute
    assert services.rule_settings()["warning"].threshold != 4
    RuleConfig.objects.filter(code="warning").update(threshold=5)  # as another process would
    assert services.rule_settings()["warning"].threshold != 5  # within the interval: not yet
    city = actor_at(Role.SUPERVISOR, CITY_SUP, user_id=9601)
    services.rule_config_update(
        actor=city, code="warning", enabled=True, threshold=4, auto_issue=True, points="0"
    )
    assert services.rule_settings()["warning"].threshold == 4


def test_warning_threshold_follows_the_configuration() -> None:
    RuleConfig.objects.filter(code="warning").update(threshold=4)
    case = accepted()  # promised due Tue 03-17
    with clock.frozen(at("2026-03-11")):  # Wed: 12, 13, 16, 17 remain (4)
        services.supervision_sweep(actor=system_actor("t"))
    assert Mark.objects.filter(case=case, rule="warning").exists()
