"""Citizen self-registration on the portal (applicant_register)."""

from __future__ import annotations

import pytest

from sanji.accounts import services
from sanji.accounts.models import PasswordHistory, User
from sanji.accounts.tests.conftest import PASSWORD, last_entry
from sanji.core import crypto
from sanji.core.errors import ValidationFailed

ID = "150102199003071237"


def register(**overrides: str) -> User:
    values = {
        "username": "citizen1",
        "full_name": "张三",
        "id_number": ID,
        "phone": "13800000000",
        "password": PASSWORD,
        "ip": "10.0.0.9",
    }
    values.update(overrides)
    return services.applicant_register(**values)


@pytest.mark.django_db
def test_register_creates_an_applicant_without_role_or_forced_change() -> None:
    user = register(id_number=" 150102199003071237 ")
    assert user.full_name == "张三"
    assert user.phone == "13800000000"
    assert user.id_number_index == crypto.blind_index(ID, purpose="applicant")
    assert ID not in user.id_number_index
    assert not user.must_change_password
    assert user.password_changed_at is not None
    assert user.check_password(PASSWORD)
    assert not user.role_assignments.exists()
    assert PasswordHistory.objects.filter(user=user).count() == 1
    entry = last_entry("accounts.applicant_registered")
    assert entry.actor_username == "citizen1"
    assert entry.target_id == str(user.pk)


@pytest.mark.django_db
def test_applicant_logs_in_without_a_terminal() -> None:
    register()
    result = services.login_attempt(username="citizen1", password=PASSWORD, ip="10.0.0.9", terminal=None)
    assert result.ok
    assert not result.password_change_required
    assert not result.totp_enrolment_required


@pytest.mark.django_db
@pytest.mark.parametrize(
    "overrides",
    [
        {"id_number": "150102199003071238"},  # wrong check digit
        {"id_number": "12345"},
        {"full_name": "  "},
        {"username": "bad name!"},
        {"password": "short"},
        {"password": "citizen1-Long#Password"},  # contains the username
    ],
)
def test_register_refuses_bad_input(overrides: dict[str, str]) -> None:
    with pytest.raises(ValidationFailed):
        register(**overrides)
    assert not User.objects.exists()


@pytest.mark.django_db
def test_one_account_per_username_and_per_id_number() -> None:
    register()
    with pytest.raises(ValidationFailed):
        register(username="CITIZEN1", id_number="11010519491231002X")
    with pytest.raises(ValidationFailed, match="已注册"):
        register(username="citizen2")
    assert User.objects.count() == 1
