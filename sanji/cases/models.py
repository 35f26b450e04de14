"""Approval cases (办件) and their append-only event log.

A :class:`Case` is one application for one catalogue matter. It is changed only by
:func:`sanji.cases.services.case_act` (and the receive/draft services), which appends a
:class:`CaseEvent` and recomputes the derived deadline columns from the whole event log; nothing
else writes those columns. ``region_path`` is the path of the place where the application was
received, so every level above it sees the case with one prefix filter; ``current_unit`` /
``current_department`` say who holds it now.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import BooleanField, F, Func, Q
from django.db.models.lookups import IsNull
from django.utils.translation import gettext_lazy as _

from sanji.cases.transitions import OPEN_STATES, STATE_LABELS, State
from sanji.catalog.models import FlowStep, FlowVersion, Matter
from sanji.core.appendonly import AppendOnlyModel
from sanji.orgs.models import Department, Unit


class CaseState(models.TextChoices):
    DRAFT = State.DRAFT, STATE_LABELS[State.DRAFT]
    SUBMITTED = State.SUBMITTED, STATE_LABELS[State.SUBMITTED]
    RETURNED = State.RETURNED, STATE_LABELS[State.RETURNED]
    RECEIVED = State.RECEIVED, STATE_LABELS[State.RECEIVED]
    CORRECTION_REQUESTED = State.CORRECTION_REQUESTED, STATE_LABELS[State.CORRECTION_REQUESTED]
    HANDLING = State.HANDLING, STATE_LABELS[State.HANDLING]
    REPORTED_UP = State.REPORTED_UP, STATE_LABELS[State.REPORTED_UP]
    SUSPENDED = State.SUSPENDED, STATE_LABELS[State.SUSPENDED]
    APPROVED = State.APPROVED, STATE_LABELS[State.APPROVED]
    DENIED = State.DENIED, STATE_LABELS[State.DENIED]
    REFUSED = State.REFUSED, STATE_LABELS[State.REFUSED]
    DELIVERED = State.DELIVERED, STATE_LABELS[State.DELIVERED]
    COMPLETED = State.COMPLETED, STATE_LABELS[State.COMPLETED]
    WITHDRAWN = State.WITHDRAWN, STATE_LABELS[State.WITHDRAWN]
    VOIDED = State.VOIDED, STATE_LABELS[State.VOIDED]


class Channel(models.TextChoices):
    WINDOW = "window", _("窗口")
    ONLINE = "online", _("网上")
    COMMUNITY = "community", _("社区代办")
    API = "api", _("部门系统")


class DeliveryMethod(models.TextChoices):
    WINDOW = "window", _("窗口领取")
    MAIL = "mail", _("邮寄")
    ELECTRONIC = "electronic", _("电子证照")


#: The open states in a fixed order: the worklist queries repeat the partial indexes' condition
#: ``state IN (…)`` literally (SQLite uses a partial index only when the query states its condition).
OPEN_STATE_LIST: tuple[str, ...] = tuple(sorted(OPEN_STATES))
#: The "to receive" worklist's states (received or submitted, to correct, reported up to take over).
RECEIVE_STATE_LIST: tuple[str, ...] = tuple(
    sorted({State.SUBMITTED, State.RECEIVED, State.CORRECTION_REQUESTED, State.REPORTED_UP})
)
#: The "reported up" worklist's state.
REPORTED_UP_STATE_LIST: tuple[str, ...] = (State.REPORTED_UP,)
#: The "returned" worklist's states (returned at pre-check, decided).
RETURNED_STATE_LIST: tuple[str, ...] = tuple(sorted({State.RETURNED, State.APPROVED, State.DENIED}))
#: The states of the worklists of a place ("to receive", "to handle", "returned"): open or returned.
PLACED_STATE_LIST: tuple[str, ...] = tuple(sorted({*OPEN_STATES, State.RETURNED}))


class NotAnIndexKey(Func):
    """The column itself; on SQLite ``+column``, which keeps its planner (no histograms) from driving
    the query through an index of that column when another index serves the order better."""

    template = "%(expressions)s"

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, template="+%(expressions)s", **extra)


class NotAnIndexKeyAnywhere(NotAnIndexKey):
    """An integer column that neither engine may drive the query through: ``col + 0`` on PostgreSQL
    (whose statistics cannot see that a worklist is empty at one office)."""

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, template="(%(expressions)s + 0)", **extra)


class NotAnIndexKeyText(NotAnIndexKey):
    """A text column that neither engine may drive the query through: ``(col || '')`` on PostgreSQL
    (same value, same ordering), ``+col`` on SQLite."""

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, template="(%(expressions)s || '')", **extra)


class StateIn(Func):
    """``state IN ('a', 'b', …)`` with the states written into the SQL, as in a partial index's
    condition: SQLite uses a partial index only when the query repeats its condition, and it cannot
    tell that bound parameters (``IN (?, ?)``, what ``state__in`` compiles to) do. The states are
    this module's constants, never user input. ``drive=False``: on SQLite, a filter only (``+state``),
    so that a few states are not read through ``cases_kind_state`` and sorted."""

    output_field = BooleanField()

    def __init__(self, states: tuple[str, ...], *, drive: bool = True) -> None:
        super().__init__(F("state"))
        self.states = states
        self.drive = drive

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:  # type: ignore[override]
        column, params = compiler.compile(self.source_expressions[0])
        if not self.drive and connection.vendor == "sqlite":
            column = f"+{column}"  # a filter, not an index key: SQLite reads a deadline index instead
        values = ", ".join("'" + s.replace("'", "''") + "'" for s in self.states)
        return f"{column} IN ({values})", list(params)


def due_order() -> list[Any]:
    """The worklists' order: promised deadline first, none last, then id.

    Spelled ``promised_due IS NULL, promised_due, id`` rather than ``promised_due NULLS LAST``: an
    index on these expressions serves it on both engines (SQLite's indexes hold NULL first and it
    cannot read ``NULLS LAST`` from one).
    """
    return [IsNull(F("promised_due"), True).asc(), F("promised_due").asc(), F("id").asc()]


class Case(models.Model):
    """One application (办件). ``number``: ``<accepting region code>-<YYYYMMDD>-<sequence>``."""

    number = models.CharField(max_length=40, unique=True)
    query_code_hash = models.CharField(max_length=64)
    matter = models.ForeignKey(Matter, on_delete=models.PROTECT, related_name="cases")
    flow_version = models.ForeignKey(FlowVersion, on_delete=models.PROTECT, related_name="cases")
    matter_kind = models.CharField(max_length=16)  # snapshot of the version's kind (即办/承诺/联办/上报)

    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="cases"
    )
    applicant_name = models.CharField(max_length=100)
    applicant_id_encrypted = models.CharField(max_length=255, blank=True)
    applicant_id_index = models.CharField(max_length=64, blank=True, db_index=True)
    applicant_id_masked = models.CharField(max_length=32, blank=True)
    applicant_phone = models.CharField(max_length=20, blank=True)
    # 代办: who applied online for the applicant (the signed-in account holder), and how they stand
    # to the applicant (relation, authorisation); empty when the applicant applied themselves.
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases_as_agent",
    )
    agent_relation = models.CharField(max_length=200, blank=True)
    title = models.CharField(max_length=200, blank=True)
    form_data = models.JSONField(default=dict, blank=True)

    channel = models.CharField(max_length=16, choices=Channel.choices)
    state = models.CharField(max_length=24, choices=CaseState.choices)

    accepting_unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    current_unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    current_department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    department_kind = models.CharField(max_length=32)
    region_path = models.CharField(max_length=80)
    current_step_order = models.PositiveSmallIntegerField(null=True, blank=True)

    created_at = models.DateTimeField()
    received_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    deemed_accepted = models.BooleanField(default=False)
    decided_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    # Derived from the event log on every event (sanji.cases.deadlines); never edited by hand.
    acceptance_due = models.DateTimeField(null=True, blank=True)
    promised_due = models.DateTimeField(null=True, blank=True)
    legal_due = models.DateTimeField(null=True, blank=True)
    step_due = models.DateTimeField(null=True, blank=True)
    remaining_days = models.IntegerField(null=True, blank=True)
    calendar_problem = models.CharField(max_length=200, blank=True)

    extension_days = models.PositiveSmallIntegerField(default=0)
    corrections_count = models.PositiveSmallIntegerField(default=0)
    second_correction_allowed = models.BooleanField(default=False)
    fee_charged = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    certificate_no = models.CharField(max_length=64, blank=True)
    delivery_method = models.CharField(max_length=16, choices=DeliveryMethod.choices, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["region_path", "state", "promised_due"], name="cases_region_state_due"),
            models.Index(fields=["current_unit", "state", "promised_due"], name="cases_unit_state_due"),
            models.Index(fields=["department_kind", "state"], name="cases_kind_state"),
            models.Index(fields=["applicant", "created_at"], name="cases_applicant"),
            # Worklists (sanji.cases.selectors.case_list_for) read open cases in deadline order and
            # stop after a page: overdue, to receive, to handle, reported up …
            models.Index(
                IsNull(F("promised_due"), True),
                F("promised_due"),
                F("id"),
                name="cases_open_due",
                condition=Q(state__in=OPEN_STATE_LIST),
            ),
            # … and due soon by remaining working days.
            models.Index(
                F("remaining_days"),
                IsNull(F("promised_due"), True),
                F("promised_due"),
                F("id"),
                name="cases_open_remaining_due",
                condition=Q(state__in=OPEN_STATE_LIST),
            ),
            # … and a department's cases at its places (to receive, to handle, returned).
            models.Index(
                F("current_department"),
                IsNull(F("promised_due"), True),
                F("promised_due"),
                F("id"),
                name="cases_dept_due",
                condition=Q(state__in=PLACED_STATE_LIST),
            ),
            # … and what a department's windows have to receive (mostly not accepted: no deadline yet,
            # so at the end of the open indexes' order).
            models.Index(
                F("current_department"),
                IsNull(F("promised_due"), True),
                F("promised_due"),
                F("id"),
                name="cases_dept_receive_due",
                condition=Q(state__in=RECEIVE_STATE_LIST),
            ),
            # … and what is decided or returned at a department's places.
            models.Index(
                F("current_department"),
                IsNull(F("promised_due"), True),
                F("promised_due"),
                F("id"),
                name="cases_dept_returned_due",
                condition=Q(state__in=RETURNED_STATE_LIST),
            ),
            # Reported up, waiting for the next level (a few percent of the open cases).
            models.Index(
                IsNull(F("promised_due"), True),
                F("promised_due"),
                F("id"),
                name="cases_reported_up_due",
                condition=Q(state__in=REPORTED_UP_STATE_LIST),
            ),
            # The "all" tab: newest first.
            models.Index(fields=["created_at", "id"], name="cases_created"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_open(self) -> bool:
        from sanji.cases.transitions import OPEN_STATES

        return self.state in OPEN_STATES


class CaseSequence(models.Model):
    """The last number handed out per (region code, day): locked to allocate the next one."""

    region_code = models.CharField(max_length=12)
    day = models.DateField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["region_code", "day"], name="cases_one_sequence_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.region_code} {self.day}: {self.last}"


class CaseEvent(AppendOnlyModel):
    """One event of a case; append-only (the ORM refuses update and delete)."""

    append_only_message = "case events are append-only"

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events")
    seq = models.PositiveIntegerField()
    action = models.CharField(max_length=32)
    from_state = models.CharField(max_length=24, blank=True)
    to_state = models.CharField(max_length=24)
    at = models.DateTimeField()
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_username = models.CharField(max_length=150)
    unit_id = models.BigIntegerField(null=True, blank=True)
    terminal = models.CharField(max_length=64, blank=True)
    channel = models.CharField(max_length=16)
    step_order = models.PositiveSmallIntegerField(null=True, blank=True)
    opinion = models.TextField(blank=True)
    reason = models.TextField(blank=True)
    legal_basis = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["case_id", "seq"]
        constraints = [models.UniqueConstraint(fields=["case", "seq"], name="cases_event_seq_unique")]

    def __str__(self) -> str:
        return f"{self.case_id}#{self.seq} {self.action}"


class StepState(models.TextChoices):
    PENDING = "pending", _("待办")
    ACTIVE = "active", _("办理中")
    DONE = "done", _("已办")
    SKIPPED = "skipped", _("跳过")


class CaseStep(models.Model):
    """One flow step of one case (办理环节实例)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveSmallIntegerField()
    flow_step = models.ForeignKey(FlowStep, on_delete=models.PROTECT, related_name="+")
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(max_length=16, choices=StepState.choices, default=StepState.PENDING)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    due = models.DateTimeField(null=True, blank=True)
    opinion = models.TextField(blank=True)
    handled_by = models.CharField(max_length=150, blank=True)
    handled_by_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["case_id", "order", "id"]
        indexes = [models.Index(fields=["case", "order"], name="cases_step_case_order")]

    def __str__(self) -> str:
        return f"{self.case_id} step {self.order}"


class CaseDepartment(models.Model):
    """A line (department kind) taking part in a case, so that line's staff see it (联办件)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="lines")
    department_kind = models.CharField(max_length=32)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "department_kind"], name="cases_one_row_per_line")
        ]
        indexes = [models.Index(fields=["department_kind", "case"], name="cases_line_case")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.department_kind}"


class Attachment(models.Model):
    """An uploaded material, stored outside the web root under ``MEDIA_ROOT/cases/`` with a random name."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="attachments")
    event = models.ForeignKey(
        CaseEvent, null=True, blank=True, on_delete=models.PROTECT, related_name="attachments"
    )
    material_name = models.CharField(max_length=200)
    original_filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    storage_path = models.CharField(max_length=255)
    uploaded_by = models.CharField(max_length=150)
    uploaded_by_id = models.BigIntegerField(null=True, blank=True)
    uploaded_at = models.DateTimeField()

    class Meta:
        ordering = ["case_id", "uploaded_at", "id"]

    def __str__(self) -> str:
        return self.original_filename
