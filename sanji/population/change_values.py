"""What each kind of population change carries, and the checks of its values. Pure.

The checks are the import's (:mod:`sanji.population.records`): ID numbers by
:func:`sanji.core.idnumber.parse` (check character, real birth date not in the future, full-width
digits and spaces normalised, lower-case x), names with the middle dot ``·``, codes of GB/T 3304
(ethnicity), GB/T 4761 (relation) and GB/T 2261.2 (marital status) given as code or name,
division codes, dates, coordinates inside the city. Every problem is reported, each with its
field, as ``{"field", "reason"}`` (the reason translated, shown beside the input; a missing
value also carries ``"code": "required"``); what needs the database (the person, the household,
the building, reach) is checked by :func:`sanji.population.services.change_submit`.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from sanji.core import idnumber
from sanji.population import codes, coords, records
from sanji.population.models import ChangeKind

K = ChangeKind

#: Field key → Chinese label (shown on the pages and in the side-by-side view).
LABELS: dict[str, str | Promise] = {
    "id_number": gettext_lazy("公民身份号码"),
    "name": gettext_lazy("姓名"),
    "sex": gettext_lazy("性别"),
    "birth_date": gettext_lazy("出生日期"),
    "birthplace_code": gettext_lazy("出生地"),
    "ethnicity": gettext_lazy("民族"),
    "marital_status": gettext_lazy("婚姻状况"),
    "relation": gettext_lazy("与户主关系"),
    "registered_code": gettext_lazy("户籍地区划代码"),
    "registered_address": gettext_lazy("户籍地址"),
    "household_code": gettext_lazy("户号"),
    "building_code": gettext_lazy("楼栋编码"),
    "unit_number": gettext_lazy("单元"),
    "room_number": gettext_lazy("室"),
    "lon": gettext_lazy("经度"),
    "lat": gettext_lazy("纬度"),
    "effective_date": gettext_lazy("变动日期"),
    "status": gettext_lazy("人员状态"),
    "status_date": gettext_lazy("状态日期"),
}

_PLACE = ("building_code", "unit_number", "room_number", "lon", "lat")

#: kind → (required fields, optional fields).
KIND_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    K.BIRTH: (
        ("id_number", "name", "ethnicity", "household_code", "relation"),
        (*_PLACE, "registered_code", "registered_address", "effective_date"),
    ),
    K.MOVE_IN: (
        ("id_number", "name", "ethnicity", "registered_code", "household_code", "relation", "effective_date"),
        ("registered_address", "marital_status", *_PLACE),
    ),
    K.DEATH: (("effective_date",), ()),
    K.MOVE_OUT: (("effective_date",), ()),
    K.MARRIAGE_STATUS: (("marital_status",), ("effective_date",)),
    K.ADDRESS: (("household_code",), (*_PLACE, "relation", "effective_date")),
    K.NAME: (("name",), ("effective_date",)),
    # 注销登记: a record ended for another reason than death or moving out (a duplicate
    # registration, settling abroad, enlistment); 恢复登记: a death, move-out or cancellation
    # recorded in error is undone. Both need the submitter's reason.
    K.CANCEL: (("effective_date",), ()),
    K.RESTORE: ((), ("effective_date",)),
    K.CORRECTION: (
        (),
        (
            "id_number",
            "name",
            "ethnicity",
            "marital_status",
            "relation",
            "registered_code",
            "registered_address",
            "effective_date",
        ),
    ),
}

#: Kinds that name no person when submitted: the ID number finds or creates them. A birth creates
#: one; a move-in creates one unless the number is in the registry (then it is that person's move).
NEW_PERSON_KINDS: frozenset[str] = frozenset({K.BIRTH, K.MOVE_IN})
#: Kinds whose submission must give a reason (they end or revive a record).
REASON_KINDS: frozenset[str] = frozenset({K.CANCEL, K.RESTORE})
#: Fields a correction may change (at least one is needed).
CORRECTABLE: tuple[str, ...] = tuple(f for f in KIND_FIELDS[K.CORRECTION][1] if f != "effective_date")

_HOUSEHOLD_RE = re.compile(r"^[0-9A-Za-z-]{1,32}$")
_SHORT_RE = re.compile(r"^[0-9A-Za-z-]{1,8}$")


@dataclass(frozen=True, slots=True)
class CleanValues:
    """The checked values in stored form (codes, ISO dates); the clear ID number only in ``ident``."""

    values: dict[str, Any]
    ident: idnumber.IdNumber | None
    effective_date: dt.date | None
    errors: list[dict[str, str]]


def _text(raw: Any) -> str:
    if raw is None:
        return ""
    if isinstance(raw, float) and not math.isfinite(raw):
        return "nan"
    return str(raw).strip()


def clean(
    kind: str, raw: Mapping[str, Any], *, today: dt.date, regions: frozenset[str] = frozenset()
) -> CleanValues:
    """Check the values of a change of ``kind``; report every problem with its field."""
    errors: list[dict[str, str]] = []

    def problem(field: str, reason: str) -> None:
        errors.append({"field": field, "reason": reason})

    if kind not in KIND_FIELDS:
        problem(
            "kind",
            _("未知的变动类别“%(kind)s”（应为 %(kinds)s）")
            % {"kind": kind, "kinds": pgettext("list separator", "、").join(KIND_FIELDS)},
        )
        return CleanValues({}, None, None, errors)
    required, optional = KIND_FIELDS[kind]
    given = {k: _text(v) for k, v in raw.items() if _text(v)}
    for key in sorted(set(given) - set(required) - set(optional)):
        problem(
            key,
            _("%(kind)s不变更%(field)s（%(key)s）")
            % {"kind": K(kind).label, "field": LABELS.get(key, key), "key": key},
        )
    for key in required:
        if key not in given:
            errors.append({"field": key, "reason": _("必填"), "code": "required"})
    if kind == K.CORRECTION and not any(k in given for k in CORRECTABLE):
        problem(
            "values",
            _("信息更正至少变更一项：%(fields)s")
            % {"fields": pgettext("list separator", "、").join(str(LABELS[k]) for k in CORRECTABLE)},
        )

    values: dict[str, Any] = {}
    ident: idnumber.IdNumber | None = None
    if "id_number" in given:
        try:
            ident = idnumber.parse(given["id_number"], today=today)
        except idnumber.IdNumberError as exc:
            problem("id_number", str(exc))
        else:
            values["id_number"] = ident.masked
    if "name" in given:
        name = records.normalise_name(given["name"])
        reason = records.name_problem(name)
        if reason:
            problem("name", reason)
        else:
            values["name"] = name
    for key, table, standard in (
        ("ethnicity", "ethnicity", "GB/T 3304"),
        ("marital_status", "marital_status", "GB/T 2261.2"),
        ("relation", "relation", "GB/T 4761"),
    ):
        if key in given:
            code = codes.lookup(table, given[key])
            if code is None:
                problem(
                    key,
                    _("无法识别的%(field)s“%(value)s”（应为 %(standard)s 代码或名称）")
                    % {"field": LABELS[key], "value": given[key], "standard": standard},
                )
            else:
                values[key] = code
    if "registered_code" in given:
        code = given["registered_code"]
        registered_problem = records.registered_code_problem(code, regions)
        if registered_problem is None:
            values["registered_code"] = code
        else:
            problem("registered_code", registered_problem)
    if "registered_address" in given:
        if len(given["registered_address"]) > 200:
            problem("registered_address", _("地址超过 %(max)d 个字") % {"max": 200})
        else:
            values["registered_address"] = given["registered_address"]
    if "household_code" in given:
        if _HOUSEHOLD_RE.match(given["household_code"]):
            values["household_code"] = given["household_code"]
        else:
            problem("household_code", _("户号应为 1–32 个字母、数字或 -"))
    if "building_code" in given:
        if given["building_code"].isascii() and given["building_code"].isdigit():
            values["building_code"] = given["building_code"]
        else:
            problem(
                "building_code", _("楼栋编码应为数字，而不是“%(value)s”") % {"value": given["building_code"]}
            )
    for key in ("unit_number", "room_number"):
        if key in given:
            if _SHORT_RE.match(given[key]):
                values[key] = given[key]
            else:
                problem(key, _("“%(value)s”：最多 8 个字母、数字或 -") % {"value": given[key]})
    if "lon" in given or "lat" in given:
        try:
            lon, lat = float(given.get("lon", "")), float(given.get("lat", ""))
        except ValueError:
            problem("lon", _("经度和纬度须同时填写，且为十进制度数"))
        else:
            if not (math.isfinite(lon) and math.isfinite(lat)):
                problem("lon", _("坐标必须是有限的数值"))
            elif not coords.in_city(lon, lat):
                problem("lon", _("坐标（%(lon)s，%(lat)s）不在本市范围内") % {"lon": lon, "lat": lat})
            else:
                values["lon"], values["lat"] = lon, lat

    effective: dt.date | None = None
    if "effective_date" in given:
        try:
            effective = records.parse_date(given["effective_date"])
        except ValueError:
            problem("effective_date", _("不是日期：“%(value)s”") % {"value": given["effective_date"]})
        else:
            if effective > today:
                problem("effective_date", _("日期晚于今天"))
            elif ident is not None and effective < ident.birth_date:
                problem("effective_date", _("日期早于出生日期"))
    if kind == K.BIRTH and ident is not None:
        if effective is not None and effective != ident.birth_date:
            problem("effective_date", _("出生登记的变动日期为公民身份号码中的出生日期"))
        effective = ident.birth_date
    if effective is not None:
        values["effective_date"] = effective.isoformat()
    return CleanValues(values, ident, effective, errors)


def person_fields(kind: str, values: Mapping[str, Any], *, existing: bool = False) -> list[str]:
    """The names of the Person fields a change sets (what the change feed publishes).

    ``existing``: the change names a person in the registry, as the move-in of someone who moved
    out or lives elsewhere in the city does (their residence and registration change)."""
    if kind == K.MOVE_IN and existing:
        moved = ["status", "status_date", "household", "building", "region_path", "relation"]
        moved += ["registered_code", "registered_address", "registered_locally"]
        return moved + (["marital_status"] if "marital_status" in values else [])
    if kind in NEW_PERSON_KINDS:
        return ["created"]
    if kind in (K.DEATH, K.MOVE_OUT, K.CANCEL, K.RESTORE):
        return ["status", "status_date"]
    out: list[str] = []
    for key in values:
        if key == "id_number":
            out += ["id_number", "birth_date", "sex", "birthplace_code"]
        elif key == "household_code":
            out += ["household", "building", "region_path"]
        elif key in (
            "name",
            "ethnicity",
            "marital_status",
            "relation",
            "registered_code",
            "registered_address",
        ):
            out.append(key)
        if key == "registered_code":
            out.append("registered_locally")
    return out


#: Marital statuses (GB/T 2261.2) that follow a marriage: 已婚, 初婚, 再婚, 复婚, and 丧偶 and 离婚,
#: which end one. Each needs the person to have reached the legal marriage age.
EVER_MARRIED: frozenset[str] = frozenset({"20", "21", "22", "23", "30", "40"})

#: The legal marriage age (法定婚龄) by the law in force on a date: (in force from, men, women,
#: the provision). 22/20 came with the Marriage Law of 1980 (in force 1981-01-01) and are kept by
#: the Civil Code (《民法典》第一千零四十七条, 2021); 20/18 before, from the Marriage Law of 1950.
MARRIAGE_AGES: tuple[tuple[dt.date, int, int, str | Promise], ...] = (
    (dt.date(2021, 1, 1), 22, 20, gettext_lazy("《民法典》第一千零四十七条")),
    (dt.date(1981, 1, 1), 22, 20, gettext_lazy("1980 年《婚姻法》第五条")),
    (dt.date(1950, 5, 1), 20, 18, gettext_lazy("1950 年《婚姻法》第四条")),
)


def age_on(birth_date: dt.date, day: dt.date) -> int:
    """Full years (周岁) on ``day``: one more on each birthday (29 February: on 1 March)."""
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def marriage_age_problem(*, sex: str, birth_date: dt.date, marital_status: str, on: dt.date) -> str | None:
    """Why ``marital_status`` cannot hold on ``on`` for a person of this sex and birth date, or None.

    A married (or widowed, divorced) status below the legal marriage age of the law in force on
    ``on`` (:data:`MARRIAGE_AGES`) is refused. ``sex`` is the ID number's (GB/T 2261.1: 1 male,
    2 female); before 1950-05-01 there was no statutory age to check.
    """
    if marital_status not in EVER_MARRIED or sex not in ("1", "2"):
        return None
    rule = next((r for r in MARRIAGE_AGES if on >= r[0]), None)
    if rule is None:
        return None
    _since, men, women, law = rule
    minimum = men if sex == "1" else women
    age = age_on(birth_date, on)
    if age >= minimum:
        return None
    return _(
        "婚姻状况“%(status)s”须达到法定婚龄：%(sex)s不得早于 %(minimum)d 周岁结婚（%(law)s）；"
        "此人在 %(date)s 为 %(age)d 周岁。"
    ) % {
        "status": codes.MARITAL_STATUS.get(marital_status, marital_status),
        "sex": pgettext("marriage age of", "男") if sex == "1" else pgettext("marriage age of", "女"),
        "minimum": minimum,
        "law": law,
        "date": on.isoformat(),
        "age": age,
    }
