"""What the audit pages show instead of raw codes: action labels, units and regions by name.

An entry keeps what the chain hashes (``unit_id``, ``action``, ``region_path``); the pages name them
for the reader. Action labels are this module's own table (:data:`ACTION_LABELS`; an unknown code is
shown as it is). Units and regions belong to ``sanji.orgs``, which sits *above* the audit trail in
the layers (DESIGN.md §3), so a higher app hands the look-ups in at start-up (:func:`provide`;
``sanji.accounts`` does, in its ``AppConfig.ready``). Without them the pages show the raw values.

:func:`named` names one page of entries with one query for their units and one for their regions,
whatever the number of rows.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from django.utils.translation import gettext_lazy as _

from sanji.audit.models import Entry

#: Every action the platform records (``record(action=...)`` across sanji), by code. The test
#: ``test_every_recorded_action_has_a_label`` finds the codes in the sources and the transition tables.
ACTION_LABELS: dict[str, Any] = {
    # accounts
    "accounts.applicant_registered": _("账号：申请人注册"),
    "accounts.locked": _("账号：连续登录失败被锁定"),
    "accounts.logged_out": _("账号：退出登录"),
    "accounts.login_failed": _("账号：登录失败"),
    "accounts.login_succeeded": _("账号：登录成功"),
    "accounts.password_changed": _("账号：修改密码"),
    "accounts.password_reset": _("账号：重置密码"),
    "accounts.role_granted": _("账号：授予角色"),
    "accounts.role_revoked": _("账号：撤销角色"),
    "accounts.terminal_refused": _("账号：终端校验未通过，拒绝登录"),
    "accounts.token_created": _("账号：签发 API 令牌"),
    "accounts.token_revoked": _("账号：撤销 API 令牌"),
    "accounts.totp_enrolled": _("账号：绑定动态口令"),
    "accounts.totp_rekeyed": _("账号：动态口令密钥换用新密钥"),
    "accounts.totp_reset": _("账号：重置动态口令"),
    "accounts.totp_verified": _("账号：动态口令验证通过"),
    "accounts.unlocked": _("账号：解锁"),
    "accounts.user_created": _("账号：创建用户"),
    "accounts.user_deactivated": _("账号：停用账号"),
    "accounts.user_reactivated": _("账号：启用账号"),
    # audit
    "audit.exported": _("审计：导出审计日志"),
    "audit.purged": _("审计：按保留期清理审计日志"),
    "audit.verified": _("审计：校验日志链"),
    # calendar
    "calendar.year_set": _("日历：设置年度工作日历"),
    # cases (one per action of the transitions table, and the case's other events)
    "cases.draft_created": _("办件：创建申请"),
    "cases.submit": _("办件：提交申报"),
    "cases.precheck_pass": _("办件：预审通过"),
    "cases.precheck_return": _("办件：预审退回"),
    "cases.receive": _("办件：接件"),
    "cases.request_correction": _("办件：一次性告知补正"),
    "cases.allow_second_correction": _("办件：准予再次补正"),
    "cases.supplement": _("办件：补正材料"),
    "cases.accept": _("办件：受理"),
    "cases.refuse": _("办件：不予受理"),
    "cases.deem_accept": _("办件：逾期视为受理"),
    "cases.complete_step": _("办件：办结本环节"),
    "cases.report_up": _("办件：上报"),
    "cases.take_over": _("办件：接收上报件"),
    "cases.return_down": _("办件：结果下发"),
    "cases.extend": _("办件：延期"),
    "cases.special_start": _("办件：启动特别程序"),
    "cases.special_end": _("办件：结束特别程序"),
    "cases.approve": _("办件：准予"),
    "cases.deny": _("办件：不予"),
    "cases.deliver": _("办件：送达"),
    "cases.complete": _("办件：办结"),
    "cases.withdraw": _("办件：撤回"),
    "cases.void": _("办件：作废"),
    "cases.action_refused": _("办件：越权操作被拒绝"),
    "cases.attachment_added": _("办件：上传材料"),
    "cases.attachment_downloaded": _("办件：下载材料"),
    "cases.attachment_orphans_removed": _("办件：清理无主上传文件"),
    "cases.rekeyed": _("办件：身份证号码换用新密钥加密"),
    # catalog
    "catalog.flow_published": _("事项目录：发布办理流程"),
    "catalog.matter_activated": _("事项目录：启用事项"),
    "catalog.matter_created": _("事项目录：新增事项"),
    "catalog.matter_deactivated": _("事项目录：停用事项"),
    "catalog.matter_updated": _("事项目录：修改事项"),
    "catalog.seeded": _("事项目录：生成标准事项目录"),
    # evaluation
    "evaluation.community_computed": _("考评：计算社区综合考评"),
    "evaluation.follow_up_reply": _("考评：差评核实整改并回复"),
    "evaluation.follow_up_appeal": _("考评：申诉恶意评价"),
    "evaluation.follow_up_accept_appeal": _("考评：申诉成立"),
    "evaluation.follow_up_reject_appeal": _("考评：驳回申诉"),
    "evaluation.rated": _("考评：服务评价"),
    "evaluation.scores_computed": _("考评：计算月度绩效考评"),
    "evaluation.weight_set": _("考评：设置考评权重"),
    # orgs
    "orgs.regions_imported": _("组织机构：导入区划代码"),
    "orgs.structure_seeded": _("组织机构：生成标准部门和单位"),
    "orgs.terminal_deactivated": _("组织机构：停用终端"),
    "orgs.terminal_registered": _("组织机构：登记终端"),
    "orgs.terminal_rekeyed": _("组织机构：重新生成终端登记码"),
    "orgs.unit_created": _("组织机构：新增单位"),
    "orgs.unit_deactivated": _("组织机构：停用单位"),
    "orgs.unit_renamed": _("组织机构：单位更名"),
    # population
    "population.boundaries_imported": _("人口库：导入边界"),
    "population.change_submitted": _("人口库：提交人口变动"),
    "population.change_verified": _("人口库：人口变动核查通过"),
    "population.change_rejected": _("人口库：人口变动核查不通过"),
    "population.change_withdrawn": _("人口库：撤回人口变动"),
    "population.feed_exported": _("人口库：导出变动数据包"),
    "population.grid_worker_assigned": _("人口库：指定网格员"),
    "population.id_unmasked": _("人口库：查看完整身份证号码"),
    "population.import_batch": _("人口库：导入一批人口数据"),
    "population.import_duplicates_removed": _("人口库：清除重复导入的人口数据"),
    "population.imported": _("人口库：导入人口数据"),
    "population.places_seeded": _("人口库：生成网格和楼栋"),
    "population.rekeyed": _("人口库：身份证号码换用新密钥加密"),
    # sharing
    "sharing.grant_created": _("数据共享：新建共享授权"),
    "sharing.grant_revoked": _("数据共享：撤销共享授权"),
    "sharing.person_not_found": _("数据共享：查询人员（未找到）"),
    "sharing.person_read": _("数据共享：查阅人员信息"),
    # supervision
    "supervision.mark_raised": _("电子监察：产生监察标记"),
    "supervision.mark_confirm": _("电子监察：确认监察标记"),
    "supervision.mark_explain": _("电子监察：单位说明情况"),
    "supervision.mark_appeal": _("电子监察：单位申诉"),
    "supervision.mark_cancel": _("电子监察：撤销监察标记"),
    "supervision.mark_uphold": _("电子监察：维持监察标记"),
    "supervision.mark_escalate": _("电子监察：转为督办"),
    "supervision.order_issued": _("电子监察：下发督办单"),
    "supervision.order_answer": _("电子监察：督办反馈"),
    "supervision.order_close": _("电子监察：督办办结"),
    "supervision.rule_configured": _("电子监察：设置监察规则"),
    "supervision.sweep_ran": _("电子监察：定时监察扫描"),
}

#: How an entry came in (``Entry.channel``).
CHANNEL_LABELS: dict[str, Any] = {
    "web": _("页面"),
    "api": _("API"),
    "cli": _("命令行"),
    "system": _("系统"),
}


def action_label(code: str) -> str:
    """The action's label; an action without one (a new or retired code) is shown as its code."""
    label = ACTION_LABELS.get(code)
    return str(label) if label is not None else code


def action_for_search(text: str) -> str:
    """What the search's ``action`` field matches as a prefix: the code of a label typed in full
    (受理 finds cases.accept), otherwise the text as it is (``cases.`` finds every case event)."""
    text = text.strip()
    for code, label in ACTION_LABELS.items():
        if text == str(label) or text == str(label).partition("：")[2]:
            return code
    return text


def action_choices() -> list[tuple[str, str]]:
    """``(code, label)`` of every known action, for the search form's suggestions."""
    return [(code, str(label)) for code, label in ACTION_LABELS.items()]


# --- units and regions, named by a higher app ---------------------------------------------------


class UnitName(Protocol):
    """A unit as the pages name it (``sanji.orgs.selectors.UnitLabel`` is one)."""

    @property
    def code(self) -> str: ...
    @property
    def full_name(self) -> str: ...
    @property
    def region_name(self) -> str: ...


UnitNamer = Callable[[Collection[int]], Mapping[int, UnitName]]
RegionNamer = Callable[[Collection[str]], Mapping[str, str]]
UnitFinder = Callable[[str], int | None]


@dataclass(slots=True)
class _Namers:
    units: UnitNamer | None = None
    regions: RegionNamer | None = None
    find_unit: UnitFinder | None = None


_namers = _Namers()


def provide(*, units: UnitNamer, regions: RegionNamer, find_unit: UnitFinder | None = None) -> None:
    """Hand in how units (by id) and regions (by division code) are named: each is called once
    per page with every id or code the page shows, and answers those it knows; ``find_unit``
    answers the id of the unit a searcher typed by its code."""
    _namers.units = units
    _namers.regions = regions
    _namers.find_unit = find_unit


def unit_id_for(text: str) -> int | None:
    """The id of the unit ``text`` names: its code (``150105-CSC-W-housing``), the chooser's whole
    label ending in the code (名称 · 区划 · 编码), or the id itself as the result links carry it."""
    text = text.strip()
    if text.isdigit():
        return int(text)
    code = text.rsplit("·", 1)[-1].strip()
    return _namers.find_unit(code) if _namers.find_unit is not None and code else None


@dataclass(frozen=True, slots=True)
class Region:
    """One level of an entry's ``region_path``: its division code and, where known, its name."""

    code: str
    name: str


@dataclass(frozen=True, slots=True)
class NamedEntry:
    """An entry with its unit, action and region named for the page."""

    entry: Entry
    unit: UnitName | None
    action_label: str
    channel_label: str
    regions: tuple[Region, ...]

    @property
    def known_action(self) -> bool:
        return self.entry.action in ACTION_LABELS

    @property
    def region_names(self) -> str:
        """The place from the city down (呼和浩特市 / 赛罕区 / 敕勒川路街道); codes stand in for
        names not known."""
        return " / ".join(r.name or r.code for r in self.regions)


def unit(unit_id: int | None) -> UnitName | None:
    """One unit by id, named (the unit a search is narrowed to); None when unknown or not namable."""
    if unit_id is None or _namers.units is None:
        return None
    return _namers.units({unit_id}).get(unit_id)


def _codes(region_path: str) -> list[str]:
    return [c for c in region_path.split("/") if c]


def named(entries: Iterable[Entry]) -> list[NamedEntry]:
    """Name ``entries`` (one page of them): one query for all their units, one for all their regions."""
    rows: Sequence[Entry] = list(entries)
    unit_ids = {e.unit_id for e in rows if e.unit_id is not None}
    codes = {c for e in rows for c in _codes(e.region_path)}
    units: Mapping[int, UnitName] = _namers.units(unit_ids) if _namers.units and unit_ids else {}
    regions: Mapping[str, str] = _namers.regions(codes) if _namers.regions and codes else {}
    return [
        NamedEntry(
            entry=e,
            unit=units.get(e.unit_id) if e.unit_id is not None else None,
            action_label=action_label(e.action),
            channel_label=str(CHANNEL_LABELS.get(e.channel, e.channel)),
            regions=tuple(Region(c, regions.get(c, "")) for c in _codes(e.region_path)),
        )
        for e in rows
    ]
