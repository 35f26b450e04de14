"""Catalogue reads: filters, visibility, prefetching (query counts pinned)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sanji.catalog import selectors, services
from sanji.catalog.models import Matter, MatterKind
from sanji.catalog.seed_matters import THREE_LEVEL_MATTER_CODE
from sanji.catalog.tests.conftest import current
from sanji.core.actors import ANONYMOUS, Actor, system_actor
from sanji.core.errors import NotFound


@pytest.fixture
def seeded(db: None) -> None:
    services.catalog_seed(actor=system_actor())


def codes(qs) -> set[str]:
    return {m.code for m in qs}


@pytest.mark.usefixtures("seeded")
class TestMatterList:
    def test_lists_every_active_matter_in_one_query(self, django_assert_num_queries) -> None:
        with django_assert_num_queries(1):
            rows = [(m.code, current(m).number, m.accepting_level_labels()) for m in selectors.matter_list()]
        assert len(rows) >= 30
        assert rows == sorted(rows)

    @pytest.mark.parametrize(
        ("filters", "expected"),
        [
            ({"q": "救助"}, {"MZ-0002"}),
            (
                {"q": "mz-000"},
                {"MZ-0001", "MZ-0002", "MZ-0003", "MZ-0004", "MZ-0005", "MZ-0006", "MZ-0007", "MZ-0008"},
            ),
            ({"department_kind": "disabled_persons"}, {"CL-0001"}),
            ({"level": "community", "department_kind": "housing"}, {THREE_LEVEL_MATTER_CODE}),
            ({"kind": MatterKind.JOINT}, {"MZ-0008", "ZJ-0002"}),
            ({"matter_type": "levy"}, set()),
        ],
    )
    def test_filters(self, filters: dict[str, Any], expected: set[str]) -> None:
        assert codes(selectors.matter_list(**filters)) == expected

    def test_level_filter_means_accepted_there(self) -> None:
        at_community = list(selectors.matter_list(level="community"))
        assert at_community
        assert all(m.accepts_at("community") for m in at_community)
        assert len(at_community) == len({m.pk for m in at_community})

    def test_inactive_matters_are_for_editors_only(self, admin: Actor) -> None:
        matter = Matter.objects.get(code="MZ-0003")
        services.matter_deactivate(actor=admin, matter=matter)
        assert "MZ-0003" not in codes(selectors.matter_list())
        assert "MZ-0003" not in codes(selectors.matter_list(actor=ANONYMOUS, active_only=False))
        assert "MZ-0003" in codes(selectors.matter_list(actor=admin, active_only=False))
        with pytest.raises(NotFound):
            selectors.matter_get("MZ-0003")
        assert selectors.matter_get("MZ-0003", actor=admin) == matter


@pytest.mark.usefixtures("seeded")
class TestGuideAndVersions:
    def test_matter_get_prefetches_the_guide(self, django_assert_num_queries) -> None:
        with django_assert_num_queries(3):  # matter + version, steps, materials
            matter = selectors.matter_get(THREE_LEVEL_MATTER_CODE)
            version = current(matter)
            stages = selectors.stages_for(version)
            materials = selectors.materials_for(version)
            labels = [s.effective_department_label for stage in stages for s in stage]
        assert len(stages) == 7
        assert len(materials) == 7
        assert len(labels) == 7

    def test_flow_version_get_prefetches(self, django_assert_num_queries) -> None:
        version_id = current(Matter.objects.get(code="ZJ-0002")).pk
        with django_assert_num_queries(3):
            version = selectors.flow_version_get(version_id)
            stages = selectors.stages_for(version)
            _ = [m.name for m in selectors.materials_for(version)] + [version.matter.code]
        assert [len(s) for s in stages] == [1, 2, 1, 1]
        assert [s.effective_department_kind for s in stages[1]] == ["housing", "natural_resources"]

    def test_unknown_things_are_not_found(self) -> None:
        with pytest.raises(NotFound):
            selectors.matter_get("XX-0000")
        with pytest.raises(NotFound):
            selectors.flow_version_get(987654)
        with pytest.raises(NotFound):
            selectors.flow_version_of(Matter.objects.get(code="MZ-0001"), 2)

    def test_versions_for_counts_rows(self, admin: Actor) -> None:
        matter = Matter.objects.get(code="SJ-0003")
        steps, materials = selectors.specs_from(current(matter))
        services.flow_version_publish(actor=admin, matter=matter, steps=steps, materials=materials[:2])
        history = list(selectors.versions_for(matter))
        rows = [
            (v.number, getattr(v, "step_count", None), getattr(v, "material_count", None)) for v in history
        ]
        assert rows == [(2, 5, 2), (1, 5, 5)]

    def test_specs_round_trip(self, admin: Actor) -> None:
        matter = Matter.objects.get(code="MZ-0008")
        steps, materials = selectors.specs_from(current(matter))
        v2 = services.flow_version_publish(actor=admin, matter=matter, steps=steps, materials=materials)
        assert selectors.specs_from(selectors.flow_version_get(v2.pk)) == (steps, materials)

    def test_blank_form_only_for_materials_with_one(self) -> None:
        matter = selectors.matter_get("MZ-0001")
        with_form, *_ = [m for m in selectors.materials_for(current(matter)) if m.blank_form_template]
        without = next(m for m in selectors.materials_for(current(matter)) if not m.blank_form_template)
        assert selectors.blank_form_get("MZ-0001", with_form.pk) == with_form
        with pytest.raises(NotFound):
            selectors.blank_form_get("MZ-0001", without.pk)
        with pytest.raises(NotFound):
            selectors.blank_form_get("MZ-0002", with_form.pk)  # belongs to another matter


def test_list_query_count_does_not_grow(seeded: None) -> None:
    with CaptureQueriesContext(connection) as ctx:
        list(selectors.matter_list(level="township"))
    assert len(ctx.captured_queries) == 1
