"""The bulk fast path (``records.FastCheck``) answers exactly as ``records.check`` or defers to it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from sanji.core import idnumber
from sanji.population import generator, records
from sanji.population.tests.conftest import plan_regions

TODAY = dt.date(2025, 6, 1)
Setup = tuple[list[list[str]], records.ColumnIndex, records.Context]


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Setup:
    out = tmp_path_factory.mktemp("fast") / "people.csv"
    generator.generate(residents=3000, out=out, seed=5, today=TODAY, workers=1)
    rows = generator.read_rows(out)
    plans = generator.community_plans()
    refs = {
        b.code: records.PlaceRef(i, f"x/{p.code}/", p.code)
        for i, (p, g, b) in enumerate((p, g, b) for p in plans for g in p.grids for b in g.buildings)
    }
    index = records.header_index(list(rows[0].keys()))
    return (
        [list(r.values()) for r in rows],
        index,
        records.Context(today=TODAY, buildings=refs, regions=plan_regions(plans)),
    )


def _col(name: str) -> int:
    return records.KEYS.index(name)


def _variants(row: list[str]) -> list[list[str]]:
    """Odd and bad forms of one good row, one field at a time."""
    number = row[_col("id_number")]
    born = number[6:14]
    iso_birth = f"{born[:4]}-{born[4:6]}-{born[6:]}"
    changes: dict[str, list[str]] = {
        "id_number": [
            number[:17] + ("x" if number[17] == "X" else number[17]).lower(),
            number[:17] + str((int(number[17]) + 1) % 10 if number[17] != "X" else 0),
            number[:6] + number[8:17],  # the 15-digit form
            idnumber.make(number[:6], TODAY + dt.timedelta(days=3), 11),
            idnumber.make("150100", dt.date(1980, 1, 1), 11),  # a city, not a county
            idnumber.make("990102", dt.date(1980, 1, 1), 11),
            idnumber.make(number[:6], dt.date(1879, 12, 31), 11),
            number[:10] + "0230" + number[14:],
            "１" + number[1:],
            number + "1",
            "",
        ],
        "name": [
            "王·",
            "阿拉坦.其其格",
            "王",
            "Wang",
            "王 伟",
            "阿拉坦··其其格",
            "",
            "王" * 41,
            "王" * 40,
            "阿拉坦·其其格",
            "·王伟",
            "\uf900伟",
            "\U0002f800伟",
            "\U00020000伟",
            "〇伟",
        ],
        "sex": ["", "1", "2", "男", "女", "9", "0", "5", "6", "女性改(变)为男性", "男性改为女性", "7", "x"],
        "ethnicity": ["01", "1", "蒙古族", "蒙古", "99", ""],
        "birth_date": ["", iso_birth, born, iso_birth.replace("-", "/"), "1900-01-01", "bad"],
        "birthplace_code": ["", number[:6], "150102" if number[:6] != "150102" else "150103"],
        "marital_status": ["", "10", "已婚", "77"],
        "registered_code": ["150102", "150102001", "1501020010011", "15010A", ""],
        "registered_address": ["", "路" * 200, "路" * 201, "a\\b"],
        "building_code": ["00000000000000000000"],
        "unit_number": ["", "3-1", "单元", "123456789"],
        "room_number": ["", "1202", "!"],
        "household_code": ["H-1", "", "户1", "H" * 33],
        "relation": ["02", "户主", "00"],
        "status": ["", "living", "正常", "deceased", "死亡", "moved_out", "dead"],
        "status_date": ["", "2020-01-01", "1800-01-01", "2099-01-01", "20200101", "bad"],
        "source": ["", "公安户籍", "源" * 41],
        "source_date": ["", "2024-12-31", "2099-01-01", "2024/12/31", "bad"],
        "verified": ["", "是", "否", "1", "0", "YES", "No", "TRUE", "maybe"],
        "lon": ["111.7"],
    }
    out = []
    for key, values in changes.items():
        for value in values:
            variant = list(row)
            variant[_col(key)] = value
            out.append(variant)
    for key in ("status", "status_date"):
        variant = list(row)
        variant[_col("status")] = "deceased"
        variant[_col(key)] = "2020-01-01" if key == "status_date" else "deceased"
        out.append(variant)
    return out


def test_fast_path_takes_generated_rows_and_agrees_with_check(setup: Setup) -> None:
    rows, index, ctx = setup
    fast = records.FastCheck(index, ctx)
    taken = 0
    for line, cells in enumerate(rows, start=2):
        clean = fast.clean(cells, line)
        expected, errors = records.check(cells, line, index, ctx)
        assert expected is not None, errors
        if clean is not None:
            taken += 1
            assert clean == expected
    assert taken > 0.95 * len(rows)  # the point of the fast path: it takes the common row


def test_fast_path_never_accepts_what_check_refuses(setup: Setup) -> None:
    rows, index, ctx = setup
    fast = records.FastCheck(index, ctx)
    taken = refused = 0
    for line, row in enumerate(rows[:40], start=2):
        for cells in _variants(row):
            clean = fast.clean(cells, line)
            expected, errors = records.check(cells, line, index, ctx)
            if clean is not None:
                taken += 1
                assert errors == []
                assert clean == expected
            refused += bool(errors)
    assert taken > 40 * 20  # both kinds of variant are exercised
    assert refused > 40 * 30


def test_fast_path_defers_other_column_orders(setup: Setup) -> None:
    rows, _, ctx = setup
    keys = list(reversed(records.KEYS))
    index = records.header_index(keys)
    fast = records.FastCheck(index, ctx)
    assert fast.clean(list(reversed(rows[0])), 2) is None
    clean, errors = records.check(list(reversed(rows[0])), 2, index, ctx)
    assert clean is not None
    assert errors == []


def test_plain_means_no_whitespace_anywhere() -> None:
    assert records.FastCheck.plain("a,b,c")
    for text in ("a ,b", "a,\u3000b", "a,b\u00a0", "a\tb", "a,\u2003b", "a,b\r"):
        assert not records.FastCheck.plain(text)


def test_read_rows_round_trip(tmp_path: Path) -> None:
    # The generated file has the template's column order, which the fast path relies on.
    out = tmp_path / "p.csv"
    generator.generate(residents=10, out=out, seed=1, today=TODAY, workers=1)
    assert list(generator.read_rows(out)[0].keys()) == list(records.KEYS)


def test_names_at_once_agrees_with_one_name_at_a_time(setup: Setup) -> None:
    _, index, ctx = setup
    names = [
        "王伟", "阿拉坦·其其格", "王", "王" * 40, "王" * 41, "阿拉坦··其其格", "·王伟", "王伟·",
        "王 伟", " 王伟", "王伟\u3000", "阿拉坦.其其格", "Wang", "", "\uf900伟", "\U0002f800伟",
        "\U00020000伟", "〇伟",
    ]  # fmt: skip
    one_by_one = records.FastCheck(index, ctx)
    expected = {name: one_by_one._name(name) for name in names}
    assert records.FastCheck(index, ctx).names_at_once(names) == expected
    assert expected["王伟"] == "王伟"
    assert expected["\uf900伟"] == "\u8c48伟"  # the compatibility ideograph normalised
    assert expected["王"] is None
