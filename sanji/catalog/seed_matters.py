"""Seed data of the matter catalogue: Hohhot-style matters across departments and the three levels.

Read by :func:`sanji.catalog.services.catalog_seed`. Each :class:`SeedMatter` is one catalogue item
with its terms, service guide, flow and materials. Legal bases cite real laws and regulations;
limits are in working days and are representative of published service guides (where a law counts
natural days, e.g. 60 日, the catalogue states a working-day equivalent). A deployment checks them
against the city's current 政务服务事项清单 before going live.

Codes are local: a two-letter line prefix and a number (MZ 民政, GA 公安, RS 人社, WJ 卫健,
SJ 市场监管, ZJ 住建, ZR 自然资源, JY 教育, CL 残联, SP 行政审批).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from html import escape

from sanji.catalog.flows import MaterialSpec, MatterTerms, StepSpec
from sanji.catalog.models import MaterialForm, MatterKind, MatterType, StepCode
from sanji.catalog.services import MatterDetails
from sanji.core.roles import Role
from sanji.orgs.models import DepartmentKind as Dept
from sanji.orgs.models import RegionLevel

CITY, DISTRICT, TOWNSHIP, COMMUNITY = (
    RegionLevel.CITY.value,
    RegionLevel.DISTRICT.value,
    RegionLevel.TOWNSHIP.value,
    RegionLevel.COMMUNITY.value,
)
CLERK, WORKER, REVIEWER, APPROVER, HEAD = (
    Role.WINDOW_CLERK.value,
    Role.COMMUNITY_WORKER.value,
    Role.REVIEWER.value,
    Role.APPROVER.value,
    Role.DEPARTMENT_HEAD.value,
)
ORIGINAL, COPY, ELECTRONIC = (
    MaterialForm.ORIGINAL.value,
    MaterialForm.COPY.value,
    MaterialForm.ELECTRONIC.value,
)
HOTLINE = "12345政务服务便民热线"

#: The matter that crosses all three levels: a community station takes the application and scans
#: the materials, the district reviews, the city decides, and the result comes back to the
#: community for delivery (公共租赁住房 "三级审核"). Tests and the demo use it.
THREE_LEVEL_MATTER_CODE = "ZJ-0001"


@dataclass(frozen=True)
class SeedMatter:
    code: str
    name: str
    matter_type: str
    department_kind: str
    accepting_levels: tuple[str, ...]
    deciding_level: str
    kind: str
    legal_limit_days: int
    promised_limit_days: int
    legal_basis: str
    conditions: str
    steps: tuple[StepSpec, ...]
    materials: tuple[MaterialSpec, ...]
    online: bool = False
    procedure: str = ""
    fee_amount: Decimal = Decimal("0")
    fee_basis: str = ""
    contact: str = HOTLINE

    @property
    def terms(self) -> MatterTerms:
        return MatterTerms(
            kind=self.kind,
            department_kind=self.department_kind,
            accepting_levels=self.accepting_levels,
            deciding_level=self.deciding_level,
            legal_limit_days=self.legal_limit_days,
            promised_limit_days=self.promised_limit_days,
            fee_amount=self.fee_amount,
            fee_basis=self.fee_basis,
        )

    @property
    def details(self) -> MatterDetails:
        return MatterDetails(
            name=self.name,
            matter_type=self.matter_type,
            legal_basis=self.legal_basis,
            online=self.online,
            conditions=self.conditions,
            procedure=self.procedure,
            contact=self.contact,
        )


# --- small builders, so each entry below reads like the service guide ------------------------


def step(
    order: int,
    code: str,
    name: str,
    level: str,
    role: str,
    days: int,
    *,
    dept: str | None = None,
    group: int | None = None,
    up: bool = False,
) -> StepSpec:
    return StepSpec(
        order=order,
        code=code,
        name=name,
        level=level,
        role=role,
        limit_days=days,
        department_kind=dept,
        parallel_group=group,
        report_up=up,
    )


def doc(
    name: str,
    form: str = ORIGINAL,
    count: int = 1,
    *,
    optional: bool = False,
    notes: str = "",
    blank: str = "",
) -> MaterialSpec:
    """A material; ``blank`` names a blank form (空白表格) generated from the material's name."""
    return MaterialSpec(
        name=name,
        form=form,
        count=count,
        required=not optional,
        blank_form_name=f"{blank}.html" if blank else "",
        blank_form_template=blank_form(blank) if blank else "",
        notes=notes,
    )


_BLANK_FIELDS = (
    "申请人姓名",
    "公民身份号码",
    "联系电话",
    "住址",
    "申请事项",
    "申请理由",
    "申请人签字",
    "日期",
)


def blank_form(title: str) -> str:
    """A plain printable HTML blank form (no scripts, no inline styles)."""
    rows = "".join(f"<tr><th>{escape(f)}</th><td></td></tr>" for f in _BLANK_FIELDS)
    return f"<h1>{escape(title)}</h1><table>{rows}</table>"


def immediate(level: str, *, accept: str = "窗口受理", decide: str = "当场审核办结") -> tuple[StepSpec, ...]:
    """即办件: accepted, decided and delivered on the spot at one window."""
    return (
        step(1, StepCode.ACCEPT, accept, level, CLERK, 0),
        step(2, StepCode.DECIDE, decide, level, CLERK, 0),
        step(3, StepCode.DELIVER, "当场出件", level, CLERK, 0),
    )


def window(
    level: str, *, accept: int, review: int, decide: int, deliver: int, inspect: int = 0
) -> tuple[StepSpec, ...]:
    """承诺件 handled at one level: accept → review (→ on-site inspection) → decide → deliver."""
    steps = [
        step(1, StepCode.ACCEPT, "窗口受理", level, CLERK, accept),
        step(2, StepCode.REVIEW, "承办人审查", level, REVIEWER, review),
    ]
    if inspect:
        steps.append(step(3, StepCode.INSPECT, "现场核查", level, REVIEWER, inspect))
    n = len(steps)
    steps.append(step(n + 1, StepCode.DECIDE, "审批决定", level, APPROVER, decide))
    steps.append(step(n + 2, StepCode.DELIVER, "送达结果", level, CLERK, deliver))
    return tuple(steps)


# --- the catalogue ----------------------------------------------------------------------------

SEED_MATTERS: tuple[SeedMatter, ...] = (
    # 民政 civil affairs
    SeedMatter(
        code="MZ-0001",
        name="最低生活保障审批",
        matter_type=MatterType.BENEFIT,
        department_kind=Dept.CIVIL_AFFAIRS,
        accepting_levels=(TOWNSHIP, COMMUNITY),
        deciding_level=DISTRICT,
        kind=MatterKind.REPORTED,
        legal_limit_days=30,
        promised_limit_days=20,
        legal_basis="《社会救助暂行办法》第九条至第十三条；《最低生活保障审核确认办法》（民发〔2021〕57号）",
        conditions=(
            "持有本市户籍，共同生活的家庭成员人均收入低于当地最低生活保障标准，且家庭财产状况符合规定。"
        ),
        procedure=(
            "社区代为收件 → 乡镇（街道）受理、入户调查、提出审核意见并公示 → 旗县区民政局审核确认 → 送达。"
        ),
        online=True,
        steps=(
            step(1, StepCode.RECEIVE, "社区代为收件、扫描材料", COMMUNITY, WORKER, 2, up=True),
            step(2, StepCode.ACCEPT, "乡镇（街道）受理", TOWNSHIP, CLERK, 1),
            step(3, StepCode.INSPECT, "入户调查、邻里访问、信息核对", TOWNSHIP, REVIEWER, 10),
            step(4, StepCode.REVIEW, "提出审核意见并公示", TOWNSHIP, REVIEWER, 5, up=True),
            step(5, StepCode.DECIDE, "旗县区民政局审核确认", DISTRICT, APPROVER, 10),
            step(6, StepCode.DELIVER, "送达审核确认结果", TOWNSHIP, CLERK, 2),
        ),
        materials=(
            doc("最低生活保障申请书", blank="最低生活保障申请书"),
            doc("申请人及共同生活家庭成员居民身份证", COPY),
            doc("居民户口簿", COPY),
            doc("家庭经济状况核对授权书", blank="家庭经济状况核对授权书"),
            doc("家庭收入和财产状况声明", notes="如实申报，承诺真实"),
            doc("残疾人证或疾病诊断证明", COPY, optional=True, notes="家庭成员有重病、重残的提供"),
        ),
    ),
    SeedMatter(
        code="MZ-0002",
        name="临时救助",
        matter_type=MatterType.BENEFIT,
        department_kind=Dept.CIVIL_AFFAIRS,
        accepting_levels=(TOWNSHIP, COMMUNITY),
        deciding_level=TOWNSHIP,
        kind=MatterKind.PROMISED,
        legal_limit_days=15,
        promised_limit_days=10,
        legal_basis=(
            "《社会救助暂行办法》第四十七条至第五十条；"
            "《民政部 财政部关于进一步加强和改进临时救助工作的意见》（民发〔2018〕23号）"
        ),
        conditions=(
            "因火灾、交通事故等意外事件，或家庭成员突发重大疾病等原因，"
            "导致基本生活暂时出现严重困难的家庭或个人。"
        ),
        online=True,
        steps=(
            step(1, StepCode.RECEIVE, "社区代为收件", COMMUNITY, WORKER, 1, up=True),
            step(2, StepCode.ACCEPT, "乡镇（街道）受理", TOWNSHIP, CLERK, 1),
            step(3, StepCode.REVIEW, "调查核实", TOWNSHIP, REVIEWER, 5),
            step(4, StepCode.DECIDE, "乡镇（街道）审批", TOWNSHIP, APPROVER, 3),
            step(5, StepCode.DELIVER, "发放救助并告知", COMMUNITY, WORKER, 1),
        ),
        materials=(
            doc("临时救助申请书", blank="临时救助申请书"),
            doc("申请人居民身份证", COPY),
            doc("居民户口簿", COPY),
            doc("遭遇困难的证明材料", COPY, notes="医疗费用票据、事故证明、火灾证明等"),
            doc("银行账户信息", COPY),
        ),
    ),
    SeedMatter(
        code="MZ-0003",
        name="结婚登记",
        matter_type=MatterType.CONFIRMATION,
        department_kind=Dept.CIVIL_AFFAIRS,
        accepting_levels=(DISTRICT,),
        deciding_level=DISTRICT,
        kind=MatterKind.IMMEDIATE,
        legal_limit_days=0,
        promised_limit_days=0,
        legal_basis="《中华人民共和国民法典》第一千零四十九条；《婚姻登记条例》",
        conditions="男女双方完全自愿，达到法定婚龄，且不存在禁止结婚的情形，双方亲自到婚姻登记机关申请。",
        steps=immediate(DISTRICT, accept="婚姻登记处受理", decide="审查并当场登记"),
        materials=(
            doc("男女双方居民身份证"),
            doc("双方近期半身免冠合影照片", count=3),
            doc("申请结婚登记声明书", notes="在婚姻登记员面前当场签署"),
        ),
    ),
    SeedMatter(
        code="MZ-0004",
        name="特困人员认定",
        matter_type=MatterType.BENEFIT,
        department_kind=Dept.CIVIL_AFFAIRS,
        accepting_levels=(TOWNSHIP, COMMUNITY),
        deciding_level=DISTRICT,
        kind=MatterKind.REPORTED,
        legal_limit_days=30,
        promised_limit_days=20,
        legal_basis="《社会救助暂行办法》第十四条至第十九条；《特困人员认定办法》（民发〔2021〕43号）",
        conditions=(
            "无劳动能力、无生活来源、无法定赡养抚养扶养义务人或者其法定义务人无履行义务能力的老年人、"
            "残疾人以及未成年人。"
        ),
        steps=(
            step(1, StepCode.RECEIVE, "社区代为收件", COMMUNITY, WORKER, 2, up=True),
            step(2, StepCode.ACCEPT, "乡镇（街道）受理", TOWNSHIP, CLERK, 1),
            step(3, StepCode.INSPECT, "入户调查、评估生活自理能力", TOWNSHIP, REVIEWER, 8),
            step(4, StepCode.PUBLICIZE, "在村（社区）公示", TOWNSHIP, REVIEWER, 5, up=True),
            step(5, StepCode.DECIDE, "旗县区民政局认定", DISTRICT, APPROVER, 10),
            step(6, StepCode.DELIVER, "送达认定结果", TOWNSHIP, CLERK, 2),
        ),
        materials=(
            doc("特困人员供养申请书", blank="特困人员供养申请书"),
            doc("居民身份证", COPY),
            doc("居民户口簿", COPY),
            doc("本人收入和财产状况声明"),
            doc("残疾人证", COPY, optional=True),
        ),
    ),
    SeedMatter(
        code="MZ-0005",
        name="高龄津贴申领",
        matter_type=MatterType.BENEFIT,
        department_kind=Dept.CIVIL_AFFAIRS,
        accepting_levels=(TOWNSHIP, COMMUNITY),
        deciding_level=DISTRICT,
        kind=MatterKind.REPORTED,
        legal_limit_days=20,
        promised_limit_days=15,
        legal_basis="《中华人民共和国老年人权益保障法》第三十三条",
        conditions="具有本市户籍、年满八十周岁的老年人。",
        online=True,
        steps=(
            step(1, StepCode.RECEIVE, "社区收件", COMMUNITY, WORKER, 2, up=True),
            step(2, StepCode.ACCEPT, "乡镇（街道）受理", TOWNSHIP, CLERK, 1),
            step(3, StepCode.REVIEW, "乡镇（街道）审核", TOWNSHIP, REVIEWER, 3, up=True),
            step(4, StepCode.DECIDE, "旗县区民政局审批", DISTRICT, APPROVER, 5),
            step(5, StepCode.DELIVER, "社区告知结果", COMMUNITY, WORKER, 1),
        ),
        materials=(
            doc("高龄津贴申请表", blank="高龄津贴申请表"),
            doc("居民身份证", COPY),
            doc("居民户口簿", COPY),
            doc("本人社会保障卡或银行卡", COPY),
        ),
    ),
    SeedMatter(
        code="MZ-0006",
        name="养老机构备案",
        matter_type=MatterType.OTHER_POWER,
        department_kind=Dept.CIVIL_AFFAIRS,
        accepting_levels=(DISTRICT,),
        deciding_level=DISTRICT,
        kind=MatterKind.IMMEDIATE,
        legal_limit_days=0,
        promised_limit_days=0,
        legal_basis=(
            "《中华人民共和国老年人权益保障法》第四十三条；《养老机构管理办法》（民政部令第66号）第九条"
        ),
        conditions="已依法办理登记、拟开展养老服务的养老机构，在收住老年人后10个工作日内备案。",
        online=True,
        steps=immediate(DISTRICT, decide="当场备案"),
        materials=(
            doc("养老机构备案书", blank="养老机构备案书"),
            doc("养老机构备案承诺书"),
            doc("登记证书（营业执照或事业单位、社会服务机构登记证书）", COPY),
        ),
    ),
    SeedMatter(
        code="MZ-0007",
        name="收养登记",
        matter_type=MatterType.CONFIRMATION,
        department_kind=Dept.CIVIL_AFFAIRS,
        accepting_levels=(DISTRICT,),
        deciding_level=DISTRICT,
        kind=MatterKind.PROMISED,
        legal_limit_days=30,
        promised_limit_days=20,
        legal_basis="《中华人民共和国民法典》第一千一百零五条；《中国公民收养子女登记办法》",
        conditions="收养人、送养人和被收养人符合《民法典》规定的收养条件，当事人亲自到收养登记机关办理。",
        steps=window(DISTRICT, accept=1, review=15, decide=3, deliver=1),
        materials=(
            doc("收养登记申请书", blank="收养登记申请书"),
            doc("收养人居民户口簿和居民身份证"),
            doc("收养人婚姻状况证明及健康检查证明"),
            doc("被收养人出生证明或其他身份证明", COPY),
            doc("送养人同意送养的书面意见"),
        ),
    ),
    SeedMatter(
        code="MZ-0008",
        name="困难残疾人生活补贴和重度残疾人护理补贴申领",
        matter_type=MatterType.BENEFIT,
        department_kind=Dept.CIVIL_AFFAIRS,
        accepting_levels=(TOWNSHIP, COMMUNITY),
        deciding_level=DISTRICT,
        kind=MatterKind.JOINT,
        legal_limit_days=20,
        promised_limit_days=15,
        legal_basis=(
            "《国务院关于全面建立困难残疾人生活补贴和重度残疾人护理补贴制度的意见》（国发〔2015〕52号）"
        ),
        conditions=(
            "持有第二代残疾人证的低保家庭残疾人（生活补贴）"
            "，或残疾等级为一级、二级且需长期照护的重度残疾人（护理补贴）。"
        ),
        procedure="社区收件 → 乡镇（街道）受理初审 → 旗县区民政局、残联并联审核 → 民政局审批 → 社区告知。",
        online=True,
        steps=(
            step(1, StepCode.RECEIVE, "社区收件", COMMUNITY, WORKER, 1, up=True),
            step(2, StepCode.ACCEPT, "乡镇（街道）受理", TOWNSHIP, CLERK, 1),
            step(3, StepCode.REVIEW, "乡镇（街道）初审", TOWNSHIP, REVIEWER, 3, up=True),
            step(
                4,
                StepCode.OPINION,
                "民政部门审核救助条件",
                DISTRICT,
                REVIEWER,
                5,
                dept=Dept.CIVIL_AFFAIRS,
                group=1,
            ),
            step(
                4,
                StepCode.OPINION,
                "残联复核残疾类别和等级",
                DISTRICT,
                REVIEWER,
                5,
                dept=Dept.DISABLED_PERSONS,
                group=1,
            ),
            step(5, StepCode.DECIDE, "旗县区民政局审批", DISTRICT, APPROVER, 3),
            step(6, StepCode.DELIVER, "社区告知结果", COMMUNITY, WORKER, 1),
        ),
        materials=(
            doc("困难残疾人生活补贴和重度残疾人护理补贴申请审批表", blank="两项补贴申请审批表"),
            doc("第二代残疾人证", COPY),
            doc("居民身份证或居民户口簿", COPY),
            doc("最低生活保障证明", COPY, optional=True, notes="申请生活补贴时提供"),
            doc("本人或监护人银行账户", COPY),
        ),
    ),
    # 公安 public security
    SeedMatter(
        code="GA-0001",
        name="居住证签注",
        matter_type=MatterType.PUBLIC_SERVICE,
        department_kind=Dept.PUBLIC_SECURITY,
        accepting_levels=(TOWNSHIP,),
        deciding_level=TOWNSHIP,
        kind=MatterKind.IMMEDIATE,
        legal_limit_days=0,
        promised_limit_days=0,
        legal_basis="《居住证暂行条例》第十三条、第十四条",
        conditions="居住证持有人在居住地连续居住，每年签注一次；逾期未签注的，居住证使用功能中止。",
        online=True,
        steps=immediate(TOWNSHIP, accept="派出所窗口受理", decide="当场签注"),
        materials=(
            doc("居住证"),
            doc("居住证明", COPY, notes="房屋租赁合同、房屋产权证明或单位、学校出具的住宿证明"),
        ),
    ),
    SeedMatter(
        code="GA-0002",
        name="居住证申领",
        matter_type=MatterType.PUBLIC_SERVICE,
        department_kind=Dept.PUBLIC_SECURITY,
        accepting_levels=(TOWNSHIP, COMMUNITY),
        deciding_level=DISTRICT,
        kind=MatterKind.REPORTED,
        legal_limit_days=15,
        promised_limit_days=10,
        legal_basis="《居住证暂行条例》第九条、第十条",
        conditions=(
            "离开常住户口所在地，到本市居住半年以上，"
            "符合有合法稳定就业、合法稳定住所、连续就读条件之一的公民。"
        ),
        steps=(
            step(1, StepCode.RECEIVE, "社区服务站代收", COMMUNITY, WORKER, 1, up=True),
            step(2, StepCode.ACCEPT, "派出所受理、采集信息", TOWNSHIP, CLERK, 1),
            step(3, StepCode.REVIEW, "派出所审核", TOWNSHIP, REVIEWER, 3, up=True),
            step(4, StepCode.DECIDE, "公安分局审批制证", DISTRICT, APPROVER, 5),
            step(5, StepCode.DELIVER, "派出所发证", TOWNSHIP, CLERK, 2),
        ),
        materials=(
            doc("居民身份证"),
            doc("居住证申领登记表", blank="居住证申领登记表"),
            doc("居住证明", COPY, notes="房屋租赁合同、房屋产权证明等"),
            doc("就业或就读证明", COPY, notes="劳动合同、营业执照或学校出具的就读证明之一"),
        ),
    ),
    SeedMatter(
        code="GA-0003",
        name="户口迁移（迁入）",
        matter_type=MatterType.CONFIRMATION,
        department_kind=Dept.PUBLIC_SECURITY,
        accepting_levels=(TOWNSHIP,),
        deciding_level=DISTRICT,
        kind=MatterKind.REPORTED,
        legal_limit_days=20,
        promised_limit_days=10,
        legal_basis=(
            "《中华人民共和国户口登记条例》第十条、第十三条；"
            "《国务院关于进一步推进户籍制度改革的意见》（国发〔2014〕25号）"
        ),
        conditions="在本市有合法稳定住所（含租赁）、合法稳定就业，或投靠直系亲属等，符合本市户口迁入政策。",
        steps=(
            step(1, StepCode.ACCEPT, "派出所受理", TOWNSHIP, CLERK, 1),
            step(2, StepCode.REVIEW, "派出所审核", TOWNSHIP, REVIEWER, 3, up=True),
            step(3, StepCode.DECIDE, "公安分局审批", DISTRICT, APPROVER, 4),
            step(4, StepCode.DELIVER, "派出所办理落户", TOWNSHIP, CLERK, 1),
        ),
        materials=(
            doc("户口迁移申请表", blank="户口迁移申请表"),
            doc("居民身份证"),
            doc("居民户口簿"),
            doc("合法稳定住所证明", COPY, notes="不动产权证书、购房合同或租赁合同"),
            doc("结婚证", COPY, optional=True, notes="夫妻投靠时提供"),
        ),
    ),
    SeedMatter(
        code="GA-0004",
        name="居民身份证补领",
        matter_type=MatterType.PUBLIC_SERVICE,
        department_kind=Dept.PUBLIC_SECURITY,
        accepting_levels=(TOWNSHIP,),
        deciding_level=DISTRICT,
        kind=MatterKind.REPORTED,
        legal_limit_days=40,
        promised_limit_days=15,
        fee_amount=Decimal("40.00"),
        fee_basis=(
            "《国家发展改革委 财政部关于居民身份证收费标准及有关问题的通知》（发改价格〔2003〕2322号）"
            "：丢失补领、损坏换领每证40元"
        ),
        legal_basis="《中华人民共和国居民身份证法》第十一条、第十三条（法定六十日，折合工作日计）",
        conditions="居民身份证丢失的本市户籍居民，本人到户籍所在地派出所申请补领。",
        steps=(
            step(1, StepCode.ACCEPT, "派出所受理、采集相片和指纹", TOWNSHIP, CLERK, 0),
            step(2, StepCode.REVIEW, "派出所审核", TOWNSHIP, REVIEWER, 2, up=True),
            step(3, StepCode.DECIDE, "公安分局签发", DISTRICT, APPROVER, 3),
            step(4, StepCode.DELIVER, "制证后派出所发证", TOWNSHIP, CLERK, 10),
        ),
        materials=(
            doc("居民户口簿"),
            doc("居民身份证申领登记表", notes="现场采集后打印，本人签字确认"),
        ),
    ),
    SeedMatter(
        code="GA-0005",
        name="出生登记",
        matter_type=MatterType.CONFIRMATION,
        department_kind=Dept.PUBLIC_SECURITY,
        accepting_levels=(TOWNSHIP,),
        deciding_level=TOWNSHIP,
        kind=MatterKind.IMMEDIATE,
        legal_limit_days=0,
        promised_limit_days=0,
        legal_basis="《中华人民共和国户口登记条例》第七条",
        conditions="婴儿出生后一个月以内，由户主、亲属、抚养人或者邻居向婴儿常住地户口登记机关申报出生登记。",
        steps=immediate(TOWNSHIP, accept="派出所受理", decide="当场登记"),
        materials=(
            doc("出生医学证明"),
            doc("父母双方居民身份证"),
            doc("落户方居民户口簿"),
            doc("父母结婚证", optional=True),
        ),
    ),
    # 人力资源和社会保障 human resources and social security
    SeedMatter(
        code="RS-0001",
        name="城乡居民养老保险参保登记",
        matter_type=MatterType.PUBLIC_SERVICE,
        department_kind=Dept.HUMAN_RESOURCES,
        accepting_levels=(TOWNSHIP,),
        deciding_level=TOWNSHIP,
        kind=MatterKind.IMMEDIATE,
        legal_limit_days=0,
        promised_limit_days=0,
        legal_basis=(
            "《中华人民共和国社会保险法》第二十条、第二十二条；"
            "《国务院关于建立统一的城乡居民基本养老保险制度的意见》（国发〔2014〕8号）"
        ),
        conditions=(
            "年满16周岁（不含在校学生），非国家机关和事业单位工作人员，"
            "不属于职工基本养老保险覆盖范围的本市户籍居民。"
        ),
        online=True,
        steps=immediate(TOWNSHIP, accept="社保服务窗口受理", decide="当场登记"),
        materials=(
            doc("居民身份证或社会保障卡"),
            doc("居民户口簿", COPY),
            doc("城乡居民基本养老保险参保登记表", blank="城乡居民基本养老保险参保登记表"),
        ),
    ),
    SeedMatter(
        code="RS-0002",
        name="失业登记",
        matter_type=MatterType.PUBLIC_SERVICE,
        department_kind=Dept.HUMAN_RESOURCES,
        accepting_levels=(TOWNSHIP,),
        deciding_level=TOWNSHIP,
        kind=MatterKind.IMMEDIATE,
        legal_limit_days=0,
        promised_limit_days=0,
        legal_basis="《中华人民共和国就业促进法》；《就业服务与就业管理规定》（劳动和社会保障部令第28号）",
        conditions="法定劳动年龄内、有劳动能力、有就业要求、处于无业状态的城乡劳动者。",
        online=True,
        steps=immediate(TOWNSHIP, accept="公共就业服务窗口受理", decide="当场登记"),
        materials=(
            doc("居民身份证或社会保障卡"),
            doc("解除或终止劳动关系证明", COPY, optional=True),
        ),
    ),
    SeedMatter(
        code="RS-0003",
        name="就业困难人员认定",
        matter_type=MatterType.CONFIRMATION,
        department_kind=Dept.HUMAN_RESOURCES,
        accepting_levels=(TOWNSHIP, COMMUNITY),
        deciding_level=DISTRICT,
        kind=MatterKind.REPORTED,
        legal_limit_days=15,
        promised_limit_days=10,
        legal_basis=(
            "《中华人民共和国就业促进法》第五十二条至第五十五条；"
            "《就业服务与就业管理规定》（劳动和社会保障部令第28号）"
        ),
        conditions=(
            "已办理失业登记，且属于大龄、残疾、低保家庭、零就业家庭成员、连续失业一年以上等情形之一的人员。"
        ),
        steps=(
            step(1, StepCode.RECEIVE, "社区收件", COMMUNITY, WORKER, 1, up=True),
            step(2, StepCode.ACCEPT, "乡镇（街道）受理", TOWNSHIP, CLERK, 1),
            step(3, StepCode.REVIEW, "乡镇（街道）初审", TOWNSHIP, REVIEWER, 3, up=True),
            step(4, StepCode.DECIDE, "旗县区人社局认定", DISTRICT, APPROVER, 4),
            step(5, StepCode.DELIVER, "送达认定结果", TOWNSHIP, CLERK, 1),
        ),
        materials=(
            doc("就业困难人员认定申请表", blank="就业困难人员认定申请表"),
            doc("居民身份证或社会保障卡", COPY),
            doc("属于就业困难人员类别的证明", COPY, notes="残疾人证、低保证明等"),
        ),
    ),
    SeedMatter(
        code="RS-0004",
        name="工伤认定",
        matter_type=MatterType.CONFIRMATION,
        department_kind=Dept.HUMAN_RESOURCES,
        accepting_levels=(DISTRICT,),
        deciding_level=DISTRICT,
        kind=MatterKind.PROMISED,
        legal_limit_days=40,
        promised_limit_days=20,
        legal_basis="《工伤保险条例》第十七条至第二十条（法定六十日，折合工作日计）",
        conditions=(
            "职工发生事故伤害或被诊断、鉴定为职业病，用人单位在30日内、职工或其近亲属在1年内提出申请。"
        ),
        steps=window(DISTRICT, accept=1, review=15, decide=3, deliver=1),
        materials=(
            doc("工伤认定申请表", blank="工伤认定申请表"),
            doc("与用人单位存在劳动关系的证明材料", COPY),
            doc("医疗诊断证明或职业病诊断证明书", COPY),
            doc("受伤职工居民身份证", COPY),
        ),
    ),
    SeedMatter(
        code="RS-0005",
        name="社会保障卡申领",
        matter_type=MatterType.PUBLIC_SERVICE,
        department_kind=Dept.HUMAN_RESOURCES,
        accepting_levels=(DISTRICT,),
        deciding_level=DISTRICT,
        kind=MatterKind.IMMEDIATE,
        legal_limit_days=0,
        promised_limit_days=0,
        legal_basis="《中华人民共和国社会保险法》第五十八条",
        conditions="已参加社会保险的人员首次申领社会保障卡，可在即时制卡网点当场领卡。",
        online=True,
        steps=immediate(DISTRICT, decide="即时制卡"),
        materials=(doc("居民身份证", notes="现场采集相片"),),
    ),
    # 卫生健康（人口计生） health and family planning
    SeedMatter(
        code="WJ-0001",
        name="生育登记",
        matter_type=MatterType.PUBLIC_SERVICE,
        department_kind=Dept.HEALTH,
        accepting_levels=(TOWNSHIP,),
        deciding_level=TOWNSHIP,
        kind=MatterKind.IMMEDIATE,
        legal_limit_days=0,
        promised_limit_days=0,
        legal_basis="《中华人民共和国人口与计划生育法》第十八条；《内蒙古自治区人口与计划生育条例》",
        conditions="夫妻双方至少一方户籍在本市，或在本市居住的流动人口，生育子女前后均可登记。",
        online=True,
        steps=immediate(TOWNSHIP, accept="乡镇（街道）卫生计生窗口受理", decide="当场登记"),
        materials=(
            doc("夫妻双方居民身份证"),
            doc("生育登记表", blank="生育登记表", notes="网上申报时在线填写"),
        ),
    ),
    SeedMatter(
        code="WJ-0002",
        name="农村部分计划生育家庭奖励扶助资格确认",
        matter_type=MatterType.CONFIRMATION,
        department_kind=Dept.HEALTH,
        accepting_levels=(TOWNSHIP, COMMUNITY),
        deciding_level=DISTRICT,
        kind=MatterKind.REPORTED,
        legal_limit_days=30,
        promised_limit_days=20,
        legal_basis=(
            "《中华人民共和国人口与计划生育法》；"
            "《国家人口计生委 财政部关于印发〈农村部分计划生育家庭奖励扶助制度试点方案〉的通知》"
            "（国人口发〔2004〕21号）"
        ),
        conditions=(
            "农业户口或界定为农村居民，1973年至2001年间没有违反计划生育规定生育，"
            "现存一个子女或两个女孩或子女死亡现无子女，年满60周岁。"
        ),
        steps=(
            step(1, StepCode.RECEIVE, "村（社区）收件", COMMUNITY, WORKER, 2, up=True),
            step(2, StepCode.ACCEPT, "乡镇（街道）受理", TOWNSHIP, CLERK, 1),
            step(3, StepCode.REVIEW, "乡镇（街道）审核", TOWNSHIP, REVIEWER, 5),
            step(4, StepCode.PUBLICIZE, "在村（社区）公示", TOWNSHIP, REVIEWER, 7, up=True),
            step(5, StepCode.DECIDE, "旗县区卫生健康委确认", DISTRICT, APPROVER, 5),
            step(6, StepCode.DELIVER, "村（社区）告知结果", COMMUNITY, WORKER, 1),
        ),
        materials=(
            doc("奖励扶助对象申报表", blank="奖励扶助对象申报表"),
            doc("居民身份证", COPY),
            doc("居民户口簿", COPY),
            doc("结婚证", COPY),
        ),
    ),
    SeedMatter(
        code="WJ-0003",
        name="公共场所卫生许可",
        matter_type=MatterType.LICENSING,
        department_kind=Dept.HEALTH,
        accepting_levels=(DISTRICT,),
        deciding_level=DISTRICT,
        kind=MatterKind.PROMISED,
        legal_limit_days=20,
        promised_limit_days=10,
        legal_basis="《公共场所卫生管理条例》第八条；《公共场所卫生管理条例实施细则》第二十二条",
        conditions="住宿、沐浴、美容美发等公共场所经营者，场所布局、卫生设施和从业人员健康条件符合卫生要求。",
        online=True,
        steps=window(DISTRICT, accept=1, review=2, inspect=3, decide=2, deliver=1),
        materials=(
            doc("公共场所卫生许可申请表", blank="公共场所卫生许可申请表"),
            doc("营业执照", COPY),
            doc("公共场所地址方位示意图、平面图和卫生设施平面布局图"),
            doc("公共场所卫生检测或者评价报告"),
            doc("公共场所卫生管理制度"),
        ),
    ),
    # 市场监督管理 market regulation
    SeedMatter(
        code="SJ-0001",
        name="个体工商户设立登记",
        matter_type=MatterType.LICENSING,
        department_kind=Dept.MARKET_REGULATION,
        accepting_levels=(DISTRICT, TOWNSHIP),
        deciding_level=DISTRICT,
        kind=MatterKind.PROMISED,
        legal_limit_days=3,
        promised_limit_days=1,
        legal_basis="《市场主体登记管理条例》第三条、第十九条；《促进个体工商户发展条例》",
        conditions="有经营能力的自然人，有固定经营场所，经营范围不属于禁止个体经营的项目。",
        online=True,
        steps=(
            step(1, StepCode.RECEIVE, "市场监管所收件", TOWNSHIP, CLERK, 0, up=True),
            step(2, StepCode.ACCEPT, "登记窗口受理", DISTRICT, CLERK, 0),
            step(3, StepCode.REVIEW, "登记审查", DISTRICT, REVIEWER, 1),
            step(4, StepCode.DECIDE, "核准登记", DISTRICT, APPROVER, 0),
            step(5, StepCode.DELIVER, "发放营业执照", DISTRICT, CLERK, 0),
        ),
        materials=(
            doc("个体工商户登记（备案）申请书", blank="个体工商户登记申请书"),
            doc("经营者居民身份证"),
            doc("经营场所使用证明", COPY, notes="房屋产权证明或租赁合同"),
        ),
    ),
    SeedMatter(
        code="SJ-0002",
        name="营业执照变更登记",
        matter_type=MatterType.LICENSING,
        department_kind=Dept.MARKET_REGULATION,
        accepting_levels=(DISTRICT,),
        deciding_level=DISTRICT,
        kind=MatterKind.IMMEDIATE,
        legal_limit_days=3,
        promised_limit_days=0,
        legal_basis="《市场主体登记管理条例》第二十四条",
        conditions=(
            "市场主体变更登记事项，应当自作出变更决议、决定或者法定变更事项发生之日起30日内申请变更登记。"
        ),
        online=True,
        steps=immediate(DISTRICT, decide="当场核准变更"),
        materials=(
            doc("变更登记申请书", blank="变更登记申请书"),
            doc("营业执照正、副本"),
            doc("法定代表人或经营者居民身份证"),
            doc("变更事项相关证明文件", COPY),
        ),
    ),
    SeedMatter(
        code="SJ-0003",
        name="食品经营许可",
        matter_type=MatterType.LICENSING,
        department_kind=Dept.MARKET_REGULATION,
        accepting_levels=(DISTRICT,),
        deciding_level=DISTRICT,
        kind=MatterKind.PROMISED,
        legal_limit_days=10,
        promised_limit_days=5,
        legal_basis=(
            "《中华人民共和国食品安全法》第三十五条；"
            "《食品经营许可和备案管理办法》（国家市场监督管理总局令第78号）"
        ),
        conditions="具有与经营的食品品种、数量相适应的经营场所、设备设施、食品安全管理人员和管理制度。",
        online=True,
        steps=window(DISTRICT, accept=1, review=1, inspect=2, decide=1, deliver=0),
        materials=(
            doc("食品经营许可申请书", blank="食品经营许可申请书"),
            doc("营业执照", COPY),
            doc("与食品经营相适应的主要设备设施、经营布局、操作流程等文件"),
            doc("食品安全自查、从业人员健康管理、进货查验记录等食品安全管理制度"),
            doc("法定代表人（负责人）身份证明", COPY),
        ),
    ),
    SeedMatter(
        code="SJ-0004",
        name="药品零售企业经营许可",
        matter_type=MatterType.LICENSING,
        department_kind=Dept.MARKET_REGULATION,
        accepting_levels=(DISTRICT,),
        deciding_level=DISTRICT,
        kind=MatterKind.PROMISED,
        legal_limit_days=20,
        promised_limit_days=15,
        legal_basis=(
            "《中华人民共和国药品管理法》第五十一条、"
            "第五十二条；《药品经营和使用质量监督管理办法》（国家市场监督管理总局令第84号）"
        ),
        conditions=(
            "有依法经过资格认定的药师或者其他药学技术人员，"
            "有与所经营药品相适应的营业场所、设备、仓储设施和质量管理制度。"
        ),
        steps=window(DISTRICT, accept=1, review=3, inspect=5, decide=2, deliver=1),
        materials=(
            doc("药品经营许可证申请表", blank="药品经营许可证申请表"),
            doc("营业执照", COPY),
            doc("执业药师注册证及身份证明", COPY),
            doc("经营场所、仓储设施平面布局图及产权或使用证明", COPY),
            doc("药品质量管理制度文件目录"),
        ),
    ),
    # 住房和城乡建设 housing
    SeedMatter(
        code=THREE_LEVEL_MATTER_CODE,
        name="公共租赁住房保障资格审核",
        matter_type=MatterType.CONFIRMATION,
        department_kind=Dept.HOUSING,
        accepting_levels=(DISTRICT, COMMUNITY),
        deciding_level=CITY,
        kind=MatterKind.REPORTED,
        legal_limit_days=30,
        promised_limit_days=25,
        legal_basis="《公共租赁住房管理办法》（住房和城乡建设部令第11号）第七条至第十二条",
        conditions=(
            "在本市无住房或住房面积低于规定标准，家庭收入、"
            "财产低于规定标准的城镇中等偏下收入住房困难家庭、"
            "新就业无房职工和稳定就业的外来务工人员。"
        ),
        procedure=(
            "社区收件并扫描材料 → 旗县区住房保障部门受理、复审 → 市住房保障部门审核、公示、终审 → 社区送达。"
        ),
        online=True,
        steps=(
            step(1, StepCode.RECEIVE, "社区公共服务站收件、扫描材料", COMMUNITY, WORKER, 2, up=True),
            step(2, StepCode.ACCEPT, "旗县区住房保障窗口受理", DISTRICT, CLERK, 1),
            step(3, StepCode.REVIEW, "旗县区住房保障部门复审", DISTRICT, REVIEWER, 7, up=True),
            step(4, StepCode.REVIEW, "市住房保障部门审核", CITY, REVIEWER, 5),
            step(5, StepCode.PUBLICIZE, "审核结果公示", CITY, REVIEWER, 5),
            step(6, StepCode.DECIDE, "市住房保障部门终审", CITY, APPROVER, 3),
            step(7, StepCode.DELIVER, "社区送达资格确认书", COMMUNITY, WORKER, 2),
        ),
        materials=(
            doc("公共租赁住房申请表", blank="公共租赁住房申请表"),
            doc("申请人及共同申请人居民身份证", COPY),
            doc("居民户口簿或居住证", COPY),
            doc("婚姻状况证明", COPY),
            doc("家庭收入证明", notes="单位出具或个人收入声明"),
            doc("现住房情况证明", COPY, notes="房屋租赁合同或无房声明"),
            doc("家庭经济状况核对授权书", blank="家庭经济状况核对授权书"),
        ),
    ),
    SeedMatter(
        code="ZJ-0002",
        name="建设项目竣工联合验收",
        matter_type=MatterType.OTHER_POWER,
        department_kind=Dept.HOUSING,
        accepting_levels=(CITY,),
        deciding_level=CITY,
        kind=MatterKind.JOINT,
        legal_limit_days=45,
        promised_limit_days=12,
        legal_basis=(
            "《中华人民共和国行政许可法》第二十六条、"
            "第四十二条；《建设工程质量管理条例》第四十九条；"
            "《国务院办公厅关于全面开展工程建设项目审批制度改革的实施意见》（国办发〔2019〕11号）"
        ),
        conditions="建设工程已按设计和合同完成全部施工内容，建设单位组织竣工验收合格。",
        procedure="一窗受理 → 住建（消防、质量）、自然资源（规划核实）并联验收 → 出具联合验收意见书。",
        online=True,
        steps=(
            step(1, StepCode.ACCEPT, "综合窗口受理", CITY, CLERK, 1),
            step(2, StepCode.OPINION, "消防验收和质量监督", CITY, REVIEWER, 7, dept=Dept.HOUSING, group=1),
            step(
                2, StepCode.OPINION, "规划条件核实", CITY, REVIEWER, 7, dept=Dept.NATURAL_RESOURCES, group=1
            ),
            step(3, StepCode.DECIDE, "出具联合验收意见", CITY, HEAD, 3),
            step(4, StepCode.DELIVER, "送达联合验收意见书", CITY, CLERK, 1),
        ),
        materials=(
            doc("联合验收申请表", blank="联合验收申请表"),
            doc("工程竣工验收报告"),
            doc("竣工测量成果", ELECTRONIC),
            doc("消防验收申请材料"),
            doc("建筑工程施工许可证", COPY),
        ),
    ),
    # 自然资源 natural resources
    SeedMatter(
        code="ZR-0001",
        name="建设工程规划许可证核发",
        matter_type=MatterType.LICENSING,
        department_kind=Dept.NATURAL_RESOURCES,
        accepting_levels=(CITY,),
        deciding_level=CITY,
        kind=MatterKind.PROMISED,
        legal_limit_days=20,
        promised_limit_days=10,
        legal_basis="《中华人民共和国城乡规划法》第四十条",
        conditions=(
            "在城市、镇规划区内进行建筑物、构筑物、道路、"
            "管线和其他工程建设，已取得土地使用权，设计方案符合控制性详细规划和规划条件。"
        ),
        online=True,
        steps=window(CITY, accept=1, review=5, decide=3, deliver=1),
        materials=(
            doc("建设工程规划许可证申请表", blank="建设工程规划许可证申请表"),
            doc("使用土地的有关证明文件", COPY),
            doc("建设工程设计方案（总平面图、建筑单体方案）", ELECTRONIC),
            doc("建设项目批准、核准或备案文件", COPY),
        ),
    ),
    SeedMatter(
        code="ZR-0002",
        name="不动产登记",
        matter_type=MatterType.CONFIRMATION,
        department_kind=Dept.NATURAL_RESOURCES,
        accepting_levels=(CITY, DISTRICT),
        deciding_level=CITY,
        kind=MatterKind.PROMISED,
        legal_limit_days=30,
        promised_limit_days=5,
        fee_amount=Decimal("80.00"),
        fee_basis=(
            "《国家发展改革委 财政部关于不动产登记收费标准等有关问题的通知》（发改价格规〔2016〕2559号）"
            "：住宅类不动产登记每件80元"
        ),
        legal_basis=(
            "《中华人民共和国民法典》第二百零九条至第二百一十四条；《不动产登记暂行条例》第十四条、第二十条"
        ),
        conditions="不动产权利人或利害关系人持权属来源、登记原因证明材料申请首次、转移、变更、抵押等登记。",
        online=True,
        steps=(
            step(1, StepCode.RECEIVE, "旗县区不动产登记服务点收件", DISTRICT, CLERK, 0, up=True),
            step(2, StepCode.ACCEPT, "市不动产登记中心受理", CITY, CLERK, 1),
            step(3, StepCode.REVIEW, "登记审核", CITY, REVIEWER, 2),
            step(4, StepCode.DECIDE, "登簿", CITY, APPROVER, 1),
            step(5, StepCode.DELIVER, "缮证发证", CITY, CLERK, 1),
        ),
        materials=(
            doc("不动产登记申请书", blank="不动产登记申请书"),
            doc("申请人身份证明"),
            doc("不动产权属证书"),
            doc("登记原因证明文件", notes="买卖合同、继承证明、法院判决等"),
            doc("完税凭证", COPY, optional=True),
        ),
    ),
    SeedMatter(
        code="ZR-0003",
        name="乡村建设规划许可证核发",
        matter_type=MatterType.LICENSING,
        department_kind=Dept.NATURAL_RESOURCES,
        accepting_levels=(TOWNSHIP,),
        deciding_level=DISTRICT,
        kind=MatterKind.REPORTED,
        legal_limit_days=20,
        promised_limit_days=15,
        legal_basis="《中华人民共和国城乡规划法》第四十一条",
        conditions="在乡、村庄规划区内进行乡镇企业、乡村公共设施和公益事业建设以及农村村民住宅建设。",
        steps=(
            step(1, StepCode.ACCEPT, "乡镇人民政府受理", TOWNSHIP, CLERK, 1),
            step(2, StepCode.REVIEW, "乡镇审核并报送", TOWNSHIP, REVIEWER, 5, up=True),
            step(3, StepCode.DECIDE, "旗县区自然资源局核发", DISTRICT, APPROVER, 5),
            step(4, StepCode.DELIVER, "乡镇送达许可证", TOWNSHIP, CLERK, 2),
        ),
        materials=(
            doc("乡村建设规划许可申请表", blank="乡村建设规划许可申请表"),
            doc("宅基地或集体建设用地使用证明", COPY),
            doc("村民委员会意见"),
            doc("建设工程设计图或通用图", COPY),
        ),
    ),
    # 行政审批和政务服务 administrative approval (相对集中行政许可)
    SeedMatter(
        code="SP-0001",
        name="建筑工程施工许可证核发",
        matter_type=MatterType.LICENSING,
        department_kind=Dept.ADMINISTRATIVE_APPROVAL,
        accepting_levels=(CITY,),
        deciding_level=CITY,
        kind=MatterKind.PROMISED,
        legal_limit_days=7,
        promised_limit_days=3,
        legal_basis=(
            "《中华人民共和国建筑法》第七条、第八条；《建筑工程施工许可管理办法》（住房和城乡建设部令第18号）"
        ),
        conditions=(
            "已办理用地批准手续、取得建设工程规划许可证，"
            "施工场地已基本具备施工条件，已确定施工企业，有满足施工需要的技术资料。"
        ),
        online=True,
        steps=window(CITY, accept=1, review=1, decide=1, deliver=0),
        materials=(
            doc("建筑工程施工许可申请表", blank="建筑工程施工许可申请表"),
            doc("建设工程规划许可证", COPY),
            doc("中标通知书或直接发包文件", COPY),
            doc("施工图设计文件审查合格书", ELECTRONIC),
            doc("建设资金已落实承诺书"),
        ),
    ),
    # 教育 education
    SeedMatter(
        code="JY-0001",
        name="学籍转入（义务教育阶段）",
        matter_type=MatterType.PUBLIC_SERVICE,
        department_kind=Dept.EDUCATION,
        accepting_levels=(DISTRICT,),
        deciding_level=DISTRICT,
        kind=MatterKind.PROMISED,
        legal_limit_days=10,
        promised_limit_days=5,
        legal_basis="《中小学生学籍管理办法》（教基一〔2013〕7号）",
        conditions="因户籍迁移、家庭住址变更等原因需要转入本区义务教育学校的学生，已取得转入学校同意。",
        steps=window(DISTRICT, accept=1, review=2, decide=1, deliver=1),
        materials=(
            doc("中小学生转学申请表", blank="中小学生转学申请表"),
            doc("学生居民户口簿", COPY),
            doc("监护人居民身份证", COPY),
            doc("转入学校同意接收证明"),
            doc("居住证明", COPY, optional=True),
        ),
    ),
    SeedMatter(
        code="JY-0002",
        name="教师资格认定",
        matter_type=MatterType.LICENSING,
        department_kind=Dept.EDUCATION,
        accepting_levels=(DISTRICT,),
        deciding_level=DISTRICT,
        kind=MatterKind.PROMISED,
        legal_limit_days=30,
        promised_limit_days=20,
        legal_basis="《中华人民共和国教师法》第十条至第十三条；《教师资格条例》",
        conditions=(
            "申请幼儿园、小学、初级中学教师资格，具备规定学历，通过教师资格考试，普通话水平和体检合格。"
        ),
        online=True,
        steps=window(DISTRICT, accept=2, review=10, decide=5, deliver=3),
        materials=(
            doc("居民身份证"),
            doc("学历证书"),
            doc("普通话水平测试等级证书"),
            doc("教师资格考试合格证明", ELECTRONIC),
            doc("体检合格证明", notes="指定医院出具"),
            doc("近期免冠证件照", ELECTRONIC),
        ),
    ),
    # 残疾人联合会 disabled persons' federation
    SeedMatter(
        code="CL-0001",
        name="残疾人证核发",
        matter_type=MatterType.CONFIRMATION,
        department_kind=Dept.DISABLED_PERSONS,
        accepting_levels=(DISTRICT, TOWNSHIP),
        deciding_level=DISTRICT,
        kind=MatterKind.REPORTED,
        legal_limit_days=30,
        promised_limit_days=20,
        legal_basis="《中华人民共和国残疾人保障法》；《中华人民共和国残疾人证管理办法》（中国残疾人联合会）",
        conditions="符合残疾标准的本市户籍居民；残疾评定期间为特别程序，不计入办理时限。",
        procedure="乡镇（街道）残联受理并报送 → 旗县区残联组织评定、审核 → 发证。",
        steps=(
            step(1, StepCode.RECEIVE, "乡镇（街道）残联专干收件", TOWNSHIP, CLERK, 1, up=True),
            step(2, StepCode.ACCEPT, "旗县区残联受理", DISTRICT, CLERK, 1),
            step(3, StepCode.REVIEW, "组织残疾评定并审核", DISTRICT, REVIEWER, 10),
            step(4, StepCode.DECIDE, "旗县区残联审批", DISTRICT, APPROVER, 5),
            step(5, StepCode.DELIVER, "制证发证", TOWNSHIP, CLERK, 3),
        ),
        materials=(
            doc("残疾人证申请表", blank="残疾人证申请表"),
            doc("居民身份证或居民户口簿", COPY),
            doc("近期免冠彩色照片", count=3),
            doc("残疾评定表", notes="由指定医疗机构评定后出具"),
        ),
    ),
)
