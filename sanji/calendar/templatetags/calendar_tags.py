"""Template helpers for the working-day calendar's conditions shown on other apps' pages."""

from __future__ import annotations

import re

from django import template
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

register = template.Library()

#: The condition :class:`sanji.calendar.workdays.CalendarNotConfigured` records (its ``condition``,
#: stored with a case as its ``calendar_problem`` in one form whatever the language).
_NOT_CONFIGURED = re.compile(r"calendar for (\d{4}) not configured")


@register.filter
def calendar_problem_text(problem: str, audience: str = "staff") -> str:
    """A stored calendar condition in the reader's language: "2027 年的工作日历…尚未配置" for staff
    (who can have it entered); for the public (``"public"``: notices, the portal) what it means to
    them — the deadline follows once the year's holidays are published."""
    if not problem:
        return ""
    match = _NOT_CONFIGURED.fullmatch(problem.strip())
    if match is None:
        return problem
    if audience == "public":
        return _("%(year)s 年法定节假日安排公布并录入后，即可确定相关期限。") % {"year": match[1]}
    return _("%(year)s 年的工作日历（法定节假日和调休）尚未配置，相关期限暂不能计算；请系统管理员录入。") % {
        "year": match[1]
    }


@register.filter
def working_days(n: int | str | None) -> str:
    """A count of working days: "5 个工作日", "5 working days", "1 working day" in English."""
    if n is None or n == "":
        return ""
    count = int(n)
    return ngettext("%(n)s 个工作日", "%(n)s 个工作日", count) % {"n": count}
