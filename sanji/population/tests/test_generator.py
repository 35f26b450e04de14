"""The synthetic resident generator: every row imports, and the distributions are roughly right."""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter
from pathlib import Path

import pytest
from django.core.management import call_command
from stdnum.cn import ric

from sanji.core import clock, crypto, idnumber
from sanji.orgs import services as org_services
from sanji.population import generator, layout, records, services
from sanji.population.models import Person
from sanji.population.tests.conftest import SYSTEM, plan_regions

TODAY = dt.date(2025, 6, 1)
AT = dt.datetime(2025, 6, 1, 4, 0, tzinfo=dt.UTC)  # TODAY in Hohhot
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
    ctx = records.Context(today=TODAY, buildings=refs, regions=plan_regions(plans))
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


def test_id_numbers_carry_the_district_or_the_place_of_origin(generated: Generated) -> None:
    """Residents registered here have IDs of their district (the development zone's people those of
    赛罕区, which issues them) and are registered in their community; people registered elsewhere
    have IDs of their place of origin, which is also their registered code."""
    rows, plans = generated
    communities = {p.code for p in plans}
    refs = {
        b.code: records.PlaceRef(i, f"x/{p.code}/", p.code)
        for i, (p, b) in enumerate((p, b) for p in plans for g in p.grids for b in g.buildings)
    }
    index = records.header_index(list(rows[0]))
    ctx = records.Context(today=TODAY, buildings=refs, regions=plan_regions(plans))
    assert generator.ID_ADDRESS == {"150172": "150105"}
    assert not idnumber.address_code_known("150172")  # a statistical code, never an ID's
    assert not any(code.startswith("1501") for code in generator.ORIGINS)  # all outside Hohhot
    kinds: Counter[str] = Counter()
    for line, row in enumerate(rows, start=2):
        community = row["household_code"][:12]
        assert community in communities
        assert row["building_code"][:12] == community
        prefix = row["id_number"][:6]  # the same in the 15- and the 18-digit form
        assert idnumber.address_code_known(prefix), row
        if row["registered_code"] == community:
            district = community[:6]
            assert prefix == ("150105" if district == "150172" else district), row
            kinds["zone" if district == "150172" else "local"] += 1
            local = True
        else:
            assert row["registered_code"] in generator.ORIGINS, row
            assert prefix == row["registered_code"], row
            kinds["migrant"] += 1
            local = False
        if line % 97 == 0:  # the import's view: registered here or not
            clean, errors = records.check(list(row.values()), line, index, ctx)
            assert errors == []
            assert clean is not None
            assert clean.registered_locally is local
            assert clean.birthplace_code == prefix
    assert kinds["zone"] > 0
    assert 0.03 < kinds["migrant"] / len(rows) < 0.2, kinds
    assert len({r["id_number"][:6] for r in rows if r["registered_code"] != r["household_code"][:12]}) > 10


@pytest.mark.django_db
def test_generate_command_writes_one_line_and_a_file_that_imports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out" / "people.csv"
    with clock.frozen(AT):
        call_command("population", "generate", "--residents", "50", "--out", str(out))
    printed = capsys.readouterr().out.splitlines()
    assert len(printed) == 1
    assert printed[0].startswith("50 residents in ")
    assert f"communities: {out} (" in printed[0]
    with out.open(encoding="utf-8", newline="") as fh:
        lines = list(csv.reader(fh))
    assert lines[0] == list(records.KEYS)
    assert len(lines) == 51
    assert all(len(line) == len(records.KEYS) for line in lines[1:])
    assert not list(out.parent.glob("*.part*"))  # the workers' parts are joined and removed

    # The places of the shipped division file, then the file through the import command.
    org_services.region_import_path(actor=SYSTEM)
    services.population_seed_places(actor=SYSTEM, city_code="150100")
    with clock.frozen(AT):
        call_command("population", "import", str(out), "--workers", "0")
    printed = capsys.readouterr().out.splitlines()
    assert len(printed) == 1
    assert "people.csv: 50 rows, 50 imported, 0 rejected (0 duplicates)" in printed[0]
    assert Person.objects.count() == 50
    numbers = {line[0] if len(line[0]) == 18 else idnumber.upgrade(line[0]) for line in lines[1:]}
    stored = {crypto.decrypt(token) for token in Person.objects.values_list("id_number_encrypted", flat=True)}
    assert stored == numbers
