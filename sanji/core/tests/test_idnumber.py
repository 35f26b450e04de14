"""ID numbers (GB 11643-1999): comparing two numbers part by part, and naming the birthplace.
(The checks themselves are table-tested in ``sanji/population/tests/test_idnumber.py``.)"""

from __future__ import annotations

import datetime as dt

import pytest

from sanji.core import idnumber

BEFORE = idnumber.make("150102", dt.date(1992, 8, 8), 24)


@pytest.mark.parametrize(
    ("after", "parts"),
    [
        (BEFORE, ()),
        (idnumber.make("150102", dt.date(1992, 8, 9), 24), ("birth_date", "check")),
        (idnumber.make("150105", dt.date(1992, 8, 8), 24), ("address_code", "check")),
        (idnumber.make("150102", dt.date(1992, 8, 8), 25), ("sequence", "check")),
        (
            idnumber.make("110105", dt.date(1990, 1, 1), 1),
            ("address_code", "birth_date", "sequence", "check"),
        ),
    ],
)
def test_changed_parts(after: str, parts: tuple[str, ...]) -> None:
    if after[17] == BEFORE[17]:  # the check character may happen to stay
        parts = tuple(p for p in parts if p != "check")
    assert idnumber.changed_parts(BEFORE, after) == parts
    positions = idnumber.changed_positions(BEFORE, after)
    assert positions == {i for i in range(18) if BEFORE[i] != after[i]}
    assert idnumber.parts_at(positions) == parts


def test_a_shorter_number_differs_where_it_ends() -> None:
    assert idnumber.changed_positions("1501", "150102") == {4, 5}


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("150102", "内蒙古自治区呼和浩特市新城区"),
        ("150105", "内蒙古自治区呼和浩特市赛罕区"),  # 郊区 until 1999: the current name
        ("150100", "内蒙古自治区呼和浩特市"),  # the city itself
        ("150121", "内蒙古自治区呼和浩特市土默特左旗"),
        ("110105", "北京市朝阳区"),  # a municipality: no 市辖区 between
        ("500229", "重庆市城口县"),  # nor 县
        ("469001", "海南省五指山市"),  # a county-level city the province administers directly
        ("152601", "内蒙古自治区乌兰察布盟集宁市"),  # a historical code keeps its last names
        ("150000", "内蒙古自治区"),
        ("150199", ""),  # no such county
    ],
)
def test_address_name(code: str, name: str) -> None:
    assert idnumber.address_name(code) == name


def test_messages_are_translated_when_raised() -> None:
    from django.utils import translation

    with translation.override("zh-hans"), pytest.raises(idnumber.IdNumberError) as refused:
        idnumber.parse("110105194912310021", today=dt.date(2025, 6, 1))
    assert str(refused.value) == "校验码 1 错误（应为 X）"
