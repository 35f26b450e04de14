"""``sanji audit verify | purge | export``: operate the audit trail from the command line.

- ``verify`` walks the chain from the latest checkpoint (or genesis); exit 0 when intact,
  1 naming the first changed, removed or inserted entry.
- ``purge --before YYYY-MM-DD`` removes entries older than that day (city time), at least
  ``SANJI_AUDIT_MIN_RETENTION_DAYS`` old, leaving a signed checkpoint; run as the system actor.
- ``export --out FILE`` writes the whole trail (or ``--since``/``--until`` days) as CSV, e.g. to
  archive it before a purge.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sanji.audit import exports, services
from sanji.audit.verify import verify_chain
from sanji.core.actors import system_actor
from sanji.core.clock import CITY_TZ
from sanji.core.errors import SanjiError


def _day(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"not a date (YYYY-MM-DD): {value}") from None


def _start_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=CITY_TZ)


#: The command's own words for a refused purge, by the refusal's ``details["code"]``: its output
#: stays English, while the service words the refusal for the pages' (Chinese) readers.
_REFUSALS = {
    "retention": "audit entries are kept at least {min_days} days: the cut-off must be on or before {latest}",
    "chain_broken": "refusing to purge a broken chain: {problem}",
    "purged_concurrently": "the audit trail was purged concurrently; run the purge again",
    "entry_missing": "refusing to purge: entry #{seq} is missing",
}


def _in_english(exc: SanjiError) -> str:
    details = exc.details if isinstance(exc.details, dict) else {}
    wording = _REFUSALS.get(str(details.get("code", "")))
    return wording.format(**details) if wording is not None else exc.message


class Command(BaseCommand):
    help = "Verify, purge or export the audit trail (痕迹保留)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        verify = sub.add_parser("verify", help="recompute the hash chain; exit 1 at the first break")
        verify.add_argument("--chunk-size", type=int, default=20_000)
        purge = sub.add_parser("purge", help="remove old entries, leaving a signed checkpoint")
        purge.add_argument("--before", required=True, help="YYYY-MM-DD: entries before this day (city time)")
        export = sub.add_parser("export", help="write entries as CSV")
        export.add_argument("--out", required=True, help="file to write ('-' for standard output)")
        export.add_argument("--since", help="YYYY-MM-DD, inclusive")
        export.add_argument("--until", help="YYYY-MM-DD, inclusive")

    def handle(self, *args: Any, **options: Any) -> None:
        subcommand = options["subcommand"]
        if subcommand == "verify":
            self._verify(options)
        elif subcommand == "purge":
            self._purge(options)
        else:
            self._export(options)

    def _verify(self, options: dict[str, Any]) -> None:
        result = verify_chain(chunk_size=options["chunk_size"])
        if not result.ok:
            self.stderr.write(result.message)
            sys.exit(1)
        self.stdout.write(result.message)

    def _purge(self, options: dict[str, Any]) -> None:
        before = _start_of(_day(options["before"]))
        try:
            checkpoint = services.audit_purge(
                actor=system_actor("sanji audit purge", channel="cli"), before=before
            )
        except SanjiError as exc:
            raise CommandError(_in_english(exc)) from None
        if checkpoint is None:
            self.stdout.write(f"nothing to purge before {options['before']}")
            return
        self.stdout.write(
            f"purged {checkpoint.purged_count} entries up to #{checkpoint.seq}; "
            f"checkpoint #{checkpoint.seq} signed with key {checkpoint.key_id}"
        )

    def _export(self, options: dict[str, Any]) -> None:
        since = _start_of(_day(options["since"])) if options["since"] else None
        until = _start_of(_day(options["until"]) + dt.timedelta(days=1)) if options["until"] else None
        export = services.audit_archive(
            actor=system_actor("sanji audit export", channel="cli"), since=since, until=until
        )
        if options["out"] == "-":
            for line in exports.csv_lines(export.rows, bom=False):
                self.stdout.write(line, ending="")
            return
        with Path(options["out"]).open("w", encoding="utf-8", newline="") as fh:
            fh.writelines(exports.csv_lines(export.rows, bom=False))
        self.stdout.write(f"wrote {export.count} entries to {options['out']}")
