"""Forms of the calendar pages: parsing only; the services decide what is a valid year."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from sanji.calendar.models import CalendarYear
from sanji.calendar.services import MAX_YEAR, MIN_YEAR

#: The longest period the calculator accepts (a few years of working days is plenty).
MAX_CALCULATOR_DAYS = 2000


class CalculatorForm(forms.Form):
    start = forms.DateField(
        label=_("起算日（受理日，当日不计）"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    n = forms.IntegerField(label=_("工作日数"), min_value=0, max_value=MAX_CALCULATOR_DAYS)


class YearForm(forms.Form):
    year = forms.IntegerField(label=_("年份"), min_value=MIN_YEAR, max_value=MAX_YEAR)
    notice = forms.CharField(
        label=_("依据的通知"),
        max_length=1000,
        help_text=_("通知标题及文号，例如“国务院办公厅关于2026年部分节假日安排的通知”及其发文字号。"),
    )
    lines = forms.CharField(
        label=_("节假日与调休上班日"),
        widget=forms.Textarea(attrs={"rows": 18, "class": "cal-lines", "spellcheck": "false"}),
        help_text=_(
            "每行一天：日期,类型,名称。日期写作 YYYY-MM-DD；类型为 holiday（法定节假日，放假）"
            "或 workday（调休上班的周六、周日）。例如：2026-02-16,holiday,春节 或 2026-02-14,workday,春节。"
            "放假期间的周末也可列为 holiday。保存时整年替换。"
        ),
    )

    @staticmethod
    def initial_for(row: CalendarYear) -> dict[str, object]:
        """The form filled with a configured year (its days must be prefetched), for replacing it."""
        lines = "\n".join(f"{d.date.isoformat()},{d.kind},{d.name}" for d in row.days.all())
        return {"year": row.year, "notice": row.notice, "lines": lines}


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("日历文件（CSV）"),
        help_text=_(
            "列：date,kind,name（可有表头行）；UTF-8 或 GB18030 编码。文件中出现的每一年都将被整年替换。"
        ),
    )
    notice = forms.CharField(label=_("依据的通知"), max_length=1000, required=False)
