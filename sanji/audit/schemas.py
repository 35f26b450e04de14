"""API schemas of the audit app."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Schema


class EntryOut(Schema):
    seq: int
    at: dt.datetime
    actor_id: int | None
    actor_username: str
    unit_id: int | None
    terminal: str
    ip: str
    channel: str
    action: str
    target_type: str
    target_id: str
    target_label: str
    region_path: str
    purpose: str
    data: dict[str, Any]
    prev_hash: str
    hash: str


class EntryQuery(Schema):
    username: str | None = None
    unit_id: int | None = None
    action: str | None = None
    target_type: str | None = None
    target_id: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None


class ProblemOut(Schema):
    seq: int
    kind: str
    detail: str


class VerifyOut(Schema):
    ok: bool
    message: str
    count: int
    first_seq: int | None
    last_seq: int | None
    checkpoint_seq: int | None
    problem: ProblemOut | None
