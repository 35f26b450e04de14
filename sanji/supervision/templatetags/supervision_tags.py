"""Template helpers of the supervision and evaluation pages."""

from __future__ import annotations

from django import template
from django.urls import NoReverseMatch, reverse

register = template.Library()


@register.simple_tag
def case_url(case_id: int) -> str:
    """The staff case page (``cases:detail``), or its conventional path if the cases pages are not mounted."""
    try:
        return reverse("cases:detail", args=[case_id])
    except NoReverseMatch:
        return f"/cases/{case_id}/"
