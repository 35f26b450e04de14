"""Table-driven tests of the pure flow rules (no database)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from sanji.catalog import flows
from sanji.catalog.flows import MaterialSpec, MatterTerms, StepSpec
from sanji.catalog.models import MatterKind, StepCode
from sanji.core.roles import Role
from sanji.orgs.models import DepartmentKind, RegionLevel

CITY, DISTRICT, TOWNSHIP, COMMUNITY = "city", "district", "township", "community"
CLERK, WORKER, REVIEWER, APPROVER = Role.WINDOW_CLERK, Role.COMMUNITY_WORKER, Role.REVIEWER, Role.APPROVER
HOUSING, NATURAL = DepartmentKind.HOUSING.value, DepartmentKind.NATURAL_RESOURCES.value

PROMISED = MatterTerms(MatterKind.PROMISED, HOUSING, (DISTRICT,), DISTRICT, 20, 10)
PROMISED_STEPS = (
    StepSpec(1, StepCode.ACCEPT, "受理", DISTRICT, CLERK, 1),
    StepSpec(2, StepCode.REVIEW, "审查", DISTRICT, REVIEWER, 5),
    StepSpec(3, StepCode.DECIDE, "决定", DISTRICT, APPROVER, 3),
    StepSpec(4, StepCode.DELIVER, "送达", DISTRICT, CLERK, 1),
)
IMMEDIATE = MatterTerms(MatterKind.IMMEDIATE, HOUSING, (DISTRICT,), DISTRICT, 0, 0)
IMMEDIATE_STEPS = (
    StepSpec(1, StepCode.ACCEPT, "受理", DISTRICT, CLERK, 0),
    StepSpec(2, StepCode.DECIDE, "当场办结", DISTRICT, CLERK, 0),
    StepSpec(3, StepCode.DELIVER, "出件", DISTRICT, CLERK, 0),
)
# community receives → district accepts and reviews → city decides → community delivers
THREE_LEVEL = MatterTerms(MatterKind.REPORTED, HOUSING, (DISTRICT, COMMUNITY), CITY, 30, 20)
THREE_LEVEL_STEPS = (
    StepSpec(1, StepCode.RECEIVE, "社区收件", COMMUNITY, WORKER, 2, report_up=True),
    StepSpec(2, StepCode.ACCEPT, "区受理", DISTRICT, CLERK, 1),
    StepSpec(3, StepCode.REVIEW, "区复审", DISTRICT, REVIEWER, 7, report_up=True),
    StepSpec(4, StepCode.DECIDE, "市终审", CITY, APPROVER, 5),
    StepSpec(5, StepCode.DELIVER, "社区送达", COMMUNITY, WORKER, 2),
)
JOINT = MatterTerms(MatterKind.JOINT, HOUSING, (CITY,), CITY, 45, 12)
JOINT_STEPS = (
    StepSpec(1, StepCode.ACCEPT, "受理", CITY, CLERK, 1),
    StepSpec(2, StepCode.OPINION, "住建意见", CITY, REVIEWER, 7, department_kind=HOUSING, parallel_group=1),
    StepSpec(2, StepCode.OPINION, "规划意见", CITY, REVIEWER, 5, department_kind=NATURAL, parallel_group=1),
    StepSpec(3, StepCode.DECIDE, "决定", CITY, Role.DEPARTMENT_HEAD, 3),
    StepSpec(4, StepCode.DELIVER, "送达", CITY, CLERK, 1),
)

Steps = tuple[StepSpec, ...]


def at(steps: Steps, i: int, **changes: object) -> Steps:
    return tuple(replace(s, **changes) if n == i else s for n, s in enumerate(steps))  # type: ignore[arg-type]


def drop(steps: Steps, i: int) -> Steps:
    return tuple(s for n, s in enumerate(steps) if n != i)


def renumber(steps: Steps) -> Steps:
    return tuple(replace(s, order=n) for n, s in enumerate(steps, start=1))


@pytest.mark.parametrize(
    ("terms", "steps"),
    [
        (PROMISED, PROMISED_STEPS),
        (IMMEDIATE, IMMEDIATE_STEPS),
        (THREE_LEVEL, THREE_LEVEL_STEPS),
        (JOINT, JOINT_STEPS),
    ],
    ids=["promised", "immediate", "three-level", "joint"],
)
def test_valid_flows_have_no_problems(terms: MatterTerms, steps: Steps) -> None:
    assert flows.validate_flow(terms, steps) == []


CASES: list[tuple[str, MatterTerms, Steps, str]] = [
    # terms
    ("promised over legal", replace(PROMISED, promised_limit_days=21), PROMISED_STEPS, "promised_over_legal"),
    (
        "immediate with a promised limit",
        replace(IMMEDIATE, promised_limit_days=2, legal_limit_days=2),
        IMMEDIATE_STEPS,
        "immediate_with_limit",
    ),
    (
        "immediate accepted below",
        replace(IMMEDIATE, accepting_levels=(DISTRICT, TOWNSHIP)),
        IMMEDIATE_STEPS,
        "immediate_across_levels",
    ),
    (
        "promised without a limit",
        replace(PROMISED, promised_limit_days=0),
        PROMISED_STEPS,
        "no_promised_limit",
    ),
    ("fee without basis", replace(PROMISED, fee_amount=Decimal("10")), PROMISED_STEPS, "fee_without_basis"),
    (
        "negative fee",
        replace(PROMISED, fee_amount=Decimal("-1"), fee_basis="x"),
        PROMISED_STEPS,
        "negative_fee",
    ),
    (
        "decided below acceptance",
        replace(PROMISED, accepting_levels=(CITY,)),
        PROMISED_STEPS,
        "decide_below_accept",
    ),
    ("no accepting level", replace(PROMISED, accepting_levels=()), PROMISED_STEPS, "no_accepting_level"),
    (
        "duplicate accepting level",
        replace(PROMISED, accepting_levels=(DISTRICT, DISTRICT)),
        PROMISED_STEPS,
        "bad_accepting_level",
    ),
    (
        "reported with nothing to report",
        replace(PROMISED, kind=MatterKind.REPORTED),
        PROMISED_STEPS,
        "reported_without_lower_level",
    ),
    ("unknown kind", replace(PROMISED, kind="urgent"), PROMISED_STEPS, "bad_kind"),
    ("unknown department", replace(PROMISED, department_kind="navy"), PROMISED_STEPS, "bad_department"),
    # shape
    ("no steps", PROMISED, (), "no_steps"),
    ("out of order", PROMISED, (PROMISED_STEPS[1], PROMISED_STEPS[0], *PROMISED_STEPS[2:]), "not_ordered"),
    ("order gap", PROMISED, at(PROMISED_STEPS, 3, order=6), "order_gap"),
    ("first step not receiving", PROMISED, renumber(drop(PROMISED_STEPS, 0)), "first_not_receiving"),
    (
        "two acceptances",
        PROMISED,
        renumber(at(PROMISED_STEPS, 1, code=StepCode.ACCEPT, role=CLERK)),
        "accept_count",
    ),
    (
        "review before acceptance",
        PROMISED,
        renumber((PROMISED_STEPS[1], *PROMISED_STEPS[0:1], *PROMISED_STEPS[2:])),
        "step_before_accept",
    ),
    ("no decision", PROMISED, renumber(drop(PROMISED_STEPS, 2)), "no_decision"),
    (
        "review after decision",
        PROMISED,
        renumber((*PROMISED_STEPS[:3], PROMISED_STEPS[1], PROMISED_STEPS[3])),
        "after_decision",
    ),
    ("no delivery", PROMISED, drop(PROMISED_STEPS, 3), "no_delivery"),
    ("limits over the legal limit", PROMISED, at(PROMISED_STEPS, 1, limit_days=16), "limits_over_legal"),
    ("unknown step code", PROMISED, at(PROMISED_STEPS, 1, code="pray"), "bad_step_code"),
    ("unknown role", PROMISED, at(PROMISED_STEPS, 1, role=Role.SUPERVISOR), "bad_step_role"),
    ("empty step name", PROMISED, at(PROMISED_STEPS, 1, name=" "), "step_without_name"),
    ("reviewer decides", PROMISED, at(PROMISED_STEPS, 2, role=REVIEWER), "decider_role"),
    ("approver accepts", PROMISED, at(PROMISED_STEPS, 0, role=APPROVER), "receiver_role"),
    ("immediate step with a limit", IMMEDIATE, at(IMMEDIATE_STEPS, 1, limit_days=1), "immediate_step_limit"),
    # levels
    ("step above the deciding level", PROMISED, at(PROMISED_STEPS, 1, level=CITY), "step_level_out_of_range"),
    (
        "decision at the wrong level",
        THREE_LEVEL,
        at(THREE_LEVEL_STEPS, 3, level=DISTRICT),
        "decision_wrong_level",
    ),
    (
        "community worker at the district",
        PROMISED,
        at(PROMISED_STEPS, 0, role=WORKER),
        "community_worker_off_community",
    ),
    (
        "first step not at an accepting level",
        replace(THREE_LEVEL, accepting_levels=(DISTRICT,)),
        THREE_LEVEL_STEPS,
        "first_not_accepting_level",
    ),
    (
        "accepting level without a step",
        replace(THREE_LEVEL, accepting_levels=(DISTRICT, TOWNSHIP, COMMUNITY)),
        THREE_LEVEL_STEPS,
        "accepting_level_without_step",
    ),
    (
        "going up without report-up",
        THREE_LEVEL,
        at(THREE_LEVEL_STEPS, 2, report_up=False),
        "upward_without_report_up",
    ),
    (
        "report-up that does not go up",
        THREE_LEVEL,
        at(THREE_LEVEL_STEPS, 1, report_up=True),
        "report_up_not_upward",
    ),
    ("report-up at the end", THREE_LEVEL, at(THREE_LEVEL_STEPS, 4, report_up=True), "report_up_at_end"),
    (
        "going down before the decision",
        THREE_LEVEL,
        renumber(
            (
                *THREE_LEVEL_STEPS[:3],
                replace(THREE_LEVEL_STEPS[2], level=COMMUNITY, role=WORKER, report_up=True),
                *THREE_LEVEL_STEPS[3:],
            )
        ),
        "downward_before_decision",
    ),
    (
        "reported without report-up",
        replace(THREE_LEVEL, kind=MatterKind.REPORTED),
        at(at(THREE_LEVEL_STEPS, 0, report_up=False), 2, report_up=False),
        "reported_without_report_up",
    ),
    (
        "immediate step at another level",
        IMMEDIATE,
        at(IMMEDIATE_STEPS, 2, level=TOWNSHIP),
        "step_level_out_of_range",
    ),
    # parallel (joint) stages
    (
        "parallel steps in a promised matter",
        replace(JOINT, kind=MatterKind.PROMISED),
        JOINT_STEPS,
        "parallel_not_joint",
    ),
    ("joint without parallel", JOINT, renumber(drop(JOINT_STEPS, 2)), "joint_without_parallel"),
    (
        "parallel steps of one department",
        JOINT,
        at(JOINT_STEPS, 2, department_kind=HOUSING),
        "parallel_same_department",
    ),
    (
        "parallel defaulting to the same department",
        JOINT,
        at(at(JOINT_STEPS, 1, department_kind=None), 2, department_kind=HOUSING),
        "parallel_same_department",
    ),
    ("parallel without a group", JOINT, at(JOINT_STEPS, 2, parallel_group=None), "parallel_needs_group"),
    ("parallel groups differ", JOINT, at(JOINT_STEPS, 2, parallel_group=2), "parallel_needs_group"),
    ("a group of one", PROMISED, at(PROMISED_STEPS, 1, parallel_group=1), "parallel_alone"),
    (
        "parallel steps at two levels",
        replace(JOINT, accepting_levels=(DISTRICT,)),
        at(at(JOINT_STEPS, 0, level=DISTRICT, report_up=True), 2, level=DISTRICT),
        "parallel_mixed",
    ),
    (
        "parallel decision",
        JOINT,
        at(JOINT_STEPS, 1, code=StepCode.DECIDE, role=APPROVER),
        "parallel_bad_code",
    ),
]


@pytest.mark.parametrize(("terms", "steps", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_invalid_flows_name_the_problem(terms: MatterTerms, steps: Steps, expected: str) -> None:
    codes = {p.code for p in flows.validate_flow(terms, steps)}
    assert expected in codes


def test_parallel_limits_count_once() -> None:
    # 1 + max(7, 5) + 3 + 1
    assert flows.limit_total(JOINT_STEPS) == 12
    assert [len(s) for s in flows.stages(JOINT_STEPS)] == [1, 2, 1, 1]


@pytest.mark.parametrize(
    ("steps", "level", "expected"),
    [
        (THREE_LEVEL_STEPS, COMMUNITY, 1),
        (THREE_LEVEL_STEPS, DISTRICT, 2),
        (THREE_LEVEL_STEPS, None, 2),  # online: at the acceptance
        (THREE_LEVEL_STEPS, TOWNSHIP, None),
        (THREE_LEVEL_STEPS, CITY, None),  # the city decides but does not take applications
        (PROMISED_STEPS, DISTRICT, 1),
        (PROMISED_STEPS, COMMUNITY, None),
    ],
)
def test_entry_order(steps: Steps, level: str | None, expected: int | None) -> None:
    assert flows.entry_order(steps, level) == expected


@pytest.mark.parametrize(
    ("code", "ok"),
    [
        ("MZ-0001", True),
        ("11150100MB1234567X", True),
        ("mz-0001", False),
        ("MZ", False),
        ("民政-1", False),
        ("A" * 41, False),
        ("MZ 0001", False),
    ],
)
def test_matter_codes(code: str, ok: bool) -> None:
    assert (flows.validate_code(code) == []) is ok


GOOD = MaterialSpec("申请书")
MATERIAL_CASES: list[tuple[str, list[MaterialSpec], str | None]] = [
    ("fine", [GOOD, MaterialSpec("身份证", form="copy", count=2, required=False)], None),
    ("none", [], "no_materials"),
    ("duplicate", [GOOD, MaterialSpec("申请书 ")], "material_duplicate"),
    ("zero copies", [replace(GOOD, count=0)], "bad_material_count"),
    ("unknown form", [replace(GOOD, form="fax")], "bad_material_form"),
    ("nameless", [replace(GOOD, name="")], "material_without_name"),
    ("template without name", [replace(GOOD, blank_form_template="<p>x</p>")], "template_without_name"),
]


@pytest.mark.parametrize(
    ("materials", "expected"), [c[1:] for c in MATERIAL_CASES], ids=[c[0] for c in MATERIAL_CASES]
)
def test_materials(materials: list[MaterialSpec], expected: str | None) -> None:
    codes = [p.code for p in flows.validate_materials(materials)]
    assert codes == ([] if expected is None else [expected])


def test_problem_as_dict_is_serialisable() -> None:
    problem = flows.validate_terms(replace(PROMISED, promised_limit_days=30))[0]
    assert problem.as_dict() == {
        "code": "promised_over_legal",
        "where": "promised_limit_days",
        "message": str(problem.message),
    }


@pytest.mark.parametrize("level", list(RegionLevel.values))
def test_depth_orders_levels(level: str) -> None:
    assert flows.depth(CITY) <= flows.depth(level) <= flows.depth(COMMUNITY)
