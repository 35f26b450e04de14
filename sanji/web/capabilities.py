"""What each person can do, for the home page (工作台).

Each entry asks the owning app's policy whether the actor may use it, so the home page never
shows a link that would be refused and never tests roles itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from sanji.core.actors import Actor
from sanji.core.roles import STAFF_ROLES, Role


@dataclass(frozen=True)
class Capability:
    title: str | Promise
    description: str | Promise
    url_name: str
    allowed: Callable[[Actor], bool]


def _capabilities() -> list[Capability]:
    # Imported here: policies of the apps above web are loaded only when the page asks.
    from sanji.accounts import policies as account_policies
    from sanji.audit import policies as audit_policies
    from sanji.calendar import policies as calendar_policies
    from sanji.cases import policies as case_policies
    from sanji.catalog import policies as catalog_policies
    from sanji.evaluation import policies as evaluation_policies
    from sanji.orgs import policies as org_policies
    from sanji.population import policies as population_policies
    from sanji.sharing import policies as sharing_policies
    from sanji.supervision import policies as supervision_policies

    return [
        Capability(
            _("办件工作台"),
            _("待接件、待办、即将到期、已超期、上报与退回的办件"),
            "cases:worklist",
            case_policies.handles_cases,
        ),
        Capability(
            _("办件工作台"),
            _("即将到期、已超期和已上报的办件，可查看全部办件及其全过程"),
            "cases:worklist",
            case_policies.only_oversees_cases,
        ),
        Capability(
            _("窗口接件"),
            _("受理群众和企业的申请，核对材料，打印通知书"),
            "cases:receive",
            case_policies.can_receive,
        ),
        Capability(
            _("网上办事"),
            _("在线申报、上传材料、查询进度、补正和撤回"),
            "portal:home",
            lambda actor: not actor.has_role(*STAFF_ROLES),
        ),
        Capability(
            _("人口变动申报"),
            _("出生、死亡、迁入迁出、婚姻、住址、姓名及信息更正，提交公安核查"),
            "population:change_new",
            population_policies.can_submit_changes,
        ),
        Capability(
            _("人口变动核查"),
            _("公安核查队列：变动前后对照，核准或退回"),
            "population:change_list",
            population_policies.can_verify_changes,
        ),
        Capability(
            _("电子监察看板"),
            _("在办、即将到期、超期办件与监察标记，逐级下钻到窗口和办件"),
            "supervision:board",
            supervision_policies.can_view_board,
        ),
        Capability(
            _("本单位监察标记"),
            _("预警、黄牌、红牌与督办：说明、申诉、答复"),
            "supervision:my_marks",
            # Marks are answered by the responsible unit's staff; a supervisor or analyst has none.
            lambda actor: actor.has_role(*supervision_policies.UNIT_ROLES),
        ),
        Capability(
            _("差评整改"),
            _("差评核实、整改或说明，并答复群众"),
            "evaluation:follow_ups",
            # The responsible unit's staff answer follow-ups; supervisors oversee those of their region.
            lambda actor: actor.has_role(*supervision_policies.UNIT_ROLES, Role.SUPERVISOR),
        ),
        Capability(
            _("绩效考评"),
            _("单位、部门、窗口和个人的月度得分、排名与依据"),
            "evaluation:scores",
            evaluation_policies.can_read_rankings,
        ),
        Capability(
            _("评价办件"),
            _("对已办结的办件进行好差评"),
            "evaluation:my_ratings",
            lambda actor: actor.user_id is not None and not actor.has_role(*STAFF_ROLES),
        ),
        Capability(
            _("人口分布图"),
            _("各社区、网格的实有人口密度，逐级查看楼栋和居民"),
            "population:map",
            population_policies.can_view_map,
        ),
        Capability(
            _("我的网格"),
            _("本人负责网格的楼栋、居民和人数"),
            "population:grid_home",
            population_policies.can_use_grid_page,
        ),
        Capability(
            _("共享查询"),
            _("按用途查询人口基础信息：姓名、身份证号码及授权字段"),
            "sharing:read",
            sharing_policies.can_read_shared,
        ),
        Capability(
            _("共享授权"),
            _("各部门可共享的字段、用途、依据和期限"),
            "sharing:grants",
            sharing_policies.can_view_grants,
        ),
        Capability(
            _("人员查询"),
            _("按身份证号码或姓名查找人员，查看户、位置、历史和查询记录"),
            "sharing:people",
            sharing_policies.can_search_people,
        ),
        Capability(
            _("谁查询了我的信息"),
            _("政府部门查询您人口信息的单位、时间和用途"),
            "sharing:my_reads",
            lambda actor: actor.user_id is not None and not actor.has_role(*STAFF_ROLES),
        ),
        Capability(
            _("用户与角色"),
            _("创建账号、授予和撤销角色、重置密码、解锁"),
            "accounts:user_list",
            account_policies.can_manage_users,
        ),
        Capability(
            _("终端管理"),
            _("登记、停用工作站终端与前置机，查看最近在线"),
            "orgs:terminal_list",
            org_policies.can_manage_terminals,
        ),
        Capability(
            _("组织机构"), _("区划、部门、服务中心与窗口"), "orgs:tree", org_policies.can_view_organisation
        ),
        Capability(
            _("审计日志"), _("检索、导出全部操作痕迹，校验日志链"), "audit:search", audit_policies.can_read
        ),
        Capability(
            _("事项目录"), _("审批与公共服务事项、办事指南、流程版本"), "catalog:list", lambda actor: True
        ),
        Capability(
            _("事项目录维护"), _("新增事项、发布新的流程版本"), "catalog:create", catalog_policies.can_edit
        ),
        Capability(
            _("工作日历"),
            _("法定节假日、调休上班日与工作日计算"),
            "calendar:year_list",
            calendar_policies.can_view,
        ),
        Capability(
            _("我的账号"),
            _("修改密码、绑定动态口令、API 令牌"),
            "accounts:me",
            lambda actor: actor.user_id is not None,
        ),
    ]


def capabilities_for(actor: Actor) -> list[Capability]:
    return [c for c in _capabilities() if c.allowed(actor)]
