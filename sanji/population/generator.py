"""Synthetic Hohhot residents in the import format (``sanji population generate``). SYNTHETIC data.

Deterministic for a seed. People live in every community of the shipped division file, urban
communities denser than county towns and villages; buildings come from :mod:`layout` (the same
codes ``population_seed_places`` creates). Ages follow the shape of the 2020 census pyramid (5-year
groups of China's Seventh National Population Census), ethnicity Hohhot's mix (Han ≈ 87 %, Mongol ≈
11 %, Hui ≈ 1 %, then Manchu, Daur, Ewenki and others), ID numbers are valid (address code of the
district, or of the place of origin for people registered elsewhere; birth dates consistent; the
sequence digit's parity gives the sex; unique per address and birth date; check characters
correct; a few old 15-digit numbers). Households have one head (the oldest adult) and relations
(GB/T 4761) derived from the age differences.

Attributes are drawn with numpy over all people at once; rows are formatted by two forked
processes that each write half of the file.
"""

from __future__ import annotations

import csv
import datetime as dt
import multiprocessing
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sanji.core import idnumber
from sanji.population import layout, records

#: 2020 census, share of each 5-year age group 0–4 … 95–99 (per cent; 85+ spread over 85–99).
AGE_PYRAMID = (
    5.7, 6.5, 6.3, 5.3, 5.3, 6.5, 8.7, 7.1, 6.7, 8.1, 8.4, 7.0, 5.2, 5.2, 3.5, 2.2, 1.4, 0.6, 0.3, 0.1,
)  # fmt: skip

#: Hohhot's ethnic mix (GB/T 3304 code, share).
ETHNIC_MIX = (
    ("01", 0.8700), ("02", 0.1100), ("03", 0.0100), ("11", 0.0060), ("31", 0.0015),
    ("45", 0.0005), ("10", 0.0006), ("15", 0.0004), ("08", 0.0003), ("52", 0.0003), ("44", 0.0004),
)  # fmt: skip

SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎"
    "余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚桂英华玉兰萍红梅鑫波斌宇浩凯健俊帆帅旭宁龙林欣怡佳琪晨雪婷"
MONGOL_NAMES = [
    "巴特尔",
    "其其格",
    "斯琴",
    "乌云",
    "额尔敦",
    "苏和",
    "那日苏",
    "阿拉坦",
    "宝音",
    "图雅",
    "萨仁",
    "敖其尔",
    "格日勒",
    "朝鲁",
    "娜仁",
    "塔娜",
    "孟和",
    "巴雅尔",
    "吉日嘎拉",
    "乌日娜",
    "布和",
    "哈斯",
    "达来",
    "满都拉",
    "其木格",
    "特木尔",
    "呼和",
    "阿木古朗",
    "毕力格",
    "额日登",
    "赛音",
    "包勒尔",
    "查干",
    "乌兰",
]

#: Registered elsewhere: county codes of places people come to Hohhot from (GB/T 2260).
ORIGINS = [
    "150202",
    "150203",
    "150204",
    "150402",
    "150502",
    "150602",
    "150702",
    "150802",
    "150902",
    "152502",
    "140106",
    "130102",
    "610113",
    "620102",
    "110105",
    "410105",
    "230102",
    "220102",
    "210102",
    "640104",
]

#: Address codes of IDs issued in each district (the development zone is not an ID address code).
ID_ADDRESS = {"150172": "150105"}

HEADER = [key for key, _, _ in records.COLUMNS]


@dataclass(frozen=True, slots=True)
class GenerateSummary:
    residents: int
    households: int
    communities: int
    path: str

    def summary(self) -> str:
        return (
            f"{self.residents} residents in {self.households} households, "
            f"{self.communities} communities: {self.path}"
        )


def community_plans(divisions_csv: Path | None = None) -> list[layout.CommunityPlan]:
    from sanji.orgs import divisions

    path = divisions_csv or divisions.SHIPPED_DIVISIONS_CSV
    parsed = divisions.parse(divisions.decode(Path(path).read_bytes()))
    return list(layout.plan((r.code, r.name) for r in parsed.rows if r.level == "community"))


_STATE: dict[str, Any] = {}


def generate(
    *,
    residents: int,
    out: Path,
    seed: int = 1,
    today: dt.date,
    divisions_csv: Path | None = None,
    workers: int = 2,
) -> GenerateSummary:
    rng = np.random.default_rng(seed)
    plans = community_plans(divisions_csv)
    n_comm = len(plans)
    weight = np.array([(8.0 if p.urban else 4.0) if not p.village else 1.0 for p in plans])
    base = min(3, residents // max(n_comm, 1))
    counts = base + rng.multinomial(residents - base * n_comm, weight / weight.sum())

    # Households: sizes drawn per community until its people are used up.
    size_p = np.array([0.25, 0.30, 0.25, 0.12, 0.06, 0.02])
    hh_comm: list[np.ndarray] = []
    hh_size: list[np.ndarray] = []
    for c, n in enumerate(counts):
        if n == 0:
            continue
        sizes = rng.choice(np.arange(1, 7), size=int(n), p=size_p)
        cum = np.cumsum(sizes)
        k = int(np.searchsorted(cum, n))
        sizes = sizes[: k + 1].copy()
        sizes[-1] -= int(cum[k] - n)
        sizes = sizes[sizes > 0]
        hh_size.append(sizes)
        hh_comm.append(np.full(len(sizes), c))
    size = np.concatenate(hh_size)
    comm_of_hh = np.concatenate(hh_comm)
    n_hh = len(size)
    n = int(size.sum())
    person_hh = np.repeat(np.arange(n_hh), size)
    first = np.concatenate(([0], np.cumsum(size)[:-1]))
    position = np.arange(n) - np.repeat(first, size)

    # Ages from the pyramid; every household has an adult, the oldest is the head.
    groups = rng.choice(len(AGE_PYRAMID), size=n, p=np.array(AGE_PYRAMID) / sum(AGE_PYRAMID))
    age = groups * 5 + rng.integers(0, 5, size=n)
    oldest = np.maximum.reduceat(age, first)
    needs_adult = oldest < 20
    if needs_adult.any():
        adult_ages = 20 + rng.integers(0, 50, size=int(needs_adult.sum()))
        age[first[needs_adult]] = adult_ages
    order = np.lexsort((-age, person_hh))  # per household, oldest first
    age = age[order]
    head_age = np.repeat(age[first], size)
    sex = rng.integers(1, 3, size=n)  # 1 male, 2 female
    diff = age - head_age
    head_sex = np.repeat(sex[first], size)
    spouse = (position == 1) & (age >= 20) & (np.abs(diff) <= 12) & (rng.random(n) < 0.9)
    sex[spouse] = 3 - head_sex[spouse]
    relation = np.full(n, "99", dtype="<U2")
    younger = diff <= -15
    relation[younger & (sex == 1)] = "20"
    relation[younger & (sex == 2)] = "30"
    relation[(diff <= -45) & (sex == 1)] = "41"
    relation[(diff <= -45) & (sex == 2)] = "42"
    sibling = (~younger) & (np.abs(diff) < 15)
    relation[sibling & (sex == 1)] = "73"
    relation[sibling & (sex == 2)] = "77"
    relation[spouse & (sex == 1)] = "11"
    relation[spouse & (sex == 2)] = "12"
    relation[position == 0] = "02"

    marital = np.where(age < 22, "10", "20").astype("<U2")
    single_adult = (age >= 22) & (age < 32) & ~spouse & (position != 0) & (rng.random(n) < 0.6)
    marital[single_adult] = "10"
    marital[(age >= 65) & (rng.random(n) < 0.25)] = "30"
    marital[(age >= 30) & (age < 65) & (rng.random(n) < 0.04)] = "40"
    marital[spouse | ((position == 0) & (size[person_hh] > 1) & np.roll(spouse, -1))] = "20"

    codes, shares = zip(*ETHNIC_MIX, strict=True)
    share = np.array(shares) / sum(shares)
    hh_eth = rng.choice(len(codes), size=n_hh, p=share)
    eth = hh_eth[person_hh]
    mixed = spouse & (rng.random(n) < 0.12)
    eth[mixed] = rng.choice(len(codes), size=int(mixed.sum()), p=share)
    ethnicity = np.array(codes)[eth]

    # Registered here (ID from the residence district) or elsewhere (ID from the place of origin).
    comm_codes = np.array([p.code for p in plans])
    person_comm = comm_of_hh[person_hh]
    district = np.array([ID_ADDRESS.get(c[:6], c[:6]) for c in comm_codes])[person_comm]
    migrant_hh = rng.random(n_hh) < np.where(weight[comm_of_hh] >= 4, 0.14, 0.04)
    migrant = migrant_hh[person_hh]
    origin = np.array(ORIGINS)[rng.integers(0, len(ORIGINS), size=n)]
    address = np.where(migrant, origin, district)
    registered = np.where(migrant, address, comm_codes[person_comm])

    offset_days = rng.integers(1, 366, size=n)
    birth_ord = today.toordinal() - (age * 365.25).astype(np.int64) - offset_days
    birth_ord = np.minimum(birth_ord, today.toordinal() - 1)
    # Unique sequence numbers per (address code, birth date, sex): rank within the group.
    addr_int = address.astype(np.int64)
    key_order = np.lexsort((sex, birth_ord, addr_int))
    a, b, s = addr_int[key_order], birth_ord[key_order], sex[key_order]
    new_group = np.ones(n, dtype=bool)
    new_group[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1]) | (s[1:] != s[:-1])
    starts = np.flatnonzero(new_group)
    rank_sorted = np.arange(n) - np.repeat(starts, np.diff(np.append(starts, n)))
    rank = np.empty(n, dtype=np.int64)
    rank[key_order] = rank_sorted
    if rank.max() >= 500:
        raise ValueError("too many people share an address code and birth date; lower --residents")
    sequence = rank * 2 + (sex == 1)
    days = (birth_ord - dt.date(1970, 1, 1).toordinal()).astype("datetime64[D]")
    years = days.astype("datetime64[Y]")
    months = days.astype("datetime64[M]")
    ymd = (
        (years.astype(np.int64) + 1970) * 10000
        + (months - years).astype(np.int64) * 100
        + 100
        + (days - months).astype(np.int64)
        + 1
    )
    first17 = addr_int * 10**11 + ymd * 1000 + sequence
    weighted = np.zeros(n, dtype=np.int64)
    for position, factor in enumerate(idnumber.WEIGHTS):
        weighted += (first17 // 10 ** (16 - position)) % 10 * factor
    check = weighted % 11
    check_char = np.array(list(idnumber.CHECK_CHARS))[check]
    old_form = (ymd < 19990000) & (rng.random(n) < 0.003)

    # Households' places: a building of the community, a unit and a room (none in villages).
    building_codes = [b.code for p in plans for g in p.grids for b in g.buildings]
    per_comm = np.array([sum(len(g.buildings) for g in p.grids) for p in plans])
    comm_offset = np.concatenate(([0], np.cumsum(per_comm)[:-1]))
    hh_building = comm_offset[comm_of_hh] + (rng.random(n_hh) * per_comm[comm_of_hh]).astype(np.int64)
    hh_start = np.searchsorted(comm_of_hh, np.arange(n_comm))
    hh_seq = np.arange(n_hh) - hh_start[comm_of_hh] + 1
    unit_draw = rng.integers(1, 7, size=n_hh)
    room_draw = rng.integers(1, 19, size=n_hh) * 100 + rng.integers(1, 5, size=n_hh)
    village = np.array([p.village for p in plans])[comm_of_hh]
    unit_draw[village] = 0
    surname_hh = rng.integers(0, len(SURNAMES), size=n_hh)
    surname_p = np.where(spouse, rng.integers(0, len(SURNAMES), size=n), surname_hh[person_hh])
    given1 = rng.integers(0, len(GIVEN), size=n)
    given2 = np.where(rng.random(n) < 0.6, rng.integers(0, len(GIVEN), size=n), -1)
    mongol_name = rng.integers(0, len(MONGOL_NAMES), size=(n, 2))
    mongol_dot = rng.random(n) < 0.25

    status_draw = rng.random(n)
    verified = rng.random(n) < 0.7
    source_days = rng.integers(0, 730, size=n)

    _STATE.update(
        n=n,
        plans=plans,
        person_hh=person_hh,
        first17=first17,
        check_char=check_char,
        old_form=old_form,
        sex=sex,
        ethnicity=ethnicity,
        ymd=ymd,
        marital=marital,
        registered=registered,
        migrant=migrant,
        relation=relation,
        building_codes=building_codes,
        comm_codes=[p.code for p in plans],
        hh_comm=comm_of_hh,
        hh_seq=hh_seq,
        hh_building=hh_building,
        hh_unit=unit_draw,
        hh_room=room_draw,
        surname=surname_p,
        given1=given1,
        given2=given2,
        mongol_name=mongol_name,
        mongol_dot=mongol_dot,
        status_draw=status_draw,
        verified=verified,
        source_days=source_days,
        today=today,
    )
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    bounds = np.linspace(0, n, max(workers, 1) + 1).astype(int)
    parts = [out.with_name(f"{out.name}.part{i}") for i in range(len(bounds) - 1)]
    jobs = [(int(bounds[i]), int(bounds[i + 1]), str(parts[i])) for i in range(len(parts))]
    if workers > 1:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            pool.map(_write_part, jobs)
    else:
        for job in jobs:
            _write_part(job)
    with out.open("wb") as fh:
        fh.write((",".join(HEADER) + "\n").encode())
        for part in parts:
            with part.open("rb") as src:
                shutil.copyfileobj(src, fh, 1 << 22)
            os.unlink(part)
    _STATE.clear()
    return GenerateSummary(residents=n, households=n_hh, communities=n_comm, path=str(out))


def _write_part(job: tuple[int, int, str]) -> None:
    start, stop, path = job
    st = _STATE
    part = slice(start, stop)
    person_hh = st["person_hh"][part].tolist()
    first17 = st["first17"][part].tolist()
    check = st["check_char"][part].tolist()
    old = st["old_form"][part].tolist()
    sex = st["sex"][part].tolist()
    eth = st["ethnicity"][part].tolist()
    ymd = st["ymd"][part].tolist()
    marital = st["marital"][part].tolist()
    registered = st["registered"][part].tolist()
    migrant = st["migrant"][part].tolist()
    relation = st["relation"][part].tolist()
    surname = st["surname"][part].tolist()
    g1 = st["given1"][part].tolist()
    g2 = st["given2"][part].tolist()
    mongol = st["mongol_name"][part].tolist()
    mdot = st["mongol_dot"][part].tolist()
    status_draw = st["status_draw"][part].tolist()
    verified = st["verified"][part].tolist()
    source_days = st["source_days"][part].tolist()
    building_codes, comm_codes = st["building_codes"], st["comm_codes"]
    hh_comm, hh_seq, hh_building = st["hh_comm"], st["hh_seq"], st["hh_building"]
    hh_unit, hh_room = st["hh_unit"], st["hh_room"]
    today: dt.date = st["today"]
    today_ord = today.toordinal()
    iso: dict[int, str] = {}
    collected = [
        dt.date.fromordinal(today_ord - d).isoformat() for d in range(max(source_days, default=0) + 1)
    ]
    households: dict[int, str] = {}
    lines: list[str] = []
    with open(path, "w", encoding="utf-8", newline="") as fh:
        for i in range(stop - start):
            h = person_hh[i]
            place = households.get(h)
            if place is None:
                unit = int(hh_unit[h])
                code = comm_codes[hh_comm[h]]
                place = households[h] = (
                    f"{building_codes[hh_building[h]]},{unit or ''},{hh_room[h] if unit else ''},"
                    f"{code}{hh_seq[h]:06d}"
                )
            f17 = f"{first17[i]:017d}"
            number = f17[:6] + f17[8:] if old[i] else f17 + check[i]
            if eth[i] == "02":
                m = mongol[i]
                name = f"{MONGOL_NAMES[m[0]]}·{MONGOL_NAMES[m[1]]}" if mdot[i] else MONGOL_NAMES[m[0]]
            else:
                name = SURNAMES[surname[i]] + GIVEN[g1[i]] + (GIVEN[g2[i]] if g2[i] >= 0 else "")
            b = ymd[i]
            birth = iso.get(b) or iso.setdefault(b, f"{b // 10000:04d}-{b // 100 % 100:02d}-{b % 100:02d}")
            d = status_draw[i]
            if d < 0.005:
                status = "deceased" if d < 0.003 else "moved_out"
                born = dt.date.fromisoformat(birth).toordinal()
                status_date = dt.date.fromordinal(
                    max(born + 1, today_ord - (200 if d < 0.003 else 100))
                ).isoformat()
            else:
                status, status_date = "living", ""
            lines.append(
                f"{number},{name},{sex[i]},{eth[i]},{birth},,{marital[i]},{registered[i]},,{place},"
                f"{relation[i]},{status},{status_date},{'网格采集' if migrant[i] else '公安户籍'},"
                f"{collected[source_days[i]]},{'是' if verified[i] else '否'},,\n"
            )
            if len(lines) >= 20_000:
                fh.write("".join(lines))
                lines.clear()
        fh.write("".join(lines))


def read_rows(path: Path) -> list[dict[str, str]]:
    """Read a generated file back (tests)."""
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))
