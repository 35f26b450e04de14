"""Reads of the sharing app, scoped by the actor.

:func:`person_get_for` is the shared read of DESIGN.md §3: by exact ID number (the keyed blind
index, one indexed query), for a stated purpose, returning only what the reader's department may
read, and recording the read (access record + audit, one transaction) before answering. It is a
selector that writes because the record is part of the read: no read without its record.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from sanji.accounts.models import User
from sanji.audit.services import record
from sanji.core import clock, crypto, idnumber, prepared
from sanji.core.actors import Actor
from sanji.core.authz import get_in_scope, require
from sanji.core.errors import Forbidden, NotFound, ValidationFailed
from sanji.orgs import selectors as orgs_selectors
from sanji.population import codes
from sanji.population import selectors as population_selectors
from sanji.population.models import Person, PersonChange, PersonVersion
from sanji.sharing import policies, services
from sanji.sharing.models import AccessKind, AccessRecord, ShareableField, SharingGrant

#: Person columns each shareable field needs (``values()`` names; joins only when asked for).
_COLUMNS: dict[str, tuple[str, ...]] = {
    ShareableField.SEX: ("sex",),
    ShareableField.ETHNICITY: ("ethnicity",),
    ShareableField.BIRTH_DATE: ("birth_date",),
    ShareableField.BIRTHPLACE: ("birthplace_code",),
    ShareableField.MARITAL_STATUS: ("marital_status",),
    ShareableField.REGISTERED_CODE: ("registered_code",),
    ShareableField.REGISTERED_ADDRESS: ("registered_address",),
    ShareableField.REGISTERED_LOCALLY: ("registered_locally",),
    ShareableField.RESIDENCE: ("building__address", "household__unit_number", "household__room_number"),
    ShareableField.HOUSEHOLD: ("household_id",),
    ShareableField.RELATION: ("relation",),
    ShareableField.STATUS: ("status", "status_date"),
    ShareableField.VERIFIED: ("verified", "verified_at"),
}

#: Code tables of coded fields, for the labels shown beside the codes.
_CODE_TABLES: dict[str, dict[str, str]] = {
    ShareableField.SEX: codes.SEX,
    ShareableField.ETHNICITY: codes.ETHNICITY,
    ShareableField.MARITAL_STATUS: codes.MARITAL_STATUS,
    ShareableField.RELATION: codes.RELATION,
    ShareableField.STATUS: codes.STATUS,
}


def id_number_clean(raw: str) -> str:
    """The 18-digit form of a presented ID number; a malformed one is refused clearly (422)."""
    try:
        return idnumber.parse(raw or "", today=clock.today()).number
    except idnumber.IdNumberError:
        raise ValidationFailed(
            _("不是有效的公民身份号码。"), details=[{"field": "id_number", "reason": "invalid"}]
        ) from None


# --- the shared read -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SharedPerson:
    """What a shared read answers: the unconditional items, plus the granted fields asked for."""

    id_number: str
    id_masked: str
    name: str
    fields: dict[str, Any]
    labels: dict[str, str]
    grant_id: int | None
    access_id: int
    read_at: dt.datetime
    #: The number asked for when the police have since corrected it (``id_number`` is the number the
    #: person holds now, for the department's roll); "" otherwise.
    corrected_from: str = ""


@dataclass(frozen=True, slots=True)
class _ReadGrant:
    """The terms of an active grant that a shared read needs."""

    pk: int
    department_id: int
    fields: list[str]


_GRANT_COLUMNS = ("department_id", "fields", "revoked_at", "valid_from", "valid_until")


def _grant_for_read(grant_id: int | None, departments: frozenset[int]) -> _ReadGrant | None:
    if grant_id is None:
        return None
    # Out of the key's range is no grant (the ORM answers nothing there; a driver would raise).
    rows = (
        prepared.fetch(
            "sharing.grant_for_read",
            lambda pk: SharingGrant.objects.filter(pk=pk).order_by().values_list(*_GRANT_COLUMNS)[:1],
            grant_id,
        )
        if 0 < grant_id < 2**63
        else []
    )
    row = dict(zip(_GRANT_COLUMNS, rows[0], strict=True)) if rows else None
    if row is None or row["department_id"] not in departments:
        raise NotFound(_("本部门没有这项共享授权。"))
    if row["revoked_at"] is not None:
        raise Forbidden(
            _("共享授权 #%(id)s 已于 %(date)s 撤销。")
            % {"id": grant_id, "date": f"{row['revoked_at']:%Y-%m-%d}"}
        )
    today = clock.today()
    if today > row["valid_until"]:
        raise Forbidden(
            _("共享授权 #%(id)s 已于 %(date)s 到期。")
            % {"id": grant_id, "date": f"{row['valid_until']:%Y-%m-%d}"}
        )
    if today < row["valid_from"]:
        raise Forbidden(
            _("共享授权 #%(id)s 自 %(date)s 起生效。")
            % {"id": grant_id, "date": f"{row['valid_from']:%Y-%m-%d}"}
        )
    return _ReadGrant(pk=grant_id, department_id=row["department_id"], fields=list(row["fields"]))


def _values(row: dict[str, Any], name: str) -> dict[str, Any]:
    if name == ShareableField.RESIDENCE:
        address = row["building__address"] or ""
        unit, room = row["household__unit_number"], row["household__room_number"]
        parts = [address, f"{unit}单元" if unit else "", f"{room}室" if room else ""]
        return {name: "".join(parts) or None}
    if name == ShareableField.HOUSEHOLD:
        return {name: row["household_id"]}
    if name == ShareableField.STATUS:
        return {"status": row["status"], "status_date": _iso(row["status_date"])}
    if name == ShareableField.VERIFIED:
        return {"verified": row["verified"], "verified_at": _iso(row["verified_at"])}
    return {name: _iso(row[name])}


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date | dt.datetime) else value


def person_get_for(
    actor: Actor,
    id_number: str,
    purpose: str,
    *,
    grant_id: int | None = None,
    fields: list[str] | None = None,
) -> SharedPerson:
    """A department's shared read of one person (共享查询), recorded where the resident sees it.

    - ``purpose`` is required. Name and ID number are always answered.
    - Other fields only under ``grant_id``, an active grant of the reader's department; ``fields``
      picks some of the grant's fields (default: all of them). Asking for a field without a grant
      naming it, or under a revoked or expired grant, is refused (403) and nothing is read.
    - An ID number that is valid but not in the registry is NotFound; the miss is audited without
      the number, and no access record is written.
    """
    require(policies.can_read_shared(actor), _("只有部门数据专员和部门系统可以查询共享数据。"))
    text = services.purpose_clean(purpose)
    number = id_number_clean(id_number)
    departments = policies.reader_department_ids(actor)
    grant = _grant_for_read(grant_id, departments)
    granted = grant.fields if grant is not None else []
    wanted = granted if fields is None else list(dict.fromkeys(f.strip() for f in fields if f.strip()))
    refused = [f for f in wanted if f not in granted]
    if refused:
        names = dict(ShareableField.choices)
        raise Forbidden(
            _("本部门没有以下项目的共享授权：%(fields)s。")
            % {"fields": pgettext("list separator", "、").join(str(names.get(f, f)) for f in refused)},
            details=[{"field": "fields", "reason": "not_granted", "values": refused}],
        )
    columns = ["id", "name", "id_masked", "region_path"]
    for name in wanted:
        columns.extend(_COLUMNS[name])

    def by_number(number: str) -> dict[str, Any] | None:
        # One look-up on the unique blind index (no ORDER BY: nothing to tempt a planner off that
        # index), compiled once per field set (it runs on every shared read).
        found = prepared.fetch(
            ("sharing.person_by_index", tuple(columns)),
            lambda key: Person.objects.filter(id_index=key).order_by().values_list(*columns)[:1],
            crypto.blind_digest(number, purpose="person"),
        )
        return dict(zip(columns, found[0], strict=True)) if found else None

    row = by_number(number)
    corrected_from = ""
    if row is None:  # a number the police corrected since: the person under the number they hold now
        now = population_selectors.corrected_number_now(number)
        row = by_number(now) if now is not None else None
        if now is None or row is None:
            record(actor=actor, action="sharing.person_not_found", purpose=text)
            raise NotFound(_("人口基础信息库中没有这个身份证号码。"))
        corrected_from, number = number, now
    values: dict[str, Any] = {}
    labels: dict[str, str] = {}
    for name in wanted:
        values.update(_values(row, name))
        table = _CODE_TABLES.get(name)
        if table is not None:
            code = row["status" if name == ShareableField.STATUS else name]
            labels[name] = table.get(code, "")
    department = grant.department_id if grant is not None else (min(departments) if departments else None)
    access = services.access_record_add(
        actor=actor,
        kind=AccessKind.SHARED_READ,
        person_id=row["id"],
        id_number=number,
        region_path=row["region_path"],
        purpose=text,
        fields=["name", "id_number", *wanted],
        department_id=department,
        grant_id=grant.pk if grant is not None else None,
        action="sharing.person_read",
    )
    return SharedPerson(
        id_number=number,
        id_masked=row["id_masked"],
        name=row["name"],
        fields=values,
        labels=labels,
        grant_id=grant.pk if grant is not None else None,
        access_id=access.pk,
        read_at=access.at,
        corrected_from=corrected_from,
    )


# --- grants --------------------------------------------------------------------------------------


def grant_list_for(actor: Actor, *, active_only: bool = False) -> models.QuerySet[SharingGrant]:
    if not policies.can_view_grants(actor):
        raise Forbidden(_("您无权查看共享授权。"))
    grants = policies.scope_grants(actor, SharingGrant.objects.select_related("department"))
    if active_only:
        today = clock.today()
        grants = grants.filter(revoked_at__isnull=True, valid_from__lte=today, valid_until__gte=today)
    return grants


def grant_get_for(actor: Actor, grant_id: int) -> SharingGrant:
    return get_in_scope(
        policies.scope_grants(actor, SharingGrant.objects.select_related("department")), pk=grant_id
    )


def grants_usable_by(actor: Actor) -> list[SharingGrant]:
    """The active grants a reader may cite in a shared read (their departments' own)."""
    if not policies.can_read_shared(actor):
        return []
    today = clock.today()
    return list(
        SharingGrant.objects.filter(
            department_id__in=policies.reader_department_ids(actor),
            revoked_at__isnull=True,
            valid_from__lte=today,
            valid_until__gte=today,
        ).select_related("department")
    )


# --- access records ------------------------------------------------------------------------------


def access_records_of_person(actor: Actor, person_id: int) -> models.QuerySet[AccessRecord]:
    """Who read this person's record, newest first (for staff who may read the person)."""
    person = population_selectors.person_get_for(actor, person_id)
    return AccessRecord.objects.filter(person_id=person.pk).select_related("unit", "department", "grant")


def access_records_of_resident(actor: Actor) -> models.QuerySet[AccessRecord]:
    """Reads of the signed-in resident's own record, newest first (portal: 谁查询了我的信息).

    Matched by the blind index of the ID number the account was registered with (the same digest
    the access record keeps), so no clear number is needed. The clerk's own name is not part of
    what the page shows: the resident learns which organ read and why (the organ is answerable,
    个人信息保护法 Art. 44–45); the individual is in the record and audit trail for the auditor.
    """
    if not policies.can_see_own_reads(actor) or actor.user_id is None:
        return AccessRecord.objects.none()
    index = User.objects.filter(pk=actor.user_id).values_list("id_number_index", flat=True).first()
    if not index:
        return AccessRecord.objects.none()
    return AccessRecord.objects.filter(subject_index=index).select_related("unit", "department", "grant")


# --- person search and the person page -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PersonSearchPage:
    items: list[Person]
    page: int
    page_size: int
    has_next: bool
    by_id_number: bool
    #: The verified correction that replaced the number searched for (its person is the item).
    corrected: PersonChange | None = None


def _looks_like_id(q: str) -> bool:
    compact = idnumber.normalise(q)
    return len(compact) in (15, 18) and compact[:17].isdigit()


def person_search_for(actor: Actor, q: str, *, page: int = 1, page_size: int = 20) -> PersonSearchPage:
    """People the actor may read: an ID number finds exactly one (blind index), else names by prefix.

    Pages are fetched one row past the page (no COUNT over a district's people).
    """
    if not policies.can_search_people(actor):
        raise Forbidden(_("您无权检索人口基础信息库。"))
    q = (q or "").strip()
    page = max(1, page)
    page_size = max(1, min(page_size, 100))
    if not q:
        return PersonSearchPage([], page, page_size, False, False)
    if _looks_like_id(q):
        number = id_number_clean(q)
        try:
            person = population_selectors.person_find_by_id_number(actor, number)
        except NotFound:
            try:
                person, change = population_selectors.person_by_corrected_id_number(actor, number)
            except NotFound:
                return PersonSearchPage([], 1, page_size, False, True)
            return PersonSearchPage([person], 1, page_size, False, True, corrected=change)
        return PersonSearchPage([person], 1, page_size, False, True)
    name = " ".join(q.split())
    if len(name) > 60:
        raise ValidationFailed(_("姓名不能超过 60 个字符。"), details=[{"field": "q", "reason": "too_long"}])
    rows = list(
        population_selectors.people_for(actor)
        .filter(name__startswith=name)
        .select_related("building")
        .order_by("name", "id")[(page - 1) * page_size : page * page_size + 1]
    )
    return PersonSearchPage(rows[:page_size], page, page_size, len(rows) > page_size, False)


@dataclass(frozen=True, slots=True)
class Fact:
    label: str
    value: str


@dataclass(frozen=True, slots=True)
class PersonPage:
    person: Person
    facts: list[Fact]
    location: population_selectors.Location | None
    members: list[Person]
    versions: list[PersonVersion]
    reads: list[AccessRecord]


def _label(table: dict[str, str], code: str) -> str:
    return table.get(code, code)


def _place(names: dict[str, str], code: str) -> str:
    """A place code named: by this city's divisions, else (elsewhere in China) by GB/T 2260."""
    name = names.get(code) or (idnumber.address_name(code) if len(code) == 6 else "")
    return f"{name}（{code}）" if name else code


def _facts(person: Person) -> list[Fact]:
    household = person.household
    # A birthplace outside this city is not a region here: GB/T 2260 names it.
    names = orgs_selectors.region_names((person.birthplace_code, person.registered_code))
    residence = ""
    if person.building is not None:
        residence = person.building.address
        if household is not None:
            residence += f" {household.unit_number}单元" if household.unit_number else ""
            residence += f"{household.room_number}室" if household.room_number else ""
    return [
        Fact(str(ShareableField.SEX.label), _label(codes.SEX, person.sex)),
        Fact(str(ShareableField.ETHNICITY.label), _label(codes.ETHNICITY, person.ethnicity)),
        Fact(str(ShareableField.BIRTH_DATE.label), person.birth_date.isoformat()),
        Fact(str(ShareableField.BIRTHPLACE.label), _place(names, person.birthplace_code)),
        Fact(str(ShareableField.MARITAL_STATUS.label), _label(codes.MARITAL_STATUS, person.marital_status)),
        Fact(str(ShareableField.REGISTERED_CODE.label), _place(names, person.registered_code)),
        Fact(str(ShareableField.REGISTERED_ADDRESS.label), person.registered_address),
        Fact(str(ShareableField.REGISTERED_LOCALLY.label), _("是") if person.registered_locally else _("否")),
        Fact(str(ShareableField.RESIDENCE.label), residence),
        Fact(str(ShareableField.HOUSEHOLD.label), person.household_id or ""),
        Fact(str(ShareableField.RELATION.label), _label(codes.RELATION, person.relation)),
        Fact(
            str(ShareableField.STATUS.label),
            _label(codes.STATUS, person.status) + (f" {person.status_date}" if person.status_date else ""),
        ),
    ]


def person_page_for(actor: Actor, person_id: int, *, reads: int = 50) -> PersonPage:
    """Everything the person page shows, each part read through its scoped selector."""
    person = population_selectors.person_get_for(actor, person_id)
    try:
        location: population_selectors.Location | None = population_selectors.person_location(
            actor, person_id
        )
    except NotFound:
        location = None
    return PersonPage(
        person=person,
        facts=_facts(person),
        location=location,
        members=population_selectors.household_members(actor, person_id),
        versions=list(population_selectors.person_versions(actor, person_id)),
        reads=list(access_records_of_person(actor, person_id)[:reads]),
    )
