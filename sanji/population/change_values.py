"""What each kind of population change carries, and the checks of its values. Pure.

The checks are the import's (:mod:`sanji.population.records`): ID numbers by
:func:`sanji.core.idnumber.parse` (check character, real birth date not in the future, full-width
digits and spaces normalised, lower-case x), names with the middle dot ``·``, codes of GB/T 3304
(ethnicity), GB/T 4761 (relation) and GB/T 2261.2 (marital status) given as code or name,
division codes, dates, coordinates inside the city. Every problem is reported, each with its
field, as ``{"field", "reason"}``; what needs the database (the person, the household, the
building, reach) is checked by :func:`sanji.population.services.change_submit`.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from sanji.core import idnumber
from sanji.population import codes, coords, records
from sanji.population.models import ChangeKind

K = ChangeKind

#: Field key → Chinese label (shown on the pages and in the side-by-side view).
LABELS: dict[str, str | Promise] = {
    "id_number": _("公民身份号码"),
    "name": _("姓名"),
    "sex": _("性别"),
    "birth_date": _("出生日期"),
    "ethnicity": _("民族"),
    "marital_status": _("婚姻状况"),
    "relation": _("与户主关系"),
    "registered_code": _("户籍地区划代码"),
    "registered_address": _("户籍地址"),
    "household_code": _("户号"),
    "building_code": _("楼栋编码"),
    "unit_number": _("单元"),
    "room_number": _("室"),
    "lon": _("经度"),
    "lat": _("纬度"),
    "effective_date": _("变动日期"),
    "status": _("人员状态"),
    "status_date": _("状态日期"),
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

#: Kinds that create a person (no person is named when submitting them).
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
        problem("kind", f"unknown kind of change {kind!r} ({', '.join(KIND_FIELDS)})")
        return CleanValues({}, None, None, errors)
    required, optional = KIND_FIELDS[kind]
    given = {k: _text(v) for k, v in raw.items() if _text(v)}
    for key in sorted(set(given) - set(required) - set(optional)):
        problem(key, f"a {kind} change does not set {key}")
    for key in required:
        if key not in given:
            problem(key, "required")
    if kind == K.CORRECTION and not any(k in given for k in CORRECTABLE):
        problem("values", "a correction changes at least one field: " + ", ".join(CORRECTABLE))

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
                problem(key, f"unknown {key.replace('_', ' ')} {given[key]!r} ({standard} code or name)")
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
            problem("registered_address", "the address is longer than 200 characters")
        else:
            values["registered_address"] = given["registered_address"]
    if "household_code" in given:
        if _HOUSEHOLD_RE.match(given["household_code"]):
            values["household_code"] = given["household_code"]
        else:
            problem("household_code", "a household number is 1–32 letters, digits or -")
    if "building_code" in given:
        if given["building_code"].isascii() and given["building_code"].isdigit():
            values["building_code"] = given["building_code"]
        else:
            problem("building_code", f"a building code is digits, not {given['building_code']!r}")
    for key in ("unit_number", "room_number"):
        if key in given:
            if _SHORT_RE.match(given[key]):
                values[key] = given[key]
            else:
                problem(key, f"{given[key]!r}: up to 8 letters, digits or -")
    if "lon" in given or "lat" in given:
        try:
            lon, lat = float(given.get("lon", "")), float(given.get("lat", ""))
        except ValueError:
            problem("lon", "longitude and latitude are decimal degrees, both given")
        else:
            if not (math.isfinite(lon) and math.isfinite(lat)):
                problem("lon", "coordinates must be finite numbers")
            elif not coords.in_city(lon, lat):
                problem("lon", f"coordinates ({lon}, {lat}) are outside the city")
            else:
                values["lon"], values["lat"] = lon, lat

    effective: dt.date | None = None
    if "effective_date" in given:
        try:
            effective = records.parse_date(given["effective_date"])
        except ValueError:
            problem("effective_date", f"not a date: {given['effective_date']!r}")
        else:
            if effective > today:
                problem("effective_date", "the date is in the future")
            elif ident is not None and effective < ident.birth_date:
                problem("effective_date", "the date is before the birth date")
    if kind == K.BIRTH and ident is not None:
        if effective is not None and effective != ident.birth_date:
            problem("effective_date", "a birth takes effect on the birth date of the ID number")
        effective = ident.birth_date
    if effective is not None:
        values["effective_date"] = effective.isoformat()
    return CleanValues(values, ident, effective, errors)


def person_fields(kind: str, values: Mapping[str, Any]) -> list[str]:
    """The names of the Person fields a change sets (what the change feed publishes)."""
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
