"""Writes of the sharing app: grants, the access log, unmasking an ID number.

Every function is keyword-only, atomic, checks policy and records audit in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from sanji.accounts.services import APPLICANT_INDEX_PURPOSE
from sanji.audit.services import record, record_in
from sanji.core import clock, crypto, prepared
from sanji.core.actors import Actor
from sanji.core.authz import get_in_scope, require
from sanji.core.errors import Conflict, NotFound, ValidationFailed
from sanji.orgs.models import Department
from sanji.population import selectors as population_selectors
from sanji.sharing import policies
from sanji.sharing.models import AccessChannel, AccessKind, AccessRecord, ShareableField, SharingGrant

PURPOSE_MAX = 200
LEGAL_BASIS_MAX = 300
#: The longest a grant may run; a longer need is a new grant after review.
GRANT_MAX_DAYS = 3 * 366


def purpose_clean(purpose: str) -> str:
    """A stated purpose: required, one line, at most :data:`PURPOSE_MAX` characters."""
    text = " ".join((purpose or "").split())
    if not text:
        raise ValidationFailed(
            _("请说明本次查询的用途。"), details=[{"field": "purpose", "reason": "required"}]
        )
    if len(text) > PURPOSE_MAX:
        raise ValidationFailed(
            _("用途不能超过 %(n)d 个字符。") % {"n": PURPOSE_MAX},
            details=[{"field": "purpose", "reason": "too_long"}],
        )
    return text


def subject_index(id_number: str) -> str:
    """The resident's blind index as ``accounts.User.id_number_index`` computes it (portal look-up)."""
    return crypto.blind_index(id_number, purpose=APPLICANT_INDEX_PURPOSE)


def _channel(actor: Actor) -> str:
    if actor.channel == "api":
        return AccessChannel.API
    if actor.channel == "web":
        return AccessChannel.PAGE
    return AccessChannel.OTHER


def access_record_add(
    *,
    actor: Actor,
    kind: str,
    person_id: int,
    id_number: str,
    region_path: str,
    purpose: str,
    fields: Sequence[str],
    department_id: int | None,
    grant_id: int | None = None,
    action: str,
) -> AccessRecord:
    """Append one access record and its audit entry, in one transaction (the caller's, if any).

    The audit entry targets the access record, not the person: the trail says who read which
    record for what, without copying the person's name or number into it.
    """
    values = {
        "at": clock.now(),
        "kind": kind,
        "user_id": actor.user_id,
        "username": actor.username,
        "unit_id": actor.unit_id,
        "department_id": department_id,
        "terminal": actor.terminal_code[:40],
        "channel": _channel(actor),
        "person_id": person_id,
        "subject_index": subject_index(id_number),
        "purpose": purpose,
        "grant_id": grant_id,
        "fields": list(fields),
    }
    # The record and its entry as one chain (the row is append-only and AccessRecord has no save
    # logic): on PostgreSQL one statement, which outside a transaction commits by itself, so the
    # audit chain's head is locked only while the database writes and commits, with no round trip
    # back to this process in between.
    chain = prepared.Chain()
    access = chain.start(AccessRecord(**values))
    record_in(
        chain,
        actor=actor,
        action=action,
        target=access,
        target_label=f"person {person_id}",
        region_path=region_path,
        purpose=purpose,
        data={"kind": kind, "fields": values["fields"], "grant": grant_id},
    )
    chain.run()
    return access


# --- grants --------------------------------------------------------------------------------------


def _fields_clean(fields: Sequence[str]) -> list[str]:
    cleaned: list[str] = []
    unknown = []
    for name in fields:
        name = name.strip()
        if name in ShareableField.values:
            if name not in cleaned:
                cleaned.append(name)
        else:
            unknown.append(name)
    if unknown:
        raise ValidationFailed(
            _("以下项目不可共享：%(fields)s。") % {"fields": pgettext("list separator", "、").join(unknown)},
            details=[{"field": "fields", "reason": "unknown", "values": unknown}],
        )
    if not cleaned:
        raise ValidationFailed(
            _("请至少选择一个共享项目（姓名和身份证号码无须授权）。"),
            details=[{"field": "fields", "reason": "required"}],
        )
    order = list(ShareableField.values)
    return sorted(cleaned, key=order.index)


def grant_create(
    *,
    actor: Actor,
    department_id: int,
    fields: Sequence[str],
    purpose: str,
    legal_basis: str,
    valid_from: dt.date,
    valid_until: dt.date,
) -> SharingGrant:
    """Grant a department the reading of ``fields`` for ``purpose`` from ``valid_from`` to ``valid_until``."""
    require(policies.can_manage_grants(actor), _("只有系统管理员可以发放共享授权。"))
    department = Department.objects.filter(pk=department_id).first()
    if department is None or not policies.can_manage_grant_in(actor, department.region_path):
        raise NotFound(_("没有这个部门。"))
    cleaned = _fields_clean(fields)
    purpose_text = " ".join((purpose or "").split())
    basis = " ".join((legal_basis or "").split())
    problems: list[dict[str, str]] = []
    said: list[str] = []

    def problem(field: str, reason: str, text: str) -> None:
        problems.append({"field": field, "reason": reason})
        said.append(text)

    if not purpose_text:
        problem("purpose", "required", _("请写明用途"))
    elif len(purpose_text) > PURPOSE_MAX:
        problem("purpose", "too_long", _("用途不能超过 %(n)d 个字符") % {"n": PURPOSE_MAX})
    if not basis:
        problem("legal_basis", "required", _("请写明法律依据"))
    elif len(basis) > LEGAL_BASIS_MAX:
        problem("legal_basis", "too_long", _("法律依据不能超过 %(n)d 个字符") % {"n": LEGAL_BASIS_MAX})
    if valid_until < valid_from:
        problem("valid_until", "before_valid_from", _("有效期截止日早于起始日"))
    elif valid_until < clock.today():
        problem("valid_until", "in_the_past", _("有效期截止日已过"))
    elif (valid_until - valid_from).days > GRANT_MAX_DAYS:
        problem("valid_until", "too_long", _("有效期不能超过 %(n)d 天") % {"n": GRANT_MAX_DAYS})
    if problems:
        raise ValidationFailed(
            _("授权不完整或前后矛盾：%(problems)s。")
            % {"problems": pgettext("clause separator", "；").join(said)},
            details=problems,
        )
    with transaction.atomic():
        grant = SharingGrant.objects.create(
            department=department,
            region_path=department.region_path,
            fields=cleaned,
            purpose=purpose_text,
            legal_basis=basis,
            valid_from=valid_from,
            valid_until=valid_until,
            granted_by_id=actor.user_id,
            granted_by_username=actor.username,
            granted_at=clock.now(),
        )
        record(
            actor=actor,
            action="sharing.grant_created",
            target=grant,
            region_path=department.region_path,
            purpose=purpose_text,
            data={
                "department": department.code,
                "fields": cleaned,
                "legal_basis": basis,
                "valid_from": valid_from.isoformat(),
                "valid_until": valid_until.isoformat(),
            },
        )
    return grant


def grant_revoke(*, actor: Actor, grant_id: int, reason: str) -> SharingGrant:
    """Revoke a grant at once; reads under it are refused from now on. Revoking twice is a conflict."""
    require(policies.can_manage_grants(actor), _("只有系统管理员可以撤销共享授权。"))
    text = " ".join((reason or "").split())
    if not text:
        raise ValidationFailed(_("请说明撤销理由。"), details=[{"field": "reason", "reason": "required"}])
    with transaction.atomic():
        grant = get_in_scope(
            policies.scope_grants(actor, SharingGrant.objects.select_for_update()), pk=grant_id
        )
        if grant.revoked_at is not None:
            raise Conflict(_("此授权已撤销。"))
        grant.revoked_at = clock.now()
        grant.revoked_by_username = actor.username
        grant.revoke_reason = text[:300]
        grant.save(update_fields=["revoked_at", "revoked_by_username", "revoke_reason"])
        record(
            actor=actor,
            action="sharing.grant_revoked",
            target=grant,
            region_path=grant.region_path,
            data={"reason": grant.revoke_reason},
        )
    return grant


# --- unmasking an ID number ------------------------------------------------------------------------


def person_id_unmask(*, actor: Actor, person_id: int, purpose: str) -> str:
    """The clear ID number of a person the actor may read, for a stated purpose (audited, logged).

    Pages and lists show ``150102********1237``; the full number is shown only through this call,
    which leaves an access record the resident sees and the audit entry ``population.id_unmasked``.
    """
    person = population_selectors.person_get_for(actor, person_id)  # NotFound outside scope
    require(policies.can_unmask(actor))
    text = purpose_clean(purpose)
    number = population_selectors.person_id_number(actor, person)
    access_record_add(
        actor=actor,
        kind=AccessKind.ID_UNMASKED,
        person_id=person.pk,
        id_number=number,
        region_path=person.region_path,
        purpose=text,
        fields=["id_number"],
        department_id=_department_of(actor),
        action="population.id_unmasked",
    )
    return number


def change_id_unmask(*, actor: Actor, change_id: int) -> population_selectors.ChangeIdNumbers:
    """The clear ID numbers before and after a correction of the number (信息更正), for the police
    verifier deciding it: masked, the digits that change (the birth date, the sequence) cannot be
    checked against the household register and the documents.

    The same disclosure as :func:`person_id_unmask`: an access record for each number shown (the
    resident sees it under whichever number their account carries) and the audit entry
    ``population.id_unmasked``; the purpose names the change. ``NotFound`` outside reach,
    ``Forbidden`` for anyone but a verifier who may decide it while it waits.
    """
    numbers = population_selectors.change_id_numbers_for(actor, change_id)
    require(policies.can_unmask(actor))
    change = numbers.change
    # Stored data the resident reads (like a typed purpose), not interface text: in Chinese.
    purpose = f"人口变动核查：第 {change.pk} 号信息更正（公民身份号码更正前后核对）"
    with transaction.atomic():
        for number in dict.fromkeys((numbers.before, numbers.after)):
            access_record_add(
                actor=actor,
                kind=AccessKind.ID_UNMASKED,
                person_id=change.person_id or 0,
                id_number=number,
                region_path=change.region_path,
                purpose=purpose,
                fields=["id_number"],
                department_id=_department_of(actor),
                action="population.id_unmasked",
            )
    return numbers


def _department_of(actor: Actor) -> int | None:
    """The department the actor acts for: their current unit's grant's department, else any."""
    for g in actor.grants:
        if g.unit_id == actor.unit_id and g.department_id is not None:
            return g.department_id
    return next((g.department_id for g in actor.grants if g.department_id is not None), None)
