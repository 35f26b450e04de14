import datetime as dt

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from sanji.accounts import passwords, services
from sanji.accounts.models import PasswordHistory, User
from sanji.core import clock
from sanji.core.errors import ValidationFailed

from .conftest import PASSWORD


@pytest.mark.parametrize(
    ("password", "ok"),
    [
        ("Abcdefghij1!", True),  # 12, four classes
        ("abcdefghij1!", True),  # three classes: lower, digit, symbol
        ("ABCDEFGHIJ1a", True),  # upper, digit, lower
        ("Abcdefghijk!", True),  # upper, lower, symbol
        ("Abcdefghi1!", False),  # 11 characters
        ("abcdefghijkl", False),  # one class
        ("abcdefghij12", False),  # two classes
        ("ABCDEFGH!!!!", False),  # two classes
        ("长城长城长城长城长城长城1A", False),  # CJK letters have no case: length, but no class
        ("长城长城长城长城长城长城1a!", True),
        ("            ", False),
    ],
)
def test_length_and_classes(password, ok):
    validator = passwords.LengthAndClassesValidator()
    if ok:
        validator.validate(password)
    else:
        with pytest.raises(ValidationError):
            validator.validate(password)


@pytest.mark.parametrize(
    ("username", "password", "ok"),
    [
        ("zhangsan", "Zhangsan#2024", False),
        ("zhangsan", "xxZHANGSANxx1!", False),
        ("zhangsan", "Lisi#20242024", True),
        ("li", "Li#2024abcdefg", True),  # usernames under 3 characters are not checked
        ("wangwu", "Wang#Wu202420", True),
    ],
)
def test_no_username(username, password, ok):
    user = User(username=username)
    validator = passwords.NoUsernameValidator()
    if ok:
        validator.validate(password, user)
    else:
        with pytest.raises(ValidationError):
            validator.validate(password, user)


def test_generated_passwords_satisfy_the_policy():
    for _ in range(50):
        raw = passwords.password_generate()
        assert len(raw) == 16
        assert passwords.character_classes(raw) == 4
        validate_password(raw, User(username="someone"))


def test_settings_use_argon2_and_all_three_validators():
    from sanji import settings as project  # the module itself: tests swap in a fast hasher

    assert project.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    names = [v["NAME"].rsplit(".", 1)[1] for v in project.AUTH_PASSWORD_VALIDATORS]
    assert names == ["LengthAndClassesValidator", "NoUsernameValidator", "NotRecentlyUsedValidator"]


def test_history_of_five(argon2, make_user):
    user = make_user("historian")
    current = PASSWORD
    used = [PASSWORD]
    for i in range(5):
        new = f"Rotation#{i}xyzAB"
        services.password_change(user=user, old_password=current, new_password=new, ip="10.0.0.1")
        used.append(new)
        current = new
    assert PasswordHistory.objects.filter(user=user).count() == 5
    # The last five (including the current one) are refused …
    for old in used[-5:-1]:
        with pytest.raises(ValidationFailed):
            services.password_change(user=user, old_password=current, new_password=old, ip="10.0.0.1")
    # … the sixth-last is allowed again.
    services.password_change(user=user, old_password=current, new_password=used[0], ip="10.0.0.1")
    user.refresh_from_db()
    assert user.check_password(used[0])
    assert user.password.startswith("argon2")


def test_expiry_after_90_days(make_user):
    user = make_user("expiring")
    assert not passwords.password_change_required(user)
    later = user.password_changed_at + dt.timedelta(days=90, seconds=1)
    with clock.frozen(later):
        assert passwords.password_expired(user)
        assert passwords.password_change_required(user)
    with clock.frozen(user.password_changed_at + dt.timedelta(days=89)):
        assert not passwords.password_change_required(user)


def test_new_account_must_change(platform):
    user, raw = services.user_create(actor=platform, username="newbie", full_name="新人")
    assert user.must_change_password
    assert passwords.password_change_required(user)
    assert user.check_password(raw)
    assert passwords.character_classes(raw) == 4


def test_weak_or_username_password_refused_on_change(make_user):
    user = make_user("weakling")
    with pytest.raises(ValidationFailed):
        services.password_change(user=user, old_password=PASSWORD, new_password="short1A!", ip="")
    with pytest.raises(ValidationFailed):
        services.password_change(user=user, old_password=PASSWORD, new_password="Weakling#20245", ip="")
    with pytest.raises(ValidationFailed, match="当前密码不正确"):
        services.password_change(user=user, old_password="wrong", new_password="Perfectly#Fine42", ip="")
