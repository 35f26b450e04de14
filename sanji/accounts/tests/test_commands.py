import io

import pytest
from django.core.management import CommandError, call_command

from sanji.accounts.models import RoleAssignment, User
from sanji.audit.models import Entry


def test_create_security_admin(units):
    out = io.StringIO()
    call_command(
        "create_security_admin",
        "firstadmin",
        "--full-name",
        "首任安全管理员",
        "--unit",
        "OP-150100",
        stdout=out,
    )
    user = User.objects.get(username="firstadmin")
    assert user.must_change_password
    raw = out.getvalue().rsplit(": ", 1)[1].strip()
    assert user.check_password(raw)
    assert RoleAssignment.objects.get(user=user).role == "security_admin"
    assert Entry.objects.filter(
        action="accounts.role_granted", actor_username="create_security_admin"
    ).exists()


def test_create_security_admin_refuses_unknown_unit_and_duplicates(units):
    with pytest.raises(CommandError):
        call_command("create_security_admin", "x1", "--full-name", "x", "--unit", "NOPE")
    call_command(
        "create_security_admin", "dup", "--full-name", "x", "--unit", "OP-150100", stdout=io.StringIO()
    )
    with pytest.raises(CommandError):
        call_command("create_security_admin", "dup", "--full-name", "x", "--unit", "OP-150100")
