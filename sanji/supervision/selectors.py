"""Reads of supervision, scoped by the actor (:mod:`sanji.supervision.policies`).

The live board aggregates :class:`~sanji.supervision.models.BoardCell` (open cases per receiving place
and current unit, and today's marks up to the last sweep, rebuilt by each sweep: a few thousand rows
for a million cases) and counts the marks raised since live; drilling down ends at one unit's open
cases, read through the cases app's own scope.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import models
from django.db.models import Count, Max

from sanji.cases import policies as case_policies
from sanji.cases.models import Case
from sanji.cases.transitions import OPEN_STATES
from sanji.core import clock
from sanji.core.actors import Actor
from sanji.core.authz import get_in_scope
from sanji.core.errors import NotFound
from sanji.core.roles import Role
from sanji.orgs.models import Region, Unit
from sanji.supervision import policies, services
from sanji.supervision.models import BoardCell, Mark, RuleConfig, SupervisionOrder, SweepRun
from sanji.supervision.rules import RuleSetting


def mark_list_for(
    actor: Actor,
    *,
    state: str | None = None,
    rule: str | None = None,
    severity: str | None = None,
    unit_id: int | None = None,
    unit: str | None = None,
    case_id: int | None = None,
    mine: bool = False,
) -> models.QuerySet[Mark]:
    """Marks the actor may see, newest first; ``mine``: only those of the actor's own units;
    ``unit``: the responsible unit's code, or a part of its name."""
    queryset = policies.scope(actor, Mark.objects.all())
    if mine:
        queryset = queryset.filter(policies.unit_q(actor))
    if state:
        queryset = queryset.filter(state=state)
    if rule:
        queryset = queryset.filter(rule=rule)
    if severity:
        queryset = queryset.filter(severity=severity)
    if unit_id is not None:
        queryset = queryset.filter(unit_id=unit_id)
    if unit:
        queryset = queryset.filter(
            models.Q(unit__code=unit.strip()) | models.Q(unit__name__contains=unit.strip())
        )
    if case_id is not None:
        queryset = queryset.filter(case_id=case_id)
    # Newest raised first: the order of the (created_at, region_path, unit) index.
    return queryset.select_related("case", "unit").order_by("-created_at", "-id")


def mark_get_for(actor: Actor, mark_id: int) -> Mark:
    """One mark in the actor's scope, else :class:`NotFound` (a unit asking for another unit's mark)."""
    return get_in_scope(
        policies.scope(actor, Mark.objects.select_related("case", "unit", "event")), pk=mark_id
    )


def mark_order(mark: Mark) -> SupervisionOrder | None:
    return SupervisionOrder.objects.filter(mark=mark).first()


def mark_actions_for(actor: Actor, mark: Mark) -> list[str]:
    """Lifecycle actions the actor could take now (for buttons; the service re-checks)."""
    from sanji.supervision.transitions import MARK_TABLE, allowed

    return [a for a in allowed(MARK_TABLE, mark.state) if policies.can_act_on_mark(actor, mark, a)]


def order_list_for(actor: Actor, *, state: str | None = None) -> models.QuerySet[SupervisionOrder]:
    queryset = policies.scope_orders(actor, SupervisionOrder.objects.all())
    if state:
        queryset = queryset.filter(state=state)
    return queryset.select_related("case", "unit", "mark").order_by("-issued_at", "-id")


def order_get_for(actor: Actor, order_id: int) -> SupervisionOrder:
    return get_in_scope(
        policies.scope_orders(actor, SupervisionOrder.objects.select_related("case", "unit", "mark")),
        pk=order_id,
    )


def order_actions_for(actor: Actor, order: SupervisionOrder) -> list[str]:
    from sanji.supervision.transitions import ORDER_TABLE, allowed

    return [a for a in allowed(ORDER_TABLE, order.state) if policies.can_act_on_order(actor, order, a)]


def rule_settings_list() -> list[RuleSetting]:
    """Every rule's effective setting, in the rules' order (public to supervisors' pages)."""
    return list(services.rule_settings().values())


def rule_config_updated() -> dict[str, RuleConfig]:
    return {row.code: row for row in RuleConfig.objects.all()}


def sweep_list_for(actor: Actor) -> models.QuerySet[SweepRun]:
    """The sweep history (each run's time, duration, marks per rule), newest first: supervisors and the
    platform; anyone else :class:`NotFound`. Sweeps are city-wide, so a district supervisor sees every
    run's totals (counts only: no case or unit is named)."""
    if not policies.can_view_board(actor):
        raise NotFound()
    return SweepRun.objects.order_by("-started_at", "-id")


def last_sweep() -> SweepRun | None:
    return SweepRun.objects.order_by("-started_at", "-id").first()


# --- the live board -------------------------------------------------------------------------------


@dataclass
class BoardRow:
    key: str
    label: str
    open: int = 0
    due_soon: int = 0
    overdue: int = 0
    marks_today: int = 0
    unit_id: int | None = None


@dataclass
class Board:
    path: str
    label: str
    crumbs: list[tuple[str, str]]
    totals: BoardRow
    children: list[BoardRow] = field(default_factory=list)
    units: list[BoardRow] = field(default_factory=list)
    computed_at: dt.datetime | None = None


def _supervisor_roots(actor: Actor) -> list[str]:
    return sorted({g.region_path for g in actor.grants_for(Role.SUPERVISOR)}, key=len)


def board_node_for(actor: Actor, region_path: str | None) -> str:
    """The board's node: ``region_path`` if a supervisor grant covers it, else the actor's widest reach."""
    roots = _supervisor_roots(actor)
    if not roots:
        raise NotFound()
    if not region_path:
        return roots[0]
    if not region_path.endswith("/"):
        region_path += "/"
    if not any(region_path.startswith(root) for root in roots):
        raise NotFound()
    return region_path


def board_for(actor: Actor, *, region_path: str | None = None) -> Board:
    """Open, due soon, overdue and today's marks for a place in the supervisor's scope, per child
    place (cases received there) and per unit located there (cases at that unit now). Out-of-scope
    places are :class:`NotFound`."""
    node = board_node_for(actor, region_path)
    codes = [c for c in node.split("/") if c]
    paths = ["".join(f"{c}/" for c in codes[: i + 1]) for i in range(len(codes))]
    names = dict(Region.objects.filter(path__in=paths).values_list("path", "name"))
    roots = _supervisor_roots(actor)
    crumbs = [(p, names.get(p, p)) for p in paths if any(p.startswith(r) for r in roots)]
    board = Board(
        path=node, label=names.get(node, node), crumbs=crumbs, totals=BoardRow(node, names.get(node, node))
    )

    places = list(
        BoardCell.objects.filter(unit__isnull=True, region_path__startswith=node).values_list(
            "region_path", "open_count", "due_soon", "overdue"
        )
    )
    board.computed_at = BoardCell.objects.aggregate(at=Max("computed_at"))["at"]
    here = dict(Unit.objects.filter(region_path=node).values_list("pk", "name"))
    unit_cells = list(
        BoardCell.objects.filter(region_path="", unit_id__in=list(here)).values_list(
            "unit_id", "open_count", "due_soon", "overdue"
        )
    )
    # Marks raised today: the last sweep's count up to its run (if it ran today), plus the marks
    # raised since (the hook's, a few) — never today's marks one by one.
    start_of_day = dt.datetime.combine(clock.today(), dt.time.min, tzinfo=clock.CITY_TZ)
    swept = board.computed_at is not None and board.computed_at >= start_of_day
    marks: list[tuple[str, int, int]] = []
    if swept:
        marks += list(
            BoardCell.objects.filter(unit__isnull=False, region_path__startswith=node)
            .exclude(region_path="")
            .values_list("region_path", "unit_id", "marks_today")
        )
    live = Mark.objects.filter(region_path__startswith=node)
    live = (
        live.filter(created_at__gt=board.computed_at) if swept else live.filter(created_at__gte=start_of_day)
    )
    marks += list(
        # Covered by the (created_at, region_path, unit) index.
        live.values("region_path", "unit_id")
        .annotate(n=Count("id"))
        .values_list("region_path", "unit_id", "n")
    )

    children: dict[str, BoardRow] = {}
    at_node: dict[int, BoardRow] = {}

    def child_key(path: str) -> str | None:
        rest = path[len(node) :]
        head = rest.split("/", 1)[0]
        return f"{node}{head}/" if head else None

    def add(row: BoardRow, open_: int, soon: int, over: int) -> None:
        row.open += open_
        row.due_soon += soon
        row.overdue += over

    for path, open_, soon, over in places:
        add(board.totals, open_, soon, over)
        key = child_key(path)
        if key is not None:
            add(children.setdefault(key, BoardRow(key, key)), open_, soon, over)
    for unit_id, open_, soon, over in unit_cells:
        add(
            at_node.setdefault(unit_id, BoardRow(str(unit_id), here[unit_id], unit_id=unit_id)),
            open_,
            soon,
            over,
        )
    for path, unit_id, n in marks:
        board.totals.marks_today += n
        key = child_key(path)
        if key is not None:
            children.setdefault(key, BoardRow(key, key)).marks_today += n
        if unit_id in here:
            at_node.setdefault(
                unit_id, BoardRow(str(unit_id), here[unit_id], unit_id=unit_id)
            ).marks_today += n

    child_names = dict(Region.objects.filter(path__in=list(children)).values_list("path", "name"))
    for key, row in children.items():
        row.label = child_names.get(key, key)
    board.children = sorted(children.values(), key=lambda r: (-r.overdue, -r.open, r.key))
    board.units = sorted(at_node.values(), key=lambda r: (-r.overdue, -r.open, r.label))
    return board


@dataclass
class UnitCases:
    unit: Unit
    node: str
    cases: list[Case]
    marks: dict[int, list[Mark]]
    page: int
    has_next: bool


def board_unit_cases(
    actor: Actor, *, unit_id: int, region_path: str | None = None, page: int = 1
) -> UnitCases:
    """One unit's open cases (received under the board node), by promised deadline, with their marks."""
    node = board_node_for(actor, region_path)
    unit = Unit.objects.filter(pk=unit_id).first()
    if unit is None:
        raise NotFound()
    size = 50
    page = max(1, page)
    queryset = (
        case_policies.scope(actor, Case.objects.all())
        .filter(current_unit_id=unit_id, state__in=OPEN_STATES, region_path__startswith=node)
        .select_related("matter")
        .order_by("promised_due", "id")
    )
    rows = list(queryset[(page - 1) * size : page * size + 1])
    cases = rows[:size]
    marks: dict[int, list[Mark]] = defaultdict(list)
    for mark in Mark.objects.filter(case_id__in=[c.pk for c in cases]).order_by("became_at"):
        marks[mark.case_id].append(mark)
    for case in cases:
        setattr(case, "sup_marks", marks.get(case.pk, []))  # noqa: B010  (read by the template)
    return UnitCases(
        unit=unit, node=node, cases=cases, marks=dict(marks), page=page, has_next=len(rows) > size
    )
