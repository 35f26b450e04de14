"""``sanji supervision sweep | seed-rules``: run electronic supervision from the command line.

- ``sweep`` evaluates every time-based rule once (set-based) and rebuilds the live board's summary;
  it prints the number of marks created (a second run in a row prints 0).
- ``seed-rules`` creates the missing rule configuration rows with their defaults.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation

from sanji.core.actors import system_actor
from sanji.core.errors import SanjiError
from sanji.supervision import services


class Command(BaseCommand):
    help = "Electronic supervision (电子监察): run the sweep, seed the rules."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        sweep = sub.add_parser("sweep", help="evaluate the time-based rules once; print the marks created")
        sweep.add_argument("--verbose-rules", action="store_true", help="also print the count per rule")
        sub.add_parser("seed-rules", help="create the missing rule configuration rows")

    # The operators' shell speaks English; the services' messages follow the active language.
    @translation.override("en")
    def handle(self, *args: Any, **options: Any) -> None:
        actor = system_actor("sanji supervision", channel="cli")
        try:
            if options["subcommand"] == "sweep":
                result = services.supervision_sweep(actor=actor)
                self.stdout.write(str(result.created))
                if options["verbose_rules"]:
                    for rule, count in sorted(result.per_rule.items()):
                        self.stdout.write(f"  {rule}: {count}")
                for problem in result.problems:
                    self.stderr.write(problem)
            else:
                self.stdout.write(f"{services.rule_configs_seed(actor=actor)} rule(s) created")
        except SanjiError as exc:
            raise CommandError(exc.message) from None
