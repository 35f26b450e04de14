"""Template helpers for the working-day calendar's conditions shown on other apps' pages."""

from __future__ import annotations

import re

from django import template
from django.utils.translation import gettext as _

register = template.Library()

#: The condition :class:`sanji.calendar.workdays.CalendarNotConfigured` records (stored with a case
#: as its ``calendar_problem``, in the API's language).
_NOT_CONFIGURED = re.compile(r"calendar for (\d{4}) not configured")


@register.filter
def calendar_problem_text(problem: str) -> str:
    """A stored calendar condition in the reader's language: "2027 年工作日历尚未配置…"."""
    if not problem:
        return ""
    match = _NOT_CONFIGURED.fullmatch(problem.strip())
    if match is None:
        return problem
    return _("%(year)s 年的工作日历（法定节假日和调休）尚未配置，相关期限暂不能计算；请系统管理员录入。") % {
        "year": match[1]
    }
