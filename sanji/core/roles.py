"""The roles of DESIGN.md §1. A role is always held *in a unit*; its reach is that unit's subtree.

Role codes are stable strings stored in the database; labels are translated.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    APPLICANT = "applicant", _("申请人")
    WINDOW_CLERK = "window_clerk", _("窗口受理员")
    COMMUNITY_WORKER = "community_worker", _("社区工作人员/网格员")
    REVIEWER = "reviewer", _("承办人")
    APPROVER = "approver", _("审批人")
    DEPARTMENT_HEAD = "department_head", _("部门负责人")
    SUPERVISOR = "supervisor", _("监察员")
    POPULATION_OFFICER = "population_officer", _("人口计生信息员")
    POLICE_VERIFIER = "police_verifier", _("公安核查员")
    DEPARTMENT_DATA_OFFICER = "department_data_officer", _("部门数据专员")
    DEPARTMENT_SYSTEM = "department_system", _("部门业务系统")
    ANALYST = "analyst", _("分析员/领导")
    SYSTEM_ADMIN = "system_admin", _("系统管理员")
    SECURITY_ADMIN = "security_admin", _("安全管理员")
    SECURITY_AUDITOR = "security_auditor", _("安全审计员")


#: 三员分立 — the three administrators. A person holding one of them holds no other role at all.
ADMIN_TRIAD: frozenset[str] = frozenset({Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.SECURITY_AUDITOR})

#: Roles that must use a second factor (TOTP).
SECOND_FACTOR_REQUIRED: frozenset[str] = ADMIN_TRIAD | {Role.SUPERVISOR}

#: Roles whose reach is also limited to their unit's department (when the unit belongs to one).
DEPARTMENT_BOUND: frozenset[str] = frozenset(
    {
        Role.WINDOW_CLERK,
        Role.REVIEWER,
        Role.APPROVER,
        Role.DEPARTMENT_HEAD,
        Role.POPULATION_OFFICER,
        Role.POLICE_VERIFIER,
        Role.DEPARTMENT_DATA_OFFICER,
        Role.DEPARTMENT_SYSTEM,
    }
)

#: Staff roles work from registered terminals; applicants use the public portal.
STAFF_ROLES: frozenset[str] = frozenset(r.value for r in Role) - {Role.APPLICANT}
