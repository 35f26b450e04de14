"""Reads of the catalogue. Public reads take the actor only to widen the view for editors.

Listed matters (active, with a published flow) are public; editors also see inactive and
unpublished ones. Published flow versions are public, also old ones: a case shows the flow it
started with.
"""

from __future__ import annotations

from itertools import groupby

from django.db.models import Count, Prefetch, Q, QuerySet

from sanji.catalog import policies
from sanji.catalog.flows import MaterialSpec, MatterTerms, StepSpec
from sanji.catalog.models import FlowStep, FlowVersion, Material, Matter
from sanji.core.actors import ANONYMOUS, Actor
from sanji.core.authz import get_in_scope

_STEP_ORDER = ("order", "parallel_group", "department_kind", "id")


def _steps_prefetch(lookup: str) -> Prefetch[str, QuerySet[FlowStep], str]:
    return Prefetch(lookup, queryset=FlowStep.objects.order_by(*_STEP_ORDER))


def matter_list(
    *,
    actor: Actor = ANONYMOUS,
    q: str | None = None,
    department_kind: str | None = None,
    level: str | None = None,
    matter_type: str | None = None,
    kind: str | None = None,
    active_only: bool = True,
) -> QuerySet[Matter]:
    """The catalogue, filtered: ``q`` searches name and code; ``level`` = accepted at that level.

    ``active_only=False`` shows inactive and unpublished matters too — to editors only.
    One query (the current version is joined).
    """
    qs = policies.scope(actor, Matter.objects.select_related("current_version"))
    if active_only:
        qs = qs.filter(active=True, current_version__isnull=False)
    if q and q.strip():
        term = q.strip()
        qs = qs.filter(Q(name__icontains=term) | Q(code__icontains=term))
    if department_kind:
        qs = qs.filter(department_kind=department_kind)
    if level:
        qs = qs.filter(level_rows__level=level)
    if matter_type:
        qs = qs.filter(matter_type=matter_type)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("code")


def matter_get(code: str, *, actor: Actor = ANONYMOUS) -> Matter:
    """One matter with its current version's steps and materials prefetched (the service guide).

    Raises NotFound for unknown codes and for unlisted matters the actor may not see.
    """
    qs = policies.scope(actor, Matter.objects.select_related("current_version")).prefetch_related(
        _steps_prefetch("current_version__steps"), "current_version__materials"
    )
    return get_in_scope(qs, code=code)


def flow_version_get(version_id: int, *, actor: Actor = ANONYMOUS) -> FlowVersion:
    """One flow version with its matter, ordered steps and materials."""
    qs = policies.scope_versions(actor, FlowVersion.objects.select_related("matter")).prefetch_related(
        _steps_prefetch("steps"), "materials"
    )
    return get_in_scope(qs, pk=version_id)


def flow_version_of(matter: Matter, number: int, *, actor: Actor = ANONYMOUS) -> FlowVersion:
    """Version ``number`` of ``matter`` (steps and materials prefetched)."""
    qs = policies.scope_versions(actor, FlowVersion.objects.select_related("matter")).prefetch_related(
        _steps_prefetch("steps"), "materials"
    )
    return get_in_scope(qs, matter=matter, number=number)


def versions_for(matter: Matter, *, actor: Actor = ANONYMOUS) -> QuerySet[FlowVersion]:
    """The version history of a matter, newest first, with step and material counts."""
    qs = policies.scope_versions(actor, FlowVersion.objects.filter(matter=matter))
    return qs.annotate(
        step_count=Count("steps", distinct=True), material_count=Count("materials", distinct=True)
    ).order_by("-number")


def terms_from(obj: Matter | FlowVersion) -> MatterTerms:
    """The terms held by a matter (its current terms) or by a version (its snapshot)."""
    return MatterTerms(
        kind=obj.kind,
        department_kind=obj.department_kind,
        accepting_levels=tuple(obj.accepting_levels),
        deciding_level=obj.deciding_level,
        legal_limit_days=obj.legal_limit_days,
        promised_limit_days=obj.promised_limit_days,
        fee_amount=obj.fee_amount,
        fee_basis=obj.fee_basis,
    )


def steps_for(flow_version: FlowVersion) -> list[FlowStep]:
    """The steps in flow order (parallel steps of one stage side by side); uses a prefetch if present."""
    steps = list(flow_version.steps.all())
    steps.sort(key=lambda s: (s.order, s.parallel_group or 0, s.department_kind or "", s.pk))
    return steps


def stages_for(flow_version: FlowVersion) -> list[list[FlowStep]]:
    """Steps grouped by ``order``: one list per stage; a list of several is a parallel fan-out."""
    return [list(group) for _order, group in groupby(steps_for(flow_version), key=lambda s: s.order)]


def materials_for(flow_version: FlowVersion) -> list[Material]:
    return sorted(flow_version.materials.all(), key=lambda m: (m.order, m.pk))


def specs_from(flow_version: FlowVersion) -> tuple[list[StepSpec], list[MaterialSpec]]:
    """A version's steps and materials as specs, e.g. to start editing the next version from it."""
    steps = [
        StepSpec(
            order=s.order,
            code=s.code,
            name=s.name,
            level=s.level,
            role=s.role,
            limit_days=s.limit_days,
            department_kind=s.department_kind,
            parallel_group=s.parallel_group,
            report_up=s.report_up,
        )
        for s in steps_for(flow_version)
    ]
    materials = [
        MaterialSpec(
            name=m.name,
            form=m.form,
            count=m.count,
            required=m.required,
            blank_form_name=m.blank_form_name,
            blank_form_template=m.blank_form_template,
            notes=m.notes,
        )
        for m in materials_for(flow_version)
    ]
    return steps, materials


def blank_form_get(code: str, material_id: int, *, actor: Actor = ANONYMOUS) -> Material:
    """A material with a blank form, of a version of a visible matter."""
    matter = matter_get(code, actor=actor)
    qs = Material.objects.filter(flow_version__matter=matter).exclude(blank_form_template="")
    return get_in_scope(qs, pk=material_id)
