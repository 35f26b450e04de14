"""The standard organisation of a city and its districts: names and codes, no database.

What :func:`sanji.orgs.services.org_structure_seed` builds, written down as data:

- departments (部门) of every :class:`DepartmentKind` at the city and at each district-level unit,
  named with the region's real name and the standard department name (呼和浩特市民政局, 赛罕区民政局);
  in urban districts public security and natural resources are branches of the city bureau
  (呼和浩特市公安局赛罕区分局), as they are in practice;
- the city government service centre (市政务服务中心) and each district's citizen service centre
  (市民服务中心), each with one window (窗口) per department that receives applications;
- the city departments' professional service halls (专业服务大厅), each with its windows;
- a public service centre per township/sub-district (乡镇/街道公共服务中心) with a general window,
  and a station per community/village (社区公共服务站 / 村便民服务站);
- a department office (部门机关) per department, where reviewers, approvers, heads and data
  officers hold their roles; an electronic supervision office (电子监察室) at the city and each
  district; the platform operator unit (平台运维) at the city for the three administrators.

Unit codes are deterministic and readable: ``150105-CSC``, ``150105-CSC-W-civil_affairs``,
``150105001-TC``, ``150105001001-CS``, ``150105-DEPT-civil_affairs``, ``150105-SUP``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sanji.orgs.models import DepartmentKind

#: The standard department names after the region's name.
DEPARTMENT_NAMES: dict[str, str] = {
    DepartmentKind.PUBLIC_SECURITY: "公安局",
    DepartmentKind.CIVIL_AFFAIRS: "民政局",
    DepartmentKind.HUMAN_RESOURCES: "人力资源和社会保障局",
    DepartmentKind.HEALTH: "卫生健康委员会",
    DepartmentKind.MARKET_REGULATION: "市场监督管理局",
    DepartmentKind.HOUSING: "住房和城乡建设局",
    DepartmentKind.NATURAL_RESOURCES: "自然资源局",
    DepartmentKind.EDUCATION: "教育局",
    DepartmentKind.SUPERVISION: "监察委员会",
    DepartmentKind.ADMINISTRATIVE_APPROVAL: "行政审批和政务服务局",
    DepartmentKind.DISABLED_PERSONS: "残疾人联合会",
}

#: Lines run in urban districts as branches of the city bureau (市公安局赛罕区分局).
BRANCH_IN_URBAN_DISTRICTS = frozenset({DepartmentKind.PUBLIC_SECURITY, DepartmentKind.NATURAL_RESOURCES})

#: Window names at a service centre, per department line. Supervision receives no applications.
WINDOW_NAMES: dict[str, str] = {
    DepartmentKind.PUBLIC_SECURITY: "公安窗口",
    DepartmentKind.CIVIL_AFFAIRS: "民政窗口",
    DepartmentKind.HUMAN_RESOURCES: "人社窗口",
    DepartmentKind.HEALTH: "卫生健康窗口",
    DepartmentKind.MARKET_REGULATION: "市场监管窗口",
    DepartmentKind.HOUSING: "住建窗口",
    DepartmentKind.NATURAL_RESOURCES: "自然资源窗口",
    DepartmentKind.EDUCATION: "教育窗口",
    DepartmentKind.ADMINISTRATIVE_APPROVAL: "综合受理窗口",
    DepartmentKind.DISABLED_PERSONS: "残联窗口",
}


@dataclass(frozen=True, slots=True)
class HallSpec:
    """A professional service hall (专业服务大厅) of a city department, with its windows."""

    slug: str
    name: str  # after the city's name
    kind: str
    windows: tuple[str, ...]


CITY_HALLS: tuple[HallSpec, ...] = (
    HallSpec(
        "realestate",
        "不动产登记大厅",
        DepartmentKind.NATURAL_RESOURCES,
        ("不动产登记受理窗口", "不动产权证书发放窗口"),
    ),
    HallSpec("socialsecurity", "社保大厅", DepartmentKind.HUMAN_RESOURCES, ("社保登记窗口", "社保待遇窗口")),
    HallSpec(
        "exitentry",
        "公安出入境大厅",
        DepartmentKind.PUBLIC_SECURITY,
        ("出入境证件受理窗口", "出入境证件发放窗口"),
    ),
    HallSpec("household", "公安户政大厅", DepartmentKind.PUBLIC_SECURITY, ("户籍业务窗口", "居民身份证窗口")),
)

GENERAL_WINDOW_NAME = "综合窗口"


def is_urban_district(name: str) -> bool:
    """A municipal district (市辖区), as opposed to a county, banner or development zone."""
    return name.endswith("区") and not name.endswith("开发区")


def department_name(*, kind: str, region_name: str, city_name: str, at_city: bool) -> str:
    standard = DEPARTMENT_NAMES[kind]
    if not at_city and kind in BRANCH_IN_URBAN_DISTRICTS and is_urban_district(region_name):
        return f"{city_name}{standard}{region_name}分局"
    return f"{region_name}{standard}"


def department_code(region_code: str, kind: str) -> str:
    return f"{region_code}-{kind}"


def city_centre_name(city_name: str) -> str:
    return f"{city_name}政务服务中心"


def district_centre_name(district_name: str) -> str:
    return f"{district_name}市民服务中心"


def township_centre_name(township_name: str) -> str:
    return f"{township_name}公共服务中心"


def community_station_name(community_name: str) -> str:
    """社区居委会 → 社区公共服务站; 村民委员会 / 村委会 → 村便民服务站."""
    name = community_name
    for suffix, replacement in (
        ("村民委员会", "村"),
        ("村委会", "村"),
        ("社区居民委员会", "社区"),
        ("社区居委会", "社区"),
        ("居民委员会", "社区"),
        ("居委会", "社区"),
    ):
        if name.endswith(suffix):
            name = name[: -len(suffix)] + replacement
            break
    if name.endswith("村"):
        return f"{name}便民服务站"
    return f"{name}公共服务站"


def supervision_office_name(region_name: str) -> str:
    return f"{region_name}电子监察室"


def operator_name(city_name: str) -> str:
    return f"{city_name}政务服务平台运维中心"


# --- unit codes -------------------------------------------------------------------------------


def city_centre_code(city_code: str) -> str:
    return f"{city_code}-GSC"


def district_centre_code(district_code: str) -> str:
    return f"{district_code}-CSC"


def window_code(centre_code: str, kind: str) -> str:
    return f"{centre_code}-W-{kind}"


def hall_code(city_code: str, slug: str) -> str:
    return f"{city_code}-HALL-{slug}"


def hall_window_code(hall_code_: str, number: int) -> str:
    return f"{hall_code_}-W{number}"


def township_centre_code(township_code: str) -> str:
    return f"{township_code}-TC"


def general_window_code(centre_code: str) -> str:
    return f"{centre_code}-W"


def community_station_code(community_code: str) -> str:
    return f"{community_code}-CS"


def department_office_code(region_code: str, kind: str) -> str:
    return f"{region_code}-DEPT-{kind}"


def supervision_office_code(region_code: str) -> str:
    return f"{region_code}-SUP"


def operator_code(city_code: str) -> str:
    return f"{city_code}-OPS"
