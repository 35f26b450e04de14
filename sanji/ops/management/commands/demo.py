"""``sanji demo``: migrate, seed the Hohhot demo (once), print the logins and serve.

``sanji demo --no-serve`` does everything but serving; ``sanji demo totp USERNAME`` prints a demo
person's current second-factor code. The first run also seeds the demo cases
(:mod:`sanji.ops.demo_cases`); ``--cases N`` sets how many (0: none). Every run then does what the
platform's scheduled jobs would have done by now (:mod:`sanji.ops.demo_oversight`).
"""

from __future__ import annotations

import os
import time
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from sanji.ops import demo, demo_cases, demo_oversight


class Command(BaseCommand):
    help = "Set up and serve the embedded Hohhot demo."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", nargs="?", choices=["totp"], help="totp USERNAME: a demo person's code")
        parser.add_argument("username", nargs="?")
        parser.add_argument("--no-serve", action="store_true", help="set up everything but do not serve")
        parser.add_argument("--port", type=int, default=int(os.environ.get("SANJI_PORT", "8000")))
        parser.add_argument(
            "--cases",
            type=int,
            default=int(os.environ.get("SANJI_DEMO_CASES", str(demo_cases.DEFAULT_COUNT))),
            help="demo cases seeded on the first run (default %(default)s; 0: none)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "totp":
            try:
                self.stdout.write(demo.totp_now(options["username"] or ""))
            except LookupError as exc:
                raise CommandError(str(exc)) from exc
            return
        started = time.monotonic()
        call_command("migrate", interactive=False, verbosity=0)
        logins = demo.load_logins()
        first_run = logins is None
        if logins is None:
            self.stdout.write("Seeding the Hohhot demo (first run)…")
            for line in demo.seed_reference_data():
                self.stdout.write(f"  {line}")
            logins = demo.seed_people()
            if options["cases"] > 0:
                self.stdout.write(
                    f"  seeding {options['cases']} demo cases over the past six months "
                    "(a few minutes; --cases N or SANJI_DEMO_CASES=N to change)…"
                )
                summary = demo_cases.seed_demo_cases(
                    count=options["cases"],
                    progress=lambda done, total: self.stdout.write(f"    {done}/{total} cases"),
                )
                self.stdout.write(f"  {summary.line()}")
        # What the platform's scheduled jobs would have done by now (sanji.ops.demo_oversight).
        for line in demo_oversight.run_periodic_jobs(first_run=first_run):
            self.stdout.write(f"  {line}")
        base_url = f"http://127.0.0.1:{options['port']}/"
        self.stdout.write(demo.format_logins(logins, base_url))
        self.stdout.write(f"Ready in {time.monotonic() - started:.1f} s.")
        if not options["no_serve"]:
            call_command("serve", port=options["port"])
