"""sanji.core.prepared: a prepared query answers what the queryset answers; single-row writes
write what ``save()`` would. On the real database (both engines in CI)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.db.models import QuerySet
from django.db.models.signals import post_init

from sanji.core import prepared
from sanji.orgs.models import Department, Region, Unit, UnitKind

pytestmark = pytest.mark.django_db


def _units(path: str) -> QuerySet[Unit]:
    return (
        Unit.objects.filter(region_path=path, active=True)
        .select_related("region", "department")
        .order_by("code")
    )


def test_rows_and_related_objects_equal_the_orm(org: None) -> None:
    paths = sorted(set(Unit.objects.values_list("region_path", flat=True)))[:4]
    assert paths
    for path in paths:
        got = prepared.fetch("test.units_at", _units, path)
        expected = list(_units(path))
        assert [u.pk for u in got] == [u.pk for u in expected]
        for a, b in zip(got, expected, strict=True):
            assert [getattr(a, f.attname) for f in Unit._meta.concrete_fields] == [
                getattr(b, f.attname) for f in Unit._meta.concrete_fields
            ]
            assert a.region.code == b.region.code  # select_related filled without a query
            assert (a.department.code if a.department else None) == (
                b.department.code if b.department else None
            )


def _state(obj: Any) -> dict[str, Any]:
    return {k: v for k, v in vars(obj).items() if k != "_state"} | {
        "adding": obj._state.adding,
        "db": obj._state.db,
    }


def test_instances_built_directly_are_those_the_orm_builds(org: None) -> None:
    """Models that keep Django's __init__ are built without it: the same attributes and state."""
    names = tuple(f.attname for f in Unit._meta.concrete_fields)
    assert prepared._builder(Unit, names).__name__ == "build"  # the direct path is taken
    path = Unit.objects.values_list("region_path", flat=True).first()
    assert path is not None
    got = prepared.fetch("test.units_at", _units, path)
    expected = list(_units(path))
    assert got
    for a, b in zip(got, expected, strict=True):
        assert _state(a) == _state(b)
        assert a._state.adding is False
        assert _state(a.region) == _state(b.region)
        assert a.region._state.fields_cache == {}
        a.name = "changed"
        a.save(update_fields=["name"])  # an instance read this way saves as an UPDATE
        assert Unit.objects.get(pk=a.pk).name == "changed"


def test_a_model_with_init_listeners_is_built_by_django(org: None) -> None:
    seen: list[Any] = []

    def listener(sender: Any, instance: Any, **kwargs: Any) -> None:
        seen.append(instance)

    post_init.connect(listener, sender=Region)
    prepared._builder.cache_clear()
    try:
        region = Region.objects.order_by("pk").first()
        assert region is not None
        seen.clear()
        rows = prepared.fetch("test.region", lambda pk: Region.objects.filter(pk=pk), region.pk)
        assert [r.pk for r in rows] == [region.pk]
        assert seen == rows  # post_init ran: Django's from_db built it
    finally:
        post_init.disconnect(listener, sender=Region)
        prepared._builder.cache_clear()


def test_values_list_rows_are_converted_tuples(org: None) -> None:
    unit = Unit.objects.order_by("pk").first()
    assert unit is not None
    rows = prepared.fetch(
        "test.unit_flags",
        lambda pk: Unit.objects.filter(pk=pk).values_list("code", "active", "kind"),
        unit.pk,
    )
    assert rows == [(unit.code, True, unit.kind)]
    assert isinstance(rows[0][1], bool)  # SQLite's 0/1 converted as the ORM converts it

    def unused(pk: int) -> QuerySet[Unit]:
        raise AssertionError("a key already compiled on this connection is not built again")

    # The key names the query's shape: the compiled statement runs again with the new value.
    assert prepared.fetch("test.unit_flags", unused, -1) == []


@pytest.mark.parametrize(
    "build",
    [
        lambda code: Region.objects.filter(code__startswith=code),  # the value reaches SQL as a pattern
        lambda code: Region.objects.filter(code__icontains=code),
    ],
)
def test_a_value_the_sql_transforms_cannot_be_prepared(build: Any) -> None:
    with pytest.raises(prepared.Unpreparable):
        prepared.fetch(("test.unpreparable", id(build)), build, "150105")


def test_only_int_and_str_arguments() -> None:
    with pytest.raises(prepared.Unpreparable):
        prepared.fetch("test.float", lambda x: Region.objects.filter(pk=x), 1.5)


def test_insert_sets_the_key_and_update_checks_its_conditions(org: None) -> None:
    region = Region.objects.order_by("pk").first()
    department = Department.objects.order_by("pk").first()
    assert region is not None
    assert department is not None
    unit = Unit(
        code="TEST-PREPARED-1",
        name="测试窗口",
        kind=UnitKind.WINDOW,
        region=region,
        region_path=region.path,
        department=department,
    )
    prepared.insert(unit)
    assert unit.pk is not None
    assert not unit._state.adding
    stored = Unit.objects.get(pk=unit.pk)
    assert (stored.code, stored.department_id, stored.active) == ("TEST-PREPARED-1", department.pk, True)

    assert prepared.update(Unit, unit.pk, {"name": "改名"}, where={"code": "OTHER"}) == 0
    assert Unit.objects.get(pk=unit.pk).name == "测试窗口"
    assert (
        prepared.update(Unit, unit.pk, {"name": "改名", "department": None}, where={"code": unit.code}) == 1
    )
    stored = Unit.objects.get(pk=unit.pk)
    assert (stored.name, stored.department_id) == ("改名", None)
    with pytest.raises(ValueError, match="new rows only"):
        prepared.insert(stored)


def _server_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="server-side prepared statements: PostgreSQL")
def test_key_look_ups_are_prepared_on_the_server_and_other_queries_are_not(org: None) -> None:
    unit = Unit.objects.order_by("pk").first()
    assert unit is not None
    prepared.fetch("test.unit_by_pk", lambda pk: Unit.objects.filter(pk=pk).values_list("code"), unit.pk)
    assert prepared.query("SELECT code FROM orgs_unit WHERE id = %s", [unit.pk]) == [(unit.code,)]
    assert list(Unit.objects.filter(name=unit.name).values_list("code", flat=True))  # the plain ORM
    statements = _server_statements()
    assert any('WHERE "orgs_unit"."id" = $1' in s for s in statements)
    assert "SELECT code FROM orgs_unit WHERE id = $1" in statements
    assert not any('"orgs_unit"."name" = $1' in s for s in statements)
    assert connection.connection.prepare_threshold is None  # the connection's own setting, restored


@pytest.mark.skipif(connection.vendor != "postgresql", reason="server-side prepared statements: PostgreSQL")
def test_prepared_statements_are_planned_generically_from_their_first_run() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SHOW plan_cache_mode")
        assert cursor.fetchone() == ("force_generic_plan",)


@pytest.mark.parametrize("region_path", ["150100/", "150100/150105/", "150100/150105/150105001/"])
def test_the_scoped_look_up_of_one_case_reads_it_by_its_key(region_path: str) -> None:
    """Without statistics PostgreSQL costed the region range and the id at one row each and read a
    district's cases through the region index to find one id; the range is a filter only."""
    from sanji.cases.models import Case
    from sanji.cases.policies import scope
    from sanji.core.actors import Actor, Grant
    from sanji.core.roles import Role

    clerk = Actor(
        user_id=1,
        username="clerk",
        grants=(Grant(Role.WINDOW_CLERK, 1, region_path, 7, "civil_affairs"),),
    )
    plan = scope(clerk, Case.objects.filter(pk=1), by_key=True).order_by()[:1].explain()  # as case_act
    if connection.vendor == "postgresql":
        assert "cases_case_pkey" in plan
        assert "cases_region_state_due" not in plan
    else:
        assert "USING INTEGER PRIMARY KEY" in plan
