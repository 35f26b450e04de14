"""Population base database tables (人口基础信息库).

Places: a community (社区/村, ``orgs.Region`` of level community, with its boundary in
:class:`CommunityBoundary`) → :class:`Grid` (网格) → :class:`Building` (楼栋) → :class:`Household` (户,
which records its unit 单元 and room 室 inside the building) → :class:`Person`.

Coordinates are CGCS2000 (≈ WGS84) longitude/latitude in degrees; polygons are GeoJSON text with
their bounding box and centroid in plain indexed columns, so both SQLite and PostgreSQL can
prefilter by box without a spatial extension; exact point-in-polygon runs in shapely.

Every row that belongs to a place carries ``region_path`` (the community's materialised path), the
field every scope filter uses.

History: :class:`Person` holds the *current* facts (valid from ``valid_from``); each change closes
the previous state into a :class:`PersonVersion` row (``valid_from``/``valid_to`` + a snapshot), so
"what was true at time t" is the current row when ``t >= valid_from``, else the version whose
interval contains ``t`` (see :func:`sanji.population.selectors.person_as_of`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from sanji.core.indexes import prefix_index
from sanji.orgs.models import Region


class BoundarySource(models.TextChoices):
    SYNTHETIC = "synthetic", _("合成（演示）")
    IMPORTED = "imported", _("导入")


class CommunityBoundary(models.Model):
    """The polygon of one community (社区/村). Regions carry no geometry; this table does."""

    region = models.OneToOneField(Region, on_delete=models.PROTECT, related_name="boundary")
    region_path = models.CharField(max_length=80, db_index=True)
    geometry = models.TextField(help_text="GeoJSON Polygon or MultiPolygon, lon/lat (CGCS2000)")
    min_lon = models.FloatField()
    min_lat = models.FloatField()
    max_lon = models.FloatField()
    max_lat = models.FloatField()
    centroid_lon = models.FloatField()
    centroid_lat = models.FloatField()
    source = models.CharField(max_length=16, choices=BoundarySource.choices)
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["region_path"]

    def __str__(self) -> str:
        return f"boundary of {self.region_id}"


class Grid(models.Model):
    """A grid (网格): the smallest unit of community management, looked after by one grid worker.

    ``code`` is the community's 12-digit code followed by a 3-digit number (15 digits).
    """

    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=100)
    community = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="grids")
    region_path = models.CharField(max_length=80, db_index=True)
    geometry = models.TextField(help_text="GeoJSON Polygon or MultiPolygon, lon/lat (CGCS2000)")
    min_lon = models.FloatField()
    min_lat = models.FloatField()
    max_lon = models.FloatField()
    max_lat = models.FloatField()
    centroid_lon = models.FloatField()
    centroid_lat = models.FloatField()
    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="grids",
        help_text="the grid worker (网格员) responsible",
    )
    source = models.CharField(max_length=16, choices=BoundarySource.choices)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Building(models.Model):
    """A building (楼栋) or, in a village, a courtyard: a point inside its grid.

    ``number`` is 5 digits, unique within the grid; ``code`` is the grid code followed by it.
    ``resident_count`` counts the people whose actual residence is here, kept current by the import
    and by every service that moves people, so per-grid and per-district totals need no scan of
    the person table.
    """

    code = models.CharField(max_length=25, unique=True)
    grid = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="buildings")
    number = models.CharField(max_length=5)
    address = models.CharField(max_length=200)
    lon = models.FloatField()
    lat = models.FloatField()
    region_path = models.CharField(max_length=80, db_index=True)
    resident_count = models.IntegerField(default=0)

    class Meta:
        ordering = ["code"]
        constraints = [models.UniqueConstraint(fields=["grid", "number"], name="population_building_number")]
        indexes = [models.Index(fields=["lon", "lat"], name="population_building_lonlat")]

    def __str__(self) -> str:
        return f"{self.code} {self.address}"


def area_index(name: str) -> models.Index:
    """The index of a ``region_path`` that is matched whole and by prefix (an area and all below it):
    nothing sorts or ranges a population table by path, so one index with the pattern operators
    (:func:`sanji.core.indexes.prefix_index`) instead of the two of ``db_index=True``; one index
    fewer to keep on every write and to build after a bulk load."""
    return prefix_index("region_path", name)


class HouseholdKind(models.TextChoices):
    FAMILY = "family", _("家庭户")
    COLLECTIVE = "collective", _("集体户")


class Household(models.Model):
    """A household (户), identified by its household number (户号), living in one building.

    The unit (单元) and room (室) are recorded as numbers within the building: they are the
    household's address, not places with facts of their own. ``lon``/``lat`` are the household's
    own surveyed point when the import gave one (else the building's point applies).
    The head (户主) is the member whose relation is ``"02"``.
    """

    code = models.CharField(max_length=32, unique=True)
    building = models.ForeignKey(Building, on_delete=models.PROTECT, related_name="households")
    unit_number = models.CharField(max_length=8, blank=True)
    room_number = models.CharField(max_length=8, blank=True)
    kind = models.CharField(max_length=16, choices=HouseholdKind.choices, default=HouseholdKind.FAMILY)
    region_path = models.CharField(max_length=80)
    lon = models.FloatField(null=True, blank=True)
    lat = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["code"]
        indexes = [area_index("population_household_area")]

    def __str__(self) -> str:
        return self.code


class PersonStatus(models.TextChoices):
    LIVING = "living", _("正常")
    DECEASED = "deceased", _("死亡")
    MOVED_OUT = "moved_out", _("迁出")
    CANCELLED = "cancelled", _("注销")


class Person(models.Model):
    """One person in the registry: the current facts.

    - Identity: the 18-digit citizen ID number (GB 11643-1999) is stored only encrypted
      (``id_number_encrypted``, AES-GCM via ``sanji.core.crypto``), with a keyed blind index
      (``id_index``, unique: the 32 raw bytes of :func:`sanji.core.crypto.blind_digest`) for exact
      look-ups and a masked form (``id_masked``,
      ``150102********1237``) for lists. A 15-digit number is upgraded; the original is kept,
      encrypted, in ``id_number_original_encrypted``.
    - Codes: ``sex`` GB/T 2261.1, ``ethnicity`` GB/T 3304, ``marital_status`` GB/T 2261.2,
      ``relation`` (to the head of household) GB/T 4761; see :mod:`sanji.population.codes`.
      ``birth_date`` and ``sex`` always agree with the ID number; ``birthplace_code`` is the
      ID's address code.
    - Registered residence (户籍): ``registered_code`` (a division code, 6–12 digits, possibly
      outside the city) and ``registered_address``. Actual residence (实有人口): ``household`` →
      ``building`` (denormalised for spatial queries) and ``region_path`` (the community lived in,
      the scope field). ``registered_locally`` is false for people registered elsewhere
      (流动人口 / 人户分离).
    - Provenance: ``source`` (import, change, …), ``source_ref`` (file, job, change id),
      ``source_at`` (when the facts were collected), ``recorded_at`` (when entered);
      ``verified``/``verified_at``: checked by public security (公安核验).
    - History: ``version`` and ``valid_from`` of the current facts; earlier states are
      :class:`PersonVersion` rows.
    """

    id_index = models.BinaryField(max_length=32)
    id_number_encrypted = models.CharField(max_length=200)
    id_number_original_encrypted = models.CharField(max_length=200, blank=True)
    id_masked = models.CharField(max_length=18)
    name = models.CharField(max_length=60)
    sex = models.CharField(max_length=1)
    ethnicity = models.CharField(max_length=2)
    birth_date = models.DateField()
    birthplace_code = models.CharField(max_length=6)
    marital_status = models.CharField(max_length=2, default="90")
    registered_code = models.CharField(max_length=12)
    registered_address = models.CharField(max_length=200, blank=True)
    registered_locally = models.BooleanField(default=True)
    household = models.ForeignKey(
        Household,
        to_field="code",
        db_column="household_code",
        on_delete=models.PROTECT,
        related_name="members",
        null=True,
        blank=True,
        db_index=False,  # Meta.indexes: without the pattern-operator twin (never matched by prefix)
    )
    relation = models.CharField(max_length=2, blank=True)
    building = models.ForeignKey(
        Building, on_delete=models.PROTECT, related_name="residents", null=True, blank=True
    )
    region_path = models.CharField(max_length=80)
    status = models.CharField(max_length=16, choices=PersonStatus.choices, default=PersonStatus.LIVING)
    status_date = models.DateField(null=True, blank=True)
    source = models.CharField(max_length=40)
    source_ref = models.CharField(max_length=200, blank=True)
    source_at = models.DateTimeField()
    recorded_at = models.DateTimeField()
    verified = models.BooleanField(default=False)
    verified_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    valid_from = models.DateTimeField()
    import_job = models.ForeignKey(
        "ImportJob", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    import_line = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            # Unique as an index of its own, not part of the table's definition: a bulk load into
            # an empty registry drops it and builds it once at the end (population.bulk).
            models.UniqueConstraint(models.F("id_index"), name="population_person_id_index"),
        ]
        indexes = [
            area_index("population_person_area"),
            models.Index(fields=["household"], name="population_person_household"),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.id_masked}"

    def snapshot(self) -> dict[str, Any]:
        """The facts a :class:`PersonVersion` keeps (:data:`SNAPSHOT_FIELDS`), JSON-ready."""
        out: dict[str, Any] = {}
        for name in SNAPSHOT_FIELDS:
            value = getattr(self, name)
            out[name] = value.isoformat() if isinstance(value, dt.date | dt.datetime) else value
        return out


#: The Person fields a version snapshot keeps (everything but keys, links kept as codes, and history).
SNAPSHOT_FIELDS: tuple[str, ...] = (
    "id_masked",
    "name",
    "sex",
    "ethnicity",
    "birth_date",
    "birthplace_code",
    "marital_status",
    "registered_code",
    "registered_address",
    "registered_locally",
    "household_id",
    "relation",
    "building_id",
    "region_path",
    "status",
    "status_date",
    "source",
    "source_ref",
    "source_at",
    "recorded_at",
    "verified",
    "verified_at",
)


class PersonVersion(models.Model):
    """A closed earlier state of a person: true from ``valid_from`` until ``valid_to``.

    ``snapshot`` holds :data:`SNAPSHOT_FIELDS` as JSON (dates as ISO strings). Written by
    ``person_version_close`` when a change is applied; never updated afterwards.
    """

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    valid_from = models.DateTimeField()
    valid_to = models.DateTimeField()
    snapshot = models.JSONField()
    region_path = models.CharField(max_length=80, db_index=True)
    closed_by = models.CharField(max_length=150)
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["person_id", "version"]
        constraints = [
            models.UniqueConstraint(fields=["person", "version"], name="population_person_version")
        ]

    def __str__(self) -> str:
        return f"person {self.person_id} v{self.version}"


class ImportStatus(models.TextChoices):
    RUNNING = "running", _("进行中")
    DONE = "done", _("完成")
    FAILED = "failed", _("失败")


class ImportJob(models.Model):
    """One bulk import of one file, keyed by the file's SHA-256 so a rerun resumes it.

    Rows are committed in batches of ``batch_size``; ``done_batches`` (a contiguous prefix) is
    updated in the same transaction as each batch, so after a crash a rerun skips exactly what
    was committed. ``saved_indexes`` holds the DDL of secondary indexes dropped for a load into
    an empty table, so they are re-created even if the loading process died.
    """

    sha256 = models.CharField(max_length=64, unique=True)
    file_name = models.CharField(max_length=255)
    status = models.CharField(max_length=16, choices=ImportStatus.choices, default=ImportStatus.RUNNING)
    batch_size = models.PositiveIntegerField()
    done_batches = models.PositiveIntegerField(default=0)
    rows_seen = models.PositiveIntegerField(default=0)
    imported = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    encoding = models.CharField(max_length=16, blank=True)
    report_path = models.CharField(max_length=500, blank=True)
    saved_indexes = models.JSONField(default=list, blank=True)
    started_by = models.CharField(max_length=150)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"import {self.file_name} ({self.status})"


class ImportRowError(models.Model):
    """One rejected field of one row: what the error report file lists (line, field, reason)."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="row_errors")
    line = models.PositiveIntegerField()
    field = models.CharField(max_length=40)
    reason = models.CharField(max_length=300)

    class Meta:
        ordering = ["job_id", "line", "id"]

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.reason}"


# --- changes and the change feed (人口变动, 公安核查, 变动发布) -------------------------------------------


class ChangeKind(models.TextChoices):
    BIRTH = "birth", _("出生登记")
    DEATH = "death", _("死亡注销")
    MOVE_IN = "move_in", _("迁入")
    MOVE_OUT = "move_out", _("迁出")
    MARRIAGE_STATUS = "marriage_status", _("婚姻状况变更")
    ADDRESS = "address", _("住址变更")
    NAME = "name", _("姓名变更")
    CORRECTION = "correction", _("信息更正")
    CANCEL = "cancel", _("注销登记")
    RESTORE = "restore", _("恢复登记")


class ChangeState(models.TextChoices):
    SUBMITTED = "submitted", _("待核查")
    VERIFIED = "verified", _("已核准")
    REJECTED = "rejected", _("已退回")
    WITHDRAWN = "withdrawn", _("已撤回")


class PersonChange(models.Model):
    """A proposed change to the registry (人口变动), waiting for or decided by public security.

    ``person`` is the person changed; for a birth or the move-in of someone new it is empty until
    the change is verified, which creates the person. ``values`` holds the proposed values in
    their stored form (codes, ISO dates; an ID number only masked — the clear number is in
    ``id_number_encrypted`` with its blind index ``id_index``); ``before`` the person's facts at
    submission (:meth:`Person.snapshot` plus the building's code and address) for the side-by-side
    view; ``person_version`` the person's version then: a change is applied only if the person is
    still at that version (optimistic concurrency), so of two changes to one person the second to
    be verified is refused. ``region_path`` is the community of the person's residence (of the
    destination household for a new person): the police queue's scope. States move only through
    :mod:`sanji.population.transitions`.
    """

    kind = models.CharField(max_length=20, choices=ChangeKind.choices)
    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.PROTECT, related_name="changes"
    )
    values = models.JSONField(default=dict)
    before = models.JSONField(default=dict, blank=True)
    fields = models.JSONField(default=list, help_text="names of the Person fields the change sets")
    id_number_encrypted = models.CharField(max_length=200, blank=True)
    id_index = models.BinaryField(max_length=32, blank=True, default=b"", db_index=True)
    #: For a verified correction of the ID number: the number it replaced (encrypted, with its
    #: blind index), so that the registry keeps what was true before and an old roll's number
    #: still leads to the person.
    previous_id_encrypted = models.CharField(max_length=200, blank=True, default="")
    previous_id_index = models.BinaryField(max_length=32, blank=True, default=b"", db_index=True)
    effective_date = models.DateField()
    reason = models.CharField(max_length=500, blank=True, help_text="the submitter's reason")
    evidence = models.CharField(max_length=500, blank=True, help_text="documents seen (证明材料)")
    region_path = models.CharField(max_length=80)
    person_version = models.PositiveIntegerField(null=True, blank=True)
    state = models.CharField(max_length=16, choices=ChangeState.choices, default=ChangeState.SUBMITTED)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    submitted_by_name = models.CharField(max_length=150)
    submitted_unit = models.ForeignKey(
        "orgs.Unit", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    submitted_terminal = models.CharField(max_length=40, blank=True)
    submitted_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_by_name = models.CharField(max_length=150, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["submitted_at", "id"]
        indexes = [
            models.Index(fields=["state", "region_path", "submitted_at"], name="population_change_queue"),
            models.Index(fields=["region_path", "submitted_at"], name="population_change_area"),
            models.Index(fields=["submitted_by", "submitted_at"], name="population_change_mine"),
        ]

    def __str__(self) -> str:
        return f"change {self.pk} {self.kind} ({self.state})"


class ChangeFeedEntry(models.Model):
    """One verified change, published in order (变动发布): what department systems read from.

    ``seq`` is the cursor: strictly increasing in commit order (allocated under the lock of
    :class:`ChangeFeedHead` inside the applying transaction), so a reader that saw ``seq`` n has
    seen every entry up to n. The person's name is kept as published; the ID number is read
    from the person. ``fields`` names the Person fields that changed, never their values.
    """

    seq = models.PositiveBigIntegerField(unique=True)
    change = models.OneToOneField(PersonChange, on_delete=models.PROTECT, related_name="feed_entry")
    kind = models.CharField(max_length=20, choices=ChangeKind.choices)
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="feed_entries")
    name = models.CharField(max_length=60)
    fields = models.JSONField(default=list)
    effective_date = models.DateField()
    region_path = models.CharField(max_length=80, db_index=True)
    #: Where the person lived before, when this change moved them to another area (a transfer
    #: within the city, 迁入): readers of that area see the entry too, as the person leaving it.
    left_region_path = models.CharField(max_length=80, blank=True, default="", db_index=True)
    published_at = models.DateTimeField()

    class Meta:
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"feed #{self.seq} {self.kind}"


class ChangeFeedHead(models.Model):
    """The feed's last sequence number (one row), locked while an entry is appended."""

    seq = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"feed head {self.seq}"


class FeedPackage(models.Model):
    """A package of the change feed written for one account's front-end processor (前置机).

    The exports of one account (a department system or data officer) chain: each package holds
    the entries that account may read with ``after < seq <= last``, and the next starts at the
    greatest ``last`` recorded, so the platform keeps the cursor and the processor may move the
    files away. A row is recorded (with its audit entry) *before* its file is written, with the
    package's SHA-256; ``published_at`` is set once the file is in place. A row without it is a
    package a crash interrupted: the next export writes it again, byte for byte the same.
    """

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    package_id = models.CharField(max_length=80, unique=True)
    after = models.PositiveBigIntegerField()
    last = models.PositiveBigIntegerField()
    entries = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    directory = models.CharField(max_length=500)
    operator = models.CharField(max_length=150, blank=True, help_text="the server account that ran it")
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["recipient", "after"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "after"], name="population_feedpackage_chain"),
        ]

    def __str__(self) -> str:
        return self.package_id
