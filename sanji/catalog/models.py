"""The matter catalogue (事项目录): what can be applied for, where, by which line, how fast and how.

A :class:`Matter` (事项) is one catalogue item. How it is handled is *versioned data*: each
:class:`FlowVersion` holds the ordered :class:`FlowStep` rows (办理环节) and the :class:`Material`
list (申请材料) together with a snapshot of the matter's terms (kind, levels, limits, fee). A new
version is published whenever the flow, the materials or those terms change; a published version
is never edited again, so a case keeps the version it started with. ``Matter.current_version``
points at the version new cases start from; the matter's own term fields mirror that version.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from sanji.core.roles import Role
from sanji.orgs.models import LEVEL_DEPTH, DepartmentKind, RegionLevel


class MatterType(models.TextChoices):
    """The legal category of the power exercised (权力类型)."""

    LICENSING = "licensing", _("行政许可")
    CONFIRMATION = "confirmation", _("行政确认")
    BENEFIT = "benefit", _("行政给付")
    LEVY = "levy", _("行政征收")
    PUBLIC_SERVICE = "public_service", _("公共服务")
    OTHER_POWER = "other_power", _("其他行政权力")


class MatterKind(models.TextChoices):
    """How a case of this matter is handled (办件类型).

    即办件 immediate: decided on the spot at the window; 承诺件 promised: within the promised
    limit; 联办件 joint: several departments give opinions in parallel; 上报件 reported-up: a lower
    level accepts and reports the case up to the deciding level.
    """

    IMMEDIATE = "immediate", _("即办件")
    PROMISED = "promised", _("承诺件")
    JOINT = "joint", _("联办件")
    REPORTED = "reported", _("上报件")


class MaterialForm(models.TextChoices):
    ORIGINAL = "original", _("原件")
    COPY = "copy", _("复印件")
    ELECTRONIC = "electronic", _("电子材料")


class StepCode(models.TextChoices):
    """What a flow step does. The cases app keys its transitions on these codes.

    收件 receive: take the application and scan the materials for the level that accepts;
    受理 accept: the legal acceptance (starts the legal clock); 审查 review; 现场核查 inspect;
    公示 publicize; 会签 opinion: one department's opinion in a joint stage; 决定 decide;
    送达 deliver the result.
    """

    RECEIVE = "receive", _("收件")
    ACCEPT = "accept", _("受理")
    REVIEW = "review", _("审查")
    INSPECT = "inspect", _("现场核查")
    PUBLICIZE = "publicize", _("公示")
    OPINION = "opinion", _("会签意见")
    DECIDE = "decide", _("决定")
    DELIVER = "deliver", _("送达")


def _sorted_levels(levels: list[str]) -> list[str]:
    return sorted(levels, key=lambda lv: LEVEL_DEPTH[RegionLevel(lv)])


class Matter(models.Model):
    """A catalogue item (事项).

    ``department_kind`` is the line that handles it; the concrete department is the one of that
    kind at the level handling a step (resolved by the cases app). Term fields (kind, levels,
    limits, fee) change only by publishing a new :class:`FlowVersion`; the rest by ``matter_update``.
    """

    code = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=120)
    matter_type = models.CharField(max_length=16, choices=MatterType.choices)
    department_kind = models.CharField(max_length=32, choices=DepartmentKind.choices)
    accepting_levels = models.JSONField(default=list, help_text="RegionLevel values, highest first")
    deciding_level = models.CharField(max_length=16, choices=RegionLevel.choices)
    kind = models.CharField(max_length=16, choices=MatterKind.choices)
    legal_limit_days = models.PositiveSmallIntegerField(help_text="法定时限, working days")
    promised_limit_days = models.PositiveSmallIntegerField(help_text="承诺时限, working days")
    fee_amount = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0"))
    fee_basis = models.TextField(blank=True)
    legal_basis = models.TextField(help_text="设定依据")
    online = models.BooleanField(default=False, help_text="可网上申报")
    conditions = models.TextField(blank=True, help_text="办事指南: 受理条件")
    procedure = models.TextField(blank=True, help_text="办事指南: 办理流程说明")
    contact = models.CharField(max_length=200, blank=True, help_text="咨询方式")
    active = models.BooleanField(default=True)
    current_version = models.ForeignKey(
        "FlowVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(promised_limit_days__lte=models.F("legal_limit_days")),
                name="catalog_matter_promised_within_legal",
            ),
            models.CheckConstraint(
                condition=models.Q(fee_amount__gte=0), name="catalog_matter_fee_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def is_free(self) -> bool:
        return self.fee_amount == 0

    @property
    def is_listed(self) -> bool:
        """Shown in the public catalogue: active and with a published flow."""
        return self.active and self.current_version_id is not None

    def accepting_level_labels(self) -> list[str]:
        return [str(RegionLevel(lv).label) for lv in _sorted_levels(list(self.accepting_levels))]

    def accepts_at(self, level: str) -> bool:
        return level in self.accepting_levels


class MatterLevel(models.Model):
    """One accepting level of a matter: an index table so the catalogue can filter by level.

    Rewritten together with ``Matter.accepting_levels`` (the authoritative list) by the services.
    """

    matter = models.ForeignKey(Matter, on_delete=models.CASCADE, related_name="level_rows")
    level = models.CharField(max_length=16, choices=RegionLevel.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["matter", "level"], name="catalog_one_row_per_level")]
        indexes = [models.Index(fields=["level", "matter"], name="catalog_level_matter")]

    def __str__(self) -> str:
        return f"{self.matter_id}@{self.level}"


class FlowVersion(models.Model):
    """One published version of a matter's flow and materials, with the terms it was published under.

    Immutable once published: no service edits it, its steps or its materials afterwards.
    """

    matter = models.ForeignKey(Matter, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    published = models.BooleanField(default=True)
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=150)
    created_by_id = models.BigIntegerField(null=True, blank=True)
    note = models.CharField(max_length=200, blank=True, help_text="what changed")
    # Snapshot of the matter's terms (see sanji.catalog.flows.MatterTerms).
    kind = models.CharField(max_length=16, choices=MatterKind.choices)
    department_kind = models.CharField(max_length=32, choices=DepartmentKind.choices)
    accepting_levels = models.JSONField(default=list)
    deciding_level = models.CharField(max_length=16, choices=RegionLevel.choices)
    legal_limit_days = models.PositiveSmallIntegerField()
    promised_limit_days = models.PositiveSmallIntegerField()
    fee_amount = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0"))
    fee_basis = models.TextField(blank=True)

    class Meta:
        ordering = ["matter_id", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["matter", "number"], name="catalog_one_version_number"),
        ]

    def __str__(self) -> str:
        return f"{self.matter.code} v{self.number}"

    def accepting_level_labels(self) -> list[str]:
        return [str(RegionLevel(lv).label) for lv in _sorted_levels(list(self.accepting_levels))]


class FlowStep(models.Model):
    """One step (办理环节) of a flow version.

    Steps sharing ``order`` (and ``parallel_group``) form a parallel stage of a joint matter: one
    row per department, each gives an opinion, the stage completes when all have answered.
    ``report_up`` hands the case to the next stage's (higher) level. ``department_kind`` null
    means the version's department kind (see :attr:`effective_department_kind`).
    """

    flow_version = models.ForeignKey(FlowVersion, on_delete=models.PROTECT, related_name="steps")
    order = models.PositiveSmallIntegerField()
    code = models.CharField(max_length=16, choices=StepCode.choices)
    name = models.CharField(max_length=100)
    level = models.CharField(max_length=16, choices=RegionLevel.choices)
    role = models.CharField(max_length=32, choices=Role.choices)
    department_kind = models.CharField(max_length=32, choices=DepartmentKind.choices, null=True, blank=True)
    limit_days = models.PositiveSmallIntegerField(help_text="working days")
    parallel_group = models.PositiveSmallIntegerField(null=True, blank=True)
    report_up = models.BooleanField(default=False)

    class Meta:
        ordering = ["flow_version_id", "order", "id"]
        indexes = [models.Index(fields=["flow_version", "order"], name="catalog_step_version_order")]

    def __str__(self) -> str:
        return f"{self.order}. {self.name}"

    @property
    def effective_department_kind(self) -> str:
        return self.department_kind or self.flow_version.department_kind

    @property
    def effective_department_label(self) -> str:
        return str(DepartmentKind(self.effective_department_kind).label)

    @property
    def is_parallel(self) -> bool:
        return self.parallel_group is not None


class Material(models.Model):
    """One application material (申请材料) of a flow version; ``blank_form_template`` is a small
    text/HTML blank form (空白表格) offered for download as ``blank_form_name``."""

    flow_version = models.ForeignKey(FlowVersion, on_delete=models.PROTECT, related_name="materials")
    order = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=200)
    form = models.CharField(max_length=16, choices=MaterialForm.choices)
    count = models.PositiveSmallIntegerField(default=1)
    required = models.BooleanField(default=True)
    blank_form_name = models.CharField(max_length=120, blank=True)
    blank_form_template = models.TextField(blank=True)
    notes = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["flow_version_id", "order", "id"]

    def __str__(self) -> str:
        return self.name
