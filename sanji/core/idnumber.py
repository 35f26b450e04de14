"""Citizen ID numbers (公民身份号码, GB 11643-1999): normalise, check, upgrade 15 → 18 digits. Pure.

An 18-digit number is ``AAAAAA YYYYMMDD SSS C``: the 6-digit address code (GB/T 2260, the place of
first registration), the birth date, a sequence number whose last digit is odd for men and even
for women, and an ISO 7064 MOD 11-2 check character (``0``–``9`` or ``X``). Numbers issued before
1999 had 15 digits (``AAAAAA YYMMDD SSS``, 19xx births, no check character); they are upgraded by
inserting ``19`` and computing the check character, and the original is kept beside the upgrade.

Checks: format, the check character, a real birth date not in the future (and not before 1880),
a province code that exists, and an address code known to GB/T 2260 (current or historical, from
python-stdnum's table). The address check is only that the code exists: IDs were issued from 1984
on, so people born before a county got its code still carry it, which is why stdnum's year test
is not applied. The check digit is computed here rather than with ``stdnum.cn.ric.validate``
because a bulk import calls this millions of times; the test suite pins it to stdnum's result.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from django.utils.translation import gettext as _

#: ISO 7064 MOD 11-2 weights of the first 17 digits.
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"  # indexed by (weighted sum mod 11)

#: Province-level codes (the first two digits) in GB/T 2260.
PROVINCES = frozenset(
    [
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
    ]
)

EARLIEST_BIRTH = dt.date(1880, 1, 1)

# Spaces of every width, and the separators people type into numbers.
_STRIP = dict.fromkeys(map(ord, " \t\r\n\u3000\u00a0-"), None)


class IdNumberError(ValueError):
    """The number is not a valid citizen ID number; the message says why.

    The message is translated when raised (Chinese msgids): pages and the import's error report
    show it verbatim. Only a bad number pays for the translation; a good one never builds it.
    """


@dataclass(frozen=True, slots=True)
class IdNumber:
    """A checked number: always the 18-digit form; ``original`` is the 15-digit form when upgraded."""

    number: str
    original: str
    birth_date: dt.date
    sex: str  # GB/T 2261.1: "1" male, "2" female
    address_code: str

    @property
    def upgraded(self) -> bool:
        return self.original != self.number

    @property
    def masked(self) -> str:
        return mask(self.number)


def normalise(raw: str) -> str:
    """Full-width digits and letters to ASCII (NFKC), spaces and hyphens removed, ``x`` → ``X``."""
    return unicodedata.normalize("NFKC", raw).translate(_STRIP).upper()


def check_char(first17: str) -> str:
    """The check character of the first 17 digits (ISO 7064 MOD 11-2).

    The weights are 2^(17-i) mod 11, so the weighted sum is the 17 digits read in base 13 (≡ 2
    mod 11) times 2; ``(1 - 2·n) mod 11`` is the check value (the trick python-stdnum uses).
    """
    value = (1 - 2 * int(first17, 13)) % 11
    return "X" if value == 10 else str(value)


def upgrade(number15: str) -> str:
    """The 18-digit form of a 15-digit number (born 19YY)."""
    first17 = number15[:6] + "19" + number15[6:]
    return first17 + check_char(first17)


@lru_cache(maxsize=65536)
def _date(yyyymmdd: str) -> dt.date:
    return dt.date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:]))


def mask(number: str) -> str:
    """The form shown in lists: address code and last four kept, ``150102********1237``."""
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


@lru_cache(maxsize=8192)
def address_code_known(code: str) -> bool:
    """Is this 6-digit code a county-level code of GB/T 2260 (current or historical)?"""
    from stdnum import numdb

    info = {k: v for _, props in numdb.get("cn/loc").info(code) for k, v in props.items()}
    return "county" in info


def parse(raw: str, *, today: dt.date) -> IdNumber:
    """Normalise and check ``raw``; raise :class:`IdNumberError` naming the first problem."""
    # Fast path: already 18 plain ASCII characters (the usual case in bulk files).
    original = raw.upper() if len(raw) == 18 and raw.isascii() and raw.isalnum() else normalise(raw)
    if not original:
        raise IdNumberError(_("公民身份号码为空"))
    if not original.isascii():
        raise IdNumberError(_("公民身份号码含有数字和 X 以外的字符"))
    if len(original) == 15:
        if not original.isdigit():
            raise IdNumberError(_("15 位公民身份号码只能由数字组成"))
        number = upgrade(original)
    elif len(original) == 18:
        number = original
        if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
            raise IdNumberError(_("18 位公民身份号码由 17 位数字和 1 位数字或 X 组成"))
        expected = check_char(number[:17])
        if number[17] != expected:
            raise IdNumberError(
                _("校验码 %(found)s 错误（应为 %(expected)s）") % {"found": number[17], "expected": expected}
            )
    else:
        raise IdNumberError(
            _("公民身份号码应为 18 位（1999 年前签发的为 15 位），此号码为 %(length)d 位")
            % {"length": len(original)}
        )
    try:
        birth = _date(number[6:14])
    except ValueError:
        raise IdNumberError(_("出生日期 %(date)s 不存在") % {"date": number[6:14]}) from None
    if birth > today:
        raise IdNumberError(_("出生日期 %(date)s 晚于今天") % {"date": birth.isoformat()})
    if birth < EARLIEST_BIRTH:
        raise IdNumberError(
            _("出生日期 %(date)s 早于 %(year)d 年") % {"date": birth.isoformat(), "year": EARLIEST_BIRTH.year}
        )
    address = number[:6]
    if address[:2] not in PROVINCES:
        raise IdNumberError(_("不存在代码为 %(code)s 的省级行政区") % {"code": address[:2]})
    if not address_code_known(address):
        raise IdNumberError(_("地址码 %(code)s 不是 GB/T 2260 的县级行政区划代码") % {"code": address})
    sex = "1" if int(number[16]) % 2 == 1 else "2"
    return IdNumber(number=number, original=original, birth_date=birth, sex=sex, address_code=address)


def make(address_code: str, birth: dt.date, sequence: int) -> str:
    """Build a valid 18-digit number (tests and the generator): ``sequence`` 0–999, odd for men."""
    first17 = f"{address_code}{birth:%Y%m%d}{sequence:03d}"
    return first17 + check_char(first17)


#: The parts of an 18-digit number (GB 11643-1999 §4): name, start, end (slice bounds).
PARTS: tuple[tuple[str, int, int], ...] = (
    ("address_code", 0, 6),  # 地址码
    ("birth_date", 6, 14),  # 出生日期码
    ("sequence", 14, 17),  # 顺序码 (the last digit gives the sex)
    ("check", 17, 18),  # 校验码
)


def changed_positions(before: str, after: str) -> frozenset[int]:
    """The positions (0-based) where two numbers differ; a missing character counts as different."""
    width = max(len(before), len(after))
    return frozenset(i for i in range(width) if before[i : i + 1] != after[i : i + 1])


def parts_at(positions: Iterable[int]) -> tuple[str, ...]:
    """The names of the :data:`PARTS` holding any of these positions, in order."""
    held = frozenset(positions)
    return tuple(name for name, start, end in PARTS if any(start <= i < end for i in held))


def changed_parts(before: str, after: str) -> tuple[str, ...]:
    """The names of the :data:`PARTS` in which two 18-digit numbers differ, in order."""
    return parts_at(changed_positions(before, after))


def _latest_name(text: str) -> str:
    """The current (last) name of a python-stdnum entry such as ``[1983-1999]郊区,[2000-]赛罕区``."""
    return text.rsplit(",", 1)[-1].rsplit("]", 1)[-1]


@lru_cache(maxsize=4096)
def address_name(code: str) -> str:
    """The province, prefecture and county a 6-digit address code names
    (``内蒙古自治区呼和浩特市赛罕区``), or ``""``.

    From python-stdnum's GB/T 2260 table (current and historical codes): the birthplace an ID
    number records, wherever in China it is. The prefecture (地级, the code's first four digits
    with ``00``) is named unless it is only a grouping — the municipalities' 市辖区 and 县, the
    provinces' directly administered counties (省直辖县级行政单位) — and a province's own code
    names the province alone.
    """
    from stdnum import numdb

    table = numdb.get("cn/loc")
    info = {k: v for _, props in table.info(code) for k, v in props.items()}
    if "county" not in info:
        return ""
    province = _latest_name(info.get("province", ""))
    county = _latest_name(info["county"])
    if code[2:] == "0000":
        return province
    prefecture = ""
    if code[4:] != "00":
        above = {k: v for _, props in table.info(code[:4] + "00") for k, v in props.items()}
        prefecture = _latest_name(above.get("county", ""))
        if prefecture in ("市辖区", "县") or prefecture.endswith("直辖县级行政单位"):
            prefecture = ""
    return province + prefecture + county
