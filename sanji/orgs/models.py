"""The organisation tree (DESIGN.md §2).

Regions form a tree city → district/county/banner (旗县区) → township/sub-district (乡镇/街道) →
community/village (社区/村). Every row that belongs to a place carries ``region_path``, the
materialised path of region codes (``"150100/150105/150105001/"``), so "everything in my district"
is one indexed prefix filter.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class RegionLevel(models.TextChoices):
    CITY = "city", _("市")
    DISTRICT = "district", _("旗县区")
    TOWNSHIP = "township", _("乡镇/街道")
    COMMUNITY = "community", _("社区/村")


LEVEL_DEPTH = {
    RegionLevel.CITY: 0,
    RegionLevel.DISTRICT: 1,
    RegionLevel.TOWNSHIP: 2,
    RegionLevel.COMMUNITY: 3,
}


class Region(models.Model):
    """An administrative division, keyed by its statistical division code (GB/T 2260 + NBS codes)."""

    code = models.CharField(max_length=12, unique=True)
    name = models.CharField(max_length=100)
    level = models.CharField(max_length=16, choices=RegionLevel.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(max_length=80, unique=True)

    class Meta:
        ordering = ["path"]

    def __str__(self) -> str:
        return self.name

    @property
    def region_path(self) -> str:
        return self.path


class DepartmentKind(models.TextChoices):
    """The functional lines that have counterparts at every level (上下对口)."""

    PUBLIC_SECURITY = "public_security", _("公安")
    CIVIL_AFFAIRS = "civil_affairs", _("民政")
    HUMAN_RESOURCES = "human_resources", _("人力资源和社会保障")
    HEALTH = "health", _("卫生健康（人口计生）")
    MARKET_REGULATION = "market_regulation", _("市场监督管理")
    HOUSING = "housing", _("住房和城乡建设")
    NATURAL_RESOURCES = "natural_resources", _("自然资源")
    EDUCATION = "education", _("教育")
    SUPERVISION = "supervision", _("监察")
    ADMINISTRATIVE_APPROVAL = "administrative_approval", _("行政审批和政务服务")
    DISABLED_PERSONS = "disabled_persons", _("残疾人联合会")


class Department(models.Model):
    """A government department (部门) at city or district level.

    ``counterpart_of`` links a district department to the city department of the same line.
    """

    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=32, choices=DepartmentKind.choices)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="departments")
    region_path = models.CharField(max_length=80, db_index=True)
    counterpart_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="counterparts"
    )

    class Meta:
        ordering = ["region_path", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["region", "kind"], name="orgs_one_department_per_kind")
        ]

    def __str__(self) -> str:
        return self.name


class UnitKind(models.TextChoices):
    GOVERNMENT = "government", _("人民政府")
    DEPARTMENT_OFFICE = "department_office", _("部门机关")
    SERVICE_CENTRE = "service_centre", _("政务服务中心/市民服务中心")
    PROFESSIONAL_HALL = "professional_hall", _("专业服务大厅")
    TOWNSHIP_CENTRE = "township_centre", _("乡镇/街道公共服务中心")
    COMMUNITY_STATION = "community_station", _("社区公共服务站")
    WINDOW = "window", _("窗口")
    SUPERVISION_OFFICE = "supervision_office", _("电子监察室")
    OPERATOR = "operator", _("平台运维")


class Unit(models.Model):
    """Where people work and roles are held: a centre, hall, station, window or department office.

    A unit sits in a region and optionally belongs to a department; ``parent`` nests windows in
    their centre. Roles held in a unit reach its region's subtree (and its department, for
    department-bound roles).
    """

    code = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=32, choices=UnitKind.choices)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="units")
    region_path = models.CharField(max_length=80, db_index=True)
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="units"
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["region_path", "code"]

    def __str__(self) -> str:
        return self.name


class Terminal(models.Model):
    """A registered staff workstation or department front-end processor (终端 / 前置机).

    Registered by the security administrator and bound to one unit. A workstation is enrolled
    once with its enrolment code; afterwards its requests carry the terminal identity, which is
    recorded with every action. Only a hash of the secret is stored.

    The enrolment code shown once at registration (and at each re-key) is ``"<code>:<secret>"``.
    ``secret_hash`` is the lowercase hex SHA-256 of the UTF-8 secret —
    ``hashlib.sha256(secret.encode()).hexdigest()``, also :func:`sanji.orgs.services.terminal_secret_hash`.
    A fast hash is enough: the secret is 192 random bits, not a password. Check a presented code
    with :func:`sanji.orgs.services.terminal_authenticate` (constant-time, IP-bound) rather than
    comparing hashes by hand.
    """

    code = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=120)
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="terminals")
    region_path = models.CharField(max_length=80, db_index=True)
    ip_address = models.GenericIPAddressField(
        null=True, blank=True, help_text="if set, requests must come from it"
    )
    secret_hash = models.CharField(max_length=128)
    active = models.BooleanField(default=True)
    registered_at = models.DateTimeField()
    last_seen_at = models.DateTimeField(null=True, blank=True)
    last_seen_ip = models.CharField(max_length=45, blank=True)

    class Meta:
        ordering = ["region_path", "code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"
