"""Form parsing for the account pages (no rules here: services decide)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.validators import MaxValueValidator
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from sanji.accounts.policies import SELF_TOKEN_MAX_DAYS, TOKEN_MAX_DAYS
from sanji.accounts.scopes import SCOPES
from sanji.core.roles import Role
from sanji.orgs.forms import unit_search_field


class LoginForm(forms.Form):
    username = forms.CharField(label=_("用户名"), max_length=150)
    password = forms.CharField(label=_("密码"), strip=False, widget=forms.PasswordInput)
    enrolment_code = forms.CharField(
        label=_("终端登记码"),
        required=False,
        max_length=200,
        help_text=_("工作人员首次在本机登录时填写，由安全管理员提供，格式为“终端编号:密钥”。"),
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
    )

    def __init__(self, *args: Any, show_enrolment: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].widget.attrs.update({"autocomplete": "username", "autofocus": True})
        self.fields["password"].widget.attrs.update({"autocomplete": "current-password"})
        if not show_enrolment:
            del self.fields["enrolment_code"]


class PasswordChangeForm(forms.Form):
    old_password = forms.CharField(
        label=_("当前密码"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    new_password = forms.CharField(
        label=_("新密码"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    new_password2 = forms.CharField(
        label=_("再次输入新密码"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("new_password") and data.get("new_password") != data.get("new_password2"):
            self.add_error("new_password2", _("两次输入的新密码不一致。"))
        return data


class TotpCodeForm(forms.Form):
    code = forms.RegexField(
        label=_("动态口令"),
        regex=r"^\s*\d{6}\s*$",
        error_messages={"invalid": _("请输入 6 位数字。")},
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "autofocus": True, "maxlength": 8}
        ),
    )


class UserCreateForm(forms.Form):
    username = forms.CharField(label=_("用户名"), max_length=150)
    full_name = forms.CharField(label=_("姓名"), max_length=100)
    phone = forms.CharField(label=_("电话"), max_length=20, required=False)
    is_system_account = forms.BooleanField(label=_("部门业务系统账号（仅用于 API）"), required=False)


#: The ``id`` of the role-grant form's unit suggestions (``<datalist>``), filled by the page and
#: refreshed from :func:`sanji.accounts.views.unit_choices_view` as the administrator types.
UNIT_CHOICES_ID = "grant-unit-choices"


class RoleGrantForm(forms.Form):
    role = forms.ChoiceField(label=_("角色"), choices=Role.choices)
    unit_code = unit_search_field(
        label=_("单位"), choices_url=reverse_lazy("accounts:unit_choices"), choices_id=UNIT_CHOICES_ID
    )


class TokenCreateForm(forms.Form):
    name = forms.CharField(label=_("名称"), max_length=100)
    scopes = forms.MultipleChoiceField(
        label=_("权限范围"), choices=list(SCOPES.items()), widget=forms.CheckboxSelectMultiple
    )
    days = forms.IntegerField(label=_("有效期（天）"), min_value=1, max_value=TOKEN_MAX_DAYS, initial=30)
    terminal_code = forms.CharField(
        label=_("绑定终端编码（可选）"), max_length=40, required=False, help_text=_("部门前置机的终端编码")
    )

    def __init__(self, *args: Any, own: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if own:
            days = self.fields["days"]
            days.validators.append(MaxValueValidator(SELF_TOKEN_MAX_DAYS))
            days.initial = 7
            days.widget.attrs["max"] = SELF_TOKEN_MAX_DAYS
            del self.fields["terminal_code"]
