"""The audit search form: parses the query string into a :class:`~sanji.audit.selectors.EntryFilter`."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _

from sanji.audit.names import action_for_search, unit_id_for
from sanji.audit.selectors import EntryFilter
from sanji.core.clock import CITY_TZ

_ACTION_HELP = _("可从列表选择；也可按编码前缀匹配，如 cases. 查全部办件操作")


class EntrySearchForm(forms.Form):
    username = forms.CharField(label=_("人员（用户名）"), required=False, max_length=150)
    unit_id = forms.CharField(
        label=_("单位编码"),
        required=False,
        max_length=300,
        widget=forms.TextInput(
            attrs={
                "placeholder": _("如 150105-CSC-W-housing"),
                "title": _("输入单位编码；或点击结果中的单位名称，即按该单位检索"),
            }
        ),
    )
    action = forms.CharField(
        label=_("操作"),
        required=False,
        max_length=80,
        help_text=_ACTION_HELP,
        widget=forms.TextInput(
            attrs={
                "list": "audit-actions",
                "autocomplete": "off",
                "placeholder": _("如 受理 或 cases."),
                "title": _ACTION_HELP,
            }
        ),
    )
    target_type = forms.CharField(label=_("对象类型"), required=False, max_length=64)
    target_id = forms.CharField(label=_("对象编号"), required=False, max_length=64)
    since = forms.DateField(
        label=_("起始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("截止日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean_unit_id(self) -> int | None:
        text = str(self.cleaned_data.get("unit_id") or "").strip()
        if not text:
            return None
        unit_id = unit_id_for(text)
        if unit_id is None:
            raise forms.ValidationError(
                _(
                    "没有编码为 %(code)s 的单位：请输入单位编码，或从候选列表中选择单位"
                    "（名称相同的单位不止一个，须以编码区分）。"
                ),
                params={"code": text},
            )
        return unit_id

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if isinstance(since, dt.date) and isinstance(until, dt.date) and since > until:
            raise forms.ValidationError(_("起始日期不能晚于截止日期。"))
        return data

    def to_filter(self) -> EntryFilter:
        """Days are city days; ``until`` includes its whole day."""
        data = self.cleaned_data
        since: dt.date | None = data.get("since")
        until: dt.date | None = data.get("until")
        return EntryFilter(
            username=data.get("username") or None,
            unit_id=data.get("unit_id"),
            action=action_for_search(data.get("action") or "") or None,
            target_type=data.get("target_type") or None,
            target_id=data.get("target_id") or None,
            since=dt.datetime.combine(since, dt.time.min, tzinfo=CITY_TZ) if since else None,
            until=dt.datetime.combine(until + dt.timedelta(days=1), dt.time.min, tzinfo=CITY_TZ)
            if until
            else None,
        )
