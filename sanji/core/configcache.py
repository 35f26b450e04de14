"""Process-local copies of configuration that any process may change (the working-day calendar,
the supervision rules), checked against the database at most once a second.

Each copy is built from a few rows and tagged with their *fingerprint* (e.g. every calendar year's
revision UUID), which changes whenever the rows do, in this process or any other. Reading the
fingerprint is one short query; every case transition used to ask it for the calendar and again for
the rules, which cost more than a tenth of a transition's work. Now:

- in steady state the fingerprint is read at most once per ``SANJI_CONFIG_RECHECK_SECONDS``
  (default 1 s) per process, so a change committed by another worker process counts there within
  that time. A transition that read the old copy a moment before the change commits is in the same
  position as a transition in flight when the change commits: the change applies from the next one.
- a write in this process (:meth:`Fingerprinted.written`, called by the configuring services) makes
  the next uses re-read the fingerprint every time for a minute, so the writer sees its change at
  once, and a change it rolled back (a failed request) is never kept: the next check finds the
  fingerprint the database holds and rebuilds.
- ``SANJI_CONFIG_RECHECK_SECONDS = 0`` reads the fingerprint on every use (the test suite, whose tests
  write configuration rows directly and roll every test back).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

from django.conf import settings

T = TypeVar("T")

#: How long after a write in this process every use re-reads the fingerprint.
AFTER_WRITE_SECONDS = 60.0


@dataclass(frozen=True)
class _Copy(Generic[T]):
    fingerprint: Hashable
    value: T
    checked: float  # time.monotonic() of the last fingerprint read that matched


class Fingerprinted(Generic[T]):
    """A value built by ``build()`` from configuration rows whose state ``fingerprint()`` reads.

    Thread-safe without a lock: the copy is replaced whole, and two threads that rebuild at once
    build the same value (at worst one needless rebuild)."""

    def __init__(self, fingerprint: Callable[[], Hashable], build: Callable[[Hashable], T]) -> None:
        self._fingerprint = fingerprint
        self._build = build
        self._copy: _Copy[T] | None = None
        self._eager_until = 0.0

    def get(self) -> T:
        """The value as the database holds it now (within the recheck interval, see the module)."""
        now = time.monotonic()
        copy = self._copy
        if (
            copy is not None
            and now >= self._eager_until
            and now - copy.checked < settings.SANJI_CONFIG_RECHECK_SECONDS
        ):
            return copy.value
        fingerprint = self._fingerprint()
        if copy is not None and copy.fingerprint == fingerprint:
            self._copy = _Copy(fingerprint, copy.value, now)
            return copy.value
        # Built after the fingerprint was read, so never older than it.
        value = self._build(fingerprint)
        self._copy = _Copy(fingerprint, value, now)
        return value

    def written(self) -> None:
        """This process changed the rows (or is about to): check the fingerprint on every use for
        :data:`AFTER_WRITE_SECONDS`."""
        self._eager_until = time.monotonic() + AFTER_WRITE_SECONDS

    def forget(self) -> None:
        self._copy = None
