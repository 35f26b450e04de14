"""``sanji cases``: case housekeeping from the shell.

    sanji cases sweep      deem overdue acceptances accepted (Art. 32), refresh every open case's
                           deadlines and remaining working days, and remove uploaded files that no
                           attachment names (left by a crash mid-upload); run it daily

Runs as the platform itself (``system_actor("sweep", channel="cli")``).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation

from sanji.cases import services
from sanji.core.actors import system_actor
from sanji.core.errors import SanjiError


class Command(BaseCommand):
    help = "Case housekeeping: the daily sweep (deemed acceptances, deadline refresh, orphaned files)."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        actions.add_parser("sweep", help="deem overdue acceptances, refresh deadlines, remove orphaned files")

    # The operators' shell speaks English; the services' messages follow the active language.
    @translation.override("en")
    def handle(self, *args: Any, **options: Any) -> None:
        actor = system_actor("sweep", channel="cli")
        try:
            deemed = services.case_deem_overdue_acceptances(actor=actor)
            refreshed = services.case_deadlines_refresh(actor=actor)
            orphans = services.attachment_orphans_remove(actor=actor)
        except SanjiError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"deemed accepted: {len(deemed)}")
        for number in deemed:
            self.stdout.write(f"  {number}")
        self.stdout.write(f"deadlines refreshed: {refreshed}")
        self.stdout.write(f"orphaned files removed: {len(orphans)}")
        for path in orphans:
            self.stdout.write(f"  {path}")
