"""Password policy (GB/T 22239 level 3 practice), as Django password validators.

* at least 12 characters drawn from at least 3 of the 4 classes upper, lower, digit, symbol;
* must not contain the username (case-insensitive; usernames shorter than 3 characters are ignored,
  otherwise "li" would forbid half the dictionary);
* must not be one of the last ``settings.SANJI_PASSWORD_HISTORY`` passwords (hashes in PasswordHistory);
* expires after ``settings.SANJI_PASSWORD_MAX_AGE_DAYS`` (:func:`password_expired`).

Referenced from ``settings.AUTH_PASSWORD_VALIDATORS``; :func:`django.contrib.auth.password_validation.
validate_password` runs all three.
"""

from __future__ import annotations

import datetime as dt
import secrets
import string
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from sanji.core import clock

if TYPE_CHECKING:
    from sanji.accounts.models import User

MIN_LENGTH = 12
MIN_CLASSES = 3
SYMBOLS = set(string.punctuation) | {" "}


def character_classes(password: str) -> int:
    """How many of the four classes (upper, lower, digit, symbol) ``password`` uses."""
    upper = any(c.isupper() for c in password)
    lower = any(c.islower() for c in password)
    digit = any(c.isdigit() for c in password)
    # Anything that is not a letter or digit counts as a symbol (also full-width punctuation).
    symbol = any(not c.isalnum() for c in password)
    return sum((upper, lower, digit, symbol))


class LengthAndClassesValidator:
    def __init__(self, min_length: int = MIN_LENGTH, min_classes: int = MIN_CLASSES) -> None:
        self.min_length = min_length
        self.min_classes = min_classes

    def validate(self, password: str, user: Any = None) -> None:
        if len(password) < self.min_length or character_classes(password) < self.min_classes:
            raise ValidationError(self.get_help_text(), code="password_too_weak")

    def get_help_text(self) -> str:
        return _(
            "密码至少 %(length)d 位，且须包含大写字母、小写字母、数字、符号中的至少 %(classes)d 类。"
        ) % {
            "length": self.min_length,
            "classes": self.min_classes,
        }


class NoUsernameValidator:
    def validate(self, password: str, user: Any = None) -> None:
        username = str(getattr(user, "username", "") or "")
        if len(username) >= 3 and username.lower() in password.lower():
            raise ValidationError(self.get_help_text(), code="password_contains_username")

    def get_help_text(self) -> str:
        return _("密码不得包含用户名。")


class NotRecentlyUsedValidator:
    def __init__(self, history: int | None = None) -> None:
        self._history = history

    @property
    def history(self) -> int:
        return self._history if self._history is not None else int(settings.SANJI_PASSWORD_HISTORY)

    def validate(self, password: str, user: Any = None) -> None:
        if user is None or getattr(user, "pk", None) is None:
            return
        from sanji.accounts.models import PasswordHistory

        hashes = PasswordHistory.objects.filter(user_id=user.pk).values_list("password_hash", flat=True)
        if any(check_password(password, h) for h in hashes[: self.history]):
            raise ValidationError(self.get_help_text(), code="password_recently_used")

    def get_help_text(self) -> str:
        return _("不得使用最近 %(count)d 次用过的密码。") % {"count": self.history}


def password_expires_at(user: User) -> dt.datetime | None:
    """When the current password expires (``None``: never set through Sanji, so no known age)."""
    if user.password_changed_at is None:
        return None
    return user.password_changed_at + dt.timedelta(days=int(settings.SANJI_PASSWORD_MAX_AGE_DAYS))


def password_expired(user: User) -> bool:
    expires = password_expires_at(user)
    return expires is not None and expires <= clock.now()


def password_change_required(user: User) -> bool:
    """First login, after a reset by the security administrator, or after the maximum age."""
    return bool(user.must_change_password) or password_expired(user)


# No look-alikes (0/O, 1/l/I) in generated passwords: they are read out or copied from a screen.
_GEN_UPPER = "ABCDEFGHJKLMNPQRSTUVWXYZ"
_GEN_LOWER = "abcdefghijkmnpqrstuvwxyz"
_GEN_DIGIT = "23456789"
_GEN_SYMBOL = "!#$%&*+-=?@^_"


def password_generate(length: int = 16) -> str:
    """A random password that satisfies the policy (all four classes)."""
    pools = (_GEN_UPPER, _GEN_LOWER, _GEN_DIGIT, _GEN_SYMBOL)
    chars = [secrets.choice(pool) for pool in pools]
    alphabet = "".join(pools)
    chars += [secrets.choice(alphabet) for _ in range(length - len(chars))]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)
