"""The working-day calendar (工作日历) as the State Council announces it, one year at a time.

Each December the General Office of the State Council publishes the notice on the next year's
holiday arrangements (国务院办公厅关于某年部分节假日安排的通知). It names the statutory holidays
(法定节假日, days off) and the make-up working days (调休上班日: Saturdays or Sundays worked so that a
holiday block is continuous). A year is either configured whole or not at all; arithmetic over the
rows lives in :mod:`sanji.calendar.workdays`.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

NAME_MAX_LENGTH = 50


class CalendarSource(models.TextChoices):
    CHINESECALENDAR = "chinesecalendar", _("chinesecalendar 软件包")
    ADMIN = "admin", _("管理员录入")
    IMPORT = "import", _("文件导入")


class DayKind(models.TextChoices):
    HOLIDAY = "holiday", _("法定节假日")
    WORKDAY = "workday", _("调休上班日")


class CalendarYear(models.Model):
    """One configured year. Its days are the exceptions; every other date follows the week."""

    year = models.PositiveSmallIntegerField(unique=True)
    source = models.CharField(max_length=20, choices=CalendarSource.choices)
    notice = models.TextField(blank=True, help_text="the notice this year was taken from (title, 文号)")
    # Replaced on every write, so each process can tell cheaply that its cached calendar is stale
    # (see selectors.work_calendar); a timestamp would not change under a frozen test clock.
    revision = models.UUIDField(default=uuid.uuid4)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["year"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(source__in=CalendarSource.values), name="calendar_year_source_valid"
            ),
        ]

    def __str__(self) -> str:
        return str(self.year)


class CalendarDay(models.Model):
    """A date that departs from the week: a holiday (may fall on a weekend) or a worked weekend day."""

    calendar_year = models.ForeignKey(CalendarYear, on_delete=models.CASCADE, related_name="days")
    date = models.DateField(unique=True)
    kind = models.CharField(max_length=10, choices=DayKind.choices)
    name = models.CharField(
        max_length=NAME_MAX_LENGTH, blank=True, help_text="the holiday it belongs to, e.g. 春节"
    )

    class Meta:
        ordering = ["date"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=DayKind.values), name="calendar_day_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date.isoformat()} {self.kind} {self.name}".rstrip()
