"""``sanji rekey --previous NAME[,NAME]``: move every value encrypted with the field key to the current key.

A key rotation without downtime, for the whole platform (:mod:`sanji.core.rekey`):

1. keep the old key under a new name (``KEY_DIR/field-2025.key``, or ``SANJI_KEY_FIELD_2025``) and
   install the new one as ``field``;
2. set ``SANJI_PREVIOUS_FIELD_KEYS=field-2025`` for the platform's processes and restart them:
   every reader decrypts old and new values alike, every writer writes under the new key;
3. run ``sanji rekey --previous field-2025``: the population's ID numbers (people and pending
   changes), the applicants' ID numbers on cases and the second-factor secrets of the accounts,
   in short batches while the platform serves; run it again after an interruption;
4. once it has run to the end (writers meanwhile wrote under the new key already), remove the
   old key and the setting; a second run then re-encrypts nothing.

Prints one line per table and exits 0; 1 when refused or when a value decrypts with none of the
keys named (nothing of that batch was written).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation

from sanji.accounts import services as accounts
from sanji.cases import services as cases
from sanji.core import crypto
from sanji.core.actors import cli_actor
from sanji.core.errors import SanjiError
from sanji.population import services as population


class Command(BaseCommand):
    help = "Re-encrypt every value under the current field key (a key rotation without downtime)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--previous", required=True, help="comma-separated names of the old key(s)")
        parser.add_argument("--batch", type=int, default=1000, help="rows per transaction")

    @translation.override("en")  # the operators' shell speaks English
    def handle(self, *args: Any, **options: Any) -> None:
        previous = tuple(p.strip() for p in options["previous"].split(",") if p.strip())
        if not previous:
            raise CommandError("Name the old key(s) with --previous.", returncode=1)
        actor = cli_actor()
        batch = options["batch"]
        try:
            people = population.population_rekey(actor=actor, previous=previous, batch=batch)
            applicants = cases.case_rekey(actor=actor, previous=previous, batch=batch)
            secrets = accounts.totp_rekey(actor=actor, previous=previous, batch=batch)
        except SanjiError as exc:
            raise CommandError(exc.message, returncode=1) from None
        except ValueError as exc:  # a value no named key decrypts
            raise CommandError(f"{exc}; name every old key with --previous", returncode=1) from None
        lines = [
            ("people", people.examined, people.reencrypted),
            ("population changes", people.changes_examined, people.changes_reencrypted),
            ("cases", applicants.examined, applicants.reencrypted),
            ("accounts", secrets.examined, secrets.reencrypted),
        ]
        current = crypto.key_id(crypto.secret_key("field"))
        for table, examined, changed in lines:
            self.stdout.write(f"{table}: {examined} examined, {changed} re-encrypted with key {current}")
