"""Forms of the sharing pages: parse input; the services and selectors decide."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from sanji.orgs.models import Department
from sanji.sharing.models import ShareableField, SharingGrant
from sanji.sharing.services import LEGAL_BASIS_MAX, PURPOSE_MAX


class SharedReadForm(forms.Form):
    id_number = forms.CharField(label=_("身份证号码"), max_length=32)
    purpose = forms.CharField(
        label=_("查询用途"),
        max_length=PURPOSE_MAX,
        help_text=_("居民本人可以看到查询单位、时间和用途。"),
    )
    grant = forms.ChoiceField(label=_("依据授权"), required=False)

    def __init__(self, *args: Any, grants: Sequence[SharingGrant] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices: list[tuple[str, str]] = [("", str(_("不使用授权（仅姓名和身份证号码）")))]
        choices += [
            (str(g.pk), f"#{g.pk} {g.purpose} · {' / '.join(g.field_labels())} · {g.valid_until:%Y-%m-%d}")
            for g in grants
        ]
        self.fields["grant"].choices = choices  # type: ignore[attr-defined]


class GrantForm(forms.Form):
    department = forms.ChoiceField(label=_("部门"))
    shared_fields = forms.MultipleChoiceField(
        label=_("可共享字段（姓名、身份证号码无条件共享）"),
        choices=ShareableField.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    purpose = forms.CharField(label=_("用途"), max_length=PURPOSE_MAX)
    legal_basis = forms.CharField(label=_("法律依据"), max_length=LEGAL_BASIS_MAX)
    valid_from = forms.DateField(label=_("生效日期"), widget=forms.DateInput(attrs={"type": "date"}))
    valid_until = forms.DateField(label=_("截止日期（含）"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, departments: Sequence[Department] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department"].choices = [  # type: ignore[attr-defined]
            (str(d.pk), f"{d.name} ({d.code})") for d in departments
        ]


class UnmaskForm(forms.Form):
    purpose = forms.CharField(label=_("查看用途"), max_length=PURPOSE_MAX)
