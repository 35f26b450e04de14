"""Demo cases (演示办件): several thousand applications over the past six months, through the real services.

:func:`seed_demo_cases` plans ``count`` cases (matter, channel, place, applicant, planned outcome)
with a seeded random generator, then plays every planned action in time order: each write is a
real :func:`sanji.cases.services.case_receive`, :func:`~sanji.cases.services.case_create_draft` or
:func:`~sanji.cases.services.case_act`, run under :func:`sanji.core.clock.frozen` at a working-hour
instant of a working day, so events, deadlines, supervision marks and the audit trail are those a
real half-year would have left. The acting people are real accounts (created lazily per role and
unit as ``staff.<unit code>.<role>``, or the demo people already holding that role there), each on a
terminal registered at their unit by the demo security administrator.

The driver is generic: for the case's state and current step it decides the action the plan calls
for, looks for an actor (role at the case's current unit) to whom
:func:`sanji.cases.selectors.case_allowed_actions` offers it, supplies the fields the action needs and
acts. A case for which no actor is offered the planned action is a bug: it raises
:class:`DemoCaseStuck`. Actions that would fall after the present are not played, so recent cases are
open at every stage; a few plans stall on purpose (overdue, due soon, awaiting correction, special
procedure 特别程序, reported up 上报 …). At the end the deadline columns of open cases are refreshed
for today through :func:`sanji.cases.services.case_deadlines_refresh`.
"""

from __future__ import annotations

import datetime as dt
import heapq
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher
from django.db.models import QuerySet
from django.test.utils import override_settings
from stdnum.cn import ric

from sanji.accounts import selectors as account_selectors
from sanji.accounts import services as account_services
from sanji.accounts.models import RoleAssignment, User
from sanji.calendar.selectors import work_calendar
from sanji.calendar.workdays import CalendarNotConfigured, WorkCalendar, is_workday
from sanji.cases import selectors as case_selectors
from sanji.cases import services as case_services
from sanji.cases.models import Case, CaseEvent, CaseStep, StepState
from sanji.cases.transitions import FINAL_STATES, OPEN_STATES, Action, State
from sanji.catalog.models import FlowStep, Material, Matter, MatterKind, StepCode
from sanji.core import clock
from sanji.core.actors import Actor, Grant, system_actor
from sanji.core.roles import DEPARTMENT_BOUND, Role
from sanji.evaluation import services as evaluation_services
from sanji.evaluation.models import BAD_LEVELS, FollowUp
from sanji.ops.demo import CITY_CODE, DEMO_CITIZEN_ID, DEMO_PASSWORD
from sanji.orgs import services as org_services
from sanji.orgs.models import Region, Terminal, Unit, UnitKind
from sanji.supervision import services as supervision_services
from sanji.supervision.policies import UNIT_ROLES

A = Action
S = State

#: Cases seeded by ``sanji demo`` on its first run (see the module docstring for the cost).
DEFAULT_COUNT = 3000
#: The districts the cases concentrate on, with their share of the cases.
DISTRICTS: tuple[tuple[str, float], ...] = (("150105", 0.45), ("150102", 0.30), ("150103", 0.25))
TOWNSHIPS_PER_DISTRICT = 3
COMMUNITIES_PER_DISTRICT = 4
APPLICANT_ACCOUNTS = 24
SIX_MONTHS = dt.timedelta(days=182)

#: Relative yearly volume of each catalogue matter (unknown codes weigh 2).
MATTER_WEIGHTS: dict[str, int] = {
    "RS-0005": 10, "GA-0001": 8, "WJ-0001": 6, "MZ-0003": 7, "SJ-0002": 6, "RS-0001": 6,
    "RS-0002": 4, "GA-0005": 4, "MZ-0006": 1, "SJ-0001": 8, "SJ-0003": 6, "SJ-0004": 2,
    "WJ-0003": 3, "JY-0001": 4, "JY-0002": 3, "MZ-0007": 1, "RS-0004": 2, "ZR-0001": 2,
    "ZR-0002": 8, "SP-0001": 2, "MZ-0001": 5, "MZ-0002": 4, "MZ-0004": 2, "MZ-0005": 4,
    "GA-0002": 4, "GA-0003": 3, "GA-0004": 3, "RS-0003": 2, "WJ-0002": 1, "CL-0001": 3,
    "ZR-0003": 1, "ZJ-0001": 3, "MZ-0008": 5, "ZJ-0002": 3,
}  # fmt: skip
CHANNEL_WEIGHTS: dict[str, int] = {"window": 50, "community": 20, "online": 20, "api": 10}

# --- accounts ------------------------------------------------------------------------------------


class DemoArgon2Hasher(Argon2PasswordHasher):
    """Argon2id with light parameters, for the accounts this seeder creates (~5 ms instead of ~0.5 s).

    Their password is the demo password printed at start-up anyway. The hashes are ordinary
    ``argon2`` hashes: the configured hasher verifies them and, finding weaker parameters than its
    own, re-hashes the password with its own parameters at the first login.
    """

    time_cost = 1
    memory_cost = 8192
    parallelism = 1


@contextmanager
def _light_hashing() -> Iterator[None]:
    hashers = ["sanji.ops.demo_cases.DemoArgon2Hasher", *settings.PASSWORD_HASHERS]
    with override_settings(PASSWORD_HASHERS=hashers):
        yield


# --- synthetic applicants ------------------------------------------------------------------------

SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶余潘杜"
    "戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
)


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


GIVEN_MALE = _words(
    "伟 强 磊 军 勇 杰 涛 斌 超 明 刚 平 辉 鹏 华 飞 鑫 波 宇 浩 凯 健 俊 帆 建国 志强 永刚 海涛 晓东 "
    "文博 子轩 浩然 宏伟 国庆 建华 振华 德明 瑞 晨阳"
)
GIVEN_FEMALE = _words(
    "芳 娜 敏 静 丽 艳 娟 霞 燕 玲 桂英 秀英 丹 萍 红 洁 琳 雪 婷 慧 晓红 玉兰 淑珍 欣怡 梓涵 雨桐 "
    "思琪 春梅 秀兰 凤英 丽华 佳怡"
)
#: Mongolian personal names (蒙古族姓名); a full name is "<name>·<father's name>" (巴特尔·朝鲁).
MONGOLIAN_MALE = _words(
    "巴特尔 朝鲁 额尔敦 苏和 宝音 孟和 阿拉坦 那顺 达来 毕力格 巴雅尔 特木尔 布和 哈斯 满都拉"
)
MONGOLIAN_FEMALE = _words("其其格 乌日娜 娜仁 格日勒 乌兰 图雅 斯琴 敖登 萨仁 塔娜 高娃 托娅")
PHONE_PREFIXES = _words("139 138 137 150 151 152 158 159 187 188 136 135 147 183")


#: How an agent (代办人) applying online states their standing (picked by the applicant's name, so
#: that the demo's random sequence is the same with or without agents).
AGENT_RELATIONS = (
    "申请人之子，受其委托代为申请",
    "申请人配偶，持授权委托书",
    "申请人之女，申请人年迈行动不便",
    "社区网格员，受申请人委托",
)


@dataclass(frozen=True)
class Person:
    name: str
    id_number: str
    phone: str
    male: bool


def person_make(rng: random.Random, *, region_code: str, age: tuple[int, int], today: dt.date) -> Person:
    """A synthetic applicant: a Han or Mongolian name and a valid 18-digit ID (GB 11643 check digit)."""
    male = rng.random() < 0.5
    if rng.random() < 0.12:
        own = rng.choice(MONGOLIAN_MALE if male else MONGOLIAN_FEMALE)
        father = rng.choice(MONGOLIAN_MALE)
        name = f"{own}·{father}" if own != father else own
    else:
        name = rng.choice(SURNAMES) + rng.choice(GIVEN_MALE if male else GIVEN_FEMALE)
    years = rng.randint(*age)
    born = today - dt.timedelta(days=years * 365 + rng.randint(0, 364))
    sequence = rng.randint(0, 99) * 10 + rng.choice((1, 3, 5, 7, 9) if male else (0, 2, 4, 6, 8))
    # python-stdnum checks that the place code existed in the birth year: Hohhot's urban districts
    # date from 1983, before that the city was one code (市区 150120).
    for place in (region_code, "150120", "150121"):
        body = f"{place}{born:%Y%m%d}{sequence:03d}"
        number = body + ric.calc_check_digit(body + "0")  # it reads the first 17 digits
        if ric.is_valid(number):
            break
    else:
        raise ValueError(f"No valid ID number for {region_code} born {born}")
    phone = rng.choice(PHONE_PREFIXES) + f"{rng.randint(0, 99_999_999):08d}"
    return Person(name, number, phone, male)


def _age_for(matter_code: str) -> tuple[int, int]:
    return {"MZ-0005": (80, 96), "MZ-0003": (22, 40), "JY-0001": (30, 46), "JY-0002": (22, 35)}.get(
        matter_code, (18, 78)
    )


# --- texts -----------------------------------------------------------------------------------------

OPINIONS: dict[str, tuple[str, ...]] = {
    StepCode.RECEIVE: ("材料已收齐并扫描上传，报上级窗口受理。", "已代为收件，原件已核对，扫描件上报。"),
    StepCode.REVIEW: (
        "申请材料齐全，符合法定形式，审核通过。",
        "经审查，符合办理条件，拟同意。",
        "初审通过，报上级审核。",
    ),
    StepCode.INSPECT: ("经入户调查和信息核对，申报情况属实。", "现场核查符合要求。"),
    StepCode.PUBLICIZE: ("已公示期满，无异议。", "公示7日，无异议。"),
    StepCode.OPINION: ("本部门审核意见：同意。", "经审核，符合本部门条件，同意办理。"),
    StepCode.DECIDE: ("符合条件，准予。", "经审查，符合法定条件，决定准予。"),
}
DENIALS = (
    "经核查，申请人家庭人均收入高于当地保障标准，不符合条件。",
    "经现场核查，经营场所不符合规定条件。",
    "申请人不符合法定条件，依法不予批准。",
)
REFUSALS: tuple[tuple[str, str], ...] = (
    ("申请事项依法不属于本机关职权范围。", "《中华人民共和国行政许可法》第三十二条第一款第（二）项"),
    ("申请事项依法不需要取得行政许可。", "《中华人民共和国行政许可法》第三十二条第一款第（一）项"),
    (
        "经一次性告知后，申请人未在规定期限内补正全部材料。",
        "《中华人民共和国行政许可法》第三十二条第一款第（四）项",
    ),
)
CORRECTION_DEFECTS = ("复印件不清晰", "未签字", "已过有效期", "信息与原件不一致", "缺少")
RETURNS = ("上传的身份证照片不清晰，请重新上传。", "申请表未填写完整，请补充后重新提交。")
EXTENSIONS = ("案情复杂，需补充调查，经负责人批准延长。", "需征求相关部门意见，经负责人批准延长。")
SPECIALS = ("组织专家评审", "现场勘验", "委托检验检测", "残疾等级评定", "听证")
WITHDRAWALS = ("申请人书面申请撤回。", "申请人因个人原因申请撤回。")
VOIDS = ("重复录入，经核实作废。",)
SECOND_CORRECTIONS = ("申请人变更申请内容，需补充新的材料。",)
#: The share of applications sent back once for correction (补正).
CORRECTION_SHARE = 0.10

#: Satisfaction ratings (好差评): the share of completed window, community and online cases their
#: applicant rates (a department system's own cases are rated in its own system), and the levels.
RATED_SHARE = 0.75
RATING_LEVELS: tuple[tuple[int, float], ...] = ((5, 0.62), (4, 0.24), (3, 0.09), (2, 0.035), (1, 0.015))
PRAISE = ("办事效率高，工作人员很耐心。", "一次就办好了，不用来回跑。", "流程清楚，服务热情。")
COMPLAINTS = (
    "等候时间太长，窗口只开了一个。",
    "材料要求前后说法不一致，跑了两趟。",
    "工作人员态度生硬，解释不清楚。",
    "网上办理进度长时间不更新。",
)
#: The share of bad reviews whose follow-up the unit answers (the rest stay open, some overdue).
FOLLOW_UP_REPLIED = 0.8
#: (finding, action taken, reply to the citizen)
FOLLOW_UP_REPLIES: tuple[tuple[str, str, str], ...] = (
    (
        "verified",
        "已增开窗口并调整高峰时段排班。",
        "您反映的等候时间长的问题属实，我们已增开窗口，感谢您的监督。",
    ),
    (
        "verified",
        "已统一材料清单并组织窗口人员培训。",
        "经核实情况属实，已统一一次性告知内容，给您带来不便深表歉意。",
    ),
    ("explained", "调取窗口录像核实，按规定办理。", "经核实，办理过程符合规定，已电话向您说明有关政策。"),
)


# --- plans -----------------------------------------------------------------------------------------


#: A district's townships and communities that receive cases.
Places = tuple[list[str], list[str]]


@dataclass(frozen=True)
class MatterInfo:
    code: str
    kind: str
    line: str  # department kind
    levels: tuple[str, ...]
    online: bool
    promised_days: int
    fee: Decimal
    materials: tuple[str, ...]
    has_report_up: bool


@dataclass
class Plan:
    """What one case will go through; the driver reads it at every step."""

    index: int
    matter: MatterInfo
    channel: str  # window | community | online | api
    unit_code: str  # receiving unit (online: the accepting region code in ``region_code``)
    region_code: str
    start: dt.datetime
    applicant: Person
    applicant_account: int | None = None  # index into the applicant pool (online)
    outcome: str = "approve"  # approve | deny | refuse | withdraw | void
    exit_after: int = 2  # withdraw/void after this many actions
    correction: bool = False
    second_correction: bool = False
    precheck_return: bool = False
    extension: bool = False
    special: bool = False
    stall: tuple[str, int] | None = None  # stop when in this state after n actions taken from it
    pace: float = 0.6  # share of each step's limit used
    scenario: str = "natural"


@dataclass
class Run:
    plan: Plan
    case_id: int = 0
    version: int = 0
    actions: int = 0
    returned: bool = False
    special_done: bool = False
    per_state: Counter[str] = field(default_factory=Counter)
    pending: tuple[str, Actor, dict[str, Any]] | None = None
    query_code: str = ""  # the applicant's query code (查询码), for the window rating device
    rated: bool = False


@dataclass(frozen=True)
class DemoCaseSummary:
    cases: int
    events: int
    accounts_created: int
    seconds: float
    by_state: dict[str, int]
    by_kind: dict[str, int]
    by_channel: dict[str, int]
    by_level: dict[str, int]
    overdue: int
    due_soon: int
    notable: dict[str, int] = field(default_factory=dict)  # deny, extend, special_start … events
    ratings: int = 0
    follow_ups: int = 0
    sweeps: int = 0
    skipped: bool = False

    def line(self) -> str:
        if self.skipped:
            return "demo cases: already present, none added"
        states = ", ".join(f"{k} {v}" for k, v in sorted(self.by_state.items(), key=lambda x: -x[1]))
        notable = ", ".join(f"{k} {v}" for k, v in sorted(self.notable.items()))
        return (
            f"demo cases: {self.cases} ({self.events} events) in {self.seconds:.1f} s — {states}; "
            f"{self.overdue} overdue, {self.due_soon} due within 2 working days; events: {notable}; "
            f"{self.ratings} ratings ({self.follow_ups} bad reviews, each with a follow-up); "
            f"{self.sweeps} nightly supervision sweeps"
        )


#: Events counted in the summary.
NOTABLE = (A.REQUEST_CORRECTION, A.REFUSE, A.REPORT_UP, A.EXTEND, A.SPECIAL_START, A.DENY, A.WITHDRAW, A.VOID)


class DemoCaseStuck(RuntimeError):
    """The driver found nobody to whom the services offer the planned action: a bug to report."""


# --- time ------------------------------------------------------------------------------------------

_MORNING = (8 * 60 + 30, 11 * 60 + 50)
_AFTERNOON = (14 * 60, 17 * 60 + 20)
_CLOSING = dt.time(17, 30)
#: When the scheduled supervision sweep runs, in the seeded half-year (before the working day).
NIGHTLY_SWEEP = dt.time(6, 30)


class _Clock:
    """Working-hour instants on working days of the calendar."""

    def __init__(self, cal: WorkCalendar, rng: random.Random) -> None:
        self.cal = cal
        self.rng = rng

    def workday(self, day: dt.date) -> bool:
        try:
            return is_workday(self.cal, day)
        except CalendarNotConfigured:
            # Only to place demo instants; deadlines still report the missing year themselves.
            return day.weekday() < 5

    def next_day(self, day: dt.date, n: int = 1) -> dt.date:
        for _ in range(n):
            day += dt.timedelta(days=1)
            while not self.workday(day):
                day += dt.timedelta(days=1)
        return day

    def prev_day(self, day: dt.date, n: int = 1) -> dt.date:
        for _ in range(n):
            day -= dt.timedelta(days=1)
            while not self.workday(day):
                day -= dt.timedelta(days=1)
        return day

    def at(self, day: dt.date) -> dt.datetime:
        lo, hi = self.rng.choice((_MORNING, _AFTERNOON))
        minute = self.rng.randint(lo, hi)
        local = dt.datetime.combine(day, dt.time(minute // 60, minute % 60, self.rng.randint(0, 59)))
        return local.replace(tzinfo=clock.CITY_TZ).astimezone(dt.UTC)

    def later(self, t: dt.datetime, days: float) -> dt.datetime:
        """``days`` working days after ``t`` (0: minutes later, the same working day if it still is)."""
        n = max(0, round(days))
        if n == 0:
            candidate = t + dt.timedelta(minutes=self.rng.randint(3, 40))
            if candidate.astimezone(clock.CITY_TZ).time() <= _CLOSING:
                return candidate
            n = 1
        return self.at(self.next_day(t.astimezone(clock.CITY_TZ).date(), n))


# --- the seeder ------------------------------------------------------------------------------------


def seed_demo_cases(
    *,
    count: int = DEFAULT_COUNT,
    seed: int = 2026,
    progress: Callable[[int, int], None] | None = None,
    nightly_sweeps: bool = True,
) -> DemoCaseSummary:
    """Seed ``count`` demo cases over the past six months (skipped when any case exists).

    ``progress(done, count)`` is called every 250 cases created (a first demo run takes minutes).
    With ``nightly_sweeps`` the supervision sweep runs before each working day of the half-year, as
    the scheduled job would have (:data:`NIGHTLY_SWEEP`), so marks are raised on their own days:
    warnings for cases that were due soon then, cards on the day a deadline passed.
    """
    started = time.monotonic()
    if Case.objects.exists():
        return DemoCaseSummary(0, 0, 0, 0.0, {}, {}, {}, {}, 0, 0, skipped=True)
    seeder = _Seeder(count=count, seed=seed, progress=progress, nightly_sweeps=nightly_sweeps)
    seeder.run()
    return seeder.summary(time.monotonic() - started)


class _Seeder:
    def __init__(
        self, *, count: int, seed: int, progress: Callable[[int, int], None] | None, nightly_sweeps: bool
    ) -> None:
        self.count = count
        self.nightly_sweeps = nightly_sweeps
        self.sweeps = 0
        self.progress = progress
        self.rng = random.Random(seed)
        self.platform = system_actor("demo", channel="system")
        self.now = clock.now()
        self.today = self.now.astimezone(clock.CITY_TZ).date()
        self.clock = _Clock(work_calendar(), self.rng)
        self.units: dict[str, Unit] = {}
        self.actors: dict[tuple[str, int], Actor] = {}
        self.office_of_department: dict[int, Unit] = {}
        self.security_admin: Actor | None = None
        self.accounts_created = 0
        self.applicants: list[tuple[User, Person]] = []
        self.case_ids: list[int] = []
        self._tie = 0
        self._certificates: Counter[str] = Counter()
        self.ratings = 0

    # --- reference data ---

    def _unit(self, code: str) -> Unit:
        unit = self.units.get(code)
        if unit is None:
            unit = Unit.objects.select_related("department", "region").get(code=code)
            self.units[code] = unit
        return unit

    def _matters(self) -> list[MatterInfo]:
        infos = []
        for matter in Matter.objects.filter(active=True, current_version__isnull=False).select_related(
            "current_version"
        ):
            version = matter.current_version
            assert version is not None
            steps = list(FlowStep.objects.filter(flow_version=version))
            materials = tuple(
                Material.objects.filter(flow_version=version, required=True)
                .order_by("order")
                .values_list("name", flat=True)
            )
            infos.append(
                MatterInfo(
                    code=matter.code,
                    kind=version.kind,
                    line=version.department_kind,
                    levels=tuple(version.accepting_levels),
                    online=matter.online,
                    promised_days=version.promised_limit_days,
                    fee=version.fee_amount,
                    materials=materials,
                    has_report_up=any(s.report_up for s in steps),
                )
            )
        if not infos:
            raise RuntimeError("The matter catalogue is empty: seed the reference data first.")
        return sorted(infos, key=lambda m: m.code)

    def _places(self) -> dict[str, Places]:
        """District code → (township codes, community codes) the cases use."""
        places = {}
        for district, _share in DISTRICTS:
            townships = list(
                Region.objects.filter(parent__code=district).order_by("code").values_list("code", flat=True)
            )[:TOWNSHIPS_PER_DISTRICT]
            communities: list[str] = []
            for township in townships[:2]:
                communities += list(
                    Region.objects.filter(parent__code=township)
                    .order_by("code")
                    .values_list("code", flat=True)[: COMMUNITIES_PER_DISTRICT // 2]
                )
            if not townships or not communities:
                raise RuntimeError(f"District {district} has no townships or communities: import regions.")
            places[district] = (townships, communities)
        return places

    # --- planning ---

    def _entries(
        self, m: MatterInfo, district: str, townships: list[str], communities: list[str]
    ) -> list[tuple[str, str, str]]:
        """(channel, receiving unit code, region code) options of a matter in a district."""
        rng = self.rng
        options: list[tuple[str, str, str]] = []
        for level in m.levels:
            if level == "community":
                c = rng.choice(communities)
                options.append(("community", f"{c}-CS", c))
            elif level == "township":
                t = rng.choice(townships)
                options.append(("window", f"{t}-TC-W", t))
            elif level == "district":
                options.append(("window", f"{district}-CSC-W-{m.line}", district))
                options.append(("api", f"{district}-DEPT-{m.line}", district))
            elif level == "city":
                window = "150100-HALL-realestate-W1" if m.code == "ZR-0002" else f"{CITY_CODE}-GSC-W-{m.line}"
                options.append(("window", window, CITY_CODE))
                options.append(("api", f"{CITY_CODE}-DEPT-{m.line}", CITY_CODE))
        if m.online:
            where = district if m.levels and m.levels[0] == "city" else rng.choice(communities)
            options.append(("online", "", where))
        return options

    def _plan(self, index: int, matters: list[MatterInfo], places: dict[str, Places]) -> Plan:
        rng = self.rng
        scenario, want_kind, want_channel = _scenario(index, rng)
        candidates = [m for m in matters if want_kind is None or m.kind == want_kind]
        if scenario in ("due_soon", "overdue", "suspended", "correction"):
            candidates = [m for m in candidates if m.kind != MatterKind.IMMEDIATE and m.promised_days >= 3]
        if scenario == "due_soon":  # accepted where received, so the clock starts on the start day
            candidates = [m for m in candidates if not m.has_report_up]
        if scenario == "reported_up":
            candidates = [m for m in candidates if m.has_report_up]
        if scenario == "submitted":
            candidates = [m for m in candidates if m.online]
        district = rng.choices([d for d, _ in DISTRICTS], [w for _, w in DISTRICTS])[0]
        townships, communities = places[district]
        for _attempt in range(50):
            matter = rng.choices(candidates, [MATTER_WEIGHTS.get(m.code, 2) for m in candidates])[0]
            options = self._entries(matter, district, townships, communities)
            if want_channel is not None:
                options = [o for o in options if o[0] == want_channel]
            if scenario == "due_soon":
                options = [o for o in options if o[0] == "window"]
            if options:
                break
        else:
            raise RuntimeError(f"No matter fits scenario {scenario} ({want_kind}, {want_channel}).")
        channel, unit_code, region_code = rng.choices(options, [CHANNEL_WEIGHTS[o[0]] for o in options])[0]
        id_region = region_code[:6] if region_code != CITY_CODE else rng.choice([d for d, _ in DISTRICTS])
        applicant = person_make(rng, region_code=id_region, age=_age_for(matter.code), today=self.today)
        plan = Plan(
            index=index,
            matter=matter,
            channel=channel,
            unit_code=unit_code,
            region_code=region_code,
            start=self.now,
            applicant=applicant,
            scenario=scenario,
        )
        if channel == "online":
            plan.applicant_account = rng.randrange(APPLICANT_ACCOUNTS)
            plan.precheck_return = rng.random() < 0.12
        slow = matter.kind != MatterKind.IMMEDIATE
        r = rng.random()
        outcomes = (("refuse", 0.04), ("withdraw", 0.07), ("deny", 0.10), ("void", 0.105))
        plan.outcome = next((name for name, below in outcomes if r < below), "approve")
        plan.exit_after = rng.randint(1, 3)
        plan.correction = rng.random() < CORRECTION_SHARE
        plan.second_correction = plan.correction and rng.random() < 0.05
        plan.extension = slow and rng.random() < 0.04
        plan.special = slow and rng.random() < 0.04
        plan.pace = rng.uniform(1.0, 2.2) if rng.random() < 0.12 else rng.uniform(0.2, 0.9)
        _apply_scenario(plan, self, rng)
        return plan

    # --- people ---

    def _security_admin(self) -> Actor:
        if self.security_admin is None:
            row = (
                RoleAssignment.objects.filter(role=Role.SECURITY_ADMIN, user__is_active=True)
                .select_related("user")
                .order_by("id")
                .first()
            )
            if row is None:
                raise RuntimeError("No security administrator: seed the demo people first.")
            self.security_admin = account_selectors.actor_for(row.user, channel="cli")
        return self.security_admin

    def _terminal(self, unit: Unit, *, api: bool) -> Terminal:
        terminal = Terminal.objects.filter(unit=unit, active=True).order_by("id").first()
        if terminal is None:
            name = f"{unit.name} 前置机" if api else f"{unit.name} 工作站"
            terminal, _code = org_services.terminal_register(
                actor=self._security_admin(), unit=unit, name=name
            )
        return terminal

    def _staff(self, role: str, unit: Unit) -> Actor:
        key = (role, unit.pk)
        actor = self.actors.get(key)
        if actor is not None:
            return actor
        row = (
            RoleAssignment.objects.filter(role=role, unit=unit, user__is_active=True)
            .select_related("user")
            .order_by("id")
            .first()
        )
        if row is not None:
            user = row.user
        else:
            system = role == Role.DEPARTMENT_SYSTEM
            person = person_make(self.rng, region_code=unit.region.code[:6], age=(24, 55), today=self.today)
            with _light_hashing():
                user, _password = account_services.user_create(
                    actor=self.platform,
                    username=f"staff.{unit.code}.{role}",
                    full_name=f"{unit.name}业务系统" if system else person.name,
                    password=DEMO_PASSWORD,
                    is_system_account=system,
                    must_change_password=False,
                )
            account_services.role_grant(actor=self.platform, user=user, role=role, unit=unit)
            self.accounts_created += 1
        terminal = self._terminal(unit, api=role == Role.DEPARTMENT_SYSTEM)
        channel = "api" if role == Role.DEPARTMENT_SYSTEM else "web"
        actor = account_selectors.actor_for(user, terminal=terminal, channel=channel)
        self.actors[key] = actor
        return actor

    def _applicant(self, index: int) -> tuple[Actor, Person]:
        while len(self.applicants) <= index:
            n = len(self.applicants)
            registered = User.objects.filter(username="zhangsan").exclude(id_number_index="")
            if n == 0 and (zhangsan := registered.first()) is not None:
                person = person_make(self.rng, region_code="150105", age=(25, 60), today=self.today)
                own = Person(zhangsan.full_name, DEMO_CITIZEN_ID, person.phone, True)
                self.applicants.append((zhangsan, own))
                continue
            district = DISTRICTS[n % len(DISTRICTS)][0]
            person = person_make(self.rng, region_code=district, age=(20, 70), today=self.today)
            with _light_hashing():
                user = account_services.applicant_register(
                    username=f"applicant{n:03d}",
                    full_name=person.name,
                    id_number=person.id_number,
                    phone=person.phone,
                    password=DEMO_PASSWORD,
                    ip="",
                )
            self.accounts_created += 1
            self.applicants.append((user, person))
        user, person = self.applicants[index]
        return account_selectors.actor_for(user, channel="web"), person

    def _hypothetical(self, role: str, unit: Unit) -> Actor:
        """The actor a person with ``role`` at ``unit`` would be (to ask what they are offered)."""
        bound = role in DEPARTMENT_BOUND and unit.department_id is not None
        grant = Grant(
            role=role,
            unit_id=unit.pk,
            region_path=unit.region_path,
            department_id=unit.department_id if bound else None,
            department_kind=unit.department.kind if bound and unit.department is not None else None,
        )
        return Actor(user_id=None, username="?", grants=(grant,), unit_id=unit.pk, channel="web")

    # --- the play ---

    def run(self) -> None:
        matters = self._matters()
        places = self._places()
        plans = [self._plan(i, matters, places) for i in range(self.count)]
        heap: list[tuple[dt.datetime, int, int]] = []
        runs = [Run(plan) for plan in plans]
        for i, plan in enumerate(plans):
            heapq.heappush(heap, (plan.start, self._next_tie(), i))
        day: dt.date | None = None
        while heap:
            when, _tie, i = heapq.heappop(heap)
            run = runs[i]
            today = when.astimezone(clock.CITY_TZ).date()
            if day is not None and today > day:
                self._nightly_sweeps(day, today)
            day = today
            with clock.frozen(when):
                following = self._play(run, when)
            if following is not None and following <= self.now:
                heapq.heappush(heap, (following, self._next_tie(), i))
        if day is not None:
            self._nightly_sweeps(day, self.today)
        open_ids = list(self._mine(Case.objects.filter(state__in=OPEN_STATES)).values_list("pk", flat=True))
        case_services.case_deadlines_refresh(actor=self.platform, case_ids=open_ids)

    def _nightly_sweeps(self, after: dt.date, until: dt.date) -> None:
        """The supervision sweep before the work of each working day after ``after`` up to ``until``
        (one that would be in the future is not run). The sweep only reads the cases; the case
        sweep's deemed acceptance, which writes them, runs once at the end (``demo_oversight``)."""
        if not self.nightly_sweeps:
            return
        day = self.clock.next_day(after)
        while day <= until:
            at = dt.datetime.combine(day, NIGHTLY_SWEEP, tzinfo=clock.CITY_TZ)
            if at > self.now:
                return
            with clock.frozen(at):
                supervision_services.supervision_sweep(actor=self.platform)
            self.sweeps += 1
            day = self.clock.next_day(day)

    def _next_tie(self) -> int:
        self._tie += 1
        return self._tie

    def _play(self, run: Run, when: dt.datetime) -> dt.datetime | None:
        """Perform the run's next action at ``when``; answer when the one after it is due (None: stop)."""
        plan = run.plan
        if run.case_id == 0:
            case = self._create(run)
        else:
            assert run.pending is not None
            action, actor, fields = run.pending
            if action in (_RATE, _FOLLOW_UP_REPLY):
                return self._after_completion(run, action, actor, fields, when)
            if action == A.SUPPLEMENT and plan.channel == "online":
                # The applicant's supplement carries a scan for every item of the notice.
                case = case_services.case_supplement(
                    actor=actor,
                    case_id=run.case_id,
                    expected_version=run.version,
                    uploads=[
                        (item, f"{item[:40]}.pdf", _scan(item))
                        for item in case_services.notice_items(run.case_id)
                    ],
                    **fields,
                )
            else:
                case = case_services.case_act(
                    actor=actor, case_id=run.case_id, action=action, expected_version=run.version, **fields
                )
            if action == A.PRECHECK_RETURN:
                run.returned = True
            if action == A.SPECIAL_START:
                run.special_done = True
        run.actions += 1
        run.version = case.version
        return self._schedule_next(run, case, when, plan)

    def _create(self, run: Run) -> Case:
        plan = run.plan
        person = plan.applicant
        if plan.channel == "online":
            assert plan.applicant_account is not None
            actor, own = self._applicant(plan.applicant_account)
            if self.rng.random() < 0.5:
                person = own
            # For oneself the account's identity; for somebody else an agent application (代办).
            on_behalf = person is not own
            case, run.query_code = case_services.case_create_draft(
                actor=actor,
                matter_code=plan.matter.code,
                region_code=plan.region_code,
                on_behalf=on_behalf,
                applicant_name=person.name if on_behalf else "",
                applicant_id_number=person.id_number if on_behalf else "",
                applicant_phone=person.phone,
                agent_relation=AGENT_RELATIONS[len(person.name) % len(AGENT_RELATIONS)] if on_behalf else "",
            )
            # A scan of every required material before the draft is submitted.
            for item in plan.matter.materials:
                case_services.attachment_add(
                    actor=actor,
                    case_id=case.pk,
                    material_name=item,
                    filename=f"{item[:40]}.pdf",
                    content=_scan(item),
                )
            plan.applicant = person
        else:
            unit = self._unit(plan.unit_code)
            role = (
                Role.DEPARTMENT_SYSTEM
                if plan.channel == "api"
                else Role.COMMUNITY_WORKER
                if unit.kind == UnitKind.COMMUNITY_STATION
                else Role.WINDOW_CLERK
            )
            materials = list(plan.matter.materials)
            if plan.correction and materials:
                materials.pop(self.rng.randrange(len(materials)))
            case, run.query_code = case_services.case_receive(
                actor=self._staff(role, unit),
                matter_code=plan.matter.code,
                applicant_name=person.name,
                applicant_id_number=person.id_number,
                applicant_phone=person.phone,
                materials_received=materials,
                fee_charged=plan.matter.fee if plan.matter.fee > 0 else None,
            )
        run.case_id = case.pk
        self.case_ids.append(case.pk)
        if self.progress is not None and len(self.case_ids) % 250 == 0:
            self.progress(len(self.case_ids), self.count)
        return case

    def _schedule_next(self, run: Run, case: Case, when: dt.datetime, plan: Plan) -> dt.datetime | None:
        """Choose the case's next action, its actor and fields now, and answer when it will happen."""
        if case.state == S.COMPLETED and not run.rated:
            return self._schedule_rating(run, case, when)
        if case.state in FINAL_STATES:
            return None
        steps = case_selectors.case_steps(case)
        stage = [s for s in steps if s.order == case.current_step_order]
        action = self._wanted(run, case, steps, stage)
        if action is None:
            return None
        stall = plan.stall
        if stall is not None and case.state == stall[0] and run.per_state[case.state] >= stall[1]:
            return None  # stalled on purpose: the case stays open in this state
        run.per_state[case.state] += 1
        at = self.clock.later(when, self._gap(run, case, stage, action))
        with clock.frozen(at):  # who is offered the action when it happens (a publicity runs out first)
            actor = self._actor_for(run, case, steps, stage, action)
        fields = self._fields(run, case, stage, action)
        run.pending = (action, actor, fields)
        return at

    # --- after completion: the applicant's rating (好差评) and a bad review's follow-up ---

    def _schedule_rating(self, run: Run, case: Case, when: dt.datetime) -> dt.datetime | None:
        """Most applicants rate: at the window's rating device when they collect the result, or on
        the portal a few days later (online applications). A department system's cases are not."""
        run.rated = True
        plan = run.plan
        rng = self.rng
        if plan.channel == "api" or rng.random() >= RATED_SHARE:
            return None
        level = rng.choices([lv for lv, _ in RATING_LEVELS], [w for _, w in RATING_LEVELS])[0]
        comment = ""
        if level in BAD_LEVELS:
            comment = rng.choice(COMPLAINTS)
        elif rng.random() < 0.3:
            comment = rng.choice(PRAISE)
        fields: dict[str, Any] = {"level": level, "comment": comment, "case_number": case.number}
        if plan.channel == "online":
            if case.agent_id is not None:  # applied for by an agent: the applicant rates, not the agent
                return None
            assert plan.applicant_account is not None
            run.pending = (_RATE, self._applicant(plan.applicant_account)[0], fields)
            return self.clock.later(when, rng.choice((0, 1, 2, 3)))
        unit = self._unit(case.accepting_unit.code)
        run.pending = (_RATE, self._staff(_window_role(unit), unit), fields)
        return self.clock.later(when, 0)

    def _after_completion(
        self, run: Run, action: str, actor: Actor, fields: dict[str, Any], when: dt.datetime
    ) -> dt.datetime | None:
        rng = self.rng
        if action == _FOLLOW_UP_REPLY:
            evaluation_services.follow_up_reply(actor=actor, **fields)
            return None
        if run.plan.channel == "online":
            rating = evaluation_services.rating_submit(
                actor=actor, case_id=run.case_id, level=fields["level"], comment=fields["comment"]
            )
        else:
            rating = evaluation_services.rating_submit_at_window(
                actor=actor,
                case_number=fields["case_number"],
                query_code=run.query_code,
                level=fields["level"],
                comment=fields["comment"],
            )
        self.ratings += 1
        follow_up = FollowUp.objects.filter(rating=rating).select_related("unit").first()
        if follow_up is None or rng.random() >= FOLLOW_UP_REPLIED:
            return None
        finding, action_taken, reply = rng.choice(FOLLOW_UP_REPLIES)
        unit = self._unit(follow_up.unit.code)
        run.pending = (
            _FOLLOW_UP_REPLY,
            self._responsible(unit),
            {"follow_up_id": follow_up.pk, "finding": finding, "action_taken": action_taken, "reply": reply},
        )
        return self.clock.later(when, rng.randint(2, 10))

    def _responsible(self, unit: Unit) -> Actor:
        """Someone who answers for ``unit`` (its follow-ups, its marks): a person already working
        there, else its window clerk, community worker or department head."""
        row = (
            RoleAssignment.objects.filter(unit=unit, role__in=sorted(UNIT_ROLES), user__is_active=True)
            .exclude(role=Role.DEPARTMENT_SYSTEM)
            .order_by("id")
            .first()
        )
        if row is not None:
            return self._staff(row.role, unit)
        if unit.kind == UnitKind.DEPARTMENT_OFFICE:
            return self._staff(Role.DEPARTMENT_HEAD, unit)
        return self._staff(_window_role(unit), unit)

    def _wanted(self, run: Run, case: Case, steps: list[CaseStep], stage: list[CaseStep]) -> str | None:
        """The action the plan calls for next."""
        plan = run.plan
        state = case.state
        head = stage[0].flow_step if stage else None
        code = head.code if head is not None else ""
        before_decision = state in (S.RECEIVED, S.CORRECTION_REQUESTED, S.HANDLING, S.SUBMITTED)
        before_decision = before_decision or state == S.REPORTED_UP
        if plan.outcome in ("withdraw", "void") and run.actions >= plan.exit_after and before_decision:
            return A.WITHDRAW if plan.outcome == "withdraw" else A.VOID
        if state in (S.DRAFT, S.RETURNED):
            return A.SUBMIT
        if state == S.SUBMITTED:
            return A.PRECHECK_RETURN if plan.precheck_return and not run.returned else A.PRECHECK_PASS
        if state == S.RECEIVED:
            if code != StepCode.ACCEPT:
                return A.REPORT_UP
            if plan.correction and case.corrections_count == 0:
                return A.REQUEST_CORRECTION
            if plan.second_correction and case.corrections_count == 1:
                return A.REQUEST_CORRECTION if case.second_correction_allowed else A.ALLOW_SECOND_CORRECTION
            return A.REFUSE if plan.outcome == "refuse" else A.ACCEPT
        if state == S.CORRECTION_REQUESTED:
            if plan.outcome == "refuse" and run.plan.index % 2:
                return A.REFUSE
            return A.SUPPLEMENT
        if state == S.REPORTED_UP:
            return A.TAKE_OVER
        if state == S.SUSPENDED:
            return A.SPECIAL_END
        if state == S.HANDLING:
            assert head is not None
            if plan.extension and case.extension_days == 0 and code != StepCode.ACCEPT:
                return A.EXTEND
            reviewing = code in (StepCode.REVIEW, StepCode.INSPECT, StepCode.OPINION)
            if plan.special and not run.special_done and reviewing:
                return A.SPECIAL_START
            if head.report_up:
                return A.REPORT_UP
            final = max(s.order for s in steps if s.flow_step.code == StepCode.DECIDE)
            if code == StepCode.DECIDE and case.current_step_order == final:
                return A.DENY if plan.outcome == "deny" else A.APPROVE
            return A.COMPLETE_STEP
        if state in (S.APPROVED, S.DENIED):
            return A.RETURN_DOWN if stage and stage[0].state == StepState.PENDING else A.DELIVER
        if state == S.DELIVERED:
            return A.COMPLETE
        return None

    def _candidates(
        self, run: Run, case: Case, steps: list[CaseStep], stage: list[CaseStep], action: str
    ) -> list[tuple[str, Unit]]:
        here = case.current_unit
        head_role = stage[0].flow_step.role if stage else Role.WINDOW_CLERK
        found: list[tuple[str, Unit]] = []
        if action in (A.VOID, A.ALLOW_SECOND_CORRECTION):
            codes = [c for c in case.region_path.split("/") if c]
            sup = f"{codes[1]}-SUP" if len(codes) > 1 else f"{codes[0]}-SUP"
            return [(Role.SUPERVISOR, self._unit(sup))]
        if action == A.WITHDRAW:
            found += [(Role.WINDOW_CLERK, case.accepting_unit), (Role.COMMUNITY_WORKER, case.accepting_unit)]
            found += [(Role.WINDOW_CLERK, here), (Role.DEPARTMENT_SYSTEM, here)]
        if run.plan.channel == "api" and here.kind == UnitKind.DEPARTMENT_OFFICE:
            found.append((Role.DEPARTMENT_SYSTEM, here))
        if action == A.COMPLETE_STEP and len(stage) > 1:
            for step in stage:
                if step.state == StepState.ACTIVE and step.department_id is not None:
                    found.append((step.flow_step.role, self._office(step)))
        if action == A.EXTEND:
            office = (
                here
                if here.kind == UnitKind.DEPARTMENT_OFFICE or case.current_department_id is None
                else self._office_for(case.current_department_id, here)
            )
            return [(Role.DEPARTMENT_HEAD, office)]
        if action == A.RETURN_DOWN:
            decide = [s for s in steps if s.flow_step.code == StepCode.DECIDE]
            if decide:
                found.append((decide[-1].flow_step.role, here))
        found += [(head_role, here), (Role.APPROVER, here), (Role.DEPARTMENT_HEAD, here)]
        found += [(Role.REVIEWER, here), (Role.WINDOW_CLERK, here), (Role.COMMUNITY_WORKER, here)]
        unique: list[tuple[str, Unit]] = []
        for role, unit in found:
            if role in (Role.COMMUNITY_WORKER, Role.WINDOW_CLERK):
                role = _window_role(unit)
            if role in (Role.REVIEWER, Role.APPROVER, Role.DEPARTMENT_HEAD) and unit.kind in (
                UnitKind.WINDOW,
                UnitKind.COMMUNITY_STATION,
                UnitKind.TOWNSHIP_CENTRE,
            ):
                continue  # nobody reviews or decides at a window
            if role == Role.DEPARTMENT_SYSTEM and run.plan.channel != "api":
                continue
            if (role, unit) not in unique:
                unique.append((role, unit))
        return unique

    def _office(self, step: CaseStep) -> Unit:
        assert step.department_id is not None
        if step.unit_id is not None and step.unit is not None:
            return step.unit
        return self._office_for(step.department_id, None)

    def _office_for(self, department_id: int, fallback: Unit | None) -> Unit:
        unit = self.office_of_department.get(department_id)
        if unit is None:
            found = (
                Unit.objects.filter(department_id=department_id, kind=UnitKind.DEPARTMENT_OFFICE, active=True)
                .select_related("department", "region")
                .order_by("code")
                .first()
            )
            if found is None:
                if fallback is None:
                    raise DemoCaseStuck(f"No office of department {department_id}.")
                return fallback
            unit = found
            self.office_of_department[department_id] = unit
        return unit

    def _actor_for(
        self, run: Run, case: Case, steps: list[CaseStep], stage: list[CaseStep], action: str
    ) -> Actor:
        plan = run.plan
        if plan.channel == "online" and action in (A.SUBMIT, A.SUPPLEMENT, A.WITHDRAW):
            assert plan.applicant_account is not None
            return self._applicant(plan.applicant_account)[0]
        tried = []
        for role, unit in self._candidates(run, case, steps, stage, action):
            unit = self._unit(unit.code)
            offered = case_selectors.case_allowed_actions(self._hypothetical(role, unit), case)
            if action in offered:
                return self._staff(role, unit)
            tried.append(f"{role}@{unit.code}: {', '.join(offered) or '-'}")
        raise DemoCaseStuck(
            f"Case {case.number} ({plan.matter.code}, {plan.channel}) in state {case.state} at step "
            f"{case.current_step_order} ({case.current_unit.code}): nobody is offered {action!r}; "
            f"tried {'; '.join(tried)}."
        )

    def _fields(self, run: Run, case: Case, stage: list[CaseStep], action: str) -> dict[str, Any]:
        rng = self.rng
        plan = run.plan
        code = stage[0].flow_step.code if stage else ""
        if action in (A.COMPLETE_STEP, A.REPORT_UP):
            return {"opinion": rng.choice(OPINIONS.get(code, OPINIONS[StepCode.REVIEW]))}
        if action == A.APPROVE:
            return {"opinion": rng.choice(OPINIONS[StepCode.DECIDE])}
        if action == A.DENY:
            return {"reason": rng.choice(DENIALS)}
        if action == A.REFUSE:
            reason, basis = REFUSALS[2] if case.corrections_count else rng.choice(REFUSALS[:2])
            return {"reason": reason, "legal_basis": basis}
        if action == A.REQUEST_CORRECTION:
            names = list(plan.matter.materials) or ["申请书"]
            picked = rng.sample(names, k=min(len(names), rng.randint(1, 3)))
            return {"missing_items": [f"{n}{rng.choice(CORRECTION_DEFECTS)}" for n in picked]}
        if action == A.ALLOW_SECOND_CORRECTION:
            return {"reason": rng.choice(SECOND_CORRECTIONS)}
        if action == A.PRECHECK_RETURN:
            return {"reason": rng.choice(RETURNS)}
        if action == A.EXTEND:
            limit = 15 if plan.matter.kind == MatterKind.JOINT else 10
            return {"days": rng.randint(3, limit), "reason": rng.choice(EXTENSIONS)}
        if action == A.SPECIAL_START:
            return {"reason": rng.choice(SPECIALS), "duration_days": rng.randint(3, 10)}
        if action == A.DELIVER:
            method = rng.choice(("window", "window", "mail", "electronic"))
            fields: dict[str, Any] = {"delivery_method": method}
            if case.state == S.APPROVED:
                self._certificates[plan.matter.code] += 1
                serial = self._certificates[plan.matter.code]
                fields["certificate_no"] = f"{plan.matter.code}-{clock.today().year}-{serial:06d}"
            return fields
        if action == A.WITHDRAW and plan.channel != "online":
            return {"reason": rng.choice(WITHDRAWALS)}
        if action == A.VOID:
            return {"reason": rng.choice(VOIDS)}
        return {}

    def _gap(self, run: Run, case: Case, stage: list[CaseStep], action: str) -> float:
        """Working days before ``action`` happens."""
        rng = self.rng
        plan = run.plan
        if plan.matter.kind == MatterKind.IMMEDIATE and action not in (A.SUPPLEMENT, A.SUBMIT):
            return 0
        limit = max((s.flow_step.limit_days for s in stage), default=1)
        if action in (A.COMPLETE_STEP, A.REPORT_UP, A.APPROVE, A.DENY) and case.state == S.HANDLING:
            if stage and stage[0].flow_step.code == StepCode.PUBLICIZE:
                return max(limit, rng.uniform(0, limit) * plan.pace)  # a publicity runs its whole period
            return rng.uniform(0, limit) * plan.pace
        if action == A.SPECIAL_END:
            return rng.randint(3, 10)
        if action == A.SUPPLEMENT:
            return rng.randint(1, 6)
        if action in (A.ACCEPT, A.REQUEST_CORRECTION, A.REFUSE, A.EXTEND, A.SPECIAL_START, A.COMPLETE):
            return 0 if plan.scenario == "due_soon" or rng.random() < 0.7 else 1
        if action == A.REPORT_UP:  # from a receiving station
            return rng.choice((0, 0, 1))
        if action == A.DELIVER:
            return rng.uniform(0, max(limit, 1)) * plan.pace
        return rng.choice((0, 0, 1, 2))

    # --- the figures ---

    def _mine(self, queryset: QuerySet[Case]) -> QuerySet[Case]:
        """The cases this run created (ids are increasing; a range, not thousands of parameters)."""
        if not self.case_ids:
            return queryset.none()
        return queryset.filter(pk__gte=min(self.case_ids), pk__lte=max(self.case_ids))

    def summary(self, seconds: float) -> DemoCaseSummary:
        cases = self._mine(Case.objects.all())
        now = clock.now()
        by_level: Counter[str] = Counter()
        for path in cases.values_list("accepting_unit__region_path", flat=True):
            depth = len([c for c in path.split("/") if c])
            by_level[{1: "city", 2: "district", 3: "township", 4: "community"}.get(depth, "?")] += 1
        open_cases = cases.filter(state__in=OPEN_STATES, promised_due__isnull=False)
        return DemoCaseSummary(
            cases=cases.count(),
            events=CaseEvent.objects.filter(case__in=cases).count(),
            accounts_created=self.accounts_created,
            seconds=seconds,
            by_state=dict(Counter(cases.values_list("state", flat=True))),
            by_kind=dict(Counter(cases.values_list("matter_kind", flat=True))),
            by_channel=dict(Counter(cases.values_list("channel", flat=True))),
            by_level=dict(by_level),
            overdue=open_cases.filter(promised_due__lt=now).count(),
            notable=dict(
                Counter(
                    CaseEvent.objects.filter(case__in=cases, action__in=NOTABLE).values_list(
                        "action", flat=True
                    )
                )
            ),
            due_soon=open_cases.filter(promised_due__gte=now, remaining_days__lte=2).count(),
            ratings=self.ratings,
            sweeps=self.sweeps,
            follow_ups=FollowUp.objects.filter(case__in=cases).count(),
        )


#: The seeder's own steps after a case is completed (not case actions).
_RATE = "rate"


def _scan(material: str) -> bytes:
    """A small PDF standing for the scan of ``material`` an applicant uploads."""
    text = material.encode("unicode_escape").decode("ascii")
    return f"%PDF-1.4\n% sanji demo scan: {text}\n%%EOF\n".encode("ascii")


_FOLLOW_UP_REPLY = "follow_up_reply"


def _window_role(unit: Unit) -> str:
    """Window work at a community station is the community worker's; elsewhere the window clerk's."""
    return Role.COMMUNITY_WORKER if unit.kind == UnitKind.COMMUNITY_STATION else Role.WINDOW_CLERK


# --- scenarios -------------------------------------------------------------------------------------

#: The first plans cover every kind, channel and stalled state, so that even a small demo has them.
COVERAGE: tuple[tuple[str, str | None, str | None], ...] = (
    ("natural", MatterKind.IMMEDIATE, "window"),
    ("natural", MatterKind.PROMISED, "online"),
    ("natural", MatterKind.REPORTED, "community"),
    ("natural", MatterKind.JOINT, "community"),
    ("natural", MatterKind.PROMISED, "api"),
    ("overdue", MatterKind.PROMISED, None),
    ("due_soon", MatterKind.PROMISED, None),
    ("reported_up", MatterKind.REPORTED, None),
    ("correction", None, "window"),
    ("suspended", None, None),
    ("refuse", None, "window"),
    ("withdraw", None, "online"),
    ("deny", MatterKind.PROMISED, None),
    ("natural", MatterKind.JOINT, "window"),
    ("natural", MatterKind.IMMEDIATE, "api"),
    ("extension", MatterKind.PROMISED, None),
    ("overdue", MatterKind.REPORTED, None),
    ("due_soon", None, None),
    ("submitted", None, "online"),
    ("received", None, "window"),
)

#: Later plans: (scenario, share).
SCENARIO_SHARES: tuple[tuple[str, float], ...] = (
    ("overdue", 0.035),
    ("due_soon", 0.035),
    ("correction", 0.015),
    ("suspended", 0.015),
    ("reported_up", 0.02),
    ("received", 0.01),
    ("submitted", 0.01),
    ("approved", 0.01),
)


def _scenario(index: int, rng: random.Random) -> tuple[str, str | None, str | None]:
    if index < len(COVERAGE):
        return COVERAGE[index]
    r = rng.random()
    for name, share in SCENARIO_SHARES:
        if r < share:
            return name, None, "online" if name == "submitted" else None
        r -= share
    return "natural", None, None


def _apply_scenario(plan: Plan, seeder: _Seeder, rng: random.Random) -> None:
    """Set the start (and the stall) of the plan for its scenario."""
    c = seeder.clock
    today = seeder.today

    def days_ago(lo: int, hi: int) -> dt.datetime:
        n = rng.randint(lo, hi)
        day = c.prev_day(today, n) if n > 0 else today
        if not c.workday(day):
            day = c.prev_day(day)
        return c.at(day)

    name = plan.scenario
    if name in ("refuse", "withdraw", "deny", "extension"):
        plan.outcome = {"refuse": "refuse", "withdraw": "withdraw", "deny": "deny"}.get(name, "approve")
        plan.extension = name == "extension"
        plan.start = days_ago(20, 110)
    elif name == "overdue":
        plan.outcome = "approve"
        plan.stall = ("handling", rng.randint(0, 1))
        plan.start = days_ago(28, 60)
    elif name == "due_soon":
        plan.outcome, plan.correction, plan.special, plan.extension = "approve", False, False, False
        plan.stall = ("handling", 0)
        plan.pace = 0.3
        elapsed = max(0, plan.matter.promised_days - rng.randint(1, 2))  # 1–2 working days remain
        plan.start = days_ago(elapsed, elapsed)
    elif name == "correction":
        plan.outcome, plan.correction = "approve", True
        plan.stall = ("correction_requested", 0)
        plan.start = days_ago(0, 3)
    elif name == "suspended":
        plan.outcome, plan.special = "approve", True
        plan.stall = ("suspended", 0)
        plan.start = days_ago(6, 20)
    elif name == "reported_up":
        plan.outcome = "approve"
        plan.stall = ("reported_up", rng.randint(0, 1))
        plan.start = days_ago(0, 6)
    elif name in ("received", "submitted", "approved"):
        plan.outcome, plan.correction = "approve", False
        plan.stall = (name, 0)
        plan.start = days_ago(0, 1) if name != "approved" else days_ago(3, 15)
    else:
        # Natural: spread over six months, a little busier lately.
        span = (today - (today - SIX_MONTHS)).days
        back = int(span * (1 - rng.random() ** 0.85))
        day = today - dt.timedelta(days=back)
        while not c.workday(day):
            day -= dt.timedelta(days=1)
        plan.start = c.at(day)
    if plan.stall is not None and plan.outcome in ("withdraw", "void", "refuse"):
        plan.outcome = "approve"
    if plan.start > seeder.now:
        plan.start = seeder.now - dt.timedelta(minutes=rng.randint(5, 90))
