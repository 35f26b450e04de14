"""``sanji create_security_admin`` — bootstrap the first security administrator (安全管理员).

Every other account is created by a security administrator on the user pages; the first one has to
come from the command line of the server, acting as the platform. The initial password is printed
once and must be changed at first login; the second factor is enrolled at first login too.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import translation

from sanji.accounts import services
from sanji.core.actors import system_actor
from sanji.core.errors import SanjiError
from sanji.core.roles import Role
from sanji.orgs.models import Unit


class Command(BaseCommand):
    help = "Create a security administrator holding the role in the given unit; prints the initial password."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--full-name", required=True)
        parser.add_argument("--unit", required=True, help="code of the unit (its region is the reach)")

    @translation.override("en")  # the operators' shell speaks English
    def handle(self, *args: Any, **options: Any) -> None:
        unit = Unit.objects.filter(code=options["unit"], active=True).first()
        if unit is None:
            raise CommandError(f"No active unit with code {options['unit']!r}.")
        platform = system_actor("create_security_admin")  # the audit names the command
        try:
            with transaction.atomic():
                user, raw = services.user_create(
                    actor=platform, username=options["username"], full_name=options["full_name"]
                )
                services.role_grant(actor=platform, user=user, role=Role.SECURITY_ADMIN, unit=unit)
        except SanjiError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"Created {user.username} (security administrator at {unit.code} {unit.name}).")
        self.stdout.write(f"Initial password (shown once, must be changed at first login): {raw}")
