"""Monthly scores and the community evaluation as pure functions of facts (no database).

Unit/department/window/staff score (DESIGN.md §4): 100 points, then
- on time (按时办结率): ``-on_time × (late steps / steps)``, one item per late step;
- handling time (平均办理时长): when the average of elapsed / limit over the steps exceeds 1,
  ``-handling × (ratio - 1)``, at most ``-handling``; the evidence is the slowest step's case;
- marks: each counting mark's own points (its rule's configuration: yellow −5, red −10 …); warnings
  count as ``warning_streak`` (−3) for every three warnings of the month, in order;
- early completion (提前办结): ``early`` per step finished at least a day before its deadline, up to
  ``early_cap``;
- satisfaction (满意度): each rating adds ``satisfaction × (level − 3) / 2 / ratings`` (so the month's
  average level maps onto ±``satisfaction``); excluded (malicious) ratings are left out;
- supervision orders (督办): ``order`` per order issued in the month.

Community station (社区综合考评): indicators in [0, 1] — cases taken (relative to the busiest station of
the district), forwarding timeliness, satisfaction (average level / 5), population changes (verified
rate, when the population app provides it) — weighted and scaled to 100 over the weights of the
indicators that are available; an unavailable indicator keeps its configured weight but scores nothing
and does not count against the station.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

DEFAULT_WEIGHTS: dict[str, Decimal] = {
    "on_time": Decimal("20"),
    "handling": Decimal("10"),
    "warning_streak": Decimal("-3"),
    "early": Decimal("0.5"),
    "early_cap": Decimal("5"),
    "satisfaction": Decimal("10"),
    "order": Decimal("-5"),
    "follow_up_days": Decimal("15"),
    "community.taken": Decimal("20"),
    "community.timeliness": Decimal("30"),
    "community.satisfaction": Decimal("30"),
    "community.population": Decimal("20"),
}

WEIGHT_LABELS: dict[str, str] = {
    "on_time": "按时办结率（全部超时扣满分值）",
    "handling": "平均办理时长超出承诺时限（最多扣分）",
    "warning_streak": "每连续三次预警",
    "early": "每个提前一天以上办结的环节加分",
    "early_cap": "提前办结加分上限",
    "satisfaction": "满意度（平均分映射为±分值）",
    "order": "每张督办单",
    "follow_up_days": "差评整改时限（工作日）",
    "community.taken": "社区考评：受理量权重",
    "community.timeliness": "社区考评：转报及时率权重",
    "community.satisfaction": "社区考评：满意度权重",
    "community.population": "社区考评：人口变动核验率权重",
}

CENT = Decimal("0.01")


def q(value: Decimal | float) -> Decimal:
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class StepFact:
    case_id: int
    order: int
    started_at: dt.datetime | None
    finished_at: dt.datetime
    due: dt.datetime | None


@dataclass(frozen=True, slots=True)
class MarkFact:
    mark_id: int
    case_id: int
    rule: str
    points: Decimal
    became_at: dt.datetime


@dataclass(frozen=True, slots=True)
class RatingFact:
    rating_id: int
    case_id: int
    level: int


@dataclass(frozen=True, slots=True)
class OrderFact:
    order_id: int
    case_id: int


@dataclass(frozen=True, slots=True)
class Item:
    kind: str
    points: Decimal
    note: str
    case_id: int | None = None
    mark_id: int | None = None
    rating_id: int | None = None
    order_id: int | None = None


@dataclass
class ScoreResult:
    total: Decimal
    items: list[Item] = field(default_factory=list)
    steps: int = 0
    on_time_rate: float | None = None
    handling_ratio: float | None = None
    ratings: int = 0
    satisfaction_avg: float | None = None
    marks: int = 0
    orders: int = 0


def score(
    *,
    steps: Sequence[StepFact],
    marks: Sequence[MarkFact],
    ratings: Sequence[RatingFact],
    orders: Sequence[OrderFact],
    weights: Mapping[str, Decimal],
) -> ScoreResult:
    items: list[Item] = []
    timed = [s for s in steps if s.due is not None]
    late = [s for s in timed if s.finished_at > s.due]  # type: ignore[operator]
    result = ScoreResult(total=Decimal("100"), steps=len(steps), marks=len(marks), orders=len(orders))
    if timed:
        result.on_time_rate = round(1 - len(late) / len(timed), 4)
        share = weights["on_time"] / len(timed)
        for s in late:
            items.append(
                Item("on_time", -share, f"step {s.order} finished after its deadline", case_id=s.case_id)
            )
        ratios = [
            (s.finished_at - s.started_at) / (s.due - s.started_at)  # type: ignore[operator]
            for s in timed
            if s.started_at is not None and s.due > s.started_at  # type: ignore[operator]
        ]
        if ratios:
            ratio = sum(ratios) / len(ratios)
            result.handling_ratio = round(ratio, 4)
            if ratio > 1:
                slowest = max(
                    (s for s in timed if s.started_at is not None and s.due > s.started_at),  # type: ignore[operator]
                    key=lambda s: (s.finished_at - s.started_at) / (s.due - s.started_at),  # type: ignore[operator]
                )
                lost = min(weights["handling"] * Decimal(str(ratio - 1)), weights["handling"])
                items.append(
                    Item(
                        "handling", -lost, f"average handling {ratio:.2f}× the limit", case_id=slowest.case_id
                    )
                )
        early = [s for s in timed if s.due - s.finished_at >= dt.timedelta(days=1)]  # type: ignore[operator]
        bonus = Decimal("0")
        for s in early:
            if bonus + weights["early"] > weights["early_cap"]:
                break
            bonus += weights["early"]
            items.append(Item("early", weights["early"], f"step {s.order} finished early", case_id=s.case_id))
    warnings = sorted((m for m in marks if m.rule == "warning"), key=lambda m: (m.became_at, m.mark_id))
    for index, m in enumerate(warnings, start=1):
        if index % 3 == 0:
            items.append(
                Item(
                    "warning_streak",
                    weights["warning_streak"],
                    f"warnings {index - 2}–{index}",
                    m.case_id,
                    m.mark_id,
                )
            )
    for m in marks:
        if m.rule != "warning" and m.points:
            items.append(Item("mark", m.points, m.rule, m.case_id, m.mark_id))
    if ratings:
        result.ratings = len(ratings)
        result.satisfaction_avg = round(sum(r.level for r in ratings) / len(ratings), 4)
        for r in ratings:
            points = weights["satisfaction"] * Decimal(r.level - 3) / 2 / len(ratings)
            items.append(
                Item("satisfaction", points, f"rating {r.level}", case_id=r.case_id, rating_id=r.rating_id)
            )
    for o in orders:
        items.append(
            Item("order", weights["order"], "supervision order", case_id=o.case_id, order_id=o.order_id)
        )
    result.items = [
        Item(i.kind, q(i.points), i.note[:200], i.case_id, i.mark_id, i.rating_id, i.order_id) for i in items
    ]
    result.total = q(Decimal("100") + sum((i.points for i in result.items), Decimal("0")))
    return result


@dataclass(frozen=True, slots=True)
class CommunityFacts:
    cases_taken: int
    busiest_in_district: int
    forwarded: int
    forwarded_on_time: int
    ratings: Sequence[int]
    population_verified_rate: float | None  # None: not available


def community_total(facts: CommunityFacts, weights: Mapping[str, Decimal]) -> Decimal:
    parts: list[tuple[Decimal, float]] = []
    parts.append(
        (
            weights["community.taken"],
            facts.cases_taken / facts.busiest_in_district if facts.busiest_in_district else 0.0,
        )
    )
    parts.append(
        (
            weights["community.timeliness"],
            facts.forwarded_on_time / facts.forwarded if facts.forwarded else 1.0,
        )
    )
    if facts.ratings:
        parts.append((weights["community.satisfaction"], sum(facts.ratings) / len(facts.ratings) / 5))
    if facts.population_verified_rate is not None:
        parts.append((weights["community.population"], facts.population_verified_rate))
    total_weight = sum((w for w, _ in parts), Decimal("0"))
    if not total_weight:
        return Decimal("0")
    return q(sum((w * Decimal(str(v)) for w, v in parts), Decimal("0")) * 100 / total_weight)


def rank(values: Sequence[tuple[int, Decimal]]) -> dict[int, int]:
    """Competition ranking (1, 2, 2, 4) of (key, total), highest total first."""
    ordered = sorted(values, key=lambda kv: (-kv[1], kv[0]))
    ranks: dict[int, int] = {}
    previous: Decimal | None = None
    current = 0
    for position, (key, total) in enumerate(ordered, start=1):
        if total != previous:
            current = position
            previous = total
        ranks[key] = current
    return ranks
