"""Coordinates: GCJ-02 against published reference points, the inverse, distances, city bounds."""

from __future__ import annotations

import math

import pytest

from sanji.population import coords


@pytest.mark.parametrize(
    ("wgs", "gcj"),
    [
        # wandergis/coordtransform README: wgs84togcj02(116.404, 39.915)
        ((116.404, 39.915), (116.41024449916938, 39.91640428150164)),
        # wandergis/coordtransform README (Python port): wgs84_to_gcj02(128.543, 37.065)
        ((128.543, 37.065), (128.54820547949757, 37.065651049489816)),
    ],
)
def test_forward_matches_published_points(wgs: tuple[float, float], gcj: tuple[float, float]) -> None:
    lon, lat = coords.wgs84_to_gcj02(*wgs)
    assert lon == pytest.approx(gcj[0], abs=1e-9)
    assert lat == pytest.approx(gcj[1], abs=1e-9)


def test_one_step_inverse_reference_is_within_a_metre() -> None:
    # coordtransform's gcj02towgs84(116.404, 39.915) is a one-step approximation: (116.39775550083061,
    # 39.91359571849836). Ours iterates; the two agree to well under a metre.
    lon, lat = coords.gcj02_to_wgs84(116.404, 39.915)
    assert coords.haversine_m(lon, lat, 116.39775550083061, 39.91359571849836) < 1.0


@pytest.mark.parametrize("point", [(111.75, 40.84), (111.0, 40.3), (112.1, 41.4), (110.5, 39.6)])
def test_inverse_round_trips_under_a_centimetre(point: tuple[float, float]) -> None:
    gcj = coords.wgs84_to_gcj02(*point)
    back = coords.gcj02_to_wgs84(*gcj)
    assert coords.haversine_m(*point, *back) < 0.01
    assert coords.haversine_m(*point, *gcj) > 100  # the offset itself is hundreds of metres


def test_outside_china_is_unchanged() -> None:
    assert coords.wgs84_to_gcj02(2.35, 48.85) == (2.35, 48.85)
    assert coords.gcj02_to_wgs84(-74.0, 40.7) == (-74.0, 40.7)


def test_haversine() -> None:
    assert coords.haversine_m(0, 0, 1, 0) == pytest.approx(
        2 * math.pi * coords.EARTH_RADIUS_M / 360, rel=1e-9
    )
    # Hohhot (111.75, 40.84) to Beijing (116.40, 39.90): about 405 km.
    assert coords.haversine_m(111.75, 40.84, 116.40, 39.90) == pytest.approx(405_000, rel=0.01)


@pytest.mark.parametrize(
    ("point", "inside"),
    [((111.75, 40.84), True), ((109.8, 40.6), False), ((111.7, 42.0), False), ((float("nan"), 40.8), False)],
)
def test_in_city(point: tuple[float, float], inside: bool) -> None:
    assert coords.in_city(*point) is inside


def test_bbox_around_contains_the_circle() -> None:
    _min_lon, min_lat, max_lon, _max_lat = coords.bbox_around(111.75, 40.84, 1000)
    assert coords.haversine_m(111.75, 40.84, max_lon, 40.84) == pytest.approx(1000, rel=1e-3)
    assert coords.haversine_m(111.75, 40.84, 111.75, min_lat) == pytest.approx(1000, rel=1e-3)
