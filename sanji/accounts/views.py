"""Account pages: sign-in and its steps, "my account", and the security administrator's user pages.

Thin: parse a form, call one service or selector, render. Domain errors are shown on the page;
:class:`NotFound` becomes a 404 and the administration pages answer 403 to anyone who may not
manage users.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sanji.accounts import forms, policies, selectors, services, terminals
from sanji.accounts.middleware import (
    SESSION_LAST_ACTIVITY,
    SESSION_MFA_OK,
    SESSION_TERMINAL,
    SESSION_TERMINAL_BINDING,
    client_ip,
    pending_step,
)
from sanji.accounts.models import User
from sanji.accounts.passwords import password_expired, password_expires_at
from sanji.core import clock
from sanji.core.actors import Actor, actor_of
from sanji.core.errors import NotFound, SanjiError, ValidationFailed
from sanji.core.pages import attempt, gate
from sanji.core.roles import Role
from sanji.orgs import selectors as orgs_selectors
from sanji.orgs.models import Terminal

_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _hhmm(at: dt.datetime | None) -> str:
    return at.astimezone(clock.CITY_TZ).strftime("%H:%M") if at is not None else ""


# --- sign-in ----------------------------------------------------------------------------------------


def _login_message(reason: str, until: dt.datetime | None, terminal: Terminal | None = None) -> str:
    if reason == "terminal_other_unit" and terminal is not None:
        label = orgs_selectors.unit_labels([terminal.unit_id]).get(terminal.unit_id)
        return _(
            "此终端（%(terminal)s）登记在“%(unit)s”，只有在该单位（或其下属窗口、站点）任职的工作人员"
            "可以在此登录。请到您任职单位的终端登录。"
        ) % {"terminal": terminal.code, "unit": label.full_name if label is not None else terminal.unit.name}
    messages_by_reason = {
        "invalid": _("用户名或密码错误。"),
        "locked": _("连续登录失败次数过多，账户已锁定，请于 %(time)s 后再试，或联系安全管理员解锁。"),
        "ip_blocked": _("来自此地址的失败登录过多，请于 %(time)s 后再试。"),
        "system_account": _("部门业务系统账号不能登录页面，请使用 API 令牌。"),
        "terminal_required": _("工作人员须在已登记的终端上登录：请填写安全管理员提供的终端登记码。"),
        "terminal_other_unit": _("此终端不属于您任职的单位，不能在此登录。请到您任职单位的终端登录。"),
        "cookie_invalid": _(
            "此浏览器的终端凭据无效（可能被篡改，或终端已停用、已重新生成登记码），请重新填写终端登记码。"
        ),
        "code_invalid": _("终端登记码无效。"),
        "wrong_ip": _("此终端登记的 IP 地址与当前地址不符。"),
    }
    return messages_by_reason.get(reason, _("登录失败。")) % {"time": _hhmm(until)}


def _next_url(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse(settings.LOGIN_REDIRECT_URL)


def _set_terminal_cookie(response: HttpResponse, terminal: Any) -> None:
    response.set_cookie(
        terminals.COOKIE_NAME,
        terminals.cookie_value(terminal),
        max_age=terminals.COOKIE_MAX_AGE,
        httponly=True,
        secure=settings.SESSION_COOKIE_SECURE,
        samesite="Strict",
    )


@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    cookie = request.COOKIES.get(terminals.COOKIE_NAME)
    state = terminals.read_cookie(cookie)
    show_enrolment = state.terminal is None
    error = _login_message("cookie_invalid", None) if state.invalid else ""
    clear_cookie = False
    form = forms.LoginForm(request.POST or None, show_enrolment=show_enrolment)
    if request.method == "POST" and form.is_valid():
        ip = client_ip(request)
        username = form.cleaned_data["username"]
        check = services.terminal_check(
            cookie_value=cookie,
            enrolment_code=form.cleaned_data.get("enrolment_code") or "",
            ip=ip,
            username=username,
        )
        if check.refused:
            error = _login_message(check.reason, None)
            clear_cookie = check.reason == "cookie_invalid"
        else:
            result = services.login_attempt(
                username=username, password=form.cleaned_data["password"], ip=ip, terminal=check.terminal
            )
            if result.ok and result.user is not None:
                return _signed_in(request, result, set_cookie=check.enrolled)
            error = _login_message(result.reason, result.until, result.terminal)
    response = render(
        request,
        "accounts/login.html",
        {"form": form, "error": error, "next": _next_url(request), "terminal": state.terminal},
        status=200,
    )
    if clear_cookie:
        response.delete_cookie(terminals.COOKIE_NAME, samesite="Strict")
    return response


def _signed_in(request: HttpRequest, result: services.LoginResult, *, set_cookie: bool) -> HttpResponse:
    assert result.user is not None
    login(request, result.user, backend=_BACKEND)  # also cycles the session key (no fixation)
    session = request.session
    session[SESSION_LAST_ACTIVITY] = clock.now().timestamp()
    session[SESSION_MFA_OK] = not result.totp_required
    if result.terminal is not None:
        session[SESSION_TERMINAL] = result.terminal.pk
        session[SESSION_TERMINAL_BINDING] = terminals.binding(result.terminal)
    if result.totp_required:
        target = reverse("accounts:totp_verify")
        session["after_login"] = _next_url(request)
    elif result.password_change_required:
        target = reverse("accounts:password_change")
    elif result.totp_enrolment_required:
        target = reverse("accounts:totp_enrol")
    else:
        target = _next_url(request)
    response = HttpResponseRedirect(target)
    if set_cookie and result.terminal is not None:
        _set_terminal_cookie(response, result.terminal)
    return response


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        services.session_end(actor=actor_of(request), reason="logout")
    logout(request)
    return redirect("accounts:login")


def _after_step(request: HttpRequest) -> HttpResponse:
    """Go on to the next step still owed, or where the person was going."""
    step = pending_step(request, _user(request), actor_of(request))
    if step is not None:
        return redirect(step)
    return HttpResponseRedirect(
        str(request.session.pop("after_login", "")) or reverse(settings.LOGIN_REDIRECT_URL)
    )


@login_required
@require_http_methods(["GET", "POST"])
def totp_verify_view(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if user.totp_confirmed_at is None or request.session.get(SESSION_MFA_OK):
        return _after_step(request)
    form = forms.TotpCodeForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        result = services.totp_verify(
            user=user, code=form.cleaned_data["code"], ip=client_ip(request), actor=actor_of(request)
        )
        if result.ok:
            request.session.cycle_key()
            request.session[SESSION_MFA_OK] = True
            return _after_step(request)
        if result.reason == "locked":
            services.session_end(actor=actor_of(request), reason="locked")
            logout(request)
            response = render(
                request,
                "accounts/login.html",
                {"form": forms.LoginForm(), "error": _login_message("locked", result.until), "next": ""},
            )
            return response
        error = _("动态口令不正确或已使用过，请等待下一个口令。")
    return render(request, "accounts/totp_verify.html", {"form": form, "error": error})


@login_required
@require_http_methods(["GET", "POST"])
def totp_enrol_view(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if user.totp_confirmed_at is not None:
        messages.info(request, _("已绑定动态口令。"))
        return redirect("accounts:me")
    form = forms.TotpCodeForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            services.totp_confirm(
                user=user, code=form.cleaned_data["code"], ip=client_ip(request), actor=actor_of(request)
            )
        except SanjiError as exc:
            error = exc.message
        else:
            request.session[SESSION_MFA_OK] = True
            messages.success(request, _("动态口令绑定成功。今后登录时需输入手机上的 6 位动态口令。"))
            return _after_step(request)
    uri = services.totp_begin(user=user, renew=request.GET.get("renew") == "1")
    qr = segno.make(uri, error="m")
    return render(
        request,
        "accounts/totp_enrol.html",
        {
            "form": form,
            "error": error,
            "otpauth_uri": uri,
            "secret": uri.split("secret=", 1)[1].split("&", 1)[0],
            "qr_data_uri": qr.png_data_uri(scale=5, border=2),
            "required": policies.needs_second_factor(actor_of(request).roles),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def password_change_view(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = forms.PasswordChangeForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            services.password_change(
                user=user,
                old_password=form.cleaned_data["old_password"],
                new_password=form.cleaned_data["new_password"],
                ip=client_ip(request),
                actor=actor_of(request),
            )
        except SanjiError as exc:
            error = exc.message
        else:
            user.refresh_from_db()
            update_session_auth_hash(request, user)  # keep this session; others end
            messages.success(request, _("密码已修改。"))
            return _after_step(request)
    return render(
        request,
        "accounts/password_change.html",
        {
            "form": form,
            "error": error,
            "forced": user.must_change_password,
            "expired": password_expired(user),
            "help_texts": _password_help(),
        },
    )


def _password_help() -> list[str]:
    from django.contrib.auth.password_validation import password_validators_help_texts

    return list(password_validators_help_texts())


# --- my account -------------------------------------------------------------------------------------


@login_required
def me_view(request: HttpRequest) -> HttpResponse:
    return _render_me(request, token_form=None, raw_token="")


def _render_me(
    request: HttpRequest, *, token_form: forms.TokenCreateForm | None, raw_token: str
) -> HttpResponse:
    user = _user(request)
    actor = actor_of(request)
    can_tokens = policies.can_create_own_token(actor)
    context = {
        "account": user,
        "assignments": selectors.assignments_of(user),
        "password_expires_at": password_expires_at(user),
        "can_tokens": can_tokens,
        "tokens": selectors.token_list_for(actor, user),
        "token_form": token_form or forms.TokenCreateForm(own=True),
        "raw_token": raw_token,
        "totp_required": policies.needs_second_factor(actor.roles),
    }
    return render(request, "accounts/me.html", context)


@login_required
@require_POST
def my_token_create_view(request: HttpRequest) -> HttpResponse:
    form = forms.TokenCreateForm(request.POST, own=True)
    if form.is_valid():
        try:
            _, raw = services.api_token_create(
                actor=actor_of(request),
                user=_user(request),
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                days=form.cleaned_data["days"],
            )
        except SanjiError as exc:
            form.add_error(None, exc.message)
        else:
            return _render_me(request, token_form=None, raw_token=raw)
    return _render_me(request, token_form=form, raw_token="")


@login_required
@require_POST
def my_token_revoke_view(request: HttpRequest, token_id: int) -> HttpResponse:
    actor = actor_of(request)
    try:
        token = selectors.token_get_for(actor, token_id)
        if token.user_id != actor.user_id:
            raise NotFound()
        services.api_token_revoke(actor=actor, token=token)
    except NotFound:
        raise Http404() from None
    messages.success(request, _("令牌已撤销。"))
    return redirect("accounts:me")


# --- security administrator ---------------------------------------------------------------------------


#: Signed in and allowed to manage users, else 403; :class:`NotFound` from inside becomes 404.
admin_page = gate(policies.can_manage_users)


@admin_page
def user_list_view(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()
    users = selectors.user_list_for(actor_of(request), q=q or None)[:200]
    return render(request, "accounts/user_list.html", {"users": users, "q": q})


@admin_page
@require_http_methods(["GET", "POST"])
def user_create_view(request: HttpRequest) -> HttpResponse:
    form = forms.UserCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user, raw = services.user_create(
                actor=actor_of(request),
                username=form.cleaned_data["username"],
                full_name=form.cleaned_data["full_name"],
                phone=form.cleaned_data["phone"],
                is_system_account=form.cleaned_data["is_system_account"],
            )
        except SanjiError as exc:
            form.add_error(None, exc.message)
        else:
            return _render_detail(request, user, shown_password=raw)
    return render(request, "accounts/user_create.html", {"form": form})


def _render_detail(
    request: HttpRequest,
    user: User,
    *,
    shown_password: str = "",
    raw_token: str = "",
    grant_form: forms.RoleGrantForm | None = None,
    token_form: forms.TokenCreateForm | None = None,
    status: int = 200,
) -> HttpResponse:
    actor = actor_of(request)
    manageable = policies.can_manage_user(actor, user)
    assignments = [(a, policies.can_revoke_role(actor, a)) for a in selectors.assignments_of(user)]
    context = {
        "account": user,
        "assignments": assignments,
        "manageable": manageable,
        "credentials": policies.can_reset_credentials(actor, user),
        "is_self": user.pk == actor.user_id,
        "locked": user.locked_until is not None and user.locked_until > clock.now(),
        "locked_until": user.locked_until,
        "tokens": selectors.token_list_for(actor, user) if manageable else [],
        "grant_form": grant_form or forms.RoleGrantForm(),
        "unit_choices_id": forms.UNIT_CHOICES_ID,
        "unit_choices": selectors.unit_choices_for(actor, "") if user.pk != actor.user_id else [],
        "token_form": token_form or forms.TokenCreateForm(),
        "shown_password": shown_password,
        "raw_token": raw_token,
        "password_expires_at": password_expires_at(user),
        "admin_roles": {Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.SECURITY_AUDITOR},
    }
    return render(request, "accounts/user_detail.html", context, status=status)


@admin_page
def user_detail_view(request: HttpRequest, user_id: int) -> HttpResponse:
    return _render_detail(request, selectors.user_get_for(actor_of(request), user_id))


def _user_action(
    request: HttpRequest, user_id: int, action: Callable[[Actor, User], Any], done: str
) -> HttpResponse:
    actor = actor_of(request)
    user = selectors.user_get_for(actor, user_id)
    attempt(request, lambda: action(actor, user), success=done)
    return redirect("accounts:user_detail", user_id=user.pk)


@admin_page
@require_GET
def unit_choices_view(request: HttpRequest) -> HttpResponse:
    """The role-grant form's unit suggestions for what the administrator typed (``q``, or the
    field's own ``unit_code`` as htmx sends it): ``<option>`` rows for its ``<datalist>``."""
    q = request.GET.get("q") or request.GET.get("unit_code") or ""
    choices = selectors.unit_choices_for(actor_of(request), q)
    return render(request, "orgs/_unit_options.html", {"unit_choices": choices})


@admin_page
@require_POST
def role_grant_view(request: HttpRequest, user_id: int) -> HttpResponse:
    actor = actor_of(request)
    user = selectors.user_get_for(actor, user_id)
    form = forms.RoleGrantForm(request.POST)
    if form.is_valid():
        try:
            unit = selectors.unit_for_granting(actor, form.cleaned_data["unit_code"])
        except (NotFound, ValidationFailed) as exc:  # unknown, out of reach, or closed
            form.add_error("unit_code", exc.message)
        else:
            try:
                services.role_grant(actor=actor, user=user, role=form.cleaned_data["role"], unit=unit)
            except SanjiError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("角色已授予。"))
                return redirect("accounts:user_detail", user_id=user.pk)
    return _render_detail(request, user, grant_form=form, status=422)


@admin_page
@require_POST
def role_revoke_view(request: HttpRequest, user_id: int, assignment_id: int) -> HttpResponse:
    actor = actor_of(request)
    user = selectors.user_get_for(actor, user_id)
    assignment = selectors.assignment_get_for(actor, user, assignment_id)
    return _user_action(
        request,
        user.pk,
        lambda a, _u: services.role_revoke(actor=a, assignment=assignment),
        _("角色已撤销。"),
    )


@admin_page
@require_POST
def user_password_reset_view(request: HttpRequest, user_id: int) -> HttpResponse:
    actor = actor_of(request)
    user = selectors.user_get_for(actor, user_id)
    try:
        raw = services.user_password_reset(actor=actor, user=user)
    except NotFound:
        raise
    except SanjiError as exc:
        messages.error(request, exc.message)
        return redirect("accounts:user_detail", user_id=user.pk)
    user.refresh_from_db()
    return _render_detail(request, user, shown_password=raw)


@admin_page
@require_POST
def user_unlock_view(request: HttpRequest, user_id: int) -> HttpResponse:
    return _user_action(
        request, user_id, lambda a, u: services.user_unlock(actor=a, user=u), _("账户已解锁。")
    )


@admin_page
@require_POST
def user_deactivate_view(request: HttpRequest, user_id: int) -> HttpResponse:
    reason = request.POST.get("reason", "")
    return _user_action(
        request,
        user_id,
        lambda a, u: services.user_deactivate(actor=a, user=u, reason=reason),
        _("账号已停用，其 API 令牌已全部撤销。"),
    )


@admin_page
@require_POST
def user_reactivate_view(request: HttpRequest, user_id: int) -> HttpResponse:
    return _user_action(
        request, user_id, lambda a, u: services.user_reactivate(actor=a, user=u), _("账号已启用。")
    )


@admin_page
@require_POST
def user_totp_reset_view(request: HttpRequest, user_id: int) -> HttpResponse:
    return _user_action(
        request,
        user_id,
        lambda a, u: services.user_totp_reset(actor=a, user=u),
        _("动态口令已重置，该用户下次登录时需重新绑定。"),
    )


@admin_page
@require_POST
def token_create_view(request: HttpRequest, user_id: int) -> HttpResponse:
    actor = actor_of(request)
    user = selectors.user_get_for(actor, user_id)
    form = forms.TokenCreateForm(request.POST)
    if form.is_valid():
        try:
            code = form.cleaned_data.get("terminal_code") or ""
            terminal = selectors.terminal_for_token(actor, code) if code else None
            _, raw = services.api_token_create(
                actor=actor,
                user=user,
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                days=form.cleaned_data["days"],
                terminal=terminal,
            )
        except NotFound as exc:
            form.add_error(None, exc.message)
        except SanjiError as exc:
            form.add_error(None, exc.message)
        else:
            return _render_detail(request, user, raw_token=raw)
    return _render_detail(request, user, token_form=form, status=422)


@admin_page
@require_POST
def token_revoke_view(request: HttpRequest, user_id: int, token_id: int) -> HttpResponse:
    actor = actor_of(request)
    user = selectors.user_get_for(actor, user_id)
    token = selectors.token_get_for(actor, token_id)
    if token.user_id != user.pk:
        raise Http404()
    return _user_action(
        request, user.pk, lambda a, _u: services.api_token_revoke(actor=a, token=token), _("令牌已撤销。")
    )
