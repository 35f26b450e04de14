"""Evaluation tables: ratings (好差评) and their follow-ups, weights, monthly scores with their evidence,
and the community stations' comprehensive evaluation (社区综合考评)."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from sanji.cases.models import Case, CaseStep
from sanji.orgs.models import Department, Unit
from sanji.supervision.models import Mark, SupervisionOrder


class RatingLevel(models.IntegerChoices):
    VERY_SATISFIED = 5, _("非常满意")
    SATISFIED = 4, _("满意")
    BASICALLY_SATISFIED = 3, _("基本满意")
    DISSATISFIED = 2, _("不满意")
    VERY_DISSATISFIED = 1, _("非常不满意")


#: The two lowest levels are bad reviews (差评): each opens a follow-up.
BAD_LEVELS: frozenset[int] = frozenset({RatingLevel.DISSATISFIED, RatingLevel.VERY_DISSATISFIED})


class RatingChannel(models.TextChoices):
    PORTAL = "portal", _("网上办事大厅")
    DEVICE = "device", _("窗口评价器")
    API = "api", _("接口")


class Rating(models.Model):
    """One satisfaction rating of one completed case, tied to the last step and the staff who handled it."""

    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="+")
    level = models.PositiveSmallIntegerField(choices=RatingLevel.choices)
    comment = models.TextField(blank=True)
    channel = models.CharField(max_length=16, choices=RatingChannel.choices)
    rated_at = models.DateTimeField()
    rater_id = models.BigIntegerField(null=True, blank=True, help_text="the applicant's user, if any")
    entered_by = models.CharField(max_length=150, blank=True, help_text="staff at the window device")
    step = models.ForeignKey(CaseStep, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    staff_id = models.BigIntegerField(null=True, blank=True)
    staff_username = models.CharField(max_length=150, blank=True)
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    region_path = models.CharField(max_length=80)
    excluded = models.BooleanField(default=False, help_text="a malicious rating, excluded after appeal")

    class Meta:
        ordering = ["-rated_at", "-id"]
        indexes = [
            models.Index(fields=["region_path", "rated_at"], name="evaluation_rating_region"),
            models.Index(fields=["unit", "rated_at"], name="evaluation_rating_unit"),
        ]

    def __str__(self) -> str:
        return f"rating {self.level} of case {self.case_id}"

    @property
    def is_bad(self) -> bool:
        return self.level in BAD_LEVELS


class FollowUpState(models.TextChoices):
    OPEN = "open", _("待整改")
    REPLIED = "replied", _("已回复")
    APPEALED = "appealed", _("申诉中")
    CLOSED = "closed", _("已办结")


class FollowUpFinding(models.TextChoices):
    VERIFIED = "verified", _("情况属实，已整改")
    EXPLAINED = "explained", _("情况不实，已解释说明")


class FollowUp(models.Model):
    """The follow-up of a bad review (差评整改): verify, rectify or explain, reply to the citizen."""

    rating = models.OneToOneField(Rating, on_delete=models.PROTECT, related_name="follow_up")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    region_path = models.CharField(max_length=80)
    state = models.CharField(max_length=16, choices=FollowUpState.choices, default=FollowUpState.OPEN)
    opened_at = models.DateTimeField()
    due = models.DateTimeField()
    finding = models.CharField(max_length=16, choices=FollowUpFinding.choices, blank=True)
    action_taken = models.TextField(blank=True)
    reply = models.TextField(blank=True)
    replied_at = models.DateTimeField(null=True, blank=True)
    replied_by = models.CharField(max_length=150, blank=True)
    appeal_reason = models.TextField(blank=True)
    appeal_decision = models.TextField(blank=True)
    decided_by = models.CharField(max_length=150, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["due", "id"]
        indexes = [models.Index(fields=["state", "due"], name="evaluation_follow_up_due")]

    def __str__(self) -> str:
        return f"follow-up of rating {self.rating_id}"


class Weight(models.Model):
    """One configurable weight or limit, overriding :data:`sanji.evaluation.scoring.DEFAULT_WEIGHTS`."""

    key = models.CharField(max_length=48, unique=True)
    value = models.DecimalField(max_digits=8, decimal_places=2)
    updated_at = models.DateTimeField(null=True, blank=True)
    updated_by = models.CharField(max_length=150, blank=True)

    def __str__(self) -> str:
        return f"{self.key}={self.value}"


class SubjectKind(models.TextChoices):
    UNIT = "unit", _("单位")
    DEPARTMENT = "department", _("部门")
    WINDOW = "window", _("窗口")
    STAFF = "staff", _("工作人员")


class MonthlyScore(models.Model):
    """The score of one subject for one month: 100 plus its items."""

    month = models.DateField(help_text="first day of the month")
    subject_kind = models.CharField(max_length=16, choices=SubjectKind.choices)
    subject_id = models.BigIntegerField()
    subject_name = models.CharField(max_length=150)
    region_path = models.CharField(max_length=80, blank=True)
    total = models.DecimalField(max_digits=7, decimal_places=2)
    steps_count = models.PositiveIntegerField(default=0)
    on_time_rate = models.FloatField(null=True, blank=True)
    handling_ratio = models.FloatField(null=True, blank=True)
    ratings_count = models.PositiveIntegerField(default=0)
    satisfaction_avg = models.FloatField(null=True, blank=True)
    marks_count = models.PositiveIntegerField(default=0)
    orders_count = models.PositiveIntegerField(default=0)
    rank = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["month", "subject_kind", "rank"]
        constraints = [
            models.UniqueConstraint(
                fields=["month", "subject_kind", "subject_id"], name="evaluation_one_score_per_month"
            )
        ]
        indexes = [
            models.Index(fields=["subject_kind", "subject_id", "month"], name="evaluation_score_subject"),
        ]

    def __str__(self) -> str:
        return f"{self.subject_name} {self.month:%Y-%m}: {self.total}"


class ItemKind(models.TextChoices):
    ON_TIME = "on_time", _("按时办结率")
    HANDLING = "handling", _("平均办理时长")
    MARK = "mark", _("监察标记")
    WARNING_STREAK = "warning_streak", _("连续三次预警")
    EARLY = "early", _("提前办结加分")
    SATISFACTION = "satisfaction", _("满意度")
    ORDER = "order", _("督办")


class ScoreItem(models.Model):
    """One point of a score and the evidence behind it (a mark, a case step, a rating or an order)."""

    score = models.ForeignKey(MonthlyScore, on_delete=models.CASCADE, related_name="items")
    kind = models.CharField(max_length=16, choices=ItemKind.choices)
    points = models.DecimalField(max_digits=7, decimal_places=2)
    note = models.CharField(max_length=200, blank=True)
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    mark = models.ForeignKey(Mark, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    rating = models.ForeignKey(Rating, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    order = models.ForeignKey(
        SupervisionOrder, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["score_id", "kind", "id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.points}"


class CommunityScore(models.Model):
    """社区综合考评: one community station's indicators for one month, ranked within its district."""

    month = models.DateField()
    station = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    region_path = models.CharField(max_length=80)
    district_path = models.CharField(max_length=80)
    cases_taken = models.PositiveIntegerField(default=0)
    forwarded = models.PositiveIntegerField(default=0)
    forwarded_on_time = models.PositiveIntegerField(default=0)
    timeliness = models.FloatField(null=True, blank=True)
    ratings_count = models.PositiveIntegerField(default=0)
    satisfaction_avg = models.FloatField(null=True, blank=True)
    population_available = models.BooleanField(default=False)
    population_submitted = models.PositiveIntegerField(null=True, blank=True)
    population_verified_rate = models.FloatField(null=True, blank=True)
    population_delay_days = models.FloatField(null=True, blank=True)
    total = models.DecimalField(max_digits=7, decimal_places=2, default=Decimal("0"))
    rank_in_district = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["month", "district_path", "rank_in_district"]
        constraints = [
            models.UniqueConstraint(fields=["month", "station"], name="evaluation_one_community_score")
        ]

    def __str__(self) -> str:
        return f"{self.station_id} {self.month:%Y-%m}: {self.total}"
