"""The demo cases seeder: a small half-year through the real services, on the demo's own world."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.hashers import check_password, make_password
from stdnum.cn import ric

from sanji.audit.verify import verify_chain
from sanji.calendar.selectors import work_calendar
from sanji.calendar.workdays import is_workday
from sanji.cases.models import Case, CaseEvent
from sanji.core import clock
from sanji.core.errors import IllegalTransition
from sanji.evaluation.models import (
    CommunityScore,
    FollowUp,
    FollowUpState,
    MonthlyScore,
    Rating,
    RatingChannel,
)
from sanji.ops import demo, demo_cases, demo_oversight
from sanji.ops.demo_cases import NIGHTLY_SWEEP, DemoCaseSummary, person_make, seed_demo_cases
from sanji.supervision.models import BoardCell, Mark, SweepRun
from sanji.supervision.rules import RuleCode

#: A working Friday, 10:00 Beijing time: "now" for the seeded half-year.
NOW = dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)
MD5 = "django.contrib.auth.hashers.MD5PasswordHasher"


@pytest.fixture
def demo_world(settings: Any, tmp_path: Path) -> None:
    settings.DATA_DIR = tmp_path  # the people seeder writes its logins file there
    settings.MEDIA_ROOT = tmp_path / "files"  # the applicants' supplements carry scans
    settings.PASSWORD_HASHERS = [MD5]  # argon2 is slow
    demo.seed_reference_data()
    demo.seed_people()


@pytest.fixture
def seeded(demo_world: None) -> DemoCaseSummary:
    with clock.frozen(NOW):
        return seed_demo_cases(count=40, seed=7, nightly_sweeps=False)


def test_synthetic_applicants_are_valid() -> None:
    rng = random.Random(1)
    people = [
        person_make(rng, region_code=code, age=(18, 96), today=dt.date(2026, 11, 20))
        for code in ("150105", "150102", "150103")
        for _ in range(300)
    ]
    assert all(ric.is_valid(p.id_number) for p in people)
    assert all(p.id_number[:4] == "1501" for p in people)
    # Hohhot's district codes exist from 1983; older people carry the former city code.
    assert all(p.id_number[:6] == "150120" for p in people if p.id_number[6:10] < "1983")
    assert any("·" in p.name for p in people)  # Mongolian names (巴特尔·朝鲁)
    assert len({p.id_number for p in people}) == len(people)
    assert all(len(p.phone) == 11 and p.phone.startswith("1") for p in people)


@pytest.mark.django_db
def test_light_hashes_are_verified_and_upgraded(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["sanji.ops.demo_cases.DemoArgon2Hasher"]
    encoded = make_password(demo.DEMO_PASSWORD)
    assert encoded.startswith("argon2$argon2id$")
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    upgraded: list[str] = []
    assert check_password(demo.DEMO_PASSWORD, encoded, setter=upgraded.append)
    assert upgraded == [demo.DEMO_PASSWORD]  # re-hashed with the full parameters at first login
    assert not check_password("wrong password", encoded)


@pytest.mark.django_db
def test_small_half_year(seeded: DemoCaseSummary) -> None:
    summary = seeded
    assert summary.cases == Case.objects.count() == 40
    assert set(summary.by_kind) == {"immediate", "promised", "joint", "reported"}
    assert set(summary.by_channel) == {"window", "community", "online", "api"}
    assert {"community", "township", "district", "city"} <= set(summary.by_level)
    assert summary.by_state["completed"] >= 10
    assert len(summary.by_state) >= 5
    assert summary.overdue >= 1
    assert summary.due_soon >= 1
    assert summary.events == CaseEvent.objects.count()
    assert "demo cases: 40" in summary.line()

    # Every staff event names the terminal it was done from; applicants act from the portal.
    staff_events = CaseEvent.objects.exclude(channel="system").filter(unit_id__isnull=False)
    assert staff_events.exists()
    assert not staff_events.filter(terminal="").exists()
    assert CaseEvent.objects.filter(channel="api").exclude(terminal="").exists()

    # Each case's events move forward in time, on working days in working hours, over the past months.
    cal = work_calendar()
    times: dict[int, list[dt.datetime]] = defaultdict(list)
    for case_id, at in CaseEvent.objects.order_by("case_id", "seq").values_list("case_id", "at"):
        times[case_id].append(at)
        local = at.astimezone(clock.CITY_TZ)
        assert is_workday(cal, local.date())
        assert dt.time(8, 30) <= local.time() <= dt.time(18, 30)
        assert NOW - dt.timedelta(days=200) <= at <= NOW
    assert all(ts == sorted(ts) for ts in times.values())
    assert max(ts[-1] - ts[0] for ts in times.values()) > dt.timedelta(days=7)

    # Refusals state reason and legal basis; cases are numbered by place and day.
    for event in CaseEvent.objects.filter(action="refuse"):
        assert event.reason
        assert event.legal_basis
    assert verify_chain().ok

    # Safe to call again: nothing is added.
    with clock.frozen(NOW):
        again = seed_demo_cases(count=40, seed=7)
    assert again.skipped
    assert Case.objects.count() == 40


@pytest.mark.django_db
def test_online_applications_for_oneself_and_as_an_agent(
    demo_world: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Online, the account holder applies for themselves (their registered identity) or, as an agent
    (代办), for somebody else, stating how they stand; a supplement carries a scan per notice item.
    (Most applications are online here, and every other one is sent back for correction.)"""
    from sanji.accounts.models import User
    from sanji.cases.models import Attachment

    monkeypatch.setattr(demo_cases, "CORRECTION_SHARE", 0.5)
    monkeypatch.setattr(demo_cases, "CHANNEL_WEIGHTS", {"window": 1, "community": 1, "online": 8, "api": 1})
    with clock.frozen(NOW):
        seed_demo_cases(count=40, seed=7, nightly_sweeps=False)

    online = Case.objects.filter(channel="online").select_related("applicant", "agent")
    assert online.filter(agent__isnull=True).exists()
    assert online.filter(agent__isnull=False).exists()
    for case in online:
        if case.agent is None:
            assert case.applicant is not None
            assert case.applicant_id_index == case.applicant.id_number_index
            assert case.applicant_name == case.applicant.full_name
        else:
            assert case.agent_relation
            assert case.applicant_id_index != case.agent.id_number_index
    assert User.objects.get(username="zhangsan").id_number_masked == "150105********0417"
    supplements = CaseEvent.objects.filter(action="supplement", case__channel="online")
    assert supplements.exists()
    for event in supplements:
        items = CaseEvent.objects.filter(case=event.case_id, action="request_correction").last()
        assert items is not None
        supplied = set(Attachment.objects.filter(event=event).values_list("material_name", flat=True))
        assert supplied == set(items.data["missing_items"])


@pytest.mark.django_db
def test_ratings_and_follow_ups(demo_world: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Applicants rate completed cases at the window's device or on the portal; bad reviews open a
    follow-up, which the unit mostly answers; nothing else is rated. (Every rating is bad here, so
    that a small half-year has follow-ups.)"""
    monkeypatch.setattr(demo_cases, "RATING_LEVELS", ((1, 0.5), (2, 0.5)))
    with clock.frozen(NOW):
        seeded = seed_demo_cases(count=40, seed=7, nightly_sweeps=False)
    ratings = Rating.objects.select_related("case")
    assert seeded.ratings == ratings.count() > 0
    assert all(r.case.state == "completed" for r in ratings)
    assert set(ratings.values_list("channel", flat=True)) <= {RatingChannel.DEVICE, RatingChannel.PORTAL}
    assert not ratings.filter(case__channel="api").exists()
    for rating in ratings.filter(channel=RatingChannel.DEVICE):
        assert rating.entered_by  # the clerk at whose window the applicant rated
        assert rating.case.channel in ("window", "community")
    for rating in ratings.filter(channel=RatingChannel.PORTAL):
        assert rating.rater_id == rating.case.applicant_id
    assert seeded.follow_ups == FollowUp.objects.count() == ratings.count()
    replied = FollowUp.objects.filter(state=FollowUpState.REPLIED)
    assert 0 < replied.count() < seeded.follow_ups  # some are answered, some still open
    for follow_up in replied:
        assert follow_up.reply
        assert follow_up.finding
        assert follow_up.replied_at is not None
        assert follow_up.opened_at < follow_up.replied_at <= NOW
    assert verify_chain().ok


@pytest.mark.django_db
def test_periodic_jobs(demo_world: None) -> None:
    """What the scheduled jobs would have made of the half-year: marks raised on their own days by
    the nightly sweeps, then at start-up the board, the assessment of every month."""
    with clock.frozen(NOW):
        seeded = seed_demo_cases(count=40, seed=7)
    runs = SweepRun.objects.order_by("started_at")
    assert seeded.sweeps == runs.count() > 100  # one before each working day of the half-year
    first = runs.first()
    assert first is not None
    assert first.started_at.astimezone(clock.CITY_TZ).time() == NIGHTLY_SWEEP
    assert verify_chain().ok
    days = {at.astimezone(clock.CITY_TZ).date() for at in Mark.objects.values_list("created_at", flat=True)}
    assert len(days) > 10  # raised as time passed, not all at once at the end
    assert Mark.objects.filter(rule=RuleCode.WARNING, created_at__lt=NOW - dt.timedelta(days=30)).exists()

    with clock.frozen(NOW):
        lines = demo_oversight.run_periodic_jobs(first_run=True)
    assert SweepRun.objects.count() == seeded.sweeps + 1
    assert BoardCell.objects.exists()
    assert Mark.objects.filter(rule=RuleCode.YELLOW_CARD).exists()  # an overdue case (see above)
    months = demo_oversight.months_to_assess(NOW.date(), first_run=True)
    assert set(MonthlyScore.objects.values_list("month", flat=True)) == set(months)
    assert CommunityScore.objects.exists()
    assert any(line.startswith("supervision sweep:") for line in lines)

    # A later start: the sweep finds nothing new, only last month is assessed again.
    marks = Mark.objects.count()
    with clock.frozen(NOW):
        again = demo_oversight.run_periodic_jobs(first_run=False)
    assert Mark.objects.count() == marks
    assert "supervision sweep: 0 marks (none new)" in "\n".join(again)
    assert "assessment 2026-10:" in "\n".join(again)
    assert verify_chain().ok


def test_months_to_assess() -> None:
    today = dt.date(2026, 11, 20)  # the half-year began on 2026-05-22
    first = demo_oversight.months_to_assess(today, first_run=True)
    assert first == [dt.date(2026, m, 1) for m in range(6, 11)]
    assert demo_oversight.months_to_assess(today, first_run=False) == [dt.date(2026, 10, 1)]
    assert demo_oversight.months_to_assess(dt.date(2027, 1, 5), first_run=False) == [dt.date(2026, 12, 1)]


@pytest.mark.django_db
def test_the_demo_people_walk_a_case_across_the_three_levels(demo_world: None) -> None:
    """The logins `make demo` prints can take the three-level matter from the community station
    through the district and the city and back down, each finding it in their own worklist."""
    from sanji.accounts.models import User
    from sanji.accounts.selectors import actor_for
    from sanji.cases import selectors, services
    from sanji.catalog.seed_matters import THREE_LEVEL_MATTER_CODE

    def who(username: str) -> Any:
        return actor_for(User.objects.get(username=username))

    def act(username: str, action: str, **fields: Any) -> Case:
        case.refresh_from_db()
        return services.case_act(
            actor=who(username), case_id=case.pk, action=action, expected_version=case.version, **fields
        )

    def listed(username: str, worklist: str) -> bool:
        page = selectors.case_list_for(who(username), worklist=worklist)
        return case.number in [c.number for c in page.items]

    with clock.frozen(NOW):
        applicant = person_make(random.Random(3), region_code="150105", age=(30, 40), today=NOW.date())
        case, _ = services.case_receive(
            actor=who("jiankang.worker"),
            matter_code=THREE_LEVEL_MATTER_CODE,
            applicant_name=applicant.name,
            applicant_id_number=applicant.id_number,
        )
        act("jiankang.worker", "report_up", opinion="材料已扫描，报赛罕区住建窗口")
        assert listed("saihan.housing.clerk", "to_receive")
        act("saihan.housing.clerk", "take_over")
        act("saihan.housing.clerk", "accept")
        assert listed("saihan.housing.reviewer", "to_handle")
        act("saihan.housing.reviewer", "report_up", opinion="区级初审通过，报市住建局")
        assert listed("city.housing.reviewer", "to_receive")
        act("city.housing.reviewer", "take_over")
        act("city.housing.reviewer", "complete_step", opinion="市级复核通过")
        # The publicity (审核结果公示) runs its 5 working days: not closed on its first day.
        with pytest.raises(IllegalTransition, match="公示期至 2026-11-27 届满"):
            act("city.housing.reviewer", "complete_step", opinion="公示期满无异议")
    with clock.frozen(dt.datetime(2026, 11, 27, 2, 0, tzinfo=dt.UTC)):  # the last day of the publicity
        act("city.housing.reviewer", "complete_step", opinion="公示期满无异议")
        assert listed("city.housing.approver", "to_handle")
        act("city.housing.approver", "approve", opinion="准予")
        act("city.housing.approver", "return_down")
        assert listed("jiankang.worker", "returned")
        act("jiankang.worker", "deliver", delivery_method="window", certificate_no="GZ-1")
        assert act("jiankang.worker", "complete").state == "completed"
