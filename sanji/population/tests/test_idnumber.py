"""ID numbers (GB 11643-1999): table-driven checks against python-stdnum."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from stdnum.cn import ric

from sanji.core import idnumber

TODAY = dt.date(2025, 6, 1)


@pytest.mark.parametrize(
    ("raw", "number", "sex", "birth"),
    [
        ("11010519491231002X", "11010519491231002X", "2", dt.date(1949, 12, 31)),
        ("11010519491231002x", "11010519491231002X", "2", dt.date(1949, 12, 31)),  # lower-case x
        (
            "１１０１０５１９４９１２３１００２Ｘ",
            "11010519491231002X",
            "2",
            dt.date(1949, 12, 31),
        ),  # full width
        (" 110105 19491231 002X ", "11010519491231002X", "2", dt.date(1949, 12, 31)),  # spaces
        ("110105\u30001949123100 2X", "11010519491231002X", "2", dt.date(1949, 12, 31)),  # ideographic space
        ("150102199003070015", "150102199003070015", "1", dt.date(1990, 3, 7)),
    ],
)
def test_valid_numbers_are_normalised(raw: str, number: str, sex: str, birth: dt.date) -> None:
    parsed = idnumber.parse(raw, today=TODAY)
    assert parsed.number == number
    assert parsed.sex == sex
    assert parsed.birth_date == birth
    assert ric.is_valid(parsed.number)
    assert not parsed.upgraded


def test_fifteen_digits_are_upgraded_and_kept() -> None:
    parsed = idnumber.parse("150102900307001", today=TODAY)
    assert parsed.upgraded
    assert parsed.original == "150102900307001"
    assert parsed.number == "15010219900307001" + ric.calc_check_digit("15010219900307001" + "0")
    assert parsed.birth_date == dt.date(1990, 3, 7)
    assert parsed.sex == "1"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "为空"),
        ("11010519491231002", "此号码为 17 位"),
        ("110105194912310021", "校验码 1 错误（应为 X）"),
        ("1101051949123100XX", "由 17 位数字和 1 位数字或 X 组成"),
        ("110105194902300027", "出生日期 19490230 不存在"),  # 30 February
        ("110105203001010011", "晚于今天"),
        ("110105187001010012", "早于 1880 年"),
        ("990105199001010011", "不存在代码为 99 的省级行政区"),
        ("150199199001010015", "不是 GB/T 2260 的县级行政区划代码"),
        ("15010290030700A", "15 位公民身份号码只能由数字组成"),
        ("١٥٠١٠٢١٩٩٠٠٣٠٧٠٠١٥", "含有数字和 X 以外的字符"),  # Arabic-Indic digits
    ],
)
def test_invalid_numbers_say_why(raw: str, reason: str) -> None:
    if raw and raw[-1].isdigit() and len(raw) == 18 and raw.isascii() and "校验码" not in reason:
        raw = raw[:17] + idnumber.check_char(raw[:17])  # only the named defect, not also the check
    with pytest.raises(idnumber.IdNumberError) as refused:
        idnumber.parse(raw, today=TODAY)
    assert reason in str(refused.value)


def test_check_char_agrees_with_stdnum() -> None:
    rng = random.Random(7)
    for _ in range(2000):
        first17 = "".join(str(rng.randint(0, 9)) for _ in range(17))
        assert idnumber.check_char(first17) == ric.calc_check_digit(first17 + "0")


def test_make_and_mask() -> None:
    number = idnumber.make("150102", dt.date(1985, 1, 2), 123)
    assert ric.is_valid(number)
    assert idnumber.mask(number) == f"150102********{number[-4:]}"
    assert len(idnumber.mask(number)) == 18
