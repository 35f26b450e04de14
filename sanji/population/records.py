"""The import row format and its checks: one row in, clean values or (line, field, reason) out. Pure.

The columns are documented in ``docs/population-import.md``; headers may be the English keys or
the Chinese titles of :data:`COLUMNS`. Every problem of a row is reported, not just the first.
Reasons are translated (Chinese msgids, the error report's language) only when a problem is found:
a good row builds no message.

Names: Han characters (CJK ideographs, including the extension blocks and 〇) with the middle dot
``·`` between the parts of a transliterated minority name (``阿拉坦·其其格``). Look-alike dots
(``•``, ``‧``, ``・``, ``･``, ``.``, ``．``) are normalised to ``·``; a dot may not start or end a
name or be doubled. Latin letters, digits and other symbols are rejected: the household register
writes minority and foreign-origin names in Han transliteration, so a Latin letter in this field
is a data-entry error, not a name. Surrounding spaces are removed; spaces inside are rejected.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import NamedTuple

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from sanji.core import idnumber
from sanji.population import codes, coords

#: (key, Chinese title, required). The order is the template's order.
COLUMNS: tuple[tuple[str, str, bool], ...] = (
    ("id_number", "公民身份号码", True),
    ("name", "姓名", True),
    ("sex", "性别", False),
    ("ethnicity", "民族", True),
    ("birth_date", "出生日期", False),
    ("birthplace_code", "出生地", False),
    ("marital_status", "婚姻状况", False),
    ("registered_code", "户籍地区划代码", True),
    ("registered_address", "户籍地址", False),
    ("building_code", "楼栋编码", True),
    ("unit_number", "单元", False),
    ("room_number", "室", False),
    ("household_code", "户号", True),
    ("relation", "与户主关系", True),
    ("status", "人员状态", False),
    ("status_date", "状态日期", False),
    ("source", "信息来源", False),
    ("source_date", "采集日期", False),
    ("verified", "公安核验", False),
    ("lon", "经度", False),
    ("lat", "纬度", False),
)
KEYS: tuple[str, ...] = tuple(c[0] for c in COLUMNS)
_BY_TITLE = {title: key for key, title, _ in COLUMNS}
REQUIRED = frozenset(key for key, _, required in COLUMNS if required)

MAX_NAME = 40
_DOTS = str.maketrans(dict.fromkeys("•‧・･.．∙⋅", "·"))
_HAN = "\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_NAME_RE = re.compile(f"^[{_HAN}]+(?:·[{_HAN}]+)*$")
#: A name that normalising leaves as it is and that passes :func:`name_problem` once its length is
#: 2 to MAX_NAME: Han characters but the compatibility ideographs (NFC changes those), parts joined
#: by "·" (:meth:`FastCheck.names_at_once`).
_PLAIN_NAME_RE = re.compile(
    "[\u3007\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0002f7ff\U0002fa20-\U0003134f]+"
    "(?:·[\u3007\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0002f7ff\U0002fa20-\U0003134f]+)*"
)
_HOUSEHOLD_RE = re.compile(r"^[0-9A-Za-z-]{1,32}$")
_SHORT_RE = re.compile(r"^[0-9A-Za-z-]{1,8}$")
_TRUE = frozenset({"1", "是", "y", "yes", "true", "已核验"})
_FALSE = frozenset({"", "0", "否", "n", "no", "false", "未核验"})


class RowError(NamedTuple):
    line: int
    field: str
    reason: str


class HeaderError(ValueError):
    """The header row is unusable; nothing of the file can be read."""


class ColumnIndex(dict[str, int]):
    """Column key → position, with every key's position precomputed (-1: absent)."""

    def __init__(self, mapping: Mapping[str, int]) -> None:
        super().__init__(mapping)
        self.positions: tuple[int, ...] = tuple(self.get(k, -1) for k in KEYS)
        self.width = max(self.values(), default=-1) + 1
        # The template's own order: rows need no reordering (the bulk path's common case).
        self.identity = self.positions == tuple(range(len(KEYS)))


def header_index(cells: Sequence[str]) -> ColumnIndex:
    """Map column keys to positions; raise :class:`HeaderError` for unknown or missing columns."""
    index: dict[str, int] = {}
    unknown = []
    for i, raw in enumerate(cells):
        title = unicodedata.normalize("NFKC", str(raw or "")).strip().removeprefix("\ufeff")
        key = title.lower() if title.lower() in KEYS else _BY_TITLE.get(title)
        if key is None:
            if title:
                unknown.append(title)
            continue
        if key in index:
            raise HeaderError(_("列“%(title)s”出现了两次") % {"title": title})
        index[key] = i
    missing = [k for k in KEYS if k in REQUIRED and k not in index]
    if missing or unknown:
        parts = []
        if missing:
            parts.append(
                _("缺少必填列：%(columns)s") % {"columns": pgettext("list separator", "、").join(missing)}
            )
        if unknown:
            parts.append(
                _("无法识别的列：%(columns)s") % {"columns": pgettext("list separator", "、").join(unknown)}
            )
        raise HeaderError(pgettext("clause separator", "；").join(parts))
    return ColumnIndex(index)


@dataclass(frozen=True, slots=True)
class PlaceRef:
    """What a row needs to know about a building: its id, community path and code."""

    building_id: int
    region_path: str
    community_code: str


@dataclass(frozen=True, slots=True)
class Context:
    today: dt.date
    buildings: Mapping[str, PlaceRef]
    #: The platform's own division codes (city, districts, townships, communities): a registered
    #: residence inside the city must be one of them (:func:`registered_code_problem`).
    regions: frozenset[str] = frozenset()
    bounds: tuple[float, float, float, float] = coords.HOHHOT_BOUNDS
    default_source: str = "import"
    extra: dict[str, str] = field(default_factory=dict)


def registered_code_problem(code: str, regions: frozenset[str] = frozenset()) -> str | None:
    """Why ``code`` cannot be a registered residence (户籍地区划代码), or None.

    A division code of 6, 9 or 12 digits. People registered anywhere in China live here, so its
    first six digits must be a county-level code of GB/T 2260 (current or historical, as for ID
    numbers); inside the platform's own counties (``regions``, the platform's division codes) the
    whole code must be one of the platform's divisions."""
    if not (code.isascii() and code.isdigit() and len(code) in (6, 9, 12)):
        return _("区划代码应为 6、9 或 12 位数字，而不是“%(code)s”") % {"code": code}
    county = code[:6]
    if county in regions:
        return None if code in regions else _("%(code)s 不是本市的行政区划代码") % {"code": code}
    if county[:2] not in idnumber.PROVINCES or not idnumber.address_code_known(county):
        return _("%(code)s 不是县级行政区划代码（GB/T 2260）") % {"code": county}
    return None


class Clean(NamedTuple):
    """A row that passed every check, with values in their stored form."""

    line: int
    id: idnumber.IdNumber
    name: str
    sex: str
    ethnicity: str
    birth_date: dt.date
    birthplace_code: str
    marital_status: str
    registered_code: str
    registered_address: str
    registered_locally: bool
    household_code: str
    relation: str
    building_id: int
    region_path: str
    unit_number: str
    room_number: str
    status: str
    status_date: dt.date | None
    source: str
    source_date: dt.date | None
    verified: bool
    lon: float | None
    lat: float | None


def normalise_name(raw: str) -> str:
    return unicodedata.normalize("NFC", raw).strip(" \t\u3000\u00a0").translate(_DOTS)


def name_problem(name: str) -> str | None:
    if not name:
        return _("姓名为空")
    if len(name) > MAX_NAME:
        return _("姓名超过 %(max)d 个字") % {"max": MAX_NAME}
    if not _NAME_RE.match(name):
        bad = sorted({c for c in name if c != "·" and not re.match(f"[{_HAN}]", c)})
        if bad:
            return _("姓名含有汉字和“·”以外的字符：%(chars)s") % {"chars": " ".join(f"“{c}”" for c in bad)}
        return _("“·”只能位于姓名的两部分之间")
    if len(name.replace("·", "")) < 2:
        return _("姓名至少两个字")
    return None


def parse_date(raw: str) -> dt.date:
    """``YYYY-MM-DD``, ``YYYY/MM/DD``, ``YYYY.MM.DD`` or ``YYYYMMDD`` (a time part is ignored)."""
    text = unicodedata.normalize("NFKC", raw).strip().split(" ")[0].split("T")[0]
    if len(text) == 8 and text.isdigit():
        return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
    parts = re.split(r"[-/.年月日]", text.rstrip("日"))
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise ValueError(f"not a date: {raw!r}")
    return dt.date(int(parts[0]), int(parts[1]), int(parts[2]))


_SEX = codes._LOOKUPS["sex"]
_ETHNICITY = codes._LOOKUPS["ethnicity"]
_MARITAL = codes._LOOKUPS["marital_status"]
_RELATION = codes._LOOKUPS["relation"]
_STATUS = codes._LOOKUPS["status"]


def _date_or_none(text: str) -> dt.date:
    if len(text) == 10 and text[4] == "-" and text[7] == "-":
        return dt.date.fromisoformat(text)
    return parse_date(text)


def check(
    cells: Sequence[str], line: int, index: ColumnIndex, ctx: Context, *, stripped: bool = False
) -> tuple[Clean | None, list[RowError]]:
    """Check one row of strings. Returns the clean row (or None) and every problem found.

    ``stripped``: the caller knows no cell has surrounding whitespace (skips stripping).
    """
    errors: list[RowError] = []
    values = list(cells) if stripped else [c.strip() for c in cells]
    if len(values) == len(KEYS) and index.identity:
        fields = values
    else:
        if len(values) < index.width:
            values.extend([""] * (index.width - len(values)))
        values.append("")  # position -1: an absent optional column
        fields = [values[i] for i in index.positions]
    (
        raw_id, raw_name, raw_sex, raw_eth, raw_birth, raw_birthplace, raw_marital, registered,
        registered_address, building_code, unit_number, room_number, household, raw_relation,
        raw_status, raw_status_date, raw_source, raw_source_date, raw_verified, raw_lon, raw_lat,
    ) = fields  # fmt: skip

    ident: idnumber.IdNumber | None = None
    try:
        ident = idnumber.parse(raw_id, today=ctx.today)
    except idnumber.IdNumberError as exc:
        errors.append(RowError(line, "id_number", str(exc)))

    name = normalise_name(raw_name)
    problem = name_problem(name)
    if problem:
        errors.append(RowError(line, "name", problem))

    sex = ident.sex if ident else ""
    if raw_sex:
        code = _SEX.get(raw_sex)
        if code is None:
            errors.append(
                RowError(
                    line,
                    "sex",
                    _("无法识别的性别“%(value)s”（GB/T 2261.1：1 男、2 女、5、6、0 或 9）")
                    % {"value": raw_sex},
                )
            )
        elif ident and ident.sex not in codes.SEX_AGREES_WITH[code]:
            errors.append(
                RowError(
                    line,
                    "sex",
                    _("性别“%(value)s”与公民身份号码（%(sex)s）不符")
                    % {"value": raw_sex, "sex": codes.SEX[ident.sex]},
                )
            )

    ethnicity = _ETHNICITY.get(raw_eth, "")
    if not ethnicity:
        errors.append(
            RowError(
                line,
                "ethnicity",
                _("无法识别的民族“%(value)s”（应为 GB/T 3304 代码或名称）") % {"value": raw_eth},
            )
        )

    if raw_birth and not (ident and raw_birth == ident.birth_date.isoformat()):
        try:
            birth = _date_or_none(raw_birth)
        except ValueError:
            errors.append(RowError(line, "birth_date", _("不是日期：“%(value)s”") % {"value": raw_birth}))
        else:
            if ident and birth != ident.birth_date:
                errors.append(
                    RowError(
                        line,
                        "birth_date",
                        _("出生日期 %(date)s 与公民身份号码不符") % {"date": birth.isoformat()},
                    )
                )

    if raw_birthplace and ident and raw_birthplace != ident.address_code:
        errors.append(
            RowError(
                line,
                "birthplace_code",
                _("出生地 %(value)s 与公民身份号码的地址码 %(code)s 不符")
                % {"value": raw_birthplace, "code": ident.address_code},
            )
        )

    marital = "90"
    if raw_marital:
        marital = _MARITAL.get(raw_marital, "")
        if not marital:
            errors.append(
                RowError(
                    line,
                    "marital_status",
                    _("无法识别的婚姻状况“%(value)s”（GB/T 2261.2）") % {"value": raw_marital},
                )
            )

    registered_problem = registered_code_problem(registered, ctx.regions)
    if registered_problem:
        errors.append(RowError(line, "registered_code", registered_problem))
    if len(registered_address) > 200:
        errors.append(RowError(line, "registered_address", _("地址超过 %(max)d 个字") % {"max": 200}))

    place = ctx.buildings.get(building_code)
    if place is None:
        errors.append(
            RowError(
                line,
                "building_code",
                _("未知的楼栋编码“%(value)s”（请先建立或导入地点数据）") % {"value": building_code},
            )
        )

    for key, value in (("unit_number", unit_number), ("room_number", room_number)):
        if value and not _SHORT_RE.match(value):
            errors.append(RowError(line, key, _("“%(value)s”：最多 8 个字母、数字或 -") % {"value": value}))

    if not _HOUSEHOLD_RE.match(household):
        errors.append(
            RowError(
                line,
                "household_code",
                _("户号应为 1–32 个字母、数字或 -，而不是“%(value)s”") % {"value": household},
            )
        )

    relation = _RELATION.get(raw_relation, "")
    if not relation:
        errors.append(
            RowError(
                line, "relation", _("无法识别的与户主关系“%(value)s”（GB/T 4761）") % {"value": raw_relation}
            )
        )

    status = "living"
    if raw_status:
        status = _STATUS.get(raw_status, "")
        if not status:
            errors.append(
                RowError(
                    line,
                    "status",
                    _("无法识别的人员状态“%(value)s”（正常、死亡、迁出、注销）") % {"value": raw_status},
                )
            )
    status_date: dt.date | None = None
    if raw_status_date:
        try:
            status_date = _date_or_none(raw_status_date)
        except ValueError:
            errors.append(
                RowError(line, "status_date", _("不是日期：“%(value)s”") % {"value": raw_status_date})
            )
        else:
            if status_date > ctx.today:
                errors.append(RowError(line, "status_date", _("状态日期晚于今天")))
            elif ident and status_date < ident.birth_date:
                errors.append(RowError(line, "status_date", _("状态日期早于出生日期")))
    elif status not in ("living", ""):
        errors.append(
            RowError(
                line,
                "status_date",
                _("人员状态为“%(status)s”时须填写状态日期") % {"status": codes.STATUS.get(status, status)},
            )
        )

    source = raw_source or ctx.default_source
    if len(source) > 40:
        errors.append(RowError(line, "source", _("信息来源超过 %(max)d 个字") % {"max": 40}))
    source_date: dt.date | None = None
    if raw_source_date:
        try:
            source_date = _date_or_none(raw_source_date)
        except ValueError:
            errors.append(
                RowError(line, "source_date", _("不是日期：“%(value)s”") % {"value": raw_source_date})
            )
        else:
            if source_date > ctx.today:
                errors.append(RowError(line, "source_date", _("采集日期晚于今天")))

    verified = raw_verified in _TRUE
    if not verified and raw_verified.lower() not in _FALSE:
        verified = raw_verified.lower() in _TRUE
        if not verified:
            errors.append(
                RowError(line, "verified", _("“%(value)s”：应为 是/否 或 1/0") % {"value": raw_verified})
            )

    lon: float | None = None
    lat: float | None = None
    if raw_lon or raw_lat:
        try:
            lon, lat = float(raw_lon), float(raw_lat)
        except ValueError:
            field_name = "lon" if not _is_float(raw_lon) else "lat"
            errors.append(RowError(line, field_name, _("经度和纬度须同时填写，且为十进制度数")))
        else:
            if not (math.isfinite(lon) and math.isfinite(lat)):
                errors.append(RowError(line, "lon", _("坐标必须是有限的数值")))
            elif not coords.in_city(lon, lat, ctx.bounds):
                errors.append(
                    RowError(
                        line, "lon", _("坐标（%(lon)s，%(lat)s）不在本市范围内") % {"lon": lon, "lat": lat}
                    )
                )

    if errors or ident is None or place is None:
        return None, errors
    community = place.community_code
    locally = community == registered or (len(registered) < 12 and community.startswith(registered))
    return (
        Clean(
            line, ident, name, sex, ethnicity, ident.birth_date, ident.address_code, marital, registered,
            registered_address, locally, household, relation, place.building_id, place.region_path,
            unit_number, room_number, status, status_date, source, source_date, verified, lon, lat,
        ),
        [],
    )  # fmt: skip


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# --- the bulk fast path ------------------------------------------------------------------------

_WHITESPACE_RE = re.compile(r"\s")
_CHECK_BY_VALUE = "0123456789X"
_IdNumber = idnumber.IdNumber
_new_id = object.__new__
_set = object.__setattr__
_new_tuple = tuple.__new__


class FastCheck:
    """:func:`check` for the common row, with per-value caches: a bulk import calls it millions of times.

    ``clean(cells, line)`` returns exactly the :class:`Clean` that :func:`check` returns for the row,
    or None when the row is anything but plain (a cell with whitespace, a lower-case ``x``, a 15-digit
    number, a date in another format, coordinates, any problem at all ...): the caller then runs
    :func:`check`, which produces the result and the error messages. So every row gets
    :func:`check`'s answer; this class only answers the easy ones sooner. The test suite pins the
    two together on generated and deliberately odd rows.
    """

    def __init__(self, index: ColumnIndex, ctx: Context) -> None:
        self.usable = index.identity  # template column order only; other orders go through check()
        self.ctx = ctx
        # Every real date from 1880-01-01 to today, as YYYYMMDD (ID numbers) and YYYY-MM-DD.
        self.dates: dict[str, dt.date] = {}
        self.iso: dict[str, dt.date] = {}
        day = idnumber.EARLIEST_BIRTH
        one = dt.timedelta(days=1)
        while day <= ctx.today:
            self.dates[f"{day:%Y%m%d}"] = day
            self.iso[day.isoformat()] = day
            day += one
        #: The same dates, YYYYMMDD → YYYY-MM-DD (the batch path compares ISO text: same order).
        self.birth_iso: dict[str, str] = {k: v.isoformat() for k, v in self.dates.items()}
        self.registered: set[str] = set()  # registered-residence codes seen to be good
        self.addresses: dict[str, bool] = {}
        self.names: dict[str, str | None] = {}  # raw → normalised name, None when it has a problem
        self.short: set[str] = {""}  # unit and room numbers seen to be good
        self.verified: dict[str, bool | None] = {}

    def _address(self, code: str) -> bool:
        known = code[:2] in idnumber.PROVINCES and idnumber.address_code_known(code)
        self.addresses[code] = known
        return known

    def _name(self, raw: str) -> str | None:
        name: str | None = normalise_name(raw)
        if name is None or name_problem(name) is not None:
            name = None
        if len(self.names) < 500_000:
            self.names[raw] = name
        return name

    def names_at_once(self, raws: Iterable[str]) -> dict[str, str | None]:
        """:meth:`_name` of many names, the plain ones (most) by one regular-expression match each."""
        plain = _PLAIN_NAME_RE.fullmatch
        out = {
            raw: raw if 2 <= len(raw) <= MAX_NAME and plain(raw) is not None else self._name(raw)
            for raw in raws
        }
        room = 500_000 - len(self.names)
        if room >= len(out):
            self.names.update(out)
        elif room > 0:
            self.names.update(islice(out.items(), room))
        return out

    def _verified(self, raw: str) -> bool | None:
        # check()'s rule: a true word, else a false word (any case), else a true word in any case.
        if raw in _TRUE:
            value: bool | None = True
        elif raw.lower() in _FALSE:
            value = False
        else:
            value = True if raw.lower() in _TRUE else None
        if len(self.verified) < 1000:
            self.verified[raw] = value
        return value

    def _registered(self, value: str) -> bool:
        ok = registered_code_problem(value, self.ctx.regions) is None
        if ok and len(self.registered) < 100_000:
            self.registered.add(value)
        return ok

    def _short(self, value: str) -> bool:
        ok = bool(_SHORT_RE.match(value))
        if ok and len(self.short) < 100_000:
            self.short.add(value)
        return ok

    def clean(self, cells: Sequence[str], line: int) -> Clean | None:
        if len(cells) != 21 or not self.usable:  # 21: len(KEYS)
            return None
        (
            raw_id, raw_name, raw_sex, raw_eth, raw_birth, raw_birthplace, raw_marital, registered,
            registered_address, building_code, unit_number, room_number, household, raw_relation,
            raw_status, raw_status_date, raw_source, raw_source_date, raw_verified, raw_lon, raw_lat,
        ) = cells  # fmt: skip
        # The ID number: 17 digits and a digit or X, right check character, real date, known place.
        birth = self.dates.get(raw_id[6:14])
        if birth is None or raw_lon or raw_lat or len(raw_id) != 18:
            return None
        if not (raw_id.isascii() and raw_id[:17].isdigit()):
            return None
        if raw_id[17] != _CHECK_BY_VALUE[(1 - 2 * int(raw_id[:17], 13)) % 11]:  # idnumber.check_char
            return None
        address = raw_id[:6]
        known = self.addresses.get(address)
        if not (known or (known is None and self._address(address))):
            return None
        sex = "1" if raw_id[16] in "13579" else "2"
        name = self.names.get(raw_name, "")
        if name == "":
            name = self._name(raw_name)
        if name is None:
            return None
        if raw_sex and sex not in codes.SEX_AGREES_WITH.get(_SEX.get(raw_sex) or "", ()):
            return None
        ethnicity = _ETHNICITY.get(raw_eth)
        if not ethnicity:
            return None
        iso = self.iso
        if raw_birth and iso.get(raw_birth) != birth:
            return None
        if raw_birthplace and raw_birthplace != address:
            return None
        marital = _MARITAL.get(raw_marital) if raw_marital else "90"
        if not marital:
            return None
        if registered not in self.registered and not self._registered(registered):
            return None
        if len(registered_address) > 200:
            return None
        place = self.ctx.buildings.get(building_code)
        if place is None:
            return None
        short = self.short
        if unit_number not in short and not self._short(unit_number):
            return None
        if room_number not in short and not self._short(room_number):
            return None
        if not _HOUSEHOLD_RE.match(household):
            return None
        relation = _RELATION.get(raw_relation)
        if not relation:
            return None
        status = _STATUS.get(raw_status) if raw_status else "living"
        if not status:
            return None
        status_date: dt.date | None = None
        if raw_status_date:
            status_date = iso.get(raw_status_date)
            if status_date is None or status_date < birth:
                return None
        elif status != "living":
            return None
        source = raw_source or self.ctx.default_source
        if len(source) > 40:
            return None
        source_date: dt.date | None = None
        if raw_source_date:
            source_date = iso.get(raw_source_date)
            if source_date is None:
                return None
        verified = self.verified.get(raw_verified, 0)
        if verified == 0 and not isinstance(verified, bool):
            verified = self._verified(raw_verified)
        if verified is None:
            return None
        community = place.community_code
        locally = community == registered or (len(registered) < 12 and community.startswith(registered))
        # The same objects as check() builds, without the Python-level constructors (a third
        # of this function's time): a frozen dataclass's __init__ and a NamedTuple's __new__.
        ident = _new_id(_IdNumber)
        _set(ident, "number", raw_id)
        _set(ident, "original", raw_id)
        _set(ident, "birth_date", birth)
        _set(ident, "sex", sex)
        _set(ident, "address_code", address)
        return _new_tuple(
            Clean,
            (
                line, ident, name, sex, ethnicity, birth, address, marital, registered, registered_address,
                locally, household, relation, place.building_id, place.region_path, unit_number,
                room_number, status, status_date, source, source_date, bool(verified), None, None,
            ),
        )  # fmt: skip

    @staticmethod
    def plain(text: str) -> bool:
        """No whitespace anywhere in the line: no cell needs stripping (``check(..., stripped=True)``)."""
        return _WHITESPACE_RE.search(text) is None
