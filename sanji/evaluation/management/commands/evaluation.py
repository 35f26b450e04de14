"""``sanji evaluation compute [--month YYYY-MM]``: (re)compute a month's scores and community evaluation.

Without ``--month`` the previous month is computed (run it early each month, after the sweep).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation

from sanji.core import clock
from sanji.core.actors import system_actor
from sanji.core.errors import SanjiError
from sanji.evaluation import services


class Command(BaseCommand):
    help = "Performance assessment (绩效考评): compute monthly scores and the community evaluation."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        compute = sub.add_parser("compute", help="compute one month's scores")
        compute.add_argument("--month", help="YYYY-MM (default: the previous month)")

    # The operators' shell speaks English; the services' messages follow the active language.
    @translation.override("en")
    def handle(self, *args: Any, **options: Any) -> None:
        raw = options.get("month")
        try:
            month = (
                dt.date.fromisoformat(f"{raw}-01")
                if raw
                else (clock.today().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
            )
        except ValueError:
            raise CommandError(f"not a month (YYYY-MM): {raw}") from None
        actor = system_actor("sanji evaluation", channel="cli")
        try:
            scores = services.scores_compute(actor=actor, month=month)
            stations = services.community_compute(actor=actor, month=month)
        except SanjiError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"{month:%Y-%m}: {scores} scores, {stations} community stations")
