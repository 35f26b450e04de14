"""Template helpers of the person page: code values and field names as people read them."""

from __future__ import annotations

from collections.abc import Iterable

from django import template
from django.utils.translation import gettext as _

from sanji.population import codes
from sanji.sharing.models import ShareableField

register = template.Library()

_TABLES: dict[str, dict[str, str]] = {
    "relation": codes.RELATION,
    "marital_status": codes.MARITAL_STATUS,
    "status": codes.STATUS,
}


@register.filter
def code_label(code: object, table: str) -> str:
    """The name of a code of the person registry (GB/T 4761 relation, GB/T 2261.2 marital status,
    record status); the code itself when unknown."""
    text = "" if code is None else str(code)
    return _TABLES[table].get(text, text)


@register.filter
def field_labels(fields: Iterable[str]) -> str:
    """The fields an access record names, by their labels (姓名、身份证号码、性别 …)."""
    labels = {"name": _("姓名"), "id_number": _("身份证号码"), **dict(ShareableField.choices)}
    return "、".join(str(labels.get(f, f)) for f in fields or ())
