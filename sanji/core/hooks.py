"""Explicit after-commit hooks, so that a lower app can notify a higher one without importing it.

Apps import downward only (DESIGN.md §3), yet supervision must look at every case event right
after it commits. The case service fires :data:`case_event_committed`; supervision subscribes in
its ``AppConfig.ready()``. Subscribers run after the commit: a failing subscriber is logged and
never undoes or breaks the caller's work (the periodic sweep catches up on anything missed).
This is a named, typed list of functions — not Django signals, and never for writes that must be
atomic with the event.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, Generic, ParamSpec

P = ParamSpec("P")
logger = logging.getLogger(__name__)


class Hook(Generic[P]):
    def __init__(self, name: str) -> None:
        self.name = name
        self._subscribers: list[Callable[P, None]] = []

    def subscribe(self, fn: Callable[P, None]) -> Callable[P, None]:
        if fn not in self._subscribers:
            self._subscribers.append(fn)
        return fn

    def unsubscribe(self, fn: Callable[P, None]) -> None:
        if fn in self._subscribers:
            self._subscribers.remove(fn)

    def fire(self, *args: P.args, **kwargs: P.kwargs) -> None:
        for fn in list(self._subscribers):
            try:
                fn(*args, **kwargs)
            except Exception:
                logger.exception("hook %s: subscriber %r failed", self.name, fn)


#: ``(case_id, event_id, committed)`` after a case event has committed. ``committed`` is what the
#: case service wrote, so that subscribers need not read it back: the event's columns, the case's
#: columns and its steps as ``(order, state, unit_id, due, finished_at, handled_by_id, handled_by,
#: id)`` (``sanji.cases.services._committed``); None from a caller without it (then read them).
case_event_committed: Hook[[int, int, Mapping[str, Any] | None]] = Hook("case_event_committed")
