"""Labels and badges of the case pages (display only; no rules)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext_lazy as _

from sanji.cases.models import CaseState, Channel, DeliveryMethod
from sanji.cases.transitions import ACTION_LABELS
from sanji.catalog.models import Matter, MatterType, StepCode
from sanji.core.roles import Role

register = template.Library()

DEADLINE_LABELS: dict[str, Any] = {
    "acceptance": _("受理期限"),
    "promised": _("承诺期限"),
    "legal": _("法定期限"),
    "step": _("当前环节期限"),
    "delivery": _("送达期限"),
}

WORKLIST_LABELS: dict[str, Any] = {
    "to_receive": _("待接收"),
    "to_handle": _("待办理"),
    "due_soon": _("即将到期"),
    "overdue": _("已超期"),
    "reported_up": _("已上报"),
    "returned": _("已退回/待送达"),
    "all": _("全部"),
}


NOTICE_LABELS: dict[str, Any] = {
    "receipt": _("收件回执"),
    "acceptance": _("受理通知书"),
    "correction": _("一次性告知书"),
    "refusal": _("不予受理通知书"),
    "decision": _("办理决定书"),
}
#: A decision is a licence decision only for a 行政许可 matter (and a grant for 行政给付).
DECISION_LABELS: dict[str, Any] = {
    MatterType.LICENSING: _("行政许可决定书"),
    MatterType.BENEFIT: _("给付决定书"),
}


@register.filter
def notice_label(kind: str, matter: Matter) -> Any:
    """The link label of a printable notice of a case of ``matter``."""
    if kind == "decision":
        return DECISION_LABELS.get(matter.matter_type, NOTICE_LABELS[kind])
    return NOTICE_LABELS.get(kind, kind)


@register.filter
def action_label(action: str) -> Any:
    return ACTION_LABELS.get(action, action)


@register.filter
def state_label(state: str) -> Any:
    if not state:
        return "—"
    return CaseState(state).label if state in CaseState.values else state


@register.filter
def channel_label(channel: str) -> Any:
    return Channel(channel).label if channel in Channel.values else channel


@register.filter
def delivery_label(method: str) -> Any:
    return DeliveryMethod(method).label if method in DeliveryMethod.values else method


@register.filter
def deadline_label(key: str) -> Any:
    return DEADLINE_LABELS.get(key, key)


@register.filter
def worklist_label(key: str) -> Any:
    return WORKLIST_LABELS.get(key, key)


@register.filter
def step_code_label(code: str) -> Any:
    return StepCode(code).label if code in StepCode.values else code


@register.filter
def role_label(role: str) -> Any:
    return Role(role).label if role in Role.values else role


@register.filter
def days_class(remaining: int | None) -> str:
    """Badge colour for remaining working days: overdue red, up to 2 days amber, else green."""
    if remaining is None:
        return ""
    if remaining < 0:
        return "bad"
    if remaining <= 2:
        return "warn"
    return "ok"


@register.filter
def negate(value: int) -> int:
    return -int(value)


@register.filter
def get_item(mapping: dict[Any, Any], key: Any) -> Any:
    return mapping.get(key) if isinstance(mapping, dict) else None
