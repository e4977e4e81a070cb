"""policy.sql.update_rows: bulk_update in one UPDATE … FROM (VALUES …), on both databases."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import FieldDoesNotExist
from django.db import connection
from django.utils import timezone

from gongwen.exchange.models import Delivery, DeliveryState
from gongwen.policy.sql import update_rows


def _values(d: Delivery) -> tuple:
    return (d.state, d.verification, d.verified_at, d.handled_by_id, d.registration_year,
            d.registration_serial, d.return_reason)


def test_each_row_gets_its_own_values_of_every_type(dispatched, cast):
    rows = list(dispatched().deliveries.order_by("pk"))
    assert len(rows) >= 4
    untouched = rows.pop()
    before = _values(untouched)
    at = timezone.now().replace(microsecond=123456)
    for n, d in enumerate(rows):
        d.state = DeliveryState.SIGNED if n % 2 else DeliveryState.OPENED
        d.verification = {"ok": bool(n % 2), "reason_zh": f"第{n}项：“引号”'单引号'\\", "n": n,
                          "nested": [1, None, {"a": "甲"}]}
        d.verified_at = at + dt.timedelta(seconds=n)
        d.handled_by = cast["clerk_b"] if n % 2 else None
        d.registration_year = 2026 if n % 2 else None
        d.registration_serial = n + 1 if n % 2 else None
        d.return_reason = f"理由 {n}; DROP TABLE x; --"
    fields = ["state", "verification", "verified_at", "handled_by", "registration_year",
              "registration_serial", "return_reason"]

    assert update_rows(rows, fields) == len(rows)

    for d in rows:
        stored = Delivery.objects.get(pk=d.pk)
        assert _values(stored) == _values(d)
    untouched.refresh_from_db()
    assert _values(untouched) == before


def test_the_rows_go_in_batches_the_database_accepts(dispatched, monkeypatch):
    rows = list(dispatched().deliveries.order_by("pk"))
    monkeypatch.setattr(connection.ops, "bulk_batch_size", lambda fields, objs: 2)
    for n, d in enumerate(rows):
        d.return_reason = f"第{n}批"
    statements = []
    with connection.execute_wrapper(lambda ex, sql, *a: statements.append(sql) or ex(sql, *a)):
        assert update_rows(rows, ["return_reason"]) == len(rows)
    assert len(statements) == (len(rows) + 1) // 2
    assert [d.return_reason for d in Delivery.objects.filter(pk__in=[r.pk for r in rows])
            .order_by("pk")] == [f"第{n}批" for n in range(len(rows))]


def test_nothing_to_do_runs_no_statement(db):
    assert update_rows([], ["state"]) == 0


@pytest.mark.parametrize("fields, error", [
    (["id"], ValueError), (["dispatch__document"], FieldDoesNotExist),
    (["no_such_field"], FieldDoesNotExist)])
def test_keys_and_unknown_fields_are_refused(dispatched, fields, error):
    d = dispatched().deliveries.first()
    with pytest.raises(error):
        update_rows([d], fields)


def test_unsaved_objects_are_refused(db):
    with pytest.raises(ValueError):
        update_rows([Delivery()], ["state"])
