"""Sharing grants (共享授权) and the access log of personal records (查询记录).

- :class:`SharingGrant`: a department may read these fields of the population base, beyond the
  unconditional name and ID number, for this purpose, on this legal basis, from … until (dates in
  the city's time zone, both inclusive). Issued and revoked by the platform's system administrator;
  never edited (a change is a revocation and a new grant), so every access record names the exact
  terms it was made under.
- :class:`AccessRecord`: one read of one person's record — who (user, unit, department, terminal,
  channel), whose (the person, and the resident's applicant blind index so the portal finds it from
  ``accounts.User.id_number_index``), why (purpose, grant), what (fields returned) and when.
  Append-only: no service updates or deletes a row.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from sanji.core.appendonly import AppendOnlyModel
from sanji.orgs.models import Department, Unit
from sanji.population.models import Person


class ShareableField(models.TextChoices):
    """The Person facts a grant may name. Name and ID number are always shared and not listed."""

    SEX = "sex", _("性别")
    ETHNICITY = "ethnicity", _("民族")
    BIRTH_DATE = "birth_date", _("出生日期")
    BIRTHPLACE = "birthplace_code", _("出生地")
    MARITAL_STATUS = "marital_status", _("婚姻状况")
    REGISTERED_CODE = "registered_code", _("户籍地区划")
    REGISTERED_ADDRESS = "registered_address", _("户籍地址")
    REGISTERED_LOCALLY = "registered_locally", _("本地户籍")
    RESIDENCE = "residence", _("实际居住地址")
    HOUSEHOLD = "household", _("户号")
    RELATION = "relation", _("与户主关系")
    STATUS = "status", _("人员状态")
    VERIFIED = "verified", _("公安核验")


#: The two unconditional items of the population base (国发〔2016〕51号: 无条件共享).
UNCONDITIONAL_FIELDS: tuple[str, ...] = ("name", "id_number")


class SharingGrant(models.Model):
    """A department's permission to read more than name and ID number, for one purpose (共享授权)."""

    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="sharing_grants")
    region_path = models.CharField(max_length=80, db_index=True, help_text="the department's region path")
    fields = models.JSONField(help_text="ShareableField values")
    purpose = models.CharField(max_length=200)
    legal_basis = models.CharField(max_length=300)
    valid_from = models.DateField()
    valid_until = models.DateField(help_text="last day of validity (inclusive, city time)")
    granted_by_id = models.BigIntegerField(
        null=True, blank=True, help_text="user id (as the audit trail keeps it)"
    )
    granted_by_username = models.CharField(max_length=150)
    granted_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by_username = models.CharField(max_length=150, blank=True)
    revoke_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-granted_at", "-id"]
        indexes = [models.Index(fields=["department", "revoked_at"], name="sharing_grant_department")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_until__gte=models.F("valid_from")), name="sharing_grant_period"
            )
        ]

    def __str__(self) -> str:
        return f"grant {self.pk} {self.department_id}: {self.purpose}"

    def field_labels(self) -> list[str]:
        return [str(ShareableField(f).label) for f in self.fields if f in ShareableField.values]


class AccessKind(models.TextChoices):
    SHARED_READ = "shared_read", _("共享查询")
    ID_UNMASKED = "id_unmasked", _("查看完整身份证号")


class AccessChannel(models.TextChoices):
    PAGE = "page", _("页面")
    API = "api", _("接口")
    OTHER = "other", _("其他")


class AccessRecord(AppendOnlyModel):
    """One read of one person's record (append-only: the resident's record of who read it)."""

    append_only_message = "shared-read records are append-only"

    at = models.DateTimeField()
    kind = models.CharField(max_length=16, choices=AccessKind.choices)
    user_id = models.BigIntegerField(null=True, blank=True, help_text="user id (as the audit trail keeps it)")
    username = models.CharField(max_length=150)
    unit = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    terminal = models.CharField(max_length=40, blank=True)
    channel = models.CharField(max_length=8, choices=AccessChannel.choices)
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+", db_index=False)
    subject_index = models.CharField(
        max_length=64, help_text="blind index of the ID number (applicant purpose, as accounts.User)"
    )
    purpose = models.CharField(max_length=200)
    grant = models.ForeignKey(
        SharingGrant, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    fields = models.JSONField(help_text="the fields returned")

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["person", "-at"], name="sharing_access_person"),
            models.Index(fields=["subject_index", "-at"], name="sharing_access_subject"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} of person {self.person_id} by {self.username} at {self.at:%Y-%m-%d %H:%M}"
