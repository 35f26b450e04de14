"""The checks of a change's values, table-driven (pure: no database rows)."""

from __future__ import annotations

import datetime as dt

import pytest

from sanji.core import idnumber
from sanji.population import change_values
from sanji.population.change_values import clean

TODAY = dt.date(2026, 3, 3)
GOOD_ID = idnumber.make("150105", dt.date(1990, 3, 7), 123)
BAD_CHECK = GOOD_ID[:17] + ("0" if GOOD_ID[17] != "0" else "1")
FULL_WIDTH = GOOD_ID.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))
X_ID = next(n for s in range(1, 999) if (n := idnumber.make("150105", dt.date(1991, 1, 1), s)).endswith("X"))
FUTURE_ID = idnumber.make("150105", dt.date(2026, 5, 1), 11)
IMPOSSIBLE_ID = "15010519900230" + "123"
IMPOSSIBLE_ID += idnumber.check_char(IMPOSSIBLE_ID)
MOVE_IN = {
    "id_number": GOOD_ID,
    "name": "张伟",
    "ethnicity": "01",
    "registered_code": "110105",
    "household_code": "H-1",
    "relation": "02",
    "effective_date": "2026-03-01",
}


@pytest.mark.parametrize(
    ("kind", "changes", "field", "reason_part"),
    [
        ("move_in", {"id_number": BAD_CHECK}, "id_number", "校验码"),
        ("move_in", {"id_number": IMPOSSIBLE_ID}, "id_number", "不存在"),
        ("move_in", {"id_number": FUTURE_ID}, "id_number", "晚于今天"),
        ("move_in", {"id_number": "12345"}, "id_number", "应为 18 位"),
        ("move_in", {"name": "张伟1"}, "name", "汉字和“·”以外"),
        ("move_in", {"name": "John"}, "name", "汉字和“·”以外"),
        ("move_in", {"name": "·其其格"}, "name", "两部分之间"),
        ("move_in", {"name": "阿拉坦··其其格"}, "name", "两部分之间"),
        ("move_in", {"name": "张 伟"}, "name", "汉字和“·”以外"),
        ("move_in", {"name": "张"}, "name", "至少两个字"),
        ("move_in", {"ethnicity": "99"}, "ethnicity", "GB/T 3304"),
        ("move_in", {"relation": "火星人"}, "relation", "GB/T 4761"),
        ("move_in", {"marital_status": "55"}, "marital_status", "GB/T 2261.2"),
        ("move_in", {"registered_code": "1501"}, "registered_code", "6、9 或 12 位数字"),
        ("move_in", {"registered_code": "999999001"}, "registered_code", "GB/T 2260"),
        ("move_in", {"household_code": "户 1"}, "household_code", "户号应为"),
        ("move_in", {"building_code": "B-1"}, "building_code", "应为数字"),
        ("move_in", {"lon": "116.39", "lat": "39.91"}, "lon", "不在本市范围内"),
        ("move_in", {"lon": "111.7"}, "lon", "须同时填写"),
        ("move_in", {"lon": "nan", "lat": "40.8"}, "lon", "有限的数值"),
        ("move_in", {"effective_date": "2026-13-01"}, "effective_date", "不是日期"),
        ("move_in", {"effective_date": "2026-03-04"}, "effective_date", "晚于今天"),
        ("move_in", {"effective_date": "1980-01-01"}, "effective_date", "早于出生日期"),
        ("move_in", {"effective_date": ""}, "effective_date", "必填"),
        ("move_in", {"status": "living"}, "status", "迁入不变更人员状态"),
        ("death", {}, "effective_date", "必填"),
        ("birth", {"effective_date": "2026-01-01"}, "effective_date", "公民身份号码中的出生日期"),
        ("correction", {}, "values", "至少变更一项"),
        ("teleport", {}, "kind", "未知的变动类别"),
    ],
)
def test_bad_values_are_reported_with_their_field(kind, changes, field, reason_part) -> None:
    base = {
        "move_in": MOVE_IN,
        "death": {},
        "correction": {},
        "teleport": {},
        "birth": {**{k: v for k, v in MOVE_IN.items() if k not in ("registered_code", "effective_date")}},
    }[kind]
    result = clean(kind, {**base, **changes}, today=TODAY)
    assert any(e["field"] == field and reason_part in e["reason"] for e in result.errors), result.errors
    # A missing value also says so for programs, in the detail's code (reasons are for people).
    if reason_part == "必填":
        assert {"field": field, "reason": "必填", "code": "required"} in result.errors


def test_good_values_are_normalised() -> None:
    result = clean(
        "move_in",
        {
            **MOVE_IN,
            "id_number": f" {FULL_WIDTH[:6]} {FULL_WIDTH[6:]} ",
            "name": " 阿拉坦•其其格 ",
            "ethnicity": "蒙古族",
            "relation": "妻",
            "marital_status": "已婚",
            "lon": 111.7,
            "lat": "40.8",
            "effective_date": "2026/03/01",
        },
        today=TODAY,
    )
    assert result.errors == []
    assert result.ident is not None
    assert result.ident.number == GOOD_ID
    assert result.values == {
        "id_number": idnumber.mask(GOOD_ID),
        "name": "阿拉坦·其其格",
        "ethnicity": "02",
        "registered_code": "110105",
        "household_code": "H-1",
        "relation": "12",
        "marital_status": "20",
        "lon": 111.7,
        "lat": 40.8,
        "effective_date": "2026-03-01",
    }


def test_lower_case_x_and_fifteen_digits() -> None:
    result = clean("move_in", {**MOVE_IN, "id_number": X_ID.lower()}, today=TODAY)
    assert result.errors == []
    assert result.ident is not None
    assert result.ident.number == X_ID
    old = idnumber.make("150105", dt.date(1960, 2, 2), 5)
    fifteen = old[:6] + old[8:17]
    result = clean("move_in", {**MOVE_IN, "id_number": fifteen}, today=TODAY)
    assert result.errors == []
    assert result.ident is not None
    assert result.ident.number == old
    assert result.ident.upgraded


def test_every_problem_is_reported_at_once() -> None:
    result = clean("move_in", {**MOVE_IN, "id_number": BAD_CHECK, "name": "x", "ethnicity": "?"}, today=TODAY)
    assert {e["field"] for e in result.errors} == {"id_number", "name", "ethnicity"}


def test_a_birth_takes_its_date_from_the_id() -> None:
    born = idnumber.make("150105", dt.date(2026, 2, 1), 22)
    result = clean(
        "birth",
        {"id_number": born, "name": "张小宝", "ethnicity": "01", "household_code": "H-1", "relation": "20"},
        today=TODAY,
    )
    assert result.errors == []
    assert result.effective_date == dt.date(2026, 2, 1)


@pytest.mark.parametrize(
    ("kind", "values", "expected"),
    [
        ("death", {"effective_date": "2026-01-01"}, ["status", "status_date"]),
        ("move_out", {"effective_date": "2026-01-01"}, ["status", "status_date"]),
        ("name", {"name": "张三"}, ["name"]),
        ("address", {"household_code": "H"}, ["household", "building", "region_path"]),
        ("correction", {"id_number": "x"}, ["id_number", "birth_date", "sex", "birthplace_code"]),
        ("correction", {"registered_code": "150105"}, ["registered_code", "registered_locally"]),
        ("birth", {"name": "张三"}, ["created"]),
    ],
)
def test_changed_field_names(kind, values, expected) -> None:
    assert change_values.person_fields(kind, values) == expected


def test_a_registered_residence_in_the_city_must_be_one_of_its_divisions() -> None:
    regions = frozenset({"150100", "150105", "150105001", "150105001001"})
    known = clean("move_in", {**MOVE_IN, "registered_code": "150105001001"}, today=TODAY, regions=regions)
    assert known.errors == []
    unknown = clean("move_in", {**MOVE_IN, "registered_code": "150105001999"}, today=TODAY, regions=regions)
    assert [(e["field"], e["reason"]) for e in unknown.errors] == [
        ("registered_code", "150105001999 不是本市的行政区划代码")
    ]
    elsewhere = clean("move_in", {**MOVE_IN, "registered_code": "110105001001"}, today=TODAY, regions=regions)
    assert elsewhere.errors == []
