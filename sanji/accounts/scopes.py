"""API token scopes: what a token may be used for, on top of what its owner's roles allow.

A scope never widens access: the API still applies the owner's roles and reach; a token only works
for operations whose scope it carries (``Actor.allows_scope``). Names are ``<app>:<read|write>``;
an app's API operation checks one scope, e.g. ``require_scope(actor, "cases:write")``. Sessions
(pages) carry no scopes (``Actor.scopes is None``) and pass every check.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from sanji.core.actors import Actor
from sanji.core.errors import Forbidden

#: Every scope a token may carry, with the label the token form shows.
SCOPES: dict[str, str | Promise] = {
    "accounts:read": _("读取账号信息"),
    "accounts:write": _("管理 API 令牌"),
    "orgs:read": _("读取组织机构"),
    "orgs:write": _("维护组织机构"),
    "audit:read": _("读取审计日志"),
    "calendar:read": _("读取工作日历"),
    "calendar:write": _("维护工作日历"),
    "catalog:read": _("读取事项目录"),
    "catalog:write": _("维护事项目录"),
    "cases:read": _("读取办件"),
    "cases:write": _("报送、办理办件"),
    "supervision:read": _("读取电子监察"),
    "supervision:write": _("电子监察处置"),
    "evaluation:read": _("读取好差评"),
    "evaluation:write": _("提交、处理好差评"),
    "population:read": _("读取人口基础信息"),
    "population:write": _("报送人口变动"),
    "sharing:read": _("共享数据查询"),
    "sharing:write": _("管理共享授权"),
}
# Only scopes that some API operation checks: a scope offered on the token form with no operation
# behind it would promise a department system an interface that does not exist. The file-drop
# exchange, roll comparison and analytics add theirs with their operations.


def unknown_scopes(scopes: list[str]) -> list[str]:
    return [s for s in scopes if s not in SCOPES]


def require_scope(actor: Actor, scope: str) -> None:
    """Raise :class:`Forbidden` when the actor's token lacks ``scope`` (sessions always pass)."""
    if not actor.allows_scope(scope):
        raise Forbidden(f"This token lacks the scope {scope!r}.")
