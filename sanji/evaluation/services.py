"""Writes of evaluation: ratings (好差评) and their follow-ups, weights, monthly scores, the community
evaluation, and the follow-up watch that the supervision sweep runs as one of its steps."""

from __future__ import annotations

import datetime as dt
import hmac
from collections import defaultdict
from decimal import Decimal, InvalidOperation

from django.apps import apps
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from sanji.audit.services import record
from sanji.calendar.selectors import work_calendar
from sanji.calendar.workdays import CalendarNotConfigured, deadline
from sanji.cases import policies as case_policies
from sanji.cases.models import Case, CaseStep, StepState
from sanji.cases.services import query_code_hash
from sanji.cases.transitions import State
from sanji.core import clock
from sanji.core.actors import Actor
from sanji.core.authz import require
from sanji.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from sanji.core.roles import Role
from sanji.evaluation import policies, scoring
from sanji.evaluation.models import (
    BAD_LEVELS,
    CommunityScore,
    FollowUp,
    FollowUpFinding,
    FollowUpState,
    MonthlyScore,
    Rating,
    RatingChannel,
    RatingLevel,
    ScoreItem,
    SubjectKind,
    Weight,
)
from sanji.evaluation.transitions import FOLLOW_UP_TABLE, check
from sanji.orgs.models import Unit, UnitKind
from sanji.supervision import services as supervision
from sanji.supervision.models import Mark, SupervisionOrder
from sanji.supervision.rules import RuleCode
from sanji.supervision.transitions import COUNTING_STATES

# --- weights ---------------------------------------------------------------------------------------


def weights() -> dict[str, Decimal]:
    """The effective weights and limits: the defaults, overridden by Weight rows."""
    result = dict(scoring.DEFAULT_WEIGHTS)
    for key, value in Weight.objects.values_list("key", "value"):
        if key in result:
            result[key] = value
    return result


def weight_set(*, actor: Actor, key: str, value: Decimal | str) -> Weight:
    """Change one weight (the supervisor in charge)."""
    require(policies.can_configure(actor), _("只有主管监察人员可以配置考评权重。"))
    if key not in scoring.DEFAULT_WEIGHTS:
        raise NotFound(_("没有“%(key)s”这项权重。") % {"key": key})
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ValidationFailed(_("权重须为数字。"), details=[{"field": key, "reason": "number"}]) from None
    if key == "follow_up_days" and not (1 <= number <= 60 and number == number.to_integral_value()):
        raise ValidationFailed(
            _("整改期限为 1 至 60 个工作日。"), details=[{"field": key, "reason": "range"}]
        )
    if abs(number) > 1000:
        raise ValidationFailed(_("权重超出范围。"), details=[{"field": key, "reason": "range"}])
    with transaction.atomic():
        row = Weight.objects.select_for_update().get_or_create(key=key, defaults={"value": number})[0]
        before = str(row.value)
        row.value = number
        row.updated_at = clock.now()
        row.updated_by = actor.username
        row.save()
        record(
            actor=actor,
            action="evaluation.weight_set",
            target=row,
            data={"key": key, "before": before, "after": str(number)},
        )
    return row


# --- ratings -----------------------------------------------------------------------------------------


def _last_step(case: Case) -> CaseStep | None:
    return (
        CaseStep.objects.filter(case=case, state=StepState.DONE, finished_at__isnull=False)
        .select_related("unit")
        .order_by("-finished_at", "-order", "-id")
        .first()
    )


def _create_rating(
    *, actor: Actor, case: Case, level: int, comment: str, channel: str, rater_id: int | None, entered_by: str
) -> Rating:
    if level not in RatingLevel.values:
        raise ValidationFailed(
            _("评价等级为 1（非常不满意）至 5（非常满意）。"),
            details=[{"field": "level", "reason": "choice"}],
        )
    if case.state != State.COMPLETED:
        raise Conflict(_("只有已办结的办件才能评价；此办件尚未办结。"))
    if Rating.objects.filter(case=case).exists():
        raise Conflict(_("此办件已评价过；每件办件只能评价一次。"))
    step = _last_step(case)
    unit_id = (step.unit_id if step is not None else None) or case.current_unit_id
    unit = Unit.objects.get(pk=unit_id)
    now = clock.now()
    try:
        with transaction.atomic():
            rating = Rating.objects.create(
                case=case,
                level=level,
                comment=comment.strip()[:2000],
                channel=channel,
                rated_at=now,
                rater_id=rater_id,
                entered_by=entered_by,
                step=step,
                staff_id=step.handled_by_id if step is not None else None,
                staff_username=step.handled_by if step is not None else "",
                unit=unit,
                department_id=(step.department_id if step is not None else None) or unit.department_id,
                region_path=case.region_path,
            )
            follow_up = None
            if level in BAD_LEVELS:
                follow_up = _open_follow_up(rating, now)
            record(
                actor=actor,
                action="evaluation.rated",
                target=rating,
                region_path=rating.region_path,
                data={
                    "case": case.number,
                    "level": level,
                    "channel": channel,
                    "unit": unit.code,
                    "follow_up": follow_up.pk if follow_up is not None else None,
                },
            )
    except IntegrityError:
        raise Conflict(_("此办件已评价过；每件办件只能评价一次。")) from None
    return rating


def _open_follow_up(rating: Rating, now: dt.datetime) -> FollowUp:
    days = int(weights()["follow_up_days"])
    try:
        due = deadline(work_calendar(), now, days)
    except CalendarNotConfigured as exc:
        raise ValidationFailed(_("整改期限无法计算：%(reason)s") % {"reason": exc.message}) from None
    return FollowUp.objects.create(
        rating=rating,
        case_id=rating.case_id,
        unit_id=rating.unit_id,
        region_path=rating.region_path,
        opened_at=now,
        due=due,
    )


def rating_submit(
    *, actor: Actor, case_id: int, level: int, comment: str = "", channel: str = "portal"
) -> Rating:
    """The applicant rates their completed case (portal or API).

    :class:`NotFound` when the actor cannot see the case; :class:`Forbidden` when they can (staff) but
    are not its applicant; :class:`Conflict` when the case is not completed or already rated.
    """
    if channel not in (RatingChannel.PORTAL, RatingChannel.API):
        raise ValidationFailed(_("此处只接受来自网上服务门户或接口的评价。"), details=[{"field": "channel"}])
    case = case_policies.scope(actor, Case.objects.all()).filter(pk=case_id).first()
    if case is None:
        raise NotFound()
    if actor.user_id is None or case.applicant_id != actor.user_id:
        raise Forbidden(_("只有办件的申请人可以评价。"))
    return _create_rating(
        actor=actor,
        case=case,
        level=level,
        comment=comment,
        channel=channel,
        rater_id=actor.user_id,
        entered_by="",
    )


def rating_submit_at_window(
    *, actor: Actor, case_number: str, query_code: str, level: int, comment: str = ""
) -> Rating:
    """The window device page (窗口评价器): the applicant present at the window rates with the query code.

    The actor is the window clerk whose unit received or delivered the case; a wrong number or code
    is :class:`NotFound` (compared in constant time).
    """
    if not actor.has_role(Role.WINDOW_CLERK, Role.COMMUNITY_WORKER) or actor.unit_id is None:
        raise Forbidden(_("评价器只能在窗口终端上使用。"))
    case = Case.objects.filter(number=case_number.strip()).first()
    expected = case.query_code_hash if case is not None else "0" * 64
    if case is None or not hmac.compare_digest(expected, query_code_hash(query_code)):
        raise NotFound(_("没有与此办件编号和查询码相符的办件。"))
    windows = {case.accepting_unit_id, case.current_unit_id}
    windows |= set(
        CaseStep.objects.filter(case=case, flow_step__code="deliver")
        .filter(unit__isnull=False)
        .values_list("unit_id", flat=True)
    )
    if actor.unit_id not in windows:
        raise Forbidden(_("此办件不是在您的窗口接件或送达的。"))
    return _create_rating(
        actor=actor,
        case=case,
        level=level,
        comment=comment,
        channel=RatingChannel.DEVICE,
        rater_id=case.applicant_id,
        entered_by=actor.username,
    )


# --- follow-ups ----------------------------------------------------------------------------------


def follow_up_act(
    *,
    actor: Actor,
    follow_up_id: int,
    action: str,
    finding: str = "",
    action_taken: str = "",
    reply: str = "",
    text: str = "",
) -> FollowUp:
    """``reply`` / ``appeal`` (the responsible unit), ``accept_appeal`` / ``reject_appeal`` (a supervisor)."""
    with transaction.atomic():
        follow_up = (
            policies.scope_follow_ups(actor, FollowUp.objects.select_for_update())
            .filter(pk=follow_up_id)
            .first()
        )
        if follow_up is None:
            raise NotFound()
        follow_up = FollowUp.objects.select_related("unit", "rating", "case").get(pk=follow_up.pk)
        require(
            policies.can_act_on_follow_up(actor, follow_up, action) or action not in FOLLOW_UP_TABLE,
            _("此操作应由另一方（监察人员或责任单位）执行。"),
        )
        if action == "reply" and finding and finding not in FollowUpFinding.values:
            raise ValidationFailed(_("核实结论无效。"), details=[{"field": "finding", "reason": "choice"}])
        row = check(
            FOLLOW_UP_TABLE,
            action,
            follow_up.state,
            {
                "finding": finding,
                "action_taken": action_taken.strip(),
                "reply": reply.strip(),
                "text": text.strip(),
            },
            state_label=follow_up.get_state_display(),
        )
        now = clock.now()
        previous = follow_up.state
        follow_up.state = row.target
        follow_up.version += 1
        if action == "reply":
            follow_up.finding = finding
            follow_up.action_taken = action_taken.strip()
            follow_up.reply = reply.strip()
            follow_up.replied_at = now
            follow_up.replied_by = actor.username
        elif action == "appeal":
            follow_up.appeal_reason = text.strip()
        else:
            follow_up.appeal_decision = text.strip()
            follow_up.decided_by = actor.username
            follow_up.decided_at = now
            if action == "accept_appeal":
                Rating.objects.filter(pk=follow_up.rating_id).update(excluded=True)
        follow_up.save()
        record(
            actor=actor,
            action=f"evaluation.follow_up_{action}",
            target=follow_up,
            region_path=follow_up.region_path,
            data={
                "case": follow_up.case.number,
                "from": previous,
                "to": follow_up.state,
                "text": (text or reply)[:500],
            },
        )
    return follow_up


def follow_up_reply(
    *, actor: Actor, follow_up_id: int, finding: str, action_taken: str, reply: str
) -> FollowUp:
    return follow_up_act(
        actor=actor,
        follow_up_id=follow_up_id,
        action="reply",
        finding=finding,
        action_taken=action_taken,
        reply=reply,
    )


def follow_up_appeal(*, actor: Actor, follow_up_id: int, reason: str) -> FollowUp:
    return follow_up_act(actor=actor, follow_up_id=follow_up_id, action="appeal", text=reason)


def follow_up_decide_appeal(*, actor: Actor, follow_up_id: int, accept: bool, note: str) -> FollowUp:
    return follow_up_act(
        actor=actor,
        follow_up_id=follow_up_id,
        action="accept_appeal" if accept else "reject_appeal",
        text=note,
    )


def follow_up_watch(actor: Actor, now: dt.datetime) -> int:
    """The sweep step: a follow-up still open past its limit, or replied late, becomes a supervision mark."""
    rows = (
        FollowUp.objects.filter(due__lt=now)
        .exclude(state=FollowUpState.CLOSED)
        .values_list("pk", "case_id", "unit_id", "region_path", "due", "state", "replied_at")
    )
    candidates = [
        supervision.MarkCandidate(
            case_id=case_id,
            rule=RuleCode.FOLLOW_UP_OVERDUE,
            period=pk,
            became_at=due,
            unit_id=unit_id,
            region_path=region_path,
            detail={"follow_up": pk, "due": due.isoformat()},
        )
        for pk, case_id, unit_id, region_path, due, state, replied_at in rows
        if state in (FollowUpState.OPEN, FollowUpState.APPEALED)
        or (replied_at is not None and replied_at > due)
    ]
    return len(supervision.marks_issue(actor=actor, candidates=candidates)) if candidates else 0


# --- monthly scores ----------------------------------------------------------------------------------


def _month_bounds(month: dt.date) -> tuple[dt.date, dt.datetime, dt.datetime]:
    first = month.replace(day=1)
    nxt = (first + dt.timedelta(days=32)).replace(day=1)
    return (
        first,
        dt.datetime.combine(first, dt.time.min, tzinfo=clock.CITY_TZ),
        dt.datetime.combine(nxt, dt.time.min, tzinfo=clock.CITY_TZ),
    )


def scores_compute(*, actor: Actor, month: dt.date) -> int:
    """(Re)compute every score of ``month``: per unit, window, department and staff member, each with
    the items (evidence) behind its points, and the ranking within each kind. Answers the scores written."""
    require(policies.can_compute(actor), _("只有平台或主管监察人员可以计算考评得分。"))
    first, start, end = _month_bounds(month)
    w = weights()
    units = {
        pk: (name, kind, dept, path)
        for pk, name, kind, dept, path in Unit.objects.values_list(
            "pk", "name", "kind", "department_id", "region_path"
        )
    }
    from sanji.orgs.models import Department

    departments = dict(Department.objects.values_list("pk", "name"))
    dept_paths = dict(Department.objects.values_list("pk", "region_path"))

    Key = tuple[str, int]
    steps: dict[Key, list[scoring.StepFact]] = defaultdict(list)
    marks: dict[Key, list[scoring.MarkFact]] = defaultdict(list)
    ratings: dict[Key, list[scoring.RatingFact]] = defaultdict(list)
    orders: dict[Key, list[scoring.OrderFact]] = defaultdict(list)
    staff_names: dict[int, str] = {}

    def unit_key(unit_id: int | None) -> list[Key]:
        if unit_id is None or unit_id not in units:
            return []
        keys: list[Key] = [
            (SubjectKind.WINDOW if units[unit_id][1] == UnitKind.WINDOW else SubjectKind.UNIT, unit_id)
        ]
        if units[unit_id][2] is not None:
            keys.append((SubjectKind.DEPARTMENT, units[unit_id][2]))
        return keys

    for case_id, order, unit_id, dept_id, staff_id, staff, started, finished, due in (
        CaseStep.objects.filter(state=StepState.DONE, finished_at__gte=start, finished_at__lt=end)
        .values_list(
            "case_id",
            "order",
            "unit_id",
            "department_id",
            "handled_by_id",
            "handled_by",
            "started_at",
            "finished_at",
            "due",
        )
        .iterator()
    ):
        if finished is None:
            continue
        fact = scoring.StepFact(case_id, order, started, finished, due)
        keys = unit_key(unit_id)
        if dept_id is not None and (SubjectKind.DEPARTMENT, dept_id) not in keys:
            keys = [k for k in keys if k[0] != SubjectKind.DEPARTMENT] + [(SubjectKind.DEPARTMENT, dept_id)]
        if staff_id is not None:
            keys.append((SubjectKind.STAFF, staff_id))
            staff_names[staff_id] = staff
        for key in keys:
            steps[key].append(fact)

    for pk, case_id, rule, points, became, unit_id, staff_id, staff in (
        Mark.objects.filter(became_at__gte=start, became_at__lt=end, state__in=COUNTING_STATES)
        .values_list("pk", "case_id", "rule", "points", "became_at", "unit_id", "staff_id", "staff_username")
        .iterator()
    ):
        fact_m = scoring.MarkFact(pk, case_id, rule, points, became)
        keys = unit_key(unit_id)
        if staff_id is not None:
            keys.append((SubjectKind.STAFF, staff_id))
            staff_names.setdefault(staff_id, staff)
        for key in keys:
            marks[key].append(fact_m)

    for pk, case_id, level, unit_id, dept_id, staff_id, staff in Rating.objects.filter(
        rated_at__gte=start, rated_at__lt=end, excluded=False
    ).values_list("pk", "case_id", "level", "unit_id", "department_id", "staff_id", "staff_username"):
        fact_r = scoring.RatingFact(pk, case_id, level)
        keys = unit_key(unit_id)
        if dept_id is not None and (SubjectKind.DEPARTMENT, dept_id) not in keys:
            keys = [k for k in keys if k[0] != SubjectKind.DEPARTMENT] + [(SubjectKind.DEPARTMENT, dept_id)]
        if staff_id is not None:
            keys.append((SubjectKind.STAFF, staff_id))
            staff_names.setdefault(staff_id, staff)
        for key in keys:
            ratings[key].append(fact_r)

    for pk, case_id, unit_id in SupervisionOrder.objects.filter(
        issued_at__gte=start, issued_at__lt=end
    ).values_list("pk", "case_id", "unit_id"):
        for key in unit_key(unit_id):
            orders[key].append(scoring.OrderFact(pk, case_id))

    subjects = set(steps) | set(marks) | set(ratings) | set(orders)
    now = clock.now()
    with transaction.atomic():
        ScoreItem.objects.filter(score__month=first).delete()
        MonthlyScore.objects.filter(month=first).delete()
        results: dict[Key, scoring.ScoreResult] = {}
        rows: list[MonthlyScore] = []
        for key in sorted(subjects):
            kind, subject_id = key
            result = scoring.score(
                steps=steps.get(key, []),
                marks=marks.get(key, []),
                ratings=ratings.get(key, []),
                orders=orders.get(key, []),
                weights=w,
            )
            results[key] = result
            if kind in (SubjectKind.UNIT, SubjectKind.WINDOW):
                name, path = units[subject_id][0], units[subject_id][3]
            elif kind == SubjectKind.DEPARTMENT:
                name, path = departments.get(subject_id, str(subject_id)), dept_paths.get(subject_id, "")
            else:
                name, path = staff_names.get(subject_id, str(subject_id)), ""
            rows.append(
                MonthlyScore(
                    month=first,
                    subject_kind=kind,
                    subject_id=subject_id,
                    subject_name=name[:150],
                    region_path=path,
                    total=result.total,
                    steps_count=result.steps,
                    on_time_rate=result.on_time_rate,
                    handling_ratio=result.handling_ratio,
                    ratings_count=result.ratings,
                    satisfaction_avg=result.satisfaction_avg,
                    marks_count=result.marks,
                    orders_count=result.orders,
                    computed_at=now,
                )
            )
        by_kind: dict[str, list[tuple[int, Decimal]]] = defaultdict(list)
        for row in rows:
            by_kind[row.subject_kind].append((row.subject_id, row.total))
        ranks = {kind: scoring.rank(values) for kind, values in by_kind.items()}
        for row in rows:
            row.rank = ranks[row.subject_kind][row.subject_id]
        MonthlyScore.objects.bulk_create(rows)
        saved = {(s.subject_kind, s.subject_id): s for s in MonthlyScore.objects.filter(month=first)}
        items = [
            ScoreItem(
                score=saved[key],
                kind=i.kind,
                points=i.points,
                note=i.note,
                case_id=i.case_id,
                mark_id=i.mark_id,
                rating_id=i.rating_id,
                order_id=i.order_id,
            )
            for key, result in results.items()
            for i in result.items
        ]
        ScoreItem.objects.bulk_create(items, batch_size=2000)
        record(
            actor=actor,
            action="evaluation.scores_computed",
            data={"month": first.isoformat(), "scores": len(rows), "items": len(items)},
        )
    return len(rows)


# --- community comprehensive evaluation ------------------------------------------------------------


def population_indicator(
    station: Unit, start: dt.datetime, end: dt.datetime
) -> tuple[int, float, float] | None:
    """(submitted, verified rate, average delay days) of a station's population changes, or None.

    The changes submitted in ``[start, end)`` for people of the station's community
    (:func:`sanji.population.selectors.change_stats_for_station`); None when there were none, so
    the indicator is "not available" (its weight stays configured and is left out of the total).
    """
    if not apps.is_installed("sanji.population"):
        return None
    from sanji.population.selectors import change_stats_for_station

    return change_stats_for_station(station.region_path, start, end)


def _district(path: str) -> str:
    codes = [c for c in path.split("/") if c]
    return "".join(f"{c}/" for c in codes[:2])


def community_compute(*, actor: Actor, month: dt.date) -> int:
    """(Re)compute the month's indicators of every community station and rank them within each district."""
    require(policies.can_compute(actor), _("只有平台或主管监察人员可以计算考评得分。"))
    first, start, end = _month_bounds(month)
    w = weights()
    stations = list(Unit.objects.filter(kind=UnitKind.COMMUNITY_STATION, active=True))
    ids = [s.pk for s in stations]
    taken: dict[int, int] = defaultdict(int)
    for unit_id in Case.objects.filter(
        accepting_unit_id__in=ids, received_at__gte=start, received_at__lt=end
    ).values_list("accepting_unit_id", flat=True):
        taken[unit_id] += 1
    forwarded: dict[int, list[bool]] = defaultdict(list)
    for unit_id, finished, due in CaseStep.objects.filter(
        unit_id__in=ids,
        state=StepState.DONE,
        flow_step__report_up=True,
        finished_at__gte=start,
        finished_at__lt=end,
    ).values_list("unit_id", "finished_at", "due"):
        forwarded[unit_id].append(due is None or (finished is not None and finished <= due))
    levels: dict[int, list[int]] = defaultdict(list)
    for unit_id, level in Rating.objects.filter(
        case__accepting_unit_id__in=ids, rated_at__gte=start, rated_at__lt=end, excluded=False
    ).values_list("case__accepting_unit_id", "level"):
        levels[unit_id].append(level)
    busiest: dict[str, int] = defaultdict(int)
    for s in stations:
        busiest[_district(s.region_path)] = max(busiest[_district(s.region_path)], taken[s.pk])
    now = clock.now()
    rows = []
    for s in stations:
        population = population_indicator(s, start, end)
        on_time = forwarded[s.pk]
        facts = scoring.CommunityFacts(
            cases_taken=taken[s.pk],
            busiest_in_district=busiest[_district(s.region_path)],
            forwarded=len(on_time),
            forwarded_on_time=sum(on_time),
            ratings=levels[s.pk],
            population_verified_rate=population[1] if population is not None else None,
        )
        rows.append(
            CommunityScore(
                month=first,
                station=s,
                region_path=s.region_path,
                district_path=_district(s.region_path),
                cases_taken=facts.cases_taken,
                forwarded=facts.forwarded,
                forwarded_on_time=facts.forwarded_on_time,
                timeliness=round(facts.forwarded_on_time / facts.forwarded, 4) if facts.forwarded else None,
                ratings_count=len(facts.ratings),
                satisfaction_avg=round(sum(facts.ratings) / len(facts.ratings), 4) if facts.ratings else None,
                population_available=population is not None,
                population_submitted=population[0] if population is not None else None,
                population_verified_rate=population[1] if population is not None else None,
                population_delay_days=population[2] if population is not None else None,
                total=scoring.community_total(facts, w),
                computed_at=now,
            )
        )
    by_district: dict[str, list[tuple[int, Decimal]]] = defaultdict(list)
    for row in rows:
        by_district[row.district_path].append((row.station_id, row.total))
    ranks = {d: scoring.rank(v) for d, v in by_district.items()}
    for row in rows:
        row.rank_in_district = ranks[row.district_path][row.station_id]
    with transaction.atomic():
        CommunityScore.objects.filter(month=first).delete()
        CommunityScore.objects.bulk_create(rows)
        record(
            actor=actor,
            action="evaluation.community_computed",
            data={"month": first.isoformat(), "stations": len(rows)},
        )
    return len(rows)
