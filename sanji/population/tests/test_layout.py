"""The synthetic place layout: complete, inside the city, non-overlapping, deterministic."""

from __future__ import annotations

import numpy as np
import pytest

from sanji.population import coords, generator, layout


@pytest.fixture(scope="module")
def plans() -> list[layout.CommunityPlan]:
    return generator.community_plans()


def test_every_community_is_planned_inside_the_city(plans: list[layout.CommunityPlan]) -> None:
    assert len(plans) == 1396
    for plan in plans:
        for lon, lat in plan.ring:
            assert coords.in_city(lon, lat), plan.code
        assert 2 <= len(plan.grids) <= 6
        for grid in plan.grids:
            assert grid.code.startswith(plan.code)
            assert len(grid.code) == 15
            xs = [p[0] for p in grid.ring]
            ys = [p[1] for p in grid.ring]
            for b in grid.buildings:
                assert min(xs) < b.lon < max(xs)
                assert min(ys) < b.lat < max(ys)
                assert b.code == grid.code + b.number
                assert len(b.number) == 5


def test_community_cells_do_not_overlap(plans: list[layout.CommunityPlan]) -> None:
    boxes = np.array(
        [
            [
                min(p[0] for p in c.ring),
                min(p[1] for p in c.ring),
                max(p[0] for p in c.ring),
                max(p[1] for p in c.ring),
            ]
            for c in plans
        ]
    )
    overlaps = (
        (boxes[:, None, 0] < boxes[None, :, 2])
        & (boxes[None, :, 0] < boxes[:, None, 2])
        & (boxes[:, None, 1] < boxes[None, :, 3])
        & (boxes[None, :, 1] < boxes[:, None, 3])
    )
    np.fill_diagonal(overlaps, False)
    assert not overlaps.any()


def test_districts_lie_in_their_direction(plans: list[layout.CommunityPlan]) -> None:
    def centre(district: str) -> tuple[float, float]:
        rings = [p for c in plans if c.code.startswith(district) for p in c.ring]
        return sum(p[0] for p in rings) / len(rings), sum(p[1] for p in rings) / len(rings)

    lon0, lat0 = layout.CITY_CENTRE
    assert centre("150125")[1] > lat0 + 0.1  # 武川县 north
    assert centre("150124")[1] < lat0 - 0.5  # 清水河县 far south
    assert centre("150121")[0] < lon0 - 0.3  # 土默特左旗 west
    assert centre("150102")[0] > lon0 - 0.05
    assert centre("150102")[1] > lat0


def test_layout_is_deterministic(plans: list[layout.CommunityPlan]) -> None:
    again = generator.community_plans()
    assert [g.buildings for p in again for g in p.grids] == [g.buildings for p in plans for g in p.grids]
