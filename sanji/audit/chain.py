"""The hash chain's canonical form: pure functions, shared by writing and verifying."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
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


def canonical_time(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def normalise_data(data: Any) -> Any:
    """Round-trip through JSON so what is hashed equals what the database gives back."""
    return json.loads(json.dumps(data, default=str, ensure_ascii=False))


def entry_hash(prev_hash: str, values: dict[str, Any]) -> str:
    """SHA-256 over the previous hash and the canonical JSON of the hashed fields."""
    payload = [values[name] for name in HASHED_FIELDS]
    payload[1] = canonical_time(values["at"])
    body = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()
