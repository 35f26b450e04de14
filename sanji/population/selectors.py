"""Reads of the population registry, scoped by the actor (:mod:`sanji.population.policies`).

Spatial reads locate people through their building: a person → the building's point; a polygon
or a circle → the buildings inside (a box prefilter on the indexed ``lon``/``lat`` columns, then
shapely's vectorised ``contains_xy``) → the people living there. Per-grid totals read the
buildings' ``resident_count``, never the person table.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db import models
from django.db.models import Count, Q, Sum
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from sanji.core import crypto, idnumber
from sanji.core.actors import Actor
from sanji.core.authz import get_in_scope, is_platform
from sanji.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from sanji.core.roles import STAFF_ROLES
from sanji.orgs.models import Region, RegionLevel
from sanji.population import change_values, codes, coords, policies
from sanji.population.models import (
    Building,
    ChangeFeedEntry,
    ChangeKind,
    ChangeState,
    CommunityBoundary,
    Grid,
    Person,
    PersonChange,
    PersonStatus,
    PersonVersion,
)
from sanji.population.services import FIELD_KEY, previous_field_keys


def _people(actor: Actor) -> models.QuerySet[Person]:
    if not policies.can_read_people(actor):
        return Person.objects.none()
    return policies.scope_people(actor, Person.objects.all())


def person_get_for(actor: Actor, person_id: int) -> Person:
    return get_in_scope(_people(actor).select_related("building", "household"), pk=person_id)


def _index_of(raw: str) -> bytes:
    """The blind index of an ID number as typed (15 or 18 digits); NotFound if it is not one."""
    try:
        parsed = idnumber.parse(raw, today=dt.date.max)
    except idnumber.IdNumberError:
        raise NotFound() from None
    return crypto.blind_digest(parsed.number, purpose="person")


def person_find_by_id_number(actor: Actor, raw: str) -> Person:
    """Exact look-up by ID number (15 or 18 digits) through the blind index; NotFound otherwise."""
    return get_in_scope(_people(actor).select_related("building", "household"), id_index=_index_of(raw))


def _correction_replacing(index: bytes) -> models.QuerySet[PersonChange]:
    """The latest verified correction that replaced the number with blind index ``index``."""
    return PersonChange.objects.filter(
        previous_id_index=index, state=ChangeState.VERIFIED, person__isnull=False
    ).order_by("-decided_at", "-id")[:1]


def person_by_corrected_id_number(actor: Actor, raw: str) -> tuple[Person, PersonChange]:
    """The person whose ID number was corrected away from ``raw`` (a verified correction), with
    that correction: a department's old roll still leads to the person. NotFound otherwise, or
    when the person is outside the actor's reach."""
    change = _correction_replacing(_index_of(raw)).first()
    if change is None or change.person_id is None:  # the filter excludes the latter; for the types
        raise NotFound()
    return person_get_for(actor, change.person_id), change


def corrected_number_now(number: str) -> str | None:
    """For a (clean) number a verified correction replaced: the clear number the person holds now;
    None if no correction replaced it. No scope: for the shared read (共享查询), whose caller has
    already checked the reader, and which answers name and ID number to every department
    (``sharing.selectors.person_get_for``)."""
    index = crypto.blind_digest(number, purpose="person")
    token = _correction_replacing(index).values_list("person__id_number_encrypted", flat=True).first()
    return _clear(token) if token else None


def person_id_number(actor: Actor, person: Person) -> str:
    """The clear ID number of a person the actor may read (decrypts with current or previous keys)."""
    get_in_scope(_people(actor), pk=person.pk)
    return crypto.decrypt(person.id_number_encrypted, key=FIELD_KEY, previous=previous_field_keys())


@dataclass(frozen=True, slots=True)
class Location:
    lon: float
    lat: float
    building_id: int
    building_code: str
    grid_id: int
    region_path: str


def person_location(actor: Actor, person_id: int) -> Location:
    """Where a person actually lives: the household's own point if surveyed, else the building's."""
    person = person_get_for(actor, person_id)
    building = person.building
    if building is None:
        raise NotFound(_("此人员没有已知的居住地。"))
    lon, lat = building.lon, building.lat
    if person.household is not None and person.household.lon is not None and person.household.lat is not None:
        lon, lat = person.household.lon, person.household.lat
    return Location(lon, lat, building.pk, building.code, building.grid_id, building.region_path)


def person_as_of(actor: Actor, person_id: int, at: dt.datetime) -> dict[str, Any] | None:
    """The person's facts as they were at ``at``: the current row or a closed version (None before)."""
    person = person_get_for(actor, person_id)
    if at >= person.valid_from:
        return {"version": person.version, **person.snapshot()}
    version = PersonVersion.objects.filter(person=person, valid_from__lte=at, valid_to__gt=at).first()
    if version is None:
        return None
    return {"version": version.version, **version.snapshot}


# --- places --------------------------------------------------------------------------------------


def building_get_for(actor: Actor, building_id: int) -> Building:
    return get_in_scope(policies.scope_places(actor, Building.objects.all()), pk=building_id)


def grid_get_for(actor: Actor, grid_id: int) -> Grid:
    return get_in_scope(policies.scope_places(actor, Grid.objects.all()), pk=grid_id)


def community_get_for(actor: Actor, code: str) -> Region:
    regions = policies.scope_regions(actor, Region.objects.filter(level=RegionLevel.COMMUNITY))
    return get_in_scope(regions, code=code)


def residents_of_building(actor: Actor, building_id: int) -> models.QuerySet[Person]:
    building = building_get_for(actor, building_id)
    return _people(actor).filter(building_id=building.pk)


def residents_of_grid(actor: Actor, grid_id: int) -> models.QuerySet[Person]:
    grid = grid_get_for(actor, grid_id)
    return _people(actor).filter(building__grid_id=grid.pk)


def residents_of_community(actor: Actor, code: str) -> models.QuerySet[Person]:
    community = community_get_for(actor, code)
    return _people(actor).filter(region_path=community.path)


def _buildings_in_box(
    actor: Actor, box: tuple[float, float, float, float]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    min_lon, min_lat, max_lon, max_lat = box
    rows = list(
        policies.scope_places(actor, Building.objects.all())
        .filter(lon__gte=min_lon, lon__lte=max_lon, lat__gte=min_lat, lat__lte=max_lat)
        .values_list("id", "lon", "lat")
    )
    if not rows:
        empty = np.empty(0)
        return empty.astype(np.int64), empty, empty
    data = np.array(rows, dtype=np.float64)
    return data[:, 0].astype(np.int64), data[:, 1], data[:, 2]


def buildings_in_polygon(actor: Actor, geometry: dict[str, Any] | str) -> list[int]:
    """Ids of the buildings inside a GeoJSON Polygon/MultiPolygon (lon/lat)."""
    from shapely import contains_xy, prepare
    from shapely.geometry import shape

    try:
        geom = shape(json.loads(geometry) if isinstance(geometry, str) else geometry)
    except Exception as exc:  # malformed GeoJSON in any of several ways
        raise ValidationFailed(_("不是 GeoJSON 多边形：%(error)s") % {"error": exc}) from None
    if geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
        raise ValidationFailed(_("不是 GeoJSON 多边形。"))
    ids, lons, lats = _buildings_in_box(actor, geom.bounds)
    if not len(ids):
        return []
    prepare(geom)
    inside = contains_xy(geom, lons, lats)
    return [int(i) for i in ids[inside]]


def residents_in_polygon(actor: Actor, geometry: dict[str, Any] | str) -> models.QuerySet[Person]:
    """People living in buildings inside the polygon."""
    return _people(actor).filter(building_id__in=buildings_in_polygon(actor, geometry))


def residents_in_community_boundary(actor: Actor, code: str) -> models.QuerySet[Person]:
    """People living inside a community's stored polygon (spatially, whatever their community row)."""
    community = community_get_for(actor, code)
    boundary = CommunityBoundary.objects.filter(region=community).first()
    if boundary is None:
        raise NotFound(_("此社区没有边界数据。"))
    return residents_in_polygon(actor, boundary.geometry)


def residents_within_radius(actor: Actor, lon: float, lat: float, radius_m: float) -> models.QuerySet[Person]:
    """People living in buildings within ``radius_m`` metres of the point."""
    if not coords.in_city(lon, lat):
        raise ValidationFailed(_("该点不在本市范围内。"))
    if not 0 < radius_m <= 50_000:
        raise ValidationFailed(_("半径须大于 0 且不超过 50 千米。"))
    ids, lons, lats = _buildings_in_box(actor, coords.bbox_around(lon, lat, radius_m))
    if not len(ids):
        return _people(actor).none()
    p1, p2 = np.radians(lat), np.radians(lats)
    h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lons - lon) / 2) ** 2
    distance = 2 * coords.EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(h)))
    return _people(actor).filter(building_id__in=[int(i) for i in ids[distance <= radius_m]])


@dataclass(frozen=True, slots=True)
class GridPopulation:
    grid_id: int
    code: str
    name: str
    region_path: str
    residents: int


def population_per_grid(actor: Actor, region_code: str) -> list[GridPopulation]:
    """Living residents per grid for every grid under a region (a district, township or community)."""
    region = Region.objects.filter(code=region_code).first()
    if region is None:
        raise NotFound()
    grids = policies.scope_places(actor, Grid.objects.filter(region_path__startswith=region.path))
    if not policies.can_see_region(actor, region.path) and not grids.exists():
        raise NotFound()
    totals = dict(
        policies.scope_places(actor, Building.objects.filter(region_path__startswith=region.path))
        .values("grid_id")
        .annotate(n=Sum("resident_count"))
        .values_list("grid_id", "n")
    )
    return [
        GridPopulation(pk, code, name, path, int(totals.get(pk) or 0))
        for pk, code, name, path in grids.order_by("code").values_list("id", "code", "name", "region_path")
    ]


# --- changes (人口变动) and the change feed ----------------------------------------------------------

CHANGE_PAGE_SIZE = 50
FEED_MAX_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class ChangePage:
    """One page of changes (no total count: ``has_next``). ``queue``: the verifier's queue."""

    items: list[PersonChange]
    page: int
    has_next: bool
    queue: bool
    state: str

    @property
    def has_previous(self) -> bool:
        return self.page > 1


def change_list_for(
    actor: Actor,
    *,
    state: str | None = None,
    page: int = 1,
    page_size: int = CHANGE_PAGE_SIZE,
    mine: bool | None = None,
) -> ChangePage:
    """The verifier's queue (changes in reach, oldest first; ``state`` defaults to submitted) or,
    for submitters (``mine``; the default for anyone who is not a verifier), their own
    submissions, newest first, optionally of one ``state``."""
    if state and state not in ChangeState.values:
        raise ValidationFailed(
            _("未知的状态“%(state)s”。") % {"state": state}, details=[{"field": "state", "reason": "choice"}]
        )
    page = max(1, page)
    page_size = max(1, min(page_size, 200))
    if mine is None:
        mine = not policies.can_verify_changes(actor)
    changes = policies.scope_changes(actor, PersonChange.objects.select_related("person"))
    if mine:
        changes = changes.filter(submitted_by_id=actor.user_id) if actor.user_id else changes.none()
        if state:
            changes = changes.filter(state=state)
        changes = changes.order_by("-submitted_at", "-id")
    else:
        if not policies.can_verify_changes(actor):
            changes = changes.none()
        else:
            changes = policies.scope_filter_verifier(actor, changes)
        changes = changes.filter(state=state or ChangeState.SUBMITTED).order_by("submitted_at", "id")
    start = (page - 1) * page_size
    rows = list(changes[start : start + page_size + 1])
    return ChangePage(rows[:page_size], page, len(rows) > page_size, not mine, state or "")


def change_get_for(actor: Actor, change_id: int) -> PersonChange:
    return get_in_scope(
        policies.scope_changes(actor, PersonChange.objects.select_related("person", "person__building")),
        pk=change_id,
    )


@dataclass(frozen=True, slots=True)
class DiffRow:
    """One line of the side-by-side view: the value before, the proposed value, today's value.

    ``changed_positions``: for the ID number, the digits (0-based) that change, marked even where
    the number is shown masked; ``derived``: a fact that follows from the proposed ID number
    (birth date, sex, birthplace: GB 11643), applied with it rather than entered.
    """

    field: str
    label: str
    before: str
    after: str
    current: str
    changed_positions: tuple[int, ...] = ()
    derived: bool = False

    @property
    def changed(self) -> bool:
        return self.before != self.after or bool(self.changed_positions)

    @property
    def before_marks(self) -> list[tuple[str, bool]]:
        return _marks(self.before, self.changed_positions)

    @property
    def after_marks(self) -> list[tuple[str, bool]]:
        return _marks(self.after, self.changed_positions)


def _marks(text: str, positions: tuple[int, ...]) -> list[tuple[str, bool]]:
    """Each character with whether it changes (for drawing the changed digits of an ID number)."""
    return [(char, i in positions) for i, char in enumerate(text)]


#: The parts of an ID number (GB 11643-1999) as the comparison names them.
ID_PART_LABELS: dict[str, str | Promise] = {
    "address_code": gettext_lazy("地址码"),
    "birth_date": gettext_lazy("出生日期码"),
    "sequence": gettext_lazy("顺序码"),
    "check": gettext_lazy("校验码"),
}


@dataclass(frozen=True, slots=True)
class ChangeDetail:
    change: PersonChange
    rows: list[DiffRow]
    can_verify: bool
    can_reject: bool
    can_withdraw: bool
    #: The parts of the ID number a correction changes (keys of :data:`ID_PART_LABELS`).
    id_changed_parts: tuple[str, ...] = ()
    #: May see the clear numbers before and after (recorded: ``sharing.services.change_id_unmask``).
    can_unmask_id_numbers: bool = False

    @property
    def id_changed_part_labels(self) -> list[str]:
        return [str(ID_PART_LABELS[p]) for p in self.id_changed_parts]

    @property
    def id_changed_part_text(self) -> str:
        return pgettext("list separator", "、").join(self.id_changed_part_labels)


_CODE_TABLES = {
    "ethnicity": codes.ETHNICITY,
    "marital_status": codes.MARITAL_STATUS,
    "relation": codes.RELATION,
    "sex": codes.SEX,
}
_STATUS_LABELS = {s.value: str(s.label) for s in PersonStatus}


def _shown(field: str, value: Any) -> str:
    if value is None or value == "":
        return ""
    text = str(value)
    if field in _CODE_TABLES:
        return f"{text} {_CODE_TABLES[field].get(text, '')}".strip()
    if field == "status":
        return _STATUS_LABELS.get(text, text)
    if field == "birthplace_code":
        return f"{text} {idnumber.address_name(text)}".strip()
    return text


#: Values keys → the Person snapshot key holding the same fact.
_SNAPSHOT_KEY = {"id_number": "id_masked", "household_code": "household_id"}
#: The facts an ID number carries (GB 11643): they change with it, together.
_ID_FACTS = ("birth_date", "sex", "birthplace_code")


def _current(person: Person | None, field: str) -> str:
    if person is None:
        return ""
    if field == "building_code":
        return person.building.code if person.building else ""
    if field in ("unit_number", "room_number", "lon", "lat"):
        return ""
    key = _SNAPSHOT_KEY.get(field, field)
    value = person.snapshot().get(key, "")
    return _shown(field, value)


def _clear(encrypted: str) -> str:
    return crypto.decrypt(encrypted, key=FIELD_KEY, previous=previous_field_keys())


def _change_id_numbers(change: PersonChange) -> tuple[str, str]:
    """(before, after): the clear number a change proposes and the one it replaces.

    ``before`` is known while the change waits and the person still holds the facts it was
    submitted against (always so with one open change per person); else it is ``""``.
    """
    if not change.id_number_encrypted:
        return "", ""
    after = _clear(change.id_number_encrypted)
    if change.previous_id_encrypted:  # verified: the number it replaced is kept with the change
        return _clear(change.previous_id_encrypted), after
    person = change.person
    if (
        person is None
        or change.state != ChangeState.SUBMITTED
        or person.version != change.person_version
        or not person.id_number_encrypted
    ):
        return "", after
    return _clear(person.id_number_encrypted), after


def _is_transfer(change: PersonChange) -> bool:
    """The move-in of someone in the registry (submitted with the person's facts before it)."""
    return change.kind == ChangeKind.MOVE_IN and bool(change.before)


def change_rows(change: PersonChange) -> list[DiffRow]:
    """The side-by-side rows of a change: every field it sets (the status for deaths, moves out,
    cancellations, restorations and the move-in of someone in the registry), and for a proposed ID
    number the birth date, sex and birthplace that follow from it, with the changed digits."""
    values = change.values
    proposed: list[tuple[str, Any]] = [
        (k, v) for k, v in values.items() if k not in ("effective_date", "id_original")
    ]
    status = {
        ChangeKind.DEATH: PersonStatus.DECEASED,
        ChangeKind.MOVE_OUT: PersonStatus.MOVED_OUT,
        ChangeKind.CANCEL: PersonStatus.CANCELLED,
    }.get(ChangeKind(change.kind))
    if status is not None:
        proposed = [("status", status), ("status_date", values.get("effective_date"))]
    elif change.kind == ChangeKind.RESTORE or _is_transfer(change):
        proposed = [("status", PersonStatus.LIVING), ("status_date", ""), *proposed]
        if _is_transfer(change) and "registered_address" not in values:
            proposed.append(("registered_address", ""))
    person = change.person
    before_id, after_id = _change_id_numbers(change) if "id_number" in values else ("", "")
    positions = tuple(sorted(idnumber.changed_positions(before_id, after_id))) if before_id else ()
    rows = []
    for key, value in proposed:
        before = change.before.get(_SNAPSHOT_KEY.get(key, key), "") if change.before else ""
        rows.append(
            DiffRow(
                field=key,
                label=str(change_values.LABELS.get(key, key)),
                before=_shown(key, before),
                after=_shown(key, value),
                current=_current(person, key),
                changed_positions=positions if key == "id_number" else (),
            )
        )
        if key == "id_number" and after_id and not _is_transfer(change):
            ident = idnumber.parse(after_id, today=dt.date.max)
            facts = {
                "birth_date": ident.birth_date.isoformat(),
                "sex": ident.sex,
                "birthplace_code": ident.address_code,
            }
            for fact in _ID_FACTS:
                rows.append(
                    DiffRow(
                        field=fact,
                        label=str(change_values.LABELS[fact]),
                        before=_shown(fact, change.before.get(fact, "") if change.before else ""),
                        after=_shown(fact, facts[fact]),
                        current=_current(person, fact),
                        derived=True,
                    )
                )
    return rows


def change_detail_for(actor: Actor, change_id: int) -> ChangeDetail:
    """A change with its before/after rows and what the actor may do with it."""
    change = change_get_for(actor, change_id)
    waiting = change.state == ChangeState.SUBMITTED
    decide = waiting and policies.can_decide_change(
        actor, region_path=change.region_path, submitted_by_id=change.submitted_by_id
    )
    rows = change_rows(change)
    positions = next((r.changed_positions for r in rows if r.field == "id_number"), ())
    return ChangeDetail(
        change=change,
        rows=rows,
        can_verify=decide,
        can_reject=decide,
        can_withdraw=waiting and policies.can_withdraw_change(actor, submitted_by_id=change.submitted_by_id),
        id_changed_parts=idnumber.parts_at(positions),
        can_unmask_id_numbers=bool(positions) and _may_see_id_numbers(actor, change),
    )


def _corrects_id_number(change: PersonChange) -> bool:
    return (
        change.kind == ChangeKind.CORRECTION and "id_number" in change.values and change.person_id is not None
    )


def _may_see_id_numbers(actor: Actor, change: PersonChange) -> bool:
    return _corrects_id_number(change) and policies.can_see_change_id_numbers(
        actor, region_path=change.region_path, submitted_by_id=change.submitted_by_id, state=change.state
    )


@dataclass(frozen=True, slots=True)
class ChangeIdNumbers:
    """The clear ID numbers before and after a correction, with the digits that change."""

    change: PersonChange
    before: str
    after: str
    changed_positions: tuple[int, ...]

    @property
    def changed_parts(self) -> tuple[str, ...]:
        return idnumber.parts_at(self.changed_positions)

    @property
    def changed_part_labels(self) -> list[str]:
        return [str(ID_PART_LABELS[p]) for p in self.changed_parts]

    @property
    def before_marks(self) -> list[tuple[str, bool]]:
        return _marks(self.before, self.changed_positions)

    @property
    def after_marks(self) -> list[tuple[str, bool]]:
        return _marks(self.after, self.changed_positions)


def change_id_numbers_for(actor: Actor, change_id: int) -> ChangeIdNumbers:
    """The clear ID numbers before and after a correction of the number, for its police verifier.

    Only for the verifier who may decide the change, while it waits (``Forbidden`` otherwise;
    ``NotFound`` outside reach; ``ValidationFailed`` for a change that does not correct the
    number). Returns clear numbers: the caller records the disclosure, as
    ``sharing.services.change_id_unmask`` does (an access record the resident sees, and audit).
    """
    change = change_get_for(actor, change_id)
    if not _corrects_id_number(change):
        raise ValidationFailed(
            _("此变动不更正公民身份号码。"), details=[{"field": "id_number", "reason": "not_corrected"}]
        )
    if not _may_see_id_numbers(actor, change):
        raise Forbidden(_("只有可核查此变动的公安核查员，在核查期间可以查看更正前后的完整公民身份号码。"))
    before, after = _change_id_numbers(change)
    if not before:
        raise Conflict(_("此人的登记信息在申报后已有变更，请重新加载。"))
    return ChangeIdNumbers(change, before, after, tuple(sorted(idnumber.changed_positions(before, after))))


@dataclass(frozen=True, slots=True)
class FeedItem:
    seq: int
    change_id: int
    kind: str
    person_id: int
    name: str
    id_number: str
    effective_date: dt.date
    fields: list[str]
    published_at: dt.datetime
    #: The area the person is registered in now (region path), and the one a transfer moved them
    #: out of ("" when the change moved nobody between areas).
    region_path: str
    left_region_path: str


@dataclass(frozen=True, slots=True)
class FeedPage:
    items: list[FeedItem]
    next_cursor: int
    has_more: bool


def feed_read(actor: Actor, *, after: int = 0, limit: int = 100) -> FeedPage:
    """Verified changes after the cursor ``after``, in order, for the places the reader reaches.

    Each entry carries the person's name and ID number (unconditionally shared items, DESIGN §4),
    the kind, the effective date and the NAMES of the fields that changed; other values only
    through shared reads. ``next_cursor`` is the last sequence returned (``after`` when none).
    """
    if not policies.can_read_feed(actor):
        raise Forbidden(_("只有部门业务系统和部门数据专员可以读取人口变动数据。"))
    if after < 0:
        raise ValidationFailed(_("游标须不小于 0。"), details=[{"field": "after", "reason": "range"}])
    if not 1 <= limit <= FEED_MAX_LIMIT:
        raise ValidationFailed(
            _("每次读取的条数须为 1 至 %(max)d。") % {"max": FEED_MAX_LIMIT},
            details=[{"field": "limit", "reason": "range"}],
        )
    rows = list(
        policies.scope_feed(actor, ChangeFeedEntry.objects.filter(seq__gt=after))
        .order_by("seq")
        .values_list(
            "seq",
            "change_id",
            "kind",
            "person_id",
            "name",
            "person__id_number_encrypted",
            "effective_date",
            "fields",
            "published_at",
            "region_path",
            "left_region_path",
        )[: limit + 1]
    )
    previous = previous_field_keys()
    items = [
        FeedItem(
            seq=seq,
            change_id=change_id,
            kind=kind,
            person_id=person_id,
            name=name,
            id_number=crypto.decrypt(encrypted, key=FIELD_KEY, previous=previous),
            effective_date=effective_date,
            fields=list(fields),
            published_at=published_at,
            region_path=region_path,
            left_region_path=left_region_path,
        )
        for (
            seq,
            change_id,
            kind,
            person_id,
            name,
            encrypted,
            effective_date,
            fields,
            published_at,
            region_path,
            left_region_path,
        ) in rows[:limit]
    ]
    return FeedPage(items, items[-1].seq if items else after, len(rows) > limit)


def change_stats_for_station(
    region_path: str, start: dt.datetime, end: dt.datetime
) -> tuple[int, float, float] | None:
    """A community station's population-change indicator over ``[start, end)``, or None.

    Counts the changes submitted in the period for people of the station's area (``region_path``
    prefix), withdrawn ones left out: (submitted, verified rate = verified / submitted, average
    delay in days from submission to the police decision over the decided ones, 0 when none is
    decided yet). None when nothing was submitted: the indicator is then not available.
    """
    changes = PersonChange.objects.filter(
        region_path__startswith=region_path, submitted_at__gte=start, submitted_at__lt=end
    ).exclude(state=ChangeState.WITHDRAWN)
    totals = changes.aggregate(
        submitted=Count("id"), verified=Count("id", filter=Q(state=ChangeState.VERIFIED))
    )
    submitted = int(totals["submitted"] or 0)
    if not submitted:
        return None
    delays = [
        (decided - sent).total_seconds() / 86400
        for sent, decided in changes.filter(decided_at__isnull=False).values_list(
            "submitted_at", "decided_at"
        )
        if decided is not None
    ]
    average = round(sum(delays) / len(delays), 2) if delays else 0.0
    return submitted, round(int(totals["verified"] or 0) / submitted, 4), average


# --- the population map and the grid worker's page ------------------------------------------------
# Reads for /population/map/ and /population/grid/ (and their API, ``api_places``). Geometry leaves
# here in GCJ-02, the datum Chinese web maps draw in; everything stored stays CGCS2000.

#: Polygons with more vertices than this are simplified before they are sent to a browser.
MAP_SIMPLIFY_ABOVE = 64
#: Simplification tolerance in degrees (≈ 10 m): invisible at any zoom the map offers.
MAP_SIMPLIFY_TOLERANCE = 1e-4
_KM_PER_DEG_LAT = 111.32


@dataclass(frozen=True, slots=True)
class MapCrumb:
    """One step of the map's breadcrumb (city → district → township → community)."""

    code: str
    name: str
    level: str


@dataclass(frozen=True, slots=True)
class MapArea:
    """One drawn polygon (a community, or a grid inside a community) and its population."""

    code: str
    name: str
    kind: str  # "community" | "grid"
    grid_id: int | None
    residents: int
    area_km2: float
    density: float  # living residents per km²


@dataclass(frozen=True, slots=True)
class MapChild:
    """A place one level down, for the drill-down list beside the map."""

    code: str
    name: str
    level: str
    residents: int


@dataclass(frozen=True, slots=True)
class MapPoint:
    """A building drawn as a point (GCJ-02) with its resident count."""

    building_id: int
    code: str
    number: str
    address: str
    lon: float
    lat: float
    residents: int


@dataclass(frozen=True, slots=True)
class MapLayer:
    """What the map page draws for one region: polygons, their totals, points, the way up and down."""

    code: str
    name: str
    level: str
    residents: int
    breadcrumb: list[MapCrumb]
    children: list[MapChild]
    areas: list[MapArea]
    geojson: dict[str, Any]  # FeatureCollection in GCJ-02; properties.name is the area's code
    points: list[MapPoint]  # the buildings, at community level only
    can_read_people: bool


def _gcj_coords(value: Any) -> Any:
    if value and isinstance(value[0], int | float):
        lon, lat = coords.wgs84_to_gcj02(float(value[0]), float(value[1]))
        return [round(lon, 5), round(lat, 5)]
    return [_gcj_coords(v) for v in value]


def _polygons(geometry: dict[str, Any]) -> list[Any]:
    return [geometry["coordinates"]] if geometry["type"] == "Polygon" else list(geometry["coordinates"])


def _ring_area_deg2(ring: list[list[float]]) -> float:
    """The shoelace area of a closed lon/lat ring, in square degrees (absolute)."""
    total = 0.0
    for i in range(len(ring) - 1):
        total += ring[i][0] * ring[i + 1][1] - ring[i + 1][0] * ring[i][1]
    return abs(total) / 2


def _map_geometry(text: str) -> tuple[dict[str, Any], float]:
    """A stored GeoJSON polygon → (the same in GCJ-02, simplified if large; its area in km²).

    The area is the shoelace area scaled by the cosine of the mean latitude: exact enough for
    shapes a few kilometres across, and without building a shapely geometry for the common case.
    """
    geometry = json.loads(text)
    polygons = _polygons(geometry)
    vertices = sum(len(ring) for polygon in polygons for ring in polygon)
    if vertices > MAP_SIMPLIFY_ABOVE:
        from shapely.geometry import mapping, shape

        simplified = shape(geometry).simplify(MAP_SIMPLIFY_TOLERANCE, preserve_topology=True)
        geometry = json.loads(json.dumps(mapping(simplified)))  # tuples → lists
    lats = [p[1] for polygon in polygons for p in polygon[0]]
    deg2 = sum(
        _ring_area_deg2(polygon[0]) - sum(_ring_area_deg2(hole) for hole in polygon[1:])
        for polygon in polygons
    )
    area = deg2 * _KM_PER_DEG_LAT**2 * math.cos(math.radians(sum(lats) / len(lats)))
    return {"type": geometry["type"], "coordinates": _gcj_coords(geometry["coordinates"])}, area


def _path_visible(actor: Actor, path: str) -> bool:
    """May the actor open the map of this region? Within reach, or above it (then scoped below).

    Places are not department data: a department-bound grant reaches its region's places whatever
    the department (as :func:`policies.scope_places` filters them).
    """
    if is_platform(actor):
        return True
    return any(
        path.startswith(g.region_path) or g.region_path.startswith(path)
        for g in actor.grants_for(*STAFF_ROLES)
    )


def map_default_region(actor: Actor) -> str:
    """The region the map opens on: the narrowest region covering every place the actor sees."""
    if is_platform(actor):
        city = Region.objects.filter(level=RegionLevel.CITY).order_by("path").first()
        if city is None:
            raise NotFound()
        return city.code
    paths = [g.region_path for g in actor.grants]
    if not paths:
        raise NotFound()
    parts = [p.rstrip("/").split("/") for p in paths]
    common = ""
    for segments in zip(*parts, strict=False):
        if len(set(segments)) > 1:
            break
        common += f"{segments[0]}/"
    region = Region.objects.filter(path=common).first() or Region.objects.filter(path=paths[0]).first()
    if region is None:
        raise NotFound()
    return region.code


def map_layer_for(actor: Actor, region_code: str) -> MapLayer:
    """The map of a region, scoped to the actor's reach.

    City, district and township: every community's polygon coloured by its density; a community:
    its grids' polygons and its buildings as points. Outside the actor's reach: NotFound.
    """
    region = Region.objects.filter(code=region_code).first()
    if region is None or not policies.can_view_map(actor) or not _path_visible(actor, region.path):
        raise NotFound()
    crumbs = Region.objects.filter(code__in=region.path.rstrip("/").split("/")).order_by("path")
    # Every ancestor of a region the actor may open is itself open to them (scoped to their reach).
    breadcrumb = [MapCrumb(*row) for row in crumbs.values_list("code", "name", "level")]

    buildings = policies.scope_places(actor, Building.objects.filter(region_path__startswith=region.path))
    features: list[dict[str, Any]] = []
    areas: list[MapArea] = []
    points: list[MapPoint] = []
    children: list[MapChild] = []

    def add(code: str, name: str, kind: str, grid_id: int | None, residents: int, text: str) -> None:
        geometry, area = _map_geometry(text)
        density = residents / area if area > 0 else 0.0
        areas.append(MapArea(code, name, kind, grid_id, residents, round(area, 4), round(density, 1)))
        features.append(
            {
                "type": "Feature",
                "properties": {"name": code, "label": name, "kind": kind},
                "geometry": geometry,
            }
        )

    if region.level == RegionLevel.COMMUNITY:
        grid_totals = dict(
            buildings.values("grid_id").annotate(n=Sum("resident_count")).values_list("grid_id", "n")
        )
        total = sum(int(v or 0) for v in grid_totals.values())
        grids = policies.scope_places(actor, Grid.objects.filter(region_path=region.path)).order_by("code")
        for grid in grids:
            residents = int(grid_totals.get(grid.pk) or 0)
            add(grid.code, grid.name, "grid", grid.pk, residents, grid.geometry)
            children.append(MapChild(grid.code, grid.name, "grid", residents))
        for pk, code, number, address, lon, lat, n in buildings.order_by("code").values_list(
            "id", "code", "number", "address", "lon", "lat", "resident_count"
        ):
            glon, glat = coords.wgs84_to_gcj02(lon, lat)
            points.append(MapPoint(pk, code, number, address, round(glon, 6), round(glat, 6), n))
    else:
        per_community = dict(
            buildings.values("region_path").annotate(n=Sum("resident_count")).values_list("region_path", "n")
        )
        total = sum(int(v or 0) for v in per_community.values())
        boundaries = policies.scope_places(
            actor, CommunityBoundary.objects.filter(region_path__startswith=region.path)
        )
        for code, name, path, geometry in boundaries.order_by("region_path").values_list(
            "region__code", "region__name", "region_path", "geometry"
        ):
            add(code, name, "community", None, int(per_community.get(path) or 0), geometry)
        below = Region.objects.filter(parent=region).order_by("code")
        for code, name, level, path in below.values_list("code", "name", "level", "path"):
            if not _path_visible(actor, path):
                continue
            residents = sum(int(v or 0) for p, v in per_community.items() if p.startswith(path))
            children.append(MapChild(code, name, level, residents))
    return MapLayer(
        code=region.code,
        name=region.name,
        level=region.level,
        residents=total,
        breadcrumb=breadcrumb,
        children=children,
        areas=areas,
        geojson={"type": "FeatureCollection", "features": features},
        points=points,
        can_read_people=policies.can_read_people(actor),
    )


@dataclass(frozen=True, slots=True)
class GridSummary:
    grid_id: int
    code: str
    name: str
    community_code: str
    community_name: str
    buildings: int
    residents: int
    assigned: bool  # the actor is this grid's worker (网格员)


def my_grids_for(actor: Actor) -> list[GridSummary]:
    """The grid worker's grids: those assigned to them, else every grid within their reach.

    A community worker (社区工作人员) with no grid of their own looks after the whole community.
    Other roles have no grids here (an empty list).
    """
    if not policies.can_use_grid_page(actor):
        return []
    in_reach = policies.scope_grid_work(actor, Grid.objects.all())
    assigned = in_reach.filter(worker_id=actor.user_id) if actor.user_id is not None else in_reach.none()
    mine = assigned if assigned.exists() else in_reach
    rows = (
        mine.select_related("community")
        .annotate(n_buildings=Count("buildings"), n_residents=Sum("buildings__resident_count"))
        .order_by("code")
    )
    return [
        GridSummary(
            grid_id=g.pk,
            code=g.code,
            name=g.name,
            community_code=g.community.code,
            community_name=g.community.name,
            buildings=int(g.n_buildings),
            residents=int(g.n_residents or 0),
            assigned=g.worker_id is not None and g.worker_id == actor.user_id,
        )
        for g in rows
    ]


def grid_buildings_for(actor: Actor, grid_id: int) -> tuple[Grid, list[MapPoint]]:
    """A grid in reach and its buildings with resident counts (points in GCJ-02)."""
    grid = get_in_scope(policies.scope_places(actor, Grid.objects.select_related("community")), pk=grid_id)
    points = []
    for pk, code, number, address, lon, lat, n in (
        policies.scope_places(actor, Building.objects.filter(grid_id=grid.pk))
        .order_by("number")
        .values_list("id", "code", "number", "address", "lon", "lat", "resident_count")
    ):
        glon, glat = coords.wgs84_to_gcj02(lon, lat)
        points.append(MapPoint(pk, code, number, address, round(glon, 6), round(glat, 6), n))
    return grid, points


@dataclass(frozen=True, slots=True)
class ResidentRow:
    """One living resident as lists show them: the ID number masked, never clear."""

    person_id: int
    name: str
    id_masked: str
    sex: str
    birth_date: dt.date
    unit_number: str
    room_number: str
    relation: str
    verified: bool

    @property
    def sex_label(self) -> str:
        return codes.SEX.get(self.sex, self.sex)

    @property
    def relation_label(self) -> str:
        return codes.RELATION.get(self.relation, self.relation)


@dataclass(frozen=True, slots=True)
class BuildingResidents:
    building: Building
    resident_count: int
    residents: list[ResidentRow] | None  # None: the actor may see counts only


def building_residents_for(actor: Actor, building_id: int, *, limit: int = 500) -> BuildingResidents:
    """A building in reach, its living resident count and — for people readers — who they are.

    Roles that may not read people individually (:func:`policies.can_read_people`) get the count
    only; people readers get the residents within their own reach (masked ID numbers).
    """
    building = get_in_scope(
        policies.scope_places(actor, Building.objects.select_related("grid", "grid__community")),
        pk=building_id,
    )
    if not policies.can_read_people(actor):
        return BuildingResidents(building, building.resident_count, None)
    people = (
        _people(actor)
        .filter(building_id=building.pk, status=PersonStatus.LIVING)
        .select_related("household")
        .order_by("household_id", "relation", "birth_date")[:limit]
    )
    rows = [
        ResidentRow(
            person_id=p.pk,
            name=p.name,
            id_masked=p.id_masked,
            sex=p.sex,
            birth_date=p.birth_date,
            unit_number=p.household.unit_number if p.household else "",
            room_number=p.household.room_number if p.household else "",
            relation=p.relation,
            verified=p.verified,
        )
        for p in people
    ]
    return BuildingResidents(building, building.resident_count, rows)


# --- reads for the sharing app's person search and person page --------------------------------------


def people_for(actor: Actor) -> models.QuerySet[Person]:
    """The people the actor may read individually (empty for anyone else)."""
    return _people(actor)


def household_members(actor: Actor, person_id: int) -> list[Person]:
    """The readable members of the person's household (the person included), head first."""
    person = person_get_for(actor, person_id)
    if person.household_id is None:
        return [person]
    return list(_people(actor).filter(household_id=person.household_id).order_by("relation", "id"))


def person_versions(actor: Actor, person_id: int) -> models.QuerySet[PersonVersion]:
    """The closed earlier states of a person the actor may read, newest first."""
    person = person_get_for(actor, person_id)
    return PersonVersion.objects.filter(person_id=person.pk).order_by("-version")
