"""``sanji population``: the population registry from the command line.

- ``import FILE`` — import people (CSV UTF-8/GB18030 or .xlsx); prints ONE summary line (rows,
  imported, rejected, the error report's path). Exit 0 when the file was processed, even with
  rejected rows; 1 when the file itself cannot be read (missing, unreadable, bad header).
- ``generate --residents N --out FILE.csv [--seed S]`` — synthetic Hohhot residents in the import
  format (no database needed).
- ``seed-places CITY_CODE`` — synthetic boundaries, grids and buildings for every community.
- ``import-boundaries FILE.geojson`` — community and grid boundaries, all or nothing.
- ``rekey --previous NAME[,NAME]`` — re-encrypt the population's ID numbers (people, pending
  changes) under the current field key; ``sanji rekey`` does it for every app at once.
- ``feed-export --user USERNAME --out DIR [--batch N]`` — write the change feed that user may read
  (a department system or department data officer) after the user's cursor to DIR as signed
  packages for the department's front-end processor (前置机); prints ONE summary line. Exit 1 when
  refused: an unknown or inactive user, a user who does not read the feed, a missing or
  unwritable directory.
- ``feed-key`` — print the id and the public key (PEM) that verify the packages' signatures.

All but ``feed-export`` act as the platform (channel ``cli``); ``feed-export`` acts as the named
user on channel ``cli``. The audit trail names the operating-system user either way.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sanji.accounts import selectors as account_selectors
from sanji.accounts.models import User
from sanji.core import clock
from sanji.core.actors import Actor, cli_actor
from sanji.core.errors import SanjiError, ValidationFailed
from sanji.population import generator, services


class Command(BaseCommand):
    help = (
        "Population registry: import, generate synthetic residents, seed places, rotate keys, "
        "export the change feed as files."
    )

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
        rekey.add_argument("--batch", type=int, default=1000)
        feed = sub.add_parser("feed-export", help="write the change feed a user reads as packages")
        feed.add_argument("--user", required=True, help="a department system or department data officer")
        feed.add_argument("--out", required=True, help="the front-end processor's outbox directory")
        feed.add_argument("--batch", type=int, default=1000, help="entries per package (1 to 1000)")
        sub.add_parser("feed-key", help="print the public key that verifies the feed packages")

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
            elif action == "feed-export":
                exported = services.feed_export(
                    actor=_user_actor(options["user"]),
                    out_dir=Path(options["out"]),
                    batch=options["batch"],
                    operator=actor.username,
                )
                self.stdout.write(exported.summary())
            elif action == "feed-key":
                key_id, pem = services.feed_public_key()
                self.stdout.write(f"key id {key_id}\n{pem}", ending="")
            else:
                previous = [p.strip() for p in options["previous"].split(",") if p.strip()]
                self.stdout.write(
                    services.population_rekey(
                        actor=actor, previous=previous, batch=options["batch"]
                    ).summary()
                )
        except OSError as exc:
            what = f"write to {options['out']}" if action == "feed-export" else f"read {options.get('file')}"
            raise CommandError(f"cannot {what}: {exc.strerror or exc}", returncode=1) from None
        except ValidationFailed as exc:
            if action != "feed-export":  # the problems of a file, line by line
                for error in (exc.details or [])[:50]:
                    self.stderr.write(f"{error.get('line')}: {error.get('field')}: {error.get('reason')}")
            raise CommandError(exc.message, returncode=1) from None
        except SanjiError as exc:
            raise CommandError(exc.message, returncode=1) from None


def _user_actor(username: str) -> Actor:
    """The named active user as an actor on the command line (their own grants, channel ``cli``)."""
    user = User.objects.filter(username=username, is_active=True).first()
    if user is None:
        raise CommandError(f"No active user {username!r}.", returncode=1)
    return account_selectors.actor_for(user, channel="cli")
