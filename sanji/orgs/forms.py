"""Forms of the organisation pages: parsing only; the services decide."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django import forms
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from sanji.orgs.models import Department

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class RegionImportForm(forms.Form):
    file = forms.FileField(
        label=_("区划代码文件（CSV）"),
        help_text=_("列：code,name,level,parent_code；UTF-8 或 GB18030 编码。"),
    )


class UnitRenameForm(forms.Form):
    name = forms.CharField(label=_("名称"), max_length=120)


class WindowCreateForm(forms.Form):
    name = forms.CharField(label=_("窗口名称"), max_length=120)
    department = forms.ModelChoiceField(
        label=_("所属部门"), queryset=Department.objects.none(), required=False, empty_label=_("（综合窗口）")
    )

    def __init__(self, *args: object, departments: object = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        if departments is not None:
            self.fields["department"].queryset = departments  # type: ignore[attr-defined]


#: The ``id`` of the terminal form's unit suggestions (``<datalist>``), refreshed from
#: ``orgs:unit_choices`` as the administrator types.
UNIT_CHOICES_ID = "terminal-unit-choices"


def unit_search_field(*, label: StrOrPromise, choices_url: StrOrPromise, choices_id: str) -> forms.CharField:
    """A unit typed or picked from server-side suggestions (``orgs/_unit_options.html`` rows,
    fetched from ``choices_url`` into the ``<datalist>`` ``choices_id`` as the user types). Labels
    read 名称 · 区划 · 编码, since several units share a name (each district's 民政窗口)."""
    return forms.CharField(
        label=label,
        max_length=200,
        help_text=_(
            "输入单位名称、所在区划或编码，从列表中选择。同名的单位（如各旗县区的民政窗口）以所在区划和编码区分。"
        ),
        widget=forms.TextInput(
            attrs={
                "list": choices_id,
                "autocomplete": "off",
                "placeholder": _("输入名称、区划或编码搜索"),
                "hx-get": choices_url,
                "hx-trigger": "input changed delay:250ms",
                "hx-target": f"#{choices_id}",
                "hx-swap": "innerHTML",
                "hx-sync": "this:replace",
            }
        ),
    )


class TerminalRegisterForm(forms.Form):
    unit = unit_search_field(
        label=_("所属单位"), choices_url=reverse_lazy("orgs:unit_choices"), choices_id=UNIT_CHOICES_ID
    )
    name = forms.CharField(label=_("终端名称"), max_length=120, help_text=_("例如 民政窗口1号机"))
    ip_address = forms.GenericIPAddressField(
        label=_("绑定IP地址"), required=False, help_text=_("填写后只允许从该地址使用此终端")
    )
    code = forms.CharField(
        label=_("终端编码"), max_length=40, required=False, help_text=_("留空自动生成，如 T150105-0001")
    )
    #: One per form shown: a form sent twice (the result page reloaded, a double click) registers once.
    form_token = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)


class TerminalSearchForm(forms.Form):
    q = forms.CharField(label=_("搜索"), required=False)
