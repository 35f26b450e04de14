"""Template helpers of the supervision and evaluation pages."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as gettext_now
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from sanji.calendar.templatetags.calendar_tags import calendar_problem_text
from sanji.supervision.rules import WARNINGS_SKIPPED

register = template.Library()


@register.simple_tag
def case_url(case_id: int) -> str:
    """The staff case page (``cases:detail``), or its conventional path if the cases pages are not mounted."""
    try:
        return reverse("cases:detail", args=[case_id])
    except NoReverseMatch:
        return f"/cases/{case_id}/"


#: What each key of a mark's ``detail`` (its evidence, written by sanji.supervision.services) means.
EVIDENCE_LABELS: dict[str, Promise] = {
    "event": _("办件事件序号"),
    "action": _("操作"),
    "reason": _("理由"),
    "legal_basis": _("法律依据"),
    "corrections": _("补正次数"),
    "charged": _("实收费用（元）"),
    "catalogue": _("目录收费标准（元）"),
    "missing_steps": _("未在平台办理的环节"),
    "accepted": _("已受理"),
    "problems": _("问题"),
    "step": _("环节"),
    "due": _("期限"),
    "finished": _("完成时间"),
    "started": _("开始时间"),
    "days": _("批准天数"),
}


def _evidence_value(value: Any) -> str:
    """A detail value for reading: ISO instants in city time to the minute, lists joined, booleans 是/否."""
    if isinstance(value, bool):
        return str(_("是") if value else _("否"))
    if isinstance(value, list):
        return "、".join(_evidence_value(v) for v in value)
    if isinstance(value, str) and len(value) >= 19 and value[4:5] == "-" and value[10:11] == "T":
        try:
            instant = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
        if instant.tzinfo is not None:
            instant = timezone.localtime(instant)
        return instant.strftime("%Y-%m-%d %H:%M")
    return "—" if value is None or value == "" else str(value)


#: The times the contradictions of :func:`sanji.supervision.rules.time_contradictions` name.
TIME_LABELS: dict[str, Promise] = {
    "applied_at": pgettext_lazy("time contradiction", "申请时间"),
    "received_at": pgettext_lazy("time contradiction", "收件时间"),
    "accepted_at": pgettext_lazy("time contradiction", "受理时间"),
    "decided_at": pgettext_lazy("time contradiction", "决定时间"),
    "completed_at": pgettext_lazy("time contradiction", "办结时间"),
}

_BEFORE = re.compile(r"(reported )?(\w+) before (reported )?(\w+)")
_FUTURE = re.compile(r"reported (\w+) in the future")


def _time(name: str, reported: bool) -> str:
    label = str(TIME_LABELS.get(name, name))
    return gettext_now("报送的%(time)s") % {"time": label} if reported else label


def contradiction_text(problem: str) -> str:
    """A time contradiction as :func:`sanji.supervision.rules.time_contradictions` records it (one
    fixed English form, whatever the language), worded for the reader."""
    if problem == "events out of order":
        return gettext_now("办件事件的时间顺序颠倒")
    if problem == "reported applied_at after the platform's receipt":
        return gettext_now("报送的申请时间晚于平台收件时间")
    if (match := _FUTURE.fullmatch(problem)) is not None:
        return gettext_now("%(time)s晚于当前时间") % {"time": _time(match[1], True)}
    if (match := _BEFORE.fullmatch(problem)) is not None:
        return gettext_now("%(later)s早于%(earlier)s") % {
            "later": _time(match[2], bool(match[1])),
            "earlier": _time(match[4], bool(match[3])),
        }
    return problem


@register.filter
def evidence(detail: Any) -> list[tuple[str, str]]:
    """A mark's evidence as (label, value) rows: labelled keys, readable values."""
    if not isinstance(detail, dict):
        return []
    rows = []
    for key, value in detail.items():
        if key == "problems" and isinstance(value, list):
            value = [contradiction_text(str(v)) for v in value]
        rows.append((str(EVIDENCE_LABELS.get(key, key)), _evidence_value(value)))
    return rows


@register.filter
def sweep_problem(problem: str) -> str:
    """A sweep's recorded problem in the reader's language (the warnings it skipped because a
    year's calendar is missing); any other problem as recorded."""
    if problem.startswith(WARNINGS_SKIPPED):
        reason = calendar_problem_text(problem[len(WARNINGS_SKIPPED) :])
        return gettext_now("本次未生成预警：%(reason)s") % {"reason": reason}
    return problem
