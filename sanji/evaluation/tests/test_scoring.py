"""Monthly scores (pure formula, table-driven) and computed scores with their evidence."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from sanji.core import clock
from sanji.core.actors import system_actor
from sanji.core.errors import NotFound
from sanji.core.roles import Role
from sanji.evaluation import scoring, selectors, services
from sanji.evaluation.models import CommunityScore, MonthlyScore, ScoreItem
from sanji.evaluation.scoring import MarkFact, OrderFact, RatingFact, StepFact
from sanji.evaluation.tests.conftest import completed
from sanji.supervision import services as supervision
from sanji.supervision.models import Mark
from sanji.supervision.tests.conftest import (
    XINCHENG_SUP,
    accepted,
    actor_at,
    clerk,
    reviewer,
    supervisor,
)

W = dict(scoring.DEFAULT_WEIGHTS)
T = dt.datetime(2026, 3, 3, 2, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


def step(case: int, started: int, finished: float, due: int) -> StepFact:
    return StepFact(case, 2, T + started * DAY, T + finished * DAY, T + due * DAY)


def warn(i: int) -> MarkFact:
    return MarkFact(i, i, "warning", Decimal("0"), T + i * DAY)


@pytest.mark.parametrize(
    ("kw", "total"),
    [
        ({}, Decimal("100")),
        ({"steps": [step(1, 0, 0.5, 2), step(2, 0, 1.5, 2)]}, Decimal("100.50")),  # one early step (+0.5)
        (
            {"steps": [step(1, 0, 3, 2), step(2, 0, 1.5, 2)]},
            Decimal("90.00"),
        ),  # 1 of 2 late (−10), ratio 1.125 (−1.25)…
        ({"marks": [MarkFact(1, 1, "yellow_card", Decimal("-5"), T)]}, Decimal("95")),
        (
            {
                "marks": [
                    MarkFact(1, 1, "red_card", Decimal("-10"), T),
                    MarkFact(2, 2, "yellow_card", Decimal("-5"), T),
                ]
            },
            Decimal("85"),
        ),
        ({"marks": [warn(1), warn(2)]}, Decimal("100")),  # two warnings: nothing yet
        ({"marks": [warn(1), warn(2), warn(3)]}, Decimal("97")),
        ({"marks": [warn(i) for i in range(1, 8)]}, Decimal("94")),  # seven: two streaks
        ({"ratings": [RatingFact(1, 1, 5)]}, Decimal("110")),
        ({"ratings": [RatingFact(1, 1, 1), RatingFact(2, 2, 5)]}, Decimal("100")),
        ({"ratings": [RatingFact(1, 1, 2)]}, Decimal("95")),
        ({"orders": [OrderFact(1, 1)]}, Decimal("95")),
    ],
)
def test_score_formula(kw: dict[str, object], total: Decimal) -> None:
    args: dict[str, object] = {"steps": [], "marks": [], "ratings": [], "orders": [], "weights": W}
    args.update(kw)
    result = scoring.score(**args)  # type: ignore[arg-type]
    if total == Decimal("90.00"):
        # late: −10 (on time 50%); ratio (1.5 + 0.75) / 2 = 1.125 → −1.25
        assert result.on_time_rate == 0.5
        assert result.total == Decimal("88.75")
    else:
        assert result.total == total
    assert result.total == Decimal("100") + sum(i.points for i in result.items)


def test_every_item_names_its_evidence() -> None:
    result = scoring.score(
        steps=[step(7, 0, 3, 2)],
        marks=[MarkFact(11, 7, "yellow_card", Decimal("-5"), T), warn(1), warn(2), warn(3)],
        ratings=[RatingFact(21, 7, 1)],
        orders=[OrderFact(31, 7)],
        weights=W,
    )
    for item in result.items:
        assert item.case_id is not None
    kinds = {i.kind: i for i in result.items}
    assert kinds["mark"].mark_id == 11
    assert kinds["warning_streak"].mark_id == 3
    assert kinds["satisfaction"].rating_id == 21
    assert kinds["order"].order_id == 31


def test_early_bonus_is_capped() -> None:
    result = scoring.score(
        steps=[step(i, 0, 0.1, 5) for i in range(30)], marks=[], ratings=[], orders=[], weights=W
    )
    assert sum(i.points for i in result.items if i.kind == "early") == Decimal("5")


@pytest.mark.parametrize(
    ("values", "ranks"),
    [([(1, Decimal(90)), (2, Decimal(95)), (3, Decimal(90))], {2: 1, 1: 2, 3: 2}), ([], {})],
)
def test_rank(values: list[tuple[int, Decimal]], ranks: dict[int, int]) -> None:
    assert scoring.rank(values) == ranks


def test_community_total_leaves_out_what_is_not_available() -> None:
    facts = scoring.CommunityFacts(
        cases_taken=10,
        busiest_in_district=10,
        forwarded=4,
        forwarded_on_time=4,
        ratings=[5],
        population_verified_rate=None,
    )
    assert scoring.community_total(facts, W) == Decimal("100.00")
    half = scoring.CommunityFacts(5, 10, 4, 2, [], 0.5)
    # taken 0.5×20 + timeliness 0.5×30 + population 0.5×20 over 70 → 50
    assert scoring.community_total(half, W) == Decimal("50.00")


@pytest.mark.usefixtures("org", "frozen_now")
def test_computed_scores_with_evidence_ranking_and_scope(citizen: object) -> None:
    late = accepted()
    with clock.frozen(dt.datetime(2026, 3, 18, 2, tzinfo=dt.UTC)):
        supervision.supervision_sweep(actor=system_actor("t"))
        services.rating_submit(actor=citizen, case_id=completed(citizen).pk, level=1)  # type: ignore[arg-type]
    count = services.scores_compute(actor=system_actor("t"), month=dt.date(2026, 3, 1))
    assert count > 0
    office = MonthlyScore.objects.get(subject_kind="unit", subject_id=late.current_unit_id)
    items = selectors.score_items(office)
    yellow = next(i for i in items if i.mark is not None and i.mark.rule == "yellow_card")
    assert yellow.points == Decimal("-5.00")
    assert yellow.case_id == late.pk
    assert office.total == Decimal("100") + sum(i.points for i in items)
    window = MonthlyScore.objects.get(subject_kind="window")
    assert any(i.rating_id is not None and i.points < 0 for i in selectors.score_items(window))
    assert MonthlyScore.objects.filter(subject_kind="staff").exists()
    assert MonthlyScore.objects.filter(subject_kind="department").exists()
    assert set(MonthlyScore.objects.values_list("rank", flat=True)) >= {1}
    # Recomputing replaces the month.
    assert services.scores_compute(actor=system_actor("t"), month=dt.date(2026, 3, 1)) == count
    assert ScoreItem.objects.filter(score__month=dt.date(2026, 3, 1)).count() == sum(
        len(selectors.score_items(s)) for s in MonthlyScore.objects.all()
    )
    # Scope: the district supervisor sees it, another district's does not, the unit sees only itself.
    office = MonthlyScore.objects.get(subject_kind="unit", subject_id=late.current_unit_id)
    assert selectors.score_get_for(supervisor(), office.pk) == office
    with pytest.raises(NotFound):
        selectors.score_get_for(actor_at(Role.SUPERVISOR, XINCHENG_SUP, user_id=9600), office.pk)
    assert selectors.score_get_for(reviewer(), office.pk) == office
    with pytest.raises(NotFound):
        selectors.score_get_for(clerk(), office.pk)
    trend = selectors.score_trend(supervisor(), office)
    assert len(trend) == 6
    assert trend[-1][1] == office
    assert Mark.objects.exists()


@pytest.mark.usefixtures("org", "frozen_now")
def test_community_evaluation_ranks_within_the_district() -> None:
    services.community_compute(actor=system_actor("t"), month=dt.date(2026, 3, 1))
    rows = list(CommunityScore.objects.all())
    assert rows
    assert all(not r.population_available for r in rows)
    for district in {r.district_path for r in rows}:
        ranks = sorted(r.rank_in_district for r in rows if r.district_path == district)
        assert ranks[0] == 1
    assert list(selectors.community_ranking(supervisor(), month=dt.date(2026, 3, 1)))
    assert not list(selectors.community_ranking(clerk(), month=dt.date(2026, 3, 1)))


@pytest.mark.usefixtures("org", "frozen_now")
def test_compute_command(capsys: pytest.CaptureFixture[str]) -> None:
    from django.core.management import call_command

    call_command("evaluation", "compute", "--month", "2026-03")
    assert "2026-03:" in capsys.readouterr().out
    assert CommunityScore.objects.filter(month=dt.date(2026, 3, 1)).exists()
