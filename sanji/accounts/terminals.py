"""The terminal binding of a browser (终端绑定).

A staff browser is enrolled once by typing the terminal's enrolment code ``"<terminal code>:<secret>"``
on the login page. It then keeps the httponly cookie ``sanji_terminal``, signed with
:mod:`django.core.signing` (salted), holding the terminal id and a binding digest derived from the
terminal's stored secret hash. Re-keying the terminal changes the secret hash and so invalidates every
cookie; deactivating it makes the id refer to an inactive terminal. The secret itself never leaves the
enrolment form.
"""

from __future__ import annotations

import hmac
import ipaddress
from dataclasses import dataclass

from django.core import signing
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from sanji.core.errors import NotFound
from sanji.orgs import services as orgs_services
from sanji.orgs.models import Terminal

COOKIE_NAME = "sanji_terminal"
COOKIE_SALT = "sanji.accounts.terminal-cookie"
COOKIE_MAX_AGE = 400 * 24 * 3600  # browsers cap cookie lifetimes at 400 days
_BINDING_SALT = "sanji.accounts.terminal-binding"


class TerminalCookieInvalid(Exception):
    """The cookie is forged, tampered with, or refers to a re-keyed or deactivated terminal."""


@dataclass(frozen=True)
class CookieState:
    """What the login page knows about the browser's terminal before anyone types anything."""

    present: bool
    terminal: Terminal | None

    @property
    def invalid(self) -> bool:
        return self.present and self.terminal is None


def binding(terminal: Terminal) -> str:
    """A digest of the terminal's secret hash, keyed with SECRET_KEY: changes when it is re-keyed."""
    return salted_hmac(_BINDING_SALT, f"{terminal.pk}:{terminal.secret_hash}", algorithm="sha256").hexdigest()


def cookie_value(terminal: Terminal) -> str:
    return signing.dumps({"t": terminal.pk, "b": binding(terminal)}, salt=COOKIE_SALT, compress=False)


def terminal_from_cookie(value: str) -> Terminal:
    """The active terminal the cookie names; :class:`TerminalCookieInvalid` otherwise."""
    try:
        payload = signing.loads(value, salt=COOKIE_SALT, max_age=COOKIE_MAX_AGE)
        terminal_id = int(payload["t"])
        digest = str(payload["b"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise TerminalCookieInvalid() from None
    terminal = (
        Terminal.objects.select_related("unit").filter(pk=terminal_id, active=True, unit__active=True).first()
    )
    if terminal is None or not hmac.compare_digest(digest, binding(terminal)):
        raise TerminalCookieInvalid()
    return terminal


def read_cookie(value: str | None) -> CookieState:
    if not value:
        return CookieState(present=False, terminal=None)
    try:
        return CookieState(present=True, terminal=terminal_from_cookie(value))
    except TerminalCookieInvalid:
        return CookieState(present=True, terminal=None)


def session_binding_valid(terminal_id: int, stored_binding: str) -> Terminal | None:
    """The session's terminal if it is still active and not re-keyed since login."""
    terminal = Terminal.objects.filter(pk=terminal_id, active=True, unit__active=True).first()
    if terminal is None or not hmac.compare_digest(stored_binding, binding(terminal)):
        return None
    return terminal


def ip_allowed(terminal: Terminal, ip: str) -> bool:
    """A terminal registered with an address may only be used from it."""
    if not terminal.ip_address:
        return True
    try:
        return ipaddress.ip_address(terminal.ip_address) == ipaddress.ip_address(ip)
    except ValueError:
        return False


def authenticate_code(*, enrolment_code: str, ip: str) -> Terminal:
    """Check an enrolment code ``"<code>:<secret>"`` (``sanji.orgs.services.terminal_authenticate``).

    Raises :class:`NotFound` for a malformed code, an unknown or inactive terminal or a wrong secret,
    and :class:`Forbidden` when the terminal is registered for another IP address.
    """
    code, sep, secret = enrolment_code.strip().partition(":")
    if not sep or not code or not secret:
        raise NotFound(_("终端登记码格式不正确，应为“终端编号:密钥”。"), details={"code": "malformed_code"})
    return orgs_services.terminal_authenticate(code=code, secret=secret, ip=ip)
