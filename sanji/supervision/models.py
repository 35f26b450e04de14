"""Supervision tables: rule configuration, marks, supervision orders, the board summary.

A :class:`Mark` is unique per (case, rule, period): ``period`` says which occurrence of the rule on
that case it is — 0 for once-per-case rules (the case's deadlines), the event's ``seq`` for a rule hit
by one event, the step order for a step overrun, the procedure's starting event ``seq`` for a special
procedure, the order or follow-up id for an overdue order or follow-up. Marks are inserted with
``ON CONFLICT DO NOTHING`` on that key, so the same inputs always give the same marks.
``became_at`` is the instant the condition became true (computed from the deadlines and events),
not when the sweep noticed it.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models

from sanji.cases.models import Case, CaseEvent
from sanji.orgs.models import Unit
from sanji.supervision.rules import RuleCode, Severity
from sanji.supervision.transitions import MarkState, OrderState


class RuleConfig(models.Model):
    """One rule's configuration, overriding :data:`sanji.supervision.rules.DEFAULTS`."""

    code = models.CharField(max_length=32, choices=RuleCode.choices, unique=True)
    enabled = models.BooleanField(default=True)
    threshold = models.PositiveIntegerField(default=0)
    auto_issue = models.BooleanField(default=True, help_text="issued at once, else held for confirmation")
    points = models.DecimalField(max_digits=6, decimal_places=2, default=Decimal("0"))
    updated_at = models.DateTimeField(null=True, blank=True)
    updated_by = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class Mark(models.Model):
    """One rule hit on one case (预警 / 黄牌 / 红牌 / 违规提示), with its lifecycle state."""

    # No separate foreign-key indexes: the unique key leads with the case, the (unit, state) index
    # with the unit, and events are never deleted. Each index costs every mark the sweep inserts.
    # No database constraint on the case and the unit either: marks are derived rows, inserted only by
    # the platform from case rows read in the same statement, and cases and units are never deleted;
    # on PostgreSQL each checked reference also locks the case row (FOR KEY SHARE), which for the
    # first sweep's million marks cost half a minute at commit (bench/bench_supervision.py).
    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    rule = models.CharField(max_length=32, choices=RuleCode.choices)
    period = models.BigIntegerField(default=0)
    severity = models.CharField(max_length=16, choices=Severity.choices)
    state = models.CharField(max_length=16, choices=MarkState.choices)
    became_at = models.DateTimeField()
    created_at = models.DateTimeField()
    issued_at = models.DateTimeField(null=True, blank=True)
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    region_path = models.CharField(max_length=80)
    staff_id = models.BigIntegerField(null=True, blank=True)
    staff_username = models.CharField(max_length=150, blank=True)
    event = models.ForeignKey(
        CaseEvent, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    points = models.DecimalField(max_digits=6, decimal_places=2, default=Decimal("0"))
    detail = models.JSONField(default=dict, blank=True)
    explanation = models.TextField(blank=True)
    appeal_reason = models.TextField(blank=True)
    decision_note = models.TextField(blank=True)
    decided_by = models.CharField(max_length=150, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-became_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "rule", "period"], name="supervision_one_mark_per_period")
        ]
        # Few indexes on purpose: the first sweep over a backlog inserts a million marks, and every
        # index is maintained on each (bench/bench_supervision.py). Lists and the board read the
        # newest marks through the created index (walked backwards, the region filtered from the
        # index itself); a unit's own marks through (unit, state); the monthly score scans a month.
        indexes = [
            # Covering for the board's "marks today" (raised today) per place and unit, and the
            # supervisors' lists, newest first.
            models.Index(fields=["created_at", "region_path", "unit"], name="supervision_mark_created"),
            models.Index(fields=["unit", "state"], name="supervision_mark_unit"),
        ]

    def __str__(self) -> str:
        return f"{self.rule} on case {self.case_id}"

    @property
    def rule_label(self) -> str:
        return str(RuleCode(self.rule).label)


class SupervisionOrder(models.Model):
    """督办: a supervisor's order to the responsible unit, with its own deadline (watched by the sweep)."""

    mark = models.OneToOneField(Mark, on_delete=models.PROTECT, related_name="order")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    region_path = models.CharField(max_length=80)
    state = models.CharField(max_length=16, choices=OrderState.choices, default=OrderState.OPEN)
    instruction = models.TextField()
    days = models.PositiveSmallIntegerField()
    due = models.DateTimeField()
    issued_at = models.DateTimeField()
    issued_by = models.CharField(max_length=150)
    answer = models.TextField(blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.CharField(max_length=150, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.CharField(max_length=150, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-issued_at", "-id"]
        indexes = [
            models.Index(fields=["state", "due"], name="supervision_order_due"),
            models.Index(fields=["region_path", "issued_at"], name="supervision_order_region"),
        ]

    def __str__(self) -> str:
        return f"督办 #{self.pk} on case {self.case_id}"


class BoardCell(models.Model):
    """The live board's summary of open cases and today's marks, rebuilt by each sweep.

    Three kinds of rows: per receiving place (``unit`` empty; scoped and drilled down by
    ``region_path``), per current unit (``region_path`` empty: what sits at that unit now), and
    today's marks (both set, see ``marks_today``). A few thousand rows however many cases are open,
    so the board for the whole city aggregates these instead of a million cases; ``computed_at`` is
    shown on the board.
    """

    region_path = models.CharField(max_length=80, blank=True)
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    open_count = models.PositiveIntegerField(default=0)
    due_soon = models.PositiveIntegerField(default=0)
    overdue = models.PositiveIntegerField(default=0)
    #: Marks raised on ``computed_at``'s day up to it, on rows of a third kind (both ``region_path``
    #: and ``unit`` set: per receiving place and responsible unit); the board adds the marks raised
    #: since, so it never counts a day's marks one by one (a catch-up sweep raises a million).
    marks_today = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["region_path"], name="supervision_cell_region")]

    def __str__(self) -> str:
        return f"{self.region_path} {self.unit_id}: {self.open_count}"


class SweepRun(models.Model):
    """One run of the sweep: when, how many marks per rule, problems (e.g. an unconfigured calendar year)."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    created = models.PositiveIntegerField(default=0)
    per_rule = models.JSONField(default=dict, blank=True)
    problems = models.JSONField(default=list, blank=True)
    actor = models.CharField(max_length=150)
    #: Case events up to this id were evaluated by this run's event-rule backstop; the next run
    #: starts after it (see :func:`sanji.supervision.services.supervision_sweep`).
    event_watermark = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"sweep {self.started_at:%Y-%m-%d %H:%M}: {self.created}"
