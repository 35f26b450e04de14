"""``sanji reset_credentials USERNAME`` — reset a person's password and/or second factor as the platform.

三员分立: the security administrator may not reset the credentials of the three administrators
(:func:`sanji.accounts.policies.can_reset_credentials`), since whoever resets them holds a secret
that signs in as that administrator. The operator of the server does it here instead; the audit
trail names the operator. The temporary password is printed once and must be changed at the next
login; a reset second factor is enrolled again at the next login.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation

from sanji.accounts import services
from sanji.accounts.models import User
from sanji.core.actors import cli_actor
from sanji.core.errors import SanjiError


class Command(BaseCommand):
    help = "Reset a person's password (printed once) and/or second factor, acting as the platform."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--password", action="store_true", help="issue a temporary password")
        parser.add_argument("--second-factor", action="store_true", help="remove the TOTP enrolment")

    @translation.override("en")  # the operators' shell speaks English
    def handle(self, *args: Any, **options: Any) -> None:
        if not (options["password"] or options["second_factor"]):
            raise CommandError("Say what to reset: --password, --second-factor or both.")
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"No user {options['username']!r}.")
        platform = cli_actor()  # the audit names the operator (cli:<OS user>)
        try:
            if options["second_factor"]:
                services.user_totp_reset(actor=platform, user=user)
                self.stdout.write(f"Second factor of {user.username} removed; enrolled again at next login.")
            if options["password"]:
                raw = services.user_password_reset(actor=platform, user=user)
                self.stdout.write(
                    f"Temporary password of {user.username} (shown once, must be changed): {raw}"
                )
        except SanjiError as exc:
            raise CommandError(exc.message) from None
