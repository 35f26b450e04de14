"""Writes to the catalogue. Only the system administrator (or the platform itself) edits it.

Descriptive fields change with :func:`matter_update`; the flow, the materials and the terms a case
depends on (kind, levels, limits, fee) change only by publishing a new version with
:func:`flow_version_publish`, which leaves every earlier version untouched.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext_lazy as _

from sanji.audit.services import record
from sanji.catalog import flows, policies
from sanji.catalog.flows import MaterialSpec, MatterTerms, Problem, StepSpec
from sanji.catalog.models import FlowStep, FlowVersion, Material, Matter, MatterLevel, MatterType
from sanji.catalog.selectors import terms_from
from sanji.core import clock
from sanji.core.actors import Actor
from sanji.core.authz import require
from sanji.core.errors import Conflict, ValidationFailed


@dataclass(frozen=True, slots=True)
class MatterDetails:
    """The descriptive fields of a matter, including its service guide (办事指南)."""

    name: str
    matter_type: str
    legal_basis: str
    online: bool = False
    conditions: str = ""
    procedure: str = ""
    contact: str = ""


def _validate_details(details: MatterDetails) -> list[Problem]:
    problems: list[Problem] = []
    if not details.name.strip():
        problems.append(Problem("matter_without_name", "name", _("事项名称不能为空。")))
    if details.matter_type not in MatterType.values:
        problems.append(Problem("bad_matter_type", "matter_type", _("事项类型无效。")))
    if not details.legal_basis.strip():
        problems.append(Problem("no_legal_basis", "legal_basis", _("必须写明设定依据。")))
    return problems


def _refuse_if(problems: list[Problem]) -> None:
    if problems:
        raise ValidationFailed(
            "; ".join(str(p.message) for p in problems), details=[p.as_dict() for p in problems]
        )


def _require_editor(actor: Actor) -> None:
    require(policies.can_edit(actor), str(_("只有系统管理员可以维护事项目录。")))


def _apply_terms(matter: Matter, terms: MatterTerms) -> None:
    matter.kind = terms.kind
    matter.department_kind = terms.department_kind
    matter.accepting_levels = list(terms.accepting_levels)
    matter.deciding_level = terms.deciding_level
    matter.legal_limit_days = terms.legal_limit_days
    matter.promised_limit_days = terms.promised_limit_days
    matter.fee_amount = terms.fee_amount
    matter.fee_basis = terms.fee_basis


def _apply_details(matter: Matter, details: MatterDetails) -> None:
    matter.name = details.name.strip()
    matter.matter_type = details.matter_type
    matter.legal_basis = details.legal_basis.strip()
    matter.online = details.online
    matter.conditions = details.conditions.strip()
    matter.procedure = details.procedure.strip()
    matter.contact = details.contact.strip()


def _write_levels(matter: Matter) -> None:
    MatterLevel.objects.filter(matter=matter).delete()
    MatterLevel.objects.bulk_create(MatterLevel(matter=matter, level=lv) for lv in matter.accepting_levels)


@transaction.atomic
def matter_create(*, actor: Actor, code: str, details: MatterDetails, terms: MatterTerms) -> Matter:
    """Add a matter to the catalogue. It is listed publicly once its first flow version is published."""
    _require_editor(actor)
    code = code.strip()
    _refuse_if(flows.validate_code(code) + _validate_details(details) + flows.validate_terms(terms))
    if Matter.objects.filter(code=code).exists():
        raise Conflict(str(_("事项编码已存在。")), details=[{"code": "duplicate_code", "where": "code"}])
    now = clock.now()
    matter = Matter(code=code, active=True, created_at=now, updated_at=now)
    _apply_details(matter, details)
    _apply_terms(matter, terms)
    matter.save()
    _write_levels(matter)
    record(actor=actor, action="catalog.matter_created", target=matter, data={"code": code})
    return matter


@transaction.atomic
def matter_update(*, actor: Actor, matter: Matter, details: MatterDetails) -> Matter:
    """Change the descriptive fields (name, type, legal basis, guide, online). Terms need a new version."""
    _require_editor(actor)
    _refuse_if(_validate_details(details))
    locked = Matter.objects.select_for_update().get(pk=matter.pk)
    before = {f: getattr(locked, f) for f in ("name", "matter_type", "legal_basis", "online")}
    _apply_details(locked, details)
    locked.updated_at = clock.now()
    locked.save()
    changed = sorted(f for f, old in before.items() if getattr(locked, f) != old)
    record(actor=actor, action="catalog.matter_updated", target=locked, data={"changed": changed})
    return locked


@transaction.atomic
def flow_version_publish(
    *,
    actor: Actor,
    matter: Matter,
    steps: Sequence[StepSpec],
    materials: Sequence[MaterialSpec],
    terms: MatterTerms | None = None,
    note: str = "",
) -> FlowVersion:
    """Publish a new flow version (steps, materials, terms) and make it the matter's current one.

    ``terms`` None keeps the matter's current terms. Validated as a whole with
    :func:`sanji.catalog.flows.validate_version`; nothing is written unless everything is valid.
    Earlier versions, their steps and materials are left exactly as they were.
    """
    _require_editor(actor)
    # The row lock serialises concurrent publishes, so version numbers never collide.
    locked = Matter.objects.select_for_update().get(pk=matter.pk)
    new_terms = terms if terms is not None else terms_from(locked)
    ordered = sorted(steps, key=lambda s: s.order)
    _refuse_if(flows.validate_version(new_terms, ordered, materials))

    now = clock.now()
    last = FlowVersion.objects.filter(matter=locked).aggregate(n=Max("number"))["n"] or 0
    version = FlowVersion(
        matter=locked,
        number=last + 1,
        published=True,
        created_at=now,
        created_by=actor.username,
        created_by_id=actor.user_id,
        note=note.strip()[:200],
        kind=new_terms.kind,
        department_kind=new_terms.department_kind,
        accepting_levels=list(new_terms.accepting_levels),
        deciding_level=new_terms.deciding_level,
        legal_limit_days=new_terms.legal_limit_days,
        promised_limit_days=new_terms.promised_limit_days,
        fee_amount=new_terms.fee_amount,
        fee_basis=new_terms.fee_basis,
    )
    version.save()
    FlowStep.objects.bulk_create(
        FlowStep(
            flow_version=version,
            order=s.order,
            code=s.code,
            name=s.name.strip(),
            level=s.level,
            role=s.role,
            department_kind=s.department_kind or None,
            limit_days=s.limit_days,
            parallel_group=s.parallel_group,
            report_up=s.report_up,
        )
        for s in ordered
    )
    Material.objects.bulk_create(
        Material(
            flow_version=version,
            order=i,
            name=m.name.strip(),
            form=m.form,
            count=m.count,
            required=m.required,
            blank_form_name=m.blank_form_name.strip(),
            blank_form_template=m.blank_form_template,
            notes=m.notes.strip(),
        )
        for i, m in enumerate(materials, start=1)
    )
    terms_changed = terms_from(locked) != new_terms
    _apply_terms(locked, new_terms)
    locked.current_version = version
    locked.updated_at = now
    locked.save()
    if terms_changed:
        _write_levels(locked)
    record(
        actor=actor,
        action="catalog.flow_published",
        target=version,
        data={
            "matter": locked.code,
            "number": version.number,
            "steps": len(ordered),
            "materials": len(materials),
            "terms_changed": terms_changed,
        },
    )
    matter.refresh_from_db()
    return version


@transaction.atomic
def matter_deactivate(*, actor: Actor, matter: Matter) -> Matter:
    """Withdraw a matter from the catalogue: no new cases; existing cases keep their version."""
    _require_editor(actor)
    locked = Matter.objects.select_for_update().get(pk=matter.pk)
    if not locked.active:
        return locked
    locked.active = False
    locked.updated_at = clock.now()
    locked.save(update_fields=["active", "updated_at"])
    record(actor=actor, action="catalog.matter_deactivated", target=locked, data={"code": locked.code})
    return locked


@transaction.atomic
def matter_activate(*, actor: Actor, matter: Matter) -> Matter:
    """Put a matter (back) into the catalogue; it needs a published flow version first."""
    _require_editor(actor)
    locked = Matter.objects.select_for_update().get(pk=matter.pk)
    if locked.current_version_id is None:
        raise ValidationFailed(
            str(_("请先发布办理流程。")), details=[{"code": "no_version", "where": "current_version"}]
        )
    if locked.active:
        return locked
    locked.active = True
    locked.updated_at = clock.now()
    locked.save(update_fields=["active", "updated_at"])
    record(actor=actor, action="catalog.matter_activated", target=locked, data={"code": locked.code})
    return locked


@transaction.atomic
def catalog_seed(*, actor: Actor) -> int:
    """Create the seed matters of :mod:`sanji.catalog.seed_matters` that do not exist yet.

    Idempotent: matters already present (by code) are left alone, even if edited since.
    Answers how many matters were created.
    """
    from sanji.catalog.seed_matters import SEED_MATTERS

    _require_editor(actor)
    existing = set(
        Matter.objects.filter(code__in=[s.code for s in SEED_MATTERS]).values_list("code", flat=True)
    )
    created = 0
    for seed in SEED_MATTERS:
        if seed.code in existing:
            continue
        matter = matter_create(actor=actor, code=seed.code, details=seed.details, terms=seed.terms)
        flow_version_publish(
            actor=actor, matter=matter, steps=seed.steps, materials=seed.materials, note="初始版本"
        )
        created += 1
    if created:
        record(actor=actor, action="catalog.seeded", data={"created": created, "total": len(SEED_MATTERS)})
    return created
