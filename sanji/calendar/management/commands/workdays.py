"""``sanji workdays``: working-day arithmetic and calendar seeding from the shell.

    sanji workdays add 2026-02-13 5      end of the 5th working day after the acceptance day
    sanji workdays count 2026-02-13 2026-03-02
    sanji workdays seed [--years 2025 2026]

Exit status: 0 done, 1 other error, 2 malformed input, 3 a needed year is not configured.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation

from sanji.calendar import selectors, services
from sanji.calendar.workdays import CalendarNotConfigured, add_workdays, count_workdays
from sanji.core.actors import system_actor
from sanji.core.errors import SanjiError

EXIT_USAGE = 2
EXIT_NOT_CONFIGURED = 3


def _date(raw: str) -> dt.date:
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise CommandError(f"not a date (YYYY-MM-DD): {raw!r}", returncode=EXIT_USAGE) from None


class Command(BaseCommand):
    help = "Working-day arithmetic (add, count) and seeding the calendar from chinesecalendar."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        add = actions.add_parser("add", help="date of the end of the Nth working day after START")
        add.add_argument("start", help="acceptance day, YYYY-MM-DD (not itself counted)")
        add.add_argument("n", type=int, help="number of working days")
        count = actions.add_parser("count", help="working days after START up to and including END")
        count.add_argument("start", help="YYYY-MM-DD")
        count.add_argument("end", help="YYYY-MM-DD")
        seed = actions.add_parser("seed", help="copy the years chinesecalendar covers")
        seed.add_argument("--years", type=int, nargs="+", help="only these years")

    # The operators' shell speaks English; the services' messages follow the active language.
    @translation.override("en")
    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        try:
            if action == "add":
                if options["n"] < 0:
                    raise CommandError("N must not be negative", returncode=EXIT_USAGE)
                result = add_workdays(selectors.work_calendar(), _date(options["start"]), options["n"])
                self.stdout.write(result.isoformat())
            elif action == "count":
                start, end = _date(options["start"]), _date(options["end"])
                self.stdout.write(str(count_workdays(selectors.work_calendar(), start, end)))
            else:
                self._seed(options["years"])
        except CalendarNotConfigured as exc:
            raise CommandError(exc.condition, returncode=EXIT_NOT_CONFIGURED) from None
        except SanjiError as exc:
            details = f" {exc.details}" if exc.details else ""
            raise CommandError(f"{exc.message}{details}") from None

    def _seed(self, years: list[int] | None) -> None:
        result = services.calendar_seed_from_chinesecalendar(
            actor=system_actor("cli", channel="cli"), years=years
        )
        for label, group in (
            ("created", result.created),
            ("updated", result.updated),
            ("unchanged", result.unchanged),
            ("kept (entered by an administrator)", result.kept),
        ):
            if group:
                self.stdout.write(f"{label}: {', '.join(str(y) for y in group)}")
