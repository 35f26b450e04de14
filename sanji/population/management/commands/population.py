"""``sanji population``: the population registry from the command line.

- ``import FILE`` — import people (CSV UTF-8/GB18030 or .xlsx); prints ONE summary line (rows,
  imported, rejected, the error report's path). Exit 0 when the file was processed, even with
  rejected rows; 1 when the file itself cannot be read (missing, unreadable, bad header).
- ``generate --residents N --out FILE.csv [--seed S]`` — synthetic Hohhot residents in the import
  format (no database needed).
- ``seed-places CITY_CODE`` — synthetic boundaries, grids and buildings for every community.
- ``import-boundaries FILE.geojson`` — community and grid boundaries, all or nothing.
- ``rekey --previous NAME[,NAME]`` — re-encrypt ID numbers under the current field key.

All act as the platform (channel ``cli``); the audit trail names the operating-system user.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sanji.core import clock
from sanji.core.actors import cli_actor
from sanji.core.errors import SanjiError, ValidationFailed
from sanji.population import generator, services


class Command(BaseCommand):
    help = "Population registry: import, generate synthetic residents, seed places, rotate keys."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="import people from CSV (UTF-8/GB18030) or .xlsx")
        imp.add_argument("file")
        imp.add_argument("--workers", type=int, default=2)
        gen = sub.add_parser("generate", help="write synthetic Hohhot residents in the import format")
        gen.add_argument("--residents", type=int, required=True)
        gen.add_argument("--out", required=True)
        gen.add_argument("--seed", type=int, default=1)
        gen.add_argument("--workers", type=int, default=2)
        seed = sub.add_parser("seed-places", help="synthetic boundaries, grids and buildings of a city")
        seed.add_argument("city_code")
        bnd = sub.add_parser("import-boundaries", help="community and grid boundaries from GeoJSON")
        bnd.add_argument("file")
        rekey = sub.add_parser("rekey", help="re-encrypt ID numbers under the current field key")
        rekey.add_argument("--previous", required=True, help="comma-separated names of the old key(s)")
        rekey.add_argument("--batch", type=int, default=5000)

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        actor = cli_actor()
        try:
            if action == "import":
                report = services.population_import(
                    actor=actor, path=options["file"], workers=options["workers"]
                )
                self.stdout.write(report.summary())
            elif action == "generate":
                started = time.perf_counter()
                summary = generator.generate(
                    residents=options["residents"],
                    out=Path(options["out"]),
                    seed=options["seed"],
                    today=clock.today(),
                    workers=options["workers"],
                )
                self.stdout.write(f"{summary.summary()} ({time.perf_counter() - started:.1f} s)")
            elif action == "seed-places":
                self.stdout.write(
                    services.population_seed_places(actor=actor, city_code=options["city_code"]).summary()
                )
            elif action == "import-boundaries":
                text = Path(options["file"]).read_text(encoding="utf-8-sig")
                self.stdout.write(services.boundary_import_geojson(actor=actor, text=text).summary())
            else:
                previous = [p.strip() for p in options["previous"].split(",") if p.strip()]
                self.stdout.write(
                    services.population_rekey(
                        actor=actor, previous=previous, batch=options["batch"]
                    ).summary()
                )
        except OSError as exc:
            raise CommandError(
                f"cannot read {options.get('file')}: {exc.strerror or exc}", returncode=1
            ) from None
        except ValidationFailed as exc:
            for error in (exc.details or [])[:50]:
                self.stderr.write(f"{error.get('line')}: {error.get('field')}: {error.get('reason')}")
            raise CommandError(exc.message, returncode=1) from None
        except SanjiError as exc:
            raise CommandError(exc.message, returncode=1) from None
