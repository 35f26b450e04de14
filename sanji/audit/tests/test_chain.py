import datetime as dt
import hashlib
import json
from typing import Any

import pytest

from sanji.audit.chain import (
    GENESIS_HASH,
    HASHED_FIELDS,
    body_after_seq,
    entry_hash,
    normalise_data,
    row_hash,
)
from sanji.audit.verify import Problem, WalkResult, walk

AT = dt.datetime(2026, 3, 1, 8, 30, 0, 123456, tzinfo=dt.UTC)


def values(n: int, /, **overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = dict.fromkeys(HASHED_FIELDS, "")
    base.update(seq=n, at=AT + dt.timedelta(seconds=n), actor_id=1, unit_id=None, data={"k": n})
    base.update(overrides)
    return base


def chain(n: int, start_hash: str = GENESIS_HASH, start_seq: int = 1) -> list[tuple[Any, ...]]:
    rows, prev = [], start_hash
    for seq in range(start_seq, start_seq + n):
        v = values(seq)
        digest = entry_hash(prev, v)
        rows.append((*[v[name] for name in HASHED_FIELDS], prev, digest))
        prev = digest
    return rows


def test_entry_hash_is_the_documented_canonical_form():
    v = values(1, action="cases.accepted", data={"b": 1, "a": "中"})
    payload = [v[name] for name in HASHED_FIELDS]
    payload[1] = "2026-03-01T08:30:01.123456Z"
    body = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    expected = hashlib.sha256(f"{GENESIS_HASH}\n{body}".encode()).hexdigest()
    assert entry_hash(GENESIS_HASH, v) == expected
    assert row_hash(GENESIS_HASH, [*payload[:1], v["at"], *payload[2:]]) == expected


@pytest.mark.parametrize("seq", [1, 9, 10, 123_456_789_012])
def test_the_body_after_seq_completes_the_hashed_text(seq: int) -> None:
    # What PostgreSQL appends with (audit.services): "<prev>\n[" + seq + "," + body_after_seq.
    v = values(seq, target_label='引号" 反斜杠\\ 换行\n', data={"z": [1, {"b": None, "a": "中"}], "e": "😀"})
    text = f"{GENESIS_HASH}\n[{seq},{body_after_seq(v)}"
    assert hashlib.sha256(text.encode()).hexdigest() == entry_hash(GENESIS_HASH, v)


def test_hash_covers_every_field():
    base = entry_hash(GENESIS_HASH, values(1))
    for name in HASHED_FIELDS:
        changed = values(1, **{name: 999 if name in {"seq", "actor_id"} else "x"})
        if name == "at":
            changed["at"] = AT
        assert entry_hash(GENESIS_HASH, changed) != base, name
    assert entry_hash("1" * 64, values(1)) != base


def test_normalise_data_matches_what_jsonb_gives_back():
    out = normalise_data({"big": 1e20, "huge": 1e23, "small": 1e-5, "x": 1.5, "when": AT, "t": (1, 2)})
    assert out["big"] == 10**20
    assert isinstance(out["big"], int)
    assert out["huge"] == 10**23
    assert out["small"] == 1e-5
    assert out["x"] == 1.5
    assert out["when"] == str(AT)
    assert out["t"] == [1, 2]


def test_normalise_data_refuses_nan():
    with pytest.raises(ValueError):
        normalise_data({"x": float("nan")})


def walk_rows(rows: list[tuple[Any, ...]]) -> WalkResult:
    return walk(rows, start_seq=1, start_hash=GENESIS_HASH, start_name="genesis")


def broken(result: WalkResult) -> Problem:
    assert result.problem is not None
    return result.problem


def test_walk_intact():
    result = walk_rows(chain(5))
    assert result.problem is None
    assert (result.count, result.first_seq, result.last_seq) == (5, 1, 5)


def test_walk_empty():
    result = walk_rows([])
    assert result.problem is None
    assert result.count == 0
    assert result.last_hash == GENESIS_HASH


def test_walk_changed_content():
    rows = chain(5)
    row = list(rows[2])
    row[HASHED_FIELDS.index("action")] = "tampered"
    rows[2] = tuple(row)
    problem = broken(walk_rows(rows))
    assert (problem.seq, problem.kind) == (3, "changed")
    assert problem.message == "audit chain broken at entry #3: entry changed (hash mismatch)"


def test_walk_changed_with_rewritten_hash_is_named_at_the_changed_entry():
    rows = chain(5)
    row = list(rows[2])
    row[HASHED_FIELDS.index("action")] = "tampered"
    row[-1] = row_hash(row[-2], row[:-2])
    rows[2] = tuple(row)
    problem = broken(walk_rows(rows))
    assert (problem.seq, problem.kind) == (3, "changed")


def test_walk_gap_names_the_missing_entry():
    rows = chain(5)
    del rows[1]
    problem = broken(walk_rows(rows))
    assert (problem.seq, problem.kind) == (2, "removed")


def test_walk_missing_first_entry():
    problem = broken(walk_rows(chain(5)[1:]))
    assert (problem.seq, problem.kind) == (1, "removed")


def test_walk_duplicate_seq_is_an_insertion():
    rows = chain(3)
    rows.insert(2, rows[1])
    problem = broken(walk_rows(rows))
    assert (problem.seq, problem.kind) == (2, "inserted")


def test_walk_first_entry_must_link_to_the_start():
    rows = chain(3, start_hash="a" * 64, start_seq=11)
    problem = broken(walk(rows, start_seq=11, start_hash="b" * 64, start_name="checkpoint #10"))
    assert (problem.seq, problem.kind) == (11, "changed")
    assert "checkpoint #10" in problem.detail
