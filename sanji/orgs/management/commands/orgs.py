"""``sanji orgs``: the organisation from the command line.

- ``sanji orgs import FILE`` imports a division-code CSV (UTF-8 or GB18030); all or nothing.
  Prints one summary line, or every error with its line number and exits with status 1.
- ``sanji orgs seed CITY_CODE`` creates the standard departments and units of an imported city.

Both act as the platform (channel ``cli``): whoever can run commands on the server is trusted with
its configuration; the audit trail names the operating-system user.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation

from sanji.core.actors import Actor, cli_actor
from sanji.core.errors import SanjiError, ValidationFailed
from sanji.orgs import services


class Command(BaseCommand):
    help = "Organisation: import division codes, seed a city's departments and units."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="import a division-code CSV (code,name,level,parent_code)")
        imp.add_argument("file", help="path of the CSV file")
        seed = sub.add_parser("seed", help="create the standard departments and units of a city")
        seed.add_argument("city_code", help="the city's 6-digit division code, e.g. 150100")

    # The operators' shell speaks English; the services' messages follow the active language.
    @translation.override("en")
    def handle(self, *args: Any, **options: Any) -> None:
        actor = cli_actor()
        if options["action"] == "import":
            self._import(actor, options["file"])
        else:
            self._seed(actor, options["city_code"])

    def _import(self, actor: Actor, path: str) -> None:
        try:
            result = services.region_import_path(actor=actor, path=path)
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror or exc}", returncode=1) from None
        except ValidationFailed as exc:
            for error in exc.details or []:
                self.stderr.write(f"{path}:{error['line']}: {error['field']}: {error['reason']}")
            raise CommandError(exc.message, returncode=1) from None
        self.stdout.write(f"{path}: {result.summary()}")

    def _seed(self, actor: Actor, city_code: str) -> None:
        try:
            summary = services.org_structure_seed(actor=actor, city_code=city_code)
        except SanjiError as exc:
            raise CommandError(exc.message, returncode=1) from None
        kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(summary.units_created.items()))
        self.stdout.write(
            f"{city_code}: {summary.departments_created} departments created "
            f"({summary.departments_existing} existing), {summary.units_created_total} units created "
            f"({kinds or 'none'}; {summary.units_existing} existing)"
        )
