"""The audit pages' names: every recorded action has a label; units and regions named per page."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest
from django.utils import translation

from sanji.audit import names
from sanji.audit.models import Entry

SANJI = Path(__file__).resolve().parents[2]

#: ``record(..., action="app.event", ...)`` and the module constants naming one.
_LITERAL = re.compile(r'\baction=\s*"([a-z_]+\.[a-z_]+)"|\bAUDIT_ACTION\s*=\s*"([a-z_]+\.[a-z_]+)"')


def recorded_actions() -> set[str]:
    """The action codes the platform records: literals in the sources (tests aside) and the rows of
    the transition tables whose codes are built (imported by name: audit sits below those apps)."""
    codes: set[str] = set()
    for path in SANJI.rglob("*.py"):
        if {"tests", "e2e", "migrations"} & set(path.relative_to(SANJI).parts):
            continue
        for match in _LITERAL.finditer(path.read_text(encoding="utf-8")):
            codes.add(match.group(1) or match.group(2))
    cases = importlib.import_module("sanji.cases.transitions")
    codes |= {row.audit_action for row in cases.TABLE.values()}
    supervision = importlib.import_module("sanji.supervision.transitions")
    codes |= {row.audit_action for row in supervision.MARK_TABLE.values()}
    codes |= {f"supervision.order_{action}" for action in supervision.ORDER_TABLE}  # order_act
    evaluation = importlib.import_module("sanji.evaluation.transitions")
    codes |= {f"evaluation.follow_up_{action}" for action in evaluation.FOLLOW_UP_TABLE}  # follow_up_act
    population = importlib.import_module("sanji.population.transitions")
    codes |= set(population.AUDIT_ACTIONS.values())
    return codes


def test_every_recorded_action_has_a_label():
    codes = recorded_actions()
    assert len(codes) > 80  # the scan found them
    assert sorted(codes - names.ACTION_LABELS.keys()) == []
    assert sorted(names.ACTION_LABELS.keys() - codes) == []  # no label for a code nobody records


def test_labels_are_chinese_and_unknown_codes_show_as_themselves():
    with translation.override("zh-hans"):
        assert names.action_label("cases.accept") == "办件：受理"
        assert names.action_label("accounts.terminal_refused") == "账号：终端校验未通过，拒绝登录"
    assert names.action_label("newapp.something") == "newapp.something"


@pytest.mark.parametrize(
    ("typed", "searched"),
    [
        ("办件：受理", "cases.accept"),
        ("受理", "cases.accept"),
        ("  登录失败 ", "accounts.login_failed"),
        ("cases.", "cases."),
        ("cases.acc", "cases.acc"),
        ("", ""),
    ],
)
def test_a_typed_label_searches_its_code(typed, searched):
    assert names.action_for_search(typed) == searched


def test_named_without_namers_keeps_the_raw_values(monkeypatch):
    monkeypatch.setattr(names, "_namers", names._Namers())
    entry = Entry(unit_id=7, action="cases.accept", region_path="150100/150105/", channel="web")
    (row,) = names.named([entry])
    assert row.unit is None
    assert row.region_names == "150100 / 150105"
    assert row.action_label == "办件：受理"
    assert names.unit(7) is None


def test_named_asks_once_per_page(monkeypatch):
    asked: list[tuple[str, frozenset[object]]] = []

    class Label:
        def __init__(self, pk: int) -> None:
            self.code, self.full_name, self.region_name = f"U{pk}", f"单位{pk}", "赛罕区"

    def units(ids):
        asked.append(("units", frozenset(ids)))
        return {pk: Label(pk) for pk in ids if pk != 3}

    def regions(codes):
        asked.append(("regions", frozenset(codes)))
        return {"150100": "呼和浩特市", "150105": "赛罕区"}

    monkeypatch.setattr(names, "_namers", names._Namers())
    names.provide(units=units, regions=regions)
    entries = [
        Entry(unit_id=pk, action="x.y", region_path=path, channel="api")
        for pk, path in ((1, "150100/150105/"), (2, "150100/"), (3, "150100/150105/150105001/"), (None, ""))
    ]
    rows = names.named(entries)
    assert sorted(asked) == [
        ("regions", frozenset({"150100", "150105", "150105001"})),
        ("units", frozenset({1, 2, 3})),
    ]
    assert [r.unit.full_name if r.unit else None for r in rows] == ["单位1", "单位2", None, None]
    assert [r.region_names for r in rows] == [
        "呼和浩特市 / 赛罕区",
        "呼和浩特市",
        "呼和浩特市 / 赛罕区 / 150105001",
        "",
    ]
    assert rows[0].channel_label == "API"
