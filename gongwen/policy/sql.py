"""Statements the ORM builds slowly, written as SQL, for the hot paths of 用印, 分发 and 签收.

``update_rows`` does what ``QuerySet.bulk_update`` does in one ``UPDATE … FROM (VALUES …)``.
Django's version builds a ``CASE WHEN pk = … THEN …`` expression per row and field. Compiling
those cost more CPU than the database spent running the statement (issue 9's benchmark:
~0.9 ms per document across the four stacks of the exchange). The values still go through the
model fields (``get_db_prep_save``), so they are stored exactly as the ORM would store them.
The statement runs on PostgreSQL and on SQLite ≥ 3.33 (``UPDATE … FROM``)."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection, models

__all__ = ["update_rows"]


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
