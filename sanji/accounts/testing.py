"""Helpers for page tests (of every app) that need a signed-in person past all sign-in steps.

``client.force_login(user)`` alone leaves the steps the middleware enforces (forced password change,
second-factor enrolment and verification) owed, so pages would redirect. :func:`sign_in` does what the
login page and the steps would have done, through the real services where there are any.
"""

from __future__ import annotations

import pyotp
from django.test import Client

from sanji.accounts import policies, selectors, services
from sanji.accounts.middleware import (
    SESSION_LAST_ACTIVITY,
    SESSION_MFA_OK,
    SESSION_TERMINAL,
    SESSION_TERMINAL_BINDING,
)
from sanji.accounts.models import User
from sanji.core import clock, crypto
from sanji.orgs.models import Terminal


def totp_code(user: User, *, offset_steps: int = 0) -> str:
    """The current code of ``user``'s (pending or confirmed) TOTP secret."""
    user.refresh_from_db()
    secret = crypto.decrypt(user.totp_secret)
    step = int(clock.now().timestamp()) // services.TOTP_INTERVAL + offset_steps
    return str(pyotp.TOTP(secret, interval=services.TOTP_INTERVAL).generate_otp(step))


def enrol_totp(user: User) -> None:
    services.totp_begin(user=user)
    services.totp_confirm(user=user, code=totp_code(user), ip="127.0.0.1")


def sign_in(client: Client, user: User, *, terminal: Terminal | None = None) -> None:
    """Log ``client`` in as ``user`` with every sign-in step done (password current, TOTP passed)."""
    User.objects.filter(pk=user.pk).update(must_change_password=False, password_changed_at=clock.now())
    user.refresh_from_db()
    roles = {g.role for g in selectors.grants_for_user(user.pk)}
    if policies.needs_second_factor(roles) and user.totp_confirmed_at is None:
        enrol_totp(user)
        user.refresh_from_db()
    client.force_login(user)
    session = client.session
    session[SESSION_MFA_OK] = True
    session[SESSION_LAST_ACTIVITY] = clock.now().timestamp()
    if terminal is not None:
        from sanji.accounts.terminals import binding

        session[SESSION_TERMINAL] = terminal.pk
        session[SESSION_TERMINAL_BINDING] = binding(terminal)
    session.save()
