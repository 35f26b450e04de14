"""The one clock. Every timestamp in Sanji comes from :func:`now`.

Tests move time with :func:`frozen`; nothing else reads the system clock directly.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo

CITY_TZ = ZoneInfo("Asia/Shanghai")

_frozen_at: dt.datetime | None = None


def now() -> dt.datetime:
    """The current instant, timezone-aware (UTC)."""
    if _frozen_at is not None:
        return _frozen_at
    return dt.datetime.now(dt.UTC)


def today() -> dt.date:
    """Today's date in the city's time zone (working days are city days)."""
    return now().astimezone(CITY_TZ).date()


@contextlib.contextmanager
def frozen(at: dt.datetime) -> Iterator[None]:
    """Freeze :func:`now` at ``at`` (must be aware) for the duration of the block."""
    global _frozen_at
    if at.tzinfo is None:
        raise ValueError("frozen() needs an aware datetime")
    previous = _frozen_at
    _frozen_at = at
    try:
        yield
    finally:
        _frozen_at = previous
