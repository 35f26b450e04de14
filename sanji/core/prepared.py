"""Statements of hot paths, built once by the ORM and run again without it.

A request path that runs the same small statement thousands of times a second (the shared read of
one person, an audit append) spends most of its CPU compiling the query, not running it. These
helpers keep the ORM as the author of the SQL (table and column names, quoting, each engine's
parameter adaptation and result converters), compile it once per thread and database connection,
and then only execute it:

- :class:`PreparedRow` — a ``values()`` query whose parameters change but whose shape does not;
  one row with the ORM's converters applied (dates, booleans, aware datetimes, JSON).
- :func:`insert_row` — one ``INSERT`` of a model's row from attribute values, adapted as
  ``Model.save`` adapts them, answering the new primary key.

Neither runs model ``save()`` or signals: callers are services that write append-only rows whose
models have no save logic beyond what the service itself does.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.backends.base.base import BaseDatabaseWrapper

_local = threading.local()

#: Field types whose Python values the drivers take as they are (no adaptation).
_PLAIN = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "BigIntegerField",
        "BooleanField",
        "CharField",
        "ForeignKey",
        "IntegerField",
        "PositiveIntegerField",
        "SmallIntegerField",
        "TextField",
    }
)


def _cache() -> tuple[dict[Any, Any], BaseDatabaseWrapper]:
    """This thread's compiled statements and its connection (a new connection object compiles anew)."""
    connection = connections[DEFAULT_DB_ALIAS]
    cache: dict[Any, Any] | None = getattr(_local, "cache", None)
    if cache is None or getattr(_local, "connection", None) is not connection:
        cache = _local.cache = {}
        _local.connection = connection
    return cache, connection


class PreparedRow:
    """A one-row ``values()`` query compiled once per thread's connection, then run with new parameters.

    ``build`` answers the queryset for a sample of the parameters (e.g. ``filter(pk=0)``); every
    call passes parameters of the same number and order as that sample compiled to. Each distinct
    ``key`` (e.g. the columns asked for) is compiled separately.
    """

    def __init__(self, build: Callable[[Any], models.QuerySet[Any, Any]], params: int) -> None:
        self.build = build
        self.params = params

    def _compiled(self, key: Any) -> tuple[str, list[str], list[tuple[Any, ...]], BaseDatabaseWrapper]:
        cache, connection = _cache()
        slot = (id(self), key)
        compiled = cache.get(slot)
        if compiled is None:
            query = self.build(key).query
            compiler = query.get_compiler(connection=connection)
            sql, sample = compiler.as_sql()
            if len(sample) != self.params:
                raise ValueError(f"expected {self.params} parameters, the query has {len(sample)}")
            names = [*query.extra_select, *query.values_select, *query.annotation_select]
            converters = compiler.get_converters([column[0] for column in compiler.select])
            compiled = cache[slot] = (sql, names, [(i, *c) for i, c in converters.items()])
        return (*compiled, connection)

    def first(self, key: Any, params: Sequence[Any]) -> dict[str, Any] | None:
        """The first row for ``params`` as a ``values()`` dict, or None."""
        sql, names, converters, connection = self._compiled(key)
        with connection.cursor() as cursor:
            cursor.execute(sql, list(params))
            row = cursor.fetchone()
        if row is None:
            return None
        values = list(row)
        for index, funcs, expression in converters:
            value = values[index]
            for func in funcs:
                value = func(value, expression, connection)
            values[index] = value
        return dict(zip(names, values, strict=True))


def insert_row(model: type[models.Model], values: dict[str, Any]) -> int:
    """Insert one row of ``model`` from ``{attname: value}`` (every column but the primary key); its pk.

    Values must be of the field's Python type (as a service builds them): strings, integers,
    booleans and keys go to the driver as they are; every other field's value is adapted by its
    ``get_db_prep_save``, as ``Model.save`` does (aware datetimes, dates, JSON).
    """
    meta = model._meta
    cache, connection = _cache()
    slot = ("insert", meta.label, tuple(values))
    compiled = cache.get(slot)
    if compiled is None:
        by_attname = {f.attname: f for f in meta.concrete_fields}
        fields = [by_attname[name] for name in values]
        quote = connection.ops.quote_name
        sql = (
            f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "  # noqa: S608
            f"VALUES ({', '.join(['%s'] * len(fields))})"
        )
        returning = connection.features.can_return_columns_from_insert
        assert meta.pk is not None
        if returning:
            sql += f" RETURNING {quote(meta.pk.column)}"
        # Plain columns go to the driver as given; the others (datetimes, dates, JSON …) are adapted.
        adapt = [None if f.get_internal_type() in _PLAIN else f for f in fields]
        compiled = cache[slot] = (sql, adapt, returning)
    sql, adapt, returning = compiled
    params = [
        v if f is None else f.get_db_prep_save(v, connection)
        for f, v in zip(adapt, values.values(), strict=True)
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if returning:
            return int(cursor.fetchone()[0])
        return int(cursor.lastrowid)
