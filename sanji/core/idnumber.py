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
from dataclasses import dataclass
from functools import lru_cache

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
    """The number is not a valid citizen ID number; the message says why (in English)."""


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
        raise IdNumberError("the ID number is empty")
    if not original.isascii():
        raise IdNumberError("the ID number has characters other than digits and X")
    if len(original) == 15:
        if not original.isdigit():
            raise IdNumberError("a 15-digit ID number has digits only")
        number = upgrade(original)
    elif len(original) == 18:
        number = original
        if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
            raise IdNumberError("an 18-digit ID number is 17 digits and a digit or X")
        expected = check_char(number[:17])
        if number[17] != expected:
            raise IdNumberError(f"wrong check character {number[17]} (expected {expected})")
    else:
        raise IdNumberError(f"an ID number has 18 digits (or 15 before 1999), this one has {len(original)}")
    try:
        birth = _date(number[6:14])
    except ValueError:
        raise IdNumberError(f"impossible birth date {number[6:14]}") from None
    if birth > today:
        raise IdNumberError(f"birth date {birth.isoformat()} is in the future")
    if birth < EARLIEST_BIRTH:
        raise IdNumberError(f"birth date {birth.isoformat()} is before {EARLIEST_BIRTH.year}")
    address = number[:6]
    if address[:2] not in PROVINCES:
        raise IdNumberError(f"no province has code {address[:2]}")
    if not address_code_known(address):
        raise IdNumberError(f"address code {address} is not a GB/T 2260 county code")
    sex = "1" if int(number[16]) % 2 == 1 else "2"
    return IdNumber(number=number, original=original, birth_date=birth, sex=sex, address_code=address)


def make(address_code: str, birth: dt.date, sequence: int) -> str:
    """Build a valid 18-digit number (tests and the generator): ``sequence`` 0–999, odd for men."""
    first17 = f"{address_code}{birth:%Y%m%d}{sequence:03d}"
    return first17 + check_char(first17)
