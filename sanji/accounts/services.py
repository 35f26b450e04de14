"""Writes about accounts: sign-in, passwords, second factor, users, roles, API tokens.

Every function is keyword-only, runs in one transaction, checks :mod:`sanji.accounts.policies` and
records its audit entry in that same transaction. Sign-in functions return a result instead of raising
when the attempt is refused, so that the failure counters and the audit entry of a refused attempt are
committed too.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

import pyotp
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from sanji.accounts import policies, selectors, terminals
from sanji.accounts.models import ApiToken, LoginThrottle, PasswordHistory, RoleAssignment, User
from sanji.accounts.passwords import password_change_required, password_generate
from sanji.accounts.scopes import unknown_scopes
from sanji.audit.services import record
from sanji.core import clock, crypto, idnumber
from sanji.core.actors import Actor
from sanji.core.authz import is_platform
from sanji.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from sanji.core.rekey import RekeyCount, rekey_model
from sanji.core.roles import STAFF_ROLES, Role
from sanji.orgs.models import Terminal, Unit

TOTP_ISSUER = "Sanji"
TOTP_INTERVAL = 30
TOTP_VALID_WINDOW = 1  # one step either side: tolerates 30 s of clock drift


# --- sign-in ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoginResult:
    """The outcome of :func:`login_attempt`.

    ``reason`` is ``"ok"`` or why the attempt was refused: ``"invalid"`` (unknown user, wrong password
    or inactive account — never told apart), ``"locked"``, ``"ip_blocked"``, ``"system_account"``,
    ``"terminal_required"``, ``"terminal_other_unit"`` (the terminal is registered to a unit the person
    holds no role in: :func:`sanji.accounts.policies.terminal_usable`). ``until`` is when a lock or an
    address block ends. ``terminal`` is the terminal signed in on, or the one refused. On success the
    flags say which steps remain before the session is fully authenticated.
    """

    ok: bool
    reason: str
    user: User | None = None
    terminal: Terminal | None = None
    until: dt.datetime | None = None
    totp_required: bool = False
    totp_enrolment_required: bool = False
    password_change_required: bool = False


@dataclass(frozen=True)
class TerminalCheck:
    """The terminal a login comes from (:func:`terminal_check`).

    ``refused`` with ``reason`` ``"cookie_invalid"``, ``"code_invalid"`` or ``"wrong_ip"``;
    ``enrolled`` when it was identified by an enrolment code (the page then sets the cookie).
    """

    terminal: Terminal | None
    refused: bool = False
    reason: str = ""
    enrolled: bool = False


def _user_not_found() -> NotFound:
    """Missing and outside the administrator's reach read the same (no 403 leak)."""
    return NotFound(_("该用户不存在或不在您的管辖范围内。"), details={"code": "user_not_found"})


def _anonymous(ip: str, terminal: Terminal | None) -> Actor:
    return Actor(
        user_id=None,
        username="anonymous",
        unit_id=terminal.unit_id if terminal is not None else None,
        terminal_id=terminal.pk if terminal is not None else None,
        terminal_code=terminal.code if terminal is not None else "",
        ip=ip,
        channel="web",
    )


def _user_region(user: User) -> str:
    path = user.role_assignments.order_by("id").values_list("region_path", flat=True).first()
    return path or user.created_region_path


def _lockout_window() -> dt.timedelta:
    return dt.timedelta(minutes=int(settings.SANJI_LOCKOUT_MINUTES))


def _ip_blocked_until(ip: str, now: dt.datetime) -> dt.datetime | None:
    row = LoginThrottle.objects.filter(ip=ip).first()
    if row is not None and row.blocked_until is not None and row.blocked_until > now:
        return row.blocked_until
    return None


def _ip_failed(ip: str, now: dt.datetime) -> None:
    """Count a failure from ``ip``; past the limit, refuse the address until its window ends."""
    row, _ = LoginThrottle.objects.select_for_update().get_or_create(
        ip=ip, defaults={"window_started_at": now}
    )
    if now - row.window_started_at >= _lockout_window():
        row.failures = 0
        row.window_started_at = now
        row.blocked_until = None
    row.failures += 1
    if row.failures >= int(settings.SANJI_IP_FAILURES):
        row.blocked_until = row.window_started_at + _lockout_window()
    row.save()


def _user_failed(user: User, now: dt.datetime, actor: Actor, reason: str) -> bool:
    """Count a failed password or second factor; lock at the limit. Returns whether it locked now."""
    user.failed_logins += 1
    locked = user.failed_logins >= int(settings.SANJI_LOCKOUT_FAILURES)
    record(
        actor=actor,
        action="accounts.login_failed",
        target=user,
        region_path=_user_region(user),
        data={"reason": reason, "failures": user.failed_logins},
    )
    if locked:
        user.locked_until = now + _lockout_window()
        user.failed_logins = 0  # a fresh allowance once the lock ends
        record(
            actor=actor,
            action="accounts.locked",
            target=user,
            region_path=_user_region(user),
            data={"until": user.locked_until.isoformat(), "reason": reason},
        )
    user.save(update_fields=["failed_logins", "locked_until"])
    return locked


def login_attempt(*, username: str, password: str, ip: str, terminal: Terminal | None) -> LoginResult:
    """Check a username and password from ``ip`` (on ``terminal``, if the browser is enrolled).

    Refuses a blocked address, a locked account (even with the right password), a wrong password
    (counted: the 5th failure locks the account for 15 minutes), a department-system account, and
    staff without a registered terminal of their own unit: the terminal's unit must be one the person
    holds a staff role in, or one such unit is nested in (a window's centre, a station's township
    centre). A terminal refused is audited (``accounts.terminal_refused``) and, when the browser was
    being enrolled with a code, not enrolled.
    """
    now = clock.now()
    anonymous = _anonymous(ip, terminal)
    with transaction.atomic():
        blocked = _ip_blocked_until(ip, now)
        if blocked is not None:
            record(
                actor=anonymous,
                action="accounts.login_failed",
                target_label=username[:150],
                data={"reason": "ip_blocked", "username": username[:150]},
            )
            return LoginResult(ok=False, reason="ip_blocked", until=blocked)

        user = User.objects.select_for_update().filter(username=username).first()
        if user is None or not user.is_active:
            if user is None:
                User().set_password(password)  # the same hashing work: timing does not tell users apart
            _ip_failed(ip, now)
            record(
                actor=anonymous,
                action="accounts.login_failed",
                target=user,
                target_label=None if user is not None else username[:150],
                data={"reason": "unknown_user" if user is None else "inactive", "username": username[:150]},
            )
            return LoginResult(ok=False, reason="invalid")

        if user.locked_until is not None and user.locked_until > now:
            _ip_failed(ip, now)
            record(
                actor=anonymous,
                action="accounts.login_failed",
                target=user,
                region_path=_user_region(user),
                data={"reason": "locked"},
            )
            return LoginResult(ok=False, reason="locked", until=user.locked_until)

        if not user.check_password(password):
            _ip_failed(ip, now)
            locked = _user_failed(user, now, anonymous, "bad_password")
            if locked:
                return LoginResult(ok=False, reason="locked", until=user.locked_until)
            return LoginResult(ok=False, reason="invalid")

        if user.is_system_account:
            record(
                actor=anonymous,
                action="accounts.login_failed",
                target=user,
                region_path=_user_region(user),
                data={"reason": "system_account"},
            )
            return LoginResult(ok=False, reason="system_account")

        grants = selectors.grants_for_user(user.pk)
        roles = {g.role for g in grants}
        staff_units = {g.unit_id for g in grants if g.role in STAFF_ROLES}
        usable = (
            terminal is not None
            and bool(staff_units)
            and policies.terminal_usable(terminal, selectors.units_enclosing(staff_units))
        )
        if policies.needs_terminal(roles) and not usable:
            reason = "terminal_required" if terminal is None else "terminal_other_unit"
            data = {"reason": reason, "terminal": terminal.code if terminal is not None else ""}
            if terminal is not None:
                data["terminal_unit"] = terminal.unit.code
            record(
                actor=anonymous,
                action="accounts.terminal_refused",
                target=user,
                region_path=_user_region(user),
                data=data,
            )
            return LoginResult(ok=False, reason=reason, terminal=terminal)
        used_terminal = terminal if usable else None

        user.failed_logins = 0
        user.locked_until = None
        user.last_login = now
        user.save(update_fields=["failed_logins", "locked_until", "last_login"])
        totp_enrolled = user.totp_confirmed_at is not None
        record(
            actor=selectors.actor_for(user, terminal=used_terminal, ip=ip),
            action="accounts.login_succeeded",
            target=user,
            region_path=_user_region(user),
            data={"second_factor": "pending" if totp_enrolled else "none"},
        )
        return LoginResult(
            ok=True,
            reason="ok",
            user=user,
            terminal=used_terminal,
            totp_required=totp_enrolled,
            totp_enrolment_required=policies.needs_second_factor(roles) and not totp_enrolled,
            password_change_required=password_change_required(user),
        )


def terminal_check(*, cookie_value: str | None, enrolment_code: str, ip: str, username: str) -> TerminalCheck:
    """Identify the browser's terminal from an enrolment code (preferred) or its signed cookie.

    A wrong code, a code used from the wrong address, and a forged, tampered or stale cookie are
    refused and audited (``accounts.terminal_refused``); no cookie and no code is simply no terminal.
    """
    code = enrolment_code.strip()
    with transaction.atomic():
        if code:
            terminal_code = code.partition(":")[0][:40]  # never the secret
            try:
                terminal = terminals.authenticate_code(enrolment_code=code, ip=ip)
            except (NotFound, Forbidden) as exc:
                reason = "wrong_ip" if isinstance(exc, Forbidden) else "code_invalid"
                record(
                    actor=_anonymous(ip, None),
                    action="accounts.terminal_refused",
                    target_label=username[:150],
                    data={"reason": reason, "terminal": terminal_code, "username": username[:150]},
                )
                return TerminalCheck(terminal=None, refused=True, reason=reason)
            return TerminalCheck(terminal=terminal, enrolled=True)
        state = terminals.read_cookie(cookie_value)
        if state.invalid:
            record(
                actor=_anonymous(ip, None),
                action="accounts.terminal_refused",
                target_label=username[:150],
                data={"reason": "cookie_invalid", "username": username[:150]},
            )
            return TerminalCheck(terminal=None, refused=True, reason="cookie_invalid")
        if state.terminal is not None and not terminals.ip_allowed(state.terminal, ip):
            record(
                actor=_anonymous(ip, state.terminal),
                action="accounts.terminal_refused",
                target=state.terminal,
                region_path=state.terminal.region_path,
                data={"reason": "wrong_ip", "username": username[:150]},
            )
            return TerminalCheck(terminal=None, refused=True, reason="wrong_ip")
        return TerminalCheck(terminal=state.terminal)


def session_end(*, actor: Actor, reason: str = "logout") -> None:
    """Record the end of a session: ``logout``, ``idle`` (30 minutes) or ``terminal_invalid``."""
    if actor.user_id is None:
        return
    with transaction.atomic():
        user = User.objects.filter(pk=actor.user_id).first()
        record(
            actor=actor,
            action="accounts.logged_out",
            target=user,
            region_path=_user_region(user) if user is not None else "",
            data={"reason": reason},
        )


# --- passwords --------------------------------------------------------------------------------------


def _validate_password(password: str, user: User) -> None:
    try:
        validate_password(password, user)
    except DjangoValidationError as exc:
        raise ValidationFailed(" ".join(exc.messages), details=list(exc.messages)) from None


def _password_set(user: User, raw: str, *, must_change: bool) -> None:
    """Store a new password, its time, and its hash in the history (which keeps only the last N)."""
    now = clock.now()
    user.set_password(raw)
    user.password_changed_at = now
    user.must_change_password = must_change
    user.save(update_fields=["password", "password_changed_at", "must_change_password"])
    PasswordHistory.objects.create(user=user, password_hash=user.password, created_at=now)
    keep = PasswordHistory.objects.filter(user=user).values_list("pk", flat=True)[
        : int(settings.SANJI_PASSWORD_HISTORY)
    ]
    PasswordHistory.objects.filter(user=user).exclude(pk__in=list(keep)).delete()


def password_change(
    *, user: User, old_password: str, new_password: str, ip: str, actor: Actor | None = None
) -> None:
    """The person changes their own password (voluntarily, at first login, or after expiry).

    ``actor`` (the request's) is only used for the audit entry; without it one is built from ``user``.
    """
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if not user.check_password(old_password):
            raise ValidationFailed(_("当前密码不正确。"))
        if old_password == new_password:
            raise ValidationFailed(_("新密码不得与当前密码相同。"))
        _validate_password(new_password, user)
        _password_set(user, new_password, must_change=False)
        record(
            actor=actor or selectors.actor_for(user, ip=ip),
            action="accounts.password_changed",
            target=user,
            region_path=_user_region(user),
            data={"by": "self"},
        )


# --- second factor (TOTP) ---------------------------------------------------------------------------


def _totp_secret(user: User) -> str:
    return crypto.decrypt(user.totp_secret)


def totp_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret, interval=TOTP_INTERVAL).provisioning_uri(
        name=user.username, issuer_name=TOTP_ISSUER
    )


def totp_begin(*, user: User, renew: bool = False) -> str:
    """Start (or continue) enrolment: keep a pending secret, encrypted, and return its otpauth URI.

    Reloading the enrolment page shows the same secret unless ``renew``. Refused when a second
    factor is already confirmed (the security administrator resets it first).
    """
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if user.totp_confirmed_at is not None:
            raise Conflict(_("已绑定动态口令；如需更换，请联系安全管理员重置。"))
        if user.totp_secret and not renew:
            return totp_uri(user, _totp_secret(user))
        secret = pyotp.random_base32()
        user.totp_secret = crypto.encrypt(secret)
        user.totp_last_step = 0
        user.save(update_fields=["totp_secret", "totp_last_step"])
        return totp_uri(user, secret)


def _totp_step(secret: str, code: str, last_step: int) -> tuple[int | None, bool]:
    """The step ``code`` belongs to (within the window), and whether it was already used."""
    code = code.strip().replace(" ", "")
    if not code.isdigit():
        return None, False
    totp = pyotp.TOTP(secret, interval=TOTP_INTERVAL)
    current = int(clock.now().timestamp()) // TOTP_INTERVAL
    for step in range(current - TOTP_VALID_WINDOW, current + TOTP_VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step, step <= last_step
    return None, False


def totp_confirm(*, user: User, code: str, ip: str, actor: Actor | None = None) -> None:
    """Confirm enrolment with a code from the authenticator app."""
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if user.totp_confirmed_at is not None:
            raise Conflict(_("已绑定动态口令。"))
        if not user.totp_secret:
            raise ValidationFailed(_("请先开始绑定。"))
        step, replay = _totp_step(_totp_secret(user), code, user.totp_last_step)
        if step is None or replay:
            raise ValidationFailed(_("动态口令不正确，请核对手机时间后重试。"))
        user.totp_confirmed_at = clock.now()
        user.totp_last_step = step
        user.save(update_fields=["totp_confirmed_at", "totp_last_step"])
        record(
            actor=actor or selectors.actor_for(user, ip=ip),
            action="accounts.totp_enrolled",
            target=user,
            region_path=_user_region(user),
        )


def totp_verify(*, user: User, code: str, ip: str, actor: Actor | None = None) -> LoginResult:
    """The second step of sign-in. A wrong or replayed code counts like a wrong password."""
    now = clock.now()
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        audit_actor = actor or selectors.actor_for(user, ip=ip)
        if user.locked_until is not None and user.locked_until > now:
            return LoginResult(ok=False, reason="locked", user=user, until=user.locked_until)
        if user.totp_confirmed_at is None:
            raise Conflict(_("未绑定动态口令。"))
        step, replay = _totp_step(_totp_secret(user), code, user.totp_last_step)
        if step is None or replay:
            locked = _user_failed(user, now, audit_actor, "totp_replay" if replay else "bad_totp")
            if locked:
                return LoginResult(ok=False, reason="locked", user=user, until=user.locked_until)
            return LoginResult(ok=False, reason="invalid", user=user)
        user.totp_last_step = step
        user.failed_logins = 0
        user.save(update_fields=["totp_last_step", "failed_logins"])
        record(
            actor=audit_actor, action="accounts.totp_verified", target=user, region_path=_user_region(user)
        )
        return LoginResult(
            ok=True, reason="ok", user=user, password_change_required=password_change_required(user)
        )


# --- users (security administrator) -----------------------------------------------------------------


def _require_manage(actor: Actor, user: User) -> None:
    if not policies.can_manage_users(actor):
        raise Forbidden(_("只有安全管理员可以管理用户。"))
    if user.pk == actor.user_id:
        raise ValidationFailed(_("不能在用户管理中操作自己的账号；请使用“我的账号”。"))
    if not policies.scope_users(actor, User.objects.filter(pk=user.pk)).exists():
        raise _user_not_found()
    if not policies.can_manage_user(actor, user):
        raise Forbidden(_("该用户还持有您管辖范围以外的角色，请由上级安全管理员处理。"))


def _require_credentials(actor: Actor, user: User) -> None:
    """As :func:`_require_manage`, for the actions that hand the actor a secret of ``user``."""
    _require_manage(actor, user)
    if not policies.can_reset_credentials(actor, user):
        raise Forbidden(
            _(
                "三员分立：不能重置其他管理员（系统管理员、安全管理员、安全审计员）的密码或动态口令，"
                "也不能为其签发 API 令牌；密码和动态口令请在服务器上用 sanji reset_credentials 命令重置。"
            )
        )


def _actor_region(actor: Actor) -> str:
    grants = actor.grants_for(Role.SECURITY_ADMIN)
    return grants[0].region_path if grants else ""


def user_create(
    *,
    actor: Actor,
    username: str,
    full_name: str,
    password: str | None = None,
    phone: str = "",
    is_system_account: bool = False,
    must_change_password: bool = True,
) -> tuple[User, str]:
    """Create an account; returns it and its initial password (generated when none is given).

    The person must change the password at first login. Only the platform itself (the demo seeder)
    may pass ``must_change_password=False``.
    """
    if not policies.can_manage_users(actor):
        raise Forbidden(_("只有安全管理员可以创建用户。"))
    if not must_change_password and not is_platform(actor):
        raise Forbidden(_("只有平台（初始化和演示数据）可以创建不需要首次登录修改密码的账号。"))
    username = username.strip()
    full_name = full_name.strip()
    try:
        UnicodeUsernameValidator()(username)
    except DjangoValidationError:
        raise ValidationFailed(_("用户名只能包含字母、数字和 @/./+/-/_。")) from None
    if not username or len(username) > 150:
        raise ValidationFailed(_("用户名不能为空，且不超过 150 个字符。"))
    if not full_name:
        raise ValidationFailed(_("请填写姓名。"))
    with transaction.atomic():
        if User.objects.filter(username__iexact=username).exists():
            raise ValidationFailed(_("该用户名已被使用。"))
        user = User(
            username=username,
            full_name=full_name[:100],
            phone=phone.strip()[:20],
            is_system_account=is_system_account,
            created_region_path=_actor_region(actor),
            created_by=actor.username,
            date_joined=clock.now(),
        )
        raw = password if password is not None else password_generate()
        _validate_password(raw, user)
        user.set_unusable_password()
        user.save()
        _password_set(user, raw, must_change=must_change_password)
        record(
            actor=actor,
            action="accounts.user_created",
            target=user,
            region_path=user.created_region_path,
            data={"username": username, "system_account": is_system_account},
        )
    return user, raw


def user_deactivate(*, actor: Actor, user: User, reason: str = "") -> User:
    """Disable the account (sessions end at the next request; its API tokens are revoked)."""
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        _require_manage(actor, user)
        if not user.is_active:
            raise Conflict(_("该账号已停用。"))
        now = clock.now()
        user.is_active = False
        user.save(update_fields=["is_active"])
        revoked = ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(
            revoked_at=now, revoked_by=actor.username
        )
        record(
            actor=actor,
            action="accounts.user_deactivated",
            target=user,
            region_path=_user_region(user),
            data={"reason": reason[:200], "tokens_revoked": revoked},
        )
    return user


def user_reactivate(*, actor: Actor, user: User) -> User:
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        _require_manage(actor, user)
        if user.is_active:
            raise Conflict(_("该账号未停用。"))
        user.is_active = True
        user.save(update_fields=["is_active"])
        record(actor=actor, action="accounts.user_reactivated", target=user, region_path=_user_region(user))
    return user


def user_password_reset(*, actor: Actor, user: User) -> str:
    """Give the person a temporary password (shown once); they must change it at next login.

    Changing the password also ends the person's open sessions (Django's session auth hash).
    """
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        _require_credentials(actor, user)
        raw = password_generate()
        _password_set(user, raw, must_change=True)
        record(actor=actor, action="accounts.password_reset", target=user, region_path=_user_region(user))
    return raw


def user_unlock(*, actor: Actor, user: User) -> User:
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        _require_manage(actor, user)
        was_locked = user.locked_until is not None and user.locked_until > clock.now()
        user.locked_until = None
        user.failed_logins = 0
        user.save(update_fields=["locked_until", "failed_logins"])
        record(
            actor=actor,
            action="accounts.unlocked",
            target=user,
            region_path=_user_region(user),
            data={"was_locked": was_locked},
        )
    return user


def user_totp_reset(*, actor: Actor, user: User) -> User:
    """Remove the person's second factor (lost phone); they enrol again at next login."""
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        _require_credentials(actor, user)
        user.totp_secret = ""
        user.totp_confirmed_at = None
        user.totp_last_step = 0
        user.save(update_fields=["totp_secret", "totp_confirmed_at", "totp_last_step"])
        record(actor=actor, action="accounts.totp_reset", target=user, region_path=_user_region(user))
    return user


# --- roles ------------------------------------------------------------------------------------------


def role_grant(*, actor: Actor, user: User, role: str, unit: Unit) -> RoleAssignment:
    """Grant ``role`` in ``unit`` to ``user`` (三员分立 enforced; see :mod:`sanji.accounts.policies`)."""
    try:
        role = Role(role).value
    except ValueError:
        raise ValidationFailed(_("未知角色：%(role)s") % {"role": role}) from None
    if not policies.can_manage_users(actor):
        raise Forbidden(_("只有安全管理员可以授予角色。"))
    if user.pk == actor.user_id:
        raise ValidationFailed(_("不能给自己授予角色。"))
    with transaction.atomic():
        # Lock the person: two concurrent grants must not both pass the separation check.
        user = User.objects.select_for_update().get(pk=user.pk)
        if not policies.scope_users(actor, User.objects.filter(pk=user.pk)).exists():
            raise _user_not_found()
        if not policies.units_for_granting(actor, Unit.objects.filter(pk=unit.pk)).exists():
            raise NotFound(_("该单位不存在、已停用或不在您的管辖范围内。"))
        if not user.is_active:
            raise ValidationFailed(_("该账号已停用。"))
        existing = list(user.role_assignments.values_list("role", "unit_id"))
        if (role, unit.pk) in existing:
            raise ValidationFailed(_("该用户已在此单位持有此角色。"))
        conflict = policies.role_conflict(
            [r for r, _ in existing], role, is_system_account=user.is_system_account
        )
        if conflict is not None:
            raise ValidationFailed(conflict)
        assignment = RoleAssignment.objects.create(
            user=user,
            role=role,
            unit=unit,
            region_path=unit.region_path,
            granted_at=clock.now(),
            granted_by=actor.username,
        )
        record(
            actor=actor,
            action="accounts.role_granted",
            target=user,
            region_path=unit.region_path,
            data={"role": role, "unit_id": unit.pk, "unit_code": unit.code, "assignment_id": assignment.pk},
        )
    return assignment


def role_revoke(*, actor: Actor, assignment: RoleAssignment) -> None:
    if not policies.can_manage_users(actor):
        raise Forbidden(_("只有安全管理员可以撤销角色。"))
    if assignment.user_id == actor.user_id:
        raise ValidationFailed(_("不能撤销自己的角色。"))
    with transaction.atomic():
        User.objects.select_for_update().get(pk=assignment.user_id)
        row = RoleAssignment.objects.select_related("user", "unit").filter(pk=assignment.pk).first()
        if row is None or not policies.can_revoke_role(actor, row):
            raise NotFound(_("该角色不存在、已撤销或不在您的管辖范围内。"))
        data: dict[str, Any] = {
            "role": row.role,
            "unit_id": row.unit_id,
            "unit_code": row.unit.code,
            "assignment_id": row.pk,
        }
        row.delete()
        record(
            actor=actor,
            action="accounts.role_revoked",
            target=row.user,
            region_path=row.region_path,
            data=data,
        )


# --- API tokens -------------------------------------------------------------------------------------


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def api_token_create(
    *,
    actor: Actor,
    user: User,
    name: str,
    scopes: list[str],
    days: int,
    terminal: Terminal | None = None,
) -> tuple[ApiToken, str]:
    """Issue a bearer token; returns it and the raw ``"<prefix>.<secret>"`` (shown once, SHA-256 kept).

    The security administrator issues tokens (up to 365 days) for people and department systems they
    manage, optionally bound to a terminal (front-end processor); staff other than the three
    administrators may issue themselves tokens of up to 30 days.
    """
    own = user.pk == actor.user_id
    if own:
        if not policies.can_create_own_token(actor):
            raise Forbidden(_("您不能为自己创建 API 令牌。"))
        if terminal is not None:
            raise ValidationFailed(_("个人令牌不能绑定终端。"))
    name = name.strip()
    if not name or len(name) > 100:
        raise ValidationFailed(_("请填写令牌名称（不超过 100 个字符）。"))
    scopes = sorted(set(scopes))
    if not scopes:
        raise ValidationFailed(_("请至少选择一个权限范围。"))
    if unknown := unknown_scopes(scopes):
        raise ValidationFailed(_("未知的权限范围：%(scopes)s") % {"scopes": ", ".join(unknown)})
    max_days = policies.token_max_days(actor, user)
    if not 1 <= days <= max_days:
        raise ValidationFailed(_("有效期须为 1 至 %(days)d 天。") % {"days": max_days})
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if not own:
            _require_credentials(actor, user)
        if not user.is_active:
            raise ValidationFailed(_("该账号已停用。"))
        if terminal is not None and not policies.can_use_terminal(actor, terminal):
            raise NotFound(_("终端不存在、已停用或不在您的管辖范围内。"))
        now = clock.now()
        prefix = secrets.token_hex(5)
        while ApiToken.objects.filter(prefix=prefix).exists():
            prefix = secrets.token_hex(5)
        raw = f"{prefix}.{secrets.token_urlsafe(32)}"
        token = ApiToken.objects.create(
            user=user,
            name=name,
            prefix=prefix,
            token_hash=token_hash(raw),
            scopes=scopes,
            terminal=terminal,
            created_at=now,
            expires_at=now + dt.timedelta(days=days),
            created_by=actor.username,
        )
        record(
            actor=actor,
            action="accounts.token_created",
            target=user,
            region_path=_user_region(user),
            data={
                "token_id": token.pk,
                "prefix": prefix,
                "name": name,
                "scopes": scopes,
                "expires_at": token.expires_at.isoformat(),
                "terminal": terminal.code if terminal is not None else "",
            },
        )
    return token, raw


def api_token_revoke(*, actor: Actor, token: ApiToken) -> ApiToken:
    """Revoke a token at once (its owner, or the security administrator managing the owner)."""
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().select_related("user").get(pk=token.pk)
        if not policies.can_view_tokens(actor, token.user):
            raise NotFound(_("该令牌不存在或不在您的管辖范围内。"))
        if not policies.can_revoke_token(actor, token):
            raise Forbidden(_("只有令牌的持有人或管理其账号的安全管理员可以撤销该令牌。"))
        if token.revoked_at is not None:
            return token
        token.revoked_at = clock.now()
        token.revoked_by = actor.username
        token.save(update_fields=["revoked_at", "revoked_by"])
        record(
            actor=actor,
            action="accounts.token_revoked",
            target=token.user,
            region_path=_user_region(token.user),
            data={"token_id": token.pk, "prefix": token.prefix, "name": token.name},
        )
    return token


def api_token_touch(*, token: ApiToken) -> None:
    """Note that a token was used (at most once a minute: reads must not all become writes)."""
    now = clock.now()
    minute_ago = now - dt.timedelta(minutes=1)
    if token.last_used_at is None or token.last_used_at <= minute_ago:
        # In a transaction (on SQLite it queues with the other writers instead of polling the lock),
        # and conditional, so of the requests that saw a stale time at once only the first writes.
        with transaction.atomic():
            ApiToken.objects.filter(
                Q(last_used_at__isnull=True) | Q(last_used_at__lte=minute_ago), pk=token.pk
            ).update(last_used_at=now)


# --- applicants (citizen self-registration on the portal) ------------------------------------------

#: Blind-index purpose of applicants' ID numbers; the cases app indexes case applicants the same way.
APPLICANT_INDEX_PURPOSE = "applicant"


def applicant_register(
    *, username: str, full_name: str, id_number: str, phone: str, password: str, ip: str
) -> User:
    """A citizen registers on the portal (申请人注册): an account without any role.

    The ID number (GB 11643, checked with python-stdnum) is kept only as a keyed blind index, so a
    window clerk can find the account from the number presented, and in its masked form, which the
    person's own online applications show; one account per ID number. The
    password is the person's own choice (validators apply), so no change is forced at first login.
    Applicants sign in without a terminal.
    """

    username = username.strip()
    full_name = full_name.strip()
    try:
        UnicodeUsernameValidator()(username)
    except DjangoValidationError:
        raise ValidationFailed(_("用户名只能包含字母、数字和 @/./+/-/_。")) from None
    if not username or len(username) > 150:
        raise ValidationFailed(_("用户名不能为空，且不超过 150 个字符。"))
    if not full_name:
        raise ValidationFailed(_("请填写姓名。"))
    try:
        parsed = idnumber.parse(id_number, today=clock.today())
    except idnumber.IdNumberError:
        raise ValidationFailed(_("身份证号码无效。")) from None
    index = crypto.blind_index(parsed.number, purpose=APPLICANT_INDEX_PURPOSE)
    with transaction.atomic():
        if User.objects.filter(username__iexact=username).exists():
            raise ValidationFailed(_("该用户名已被使用。"))
        if User.objects.filter(id_number_index=index).exists():
            raise ValidationFailed(_("该身份证号码已注册，请直接登录或找回账号。"))
        user = User(
            username=username,
            full_name=full_name[:100],
            phone=phone.strip()[:20],
            id_number_index=index,
            id_number_masked=parsed.masked,
            created_by="self",
            date_joined=clock.now(),
        )
        _validate_password(password, user)
        user.set_unusable_password()
        user.save()
        _password_set(user, password, must_change=False)
        record(
            actor=Actor(user_id=user.pk, username=user.username, ip=ip, channel="web"),
            action="accounts.applicant_registered",
            target=user,
            data={"username": username},
        )
    return user


def totp_rekey(*, actor: Actor, previous: tuple[str, ...], batch: int = 1000) -> RekeyCount:
    """Re-encrypt the second-factor secrets made with an older field key under the current one
    (a key rotation, :mod:`sanji.core.rekey`; ``sanji rekey`` runs it with the other apps')."""
    if not is_platform(actor):
        raise Forbidden(_("只有平台（服务器上的 sanji rekey 命令）可以更换密钥。"))
    count = rekey_model(User, ("totp_secret",), previous=previous, batch=batch)
    with transaction.atomic():
        record(
            actor=actor,
            action="accounts.totp_rekeyed",
            data={"examined": count.examined, "reencrypted": count.reencrypted, "previous": list(previous)},
        )
    return count
