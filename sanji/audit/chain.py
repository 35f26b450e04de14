"""The hash chain's canonical form: pure functions, shared by writing and verifying.

An entry's hash is ``sha256(prev_hash + "\\n" + canonical JSON of HASHED_FIELDS)``. The canonical
JSON must be reproducible from what either database gives back, so :func:`normalise_data` is
applied to ``data`` before it is stored and hashed.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
from collections.abc import Sequence
from typing import Any

GENESIS_HASH = "0" * 64

#: The fields covered by an entry's hash, in a fixed order (the order is part of the format).
HASHED_FIELDS = (
    "seq",
    "at",
    "actor_id",
    "actor_username",
    "unit_id",
    "terminal",
    "ip",
    "channel",
    "action",
    "target_type",
    "target_id",
    "target_label",
    "region_path",
    "purpose",
    "data",
)

_AT = HASHED_FIELDS.index("at")
_UTC = dt.UTC


def canonical_time(at: dt.datetime) -> str:
    return at.astimezone(_UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _exact_numbers(value: Any) -> Any:
    # PostgreSQL's jsonb keeps numbers as exact decimals: 1e+20 comes back as the integer
    # 100000000000000000000. Floats that Python would write with an exponent and that are whole
    # numbers are therefore stored as the integer their shortest repr denotes.
    if isinstance(value, float):
        if abs(value) >= 1e16:
            return int(decimal.Decimal(repr(value)))
        return value
    if isinstance(value, dict):
        return {k: _exact_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_exact_numbers(v) for v in value]
    return value


def normalise_data(data: Any) -> Any:
    """Round-trip through JSON so what is hashed equals what either database gives back.

    NaN and infinities are refused (PostgreSQL's jsonb cannot store them).
    """
    text = json.dumps(data, default=str, ensure_ascii=False, allow_nan=False)
    return _exact_numbers(json.loads(text))


def row_hash(prev_hash: str, row: Sequence[Any]) -> str:
    """Hash of one entry given as a row of :data:`HASHED_FIELDS` values, in that order.

    ``at`` is a datetime, or already its :func:`canonical_time` string (the verifier's fast path).
    """
    payload = list(row)
    at = payload[_AT]
    if not isinstance(at, str):
        payload[_AT] = canonical_time(at)
    body = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


def entry_hash(prev_hash: str, values: dict[str, Any]) -> str:
    """SHA-256 over the previous hash and the canonical JSON of the hashed fields."""
    return row_hash(prev_hash, [values[name] for name in HASHED_FIELDS])


def body_after_seq(values: dict[str, Any]) -> str:
    """The canonical JSON of an entry's hashed fields after the first, ``seq``: the hashed text is
    ``prev_hash + "\\n[" + str(seq) + "," + body_after_seq(values)``, so that the database, which
    alone knows the next ``seq`` and the previous hash under its lock, can complete it."""
    payload = [values[name] for name in HASHED_FIELDS[1:]]
    at = payload[_AT - 1]
    if not isinstance(at, str):
        payload[_AT - 1] = canonical_time(at)
    body = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return body[1:]  # without the opening bracket, which comes before the seq
