"""Statements the ORM builds slowly, written as SQL, for the hot paths of 用印, 分发 and 签收.

``KeyedQuery`` is ``queryset.get(pk=…)`` for a queryset shape (joins of ``select_related``, a
row lock) compiled once per connection (per thread and database) and then run with the key
only: the delivery verbs lock their row this way. Compiling the delivery's five joins took
~1.2 ms of CPU per 来文 opened, the statement itself ~0.1 ms. The columns' value converters
(what ``results_iter`` looks up for every column on every call) are kept with the plan.
``FixedRows`` is the same for a ``values_list`` without parameters (the CAs' CRL state that
opening an item reads).

``update_rows`` does what ``QuerySet.bulk_update`` does in one ``UPDATE … FROM (VALUES …)``.
Django's version builds a ``CASE WHEN pk = … THEN …`` expression per row and field. Compiling
those cost more CPU than the database spent running the statement (issue 9's benchmark:
~0.9 ms per document across the four stacks of the exchange). The values still go through the
model fields (``get_db_prep_save``), so they are stored exactly as the ORM would store them.
The statement runs on PostgreSQL and on SQLite ≥ 3.33 (``UPDATE … FROM``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, connections, models
from django.db.models.query import get_related_populators
from django.db.transaction import TransactionManagementError

from gongwen.policy.errors import object_id

__all__ = ["FixedRows", "KeyedQuery", "update_rows"]

# Stands for the key while the shape is compiled; never a primary key (those are positive).
_KEY_PLACEHOLDER = -7_310_523_917


@dataclass(frozen=True)
class _Plan:
    sql: str
    params: tuple
    slot: int  # the key's position in params
    compiler: Any
    fields: slice  # the base model's columns in a row
    init_list: list[str]
    populators: list
    locking: bool
    converters: dict  # the columns' value converters (compiler.get_converters), once


def _converters(compiler) -> dict:
    """What ``results_iter`` computes on every call (every column's backend and field
    converters, ~60 columns for the delivery's five joins): the same for a compiled shape on
    its connection, so computed once per plan. Composite fields are not handled here."""
    fields = [s[0] for s in compiler.select[0:compiler.col_count]]
    if compiler.has_composite_fields(fields):
        raise ValueError("policy.sql: composite fields are not supported")
    return compiler.get_converters(fields)


def _convert(compiler, converters: dict, rows: list) -> list:
    """``rows`` with each value converted as Django converts it (``results_iter``)."""
    return list(compiler.apply_converters(rows, converters)) if converters else rows


def _wrapper():
    """This thread's connection object: a plan keeps the compiler, and the compiler its
    connection (for the value converters), so plans are kept per connection object —
    one per thread and database, as Django keeps connections."""
    return connections[connection.alias]


class FixedRows:
    """``list(build())`` for a ``values_list`` shape without parameters, compiled once per
    connection (thread and database); the values converted as Django converts them
    (``results_iter``: e.g. SQLite's datetimes)."""

    def __init__(self, build: Callable[[], models.QuerySet]) -> None:
        self._build = build
        self._plans: dict[Any, tuple[str, tuple, Any, dict]] = {}

    def rows(self) -> list[tuple]:
        wrapper = _wrapper()
        plan = self._plans.get(wrapper)
        if plan is None:
            qs = self._build()
            if qs.query.select_for_update:
                raise ValueError("FixedRows: no row locks")
            compiler = qs.query.get_compiler(connection=wrapper)
            sql, params = compiler.as_sql()
            plan = self._plans[wrapper] = (sql, tuple(params), compiler, _converters(compiler))
        sql, params, compiler, converters = plan
        with wrapper.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        return [tuple(row) for row in _convert(compiler, converters, rows)]


class KeyedQuery:
    """``build().get(pk=key)``, compiled once per connection (thread and database).

    ``build`` returns the queryset shape (filters, ``select_related``, ``select_for_update``;
    no annotations). It is compiled on first use, inside the caller's transaction when it
    locks; after that only the key changes. The rows become model instances the way Django's
    own iterator makes them (``from_db`` and the related populators), so the objects are the
    same as ``get`` returns. A key that cannot be a primary key raises ``DoesNotExist``
    without a query, as does a missing row."""

    def __init__(self, build: Callable[[], models.QuerySet]) -> None:
        self._build = build
        self._plans: dict[Any, _Plan] = {}

    def get(self, key) -> models.Model:
        wrapper = _wrapper()
        plan = self._plans.get(wrapper) or self._compile(wrapper)
        model = plan.compiler.query.model
        pk = object_id(key)
        if pk is None:
            raise model.DoesNotExist(f"{model.__name__} {key!r}")
        if plan.locking and wrapper.get_autocommit():
            raise TransactionManagementError(
                "select_for_update cannot be used outside of a transaction.")
        params = list(plan.params)
        params[plan.slot] = pk
        with wrapper.cursor() as cursor:
            cursor.execute(plan.sql, params)
            rows = cursor.fetchall()
        if not rows:
            raise model.DoesNotExist(f"{model.__name__} {pk}")
        row = _convert(plan.compiler, plan.converters, rows[:1])[0]
        obj = model.from_db(wrapper.alias, plan.init_list, row[plan.fields])
        for populator in plan.populators:
            populator.populate(row, obj)
        return obj

    def _compile(self, wrapper) -> _Plan:
        qs = self._build().filter(pk=_KEY_PLACEHOLDER)
        compiler = qs.query.get_compiler(connection=wrapper)
        sql, params = compiler.as_sql()
        slots = [i for i, value in enumerate(params) if value == _KEY_PLACEHOLDER]
        if len(slots) != 1 or compiler.annotation_col_map or compiler.has_extra_select:
            raise ValueError("KeyedQuery: the shape must filter by the key once and select "
                             "model fields only")
        klass_info = compiler.klass_info
        first, last = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        plan = _Plan(
            sql=sql, params=tuple(params), slot=slots[0], compiler=compiler,
            fields=slice(first, last),
            init_list=[s[0].target.attname for s in compiler.select[first:last]],
            populators=get_related_populators(klass_info, compiler.select, wrapper.alias),
            locking=bool(qs.query.select_for_update
                         and wrapper.features.has_select_for_update),
            converters=_converters(compiler))
        self._plans[wrapper] = plan
        return plan


def update_rows(objs: Sequence[models.Model], fields: Sequence[str]) -> int:
    """Write ``fields`` of every object in ``objs`` (all of one model, saved already) to its
    row, as ``bulk_update`` would: the attribute values as they are (no ``pre_save``, so
    ``auto_now`` is not applied). Returns the number of rows updated."""
    if not objs or not fields:
        return 0
    meta = objs[0]._meta
    if any(obj._meta.concrete_model is not meta.concrete_model for obj in objs):
        raise ValueError("update_rows: all objects must be of one model")
    if any(obj.pk is None for obj in objs):
        raise ValueError("update_rows: every object must have a primary key")
    columns = [meta.get_field(name) for name in dict.fromkeys(fields)]
    if any(not f.concrete or f.primary_key or f.many_to_many for f in columns):
        raise ValueError("update_rows: only concrete, non-key fields can be updated")
    qn = connection.ops.quote_name
    table = qn(meta.db_table)
    # The VALUES columns are column1 (the key), column2, … on both databases. PostgreSQL
    # types an untyped literal in VALUES as text: the cast gives each column its own type
    # (jsonb, timestamptz, …). SQLite applies the column's affinity itself.
    typed = connection.vendor == "postgresql"
    sets = ", ".join(
        f"{qn(f.column)} = "
        + (f"CAST(v.column{i} AS {f.db_type(connection)})" if typed else f"v.column{i}")
        for i, f in enumerate(columns, start=2))
    row = "(" + ", ".join(["%s"] * (len(columns) + 1)) + ")"
    size = max(1, connection.ops.bulk_batch_size([meta.pk, *columns], objs) or len(objs))
    updated = 0
    with connection.cursor() as cursor:
        for first in range(0, len(objs), size):
            batch = objs[first:first + size]
            params: list = []
            for obj in batch:
                params.append(meta.pk.get_db_prep_value(obj.pk, connection))
                params += [f.get_db_prep_save(getattr(obj, f.attname), connection)
                           for f in columns]
            cursor.execute(
                f"UPDATE {table} SET {sets} FROM (VALUES {', '.join([row] * len(batch))}) "
                f"AS v WHERE {table}.{qn(meta.pk.column)} = v.column1", params)
            updated += cursor.rowcount
    return updated
