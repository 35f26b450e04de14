"""Catalogue services against the real database: policy, validation, versioning, audit, seed."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from sanji.audit.models import Entry
from sanji.catalog import flows, selectors, services
from sanji.catalog.flows import MaterialSpec, StepSpec
from sanji.catalog.models import (
    FlowStep,
    FlowVersion,
    Material,
    Matter,
    MatterKind,
    MatterLevel,
    MatterType,
    StepCode,
)
from sanji.catalog.seed_matters import SEED_MATTERS, THREE_LEVEL_MATTER_CODE
from sanji.catalog.tests.conftest import current, simple_materials, simple_steps, simple_terms
from sanji.core.actors import Actor, system_actor
from sanji.core.errors import Conflict, Forbidden, ValidationFailed
from sanji.core.roles import Role
from sanji.orgs.models import RegionLevel

DETAILS = services.MatterDetails(
    name="食品小作坊登记", matter_type=MatterType.LICENSING, legal_basis="《食品安全法》第三十六条"
)


def _rows(version: FlowVersion) -> tuple[list[Any], list[Any], Any]:
    """Everything stored about a version, to prove it did not change."""
    steps = list(FlowStep.objects.filter(flow_version=version).order_by("id").values_list())
    materials = list(Material.objects.filter(flow_version=version).order_by("id").values_list())
    head = FlowVersion.objects.filter(pk=version.pk).values_list().get()
    return steps, materials, head


class TestMatterCreate:
    def test_admin_creates_an_unlisted_matter(self, admin: Actor) -> None:
        matter = services.matter_create(actor=admin, code="SJ-0100", details=DETAILS, terms=simple_terms())
        assert matter.active
        assert matter.current_version is None
        assert not matter.is_listed
        assert list(MatterLevel.objects.filter(matter=matter).values_list("level", flat=True)) == ["district"]
        entry = Entry.objects.get(action="catalog.matter_created")
        assert entry.target_id == str(matter.pk)
        assert entry.actor_username == "sysadmin"

    def test_clerk_is_refused(self, clerk: Actor) -> None:
        with pytest.raises(Forbidden):
            services.matter_create(actor=clerk, code="SJ-0100", details=DETAILS, terms=simple_terms())
        assert not Matter.objects.exists()

    @pytest.mark.parametrize(
        ("code", "details", "terms", "problem"),
        [
            ("sj-1", DETAILS, simple_terms(), "bad_code"),
            ("SJ-0100", replace(DETAILS, legal_basis=" "), simple_terms(), "no_legal_basis"),
            ("SJ-0100", replace(DETAILS, matter_type="tax"), simple_terms(), "bad_matter_type"),
            ("SJ-0100", DETAILS, simple_terms(promised_limit_days=30), "promised_over_legal"),
            ("SJ-0100", DETAILS, simple_terms(fee_amount=Decimal("5")), "fee_without_basis"),
        ],
    )
    def test_invalid_input_is_refused_with_details(self, admin: Actor, code, details, terms, problem) -> None:
        with pytest.raises(ValidationFailed) as err:
            services.matter_create(actor=admin, code=code, details=details, terms=terms)
        assert problem in {d["code"] for d in err.value.details}
        assert not Matter.objects.exists()

    def test_duplicate_code_conflicts(self, admin: Actor, matter: Matter) -> None:
        with pytest.raises(Conflict):
            services.matter_create(actor=admin, code=matter.code, details=DETAILS, terms=simple_terms())


class TestPublish:
    def test_first_version_becomes_current_and_lists_the_matter(
        self, matter: Matter, v1: FlowVersion
    ) -> None:
        assert v1.number == 1
        assert v1.published
        assert matter.is_listed
        assert [s.code for s in selectors.steps_for(v1)] == ["accept", "review", "decide", "deliver"]
        assert [m.order for m in selectors.materials_for(v1)] == [1, 2]
        assert selectors.terms_from(v1) == selectors.terms_from(matter) == simple_terms()
        assert Entry.objects.filter(action="catalog.flow_published", target_id=str(v1.pk)).exists()

    def test_v2_leaves_v1_and_its_rows_untouched(self, admin: Actor, matter: Matter, v1: FlowVersion) -> None:
        before = _rows(v1)
        new_terms = simple_terms(
            legal_limit_days=15,
            promised_limit_days=5,
            accepting_levels=("district", "township"),
            fee_amount=Decimal("20"),
            fee_basis="《某收费文件》",
        )
        new_steps = [
            StepSpec(1, StepCode.RECEIVE, "所收件", "township", Role.WINDOW_CLERK, 0, report_up=True),
            *[replace(s, order=s.order + 1) for s in simple_steps(review_days=2)],
        ]
        v2 = services.flow_version_publish(
            actor=admin,
            matter=matter,
            steps=new_steps,
            materials=[MaterialSpec("新申请书")],
            terms=new_terms,
            note="增加乡镇收件",
        )
        assert (v2.number, v2.note) == (2, "增加乡镇收件")
        assert _rows(v1) == before
        matter.refresh_from_db()
        assert matter.current_version == v2
        assert (matter.legal_limit_days, matter.fee_amount, matter.accepting_levels) == (
            15,
            Decimal("20"),
            ["district", "township"],
        )
        assert set(MatterLevel.objects.filter(matter=matter).values_list("level", flat=True)) == {
            "district",
            "township",
        }
        # The old version still answers with its own terms, steps and materials.
        old = selectors.flow_version_get(v1.pk)
        assert old.legal_limit_days == 20
        assert old.fee_amount == 0
        assert [s.name for s in selectors.steps_for(old)] == ["窗口受理", "审查", "决定", "送达"]
        assert [m.name for m in selectors.materials_for(old)] == ["申请书", "营业执照"]

    def test_terms_default_to_the_current_ones(self, admin: Actor, matter: Matter) -> None:
        v2 = services.flow_version_publish(
            actor=admin, matter=matter, steps=simple_steps(5), materials=simple_materials()
        )
        assert selectors.terms_from(v2) == simple_terms()

    def test_invalid_version_writes_nothing(self, admin: Actor, matter: Matter, v1: FlowVersion) -> None:
        counts = (
            FlowVersion.objects.count(),
            FlowStep.objects.count(),
            Material.objects.count(),
            Entry.objects.count(),
        )
        too_slow = simple_steps(review_days=30)
        with pytest.raises(ValidationFailed) as err:
            services.flow_version_publish(actor=admin, matter=matter, steps=too_slow, materials=[])
        assert {d["code"] for d in err.value.details} == {"limits_over_legal", "no_materials"}
        assert counts == (
            FlowVersion.objects.count(),
            FlowStep.objects.count(),
            Material.objects.count(),
            Entry.objects.count(),
        )
        matter.refresh_from_db()
        assert matter.current_version == v1

    def test_new_terms_are_checked_against_the_flow(
        self, admin: Actor, matter: Matter, v1: FlowVersion
    ) -> None:
        with pytest.raises(ValidationFailed) as err:
            services.flow_version_publish(
                actor=admin,
                matter=matter,
                steps=simple_steps(),
                materials=simple_materials(),
                terms=simple_terms(kind=MatterKind.IMMEDIATE, promised_limit_days=0),
            )
        assert "immediate_step_limit" in {d["code"] for d in err.value.details}
        matter.refresh_from_db()
        assert matter.kind == MatterKind.PROMISED
        assert matter.current_version == v1

    def test_steps_are_sorted_by_order(self, admin: Actor, matter: Matter) -> None:
        v2 = services.flow_version_publish(
            actor=admin, matter=matter, steps=list(reversed(simple_steps())), materials=simple_materials()
        )
        assert [s.order for s in selectors.steps_for(v2)] == [1, 2, 3, 4]

    def test_clerk_is_refused(self, clerk: Actor, matter: Matter) -> None:
        with pytest.raises(Forbidden):
            services.flow_version_publish(
                actor=clerk, matter=matter, steps=simple_steps(), materials=simple_materials()
            )
        assert FlowVersion.objects.count() == 1


class TestUpdateAndActivation:
    def test_update_changes_details_only(self, admin: Actor, matter: Matter, v1: FlowVersion) -> None:
        updated = services.matter_update(
            actor=admin, matter=matter, details=replace(DETAILS, name="测试许可（更名）", online=True)
        )
        assert (updated.name, updated.online, updated.current_version) == ("测试许可（更名）", True, v1)
        assert Entry.objects.get(action="catalog.matter_updated").data == {
            "changed": ["legal_basis", "name", "online"]
        }

    def test_update_refused_for_clerk(self, clerk: Actor, matter: Matter) -> None:
        with pytest.raises(Forbidden):
            services.matter_update(actor=clerk, matter=matter, details=DETAILS)

    def test_deactivate_unlists_and_activate_relists(self, admin: Actor, matter: Matter) -> None:
        services.matter_deactivate(actor=admin, matter=matter)
        assert not selectors.matter_list().exists()
        services.matter_deactivate(actor=admin, matter=matter)  # idempotent, audited once
        services.matter_activate(actor=admin, matter=matter)
        assert list(selectors.matter_list()) == [matter]
        actions = list(
            Entry.objects.filter(action__startswith="catalog.matter_").values_list("action", flat=True)
        )
        assert actions.count("catalog.matter_deactivated") == 1
        assert actions[-1] == "catalog.matter_activated"

    def test_activate_needs_a_version(self, admin: Actor) -> None:
        matter = services.matter_create(actor=admin, code="SJ-0100", details=DETAILS, terms=simple_terms())
        services.matter_deactivate(actor=admin, matter=matter)
        with pytest.raises(ValidationFailed):
            services.matter_activate(actor=admin, matter=matter)

    def test_deactivate_refused_for_clerk(self, clerk: Actor, matter: Matter) -> None:
        with pytest.raises(Forbidden):
            services.matter_deactivate(actor=clerk, matter=matter)
        matter.refresh_from_db()
        assert matter.active


class TestSeed:
    def test_seed_is_idempotent_and_complete(self, db: None) -> None:
        actor = system_actor("seed")
        created = services.catalog_seed(actor=actor)
        assert created == len(SEED_MATTERS) >= 30
        assert services.catalog_seed(actor=actor) == 0
        assert Matter.objects.count() == len(SEED_MATTERS)
        assert FlowVersion.objects.count() == len(SEED_MATTERS)
        assert set(Matter.objects.values_list("kind", flat=True)) == set(MatterKind.values)
        names = set(Matter.objects.values_list("name", flat=True))
        for required in (
            "个体工商户设立登记",
            "最低生活保障审批",
            "临时救助",
            "生育登记",
            "居住证签注",
            "残疾人证核发",
            "城乡居民养老保险参保登记",
            "食品经营许可",
            "建设工程规划许可证核发",
            "不动产登记",
        ):
            assert required in names
        assert len(set(Matter.objects.values_list("department_kind", flat=True))) >= 8
        assert Entry.objects.filter(action="catalog.seeded").count() == 1

    def test_every_seeded_version_validates(self, db: None) -> None:
        services.catalog_seed(actor=system_actor())
        for matter in selectors.matter_list():
            version = selectors.flow_version_get(current(matter).pk)
            steps, materials = selectors.specs_from(version)
            assert flows.validate_version(selectors.terms_from(version), steps, materials) == [], matter.code
            assert matter.fee_amount == 0 or matter.fee_basis

    def test_the_three_level_matter(self, db: None) -> None:
        services.catalog_seed(actor=system_actor())
        matter = selectors.matter_get(THREE_LEVEL_MATTER_CODE)
        assert matter.deciding_level == RegionLevel.CITY
        assert RegionLevel.COMMUNITY in matter.accepting_levels
        steps = selectors.steps_for(current(matter))
        first, last = steps[0], steps[-1]
        assert (first.level, first.role, first.code, first.report_up) == (
            "community",
            "community_worker",
            "receive",
            True,
        )
        assert any(s.level == "district" and s.code == "review" for s in steps)
        decide = [s for s in steps if s.code == "decide"][-1]
        assert (decide.level, decide.role) == ("city", "approver")
        assert (last.code, last.level) == ("deliver", "community")
        spec_steps, _materials = selectors.specs_from(current(matter))
        assert flows.entry_order(spec_steps, "community") == 1
        assert flows.entry_order(spec_steps, "district") == 2

    def test_joint_matters_fan_out_to_two_departments(self, db: None) -> None:
        services.catalog_seed(actor=system_actor())
        joint = selectors.matter_list(kind=MatterKind.JOINT)
        assert joint.exists()
        for matter in joint:
            stages = selectors.stages_for(selectors.flow_version_get(current(matter).pk))
            fan_out = [s for s in stages if len(s) > 1]
            assert fan_out
            assert len({step.effective_department_kind for step in fan_out[0]}) >= 2

    def test_seed_keeps_edited_matters(self, admin: Actor) -> None:
        services.catalog_seed(actor=admin)
        matter = Matter.objects.get(code="MZ-0002")
        services.matter_update(
            actor=admin, matter=matter, details=replace(DETAILS, name="临时救助（急难型）")
        )
        services.catalog_seed(actor=admin)
        assert Matter.objects.get(code="MZ-0002").name == "临时救助（急难型）"

    def test_seed_refused_for_clerk(self, clerk: Actor) -> None:
        with pytest.raises(Forbidden):
            services.catalog_seed(actor=clerk)
        assert not Matter.objects.exists()
