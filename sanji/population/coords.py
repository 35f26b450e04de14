"""Coordinates: WGS84/CGCS2000 ↔ GCJ-02, distances and the city's bounds. Pure.

The registry stores CGCS2000 (EPSG:4490) longitude/latitude, which agrees with WGS84 to well under
a metre. GCJ-02 (国测局坐标, the "Mars" datum) is the obfuscated datum Chinese web maps draw in; it is
used only to draw. :func:`wgs84_to_gcj02` is the published algorithm (the Krasovsky-ellipsoid
offset series used by every open implementation, e.g. coordtransform and eviltransform); the
inverse has no closed form, so :func:`gcj02_to_wgs84` iterates the forward transform until the
error is far below a metre.
"""

from __future__ import annotations

import math

_A = 6378245.0  # Krasovsky 1940 semi-major axis, as the algorithm uses it
_EE = 0.00669342162296594323  # its first eccentricity squared
EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius (IUGG)

#: Hohhot's extent, a little generous (lon 110.77–112.17 E, lat 39.58–41.42 N, rounded outwards).
HOHHOT_BOUNDS = (110.45, 39.40, 112.45, 41.60)  # min lon, min lat, max lon, max lat


def out_of_china(lon: float, lat: float) -> bool:
    """GCJ-02 applies inside China only; outside the rough box the algorithm leaves points alone."""
    return not (72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _transform_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lon(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def _offset(lon: float, lat: float) -> tuple[float, float]:
    dlat = _transform_lat(lon - 105.0, lat - 35.0)
    dlon = _transform_lon(lon - 105.0, lat - 35.0)
    radlat = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(radlat) ** 2
    sqrtmagic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrtmagic) * math.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * math.cos(radlat) * math.pi)
    return dlon, dlat


def wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    """WGS84 (≈ CGCS2000) → GCJ-02, for drawing on a Chinese web map."""
    if out_of_china(lon, lat):
        return lon, lat
    dlon, dlat = _offset(lon, lat)
    return lon + dlon, lat + dlat


def gcj02_to_wgs84(
    lon: float, lat: float, *, tolerance_deg: float = 1e-9, max_iter: int = 30
) -> tuple[float, float]:
    """GCJ-02 → WGS84 by fixed-point iteration of the forward transform (error ≪ 1 m)."""
    if out_of_china(lon, lat):
        return lon, lat
    wlon, wlat = lon, lat
    for _ in range(max_iter):
        glon, glat = wgs84_to_gcj02(wlon, wlat)
        elon, elat = glon - lon, glat - lat
        wlon, wlat = wlon - elon, wlat - elat
        if abs(elon) < tolerance_deg and abs(elat) < tolerance_deg:
            break
    return wlon, wlat


def haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres on the mean-radius sphere."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def in_city(lon: float, lat: float, bounds: tuple[float, float, float, float] = HOHHOT_BOUNDS) -> bool:
    """Is the point inside the city's extent? Points outside are bad input, never silently kept."""
    min_lon, min_lat, max_lon, max_lat = bounds
    return (
        math.isfinite(lon) and math.isfinite(lat) and min_lon <= lon <= max_lon and min_lat <= lat <= max_lat
    )


def bbox_around(lon: float, lat: float, radius_m: float) -> tuple[float, float, float, float]:
    """A lon/lat box that contains the circle of ``radius_m`` around the point (for index prefilters)."""
    dlat = math.degrees(radius_m / EARTH_RADIUS_M)
    dlon = math.degrees(radius_m / (EARTH_RADIUS_M * max(math.cos(math.radians(lat)), 1e-6)))
    return lon - dlon, lat - dlat, lon + dlon, lat + dlat
