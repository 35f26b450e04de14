"""The synthetic place layout of the demo: community cells, grids and buildings. Pure, deterministic.

There is no official boundary geometry offline, so the demo *invents* a plausible one. It is
SYNTHETIC: the shapes and positions are not the real ones, only the codes and names are.

- Each district/county/banner is centred on a plausible point relative to Hohhot's centre
  (≈ 111.75 E, 40.84 N): 新城区 NE, 回民区 W, 玉泉区 S, 赛罕区 SE, the development zone E, and the
  counties farther out (土默特左旗 W, 托克托县 SW, 和林格尔县 S, 清水河县 far S, 武川县 N).
- Its townships are square blocks in a near-square arrangement around that centre (by code).
- Each township block holds its communities as square cells (k × k, by code); urban cells are
  450 m wide, county cells 1.5 km.
- Each community is cut into 2–6 grids (vertical strips; the count is derived from its code).
- Each grid holds buildings as points (urban 12–30, villages 4–10), numbered ``00001``… in the grid.

Everything is derived from the community *codes* (districts and townships are code prefixes), so
``population_seed_places`` (which reads regions from the database) and ``sanji population
generate`` (which reads the shipped division file) produce the same grid and building codes.
"""

from __future__ import annotations

import math
import random
import zlib
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

CITY_CENTRE = (111.75, 40.84)

#: District centres (lon, lat) and community cell size (metres). Synthetic, see the module text.
DISTRICTS: dict[str, tuple[float, float, float]] = {
    "150102": (111.76, 40.89, 450.0),  # 新城区, north-east of the centre
    "150103": (111.64, 40.85, 450.0),  # 回民区, west
    "150104": (111.67, 40.77, 450.0),  # 玉泉区, south
    "150105": (111.84, 40.80, 450.0),  # 赛罕区, south-east
    "150172": (111.97, 40.86, 450.0),  # 经济技术开发区, east
    "150121": (111.15, 40.72, 1500.0),  # 土默特左旗, west
    "150122": (111.19, 40.28, 1500.0),  # 托克托县, south-west
    "150123": (111.82, 40.38, 1500.0),  # 和林格尔县, south
    "150124": (111.68, 39.92, 1500.0),  # 清水河县, far south
    "150125": (111.45, 41.10, 1500.0),  # 武川县, north
}
URBAN_DISTRICTS = frozenset({"150102", "150103", "150104", "150105", "150172"})

M_PER_DEG_LAT = 111_320.0
GRID_CODE_DIGITS = 3  # grid code = community code (12) + 3
BUILDING_NUMBER_DIGITS = 5  # building code = grid code (15) + 5


@dataclass(frozen=True, slots=True)
class BuildingPlan:
    code: str  # grid code + 5-digit number
    number: str
    lon: float
    lat: float


@dataclass(frozen=True, slots=True)
class GridPlan:
    code: str
    name: str
    ring: tuple[tuple[float, float], ...]  # closed exterior ring, lon/lat
    buildings: tuple[BuildingPlan, ...]


@dataclass(frozen=True, slots=True)
class CommunityPlan:
    code: str
    name: str
    ring: tuple[tuple[float, float], ...]
    grids: tuple[GridPlan, ...]
    urban: bool
    village: bool


def _stable(code: str, salt: str = "") -> int:
    return zlib.crc32(f"{salt}{code}".encode())


def is_village(name: str) -> bool:
    """村民委员会 / 村委会: a rural village rather than an urban community."""
    return "村" in name


def _square(lon0: float, lat0: float, w: float, h: float) -> tuple[tuple[float, float], ...]:
    return ((lon0, lat0), (lon0 + w, lat0), (lon0 + w, lat0 + h), (lon0, lat0 + h), (lon0, lat0))


def _district_centre(district: str, index: int) -> tuple[float, float, float]:
    if district in DISTRICTS:
        return DISTRICTS[district]
    # Another city's district: a ring around the city centre (still synthetic).
    angle = 2 * math.pi * (index % 12) / 12
    return (CITY_CENTRE[0] + 0.5 * math.cos(angle), CITY_CENTRE[1] + 0.4 * math.sin(angle), 1000.0)


def grid_count(community_code: str) -> int:
    """2–6 grids per community, fixed by the code."""
    return 2 + _stable(community_code, "grids") % 5


def plan(communities: Iterable[tuple[str, str]]) -> Iterator[CommunityPlan]:
    """Plan every community given as (12-digit code, name), in code order."""
    by_district: dict[str, dict[str, list[tuple[str, str]]]] = defaultdict(lambda: defaultdict(list))
    for code, name in sorted(communities):
        by_district[code[:6]][code[:9]].append((code, name))
    for d_index, district in enumerate(sorted(by_district)):
        townships = by_district[district]
        lon_c, lat_c, cell_m = _district_centre(district, d_index)
        cell_lat = cell_m / M_PER_DEG_LAT
        cell_lon = cell_m / (M_PER_DEG_LAT * math.cos(math.radians(lat_c)))
        k = math.ceil(math.sqrt(max(len(v) for v in townships.values())))
        cols = math.ceil(math.sqrt(len(townships)))
        rows = math.ceil(len(townships) / cols)
        origin_lon = lon_c - cols * k * cell_lon / 2
        origin_lat = lat_c + rows * k * cell_lat / 2  # blocks run west→east, north→south
        for t_index, township in enumerate(sorted(townships)):
            t_col, t_row = t_index % cols, t_index // cols
            for c_index, (code, name) in enumerate(townships[township]):
                c_col, c_row = c_index % k, c_index // k
                lon0 = origin_lon + (t_col * k + c_col) * cell_lon
                lat0 = origin_lat - (t_row * k + c_row + 1) * cell_lat
                yield _community(
                    code, name, lon0, lat0, cell_lon, cell_lat, urban=district in URBAN_DISTRICTS
                )


def _community(
    code: str, name: str, lon0: float, lat0: float, w: float, h: float, *, urban: bool
) -> CommunityPlan:
    # A 3 % gap between neighbouring cells keeps shared edges out of point-in-polygon ambiguity.
    gap_w, gap_h = w * 0.03, h * 0.03
    lon0, lat0, w, h = lon0 + gap_w / 2, lat0 + gap_h / 2, w - gap_w, h - gap_h
    village = is_village(name)
    n = grid_count(code)
    strip = w / n
    short = name.removesuffix("社区居委会").removesuffix("居民委员会").removesuffix("居委会")
    short = short.removesuffix("村民委员会").removesuffix("村委会")
    grids = []
    for g in range(n):
        grid_code = f"{code}{g + 1:0{GRID_CODE_DIGITS}d}"
        rng = random.Random(_stable(grid_code, "buildings"))
        count = rng.randint(4, 10) if village else rng.randint(12, 30)
        g_lon0 = lon0 + g * strip
        buildings = tuple(
            BuildingPlan(
                code=f"{grid_code}{b + 1:0{BUILDING_NUMBER_DIGITS}d}",
                number=f"{b + 1:0{BUILDING_NUMBER_DIGITS}d}",
                lon=round(g_lon0 + strip * rng.uniform(0.06, 0.94), 7),
                lat=round(lat0 + h * rng.uniform(0.06, 0.94), 7),
            )
            for b in range(count)
        )
        grids.append(
            GridPlan(
                code=grid_code,
                name=f"{short}第{g + 1}网格",
                ring=tuple((round(x, 7), round(y, 7)) for x, y in _square(g_lon0, lat0, strip, h)),
                buildings=buildings,
            )
        )
    ring = tuple((round(x, 7), round(y, 7)) for x, y in _square(lon0, lat0, w, h))
    return CommunityPlan(code=code, name=name, ring=ring, grids=tuple(grids), urban=urban, village=village)


def building_address(community_name: str, grid_index: int, number: str) -> str:
    """A synthetic street address for a building (the demo has no real address data)."""
    short = community_name.removesuffix("社区居委会").removesuffix("居民委员会").removesuffix("居委会")
    if is_village(community_name):
        return f"{short.removesuffix('村民委员会').removesuffix('村委会')}{grid_index}组{int(number)}号院"
    return f"{short}{grid_index}区{int(number)}号楼"
