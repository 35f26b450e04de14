"""``sanji rekey``: one line per table, and clear refusals that write nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from sanji.accounts.models import User
from sanji.audit.models import Entry
from sanji.core import crypto

pytestmark = pytest.mark.django_db


def _user_with_secret(username: str) -> User:
    user = User.objects.create_user(username=username, password="x", full_name=username)
    user.totp_secret = crypto.encrypt("JBSWY3DPEHPK3PXP")
    user.save(update_fields=["totp_secret"])
    return user


def test_rekey_prints_a_line_per_table_and_moves_the_values(
    field_key_rotation: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    users = [_user_with_secret(f"u{i}") for i in range(3)]
    field_key_rotation.rotate()
    call_command("rekey", "--previous", field_key_rotation.OLD, "--batch", "2")
    lines = capsys.readouterr().out.splitlines()
    current = crypto.key_id(crypto.secret_key("field"))
    assert lines == [
        f"people: 0 examined, 0 re-encrypted with key {current}",
        f"population changes: 0 examined, 0 re-encrypted with key {current}",
        f"cases: 0 examined, 0 re-encrypted with key {current}",
        f"accounts: 3 examined, 3 re-encrypted with key {current}",
    ]
    assert set(Entry.objects.values_list("action", flat=True)) == {
        "population.rekeyed",
        "cases.rekeyed",
        "accounts.totp_rekeyed",
    }
    field_key_rotation.retire_old_key()
    for user in users:
        user.refresh_from_db()
        assert crypto.decrypt(user.totp_secret) == "JBSWY3DPEHPK3PXP"


def test_refusals_leave_the_values_as_they_were(field_key_rotation: Any, settings: Any) -> None:
    user = _user_with_secret("u1")
    before = user.totp_secret
    field_key_rotation.rotate(tell_readers=False)
    with pytest.raises(CommandError, match="'field-2024' is neither") as missing:
        call_command("rekey", "--previous", "field-2024")
    assert missing.value.returncode == 1
    assert not (settings.KEY_DIR / "field-2024.key").exists()  # a misspelt name creates no key
    crypto.secret_key("field-other")  # a key that exists but did not make the values
    with pytest.raises(CommandError, match="no key with id") as wrong:
        call_command("rekey", "--previous", "field-other")
    assert wrong.value.returncode == 1
    user.refresh_from_db()
    assert user.totp_secret == before
    with pytest.raises(CommandError, match="Name the old key"):
        call_command("rekey", "--previous", " , ")
    (settings.KEY_DIR / "field-other.key").unlink()
