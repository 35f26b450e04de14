"""The synthetic resident generator: every row imports, and the distributions are roughly right."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import pytest
from stdnum.cn import ric

from sanji.core import idnumber
from sanji.population import generator, layout, records

TODAY = dt.date(2025, 6, 1)
Generated = tuple[list[dict[str, str]], list[layout.CommunityPlan]]


@pytest.fixture(scope="module")
def generated(
    tmp_path_factory: pytest.TempPathFactory,
) -> Generated:
    out = tmp_path_factory.mktemp("gen") / "people.csv"
    summary = generator.generate(residents=20_000, out=out, seed=3, today=TODAY, workers=2)
    assert summary.residents == 20_000
    return generator.read_rows(Path(summary.path)), generator.community_plans()


def test_every_row_validates(generated: Generated) -> None:
    rows, plans = generated
    refs = {
        b.code: records.PlaceRef(i, f"x/{p.code}/", p.code)
        for i, (p, g, b) in enumerate((p, g, b) for p in plans for g in p.grids for b in g.buildings)
    }
    index = records.header_index(list(rows[0].keys()))
    ctx = records.Context(today=TODAY, buildings=refs)
    numbers = set()
    for line, row in enumerate(rows, start=2):
        clean, errors = records.check(list(row.values()), line, index, ctx)
        assert errors == [], errors
        assert clean is not None
        numbers.add(clean.id.number)
    assert len(numbers) == len(rows)  # unique people
    for row in rows[:: len(rows) // 300]:
        number = row["id_number"]
        number = number if len(number) == 18 else idnumber.upgrade(number)
        # stdnum's own checks, except its birth-year test of the address code (see idnumber's docstring).
        assert ric.calc_check_digit(number) == number[-1]
        assert ric.get_birth_date(number).isoformat() == row["birth_date"]


def test_distributions(generated: Generated) -> None:
    rows, plans = generated
    n = len(rows)
    eth = Counter(r["ethnicity"] for r in rows)
    assert 0.82 < eth["01"] / n < 0.92
    assert 0.07 < eth["02"] / n < 0.15
    assert eth["03"] > 0
    ages = [TODAY.year - int(r["birth_date"][:4]) for r in rows]
    children = sum(a < 15 for a in ages) / n
    elderly = sum(a >= 65 for a in ages) / n
    assert 0.14 < children < 0.24  # census 2020: 18 %
    assert 0.09 < elderly < 0.18  # census 2020: 13.5 %
    assert {r["household_code"][:12] for r in rows} == {p.code for p in plans}  # all 1,396 communities
    urban = {p.code for p in plans if p.urban and not p.village}
    per_comm = Counter(r["household_code"][:12] for r in rows)
    urban_mean = sum(per_comm[c] for c in urban) / len(urban)
    village_mean = sum(per_comm[p.code] for p in plans if p.village) / sum(p.village for p in plans)
    assert urban_mean > 4 * village_mean
    heads = Counter(r["household_code"] for r in rows if r["relation"] == "02")
    households = {r["household_code"] for r in rows}
    assert all(heads[h] == 1 for h in households)
    assert any("·" in r["name"] for r in rows)
    assert any(len(r["id_number"]) == 15 for r in rows)


def test_generation_is_deterministic(tmp_path: Path) -> None:
    a = generator.generate(residents=3000, out=tmp_path / "a.csv", seed=9, today=TODAY, workers=1)
    b = generator.generate(residents=3000, out=tmp_path / "b.csv", seed=9, today=TODAY, workers=2)
    assert Path(a.path).read_bytes() == Path(b.path).read_bytes()
