"""Querysets compiled once and run many times with new values (the hot paths of a transition).

Compiling a queryset (``SQLCompiler.as_sql``: joins of ``select_related``, the policy's scope
subquery, ordering) costs several times more than running it on an indexed key, and a case
transition asks the same few questions on every request. :func:`fetch` builds the queryset once
per key and database connection with *sentinel* values in place of its arguments, keeps the
compiled SQL and the compiler (which knows how to turn rows into model instances, related objects
included), and afterwards only binds the real values and runs the SQL.

The result is exactly what iterating the queryset would give (the same converters, the same
``select_related`` instances); only the compilation is skipped.

On PostgreSQL the statements of this module (and the fixed statements run through :func:`query`
and :func:`execute`) are also prepared *on the server*: parsed and planned at their first run on a
connection, then executed by name, so the server skips its own parse and plan too (planning a
transition's joins cost more backend CPU than running them). Only statements whose parameters are
keys (an id, a code, a case and its step) are run this way: their generic plan is the same index
look-up for any value. Other queries stay unprepared (Django's default), so a skewed range never
runs on a plan made for another value. Limits: arguments are ``int`` or
``str`` and must reach the SQL as parameters unchanged (a lookup that transforms its value, or an
``__in`` list, cannot be prepared: :class:`Unpreparable` is raised at the first call, so a wrong use
fails in the tests, never silently).
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import DataError, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper
from django.db.models import Field, Model, QuerySet
from django.db.models import query as django_query
from django.db.models.base import ModelState
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query import ModelIterable
from django.db.models.query_utils import DeferredAttribute
from django.db.models.signals import post_init, pre_init

M = TypeVar("M", bound=Model)

_local = threading.local()


class Unpreparable(RuntimeError):
    """The queryset's arguments cannot be bound in its compiled SQL (see the module docstring)."""


def _sentinel(index: int, value: Any) -> Any:
    """A value of the argument's type that no real query uses (found back among the parameters)."""
    if isinstance(value, bool) or not isinstance(value, int | str | bytes):
        raise Unpreparable(
            f"argument {index} is {type(value).__name__}; only int, str and bytes can be prepared"
        )
    if isinstance(value, int):
        return -8_191_000_000_017 - index
    if isinstance(value, bytes):
        return f"\x00sanji-prepared-{index}\x00".encode()
    return f"\x00sanji-prepared-{index}\x00"


def _plain(value: Any) -> Any:
    """A parameter as the caller gave it: binary columns wrap bytes for the driver (a memoryview on
    SQLite, psycopg's ``Binary`` on PostgreSQL), and both drivers take plain bytes as well."""
    if isinstance(value, memoryview):
        return bytes(value)
    wrapped = getattr(value, "obj", None)
    return wrapped if isinstance(wrapped, bytes) else value


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple[Any, ...]
    slots: tuple[tuple[int, int], ...]  # (position in params, argument index)
    compiler: Any
    converters: dict[int, Any]  # the compiler's column converters (computed once)
    models: bool  # rows become model instances (else: the converted rows, e.g. values_list)
    populators: tuple[Any, ...]  # Django's select_related populators (computed once)


def _compile(queryset: QuerySet[Any], sentinels: Sequence[Any], alias: str) -> _Compiled:
    compiler = queryset.query.get_compiler(using=alias)
    sql, params = compiler.as_sql()
    slots: list[tuple[int, int]] = []
    for position, value in enumerate(map(_plain, params)):
        for index, sentinel in enumerate(sentinels):
            if type(value) is type(sentinel) and value == sentinel:
                slots.append((position, index))
    missing = set(range(len(sentinels))) - {index for _, index in slots}
    if missing:
        raise Unpreparable(f"arguments {sorted(missing)} do not reach the SQL as parameters")
    exact = {position for position, _ in slots}
    for position, value in enumerate(params):
        if position not in exact and isinstance(value, str) and "\x00sanji-prepared-" in value:
            raise Unpreparable("an argument reaches the SQL transformed (e.g. inside a pattern)")
    models = queryset._iterable_class is ModelIterable
    converters = compiler.get_converters([s[0] for s in compiler.select[0 : compiler.col_count]])
    populators: tuple[Any, ...] = ()
    if models:
        populators = tuple(
            django_query.get_related_populators(compiler.klass_info, compiler.select, alias)  # type: ignore[attr-defined]
        )
    return _Compiled(sql, tuple(params), tuple(slots), compiler, converters, models, populators)


@contextlib.contextmanager
def _cursor(connection: BaseDatabaseWrapper) -> Iterator[CursorWrapper]:
    """A cursor whose statements are server-side prepared statements on PostgreSQL (psycopg 3:
    prepared at their first run, executed by name afterwards; the connection's own setting is
    restored after the block). Django's cursor wrappers still see every statement."""
    with connection.cursor() as cursor:
        raw = connection.connection if connection.vendor == "postgresql" else None
        before = getattr(raw, "prepare_threshold", None)
        if raw is not None:
            raw.prepare_threshold = 0
        try:
            yield cursor
        finally:
            if raw is not None:
                raw.prepare_threshold = before


def query(sql: str, params: Sequence[Any] = (), *, using: str = "default") -> list[tuple[Any, ...]]:
    """The rows of one fixed statement with key parameters (see the module docstring), run as a
    server-side prepared statement on PostgreSQL."""
    with _cursor(connections[using]) as cursor:
        cursor.execute(sql, params)
        return [tuple(row) for row in cursor.fetchall()]


def execute(sql: str, params: Sequence[Any] = (), *, using: str = "default") -> int:
    """Run one fixed statement with key parameters that returns no rows (as :func:`query`); the
    number of rows it changed."""
    with _cursor(connections[using]) as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount)


def fetch(
    key: Hashable, build: Callable[..., QuerySet[Any]], *args: Any, using: str = "default"
) -> list[Any]:
    """The rows of ``build(*args)``: model instances for a model queryset, converted tuples for
    ``values_list``. ``key`` names the query's shape: the same key must always build the same
    SQL for any arguments (put whatever else the queryset depends on, e.g. an actor's grants, in it)."""
    cache: dict[tuple[str, Hashable], _Compiled] = getattr(_local, "cache", None) or {}
    _local.cache = cache
    compiled = cache.get((using, key))
    if compiled is None:
        sentinels = [_sentinel(i, v) for i, v in enumerate(args)]
        compiled = _compile(build(*sentinels), sentinels, using)
        if len(cache) > 512:  # keys include actors: keep the cache bounded
            cache.clear()
        cache[(using, key)] = compiled
    params = list(compiled.params)
    for position, index in compiled.slots:
        params[position] = args[index]
    with _cursor(connections[using]) as cursor:
        cursor.execute(compiled.sql, params)
        rows = cursor.fetchall()
    if compiled.converters:
        rows = list(compiled.compiler.apply_converters(rows, compiled.converters))
    if compiled.models:
        return _instances(compiled, rows, using)
    return [tuple(row) for row in rows]


def _instances(compiled: _Compiled, rows: list[Any], alias: str) -> list[Any]:
    """Rows to model instances exactly as Django's ``ModelIterable`` does (``select_related`` too)."""
    compiler = compiled.compiler
    select, klass_info, annotations = compiler.select, compiler.klass_info, compiler.annotation_col_map
    fields = klass_info["select_fields"]
    start, end = fields[0], fields[-1] + 1
    build = _builder(klass_info["model"], tuple(f[0].target.attname for f in select[start:end]))
    objects = []
    for row in rows:
        obj = build(alias, row[start:end])
        for populator in compiled.populators:
            _populate(populator, row, obj, alias)
        for name, position in (annotations or {}).items():
            setattr(obj, name, row[position])
        objects.append(obj)
    return objects


def _populate(populator: Any, row: Sequence[Any], from_obj: Model, alias: str) -> None:
    """Django's ``RelatedPopulator.populate``, building the related object with :func:`_builder`."""
    if populator.reorder_for_init:
        data = populator.reorder_for_init(row)
    else:
        data = row[populator.cols_start : populator.cols_end]
    obj = None
    if data[populator.pk_idx] is not None:
        obj = _builder(populator.model_cls, tuple(populator.init_list))(alias, data)
        for related in populator.related_populators:
            _populate(related, row, obj, alias)
    populator.local_setter(from_obj, obj)
    if obj is not None:
        populator.remote_setter(obj, from_obj)


@functools.lru_cache(maxsize=512)
def _builder(model: type[Model], names: tuple[str, ...]) -> Callable[[str, Sequence[Any]], Model]:
    """``model.from_db(alias, names, values)``, or the same instance built without ``__init__``.

    Django's ``__init__`` sets each field through ``setattr`` and sends ``pre_init`` and
    ``post_init``; a row of a dozen models (a case, its steps and their related rows) spends much of
    its reading time there. When the model keeps Django's ``__init__`` and ``from_db``, every
    column is loaded (nothing deferred), no field has a descriptor that does more than store the
    value, and nothing listens to the two signals (receivers connect when the apps load, before
    any request), the instance is built directly: the values in ``__dict__`` and a state saying
    "from database ``alias``", which is all ``__init__`` would leave.
    """
    meta = model._meta
    plain = (
        model.__init__ is Model.__init__
        and model.from_db.__func__ is Model.from_db.__func__  # type: ignore[attr-defined]
        and list(names) == [f.attname for f in meta.concrete_fields]
        and all(type(_inherited(model, n)) in _STORING for n in names)
        and not pre_init.has_listeners(model)
        and not post_init.has_listeners(model)
    )
    if not plain:
        return lambda alias, values: model.from_db(alias, names, values)
    new = object.__new__

    def build(alias: str, values: Sequence[Any]) -> Model:
        obj = new(model)
        state = ModelState()
        state.adding = False
        state.db = alias
        attributes = obj.__dict__
        attributes["_state"] = state
        attributes.update(zip(names, values, strict=True))
        return obj

    return build


#: Field descriptors whose ``__set__`` (if any) only stores the value for a new instance.
_STORING = (DeferredAttribute, ForeignKeyDeferredAttribute)


def _inherited(model: type[Model], name: str) -> Any:
    for klass in model.__mro__:
        if name in klass.__dict__:
            return klass.__dict__[name]
    return None


# --- single-row writes -------------------------------------------------------------------------
#
# ``Model.save()`` and ``QuerySet.update()`` compile their statement on every call too. A transition
# writes a few rows whose column lists never change: the statements are built once per model (and
# column list) and the values prepared by each field exactly as the ORM prepares them.


@functools.lru_cache(maxsize=256)
def _insert_sql(model: type[Model], alias: str) -> tuple[str, tuple[Field[Any, Any], ...]]:
    meta = model._meta
    quote = connections[alias].ops.quote_name
    fields = tuple(f for f in meta.local_concrete_fields if f is not meta.auto_field)
    columns = ", ".join(quote(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    # Names are the model's own columns, quoted; values are always parameters.
    sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({marks})"  # noqa: S608
    if meta.auto_field is not None:
        sql += f" RETURNING {quote(meta.auto_field.column)}"
    return sql, fields


def _save_values(obj: Model, fields: Sequence[Field[Any, Any]], connection: BaseDatabaseWrapper) -> list[Any]:
    """The values of ``fields`` for inserting ``obj``, prepared as the ORM prepares them."""
    return [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]


def _inserted(obj: Model, key: Any, using: str) -> None:
    """Mark ``obj`` as the row just inserted with the automatic key ``key`` (None: no such key)."""
    auto = obj._meta.auto_field
    if auto is not None:
        setattr(obj, auto.attname, key)
    obj._state.adding = False
    obj._state.db = using


def insert(obj: M, *, using: str = "default") -> M:
    """INSERT the new instance ``obj`` (fields' ``pre_save`` applied, e.g. ``auto_now_add``) and
    set its primary key: what ``obj.save()`` does for a new row, without the model's ``save()``
    (append-only models refuse only updates there) and without signals (the project uses none)."""
    if not obj._state.adding:
        raise ValueError("insert() writes new rows only")
    connection = connections[using]
    sql, fields = _insert_sql(type(obj), using)
    key = None
    with _cursor(connection) as cursor:
        cursor.execute(sql, _save_values(obj, fields, connection))
        if type(obj)._meta.auto_field is not None:
            row = cursor.fetchone()
            assert row is not None
            key = row[0]
    _inserted(obj, key, using)
    return obj


@functools.lru_cache(maxsize=256)
def _insert_many_sql(model: type[Model], alias: str, count: int) -> str:
    sql, fields = _insert_sql(model, alias)
    head, _, rest = sql.partition(" VALUES (")
    _marks, _, returning = rest.partition(")")
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    return f"{head} VALUES {', '.join([row] * count)}{returning}"


def insert_many(objs: Sequence[M], *, using: str = "default") -> Sequence[M]:
    """INSERT the new instances ``objs`` of one model in one statement, as :func:`insert` does each
    (``bulk_create`` compiles its statement on every call), and set their primary keys."""
    if not objs:
        return objs
    model = type(objs[0])
    if any(type(obj) is not model or not obj._state.adding for obj in objs):
        raise ValueError("insert_many() writes new rows of one model")
    connection = connections[using]
    _sql, fields = _insert_sql(model, using)
    values = [value for obj in objs for value in _save_values(obj, fields, connection)]
    with _cursor(connection) as cursor:
        cursor.execute(_insert_many_sql(model, using, len(objs)), values)
        auto = model._meta.auto_field
        if auto is not None:
            rows = cursor.fetchall()
            assert len(rows) == len(objs)
            for obj, row in zip(objs, rows, strict=True):
                setattr(obj, auto.attname, row[0])
    for obj in objs:
        obj._state.adding = False
        obj._state.db = using
    return objs


def _concrete(model: type[Model], name: str) -> Field[Any, Any]:
    field = model._meta.get_field(name)
    if not isinstance(field, Field) or not field.concrete or field.column is None:
        raise ValueError(f"{model.__name__}.{name} is not a column")
    return field


@functools.lru_cache(maxsize=256)
def _update_sql(
    model: type[Model], names: tuple[str, ...], where: tuple[str, ...], alias: str, gate: str = ""
) -> tuple[str, tuple[Field[Any, Any], ...], tuple[Field[Any, Any], ...]]:
    """``UPDATE table SET … WHERE pk = %s [AND …]``; with ``gate`` (a CTE of :class:`Chain`),
    ``UPDATE table SET … FROM gate WHERE table.pk = %s …``: the row is written only if the gate has one."""
    meta = model._meta
    quote = connections[alias].ops.quote_name
    table = quote(meta.db_table)
    assigned = tuple(_concrete(model, name) for name in names)
    matched = (_concrete(model, meta.pk.name), *(_concrete(model, name) for name in where))
    sets = ", ".join(f"{quote(f.column)} = %s" for f in assigned)
    conditions = " AND ".join(f"{table}.{quote(f.column)} = %s" for f in matched)
    source = f" FROM {gate}" if gate else ""
    # Names are the model's own columns, quoted; values are always parameters.
    return f"UPDATE {table} SET {sets}{source} WHERE {conditions}", assigned, matched  # noqa: S608


def _update_statement(
    model: type[Model],
    pk: Any,
    values: Mapping[str, Any],
    where: Mapping[str, Any],
    connection: BaseDatabaseWrapper,
    gate: str = "",
) -> tuple[str, list[Any]]:
    sql, assigned, matched = _update_sql(model, tuple(values), tuple(where), connection.alias, gate)
    params = [f.get_db_prep_save(v, connection) for f, v in zip(assigned, values.values(), strict=True)]
    params += [
        f.get_db_prep_value(v, connection) for f, v in zip(matched, (pk, *where.values()), strict=True)
    ]
    return sql, params


def update(
    model: type[Model],
    pk: Any,
    values: Mapping[str, Any],
    *,
    where: Mapping[str, Any] | None = None,
    using: str = "default",
) -> int:
    """UPDATE the row ``pk`` of ``model`` setting ``values`` (by field name or attname; foreign
    keys by id), only if every ``where`` column still equals its value; the number of rows
    changed (0: the row is gone or a ``where`` condition no longer holds)."""
    connection = connections[using]
    sql, params = _update_statement(model, pk, values, where or {}, connection)
    with _cursor(connection) as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount)


def clear() -> None:
    """Forget this thread's compiled queries (tests that change the schema or the settings)."""
    _local.cache = {}


# --- a change of several rows in one statement ---------------------------------------------------
#
# A transition writes its case row (compare-and-set on the version), a step or two, an event and an
# audit entry. On PostgreSQL each statement is a round trip, with the driver's and Django's work
# around it on the client and a statement's fixed costs on the server; together they cost more
# than the writes themselves. :class:`Chain` sends them as one statement of data-modifying CTEs
# (``WITH g AS (UPDATE … RETURNING 1), w1 AS (INSERT … SELECT … FROM g …) … SELECT …``): every
# write after the first joins the first one's result, so when the guarded row no longer matches
# (a concurrent change won) nothing at all is written. On SQLite, in process, statements cost
# little: the same writes run one after another, stopping after a guard that matched no row.


class Part:
    """A write of a :class:`Chain` after its guard: as CTEs on PostgreSQL, alone elsewhere."""

    def ctes(
        self, gate: str, name: str, connection: BaseDatabaseWrapper
    ) -> tuple[list[str], list[Any], list[str]]:
        """``(["name AS (…)", …], params, outputs)``: CTEs that write only when the CTE ``gate``
        has a row (join it), their parameters in order, and the SQL expressions (over the CTEs)
        whose values :meth:`done` receives."""
        raise NotImplementedError

    def check(self, gate: str, name: str) -> str | None:
        """An SQL expression (over the CTEs) that fails the statement when this part wrote nothing
        although the gate had a row, or None when that cannot happen. Used when the statement
        commits by itself (no transaction around it to roll back after :meth:`done`); it must
        raise a ``DataError`` whose message holds :data:`INCOMPLETE`."""
        return None

    def done(self, values: Sequence[Any]) -> None:
        """The values of :meth:`ctes`'s outputs, after the statement ran (in a transaction, when
        :meth:`check` is not used: it may still write)."""

    def run_alone(self, connection: BaseDatabaseWrapper) -> None:
        """The same write as plain statements (SQLite, or a retry), in the chain's transaction."""
        raise NotImplementedError


#: The column of the gate's row that holds the new primary key, when a chain starts with an INSERT
#: (:meth:`Chain.start`).
GATE_KEY = "gate_key"

#: The text of the error a :meth:`Part.check` raises.
INCOMPLETE = "sanji: chain incomplete"


def fail_unless(condition: str, what: str) -> str:
    """An SQL expression that raises a ``DataError`` naming :data:`INCOMPLETE` and ``what`` when
    ``condition`` (a boolean SQL expression over the statement's CTEs) is false, and is NULL
    otherwise. The error is a text-to-integer cast of a value built at run time, so that the
    planner cannot fold it into an error of every run."""
    marker = f"{INCOMPLETE}: {what}".replace("'", "")
    return f"(SELECT CAST('{marker} ' || now()::text AS integer) WHERE NOT ({condition}))"


def cast(field: Field[Any, Any], connection: BaseDatabaseWrapper) -> str:
    """The type a parameter is cast to where no column gives it one (a SELECT list): text for
    character columns (a cast to ``varchar(n)`` would cut a long value silently; the insert refuses
    it instead), the column's own type otherwise."""
    if field.get_internal_type() in ("CharField", "TextField", "EmailField", "SlugField"):
        return "text"
    return str(field.db_type(connection))


class _UpdatePart(Part):
    def __init__(self, model: type[Model], pk: Any, values: Mapping[str, Any]) -> None:
        self.model, self.pk, self.values = model, pk, dict(values)

    def ctes(
        self, gate: str, name: str, connection: BaseDatabaseWrapper
    ) -> tuple[list[str], list[Any], list[str]]:
        sql, params = _update_statement(self.model, self.pk, self.values, {}, connection, gate)
        return [f"{name} AS ({sql} RETURNING 1)"], params, []

    def run_alone(self, connection: BaseDatabaseWrapper) -> None:
        update(self.model, self.pk, self.values, using=connection.alias)


class _InsertPart(Part):
    def __init__(self, obj: Model, using: str) -> None:
        self.obj, self.using = obj, using

    def ctes(
        self, gate: str, name: str, connection: BaseDatabaseWrapper
    ) -> tuple[list[str], list[Any], list[str]]:
        ctes, output, fields = _insert_cte(type(self.obj), gate, name, connection.alias)
        return list(ctes), _save_values(self.obj, fields, connection), list(output)

    def done(self, values: Sequence[Any]) -> None:
        _inserted(self.obj, values[0], self.using)

    def run_alone(self, connection: BaseDatabaseWrapper) -> None:
        insert(self.obj, using=connection.alias)


@functools.lru_cache(maxsize=256)
def _insert_cte(
    model: type[Model], gate: str, name: str, alias: str
) -> tuple[tuple[str, ...], tuple[str, ...], tuple[Field[Any, Any], ...]]:
    connection = connections[alias]
    meta = model._meta
    quote = connection.ops.quote_name
    _sql, fields = _insert_sql(model, alias)
    columns = ", ".join(quote(f.column) for f in fields)
    values = ", ".join(f"%s::{cast(f, connection)}" for f in fields)
    returning = quote(meta.auto_field.column) if meta.auto_field is not None else "1"
    # Names are the model's own, quoted; values are always parameters.
    table = quote(meta.db_table)
    cte = f"{name} AS (INSERT INTO {table} ({columns}) SELECT {values} FROM {gate} RETURNING {returning})"  # noqa: S608
    return (cte,), (f"(SELECT {returning} FROM {name})",), fields  # noqa: S608


@functools.lru_cache(maxsize=256)
def _start_sql(model: type[Model], alias: str) -> tuple[str, tuple[Field[Any, Any], ...]]:
    """The INSERT of a chain's first row (:meth:`Chain.start`), answering its key as :data:`GATE_KEY`."""
    sql, fields = _insert_sql(model, alias)
    head, _, _returning = sql.partition(" RETURNING ")
    key = connections[alias].ops.quote_name(model._meta.pk.column)
    return f"{head} RETURNING {key} AS {GATE_KEY}", fields


class Chain:
    """Single-row writes that happen together or not at all, behind a compare-and-set ``guard``
    or after a new row's INSERT (:meth:`start`; see the comment above): on PostgreSQL one
    statement, elsewhere one statement each in a transaction (:meth:`run`)."""

    def __init__(self, using: str = "default") -> None:
        self.using = using
        self._guard: tuple[type[Model], Any, dict[str, Any], dict[str, Any]] | None = None
        self._start: Model | None = None
        self._parts: list[Part] = []

    def guard(
        self, model: type[Model], pk: Any, values: Mapping[str, Any], *, where: Mapping[str, Any]
    ) -> None:
        """The first write, as :func:`update`: the rest is written only if it changes its row."""
        if self._start is not None:
            raise ValueError("a chain has one first write")
        self._guard = (model, pk, dict(values), dict(where))

    def start(self, obj: M) -> M:
        """The first write, instead of a :meth:`guard`: INSERT ``obj`` as :func:`insert` does (it
        always writes its row, so the rest is always written with it). Its primary key is set once
        the chain has run; before that, on PostgreSQL, the parts find it as the column
        :data:`GATE_KEY` of the gate's row (e.g. an audit entry whose target is ``obj``)."""
        if self._guard is not None or self._start is not None:
            raise ValueError("a chain has one first write")
        if not obj._state.adding or obj._meta.auto_field is None:
            raise ValueError("start() writes a new row of a model with an automatic key")
        self._start = obj
        return obj

    @property
    def started(self) -> Model | None:
        """The row :meth:`start` writes, if the chain starts with one."""
        return self._start

    def update(self, model: type[Model], pk: Any, values: Mapping[str, Any]) -> None:
        self._parts.append(_UpdatePart(model, pk, values))

    def insert(self, obj: M) -> M:
        """INSERT ``obj`` as :func:`insert` does; its primary key is set once the chain has run."""
        if not obj._state.adding:
            raise ValueError("insert() writes new rows only")
        self._parts.append(_InsertPart(obj, self.using))
        return obj

    def add(self, part: Part) -> None:
        self._parts.append(part)

    def run(self) -> bool:
        """Write everything, atomically; False (and nothing written) when the guard matched no row.

        On PostgreSQL outside a transaction the one statement commits by itself: no BEGIN and
        COMMIT round trips (each part's :meth:`Part.check` fails it rather than leave a part out).
        Inside the caller's transaction it joins it. Elsewhere, when a check failed (then
        nothing was written) and when a part cannot be written in the statement (it raises
        :class:`Unpreparable` while the statement is built), the writes run one by one in a
        transaction. A chain that starts with an INSERT (:meth:`start`) always writes (True).
        """
        if self._guard is None and self._start is None:
            raise ValueError("a chain needs its first write: a guard or a start")
        connection = connections[self.using]
        if connection.vendor == "postgresql":
            alone = connection.get_autocommit() and not connection.in_atomic_block
            try:
                return self._run_as_one(connection, checked=alone)
            except Unpreparable:
                pass  # a part cannot be written as part of the statement: nothing ran yet
            except DataError as error:
                if not alone or INCOMPLETE not in str(error):
                    raise
        with transaction.atomic(using=self.using):
            return self._run_one_by_one(connection)

    def _run_one_by_one(self, connection: BaseDatabaseWrapper) -> bool:
        if self._start is not None:
            insert(self._start, using=self.using)
        else:
            assert self._guard is not None
            model, pk, values, where = self._guard
            if not update(model, pk, values, where=where, using=self.using):
                return False
        for part in self._parts:
            part.run_alone(connection)
        return True

    def _run_as_one(self, connection: BaseDatabaseWrapper, *, checked: bool) -> bool:
        if self._start is not None:
            sql, fields = _start_sql(type(self._start), connection.alias)
            params = _save_values(self._start, fields, connection)
            ctes = [f"g AS ({sql})"]
            outputs = ["(SELECT count(*) FROM g)", f"(SELECT {GATE_KEY} FROM g)"]  # noqa: S608
        else:
            assert self._guard is not None
            model, pk, values, where = self._guard
            sql, params = _update_statement(model, pk, values, where, connection)
            ctes = [f"g AS ({sql} RETURNING 1)"]
            outputs = ["(SELECT count(*) FROM g)"]
        spans: list[tuple[Part, int, int]] = []
        for index, part in enumerate(self._parts):
            name = f"w{index}"
            part_ctes, part_params, part_outputs = part.ctes("g", name, connection)
            ctes += part_ctes
            params += part_params
            spans.append((part, len(outputs), len(outputs) + len(part_outputs)))
            outputs += part_outputs
            check = part.check("g", name) if checked else None
            if check is not None:
                outputs.append(check)
        statement = f"WITH {', '.join(ctes)} SELECT {', '.join(outputs)}"
        with _cursor(connection) as cursor:
            cursor.execute(statement, params)
            row = cursor.fetchone()
        assert row is not None
        if not row[0]:
            return False
        if self._start is not None:
            _inserted(self._start, row[1], self.using)
        for part, start, end in spans:
            part.done(row[start:end])
        return True
